"""The Connect adapter, driven by event files through the domain on fakes.

Each event goes through `parse_call`, `ConnectOperations.respond` and, when a
use-case raises, `failure_reply`: the same path the entrypoint takes.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from adapters import messages
from adapters.connect import (
    MAX_REPLY_BYTES,
    STATUSES,
    ConnectCall,
    ConnectOperations,
    failure_reply,
    idempotency_key,
    parse_call,
    reply_size,
    within_limits,
)
from adapters.speech import to_plain_text
from banking_domain.errors import AccountServiceError, DeadlineExceeded
from banking_domain.identity import Credentials
from banking_domain.model import CustomerId
from tests.fakes import ALEX, Bank, fake_bank
from tests.strategies import connect_like_events, fuzz_settings

EVENTS = Path(__file__).parent.parent / "events" / "connect"
ESCALATE = to_plain_text(messages.ESCALATE)
VERIFY_FIRST = to_plain_text(messages.VERIFY_FIRST)


def raw_event(name: str) -> dict[str, Any]:
    event = json.loads((EVENTS / name).read_text())
    assert isinstance(event, dict)
    return event


async def event(bank: Bank, name: str) -> dict[str, Any]:
    """The event file with a token minted for its customer in place of {{TOKEN}}."""
    text = (EVENTS / name).read_text()
    if "{{TOKEN}}" in text:
        customer = raw_event(name)["Details"]["ContactData"]["Attributes"]
        token = await bank.tokens.issue(CustomerId(customer["customerId"]))
        text = text.replace("{{TOKEN}}", token.value)
    parsed = json.loads(text)
    assert isinstance(parsed, dict)
    return parsed


async def invoke(bank: Bank, event: object) -> dict[str, str]:
    """What the entrypoint does with one event, without its deadline and logs."""
    call = parse_call(event)
    try:
        return await ConnectOperations(bank.use_cases).respond(call)
    except Exception as error:
        return failure_reply(call, error)


def assert_valid_reply(reply: object) -> None:
    assert isinstance(reply, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in reply.items())
    assert reply["status"] in STATUSES
    assert reply["message"].strip()
    assert reply_size(reply) < MAX_REPLY_BYTES


def with_parameters(base: dict[str, Any], **parameters: object) -> dict[str, Any]:
    changed = json.loads(json.dumps(base))
    changed["Details"]["Parameters"].update(parameters)
    return changed


def with_contact(base: dict[str, Any], contact_id: str) -> dict[str, Any]:
    changed = json.loads(json.dumps(base))
    changed["Details"]["ContactData"]["ContactId"] = contact_id
    return changed


def with_token(base: dict[str, Any], token: str | None) -> dict[str, Any]:
    changed = json.loads(json.dumps(base))
    attributes = changed["Details"]["ContactData"]["Attributes"]
    if token is None:
        attributes.pop("authToken")
    else:
        attributes["authToken"] = token
    return changed


# What each event file must come back with: its status and some of its keys.
EXPECTED: dict[str, tuple[str, dict[str, str]]] = {
    "aws-sample-all.json": ("ERROR", {"reason": "missing_operation"}),
    "aws-sample-min.json": ("ERROR", {"reason": "missing_operation"}),
    "verify-caller-right-pin.json": ("OK", {"customerId": "C-1001"}),
    "verify-caller-wrong-pin.json": ("REJECTED", {"reason": "wrong_credentials"}),
    "check-balance-checking.json": (
        "OK",
        {"balance": "2450.13", "currency": "USD", "accountLastFour": "4821"},
    ),
    "check-balance-savings.json": (
        "OK",
        {"balance": "10200.00", "currency": "USD", "accountLastFour": "7730"},
    ),
    "check-balance-credit.json": (
        "OK",
        {
            "accountLastFour": "0019",
            "balance": "4684.60",
            "owed": "315.40",
            "creditAvailable": "4684.60",
            "currency": "USD",
        },
    ),
    "transfer-funds-valid.json": (
        "OK",
        {"amount": "100.00", "sourceLastFour": "4821", "targetLastFour": "7730"},
    ),
    "transfer-funds-over-limit.json": (
        "REJECTED",
        {"reason": "over_limit", "field": "amount", "limit": "10000.00"},
    ),
    "transfer-funds-insufficient-funds.json": (
        "REJECTED",
        {"reason": "insufficient_funds", "field": "amount"},
    ),
    "report-lost-card-only-card.json": (
        "OK",
        {"cardLastFour": "9090", "alreadyBlocked": "false"},
    ),
    "report-lost-card-by-last-four.json": (
        "OK",
        {"cardLastFour": "5511", "alreadyBlocked": "false"},
    ),
    "report-lost-card-which-card.json": (
        "REJECTED",
        {"reason": "which_card", "cardChoices": "5511,0019"},
    ),
    "malformed-no-details.json": ("ERROR", {"reason": "missing_operation"}),
    "malformed-null-customer-endpoint.json": (
        "REJECTED",
        {"reason": "malformed_input"},
    ),
    "malformed-non-string-parameters.json": (
        "REJECTED",
        {"reason": "unknown_account_type"},
    ),
    "malformed-unknown-operation.json": ("ERROR", {"reason": "unknown_operation"}),
}


class TestEventFiles:
    def test_every_event_file_has_an_expectation(self) -> None:
        assert sorted(p.name for p in EVENTS.glob("*.json")) == sorted(EXPECTED)

    @pytest.mark.parametrize("name", sorted(EXPECTED))
    async def test_replies_as_expected(self, name: str) -> None:
        bank = fake_bank()
        status, fields = EXPECTED[name]

        reply = await invoke(bank, await event(bank, name))

        assert_valid_reply(reply)
        assert reply["status"] == status
        assert {key: reply.get(key) for key in fields} == fields

    @pytest.mark.parametrize("name", sorted(EXPECTED))
    async def test_says_nothing_sensitive(self, name: str) -> None:
        bank = fake_bank()

        reply = await invoke(bank, await event(bank, name))

        said = " ".join(v for k, v in reply.items() if k != "authToken")
        assert not re.search(r"\b(2468|1357)\b", said)
        assert "v1." not in said


class TestParseCall:
    def test_reads_the_fields_it_needs(self) -> None:
        call = parse_call(raw_event("verify-caller-right-pin.json"))

        assert call.contact_id == "0b6f3c1e-5d2a-4c8e-9f41-2a7d8e6b1c01"
        assert call.operation == "VerifyCaller"
        assert call.parameters == {"operation": "VerifyCaller", "pin": "2468"}
        assert call.phone == "+15555550100"
        assert call.channel == "VOICE"
        assert call.problems == ()

    def test_reads_identity_from_the_contact_attributes(self) -> None:
        call = parse_call(raw_event("check-balance-checking.json"))

        assert call.credentials == Credentials("C-1001", "{{TOKEN}}")

    def test_tolerates_a_null_customer_endpoint(self) -> None:
        call = parse_call(raw_event("malformed-null-customer-endpoint.json"))

        assert call.phone is None
        assert call.problems == ()

    def test_drops_parameters_that_are_not_text(self) -> None:
        call = parse_call(raw_event("malformed-non-string-parameters.json"))

        assert call.parameters == {"operation": "CheckBalance"}
        assert call.problems == ("parameter_dropped",)

    def test_names_what_is_missing(self) -> None:
        call = parse_call(raw_event("malformed-no-details.json"))

        assert call.problems == (
            "no_details",
            "no_contact_data",
            "no_contact_id",
            "no_operation",
        )

    @pytest.mark.parametrize("odd", [None, [], "text", 3, {"Details": []}])
    def test_never_raises_on_odd_events(self, odd: object) -> None:
        call = parse_call(odd)

        assert call.operation is None
        assert call.problems

    def test_problems_never_carry_values(self) -> None:
        odd = {"Details": {"Parameters": {"pin": 2468, "operation": "2468"}}}

        call = parse_call(odd)

        assert all(re.fullmatch(r"[a-z_]+", problem) for problem in call.problems)

    async def test_keeps_pin_phone_and_token_out_of_its_repr(self) -> None:
        bank = fake_bank()
        verify = parse_call(raw_event("verify-caller-right-pin.json"))
        balance = parse_call(await event(bank, "check-balance-checking.json"))

        assert "2468" not in repr(verify)
        assert "+15555550100" not in repr(verify)
        assert "v1." not in repr(balance)

    def test_cannot_be_changed_after_parsing(self) -> None:
        call = parse_call(raw_event("check-balance-checking.json"))

        with pytest.raises(TypeError):
            call.parameters["operation"] = "TransferFunds"  # type: ignore[index]


class TestVerifyCaller:
    async def test_issues_a_token_that_proves_the_customer(self) -> None:
        bank = fake_bank()

        reply = await invoke(bank, raw_event("verify-caller-right-pin.json"))

        proved = await bank.tokens.authenticate(
            Credentials(reply["customerId"], reply["authToken"])
        )
        assert proved == ALEX
        assert reply["message"] == "Thank you, Alex. You're verified."

    async def test_refuses_a_wrong_pin_without_a_token(self) -> None:
        reply = await invoke(fake_bank(), raw_event("verify-caller-wrong-pin.json"))

        assert "authToken" not in reply
        assert "customerId" not in reply

    async def test_accepts_the_operation_name_in_any_case(self) -> None:
        base = raw_event("verify-caller-right-pin.json")

        reply = await invoke(
            fake_bank(), with_parameters(base, operation="verifycaller")
        )

        assert reply["status"] == "OK"


class TestExactlyOnce:
    async def test_a_transfer_retried_three_times_moves_the_money_once(self) -> None:
        bank = fake_bank()
        transfer = await event(bank, "transfer-funds-valid.json")

        replies = [await invoke(bank, transfer) for _ in range(3)]

        assert len(bank.gateway.writes) == 1
        assert [r["status"] for r in replies] == ["OK"] * 3
        assert len({r["transferId"] for r in replies}) == 1
        balance = await invoke(bank, await event(bank, "check-balance-checking.json"))
        assert balance["balance"] == "2350.13"

    async def test_the_same_transfer_in_another_contact_is_a_new_write(self) -> None:
        bank = fake_bank()
        transfer = await event(bank, "transfer-funds-valid.json")
        other = with_contact(transfer, "0b6f3c1e-5d2a-4c8e-9f41-2a7d8e6b1cff")

        await invoke(bank, transfer)
        await invoke(bank, other)

        assert len(bank.gateway.writes) == 2

    async def test_a_card_report_retried_three_times_blocks_once(self) -> None:
        bank = fake_bank()
        report = await event(bank, "report-lost-card-by-last-four.json")

        replies = [await invoke(bank, report) for _ in range(3)]

        assert len(bank.gateway.writes) == 1
        assert {r["caseReference"] for r in replies} == {replies[0]["caseReference"]}

    def test_the_key_ignores_case_and_spacing_of_the_parameters(self) -> None:
        base = raw_event("transfer-funds-valid.json")
        retried = with_parameters(base, sourceAccountType=" Checking ")
        names = ("sourceAccountType", "targetAccountType", "amount")

        first = idempotency_key(parse_call(base), "TransferFunds", names)
        again = idempotency_key(parse_call(retried), "TransferFunds", names)

        assert first == again
        assert re.fullmatch(r"[0-9a-f]{64}", first)

    def test_the_key_changes_with_the_amount(self) -> None:
        base = raw_event("transfer-funds-valid.json")
        names = ("sourceAccountType", "targetAccountType", "amount")

        first = idempotency_key(parse_call(base), "TransferFunds", names)
        other = idempotency_key(
            parse_call(with_parameters(base, amount="100.01")), "TransferFunds", names
        )

        assert first != other

    async def test_a_write_without_a_contact_id_is_not_attempted(self) -> None:
        bank = fake_bank()
        transfer = await event(bank, "transfer-funds-valid.json")
        del transfer["Details"]["ContactData"]["ContactId"]

        reply = await invoke(bank, transfer)

        assert reply["status"] == "ERROR"
        assert bank.gateway.writes == []


PROTECTED = [
    "check-balance-checking.json",
    "transfer-funds-valid.json",
    "report-lost-card-by-last-four.json",
]


class TestIdentity:
    @pytest.mark.parametrize("name", PROTECTED)
    async def test_a_forged_token_discloses_and_changes_nothing(
        self, name: str
    ) -> None:
        bank = fake_bank()
        genuine = await event(bank, name)
        token = genuine["Details"]["ContactData"]["Attributes"]["authToken"]
        forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

        reply = await invoke(bank, with_token(genuine, forged))

        assert reply == {
            "status": "UNAUTHENTICATED",
            "message": VERIFY_FIRST,
            "reason": "not_verified",
            "operation": reply["operation"],
        }
        assert bank.gateway.calls == 0

    @pytest.mark.parametrize("name", PROTECTED)
    async def test_an_expired_token_discloses_and_changes_nothing(
        self, name: str
    ) -> None:
        bank = fake_bank()
        genuine = await event(bank, name)
        bank.clock.advance(timedelta(minutes=15, seconds=1))

        reply = await invoke(bank, genuine)

        assert reply["status"] == "UNAUTHENTICATED"
        assert bank.gateway.calls == 0

    @pytest.mark.parametrize("name", PROTECTED)
    async def test_no_token_discloses_and_changes_nothing(self, name: str) -> None:
        bank = fake_bank()

        reply = await invoke(bank, with_token(await event(bank, name), None))

        assert reply["status"] == "UNAUTHENTICATED"
        assert bank.gateway.calls == 0

    async def test_a_token_for_another_customer_is_refused(self) -> None:
        bank = fake_bank()
        sams = await bank.tokens.issue(CustomerId("C-1002"))
        balance = with_token(
            await event(bank, "check-balance-checking.json"), sams.value
        )

        reply = await invoke(bank, balance)

        assert reply["status"] == "UNAUTHENTICATED"
        assert "balance" not in reply


class TestFailures:
    async def test_an_account_service_failure_escalates(self) -> None:
        bank = fake_bank()
        balance = await event(bank, "check-balance-savings.json")
        bank.gateway.fail_with = AccountServiceError("down")

        reply = await invoke(bank, balance)

        assert reply == {
            "status": "ERROR",
            "message": ESCALATE,
            "reason": "dependency_failed",
            "escalate": "true",
            "operation": "CheckBalance",
        }

    async def test_a_failure_during_a_transfer_escalates_without_a_write(
        self,
    ) -> None:
        bank = fake_bank()
        transfer = await event(bank, "transfer-funds-valid.json")
        bank.gateway.fail_with = DeadlineExceeded("late")

        reply = await invoke(bank, transfer)

        assert reply["status"] == "ERROR"
        assert reply["escalate"] == "true"
        assert reply["reason"] == "deadline_exceeded"
        assert bank.gateway.writes == []

    def test_an_unexpected_error_escalates_too(self) -> None:
        call = parse_call(raw_event("verify-caller-right-pin.json"))

        reply = failure_reply(call, RuntimeError("bug"))

        assert reply["status"] == "ERROR"
        assert reply["escalate"] == "true"
        assert reply["reason"] == "internal_error"

    def test_an_unknown_operation_is_not_echoed(self) -> None:
        odd = raw_event("malformed-unknown-operation.json")
        call = parse_call(with_parameters(odd, operation="x" * 40_000))

        reply = failure_reply(call, RuntimeError("bug"))

        assert "operation" not in reply


class TestReplyLimits:
    def test_passes_a_good_reply(self) -> None:
        reply = {"status": "OK", "message": "Done."}

        assert within_limits(reply) == reply

    def test_replaces_a_reply_of_32_kilobytes_or_more(self) -> None:
        huge = {"status": "OK", "message": "é" * (MAX_REPLY_BYTES // 2)}

        reply = within_limits(huge)

        assert reply["status"] == "ERROR"
        assert reply["escalate"] == "true"
        assert_valid_reply(reply)

    @pytest.mark.parametrize(
        "bad",
        [
            {"status": "OK", "message": "Done.", "balance": 12.5},
            {"status": "FINE", "message": "Done."},
            {"status": "OK", "message": ""},
            {"status": "OK"},
        ],
    )
    def test_replaces_a_reply_connect_or_the_flow_could_not_use(
        self, bad: dict[str, object]
    ) -> None:
        reply = within_limits(bad)

        assert reply["status"] == "ERROR"
        assert_valid_reply(reply)


# ------------------------------------------------------------ arbitrary events


class TestArbitraryEvents:
    @fuzz_settings(200)
    @given(connect_like_events)
    def test_always_end_in_a_valid_reply(self, shaped: object) -> None:
        bank = fake_bank()
        # A genuine token where the event asks for one, so writes happen too.
        token = asyncio.run(bank.tokens.issue(ALEX)).value
        live = json.loads(json.dumps(shaped).replace("{{TOKEN}}", token))

        call = parse_call(live)
        reply = asyncio.run(invoke(bank, live))

        assert isinstance(call, ConnectCall)
        assert_valid_reply(reply)
