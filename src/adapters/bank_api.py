"""The bank's account API (docs/account-api.yaml) as the domain's `AccountGateway`.

Requests carry the API key read through the `SecretStore` on every call, so a
rotated key is picked up when the store's cache expires. Writes carry the
caller's idempotency key as ``Idempotency-Key``.

Retries (tenacity) are for calls that cannot do harm twice: reads, writes with
an idempotency key, and any request that never left because the connection
failed. They happen only after transient failures (429, 502, 503, 504,
timeouts, dropped connections), at most three attempts with small jittered
exponential waits, a short ``Retry-After`` honoured, and never when the turn's
deadline leaves no time for another try. The last failure is what gets mapped.

Failures become port errors with ``raise ... from``: `Declined` for the bank's
business refusals of a transfer, `IdempotencyConflict` for a reused key, and
`AccountServiceError` for everything else (transport errors, timeouts, 5xx,
429 after the retries, a refused API key, a body of the wrong shape). A wrong
PIN, or a phone number locked after too many of them, is not an error:
`verify_caller` returns None.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any, Final, TypeVar, get_args, get_origin
from urllib.parse import quote

import attrs
import cattrs
import httpx
from attrs import field, frozen
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_random_exponential

from adapters.http_client import MAYBE_SENT, NEVER_SENT, NoTimeForAnotherTry
from banking_domain.errors import (
    AccountServiceError,
    Declined,
    IdempotencyConflict,
    InvalidMoney,
)
from banking_domain.model import Account, AccountType, Card, Customer, CustomerId
from banking_domain.money import Money
from banking_domain.ports import CardBlockReceipt, SecretStore, TransferReceipt
from banking_domain.usecases import TransferProblem

API_KEY_SECRET: Final = "bank-api-key"  # noqa: S105 - the name, not the key

_log = logging.getLogger(__name__)

_TRANSIENT_STATUSES: Final = frozenset({429, 502, 503, 504})
_DECLINES: Final = {
    "insufficient_funds": TransferProblem.INSUFFICIENT_FUNDS,
    "same_account": TransferProblem.SAME_ACCOUNT,
    "credit_as_source": TransferProblem.CREDIT_AS_SOURCE,
    "invalid_amount": TransferProblem.NOT_A_NUMBER,
}
_AMOUNT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,3})?")
# What reading a body that breaks the contract raises, from json or cattrs.
_BAD_BODY: Final = (cattrs.BaseValidationError, ValueError, TypeError, KeyError)

_T = TypeVar("_T")


class HttpAccountGateway:
    """`AccountGateway` over HTTP; see the module docstring for the rules."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        secrets: SecretStore,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_attempts: int = 3,
        min_attempt_seconds: float = 0.25,
        max_retry_after: float = 1.0,
    ) -> None:
        self._client = client
        self._secrets = secrets
        self._sleep = sleep
        self._max_attempts = max_attempts
        # Time another attempt needs at least; less left and retrying is moot.
        self._min_attempt_seconds = min_attempt_seconds
        self._max_retry_after = max_retry_after
        self._backoff = wait_random_exponential(multiplier=0.02, max=0.2)

    async def verify_caller(self, phone: str, pin: str) -> Customer | None:
        call = _Call("POST", "/v1/callers/verify", body=_VerifyBody(phone, pin))
        response = await self._send(call)

        if response.status_code == 200:
            return _parse(call, response, _Caller).to_domain()
        code = _error_code(response)
        if response.status_code == 401 and code == "invalid_credentials":
            return None
        if response.status_code == 423:
            _log.warning(
                "the bank has locked a phone number after too many wrong PINs",
                extra={"phone_last_four": phone[-4:]},
            )
            return None
        raise _failure(call, response, code) from _status_error(call, response)

    async def list_accounts(self, customer_id: CustomerId) -> Sequence[Account]:
        call = _Call(
            "GET",
            "/v1/customers/{customerId}/accounts",
            {"customerId": customer_id.value},
        )
        response = await self._expect(call, 200)
        wire = _parse(call, response, _Accounts)
        try:
            return [account.to_domain() for account in wire.accounts]
        except (InvalidMoney, ValueError) as error:
            raise AccountServiceError(f"{call}: unusable account") from error

    async def list_cards(self, customer_id: CustomerId) -> Sequence[Card]:
        call = _Call(
            "GET",
            "/v1/customers/{customerId}/cards",
            {"customerId": customer_id.value},
        )
        response = await self._expect(call, 200)
        return list(_parse(call, response, _Cards).cards)

    async def transfer(
        self,
        customer_id: CustomerId,
        source: Account,
        target: Account,
        amount: Money,
        idempotency_key: str,
    ) -> TransferReceipt:
        body = _TransferBody(
            source.account_id,
            target.account_id,
            _WireMoney(amount.to_text(), amount.currency),
        )
        call = _Call(
            "POST",
            "/v1/customers/{customerId}/transfers",
            {"customerId": customer_id.value},
            body,
            idempotency_key,
        )
        response = await self._send(call)

        if response.status_code == 201:
            return _parse(call, response, TransferReceipt)
        code = _error_code(response)
        if response.status_code == 422 and code in _DECLINES:
            raise Declined(_DECLINES[code]) from _status_error(call, response)
        raise _failure(call, response, code) from _status_error(call, response)

    async def block_card(
        self, customer_id: CustomerId, card: Card, idempotency_key: str
    ) -> CardBlockReceipt:
        call = _Call(
            "POST",
            "/v1/customers/{customerId}/cards/{cardId}/block",
            {"customerId": customer_id.value, "cardId": card.card_id},
            _BlockBody("lost", order_replacement=True),
            idempotency_key,
        )
        response = await self._expect(call, 200)
        return _parse(call, response, CardBlockReceipt)

    # ------------------------------------------------------------ plumbing

    async def _expect(self, call: _Call, status: int) -> httpx.Response:
        response = await self._send(call)
        if response.status_code != status:
            code = _error_code(response)
            raise _failure(call, response, code) from _status_error(call, response)
        return response

    async def _send(self, call: _Call) -> httpx.Response:
        """The response of the last attempt, whatever its status."""
        headers = {"x-api-key": await self._secrets.get(API_KEY_SECRET)}
        if call.idempotency_key is not None:
            headers["Idempotency-Key"] = call.idempotency_key
        retrying = AsyncRetrying(
            stop=(
                stop_after_attempt(self._max_attempts)
                | _AskedToWaitTooLong(self._max_retry_after)
                | NoTimeForAnotherTry(self._min_attempt_seconds)
            ),
            wait=self._wait,
            retry=lambda state: _worth_retrying(call, state),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return await retrying(self._attempt, call, headers)
        except _TransientStatus as given_up:
            return given_up.response
        except httpx.TimeoutException as error:
            raise AccountServiceError(f"{call}: timed out") from error
        except httpx.HTTPError as error:
            raise AccountServiceError(f"{call}: {type(error).__name__}") from error

    async def _attempt(self, call: _Call, headers: dict[str, str]) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = await self._client.request(
                call.method, call.path, json=call.json(), headers=headers
            )
        except httpx.HTTPError as error:
            _log_request(call, type(error).__name__, started)
            raise
        _log_request(call, response.status_code, started)
        if response.status_code in _TRANSIENT_STATUSES:
            raise _TransientStatus(response)
        return response

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _TransientStatus) and error.retry_after is not None:
            return error.retry_after
        return self._backoff(state)


# ----------------------------------------------------------------- retrying


class _TransientStatus(Exception):
    """A status worth another try; carries the response for mapping later."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"status {response.status_code}")
        self.response = response
        self.retry_after = _retry_after(response)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait; HTTP dates are ignored."""
    text = response.headers.get("retry-after", "").strip()
    try:
        seconds = float(text)
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None


def _worth_retrying(call: _Call, state: RetryCallState) -> bool:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, NEVER_SENT):
        return True
    return call.idempotent and isinstance(error, (_TransientStatus, *MAYBE_SENT))


class _AskedToWaitTooLong(stop_base):
    """Gives up when the next wait (a Retry-After) is longer than we may wait."""

    def __init__(self, longest: float) -> None:
        self._longest = longest

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep > self._longest


# ------------------------------------------------------------------ errors


def _error_code(response: httpx.Response) -> str | None:
    """The `error.code` of an error body, or None when the body is not one."""
    try:
        body = _converter.structure(_loads(response.content), _ErrorBody)
    except _BAD_BODY:
        return None
    return body.error.code


def _failure(call: _Call, response: httpx.Response, code: str | None) -> Exception:
    status = response.status_code
    what = f"{call}: status {status}, code {code or 'none'}"
    if status == 422 and code == "idempotency_conflict":
        return IdempotencyConflict(what)
    if status in {401, 403}:
        return AccountServiceError(f"{what}: the bank refused our API key")
    return AccountServiceError(what)


def _status_error(call: _Call, response: httpx.Response) -> httpx.HTTPStatusError:
    """The answer as an exception, so a port error can name it as its cause."""
    message = f"{call}: status {response.status_code}"
    return httpx.HTTPStatusError(message, request=response.request, response=response)


def _log_request(call: _Call, outcome: int | str, started: float) -> None:
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    _log.debug(
        "account API %s %s -> %s in %d ms",
        call.method,
        call.template,
        outcome,
        elapsed_ms,
        extra={
            "http_method": call.method,
            "path": call.template,
            "status": outcome,
            "duration_ms": elapsed_ms,
        },
    )


# -------------------------------------------------------------- wire format


@frozen
class _Call:
    """One operation of the API: method, path template and what fills it."""

    method: str
    template: str
    ids: dict[str, str] = field(factory=dict)
    body: object = field(default=None, repr=False)
    idempotency_key: str | None = None

    @property
    def path(self) -> str:
        filled = {name: quote(value, safe="") for name, value in self.ids.items()}
        return self.template.format(**filled)

    @property
    def idempotent(self) -> bool:
        return self.method == "GET" or self.idempotency_key is not None

    def json(self) -> Any:
        return None if self.body is None else _converter.unstructure(self.body)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


@frozen
class _VerifyBody:
    phone: str = field(repr=False)
    pin: str = field(repr=False)


@frozen
class _WireMoney:
    value: str
    currency: str


@frozen
class _TransferBody:
    source_account_id: str
    target_account_id: str
    amount: _WireMoney


@frozen
class _BlockBody:
    reason: str
    order_replacement: bool


@frozen
class _Caller:
    customer_id: CustomerId
    first_name: str

    def to_domain(self) -> Customer:
        return Customer(self.customer_id, self.first_name)


@frozen
class _WireAccount:
    account_id: str
    type: AccountType
    last_four: str
    currency: str
    available: Decimal
    owed: Decimal | None = None
    credit_limit: Decimal | None = None

    def to_domain(self) -> Account:
        def money(amount: Decimal | None) -> Money | None:
            return None if amount is None else Money(amount, self.currency)

        return Account(
            self.account_id,
            self.type,
            self.last_four,
            Money(self.available, self.currency),
            owed=money(self.owed),
            credit_limit=money(self.credit_limit),
        )


@frozen
class _Accounts:
    accounts: list[_WireAccount]


@frozen
class _Cards:
    cards: list[Card]


@frozen
class _ErrorDetail:
    code: str
    message: str = ""


@frozen
class _ErrorBody:
    error: _ErrorDetail


def account_api_converter() -> cattrs.Converter:
    """The converter for the API's JSON: camelCase names, strict scalar types.

    cattrs would otherwise turn ``12.99`` into a Decimal through its float, the
    number ``4821`` into the string "4821", ``"false"`` into True and an object
    into the list of its keys; here each of those is an error, so a body that
    breaks the contract is never guessed at.
    """
    converter = cattrs.Converter(forbid_extra_keys=False)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(bool, _strict_bool)
    converter.register_structure_hook(Decimal, _strict_decimal)
    converter.register_structure_hook(
        CustomerId, lambda value, _: CustomerId(_strict_str(value, str))
    )
    converter.register_structure_hook_factory(_is_enum, _enum_by_value)
    converter.register_structure_hook_factory(
        _is_list,
        lambda cls: _strict_list(converter, get_args(cls)[0]),
    )
    converter.register_structure_hook_factory(
        attrs.has,
        lambda cls: make_dict_structure_fn(cls, converter, **_camel_names(cls)),
    )
    converter.register_unstructure_hook_factory(
        attrs.has,
        lambda cls: make_dict_unstructure_fn(cls, converter, **_camel_names(cls)),
    )
    return converter


def _camel_names(cls: type) -> dict[str, Any]:
    def camel(name: str) -> str:
        first, *rest = name.split("_")
        return first + "".join(word.capitalize() for word in rest)

    return {a.name: override(rename=camel(a.name)) for a in attrs.fields(cls)}


def _strict_str(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _strict_bool(value: object, _: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {type(value).__name__}")
    return value


def _strict_decimal(value: object, _: object) -> Decimal:
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        raise TypeError('an amount must be a string such as "12.99"')
    return Decimal(value)


def _strict_list(
    converter: cattrs.Converter, item: type[_T]
) -> Callable[[object, object], list[_T]]:
    def structure(value: object, _: object) -> list[_T]:
        if not isinstance(value, list):
            raise TypeError(f"expected an array, got {type(value).__name__}")
        return [converter.structure(element, item) for element in value]

    return structure


def _is_list(cls: Any) -> bool:
    return get_origin(cls) is list


def _is_enum(cls: object) -> bool:
    return isinstance(cls, type) and issubclass(cls, enum.Enum)


def _enum_by_value(cls: type[enum.Enum]) -> Callable[[object, object], enum.Enum]:
    def structure(value: object, _: object) -> enum.Enum:
        return cls(_strict_str(value, str))

    return structure


_converter = account_api_converter()


def _loads(content: bytes) -> Any:
    """JSON as the API sends it; NaN and Infinity are not JSON."""

    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return json.loads(content, parse_constant=refuse)


def _parse(call: _Call, response: httpx.Response, cls: type[_T]) -> _T:
    try:
        return _converter.structure(_loads(response.content), cls)
    except _BAD_BODY as error:
        raise AccountServiceError(f"{call}: unexpected response body") from error
