"""Settings, read once per execution environment from the process environment.

Live mode refuses to start without what it needs and names every missing or
invalid variable at once. Sandbox mode needs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from attrs import frozen

SANDBOX = "sandbox"
LIVE = "live"

# Amazon Connect waits at most 8 s for a synchronous Lambda; nothing may exceed it.
CONNECT_HARD_LIMIT_SECONDS = 8.0


class ConfigurationError(Exception):
    """The environment does not describe a service that can run."""


@frozen
class Settings:
    mode: str
    bank_api_url: str | None = None
    api_key_parameter: str | None = None
    signing_key_parameter: str | None = None
    transfer_limit: Decimal = Decimal("10000.00")
    token_lifetime_minutes: int = 15
    lex_budget_seconds: float = 5.0
    connect_budget_seconds: float = 3.0
    safety_margin_seconds: float = 0.3
    secret_ttl_seconds: float = 300.0
    log_level: str = "INFO"

    @property
    def sandbox(self) -> bool:
        return self.mode == SANDBOX

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        mode = env.get("BANKBOT_MODE", LIVE).strip().lower() or LIVE
        if mode not in (SANDBOX, LIVE):
            reader.errors.append(f"BANKBOT_MODE must be {SANDBOX} or {LIVE}")
        live = mode == LIVE
        settings = cls(
            mode=mode,
            bank_api_url=reader.text("BANK_API_URL", required=live),
            api_key_parameter=reader.text("BANK_API_KEY_PARAMETER", required=live),
            signing_key_parameter=reader.text("SIGNING_KEY_PARAMETER", required=live),
            transfer_limit=reader.amount("TRANSFER_LIMIT", Decimal("10000.00")),
            token_lifetime_minutes=int(reader.number("TOKEN_LIFETIME_MINUTES", 15)),
            lex_budget_seconds=reader.number("LEX_BUDGET_SECONDS", 5.0),
            connect_budget_seconds=reader.number(
                "CONNECT_BUDGET_SECONDS", 3.0, most=CONNECT_HARD_LIMIT_SECONDS
            ),
            safety_margin_seconds=reader.number("SAFETY_MARGIN_SECONDS", 0.3),
            secret_ttl_seconds=reader.number("SECRET_TTL_SECONDS", 300.0),
            log_level=env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO",
        )
        if reader.errors:
            raise ConfigurationError("; ".join(reader.errors))
        return settings


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.errors: list[str] = []

    def text(self, name: str, *, required: bool) -> str | None:
        value = self.env.get(name, "").strip()
        if not value and required:
            self.errors.append(f"{name} is required in live mode")
        return value or None

    def number(self, name: str, default: float, most: float | None = None) -> float:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            self.errors.append(f"{name} must be a number")
            return default
        if not value > 0 or (most is not None and value > most):
            limit = f" and at most {most:g}" if most is not None else ""
            self.errors.append(f"{name} must be above zero{limit}")
            return default
        return value

    def amount(self, name: str, default: Decimal) -> Decimal:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or value <= 0:
            self.errors.append(f"{name} must be a positive amount such as 10000.00")
            return default
        return value
