"""What the adapters that call out over HTTP share: the client and retry rules.

Both the account API and SSM are reached through an `httpx.AsyncClient` with
explicit per-phase timeouts, and both retry only failures that cannot do harm
twice, never past the turn's deadline.
"""

from __future__ import annotations

import functools
import ssl
from typing import Final

import httpx
from tenacity import RetryCallState
from tenacity.stop import stop_base

from adapters.deadline import seconds_left

# Failures where the request surely never reached the server.
NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures after which the server may or may not have acted; safe to repeat
# only when the call is idempotent. Read and protocol errors include a pooled
# connection the server closed while the execution environment was frozen.
MAYBE_SENT: Final = (
    httpx.TimeoutException,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


def build_client(
    base_url: str, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """A client with explicit timeouts, one per remote service and environment.

    The timeouts bound each phase of a request; the turn's deadline, enforced
    by the entrypoint, bounds the whole. Every client shares one TLS context.
    """
    return httpx.AsyncClient(
        base_url=base_url,
        transport=transport,
        verify=True if transport is not None else _tls_context(),
        timeout=httpx.Timeout(2.0, connect=1.0, read=2.0, write=2.0, pool=1.0),
        limits=httpx.Limits(
            max_connections=20, max_keepalive_connections=10, keepalive_expiry=30.0
        ),
        headers={"accept": "application/json", "user-agent": "bankbot"},
        follow_redirects=False,
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default context, made once: loading the CA bundle takes ~50 ms."""
    return httpx.create_ssl_context()


class NoTimeForAnotherTry(stop_base):
    """Gives up when the turn's deadline would pass during the next attempt."""

    def __init__(self, attempt_seconds: float) -> None:
        self._attempt_seconds = attempt_seconds

    def __call__(self, retry_state: RetryCallState) -> bool:
        left = seconds_left()
        needed = retry_state.upcoming_sleep + self._attempt_seconds
        return left is not None and left < needed
