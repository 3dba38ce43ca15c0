"""Message catalogues: one TOML file per locale beside this module.

A catalogue holds what the bot says (``[messages]`` and ``[accounts]``: each
text a key, its variable parts ``{placeholders}``) and how the locale writes
amounts and dates (``[format]``: separators, currency symbols and patterns,
month names). All the locale knowledge is that data: there is no Babel or CLDR
database at run time, which would cost package size and cold start on Lambda.
The format rules cover only what the bot says: an amount with a symbol or a
currency code, thousands grouped by three, a date with the month's name.

A catalogue is read the first time its locale is asked for and kept for the
life of the execution environment; `tomllib` is in the standard library. A
locale the bot does not speak gets `DEFAULT`.
"""

from __future__ import annotations

import datetime
import functools
import string
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Final

from attrs import field, frozen

from adapters.speech import Digits, Part, Speech, Spelled
from banking_domain.money import MINOR_UNITS, Money

DEFAULT: Final = "en_US"
LOCALES: Final = ("en_US", "es_US")
_BY_FOLDED_NAME: Final = {name.casefold(): name for name in LOCALES}

# What a placeholder may be filled with.
Value = str | int | Digits | Spelled | Speech | Money | datetime.date


def locale_id(raw: str | None) -> str:
    """The catalogue for Lex's ``es_US`` or Connect's ``es-US``; else `DEFAULT`."""
    if raw is None:
        return DEFAULT
    return _BY_FOLDED_NAME.get(raw.strip().replace("-", "_").casefold(), DEFAULT)


def _frozen_texts(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@frozen
class Formats:
    """How one locale writes amounts and dates."""

    decimal: str
    group: str
    # ``{sign}``, ``{symbol}`` or ``{code}``, and ``{number}``.
    with_symbol: str
    with_code: str
    minus: str
    symbols: Mapping[str, str] = field(converter=_frozen_texts)
    # ``{day}``, ``{month}`` (a name from `months`) and ``{year}``.
    date_pattern: str
    months: tuple[str, ...] = field(converter=tuple)

    def money(self, money: Money) -> str:
        """``$2,450.13``; ``1,000 JPY`` for a currency without a symbol."""
        places = MINOR_UNITS[money.currency]
        digits = f"{abs(money.amount):,.{places}f}"
        number = digits.translate({ord(","): self.group, ord("."): self.decimal})
        sign = self.minus if money.amount < 0 else ""
        symbol = self.symbols.get(money.currency)
        if symbol is None:
            return self.with_code.format(sign=sign, number=number, code=money.currency)
        return self.with_symbol.format(sign=sign, number=number, symbol=symbol)

    def date(self, day: datetime.date) -> str:
        """``March 5, 2025`` or ``5 de marzo de 2025``."""
        month = self.months[day.month - 1]
        return self.date_pattern.format(day=day.day, month=month, year=day.year)


@frozen
class Catalogue:
    """One locale's texts and formats, as read from its file."""

    locale: str
    texts: Mapping[str, str] = field(converter=_frozen_texts, repr=False)
    formats: Formats = field(repr=False)

    def text(self, key: str) -> str:
        return self.texts[key]

    def speech(self, key: str, **values: Value) -> Speech:
        """The text under `key` with each placeholder filled by its value.

        Amounts and dates are written the locale's way; digits, references and
        nested speech keep their parts, so voice still reads them as such.
        """
        parts: list[Part] = []
        for literal, name, _, _ in string.Formatter().parse(self.texts[key]):
            if literal:
                parts.append(literal)
            if name is not None:
                parts.extend(self._parts(values[name]))
        return Speech(tuple(parts))

    def _parts(self, value: Value) -> tuple[Part, ...]:
        if isinstance(value, Speech):
            return value.parts
        if isinstance(value, Money):
            return (self.formats.money(value),)
        if isinstance(value, datetime.date):
            return (self.formats.date(value),)
        if isinstance(value, int):
            return (str(value),)
        return (value,)


def placeholders(text: str) -> frozenset[str]:
    """The names of the ``{placeholders}`` in a catalogue text."""
    fields = string.Formatter().parse(text)
    return frozenset(name for _, name, _, _ in fields if name is not None)


def load(locale: str | None) -> Catalogue:
    """The catalogue for `locale` in any spelling, read once and kept."""
    return _read(locale_id(locale))


@functools.cache
def _read(name: str) -> Catalogue:
    import tomllib  # only when a locale is first spoken, not at cold start

    raw = resources.files(__name__).joinpath(f"{name}.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    texts = {
        f"{table}.{key}": text
        for table in ("messages", "accounts")
        for key, text in data[table].items()
    }
    shape = data["format"]
    formats = Formats(
        decimal=shape["decimal"],
        group=shape["group"],
        with_symbol=shape["with_symbol"],
        with_code=shape["with_code"],
        minus=shape["minus"],
        symbols=shape["symbols"],
        date_pattern=shape["date"],
        months=shape["months"],
    )
    return Catalogue(name, texts, formats)
