"""Money: a `Decimal` amount in an ISO 4217 currency, never a float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

from attrs import field, frozen

from banking_domain.errors import InvalidMoney

# Minor units per ISO 4217 for the currencies the bank serves. An unknown
# currency is refused rather than guessed.
MINOR_UNITS: Final[dict[str, int]] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CAD": 2,
    "MXN": 2,
    "CHF": 2,
    "JPY": 0,
    "KWD": 3,
}


def _check_currency(_: object, __: object, code: str) -> None:
    if code not in MINOR_UNITS:
        raise InvalidMoney(f"unsupported currency {code!r}")


def _check_amount(instance: Money, _: object, amount: Decimal) -> None:
    if not isinstance(amount, Decimal):
        raise InvalidMoney("amount must be a Decimal")
    if not amount.is_finite():
        raise InvalidMoney("amount must be a finite number")
    if decimal_places(amount) > MINOR_UNITS.get(instance.currency, 0):
        raise InvalidMoney("too many decimal places for the currency")


@frozen(order=False)
class Money:
    """An exact amount; it may be zero or negative (a balance), see `positive`."""

    amount: Decimal = field(validator=_check_amount)
    currency: str = field(validator=_check_currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Build money from its text form, e.g. ``"2450.13"``; floats are refused."""
        if not isinstance(text, str):
            raise InvalidMoney("amount must be given as text")
        return cls(read_amount(text), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        return not self <= other

    def __ge__(self, other: Money) -> bool:
        return not self < other

    def to_text(self) -> str:
        """The amount with exactly the currency's minor units: ``"85.00"``."""
        places = MINOR_UNITS[self.currency]
        return f"{self.amount:.{places}f}"

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidMoney(f"cannot mix {self.currency} and {other.currency}")


# Commas only as thousands separators: "1,00" must not become 100.
_AMOUNT = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.[0-9]*)?")


def read_amount(text: str) -> Decimal:
    """The number in a caller's amount such as ``"$1,200.50"``, exactly.

    Words like ``NaN`` and ``Infinity`` come back as such (and `Money` refuses
    them); anything else that is not a plain number raises `InvalidMoney`.
    """
    cleaned = text.strip().removeprefix("$").strip()
    if _AMOUNT.fullmatch(cleaned) is None or not any(c.isdigit() for c in cleaned):
        try:
            special = Decimal(cleaned)
        except InvalidOperation:
            special = None
        if special is None or special.is_finite():
            raise InvalidMoney("not a number")
        return special
    return Decimal(cleaned.replace(",", ""))


def decimal_places(amount: Decimal) -> int:
    """How many digits the amount carries after the point (``2.50`` has 2)."""
    exponent = amount.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
