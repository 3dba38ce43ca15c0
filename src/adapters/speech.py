"""What the bot says, kept as parts so voice and text channels can each read it.

A `Speech` is a sequence of words, digits to read one by one and references to
spell. Text channels get plain text; voice gets SSML in which digits and
references are read character by character, in any locale. Words arrive here
already in the caller's language, amounts and dates already written out the
locale's way (see `adapters.locales`), so rendering needs no locale.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from attrs import frozen


@frozen
class Digits:
    """Account or card digits, read one at a time on voice."""

    digits: str


@frozen
class Spelled:
    """A reference such as ``T-7F3A``, spelled out character by character."""

    text: str


Part = str | Digits | Spelled


@frozen
class Speech:
    parts: tuple[Part, ...]

    # Rendered once per object: the fixed sentences (help, prompts) are built
    # once per locale and then spoken on turn after turn.
    @functools.cached_property
    def plain_text(self) -> str:
        return "".join(_plain(part) for part in self.parts)

    @functools.cached_property
    def ssml(self) -> str:
        return "<speak>" + "".join(_ssml(part) for part in self.parts) + "</speak>"

    @classmethod
    def of(cls, *parts: Part) -> Speech:
        return cls(tuple(parts))

    def __add__(self, other: Speech) -> Speech:
        """The two joined by a space."""
        return Speech((*self.parts, " ", *other.parts))

    def then(self, *parts: Part) -> Speech:
        """These parts appended with no space between."""
        return Speech((*self.parts, *parts))


def join_digits(choices: Iterable[str], last: str = "or") -> tuple[Part, ...]:
    """``5511, 1200 or 0019`` as parts, each number read as digits.

    `last` is the locale's word before the final choice.
    """
    items = list(choices)
    parts: list[Part] = []
    for index, item in enumerate(items):
        if index:
            parts.append(f" {last} " if index == len(items) - 1 else ", ")
        parts.append(Digits(item))
    return tuple(parts)


def to_plain_text(speech: Speech) -> str:
    return speech.plain_text


def to_ssml(speech: Speech) -> str:
    return speech.ssml


def _plain(part: Part) -> str:
    if isinstance(part, Digits):
        return part.digits
    if isinstance(part, Spelled):
        return part.text
    return part


# The three characters SSML text cannot hold as they are. A table, not
# xml.sax.saxutils: that brings five modules to every cold start for this.
_SSML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    return text.translate(_SSML_TEXT)


def _ssml(part: Part) -> str:
    if isinstance(part, Digits):
        return f'<say-as interpret-as="digits">{escape(part.digits)}</say-as>'
    if isinstance(part, Spelled):
        return f'<say-as interpret-as="characters">{escape(part.text)}</say-as>'
    return escape(part)
