"""Both Lambda handlers end to end, on the sandbox bank in-process."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from banking_domain.errors import AccountServiceError
from entrypoints.bootstrap import Service, build_service, wire_use_cases
from entrypoints.cli import main
from entrypoints.connect_lambda import ConnectEntrypoint
from entrypoints.demo import connect_event, lex_event, run_demo
from entrypoints.lex_lambda import LexEntrypoint
from entrypoints.settings import SANDBOX, Settings
from entrypoints.turn import TurnRunner
from tests.fakes import (
    FakeAccountGateway,
    FakeSecretStore,
    FixedClock,
    RecordingAuditLog,
)
from tests.lex_validation import assert_valid_lex_reply

EVENTS = Path(__file__).parent.parent / "events"


class LambdaContext:
    aws_request_id = "req-test"

    def __init__(self, remaining_ms: int = 3000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def service() -> Iterator[Service]:
    built = build_service(Settings(mode=SANDBOX))
    yield built
    built.close()


def verify(service: Service, phone: str = "+15555550100", pin: str = "2468") -> Any:
    event = connect_event(
        str(uuid.uuid4()), phone, {"operation": "VerifyCaller", "pin": pin}
    )
    return ConnectEntrypoint(service).handle(event, LambdaContext())


def identity(service: Service) -> dict[str, str]:
    verified = verify(service)
    return {"customerId": verified["customerId"], "authToken": verified["authToken"]}


def ask(
    service: Service,
    intent: str,
    source: str,
    attributes: dict[str, str],
    confirmation: str = "None",
    session_id: str = "session-1",
    input_mode: str = "Text",
    **slots: str | None,
) -> dict[str, Any]:
    event = lex_event(
        session_id,
        intent,
        slots,
        source,
        attributes=attributes,
        transcript="...",
        confirmation=confirmation,
        input_mode=input_mode,
    )
    reply = LexEntrypoint(service).handle(event, LambdaContext())
    assert_valid_lex_reply(reply)
    return reply


def said(reply: dict[str, Any]) -> str:
    return " ".join(m["content"] for m in reply.get("messages", []))


class TestVerifiedCaller:
    def test_hears_the_demo_balances(self, service: Service) -> None:
        caller = identity(service)

        checking = ask(
            service,
            "CheckBalance",
            "FulfillmentCodeHook",
            caller,
            AccountType="Checking",
        )
        credit = ask(
            service,
            "CheckBalance",
            "FulfillmentCodeHook",
            caller,
            AccountType="credit",
        )

        assert "4821" in said(checking)
        assert "$2,450.13" in said(checking)
        assert "$315.40" in said(credit)
        assert "$4,684.60" in said(credit)

    def test_gets_digits_read_one_by_one_on_voice(self, service: Service) -> None:
        caller = identity(service)

        reply = ask(
            service,
            "CheckBalance",
            "FulfillmentCodeHook",
            caller,
            input_mode="Speech",
            AccountType="savings",
        )

        message = reply["messages"][0]
        assert message["contentType"] == "SSML"
        assert '<say-as interpret-as="digits">7730</say-as>' in message["content"]

    def test_moves_money_once_when_fulfilment_arrives_three_times(
        self, service: Service
    ) -> None:
        caller = identity(service)
        slots = {
            "SourceAccountType": "savings",
            "TargetAccountType": "checking",
            "TransferAmount": "250.00",
        }
        confirm = ask(service, "TransferFunds", "DialogCodeHook", caller, **slots)
        assert confirm["sessionState"]["dialogAction"]["type"] == "ConfirmIntent"
        session = confirm["sessionState"]["sessionAttributes"]

        replies = [
            ask(
                service,
                "TransferFunds",
                "FulfillmentCodeHook",
                session,
                confirmation="Confirmed",
                **slots,
            )
            for _ in range(3)
        ]
        balance = ask(
            service,
            "CheckBalance",
            "FulfillmentCodeHook",
            caller,
            AccountType="checking",
        )

        assert len({said(reply) for reply in replies}) == 1
        assert "$2,700.13" in said(balance)

    def test_denied_transfer_moves_nothing(self, service: Service) -> None:
        caller = identity(service)
        slots = {
            "SourceAccountType": "checking",
            "TargetAccountType": "savings",
            "TransferAmount": "100",
        }

        ask(
            service,
            "TransferFunds",
            "FulfillmentCodeHook",
            caller,
            confirmation="Denied",
            **slots,
        )
        balance = ask(
            service,
            "CheckBalance",
            "FulfillmentCodeHook",
            caller,
            AccountType="checking",
        )

        assert "$2,450.13" in said(balance)


class TestUnverifiedCaller:
    @pytest.mark.parametrize(
        "attributes",
        [
            {},
            {"customerId": "C-1001"},
            {"customerId": "C-1001", "authToken": "v1.9999999999.forged"},
        ],
    )
    def test_hears_no_balance(
        self, service: Service, attributes: dict[str, str]
    ) -> None:
        reply = ask(
            service,
            "CheckBalance",
            "FulfillmentCodeHook",
            attributes,
            AccountType="checking",
        )

        assert "2,450.13" not in said(reply)
        assert reply["sessionState"]["intent"]["state"] == "Failed"
        assert reply["sessionState"]["sessionAttributes"].get("authRequired") == "true"

    def test_cannot_borrow_another_customers_token(self, service: Service) -> None:
        sam = verify(service, "+15555550101", "1357")
        stolen = {"customerId": "C-1001", "authToken": sam["authToken"]}

        reply = ask(
            service,
            "CheckBalance",
            "FulfillmentCodeHook",
            stolen,
            AccountType="checking",
        )

        assert "2,450.13" not in said(reply)

    def test_with_a_wrong_pin_is_refused_by_connect(self, service: Service) -> None:
        reply = verify(service, pin="0000")

        assert reply["status"] == "REJECTED"
        assert "authToken" not in reply


class TestMalformedEvents:
    @pytest.mark.parametrize("event", [None, {}, [], "text", {"sessionState": None}])
    def test_lex_answers_with_a_valid_reply(self, service: Service, event: Any) -> None:
        reply = LexEntrypoint(service).handle(event, None)

        assert_valid_lex_reply(reply)

    @pytest.mark.parametrize("event", [None, {}, [], {"Details": "x"}])
    def test_connect_answers_with_a_status(self, service: Service, event: Any) -> None:
        reply = ConnectEntrypoint(service).handle(event, object())

        assert reply["status"] in {"ERROR", "REJECTED", "UNAUTHENTICATED"}
        assert all(isinstance(value, str) for value in reply.values())


class HangingGateway(FakeAccountGateway):
    """A bank that never answers a balance question."""

    async def list_accounts(self, customer_id: object) -> Any:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def service_over(gateway: FakeAccountGateway, settings: Settings) -> Service:
    secrets = FakeSecretStore()
    tokens, use_cases = wire_use_cases(
        gateway, secrets, RecordingAuditLog(), FixedClock(), settings
    )

    async def nothing() -> None:
        return None

    return Service(settings, use_cases, tokens, TurnRunner(), nothing)


class TestFailingBank:
    def test_a_bank_that_never_answers_ends_in_escalation_within_budget(
        self,
    ) -> None:
        settings = Settings(mode=SANDBOX, lex_budget_seconds=0.2)
        hanging = HangingGateway.with_demo_customers()
        service = service_over(hanging, settings)
        caller = identity_for(service)

        reply = ask(
            service,
            "CheckBalance",
            "FulfillmentCodeHook",
            caller,
            AccountType="checking",
        )
        service.close()

        assert reply["sessionState"]["sessionAttributes"]["escalate"] == "true"
        assert reply["sessionState"]["intent"]["state"] == "Failed"

    def test_a_failing_bank_escalates_a_connect_call(self) -> None:
        failing = FakeAccountGateway.with_demo_customers()
        service = service_over(failing, Settings(mode=SANDBOX))
        caller = identity_for(service)
        failing.fail_with = AccountServiceError("503")
        event = connect_event(
            "contact-1",
            "+15555550100",
            {"operation": "CheckBalance", "accountType": "checking"},
        )
        event["Details"]["ContactData"]["Attributes"] = caller

        reply = ConnectEntrypoint(service).handle(event, LambdaContext())
        service.close()

        assert reply["status"] == "ERROR"
        assert reply["escalate"] == "true"

    def test_the_turns_log_line_says_the_caller_was_handed_over(
        self, log_lines: Any
    ) -> None:
        failing = FakeAccountGateway.with_demo_customers()
        service = service_over(failing, Settings(mode=SANDBOX))
        caller = identity_for(service)
        failing.fail_with = AccountServiceError("503")

        ask(
            service,
            "CheckBalance",
            "FulfillmentCodeHook",
            caller,
            AccountType="checking",
        )
        ask(service, "FallbackIntent", "DialogCodeHook", caller)
        service.close()

        turns = [line for line in log_lines() if line["message"] == "turn handled"]
        assert [turn["escalated"] for turn in turns] == [True, False]


def identity_for(service: Service) -> dict[str, str]:
    from banking_domain.model import CustomerId

    issued = service.runner.run(lambda: service.tokens.issue(CustomerId("C-1001")), 1)
    return {"customerId": "C-1001", "authToken": issued.value}


class TestCommand:
    def test_demo_prints_a_whole_call(self, service: Service) -> None:
        lines: list[str] = []

        run_demo(service, lines.append)

        text = "\n".join(lines)
        assert "Thank you, Alex" in text
        assert "$2,450.13" in text
        assert "$2,700.13" in text
        assert "5511 is now blocked" in text

    def test_invoke_runs_event_files_in_one_process(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        files = sorted(str(path) for path in (EVENTS / "lex").glob("*.json"))

        code = main(["invoke", "lex", *files])

        assert code == 0
        assert capsys.readouterr().out.count('"reply"') == len(files)

    def test_invoke_in_live_mode_names_the_missing_settings(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for name in ("BANK_API_URL", "BANK_API_KEY_PARAMETER", "SIGNING_KEY_PARAMETER"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("BANKBOT_MODE", "live")

        code = main(["invoke", "connect", "--live", "missing.json"])

        assert code == 2
        assert "BANK_API_URL" in capsys.readouterr().err


def test_reply_is_json(service: Service) -> None:
    reply = LexEntrypoint(service).handle({}, None)

    assert json.loads(json.dumps(reply)) == reply
