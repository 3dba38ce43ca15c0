"""ReportLostCard: pick the caller's card, block it once, order a replacement."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banking_domain.errors import AccountServiceError, NotAuthenticated
from banking_domain.identity import Credentials
from banking_domain.model import Card, CardStatus, CustomerId
from banking_domain.usecases import (
    CardBlocked,
    CardIssue,
    CardNotBlocked,
    CardProblem,
    choose_card,
)
from tests.fakes import ALEX, SAM, Bank, alex, fake_bank, sam

KEY = "block-key-0001"
OTHER_KEY = "block-key-0002"


@pytest.fixture
def bank() -> Bank:
    return fake_bank()


async def signed_in(bank: Bank, customer: CustomerId = ALEX) -> Credentials:
    token = await bank.tokens.issue(customer)
    return Credentials(customer.value, token.value)


def card_status(bank: Bank, last_four: str) -> CardStatus:
    cards = bank.gateway.customers[ALEX].cards
    return next(c.status for c in cards if c.last_four == last_four)


class TestChooseCard:
    @pytest.mark.parametrize("said", ["5511", " 5511 ", "55 11", "5 5 1 1"])
    def test_picks_the_card_by_its_last_four_digits(self, said: str) -> None:
        chosen = choose_card(said, alex().cards)

        assert isinstance(chosen, Card)
        assert chosen.card_id == "card-alex-debit"

    def test_picks_the_only_card_when_none_is_named(self) -> None:
        chosen = choose_card(None, sam().cards)

        assert isinstance(chosen, Card)
        assert chosen.last_four == "9090"

    def test_asks_which_card_when_there_are_several(self) -> None:
        chosen = choose_card(None, alex().cards)

        assert chosen == CardIssue(CardProblem.WHICH_CARD, ("5511", "0019"))

    def test_an_unknown_card_comes_back_with_the_choices(self) -> None:
        chosen = choose_card("1234", alex().cards)

        assert chosen == CardIssue(CardProblem.UNKNOWN_CARD, ("5511", "0019"))

    @pytest.mark.parametrize("said", ["", "551", "55111", "abcd", "55-11"])
    def test_anything_but_four_digits_is_refused(self, said: str) -> None:
        chosen = choose_card(said, alex().cards)

        assert isinstance(chosen, CardIssue)
        assert chosen.problem is CardProblem.NOT_FOUR_DIGITS

    def test_a_caller_without_cards_is_told_so(self) -> None:
        assert choose_card("5511", []) == CardIssue(CardProblem.NO_CARDS)

    @given(said=st.one_of(st.none(), st.text()))
    def test_never_raises_for_any_text(self, said: str | None) -> None:
        chosen = choose_card(said, alex().cards)

        assert isinstance(chosen, Card | CardIssue)


class TestReportLostCardBlocksTheCard:
    async def test_blocks_the_card_and_orders_a_replacement(self, bank: Bank) -> None:
        outcome = await bank.use_cases.report_lost_card(
            await signed_in(bank), "5511", KEY
        )

        assert isinstance(outcome, CardBlocked)
        assert outcome.card.last_four == "5511"
        assert outcome.case_reference
        assert outcome.replacement_ordered
        assert not outcome.already_blocked
        assert card_status(bank, "5511") is CardStatus.BLOCKED
        assert card_status(bank, "0019") is CardStatus.ACTIVE

    async def test_blocks_the_only_card_without_asking(self, bank: Bank) -> None:
        outcome = await bank.use_cases.report_lost_card(
            await signed_in(bank, SAM), None, KEY
        )

        assert isinstance(outcome, CardBlocked)
        assert outcome.card.last_four == "9090"

    async def test_blocking_a_blocked_card_succeeds_and_says_so(
        self, bank: Bank
    ) -> None:
        credentials = await signed_in(bank)
        await bank.use_cases.report_lost_card(credentials, "5511", KEY)

        again = await bank.use_cases.report_lost_card(credentials, "5511", OTHER_KEY)

        assert isinstance(again, CardBlocked)
        assert again.already_blocked
        assert card_status(bank, "5511") is CardStatus.BLOCKED

    async def test_the_same_key_blocks_once(self, bank: Bank) -> None:
        credentials = await signed_in(bank)

        first = await bank.use_cases.report_lost_card(credentials, "5511", KEY)
        again = await bank.use_cases.report_lost_card(credentials, "5511", KEY)

        assert len(bank.gateway.writes) == 1
        assert isinstance(first, CardBlocked)
        assert isinstance(again, CardBlocked)
        assert again.case_reference == first.case_reference

    async def test_a_repeated_key_gets_the_first_answer(self, bank: Bank) -> None:
        # A retried fulfilment must not tell the caller the card "was already
        # blocked" when the block they asked for is the one that did it.
        credentials = await signed_in(bank)

        first = await bank.use_cases.report_lost_card(credentials, "5511", KEY)
        again = await bank.use_cases.report_lost_card(credentials, "5511", KEY)

        assert isinstance(again, CardBlocked)
        assert again.already_blocked == first.already_blocked

    async def test_a_block_is_audited_once(self, bank: Bank) -> None:
        outcome = await bank.use_cases.report_lost_card(
            await signed_in(bank), "0019", KEY
        )

        assert bank.audit.records == [outcome]

    async def test_the_dialog_check_finds_the_card_without_blocking_it(
        self, bank: Bank
    ) -> None:
        chosen = await bank.use_cases.report_lost_card.check(
            await signed_in(bank), "0019"
        )

        assert isinstance(chosen, Card)
        assert chosen.card_id == "card-alex-credit"
        assert bank.gateway.writes == []
        assert bank.audit.records == []


class TestReportLostCardProblems:
    @pytest.mark.parametrize(
        ("said", "problem"),
        [
            ("1234", CardProblem.UNKNOWN_CARD),
            (None, CardProblem.WHICH_CARD),
            ("12", CardProblem.NOT_FOUR_DIGITS),
        ],
    )
    async def test_a_card_it_cannot_pick_is_not_blocked_and_is_audited(
        self, bank: Bank, said: str | None, problem: CardProblem
    ) -> None:
        outcome = await bank.use_cases.report_lost_card(
            await signed_in(bank), said, KEY
        )

        assert isinstance(outcome, CardNotBlocked)
        assert outcome.issue.problem is problem
        assert bank.gateway.writes == []
        assert bank.audit.records == [outcome]

    @pytest.mark.parametrize("key", ["", "short", "spaces in key", "k" * 129])
    async def test_a_bad_key_is_a_programming_error(self, bank: Bank, key: str) -> None:
        with pytest.raises(ValueError, match="idempotency key"):
            await bank.use_cases.report_lost_card(await signed_in(bank), "5511", key)

        assert bank.gateway.calls == 0

    async def test_a_failing_bank_raises_and_nothing_is_audited(
        self, bank: Bank
    ) -> None:
        credentials = await signed_in(bank)
        bank.gateway.fail_with = AccountServiceError("bank down")

        with pytest.raises(AccountServiceError):
            await bank.use_cases.report_lost_card(credentials, "5511", KEY)

        assert bank.audit.records == []


class TestReportLostCardNeedsAVerifiedCaller:
    @pytest.mark.parametrize(
        "credentials",
        [
            Credentials(None, None),
            Credentials("C-1001", ""),
            Credentials("C-1001", "v1.9999999999.forged"),
        ],
    )
    async def test_an_unverified_caller_blocks_nothing(
        self, bank: Bank, credentials: Credentials
    ) -> None:
        with pytest.raises(NotAuthenticated):
            await bank.use_cases.report_lost_card(credentials, "5511", KEY)
        with pytest.raises(NotAuthenticated):
            await bank.use_cases.report_lost_card.check(credentials, "5511")

        assert bank.gateway.calls == 0
        assert card_status(bank, "5511") is CardStatus.ACTIVE
