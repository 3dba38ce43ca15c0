"""Value objects of the bank as a caller sees it: customers, accounts, cards."""

from __future__ import annotations

import enum
import re

from attrs import field, frozen

from banking_domain.money import Money

_LAST_FOUR = re.compile(r"[0-9]{4}")


class AccountType(enum.Enum):
    CHECKING = "checking"
    SAVINGS = "savings"
    CREDIT = "credit"

    @classmethod
    def parse(cls, text: str | None) -> AccountType | None:
        """The account type named by free text, case-insensitively, or None."""
        if not isinstance(text, str):
            return None
        return _ACCOUNT_TYPE_WORDS.get(text.strip().lower())


_ACCOUNT_TYPE_WORDS = {
    "checking": AccountType.CHECKING,
    "chequing": AccountType.CHECKING,
    "current": AccountType.CHECKING,
    "savings": AccountType.SAVINGS,
    "saving": AccountType.SAVINGS,
    "credit": AccountType.CREDIT,
    "credit card": AccountType.CREDIT,
}


class CardStatus(enum.Enum):
    ACTIVE = "active"
    BLOCKED = "blocked"


def _four_digits(_: object, attribute: object, value: str) -> None:
    if not isinstance(value, str) or not _LAST_FOUR.fullmatch(value):
        raise ValueError(f"{attribute} must be exactly four digits")


@frozen
class CustomerId:
    value: str = field()

    @value.validator
    def _non_empty(self, _: object, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("customer id must be a non-empty string")

    def __str__(self) -> str:
        return self.value


@frozen
class Customer:
    customer_id: CustomerId
    first_name: str


@frozen
class Account:
    """One of a customer's accounts, identified to the caller by its last four."""

    account_id: str
    account_type: AccountType
    last_four: str = field(validator=_four_digits)
    available: Money
    # Credit accounts only: what the customer owes and the agreed limit.
    owed: Money | None = None
    credit_limit: Money | None = None

    @property
    def currency(self) -> str:
        return self.available.currency


@frozen
class Card:
    card_id: str
    last_four: str = field(validator=_four_digits)
    kind: str
    status: CardStatus
