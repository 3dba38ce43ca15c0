"""Secrets by logical name: SSM Parameter Store when live, a fixed map in the sandbox.

`SsmSecretStore` keeps each value for a TTL so rotation is picked up without a
redeploy, and rides out a short SSM outage on the last good value (logged as
a WARNING, never with the value). Nothing touches the network, or even imports
boto3, until the first read.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from attrs import field, frozen

from banking_domain.errors import SecretUnavailable

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

_log = logging.getLogger(__name__)


class StaticSecretStore:
    """Fixed values, for the sandbox only: development keys that are not secret."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __repr__(self) -> str:
        return f"StaticSecretStore(names={sorted(self._values)!r})"

    async def get(self, name: str) -> str:
        try:
            return self._values[name]
        except KeyError:
            raise SecretUnavailable(f"no secret named {name!r}") from None


def ssm_client(
    *,
    region_name: str | None = None,
    endpoint_url: str | None = None,
    aws_access_key_id: str | None = None,
    aws_secret_access_key: str | None = None,
) -> SSMClient:
    """An SSM client with short timeouts and few retries, fit for a turn budget.

    Arguments left out come from the standard AWS environment: the region
    from ``AWS_REGION`` (which Lambda sets; boto3 itself reads only
    ``AWS_DEFAULT_REGION``), the endpoint from ``AWS_ENDPOINT_URL_SSM`` and
    the credential chain, as boto3 reads them.
    """
    import boto3  # off the cold-start import path
    from botocore.config import Config

    region_name = region_name or os.environ.get("AWS_REGION") or None
    config = Config(
        connect_timeout=1,
        read_timeout=2,
        retries={"max_attempts": 2, "mode": "standard"},
    )
    return boto3.client(
        "ssm",
        config=config,
        region_name=region_name,
        endpoint_url=endpoint_url,
        aws_access_key_id=aws_access_key_id,
        aws_secret_access_key=aws_secret_access_key,
    )


@frozen
class _Cached:
    value: str = field(repr=False)
    read_at: float
    # After a failed refresh, when to ask SSM again; until then the stale
    # value is served without waiting on a service that just failed.
    retry_at: float


class SsmSecretStore:
    """Reads SecureString parameters from SSM, cached per name for a TTL.

    `parameters` maps logical names (``"signing-key"``) to parameter names.
    A value is fresh for `ttl_seconds`; when a refresh fails, the last good
    value is served while it is younger than `ttl_seconds` plus
    `stale_grace_seconds`, and SSM is asked again at most every
    `retry_after_failure_seconds`. A name never read, or read too long ago,
    raises `SecretUnavailable` from the botocore error.
    """

    def __init__(
        self,
        parameters: Mapping[str, str],
        *,
        ttl_seconds: float = 300,
        stale_grace_seconds: float = 900,
        client_factory: Callable[[], SSMClient] | None = None,
        clock: Callable[[], float] = time.monotonic,
        retry_after_failure_seconds: float = 30,
    ) -> None:
        self._parameters = dict(parameters)
        self._ttl = ttl_seconds
        self._grace = stale_grace_seconds
        self._retry_after = retry_after_failure_seconds
        self._client_factory = client_factory or ssm_client
        self._clock = clock
        self._client: SSMClient | None = None
        self._client_lock = threading.Lock()
        self._cache: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"SsmSecretStore(parameters={self._parameters!r})"

    async def get(self, name: str) -> str:
        parameter = self._parameters.get(name)
        if parameter is None:
            raise SecretUnavailable(f"no parameter configured for secret {name!r}")
        cached = self._usable(name)
        if cached is not None:
            return cached
        # One refresh per name at a time: the others wait and take its result.
        async with self._locks.setdefault(name, asyncio.Lock()):
            cached = self._usable(name)
            if cached is not None:
                return cached
            return await self._refresh(name, parameter)

    def _usable(self, name: str) -> str | None:
        """The cached value when no refresh is due yet."""
        cached = self._cache.get(name)
        if cached is None:
            return None
        now = self._clock()
        if now - cached.read_at < self._ttl or now < cached.retry_at:
            return cached.value
        return None

    async def _refresh(self, name: str, parameter: str) -> str:
        try:
            value = await asyncio.to_thread(self._read, parameter)
        except SecretUnavailable as error:
            return self._stale(name, parameter, error)
        now = self._clock()
        self._cache[name] = _Cached(value, read_at=now, retry_at=now)
        _log.debug("secret refreshed", extra={"secret": name})
        return value

    def _stale(self, name: str, parameter: str, error: SecretUnavailable) -> str:
        cached = self._cache.get(name)
        now = self._clock()
        if cached is None or now - cached.read_at >= self._ttl + self._grace:
            raise error
        self._cache[name] = _Cached(
            cached.value, cached.read_at, retry_at=now + self._retry_after
        )
        _log.warning(
            "secret %r: refresh failed, serving the last good value",
            name,
            extra={
                "secret": name,
                "parameter": parameter,
                "age_seconds": round(now - cached.read_at),
                "error": type(error.__cause__ or error).__name__,
            },
        )
        return cached.value

    def _read(self, parameter: str) -> str:
        """GetParameter, decrypted; runs in a worker thread."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            reply = self._ssm().get_parameter(Name=parameter, WithDecryption=True)
        except (BotoCoreError, ClientError) as error:
            raise SecretUnavailable(f"cannot read parameter {parameter!r}") from error
        value = reply.get("Parameter", {}).get("Value")
        if not isinstance(value, str):
            raise SecretUnavailable(f"parameter {parameter!r} has no value")
        return value

    def _ssm(self) -> SSMClient:
        # Worker threads of two names may arrive together; build one client.
        with self._client_lock:
            if self._client is None:
                self._client = self._client_factory()
            return self._client
