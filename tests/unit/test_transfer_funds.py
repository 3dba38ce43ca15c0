"""TransferFunds: one pure rule set, run in the dialog and again at fulfilment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banking_domain.errors import (
    AccountServiceError,
    Declined,
    NotAuthenticated,
)
from banking_domain.identity import Credentials
from banking_domain.model import Account, AccountType, CustomerId
from banking_domain.money import Money
from banking_domain.ports import TransferReceipt
from banking_domain.usecases import (
    DEFAULT_TRANSFER_LIMIT,
    TransferCompleted,
    TransferField,
    TransferFunds,
    TransferIssue,
    TransferProblem,
    TransferRejected,
    TransferRequest,
    ValidTransfer,
    check_transfer,
)
from tests.fakes import ALEX, Bank, FakeAccountGateway, alex, fake_bank, sam, usd

KEY = "transfer-key-0001"
OTHER_KEY = "transfer-key-0002"
LIMIT = DEFAULT_TRANSFER_LIMIT


@pytest.fixture
def bank() -> Bank:
    return fake_bank()


async def signed_in(bank: Bank, customer: CustomerId = ALEX) -> Credentials:
    token = await bank.tokens.issue(customer)
    return Credentials(customer.value, token.value)


def account(accounts: list[Account], kind: AccountType) -> Account:
    return next(a for a in accounts if a.account_type is kind)


def balance(bank: Bank, kind: AccountType) -> Money:
    return account(bank.gateway.customers[ALEX].accounts, kind).available


def check(
    source: str | None, target: str | None, amount: str | None
) -> TransferIssue | ValidTransfer | None:
    return check_transfer(
        TransferRequest(source, target, amount), alex().accounts, LIMIT
    )


def problem_of(outcome: object) -> tuple[TransferField, TransferProblem]:
    assert isinstance(outcome, TransferIssue), outcome
    return outcome.field, outcome.problem


class TestCheckTransferAccounts:
    @pytest.mark.parametrize(
        ("source", "target", "field"),
        [
            ("brokerage", "savings", TransferField.SOURCE),
            ("checking", "pension", TransferField.TARGET),
            ("", "savings", TransferField.SOURCE),
        ],
    )
    def test_an_unknown_account_type_is_named(
        self, source: str, target: str, field: TransferField
    ) -> None:
        outcome = check(source, target, "10")

        assert problem_of(outcome) == (field, TransferProblem.UNKNOWN_ACCOUNT_TYPE)

    @pytest.mark.parametrize(
        ("source", "target", "field"),
        [
            ("savings", "checking", TransferField.SOURCE),
            ("checking", "savings", TransferField.TARGET),
        ],
    )
    def test_an_account_the_caller_does_not_have_is_named(
        self, source: str, target: str, field: TransferField
    ) -> None:
        outcome = check_transfer(
            TransferRequest(source, target, "10"), sam().accounts, LIMIT
        )

        assert problem_of(outcome) == (field, TransferProblem.NO_SUCH_ACCOUNT)

    @pytest.mark.parametrize("source", ["credit", "Credit Card"])
    def test_credit_cannot_be_the_source(self, source: str) -> None:
        outcome = check(source, "checking", "10")

        assert problem_of(outcome) == (
            TransferField.SOURCE,
            TransferProblem.CREDIT_AS_SOURCE,
        )

    @pytest.mark.parametrize(
        ("source", "target"), [("savings", "savings"), ("checking", "Chequing")]
    )
    def test_source_and_target_must_differ(self, source: str, target: str) -> None:
        outcome = check(source, target, "10")

        assert problem_of(outcome) == (
            TransferField.TARGET,
            TransferProblem.SAME_ACCOUNT,
        )

    def test_paying_the_credit_card_from_checking_is_allowed(self) -> None:
        outcome = check("checking", "credit", "100")

        assert isinstance(outcome, ValidTransfer)
        assert outcome.target.account_type is AccountType.CREDIT

    def test_account_types_are_read_case_insensitively(self) -> None:
        outcome = check(" Savings ", "CHECKING", "100")

        assert isinstance(outcome, ValidTransfer)
        assert outcome.source.last_four == "7730"
        assert outcome.target.last_four == "4821"


class TestCheckTransferAmount:
    @pytest.mark.parametrize("amount", ["ten dollars", "", "1.2.3", "12 USD", "--5"])
    def test_an_amount_that_is_not_a_number_is_refused(self, amount: str) -> None:
        outcome = check("checking", "savings", amount)

        assert problem_of(outcome) == (
            TransferField.AMOUNT,
            TransferProblem.NOT_A_NUMBER,
        )

    @pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-inf", "inf"])
    def test_nan_and_infinity_are_not_numbers(self, amount: str) -> None:
        outcome = check("checking", "savings", amount)

        assert problem_of(outcome) == (
            TransferField.AMOUNT,
            TransferProblem.NOT_A_NUMBER,
        )

    @pytest.mark.parametrize("amount", ["0", "0.00", "-5", "-0.01"])
    def test_the_amount_must_be_positive(self, amount: str) -> None:
        outcome = check("checking", "savings", amount)

        assert problem_of(outcome) == (
            TransferField.AMOUNT,
            TransferProblem.NOT_POSITIVE,
        )

    @pytest.mark.parametrize("amount", ["1e-3", "1,00", "1,0000", "12,5"])
    def test_exponents_and_misplaced_commas_are_not_numbers(self, amount: str) -> None:
        outcome = check("checking", "savings", amount)

        assert problem_of(outcome) == (
            TransferField.AMOUNT,
            TransferProblem.NOT_A_NUMBER,
        )

    @pytest.mark.parametrize("amount", ["10.005", "0.001", "1,000.123"])
    def test_more_than_two_decimals_are_refused_not_rounded(self, amount: str) -> None:
        outcome = check("checking", "savings", amount)

        assert problem_of(outcome) == (
            TransferField.AMOUNT,
            TransferProblem.TOO_MANY_DECIMALS,
        )

    def test_an_amount_over_the_limit_is_refused_with_the_limit(self) -> None:
        outcome = check("savings", "checking", "10000.01")

        assert problem_of(outcome) == (TransferField.AMOUNT, TransferProblem.OVER_LIMIT)
        assert isinstance(outcome, TransferIssue)
        assert outcome.limit == usd("10000.00")

    def test_an_amount_equal_to_the_limit_is_allowed(self) -> None:
        outcome = check("savings", "checking", "10,000.00")

        assert isinstance(outcome, ValidTransfer)
        assert outcome.amount == usd("10000.00")

    def test_the_limit_is_configurable(self) -> None:
        def with_limit(amount: str) -> object:
            request = TransferRequest("checking", "savings", amount)
            return check_transfer(request, alex().accounts, Decimal("500.00"))

        assert isinstance(with_limit("500.00"), ValidTransfer)
        assert problem_of(with_limit("500.01")) == (
            TransferField.AMOUNT,
            TransferProblem.OVER_LIMIT,
        )

    def test_an_amount_above_the_source_balance_is_refused(self) -> None:
        outcome = check("checking", "savings", "2450.14")

        assert problem_of(outcome) == (
            TransferField.AMOUNT,
            TransferProblem.INSUFFICIENT_FUNDS,
        )

    def test_the_whole_available_balance_may_be_moved(self) -> None:
        outcome = check("checking", "savings", "$2,450.13")

        assert isinstance(outcome, ValidTransfer)
        assert outcome.amount == usd("2450.13")


class TestCheckTransferPartialRequests:
    @pytest.mark.parametrize(
        ("source", "target", "amount"),
        [
            (None, None, None),
            ("checking", None, None),
            ("checking", "savings", None),
            (None, "savings", "100"),
            (None, None, "100"),
            ("checking", None, "100"),
        ],
    )
    def test_nothing_wrong_so_far_means_none(
        self, source: str | None, target: str | None, amount: str | None
    ) -> None:
        assert check(source, target, amount) is None

    def test_a_bad_part_is_reported_before_the_rest_is_given(self) -> None:
        outcome = check(None, None, "-1")

        assert problem_of(outcome) == (
            TransferField.AMOUNT,
            TransferProblem.NOT_POSITIVE,
        )

    def test_a_complete_valid_request_is_a_valid_transfer(self) -> None:
        accounts = alex().accounts

        outcome = check_transfer(
            TransferRequest("checking", "savings", "100.50"), accounts, LIMIT
        )

        assert outcome == ValidTransfer(
            account(accounts, AccountType.CHECKING),
            account(accounts, AccountType.SAVINGS),
            usd("100.50"),
        )

    @given(
        source=st.one_of(st.none(), st.text(), st.sampled_from(["checking", "credit"])),
        target=st.one_of(st.none(), st.text(), st.sampled_from(["savings", "credit"])),
        amount=st.one_of(st.none(), st.text()),
    )
    def test_never_raises_for_any_text(
        self, source: str | None, target: str | None, amount: str | None
    ) -> None:
        outcome = check(source, target, amount)

        assert outcome is None or isinstance(outcome, (TransferIssue, ValidTransfer))


class TestTransferFundsMovesMoney:
    async def test_moves_the_amount_between_the_two_accounts(self, bank: Bank) -> None:
        request = TransferRequest("checking", "savings", "100.00")

        outcome = await bank.use_cases.transfer_funds(
            await signed_in(bank), request, KEY
        )

        assert isinstance(outcome, TransferCompleted)
        assert outcome.transfer_id
        assert balance(bank, AccountType.CHECKING) == usd("2350.13")
        assert balance(bank, AccountType.SAVINGS) == usd("10300.00")

    async def test_a_card_payment_lowers_what_is_owed(self, bank: Bank) -> None:
        request = TransferRequest("checking", "credit", "15.40")

        await bank.use_cases.transfer_funds(await signed_in(bank), request, KEY)

        credit = account(bank.gateway.customers[ALEX].accounts, AccountType.CREDIT)
        assert credit.owed == usd("300.00")

    async def test_the_dialog_check_uses_the_callers_accounts(self, bank: Bank) -> None:
        request = TransferRequest("checking", "savings", "2450.14")

        outcome = await bank.use_cases.transfer_funds.check(
            await signed_in(bank), request
        )

        assert problem_of(outcome) == (
            TransferField.AMOUNT,
            TransferProblem.INSUFFICIENT_FUNDS,
        )
        assert bank.gateway.writes == []


class TestTransferFundsChecksAgainAtFulfilment:
    async def test_a_request_over_the_limit_is_rejected_without_a_write(
        self, bank: Bank
    ) -> None:
        request = TransferRequest("savings", "checking", "10000.01")

        outcome = await bank.use_cases.transfer_funds(
            await signed_in(bank), request, KEY
        )

        assert outcome == TransferRejected(
            TransferIssue(
                TransferField.AMOUNT, TransferProblem.OVER_LIMIT, usd("10000.00")
            )
        )
        assert bank.gateway.writes == []

    async def test_a_check_passed_in_an_earlier_turn_proves_nothing(
        self, bank: Bank
    ) -> None:
        credentials = await signed_in(bank)
        request = TransferRequest("checking", "savings", "2000.00")
        earlier = await bank.use_cases.transfer_funds.check(credentials, request)
        drain = TransferRequest("checking", "credit", "1000.00")
        await bank.use_cases.transfer_funds(credentials, drain, OTHER_KEY)

        outcome = await bank.use_cases.transfer_funds(credentials, request, KEY)

        assert isinstance(earlier, ValidTransfer)
        assert isinstance(outcome, TransferRejected)
        assert outcome.issue.problem is TransferProblem.INSUFFICIENT_FUNDS
        assert len(bank.gateway.writes) == 1

    async def test_the_configured_limit_applies_at_fulfilment(self) -> None:
        bank = fake_bank(limit=Decimal("50.00"))
        request = TransferRequest("checking", "savings", "50.01")

        outcome = await bank.use_cases.transfer_funds(
            await signed_in(bank), request, KEY
        )

        assert isinstance(outcome, TransferRejected)
        assert outcome.issue.problem is TransferProblem.OVER_LIMIT
        assert outcome.issue.limit == usd("50.00")

    @pytest.mark.parametrize(
        ("request_", "field"),
        [
            (TransferRequest(None, "savings", "10"), TransferField.SOURCE),
            (TransferRequest("checking", None, "10"), TransferField.TARGET),
            (TransferRequest("checking", "savings", None), TransferField.AMOUNT),
        ],
    )
    async def test_a_missing_part_is_rejected_as_missing(
        self, bank: Bank, request_: TransferRequest, field: TransferField
    ) -> None:
        outcome = await bank.use_cases.transfer_funds(
            await signed_in(bank), request_, KEY
        )

        assert outcome == TransferRejected(
            TransferIssue(field, TransferProblem.MISSING)
        )
        assert bank.gateway.writes == []


class TestTransferFundsIdempotency:
    async def test_the_same_key_moves_the_money_once(self, bank: Bank) -> None:
        credentials = await signed_in(bank)
        request = TransferRequest("checking", "savings", "100.00")

        outcomes = [
            await bank.use_cases.transfer_funds(credentials, request, KEY)
            for _ in range(3)
        ]

        assert len(bank.gateway.writes) == 1
        assert balance(bank, AccountType.CHECKING) == usd("2350.13")
        completed = [o for o in outcomes if isinstance(o, TransferCompleted)]
        assert len(completed) == 3
        assert len({o.transfer_id for o in completed}) == 1

    async def test_a_repeated_key_gets_the_first_answer_even_when_funds_ran_low(
        self, bank: Bank
    ) -> None:
        # The retried fulfilment of a transfer that took most of the balance:
        # the money has moved, so the caller must hear that it moved.
        credentials = await signed_in(bank)
        request = TransferRequest("checking", "savings", "2000.00")
        first = await bank.use_cases.transfer_funds(credentials, request, KEY)

        again = await bank.use_cases.transfer_funds(credentials, request, KEY)

        assert isinstance(first, TransferCompleted)
        assert isinstance(again, TransferCompleted)
        assert again.transfer_id == first.transfer_id
        assert len(bank.gateway.writes) == 1

    async def test_a_new_key_makes_a_second_transfer(self, bank: Bank) -> None:
        credentials = await signed_in(bank)
        request = TransferRequest("checking", "savings", "100.00")

        first = await bank.use_cases.transfer_funds(credentials, request, KEY)
        second = await bank.use_cases.transfer_funds(credentials, request, OTHER_KEY)

        assert isinstance(first, TransferCompleted)
        assert isinstance(second, TransferCompleted)
        assert first.transfer_id != second.transfer_id
        assert balance(bank, AccountType.CHECKING) == usd("2250.13")

    @pytest.mark.parametrize(
        "key", ["", "short", "has spaces in it", "x" * 129, "key/with/slash"]
    )
    async def test_a_bad_key_is_a_programming_error(self, bank: Bank, key: str) -> None:
        request = TransferRequest("checking", "savings", "100.00")

        with pytest.raises(ValueError, match="idempotency key"):
            await bank.use_cases.transfer_funds(await signed_in(bank), request, key)

        assert bank.gateway.calls == 0


class TestTransferFundsNeedsAVerifiedCaller:
    @pytest.mark.parametrize(
        "credentials",
        [
            Credentials(None, None),
            Credentials("C-1001", None),
            Credentials("C-1001", "v1.9999999999.forged"),
        ],
    )
    async def test_an_unverified_caller_reaches_no_account(
        self, bank: Bank, credentials: Credentials
    ) -> None:
        request = TransferRequest("checking", "savings", "100.00")

        with pytest.raises(NotAuthenticated):
            await bank.use_cases.transfer_funds(credentials, request, KEY)
        with pytest.raises(NotAuthenticated):
            await bank.use_cases.transfer_funds.check(credentials, request)

        assert bank.gateway.calls == 0
        assert bank.audit.records == []

    async def test_another_customers_token_does_not_open_alexs_accounts(
        self, bank: Bank
    ) -> None:
        sams = await signed_in(bank, CustomerId("C-1002"))
        forged = Credentials("C-1001", sams.token)

        with pytest.raises(NotAuthenticated):
            await bank.use_cases.transfer_funds(
                forged, TransferRequest("checking", "savings", "1"), KEY
            )

        assert bank.gateway.calls == 0


class DecliningGateway(FakeAccountGateway):
    """The bank refuses every transfer, for a reason set by the test."""

    def __init__(self, reason: object) -> None:
        super().__init__([alex()])
        self.reason = reason

    async def transfer(
        self,
        customer_id: CustomerId,
        source: Account,
        target: Account,
        amount: Money,
        idempotency_key: str,
    ) -> TransferReceipt:
        raise Declined(self.reason)


class TestTransferFundsWhenTheBankSaysNo:
    @pytest.mark.parametrize(
        ("reason", "problem"),
        [
            (TransferProblem.INSUFFICIENT_FUNDS, TransferProblem.INSUFFICIENT_FUNDS),
            (TransferProblem.OVER_LIMIT, TransferProblem.OVER_LIMIT),
            ("daily-limit-reached", TransferProblem.INSUFFICIENT_FUNDS),
        ],
    )
    async def test_a_declined_transfer_becomes_a_rejection(
        self, bank: Bank, reason: object, problem: TransferProblem
    ) -> None:
        transfer = TransferFunds(DecliningGateway(reason), bank.tokens, bank.audit)
        request = TransferRequest("checking", "savings", "100.00")

        outcome = await transfer(await signed_in(bank), request, KEY)

        assert outcome == TransferRejected(TransferIssue(TransferField.AMOUNT, problem))
        assert bank.audit.records == [outcome]

    async def test_a_failing_bank_raises_and_nothing_is_audited(
        self, bank: Bank
    ) -> None:
        credentials = await signed_in(bank)
        bank.gateway.fail_with = AccountServiceError("bank down")
        request = TransferRequest("checking", "savings", "100.00")

        with pytest.raises(AccountServiceError):
            await bank.use_cases.transfer_funds(credentials, request, KEY)

        assert bank.audit.records == []


class TestTransferFundsAudit:
    async def test_a_completed_transfer_is_audited_once(self, bank: Bank) -> None:
        request = TransferRequest("checking", "savings", "100.00")

        outcome = await bank.use_cases.transfer_funds(
            await signed_in(bank), request, KEY
        )

        assert bank.audit.records == [outcome]

    async def test_a_rejected_transfer_is_audited_once(self, bank: Bank) -> None:
        request = TransferRequest("credit", "savings", "100.00")

        outcome = await bank.use_cases.transfer_funds(
            await signed_in(bank), request, KEY
        )

        assert isinstance(outcome, TransferRejected)
        assert bank.audit.records == [outcome]

    async def test_a_dialog_check_is_not_an_outcome_and_is_not_audited(
        self, bank: Bank
    ) -> None:
        request = TransferRequest("checking", "savings", "100.00")

        await bank.use_cases.transfer_funds.check(await signed_in(bank), request)

        assert bank.audit.records == []
