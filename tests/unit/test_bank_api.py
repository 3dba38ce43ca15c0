"""HttpAccountGateway against scripted answers (httpx.MockTransport).

A scripted bank answers each request with the next answer of its script (the
last one repeats); sleeping is recorded, never done.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import attrs
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.bank_api import API_KEY_SECRET, HttpAccountGateway
from adapters.deadline import deadline_in
from adapters.http_client import build_client
from banking_domain.errors import (
    AccountServiceError,
    Declined,
    IdempotencyConflict,
    SecretUnavailable,
)
from banking_domain.model import Account, AccountType, Card, CardStatus, CustomerId
from banking_domain.usecases import TransferProblem
from tests.fakes import ALEX, FakeSecretStore, usd

API_KEY = "unit-test-api-key-not-secret"
CHECKING = Account("acc-1", AccountType.CHECKING, "4821", usd("2450.13"))
SAVINGS = Account("acc-2", AccountType.SAVINGS, "7730", usd("10200.00"))
DEBIT = Card("card-1", "5511", "debit", CardStatus.ACTIVE)

Answer = httpx.Response | type[httpx.TransportError]


def ok_accounts(**changes: object) -> httpx.Response:
    account = {
        "accountId": "acc-1",
        "type": "checking",
        "lastFour": "4821",
        "currency": "USD",
        "available": "2450.13",
        **changes,
    }
    return httpx.Response(200, json={"accounts": [account]})


def error(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"error": {"code": code, "message": "scripted"}}
    return httpx.Response(status, json=body, headers=headers)


def raw(status: int, content: bytes) -> httpx.Response:
    return httpx.Response(status, content=content)


VERIFIED = httpx.Response(200, json={"customerId": "C-1001", "firstName": "Alex"})
CREATED = httpx.Response(201, json={"transferId": "T-1"})
BLOCKED = httpx.Response(
    200,
    json={"caseReference": "L-1", "alreadyBlocked": False, "replacementOrdered": True},
)


class ScriptedBank:
    def __init__(self, *script: Answer) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(answer, httpx.Response):
            return answer
        raise answer("scripted failure", request=request)


class Sleeps:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@attrs.define
class Rig:
    bank: ScriptedBank
    client: httpx.AsyncClient
    sleeps: Sleeps
    gateway: HttpAccountGateway

    @property
    def attempts(self) -> int:
        return len(self.bank.requests)


def rig_for(*script: Answer, secrets: FakeSecretStore | None = None) -> Rig:
    bank, sleeps = ScriptedBank(*script), Sleeps()
    client = build_client("https://bank.test/api", httpx.MockTransport(bank))
    store = secrets or FakeSecretStore({API_KEY_SECRET: API_KEY})
    return Rig(bank, client, sleeps, HttpAccountGateway(client, store, sleep=sleeps))


MakeRig = Callable[..., Rig]


@pytest.fixture
async def make_rig() -> AsyncIterator[MakeRig]:
    rigs: list[Rig] = []

    def make(*script: Answer, secrets: FakeSecretStore | None = None) -> Rig:
        rigs.append(rig_for(*script, secrets=secrets))
        return rigs[-1]

    yield make
    for rig in rigs:
        await rig.client.aclose()


class TestRetries:
    async def test_a_read_is_retried_after_a_503(self, make_rig: MakeRig):
        rig = make_rig(error(503, "unavailable"), ok_accounts())

        accounts = await rig.gateway.list_accounts(ALEX)

        assert [a.last_four for a in accounts] == ["4821"]
        assert rig.attempts == 2
        assert len(rig.sleeps.seconds) == 1
        assert 0 <= rig.sleeps.seconds[0] <= 0.2

    @pytest.mark.parametrize("status", [429, 502, 503, 504])
    async def test_a_read_is_retried_after_each_transient_status(
        self, make_rig: MakeRig, status: int
    ):
        rig = make_rig(error(status, "busy"), ok_accounts())

        await rig.gateway.list_accounts(ALEX)

        assert rig.attempts == 2

    async def test_a_read_gives_up_after_three_attempts(self, make_rig: MakeRig):
        rig = make_rig(error(503, "unavailable"))

        with pytest.raises(AccountServiceError, match="503") as failed:
            await rig.gateway.list_accounts(ALEX)

        assert rig.attempts == 3
        assert len(rig.sleeps.seconds) == 2
        cause = failed.value.__cause__
        assert isinstance(cause, httpx.HTTPStatusError)
        assert cause.response.status_code == 503

    async def test_a_transfer_with_its_key_is_retried_after_a_503(
        self, make_rig: MakeRig
    ):
        rig = make_rig(error(503, "unavailable"), CREATED)

        receipt = await rig.gateway.transfer(
            ALEX, CHECKING, SAVINGS, usd("100.00"), "key-transfer-1"
        )

        assert receipt.transfer_id == "T-1"
        first, second = rig.bank.requests
        assert first.headers["idempotency-key"] == "key-transfer-1"
        assert second.headers["idempotency-key"] == "key-transfer-1"
        assert first.content == second.content

    async def test_a_card_block_with_its_key_is_retried_after_a_timeout(
        self, make_rig: MakeRig
    ):
        rig = make_rig(httpx.ReadTimeout, BLOCKED)

        receipt = await rig.gateway.block_card(ALEX, DEBIT, "key-block-1")

        assert receipt.case_reference == "L-1"
        assert rig.attempts == 2

    async def test_verification_is_not_retried_after_a_503(self, make_rig: MakeRig):
        rig = make_rig(error(503, "unavailable"), VERIFIED)

        with pytest.raises(AccountServiceError):
            await rig.gateway.verify_caller("+15555550100", "2468")

        assert rig.attempts == 1
        assert rig.sleeps.seconds == []

    async def test_a_timeout_during_verification_is_not_retried(
        self, make_rig: MakeRig
    ):
        rig = make_rig(httpx.ReadTimeout, VERIFIED)

        with pytest.raises(AccountServiceError) as failed:
            await rig.gateway.verify_caller("+15555550100", "2468")

        assert isinstance(failed.value.__cause__, httpx.ReadTimeout)
        assert rig.attempts == 1

    async def test_verification_is_retried_when_it_could_not_connect(
        self, make_rig: MakeRig
    ):
        rig = make_rig(httpx.ConnectError, VERIFIED)

        customer = await rig.gateway.verify_caller("+15555550100", "2468")

        assert customer is not None
        assert rig.attempts == 2

    async def test_a_timeout_on_a_read_is_retried(self, make_rig: MakeRig):
        rig = make_rig(httpx.ReadTimeout, ok_accounts())

        await rig.gateway.list_accounts(ALEX)

        assert rig.attempts == 2

    async def test_the_last_connect_error_is_the_cause(self, make_rig: MakeRig):
        rig = make_rig(httpx.ConnectError)

        with pytest.raises(AccountServiceError) as failed:
            await rig.gateway.list_cards(ALEX)

        assert isinstance(failed.value.__cause__, httpx.ConnectError)
        assert rig.attempts == 3

    async def test_a_short_retry_after_is_honoured(self, make_rig: MakeRig):
        rig = make_rig(
            error(429, "rate_limited", **{"Retry-After": "1"}), ok_accounts()
        )

        await rig.gateway.list_accounts(ALEX)

        assert rig.sleeps.seconds == [1.0]

    async def test_a_long_retry_after_is_not_waited_for(self, make_rig: MakeRig):
        rig = make_rig(error(429, "rate_limited", **{"Retry-After": "30"}))

        with pytest.raises(AccountServiceError, match="429"):
            await rig.gateway.list_accounts(ALEX)

        assert rig.attempts == 1
        assert rig.sleeps.seconds == []

    async def test_a_retry_after_date_falls_back_to_backoff(self, make_rig: MakeRig):
        date = "Wed, 21 Oct 2015 07:28:00 GMT"
        rig = make_rig(
            error(503, "unavailable", **{"Retry-After": date}), ok_accounts()
        )

        await rig.gateway.list_accounts(ALEX)

        assert rig.attempts == 2
        assert rig.sleeps.seconds[0] <= 0.2

    async def test_no_retry_when_the_deadline_leaves_no_time(self, make_rig: MakeRig):
        rig = make_rig(error(503, "unavailable"), ok_accounts())

        with deadline_in(0.1), pytest.raises(AccountServiceError):
            await rig.gateway.list_accounts(ALEX)

        assert rig.attempts == 1

    async def test_retries_while_the_deadline_leaves_time(self, make_rig: MakeRig):
        rig = make_rig(error(503, "unavailable"), ok_accounts())

        with deadline_in(5.0):
            await rig.gateway.list_accounts(ALEX)

        assert rig.attempts == 2

    @pytest.mark.parametrize("status", [400, 401, 404, 500])
    async def test_other_failures_are_not_retried(self, make_rig: MakeRig, status: int):
        rig = make_rig(error(status, "nope"), ok_accounts())

        with pytest.raises(AccountServiceError):
            await rig.gateway.list_accounts(ALEX)

        assert rig.attempts == 1


class TestErrorMapping:
    @pytest.mark.parametrize(
        ("code", "problem"),
        [
            ("insufficient_funds", TransferProblem.INSUFFICIENT_FUNDS),
            ("same_account", TransferProblem.SAME_ACCOUNT),
            ("credit_as_source", TransferProblem.CREDIT_AS_SOURCE),
            ("invalid_amount", TransferProblem.NOT_A_NUMBER),
        ],
    )
    async def test_business_refusals_of_a_transfer_are_declines(
        self, make_rig: MakeRig, code: str, problem: TransferProblem
    ):
        rig = make_rig(error(422, code))

        with pytest.raises(Declined) as declined:
            await rig.gateway.transfer(ALEX, CHECKING, SAVINGS, usd("1.00"), "key-1234")

        assert declined.value.reason is problem
        assert isinstance(declined.value.__cause__, httpx.HTTPStatusError)

    async def test_an_unknown_refusal_code_is_a_service_error(self, make_rig: MakeRig):
        rig = make_rig(error(422, "something_new"))

        with pytest.raises(AccountServiceError):
            await rig.gateway.transfer(ALEX, CHECKING, SAVINGS, usd("1.00"), "key-1234")

    async def test_a_reused_transfer_key_is_a_conflict(self, make_rig: MakeRig):
        rig = make_rig(error(422, "idempotency_conflict"))

        with pytest.raises(IdempotencyConflict):
            await rig.gateway.transfer(ALEX, CHECKING, SAVINGS, usd("1.00"), "key-1234")

    async def test_a_reused_block_key_is_a_conflict(self, make_rig: MakeRig):
        rig = make_rig(error(422, "idempotency_conflict"))

        with pytest.raises(IdempotencyConflict):
            await rig.gateway.block_card(ALEX, DEBIT, "key-1234")

    @pytest.mark.parametrize("status", [401, 403])
    async def test_a_refused_api_key_is_a_service_error(
        self, make_rig: MakeRig, status: int
    ):
        rig = make_rig(error(status, "unauthorized"))

        with pytest.raises(AccountServiceError, match="API key"):
            await rig.gateway.list_cards(ALEX)

    async def test_a_wrong_pin_is_no_customer(self, make_rig: MakeRig):
        rig = make_rig(error(401, "invalid_credentials"))

        assert await rig.gateway.verify_caller("+15555550100", "1111") is None

    async def test_a_refused_api_key_during_verification_is_an_error(
        self, make_rig: MakeRig
    ):
        rig = make_rig(error(401, "unauthorized"))

        with pytest.raises(AccountServiceError):
            await rig.gateway.verify_caller("+15555550100", "2468")

    async def test_a_locked_phone_is_no_customer_and_a_warning(
        self, make_rig: MakeRig, caplog: pytest.LogCaptureFixture
    ):
        rig = make_rig(error(423, "locked"))

        with caplog.at_level(logging.WARNING, logger="adapters.bank_api"):
            customer = await rig.gateway.verify_caller("+15555550100", "2468")

        assert customer is None
        assert [r.levelname for r in caplog.records] == ["WARNING"]

    async def test_an_unknown_customer_is_a_service_error(self, make_rig: MakeRig):
        rig = make_rig(error(404, "not_found"))

        with pytest.raises(AccountServiceError, match="404"):
            await rig.gateway.list_accounts(CustomerId("C-9999"))

    async def test_an_unreadable_secret_stops_before_any_request(
        self, make_rig: MakeRig
    ):
        rig = make_rig(ok_accounts(), secrets=FakeSecretStore({}))

        with pytest.raises(SecretUnavailable):
            await rig.gateway.list_accounts(ALEX)

        assert rig.attempts == 0


class TestResponseBodies:
    @pytest.mark.parametrize(
        "content",
        [b"not json", b"", b"[]", b'{"accounts": {}}', b'{"cards": []}', b"NaN"],
    )
    async def test_a_body_of_the_wrong_shape_is_a_service_error(
        self, make_rig: MakeRig, content: bytes
    ):
        rig = make_rig(raw(200, content))

        with pytest.raises(AccountServiceError) as failed:
            await rig.gateway.list_accounts(ALEX)

        assert failed.value.__cause__ is not None

    @given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
    async def test_a_json_number_for_money_is_a_service_error(self, number: object):
        rig = rig_for(ok_accounts(available=number))

        async with rig.client:
            with pytest.raises(AccountServiceError):
                await rig.gateway.list_accounts(ALEX)

    @pytest.mark.parametrize(
        "changes",
        [
            {"available": "NaN"},
            {"available": "1e3"},
            {"available": "12.999"},
            {"available": " 12.99"},
            {"lastFour": 4821},
            {"lastFour": "482"},
            {"type": "brokerage"},
            {"currency": "XXX"},
            {"owed": 315.4},
        ],
    )
    async def test_a_field_that_breaks_the_contract_is_a_service_error(
        self, make_rig: MakeRig, changes: dict[str, object]
    ):
        rig = make_rig(ok_accounts(**changes))

        with pytest.raises(AccountServiceError):
            await rig.gateway.list_accounts(ALEX)

    @given(
        st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False)
    )
    async def test_a_money_string_is_read_exactly(self, amount: Decimal):
        rig = rig_for(ok_accounts(available=f"{amount:.2f}"))

        async with rig.client:
            [account] = await rig.gateway.list_accounts(ALEX)

        assert account.available.amount == amount

    async def test_unknown_fields_are_ignored(self, make_rig: MakeRig):
        rig = make_rig(ok_accounts(nickname="Bills", overdraft={"limit": "0.00"}))

        [account] = await rig.gateway.list_accounts(ALEX)

        assert account.last_four == "4821"

    async def test_a_string_where_a_flag_belongs_is_a_service_error(
        self, make_rig: MakeRig
    ):
        body = {
            "caseReference": "L-1",
            "alreadyBlocked": "false",
            "replacementOrdered": True,
        }
        rig = make_rig(httpx.Response(200, json=body))

        with pytest.raises(AccountServiceError):
            await rig.gateway.block_card(ALEX, DEBIT, "key-1234")

    async def test_an_unknown_card_status_is_a_service_error(self, make_rig: MakeRig):
        card = {"cardId": "c", "lastFour": "5511", "kind": "debit", "status": "lost"}
        rig = make_rig(httpx.Response(200, json={"cards": [card]}))

        with pytest.raises(AccountServiceError):
            await rig.gateway.list_cards(ALEX)

    async def test_a_credit_account_keeps_what_is_owed(self, make_rig: MakeRig):
        rig = make_rig(
            ok_accounts(
                type="credit", available="4684.60", owed="315.40", creditLimit="5000.00"
            )
        )

        [account] = await rig.gateway.list_accounts(ALEX)

        assert account.owed == usd("315.40")
        assert account.credit_limit == usd("5000.00")


class TestRequests:
    async def test_every_request_carries_the_api_key(self, make_rig: MakeRig):
        rig = make_rig(VERIFIED)

        await rig.gateway.verify_caller("+15555550100", "2468")

        [request] = rig.bank.requests
        assert request.headers["x-api-key"] == API_KEY
        assert "idempotency-key" not in request.headers
        assert json.loads(request.content) == {"phone": "+15555550100", "pin": "2468"}

    async def test_a_transfer_sends_the_amount_as_a_string(self, make_rig: MakeRig):
        rig = make_rig(CREATED)

        await rig.gateway.transfer(ALEX, CHECKING, SAVINGS, usd("100"), "key-1234")

        [request] = rig.bank.requests
        assert request.method == "POST"
        assert request.url.path == "/api/v1/customers/C-1001/transfers"
        assert json.loads(request.content) == {
            "sourceAccountId": "acc-1",
            "targetAccountId": "acc-2",
            "amount": {"value": "100.00", "currency": "USD"},
        }

    async def test_a_card_block_asks_for_a_replacement(self, make_rig: MakeRig):
        rig = make_rig(BLOCKED)

        await rig.gateway.block_card(ALEX, DEBIT, "key-1234")

        [request] = rig.bank.requests
        assert request.url.path == "/api/v1/customers/C-1001/cards/card-1/block"
        assert request.headers["idempotency-key"] == "key-1234"
        assert json.loads(request.content) == {
            "reason": "lost",
            "orderReplacement": True,
        }

    async def test_ids_are_escaped_in_the_path(self, make_rig: MakeRig):
        rig = make_rig(ok_accounts())

        await rig.gateway.list_accounts(CustomerId("C 1/../x"))

        [request] = rig.bank.requests
        assert request.url.raw_path == b"/api/v1/customers/C%201%2F..%2Fx/accounts"


class TestLogging:
    async def test_each_attempt_is_one_debug_line_without_ids_or_secrets(
        self, make_rig: MakeRig, caplog: pytest.LogCaptureFixture
    ):
        rig = make_rig(VERIFIED, error(503, "unavailable"), ok_accounts())

        with caplog.at_level(logging.DEBUG, logger="adapters.bank_api"):
            await rig.gateway.verify_caller("+15555550100", "2468")
            await rig.gateway.list_accounts(ALEX)

        lines = [
            r.getMessage() for r in caplog.records if r.name == "adapters.bank_api"
        ]
        assert len(lines) == 3
        assert "POST /v1/callers/verify -> 200" in lines[0]
        assert "GET /v1/customers/{customerId}/accounts -> 503" in lines[1]
        assert "GET /v1/customers/{customerId}/accounts -> 200" in lines[2]
        for line in lines:
            assert API_KEY not in line
            assert "2468" not in line
            assert "C-1001" not in line
