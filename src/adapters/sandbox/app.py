"""The account API contract (docs/account-api.yaml) as a starlette app.

This module reads requests strictly, the way a careful bank would: a JSON
number where an amount belongs, NaN, too many decimals or a non-positive amount
is refused, never rounded. The state and its rules live in `SandboxBank`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.sandbox.bank import DEVELOPMENT_API_KEY, Refused, Reply, SandboxBank
from banking_domain.money import MINOR_UNITS, decimal_places

_MAX_BODY_BYTES: Final = 16 * 1024
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_AMOUNT = re.compile(r"[0-9]{1,15}(\.[0-9]+)?")
_BLOCK_REASONS = frozenset({"lost", "stolen"})

_Handler = Callable[[SandboxBank, Request], Awaitable[Reply]]


def create_app(
    bank: SandboxBank | None = None, api_key: str = DEVELOPMENT_API_KEY
) -> Starlette:
    """The sandbox bank as an ASGI app; a fresh demo bank unless one is given."""
    books = SandboxBank() if bank is None else bank

    def endpoint(handler: _Handler) -> Callable[[Request], Awaitable[Response]]:
        async def respond(request: Request) -> Response:
            try:
                reply = await handler(books, request)
            except Refused as refused:
                reply = refused.reply()
            return JSONResponse(dict(reply.body), reply.status)

        return respond

    customer = "/v1/customers/{customer_id}"
    routes = [
        Route("/v1/callers/verify", endpoint(_verify), methods=["POST"]),
        Route(f"{customer}/accounts", endpoint(_accounts), methods=["GET"]),
        Route(f"{customer}/cards", endpoint(_cards), methods=["GET"]),
        Route(f"{customer}/transfers", endpoint(_transfer), methods=["POST"]),
        Route(
            f"{customer}/cards/{{card_id}}/block",
            endpoint(_block_card),
            methods=["POST"],
        ),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(_RequireApiKey, api_key=api_key)],
        exception_handlers={HTTPException: _http_error},
    )


def serve(host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serves a fresh demo bank over HTTP until interrupted; loopback only."""
    # Imported here: the in-process sandbox (ASGI transport) never needs it.
    import uvicorn

    if not _is_loopback(host):
        # The sandbox answers to a published development key.
        raise ValueError(f"the sandbox serves on loopback only, not on {host!r}")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


class _RequireApiKey:
    """Answers 401 to any HTTP request without the right x-api-key."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self._app = app
        self._key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._allowed(scope):
            refused = Refused(401, "unauthorized", "missing or wrong API key")
            reply = refused.reply()
            response = JSONResponse(dict(reply.body), reply.status)
            await response(scope, receive, send)
            return
        await self._app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        given = b""
        for name, value in scope["headers"]:
            if name.lower() == b"x-api-key":
                given = value
        return hmac.compare_digest(given, self._key)


# ---------------------------------------------------------------- handlers


async def _verify(bank: SandboxBank, request: Request) -> Reply:
    body = await _json_object(request)
    return await bank.verify(_text(body, "phone"), _text(body, "pin"))


async def _accounts(bank: SandboxBank, request: Request) -> Reply:
    return bank.accounts(request.path_params["customer_id"])


async def _cards(bank: SandboxBank, request: Request) -> Reply:
    return bank.cards(request.path_params["customer_id"])


async def _transfer(bank: SandboxBank, request: Request) -> Reply:
    customer_id = request.path_params["customer_id"]
    key = _idempotency_key(request)
    body = await _json_object(request)
    source = _text(body, "sourceAccountId")
    target = _text(body, "targetAccountId")
    money = body.get("amount")
    if not isinstance(money, dict):
        raise Refused(400, "invalid_request", "amount must be an object")
    currency = _text(money, "currency")
    amount = _amount(money.get("value"), currency)

    def write() -> Reply:
        return bank.transfer(
            customer_id,
            key,
            source_id=source,
            target_id=target,
            amount=amount,
            currency=currency,
        )

    return await bank.once(customer_id, key, _fingerprint(request, body), write)


async def _block_card(bank: SandboxBank, request: Request) -> Reply:
    customer_id = request.path_params["customer_id"]
    card_id = request.path_params["card_id"]
    key = _idempotency_key(request)
    body = await _json_object(request)
    if _text(body, "reason") not in _BLOCK_REASONS:
        raise Refused(400, "invalid_request", "reason must be lost or stolen")
    replace = body.get("orderReplacement", True)
    if not isinstance(replace, bool):
        raise Refused(400, "invalid_request", "orderReplacement must be a boolean")

    def write() -> Reply:
        return bank.block_card(customer_id, key, card_id, replace)

    return await bank.once(customer_id, key, _fingerprint(request, body), write)


async def _http_error(_: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 500
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "invalid_request")
    reply = Refused(status, code, "no such operation").reply()
    return JSONResponse(dict(reply.body), reply.status)


# ----------------------------------------------------------------- parsing


async def _json_object(request: Request) -> dict[str, object]:
    raw = await request.body()
    if len(raw) > _MAX_BODY_BYTES:
        raise Refused(400, "invalid_request", "body too large")
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise Refused(400, "invalid_request", "body is not JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, "invalid_request", "body must be a JSON object")
    return value


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _text(body: dict[str, object], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise Refused(400, "invalid_request", f"{name} must be a non-empty string")
    return value


def _amount(value: object, currency: str) -> Decimal:
    """A positive amount from its text; anything else is `invalid_amount`."""

    def invalid(why: str) -> Refused:
        return Refused(422, "invalid_amount", why)

    if not isinstance(value, str):
        raise invalid('amount value must be a string such as "100.00"')
    if currency not in MINOR_UNITS:
        raise invalid("unsupported currency")
    if not _AMOUNT.fullmatch(value):
        raise invalid("amount value must be a plain decimal number")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise invalid("amount value must be a plain decimal number") from None
    if decimal_places(amount) > MINOR_UNITS[currency]:
        raise invalid("too many decimals for the currency")
    if amount <= 0:
        raise invalid("amount must be positive")
    return amount


def _idempotency_key(request: Request) -> str:
    key = request.headers.get("idempotency-key", "")
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise Refused(400, "invalid_request", "Idempotency-Key header required")
    return key


def _fingerprint(request: Request, body: dict[str, object]) -> str:
    """Equal for the same operation and body, whatever the JSON spacing."""
    canonical = json.dumps(
        [request.method, request.url.path, body],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
