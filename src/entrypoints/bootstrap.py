"""The composition root: builds the service from settings, once per environment.

Nothing here runs at import. The first invocation of a handler calls
`current_service()`, which reads the settings, wires the adapters and keeps
the result for every later invocation of that execution environment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TextIO

import attrs
import httpx

from adapters.bank_api import API_KEY_SECRET, HttpAccountGateway
from adapters.clock import SystemClock
from adapters.http_client import build_client
from adapters.logging import AuditLogger, configure_logging
from banking_domain.identity import SIGNING_KEY, CallerTokens
from banking_domain.ports import AccountGateway, AuditLog, Clock, SecretStore
from banking_domain.usecases import (
    CheckBalance,
    ReportLostCard,
    TransferFunds,
    UseCases,
    VerifyCaller,
)
from entrypoints.settings import ConfigurationError, Settings
from entrypoints.turn import TurnRunner

# Where the in-process sandbox pretends to live; no request leaves the process.
_SANDBOX_URL = "http://sandbox.bankbot.invalid"

# The secret store, the bank's client, and what closes every client built.
_Parts = tuple[SecretStore, httpx.AsyncClient, Callable[[], Awaitable[None]]]


@attrs.define
class Service:
    """Everything a handler needs, built once and reused by every invocation."""

    settings: Settings
    use_cases: UseCases
    tokens: CallerTokens
    runner: TurnRunner
    close_clients: Callable[[], Awaitable[None]]

    def close(self) -> None:
        self.runner.close(self.close_clients)


def build_service(settings: Settings, log_stream: TextIO | None = None) -> Service:
    """Wires the adapters the settings ask for; reads no secret and opens no socket.

    Log lines go to the Lambda runtime's handler, else to `log_stream` or
    standard error.
    """
    configure_logging(settings.log_level, log_stream)
    if settings.sandbox:
        secrets, client, close_clients = _sandbox_parts()
    else:
        secrets, client, close_clients = _live_parts(settings)
    gateway = HttpAccountGateway(client, secrets)
    tokens, use_cases = wire_use_cases(
        gateway, secrets, AuditLogger(), SystemClock(), settings
    )
    return Service(settings, use_cases, tokens, TurnRunner(), close_clients)


def wire_use_cases(
    gateway: AccountGateway,
    secrets: SecretStore,
    audit: AuditLog,
    clock: Clock,
    settings: Settings,
) -> tuple[CallerTokens, UseCases]:
    lifetime = timedelta(minutes=settings.token_lifetime_minutes)
    tokens = CallerTokens(secrets, clock, lifetime)
    use_cases = UseCases(
        verify_caller=VerifyCaller(gateway, tokens, audit),
        check_balance=CheckBalance(gateway, tokens, audit),
        transfer_funds=TransferFunds(gateway, tokens, audit, settings.transfer_limit),
        report_lost_card=ReportLostCard(gateway, tokens, audit),
    )
    return tokens, use_cases


def _sandbox_parts() -> _Parts:
    # Imported here: the sandbox needs starlette, which the Lambda package lacks.
    from adapters.sandbox import (
        DEVELOPMENT_API_KEY,
        DEVELOPMENT_SIGNING_KEY,
        create_app,
    )
    from adapters.secrets import StaticSecretStore  # as the live parts do

    secrets = StaticSecretStore(
        {SIGNING_KEY: DEVELOPMENT_SIGNING_KEY, API_KEY_SECRET: DEVELOPMENT_API_KEY}
    )
    transport = httpx.ASGITransport(app=create_app())
    client = build_client(_SANDBOX_URL, transport=transport)
    return secrets, client, client.aclose


def _live_parts(settings: Settings) -> _Parts:
    # Imported here, as the sandbox's parts are: each mode loads only its own.
    from adapters.secrets import SsmSecretStore

    url = settings.bank_api_url
    api_key, signing_key = settings.api_key_parameter, settings.signing_key_parameter
    if not (url and api_key and signing_key):
        raise ConfigurationError(
            "live mode needs BANK_API_URL, BANK_API_KEY_PARAMETER "
            "and SIGNING_KEY_PARAMETER"
        )
    secrets = SsmSecretStore(
        {SIGNING_KEY: signing_key, API_KEY_SECRET: api_key},
        ttl_seconds=settings.secret_ttl_seconds,
    )
    client = build_client(url)

    async def close_clients() -> None:
        try:
            await client.aclose()
        finally:
            await secrets.aclose()

    return secrets, client, close_clients


_service: Service | None = None


def current_service() -> Service:
    """The execution environment's service, built on first use."""
    global _service  # noqa: PLW0603 - one service per execution environment
    if _service is None:
        _service = build_service(Settings.from_env())
    return _service
