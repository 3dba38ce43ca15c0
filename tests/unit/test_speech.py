"""Rendering speech as plain text and as SSML, in every locale."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape as xml_escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import locales, messages
from adapters.speech import (
    Digits,
    Speech,
    Spelled,
    escape,
    join_digits,
    to_plain_text,
    to_ssml,
)
from banking_domain.usecases import BalanceReported, CardIssue, CardProblem
from tests.unit.test_messages import CHECKING, TRANSFER, every_message


def say_as(ssml: str) -> list[tuple[str, str]]:
    """The ``say-as`` elements of an SSML document: (interpret-as, text)."""
    root = ET.fromstring(ssml)
    return [(e.get("interpret-as", ""), e.text or "") for e in root.iter("say-as")]


class TestPlainText:
    def test_parts_are_read_as_written(self) -> None:
        speech = Speech.of("Card ", Digits("5511"), ", case ", Spelled("C-1A"), ".")

        assert to_plain_text(speech) == "Card 5511, case C-1A."

    def test_adding_speech_puts_a_space_between(self) -> None:
        speech = Speech.of("One.") + Speech.of("Two.")

        assert to_plain_text(speech.then("!")) == "One. Two.!"


class TestSsml:
    def test_digits_are_read_one_by_one(self) -> None:
        ssml = to_ssml(Speech.of("ending in ", Digits("4821")))

        assert (
            ssml
            == '<speak>ending in <say-as interpret-as="digits">4821</say-as></speak>'
        )

    def test_references_are_spelled(self) -> None:
        assert say_as(to_ssml(Speech.of(Spelled("T-7F3A")))) == [
            ("characters", "T-7F3A")
        ]

    def test_markup_in_words_is_escaped(self) -> None:
        ssml = to_ssml(Speech.of("Tom & Jerry <3 ", Digits("1<2")))

        root = ET.fromstring(ssml)

        assert "".join(root.itertext()) == "Tom & Jerry <3 1<2"

    @pytest.mark.parametrize("locale", locales.LOCALES)
    def test_every_message_is_valid_ssml(self, locale: str) -> None:
        for speech in every_message(messages.for_locale(locale)):
            ssml = to_ssml(speech)

            root = ET.fromstring(ssml)

            assert root.tag == "speak"
            assert "".join(root.itertext()) == to_plain_text(speech)

    @pytest.mark.parametrize("locale", locales.LOCALES)
    def test_account_and_card_digits_are_read_singly_in_every_locale(
        self, locale: str
    ) -> None:
        says = messages.for_locale(locale)
        issue = CardIssue(CardProblem.UNKNOWN_CARD, ("5511", "0019"))

        confirm = say_as(to_ssml(says.confirm_transfer(TRANSFER)))
        balance = say_as(to_ssml(says.balance(BalanceReported(CHECKING))))
        cards = say_as(to_ssml(says.card_issue(issue)))

        assert confirm == [("digits", "4821"), ("digits", "7730")]
        assert balance == [("digits", "4821")]
        assert cards == [("digits", "5511"), ("digits", "0019")]

    def test_a_spanish_amount_is_said_as_money(self) -> None:
        says = messages.for_locale("es_US")

        root = ET.fromstring(to_ssml(says.balance(BalanceReported(CHECKING))))

        assert "".join(root.itertext()).endswith("saldo disponible de $2,450.13.")


class TestJoinDigits:
    @pytest.mark.parametrize(
        ("word", "choices", "said"),
        [
            ("or", ["5511"], "5511"),
            ("or", ["5511", "0019"], "5511 or 0019"),
            ("or", ["5511", "0019", "1200"], "5511, 0019 or 1200"),
            ("o", ["5511", "0019", "1200"], "5511, 0019 o 1200"),
        ],
    )
    def test_the_last_choice_follows_the_locales_word(
        self, word: str, choices: list[str], said: str
    ) -> None:
        parts = join_digits(choices, word)

        assert to_plain_text(Speech(parts)) == said
        assert [p for p in parts if isinstance(p, Digits)] == [
            Digits(c) for c in choices
        ]


class TestEscaping:
    @given(text=st.text(max_size=60))
    def test_escapes_as_the_standard_library_does(self, text: str) -> None:
        assert escape(text) == xml_escape(text)
