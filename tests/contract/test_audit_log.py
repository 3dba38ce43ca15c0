"""The audit-log port: the fake that records, and the JSON logging adapter.

The use-cases run for real against the fake bank; only the audit log is
swapped for `AuditLogger`, whose lines are read back as production writes them.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from adapters.logging import AUDIT_LOGGER, AuditLogger, log_context
from banking_domain.identity import CallerTokens, Credentials
from banking_domain.ports import AuditLog
from banking_domain.usecases import (
    BalanceNotReported,
    BalanceProblem,
    BalanceReported,
    CheckBalance,
    ReportLostCard,
    TransferFunds,
    TransferRequest,
    UseCases,
    VerifyCaller,
)
from tests import fakes
from tests.conftest import LogLines
from tests.fakes import ALEX, Bank, RecordingAuditLog, fake_bank

KEY = "audit-test-key-0001"


def with_audit(audit: AuditLog) -> tuple[Bank, UseCases]:
    """The fake bank, its use-cases reporting to `audit` instead."""
    bank = fake_bank()
    tokens = CallerTokens(bank.secrets, bank.clock, timedelta(minutes=15))
    use_cases = UseCases(
        verify_caller=VerifyCaller(bank.gateway, tokens, audit),
        check_balance=CheckBalance(bank.gateway, tokens, audit),
        transfer_funds=TransferFunds(bank.gateway, tokens, audit),
        report_lost_card=ReportLostCard(bank.gateway, tokens, audit),
    )
    return bank, use_cases


async def alex(bank: Bank) -> Credentials:
    token = await bank.tokens.issue(ALEX)
    return Credentials(ALEX.value, token.value)


def only_audit_line(log_lines: LogLines) -> dict[str, object]:
    lines = log_lines.audit()
    assert len(lines) == 1
    return lines[0]


class TestAuditLoggerRecordsEachOutcome:
    async def test_a_verified_caller(self, log_lines: LogLines) -> None:
        _, use_cases = with_audit(AuditLogger())

        outcome = await use_cases.verify_caller("+15555550100", "2468")

        line = only_audit_line(log_lines)
        assert line["event"] == "CallerVerified"
        assert line["customer_id"] == "C-1001"
        assert line["logger"] == AUDIT_LOGGER
        assert line["level"] == "INFO"
        assert outcome.token.value not in json.dumps(line)  # type: ignore[union-attr]

    async def test_a_refused_caller(self, log_lines: LogLines) -> None:
        _, use_cases = with_audit(AuditLogger())

        await use_cases.verify_caller("+15555550100", "1111")

        line = only_audit_line(log_lines)
        assert line["event"] == "CallerRefused"
        assert line["reason"] == "wrong_credentials"
        assert line["phone_last_four"] == "0100"

    def test_a_reported_balance(self, log_lines: LogLines) -> None:
        # CheckBalance reports nothing to the audit log today; the adapter
        # still knows the outcome, should it start to.
        savings = fakes.alex().accounts[1]

        AuditLogger().record(BalanceReported(savings))

        line = only_audit_line(log_lines)
        assert line["event"] == "BalanceReported"
        assert line["account_last_four"] == "7730"
        assert line["account_type"] == "savings"
        assert "10200.00" not in json.dumps(line)

    def test_a_balance_not_reported(self, log_lines: LogLines) -> None:
        outcome = BalanceNotReported(BalanceProblem.NO_SUCH_ACCOUNT)

        AuditLogger().record(outcome)

        line = only_audit_line(log_lines)
        assert line["event"] == "BalanceNotReported"
        assert line["reason"] == "no_such_account"

    async def test_a_completed_transfer(self, log_lines: LogLines) -> None:
        bank, use_cases = with_audit(AuditLogger())
        request = TransferRequest("savings", "checking", "10000.00")

        await use_cases.transfer_funds(await alex(bank), request, KEY)

        line = only_audit_line(log_lines)
        assert line["event"] == "TransferCompleted"
        assert line["transfer_id"] == "T-000001"
        assert line["amount"] == "10000.00"
        assert line["currency"] == "USD"
        assert line["source_last_four"] == "7730"
        assert line["target_last_four"] == "4821"

    async def test_a_rejected_transfer(self, log_lines: LogLines) -> None:
        bank, use_cases = with_audit(AuditLogger())
        request = TransferRequest("credit", "checking", "10.00")

        await use_cases.transfer_funds(await alex(bank), request, KEY)

        line = only_audit_line(log_lines)
        assert line["event"] == "TransferRejected"
        assert line["reason"] == "credit_as_source"
        assert line["field"] == "source"

    async def test_a_blocked_card(self, log_lines: LogLines) -> None:
        bank, use_cases = with_audit(AuditLogger())

        await use_cases.report_lost_card(await alex(bank), "0019", KEY)

        line = only_audit_line(log_lines)
        assert line["event"] == "CardBlocked"
        assert line["card_last_four"] == "0019"
        assert line["case_reference"] == "L-000001"
        assert line["already_blocked"] is False
        assert line["replacement_ordered"] is True

    async def test_a_card_not_blocked(self, log_lines: LogLines) -> None:
        bank, use_cases = with_audit(AuditLogger())

        await use_cases.report_lost_card(await alex(bank), "9999", KEY)

        line = only_audit_line(log_lines)
        assert line["event"] == "CardNotBlocked"
        assert line["reason"] == "unknown_card"

    def test_an_unknown_event_by_its_type_name_only(self, log_lines: LogLines) -> None:
        class SomethingNew:
            secret = "hidden"

        AuditLogger().record(SomethingNew())

        line = only_audit_line(log_lines)
        assert line["event"] == "SomethingNew"
        assert "hidden" not in json.dumps(line)


class TestAuditLoggerWritesNothingSensitive:
    async def test_a_whole_session_leaves_only_safe_fields(
        self, log_lines: LogLines
    ) -> None:
        bank, use_cases = with_audit(AuditLogger())
        verified = await use_cases.verify_caller("+15555550100", "2468")
        credentials = await alex(bank)

        await use_cases.transfer_funds(
            credentials, TransferRequest("checking", "credit", "315.40"), KEY
        )
        await use_cases.report_lost_card(credentials, "5511", KEY + "b")

        written = json.dumps(log_lines.audit())
        assert len(log_lines.audit()) == 3
        assert verified.token.value not in written  # type: ignore[union-attr]
        assert str(credentials.token) not in written
        assert "2468" not in written
        assert "+15555550100" not in written

    async def test_lines_carry_the_turn_context(self, log_lines: LogLines) -> None:
        bank, use_cases = with_audit(AuditLogger())

        with log_context(conversation_id="contact-1", operation="ReportLostCard"):
            await use_cases.report_lost_card(await alex(bank), "5511", KEY)

        line = only_audit_line(log_lines)
        assert line["conversation_id"] == "contact-1"
        assert line["operation"] == "ReportLostCard"


@pytest.fixture(params=["recording", "logging"])
def audit(request: pytest.FixtureRequest) -> AuditLog:
    return RecordingAuditLog() if request.param == "recording" else AuditLogger()


class TestEveryAuditLog:
    """The port's contract, for the fake and for the real adapter alike."""

    async def test_takes_one_record_per_outcome_without_raising(
        self, audit: AuditLog
    ) -> None:
        bank, use_cases = with_audit(audit)
        credentials = await alex(bank)

        await use_cases.verify_caller("+15555550100", "2468")
        await use_cases.verify_caller("not a phone", "x")
        await use_cases.check_balance(credentials, "checking")
        await use_cases.check_balance(credentials, "gold")
        await use_cases.transfer_funds(
            credentials, TransferRequest("checking", "savings", "1.00"), KEY
        )
        await use_cases.transfer_funds(
            credentials, TransferRequest("checking", "savings", "0"), KEY + "b"
        )
        await use_cases.report_lost_card(credentials, "5511", KEY + "c")
        await use_cases.report_lost_card(credentials, None, KEY + "d")

        assert len(bank.gateway.writes) == 2

    def test_takes_a_record_of_any_type(self, audit: AuditLog) -> None:
        audit.record(object())
        audit.record(None)
