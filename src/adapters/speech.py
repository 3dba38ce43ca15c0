"""What the bot says, kept as parts so voice and text channels can each read it.

A `Speech` is a sequence of plain words, digits to read one by one, references
to spell and amounts of money. Text channels get plain text; voice gets SSML in
which digits are read singly and amounts as money.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape

from attrs import frozen

from banking_domain.money import MINOR_UNITS, Money

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


@frozen
class Digits:
    """Account or card digits, read one at a time on voice."""

    digits: str


@frozen
class Spelled:
    """A reference such as ``T-7F3A``, spelled out character by character."""

    text: str


Part = str | Digits | Spelled | Money


@frozen
class Speech:
    parts: tuple[Part, ...]

    @classmethod
    def of(cls, *parts: Part) -> Speech:
        return cls(tuple(parts))

    def __add__(self, other: Speech) -> Speech:
        """The two joined by a space."""
        return Speech((*self.parts, " ", *other.parts))

    def then(self, *parts: Part) -> Speech:
        """These parts appended with no space between."""
        return Speech((*self.parts, *parts))


def money_text(money: Money) -> str:
    """``$2,450.13`` for currencies with a symbol, ``1,000 JPY`` otherwise."""
    number = f"{money.amount:,.{MINOR_UNITS[money.currency]}f}"
    symbol = _SYMBOLS.get(money.currency)
    if money.amount < 0:
        number = number.removeprefix("-")
        return f"-{symbol}{number}" if symbol else f"-{number} {money.currency}"
    return f"{symbol}{number}" if symbol else f"{number} {money.currency}"


def join_digits(choices: Iterable[str]) -> tuple[Part, ...]:
    """``5511 or 0019`` as parts, each number read as digits."""
    items = list(choices)
    parts: list[Part] = []
    for index, item in enumerate(items):
        if index:
            parts.append(" or " if index == len(items) - 1 else ", ")
        parts.append(Digits(item))
    return tuple(parts)


def to_plain_text(speech: Speech) -> str:
    return "".join(_plain(part) for part in speech.parts)


def to_ssml(speech: Speech) -> str:
    return "<speak>" + "".join(_ssml(part) for part in speech.parts) + "</speak>"


def _plain(part: Part) -> str:
    if isinstance(part, Digits):
        return part.digits
    if isinstance(part, Spelled):
        return part.text
    if isinstance(part, Money):
        return money_text(part)
    return part


def _ssml(part: Part) -> str:
    if isinstance(part, Digits):
        return f'<say-as interpret-as="digits">{escape(part.digits)}</say-as>'
    if isinstance(part, Spelled):
        return f'<say-as interpret-as="characters">{escape(part.text)}</say-as>'
    if isinstance(part, Money):
        return escape(money_text(part))
    return escape(part)
