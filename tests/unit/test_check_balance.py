"""CheckBalance: the caller's own balance, by account type, and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from banking_domain.errors import AccountServiceError, NotAuthenticated
from banking_domain.identity import Credentials
from banking_domain.model import AccountType, CustomerId
from banking_domain.usecases import (
    BalanceNotReported,
    BalanceProblem,
    BalanceReported,
)
from tests.fakes import ALEX, SAM, Bank, fake_bank, usd


@pytest.fixture
def bank() -> Bank:
    return fake_bank()


async def signed_in(bank: Bank, customer: CustomerId = ALEX) -> Credentials:
    token = await bank.tokens.issue(customer)
    return Credentials(customer.value, token.value)


class TestCheckBalanceReportsAnAccount:
    async def test_reports_the_available_balance_of_checking(self, bank: Bank) -> None:
        outcome = await bank.use_cases.check_balance(await signed_in(bank), "checking")

        assert isinstance(outcome, BalanceReported)
        assert outcome.account.last_four == "4821"
        assert outcome.account.available == usd("2450.13")
        assert outcome.credit_available is None

    async def test_reports_what_is_owed_and_the_credit_left_for_credit(
        self, bank: Bank
    ) -> None:
        outcome = await bank.use_cases.check_balance(await signed_in(bank), "credit")

        assert isinstance(outcome, BalanceReported)
        assert outcome.account.owed == usd("315.40")
        assert outcome.credit_available == usd("4684.60")

    @pytest.mark.parametrize(
        ("words", "kind"),
        [
            ("Savings", AccountType.SAVINGS),
            (" SAVING ", AccountType.SAVINGS),
            ("chequing", AccountType.CHECKING),
            ("Credit Card", AccountType.CREDIT),
        ],
    )
    async def test_reads_the_account_type_as_the_caller_says_it(
        self, bank: Bank, words: str, kind: AccountType
    ) -> None:
        outcome = await bank.use_cases.check_balance(await signed_in(bank), words)

        assert isinstance(outcome, BalanceReported)
        assert outcome.account.account_type is kind

    async def test_reports_the_callers_own_account_only(self, bank: Bank) -> None:
        outcome = await bank.use_cases.check_balance(
            await signed_in(bank, SAM), "checking"
        )

        assert isinstance(outcome, BalanceReported)
        assert outcome.account.last_four == "1200"
        assert outcome.account.available == usd("85.00")

    async def test_a_balance_disclosure_is_audited(self, bank: Bank) -> None:
        # The use-cases promise one audit record per outcome; telling a caller
        # a balance is the outcome a bank most needs to trace.
        outcome = await bank.use_cases.check_balance(await signed_in(bank), "savings")

        assert bank.audit.records == [outcome]


class TestCheckBalanceProblems:
    @pytest.mark.parametrize("words", [None, "", "brokerage", "4821"])
    async def test_an_unknown_account_type_is_not_reported(
        self, bank: Bank, words: str | None
    ) -> None:
        outcome = await bank.use_cases.check_balance(await signed_in(bank), words)

        assert outcome == BalanceNotReported(BalanceProblem.UNKNOWN_ACCOUNT_TYPE)
        assert bank.gateway.calls == 0

    async def test_an_account_type_the_caller_lacks_is_not_reported(
        self, bank: Bank
    ) -> None:
        outcome = await bank.use_cases.check_balance(
            await signed_in(bank, SAM), "savings"
        )

        assert outcome == BalanceNotReported(BalanceProblem.NO_SUCH_ACCOUNT)

    async def test_a_failing_bank_raises(self, bank: Bank) -> None:
        credentials = await signed_in(bank)
        bank.gateway.fail_with = AccountServiceError("bank down")

        with pytest.raises(AccountServiceError):
            await bank.use_cases.check_balance(credentials, "checking")


class TestCheckBalanceNeedsAVerifiedCaller:
    @pytest.mark.parametrize(
        "credentials",
        [
            Credentials(None, None),
            Credentials("C-1001", None),
            Credentials("C-1001", "v1.9999999999.forged"),
        ],
    )
    async def test_an_unverified_caller_hears_no_balance(
        self, bank: Bank, credentials: Credentials
    ) -> None:
        with pytest.raises(NotAuthenticated):
            await bank.use_cases.check_balance(credentials, "checking")

        assert bank.gateway.calls == 0

    async def test_an_expired_token_discloses_nothing(self, bank: Bank) -> None:
        credentials = await signed_in(bank)
        bank.clock.advance(timedelta(minutes=15))

        with pytest.raises(NotAuthenticated):
            await bank.use_cases.check_balance(credentials, "checking")

        assert bank.gateway.calls == 0
