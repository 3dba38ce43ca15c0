"""The sandbox bank through its HTTP interface (ASGI, in process)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from starlette.routing import Route

from adapters.sandbox import (
    DEVELOPMENT_API_KEY,
    SandboxBank,
    create_app,
    demo_customers,
    sensitive_values,
    serve,
)

CONTRACT = Path(__file__).parents[2] / "docs" / "account-api.yaml"
ALEX_TRANSFERS = "/v1/customers/C-1001/transfers"
ALEX_DEBIT_BLOCK = "/v1/customers/C-1001/cards/card-alex-debit/block"
KEY = {"Idempotency-Key": "sandbox-key-0001"}


def sandbox_client(
    bank: SandboxBank, api_key: str | None = DEVELOPMENT_API_KEY
) -> httpx.AsyncClient:
    """A client of the sandbox; `api_key` None sends no key at all."""
    headers = {} if api_key is None else {"x-api-key": api_key}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(bank)),
        base_url="http://sandbox.test",
        headers=headers,
    )


def transfer_body(
    value: object = "100.00", source: str = "acc-alex-chk", target: str = "acc-alex-sav"
) -> dict[str, object]:
    return {
        "sourceAccountId": source,
        "targetAccountId": target,
        "amount": {"value": value, "currency": "USD"},
    }


def error_code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]


async def available(client: httpx.AsyncClient, account_id: str) -> str:
    response = await client.get("/v1/customers/C-1001/accounts")
    accounts = {a["accountId"]: a for a in response.json()["accounts"]}
    return accounts[account_id]["available"]


@pytest.fixture
def bank() -> SandboxBank:
    return SandboxBank()


@pytest.fixture
async def client(bank: SandboxBank) -> AsyncIterator[httpx.AsyncClient]:
    async with sandbox_client(bank) as client:
        yield client


class TestApiKey:
    async def test_a_request_without_the_key_is_unauthorized(self, bank: SandboxBank):
        async with sandbox_client(bank, api_key=None) as client:
            response = await client.get("/v1/customers/C-1001/accounts")

        assert response.status_code == 401
        assert error_code(response) == "unauthorized"

    @given(st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=60))
    async def test_any_other_key_is_unauthorized(self, key: str):
        async with sandbox_client(SandboxBank(), api_key=key) as client:
            response = await client.get("/v1/customers/C-1001/accounts")

        if key == DEVELOPMENT_API_KEY:
            assert response.status_code == 200
        else:
            assert response.status_code == 401

    async def test_the_key_is_checked_before_anything_else(self, bank: SandboxBank):
        async with sandbox_client(bank, api_key="wrong") as client:
            unknown = await client.get("/v1/nothing-here")
            write = await client.post(ALEX_TRANSFERS, json=transfer_body(), headers=KEY)

        assert (unknown.status_code, write.status_code) == (401, 401)
        assert bank.ledger == []

    async def test_an_app_with_its_own_key_refuses_the_development_key(self):
        app = create_app(SandboxBank(), api_key="another-key-for-this-test")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sandbox.test"
        ) as client:
            refused = await client.get(
                "/v1/customers/C-1001/cards",
                headers={"x-api-key": DEVELOPMENT_API_KEY},
            )
            allowed = await client.get(
                "/v1/customers/C-1001/cards",
                headers={"x-api-key": "another-key-for-this-test"},
            )

        assert (refused.status_code, allowed.status_code) == (401, 200)

    async def test_an_unknown_path_is_not_found_as_json(
        self, client: httpx.AsyncClient
    ):
        response = await client.get("/v1/nothing-here")

        assert response.status_code == 404
        assert error_code(response) == "not_found"


class TestVerifyCaller:
    async def test_the_right_pin_names_the_customer(self, client: httpx.AsyncClient):
        response = await client.post(
            "/v1/callers/verify", json={"phone": "+15555550100", "pin": "2468"}
        )

        assert response.status_code == 200
        assert response.json() == {"customerId": "C-1001", "firstName": "Alex"}

    async def test_a_wrong_pin_is_invalid_credentials(self, client: httpx.AsyncClient):
        response = await client.post(
            "/v1/callers/verify", json={"phone": "+15555550100", "pin": "1357"}
        )

        assert response.status_code == 401
        assert error_code(response) == "invalid_credentials"

    async def test_five_wrong_pins_lock_the_phone_number(
        self, client: httpx.AsyncClient
    ):
        for _ in range(5):
            wrong = await client.post(
                "/v1/callers/verify", json={"phone": "+15555550100", "pin": "0000"}
            )
            assert wrong.status_code == 401

        right = await client.post(
            "/v1/callers/verify", json={"phone": "+15555550100", "pin": "2468"}
        )

        assert right.status_code == 423
        assert error_code(right) == "locked"

    async def test_the_lock_holds_only_for_that_phone_number(
        self, client: httpx.AsyncClient
    ):
        for _ in range(5):
            await client.post(
                "/v1/callers/verify", json={"phone": "+15555550100", "pin": "0000"}
            )

        other = await client.post(
            "/v1/callers/verify", json={"phone": "+15555550101", "pin": "1357"}
        )

        assert other.status_code == 200

    async def test_a_right_pin_resets_the_count(self, client: httpx.AsyncClient):
        async def attempt(pin: str) -> int:
            body = {"phone": "+15555550100", "pin": pin}
            return (await client.post("/v1/callers/verify", json=body)).status_code

        statuses = [await attempt("0000") for _ in range(4)]
        statuses.append(await attempt("2468"))
        statuses += [await attempt("0000") for _ in range(4)]
        statuses.append(await attempt("2468"))

        assert statuses == [401] * 4 + [200] + [401] * 4 + [200]

    async def test_unknown_phone_numbers_are_locked_too(
        self, client: httpx.AsyncClient
    ):
        body = {"phone": "+15555550199", "pin": "0000"}
        statuses = [
            (await client.post("/v1/callers/verify", json=body)).status_code
            for _ in range(6)
        ]

        assert statuses == [401] * 5 + [423]

    @pytest.mark.parametrize(
        "body",
        [{"phone": "+15555550100"}, {"phone": "+15555550100", "pin": 2468}, []],
    )
    async def test_a_malformed_request_is_invalid(
        self, client: httpx.AsyncClient, body: object
    ):
        response = await client.post("/v1/callers/verify", json=body)

        assert response.status_code == 400
        assert error_code(response) == "invalid_request"


class TestReads:
    async def test_accounts_carry_amounts_as_strings(self, client: httpx.AsyncClient):
        response = await client.get("/v1/customers/C-1001/accounts")

        credit = response.json()["accounts"][2]
        assert credit == {
            "accountId": "acc-alex-cc",
            "type": "credit",
            "lastFour": "0019",
            "currency": "USD",
            "available": "4684.60",
            "owed": "315.40",
            "creditLimit": "5000.00",
        }

    async def test_no_full_number_ever_leaves_the_bank(self, client: httpx.AsyncClient):
        numbers = [
            item.number
            for customer in demo_customers()
            for item in [*customer.accounts, *customer.cards]
        ]
        bodies = [
            (await client.get(f"/v1/customers/{customer}/{what}")).text
            for customer in ("C-1001", "C-1002")
            for what in ("accounts", "cards")
        ]

        assert all(len(number) >= 12 for number in numbers)
        assert not [n for n in numbers for body in bodies if n in body]

    async def test_an_unknown_customer_is_not_found(self, client: httpx.AsyncClient):
        response = await client.get("/v1/customers/C-9999/cards")

        assert response.status_code == 404
        assert error_code(response) == "not_found"

    def test_the_sensitive_values_hold_pins_keys_and_full_numbers(self):
        values = sensitive_values()

        assert {"2468", "1357", DEVELOPMENT_API_KEY} <= set(values)
        assert any(v.endswith("4821") and len(v) >= 12 for v in values)
        assert not any(v.startswith("+1555") for v in values)


class TestTransfers:
    async def test_moves_money_and_answers_with_a_transfer_id(
        self, client: httpx.AsyncClient, bank: SandboxBank
    ):
        response = await client.post(ALEX_TRANSFERS, json=transfer_body(), headers=KEY)

        assert response.status_code == 201
        assert re.fullmatch(r"T-\d+", response.json()["transferId"])
        assert await available(client, "acc-alex-chk") == "2350.13"
        assert await available(client, "acc-alex-sav") == "10300.00"
        assert [entry.kind for entry in bank.ledger] == ["transfer"]

    async def test_a_payment_to_the_credit_account_lowers_what_is_owed(
        self, client: httpx.AsyncClient
    ):
        body = transfer_body("315.40", target="acc-alex-cc")

        await client.post(ALEX_TRANSFERS, json=body, headers=KEY)

        accounts = (await client.get("/v1/customers/C-1001/accounts")).json()
        credit = accounts["accounts"][2]
        assert (credit["owed"], credit["available"]) == ("0.00", "5000.00")

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            (transfer_body("2450.14"), "insufficient_funds"),
            (transfer_body(target="acc-alex-chk"), "same_account"),
            (transfer_body(source="acc-alex-cc"), "credit_as_source"),
        ],
    )
    async def test_business_refusals_are_422_and_move_nothing(
        self, client: httpx.AsyncClient, bank: SandboxBank, body: object, code: str
    ):
        response = await client.post(ALEX_TRANSFERS, json=body, headers=KEY)

        assert response.status_code == 422
        assert error_code(response) == code
        assert bank.ledger == []
        assert await available(client, "acc-alex-chk") == "2450.13"

    async def test_another_customers_account_is_not_found(
        self, client: httpx.AsyncClient, bank: SandboxBank
    ):
        body = transfer_body(target="acc-sam-chk")

        response = await client.post(ALEX_TRANSFERS, json=body, headers=KEY)

        assert response.status_code == 404
        assert bank.ledger == []

    @given(
        value=st.one_of(
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.decimals(max_value=0, allow_nan=False).map(str),
            st.decimals(min_value=Decimal("0.001"), max_value=100, places=3).map(str),
            st.sampled_from(["NaN", "Infinity", "-1", "0", "0.00", "1e2", "1,00", ""]),
            st.sampled_from([" 1.00", "$1.00", "1.", ".5", "1.0.0", "+1"]),
        )
    )
    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    async def test_an_amount_that_is_not_a_positive_decimal_string_is_refused(
        self, value: object
    ):
        bank = SandboxBank()
        async with sandbox_client(bank) as client:
            response = await client.post(
                ALEX_TRANSFERS, json=transfer_body(value), headers=KEY
            )

        assert response.status_code == 422
        assert error_code(response) == "invalid_amount"
        assert bank.ledger == []

    async def test_a_json_constant_for_an_amount_is_not_json(
        self, client: httpx.AsyncClient
    ):
        content = json.dumps(transfer_body()).replace('"100.00"', "NaN")

        response = await client.post(ALEX_TRANSFERS, content=content, headers=KEY)

        assert response.status_code == 400

    async def test_an_unsupported_currency_is_an_invalid_amount(
        self, client: httpx.AsyncClient
    ):
        body = transfer_body()
        body["amount"] = {"value": "1.00", "currency": "XXX"}

        response = await client.post(ALEX_TRANSFERS, json=body, headers=KEY)

        assert error_code(response) == "invalid_amount"

    async def test_a_write_needs_an_idempotency_key(
        self, client: httpx.AsyncClient, bank: SandboxBank
    ):
        response = await client.post(ALEX_TRANSFERS, json=transfer_body())

        assert response.status_code == 400
        assert bank.ledger == []


class TestIdempotency:
    async def test_the_same_key_and_body_replays_the_stored_reply(
        self, client: httpx.AsyncClient, bank: SandboxBank
    ):
        first = await client.post(ALEX_TRANSFERS, json=transfer_body(), headers=KEY)
        again = await client.post(ALEX_TRANSFERS, json=transfer_body(), headers=KEY)

        assert (again.status_code, again.json()) == (first.status_code, first.json())
        assert len(bank.ledger) == 1
        assert await available(client, "acc-alex-chk") == "2350.13"

    async def test_spacing_and_key_order_do_not_make_another_request(
        self, client: httpx.AsyncClient, bank: SandboxBank
    ):
        body = transfer_body()
        shuffled = json.dumps(dict(reversed(body.items())), indent=3)

        first = await client.post(ALEX_TRANSFERS, json=body, headers=KEY)
        again = await client.post(ALEX_TRANSFERS, content=shuffled, headers=KEY)

        assert again.json() == first.json()
        assert len(bank.ledger) == 1

    async def test_the_same_key_with_another_body_is_a_conflict(
        self, client: httpx.AsyncClient, bank: SandboxBank
    ):
        await client.post(ALEX_TRANSFERS, json=transfer_body(), headers=KEY)

        other = await client.post(
            ALEX_TRANSFERS, json=transfer_body("100.01"), headers=KEY
        )

        assert other.status_code == 422
        assert error_code(other) == "idempotency_conflict"
        assert len(bank.ledger) == 1

    async def test_the_same_key_on_another_operation_is_a_conflict(
        self, client: httpx.AsyncClient
    ):
        await client.post(ALEX_TRANSFERS, json=transfer_body(), headers=KEY)

        block = await client.post(
            ALEX_DEBIT_BLOCK, json={"reason": "lost"}, headers=KEY
        )

        assert error_code(block) == "idempotency_conflict"

    async def test_a_refusal_is_replayed_too(
        self, client: httpx.AsyncClient, bank: SandboxBank
    ):
        broke = transfer_body("2450.14")
        first = await client.post(ALEX_TRANSFERS, json=broke, headers=KEY)
        await client.post(
            ALEX_TRANSFERS,
            json=transfer_body("500.00", source="acc-alex-sav", target="acc-alex-chk"),
            headers={"Idempotency-Key": "sandbox-key-top-up"},
        )

        again = await client.post(ALEX_TRANSFERS, json=broke, headers=KEY)

        assert again.status_code == first.status_code == 422
        assert len(bank.ledger) == 1

    async def test_keys_belong_to_one_customer(
        self, client: httpx.AsyncClient, bank: SandboxBank
    ):
        await client.post(ALEX_TRANSFERS, json=transfer_body("1.00"), headers=KEY)
        sams = {"value": "1.00", "currency": "USD"}

        response = await client.post(
            "/v1/customers/C-1002/transfers",
            json={
                "sourceAccountId": "acc-sam-chk",
                "targetAccountId": "acc-sam-chk",
                "amount": sams,
            },
            headers=KEY,
        )

        assert error_code(response) == "same_account"

    async def test_a_request_refused_as_malformed_is_not_stored(
        self, client: httpx.AsyncClient, bank: SandboxBank
    ):
        await client.post(ALEX_TRANSFERS, json=transfer_body("-1"), headers=KEY)

        response = await client.post(ALEX_TRANSFERS, json=transfer_body(), headers=KEY)

        assert response.status_code == 201
        assert len(bank.ledger) == 1


class TestBlockCard:
    async def test_blocks_the_card_and_orders_a_replacement(
        self, client: httpx.AsyncClient, bank: SandboxBank
    ):
        response = await client.post(
            ALEX_DEBIT_BLOCK,
            json={"reason": "lost", "orderReplacement": True},
            headers=KEY,
        )

        assert response.status_code == 200
        assert response.json() == {
            "caseReference": bank.ledger[0].reference,
            "alreadyBlocked": False,
            "replacementOrdered": True,
        }
        cards = (await client.get("/v1/customers/C-1001/cards")).json()["cards"]
        assert [c["status"] for c in cards] == ["blocked", "active"]

    async def test_blocking_again_keeps_the_first_case_reference(
        self, client: httpx.AsyncClient
    ):
        first = await client.post(
            ALEX_DEBIT_BLOCK, json={"reason": "lost"}, headers=KEY
        )
        again = await client.post(
            ALEX_DEBIT_BLOCK,
            json={"reason": "stolen"},
            headers={"Idempotency-Key": "sandbox-key-0002"},
        )

        assert again.json() == {**first.json(), "alreadyBlocked": True}

    async def test_an_unknown_card_is_not_found(self, client: httpx.AsyncClient):
        response = await client.post(
            "/v1/customers/C-1001/cards/card-sam-debit/block",
            json={"reason": "lost"},
            headers=KEY,
        )

        assert response.status_code == 404

    @pytest.mark.parametrize(
        "body",
        [{}, {"reason": "bored"}, {"reason": "lost", "orderReplacement": "yes"}],
    )
    async def test_a_malformed_request_is_invalid(
        self, client: httpx.AsyncClient, body: object
    ):
        response = await client.post(ALEX_DEBIT_BLOCK, json=body, headers=KEY)

        assert response.status_code == 400


class TestContractDocument:
    def test_is_a_valid_openapi_document(self):
        validate(yaml.safe_load(CONTRACT.read_text()))

    def test_documents_exactly_the_operations_the_sandbox_serves(self):
        document = yaml.safe_load(CONTRACT.read_text())
        documented = {
            (method.upper(), path)
            for path, operations in document["paths"].items()
            for method in operations
        }
        served = {
            (method, re.sub(r"{(\w+)}", _camel_placeholder, route.path))
            for route in create_app().routes
            if isinstance(route, Route)
            for method in route.methods or ()
            if method != "HEAD"
        }

        assert served == documented


class TestServe:
    def test_refuses_to_serve_beyond_loopback(self):
        with pytest.raises(ValueError, match="loopback"):
            serve(host="0.0.0.0")


def _camel_placeholder(match: re.Match[str]) -> str:
    first, *rest = match[1].split("_")
    return "{" + first + "".join(word.capitalize() for word in rest) + "}"
