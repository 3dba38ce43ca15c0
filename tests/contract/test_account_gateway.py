"""The AccountGateway contract, held by the fake and by the HTTP adapter.

Every test runs three times: against `FakeAccountGateway`, against
`HttpAccountGateway` over the sandbox in-process (ASGI), and against the
sandbox served over real HTTP on loopback.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from banking_domain.errors import AccountServiceError, Declined, IdempotencyConflict
from banking_domain.model import Account, AccountType, Card, CardStatus, CustomerId
from banking_domain.money import Money
from banking_domain.ports import AccountGateway
from banking_domain.usecases import TransferProblem
from tests.contract.conftest import GatewayHarness
from tests.fakes import ALEX, SAM, usd

CHECKING, SAVINGS, CREDIT = (
    AccountType.CHECKING,
    AccountType.SAVINGS,
    AccountType.CREDIT,
)


async def account_of(
    gateway: AccountGateway, customer: CustomerId, kind: AccountType
) -> Account:
    accounts = await gateway.list_accounts(customer)
    return next(a for a in accounts if a.account_type is kind)


async def card_ending(gateway: AccountGateway, customer: CustomerId, last: str) -> Card:
    cards = await gateway.list_cards(customer)
    return next(c for c in cards if c.last_four == last)


def balances(accounts: list[Account]) -> set[tuple[object, ...]]:
    return {
        (a.account_type, a.last_four, a.available, a.owed, a.credit_limit)
        for a in accounts
    }


class TestVerifyCaller:
    async def test_knows_a_customer_by_phone_and_pin(self, harness: GatewayHarness):
        customer = await harness.gateway.verify_caller("+15555550100", "2468")

        assert customer is not None
        assert customer.customer_id == ALEX
        assert customer.first_name == "Alex"

    async def test_knows_the_second_demo_customer(self, harness: GatewayHarness):
        customer = await harness.gateway.verify_caller("+15555550101", "1357")

        assert customer is not None
        assert customer.customer_id == SAM

    async def test_refuses_a_wrong_pin(self, harness: GatewayHarness):
        assert await harness.gateway.verify_caller("+15555550100", "1357") is None

    async def test_refuses_an_unknown_phone_number(self, harness: GatewayHarness):
        assert await harness.gateway.verify_caller("+15555550199", "2468") is None


class TestListAccounts:
    async def test_lists_alexs_accounts_with_their_balances(
        self, harness: GatewayHarness
    ):
        accounts = await harness.gateway.list_accounts(ALEX)

        assert balances(list(accounts)) == {
            (CHECKING, "4821", usd("2450.13"), None, None),
            (SAVINGS, "7730", usd("10200.00"), None, None),
            (CREDIT, "0019", usd("4684.60"), usd("315.40"), usd("5000.00")),
        }

    async def test_lists_sams_single_checking_account(self, harness: GatewayHarness):
        accounts = await harness.gateway.list_accounts(SAM)

        assert balances(list(accounts)) == {
            (CHECKING, "1200", usd("85.00"), None, None)
        }

    async def test_gives_every_account_its_own_id(self, harness: GatewayHarness):
        accounts = await harness.gateway.list_accounts(ALEX)

        assert len({a.account_id for a in accounts}) == 3

    async def test_fails_for_an_unknown_customer(self, harness: GatewayHarness):
        with pytest.raises(AccountServiceError):
            await harness.gateway.list_accounts(CustomerId("C-9999"))


class TestListCards:
    async def test_lists_alexs_debit_and_credit_cards(self, harness: GatewayHarness):
        cards = await harness.gateway.list_cards(ALEX)

        assert {(c.last_four, c.kind, c.status) for c in cards} == {
            ("5511", "debit", CardStatus.ACTIVE),
            ("0019", "credit", CardStatus.ACTIVE),
        }

    async def test_lists_sams_debit_card(self, harness: GatewayHarness):
        cards = await harness.gateway.list_cards(SAM)

        assert [(c.last_four, c.kind, c.status) for c in cards] == [
            ("9090", "debit", CardStatus.ACTIVE)
        ]


class TestTransfer:
    async def test_moves_money_between_own_accounts(self, harness: GatewayHarness):
        gateway = harness.gateway
        checking = await account_of(gateway, ALEX, CHECKING)
        savings = await account_of(gateway, ALEX, SAVINGS)

        receipt = await gateway.transfer(
            ALEX, checking, savings, usd("100.00"), "contract-move-1"
        )

        assert receipt.transfer_id
        assert (await account_of(gateway, ALEX, CHECKING)).available == usd("2350.13")
        assert (await account_of(gateway, ALEX, SAVINGS)).available == usd("10300.00")
        assert harness.writes() == 1

    async def test_a_payment_to_the_credit_account_lowers_what_is_owed(
        self, harness: GatewayHarness
    ):
        gateway = harness.gateway
        checking = await account_of(gateway, ALEX, CHECKING)
        credit = await account_of(gateway, ALEX, CREDIT)

        await gateway.transfer(ALEX, checking, credit, usd("15.40"), "contract-pay-1")

        after = await account_of(gateway, ALEX, CREDIT)
        assert after.owed == usd("300.00")
        assert after.available == usd("4700.00")
        assert after.credit_limit == usd("5000.00")

    async def test_a_replayed_key_returns_the_same_receipt_and_moves_money_once(
        self, harness: GatewayHarness
    ):
        gateway = harness.gateway
        checking = await account_of(gateway, ALEX, CHECKING)
        savings = await account_of(gateway, ALEX, SAVINGS)

        first = await gateway.transfer(
            ALEX, checking, savings, usd("50.00"), "contract-replay-1"
        )
        again = await gateway.transfer(
            ALEX, checking, savings, usd("50.00"), "contract-replay-1"
        )

        assert again == first
        assert harness.writes() == 1
        assert (await account_of(gateway, ALEX, CHECKING)).available == usd("2400.13")

    async def test_a_key_reused_for_another_amount_is_a_conflict(
        self, harness: GatewayHarness
    ):
        gateway = harness.gateway
        checking = await account_of(gateway, ALEX, CHECKING)
        savings = await account_of(gateway, ALEX, SAVINGS)
        await gateway.transfer(ALEX, checking, savings, usd("50.00"), "contract-key-1")

        with pytest.raises(IdempotencyConflict):
            await gateway.transfer(
                ALEX, checking, savings, usd("60.00"), "contract-key-1"
            )

        assert harness.writes() == 1
        assert (await account_of(gateway, ALEX, SAVINGS)).available == usd("10250.00")

    async def test_more_than_is_available_is_declined(self, harness: GatewayHarness):
        gateway = harness.gateway
        checking = await account_of(gateway, ALEX, CHECKING)
        savings = await account_of(gateway, ALEX, SAVINGS)

        with pytest.raises(Declined) as declined:
            await gateway.transfer(
                ALEX, checking, savings, usd("2450.14"), "contract-broke-1"
            )

        assert declined.value.reason is TransferProblem.INSUFFICIENT_FUNDS
        assert (await account_of(gateway, ALEX, CHECKING)).available == usd("2450.13")

    async def test_the_whole_available_balance_may_be_moved(
        self, harness: GatewayHarness
    ):
        gateway = harness.gateway
        checking = await account_of(gateway, ALEX, CHECKING)
        savings = await account_of(gateway, ALEX, SAVINGS)

        await gateway.transfer(
            ALEX, checking, savings, usd("2450.13"), "contract-all-1"
        )

        after = await account_of(gateway, ALEX, CHECKING)
        assert after.available == Money(Decimal("0"), "USD")

    async def test_moving_money_to_the_same_account_is_declined(
        self, harness: GatewayHarness
    ):
        checking = await account_of(harness.gateway, ALEX, CHECKING)

        with pytest.raises(Declined) as declined:
            await harness.gateway.transfer(
                ALEX, checking, checking, usd("10.00"), "contract-same-1"
            )

        assert declined.value.reason is TransferProblem.SAME_ACCOUNT

    async def test_a_credit_account_cannot_pay_out(self, harness: GatewayHarness):
        credit = await account_of(harness.gateway, ALEX, CREDIT)
        checking = await account_of(harness.gateway, ALEX, CHECKING)

        with pytest.raises(Declined) as declined:
            await harness.gateway.transfer(
                ALEX, credit, checking, usd("10.00"), "contract-cc-1"
            )

        assert declined.value.reason is TransferProblem.CREDIT_AS_SOURCE


class TestBlockCard:
    async def test_blocks_the_card_and_orders_a_replacement(
        self, harness: GatewayHarness
    ):
        card = await card_ending(harness.gateway, ALEX, "5511")

        receipt = await harness.gateway.block_card(ALEX, card, "contract-block-1")

        assert receipt.case_reference
        assert not receipt.already_blocked
        assert receipt.replacement_ordered
        after = await card_ending(harness.gateway, ALEX, "5511")
        assert after.status is CardStatus.BLOCKED
        other = await card_ending(harness.gateway, ALEX, "0019")
        assert other.status is CardStatus.ACTIVE

    async def test_blocking_a_blocked_card_says_it_already_was(
        self, harness: GatewayHarness
    ):
        card = await card_ending(harness.gateway, SAM, "9090")
        await harness.gateway.block_card(SAM, card, "contract-twice-1")

        receipt = await harness.gateway.block_card(SAM, card, "contract-twice-2")

        assert receipt.already_blocked
        assert (await card_ending(harness.gateway, SAM, "9090")).status is (
            CardStatus.BLOCKED
        )

    async def test_a_replayed_key_returns_the_same_receipt_and_blocks_once(
        self, harness: GatewayHarness
    ):
        card = await card_ending(harness.gateway, ALEX, "0019")

        first = await harness.gateway.block_card(ALEX, card, "contract-again-1")
        again = await harness.gateway.block_card(ALEX, card, "contract-again-1")

        assert again == first
        assert not again.already_blocked
        assert harness.writes() == 1
