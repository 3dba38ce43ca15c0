"""The bot definition reads cleanly and agrees with the Lex adapter's intents."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.lex.dialog import (
    FALLBACK_INTENT,
    BalanceIntent,
    LostCardIntent,
    TransferIntent,
    intent_handlers,
)
from lexbot.definition import (
    BUILT_IN_SLOT_TYPES,
    BotDefinition,
    DefinitionError,
    load_bot_definition,
)

LOCALES = ("en_US", "es_US")


def handled_slots() -> dict[str, set[str]]:
    """Every intent the adapter answers and the slots its handler reads."""
    return {
        "CheckBalance": {BalanceIntent.SLOT},
        "TransferFunds": set(TransferIntent.slots),
        "ReportLostCard": {LostCardIntent.SLOT},
        FALLBACK_INTENT: set(),
    }


def adapter_intents() -> set[str]:
    class UseCasesStub:
        check_balance = transfer_funds = report_lost_card = object()

    return set(intent_handlers(UseCasesStub(), lambda: "key"))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def definition() -> BotDefinition:
    return load_bot_definition()


class TestTheDefinitionAndTheCodeAgree:
    def test_the_slot_table_covers_every_intent_the_adapter_routes(self) -> None:
        assert set(handled_slots()) == adapter_intents()

    @pytest.mark.parametrize("locale", LOCALES)
    def test_every_handled_intent_is_defined_and_nothing_else(
        self, definition: BotDefinition, locale: str
    ) -> None:
        defined = {intent.name for intent in definition.locale(locale).intents}

        assert defined == adapter_intents()

    @pytest.mark.parametrize("locale", LOCALES)
    def test_every_intent_has_exactly_the_slots_its_handler_reads(
        self, definition: BotDefinition, locale: str
    ) -> None:
        for name, slots in handled_slots().items():
            intent = definition.locale(locale).intent(name)
            assert intent is not None
            assert {slot.name for slot in intent.slots} == slots, name

    @pytest.mark.parametrize("locale", LOCALES)
    def test_every_slot_type_used_is_defined_or_built_in(
        self, definition: BotDefinition, locale: str
    ) -> None:
        bot = definition.locale(locale)
        defined = {kind.name for kind in bot.slot_types}
        used = {slot.slot_type_name for i in bot.intents for slot in i.slots}

        assert used <= defined | BUILT_IN_SLOT_TYPES

    def test_both_locales_have_the_same_intents_slots_and_types(
        self, definition: BotDefinition
    ) -> None:
        def shape(locale: str) -> set[tuple[str, str, str, int]]:
            return {
                (i.name, s.name, s.slot_type_name, s.priority)
                for i in definition.locale(locale).intents
                for s in i.slots
            }

        assert shape("en_US") == shape("es_US")


class TestTheDefinitionReadsLikeTheBot:
    @pytest.mark.parametrize("locale", LOCALES)
    def test_each_intent_but_fallback_has_8_to_15_sample_utterances(
        self, definition: BotDefinition, locale: str
    ) -> None:
        for intent in definition.locale(locale).intents:
            if intent.is_fallback:
                assert intent.sample_utterances == ()
            else:
                assert 8 <= len(intent.sample_utterances) <= 15, intent.name

    @pytest.mark.parametrize("locale", LOCALES)
    def test_changes_of_money_or_cards_are_confirmed(
        self, definition: BotDefinition, locale: str
    ) -> None:
        bot = definition.locale(locale)
        for name in ("TransferFunds", "ReportLostCard"):
            intent = bot.intent(name)
            assert intent is not None
            assert intent.intent_confirmation_setting is not None

    @pytest.mark.parametrize("locale", LOCALES)
    def test_card_digits_are_obfuscated_and_four_digits_only(
        self, definition: BotDefinition, locale: str
    ) -> None:
        bot = definition.locale(locale)
        lost_card = bot.intent("ReportLostCard")
        assert lost_card is not None
        slot = lost_card.slot(LostCardIntent.SLOT)
        assert slot is not None
        kind = bot.slot_type(slot.slot_type_name)

        assert slot.obfuscation_setting == "DefaultObfuscation"
        assert kind is not None
        assert kind.parent_slot_type_signature == "AMAZON.AlphaNumeric"
        assert kind.regex_filter == "[0-9]{4}"

    def test_account_types_resolve_to_the_words_the_domain_reads(
        self, definition: BotDefinition
    ) -> None:
        from banking_domain.model import AccountType

        for locale in LOCALES:
            kind = definition.locale(locale).slot_type("AccountTypeValues")
            assert kind is not None
            for item in kind.values:
                assert AccountType.parse(item.value) is not None


class TestBadDefinitionsAreRefused:
    def write(self, tmp_path: Path, text: str) -> Path:
        path = tmp_path / "bot.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    def test_a_field_of_the_wrong_type_is_named_by_its_path(
        self, tmp_path: Path
    ) -> None:
        path = self.write(
            tmp_path,
            "name: B\nlocales:\n  en_US:\n    intents:\n      - name: A\n"
            "        slots:\n          - name: S\n            slotTypeName: T\n"
            "            priority: first\n"
            "            valueElicitationSetting: {prompt: Which one}\n",
        )

        with pytest.raises(
            DefinitionError, match=r"intents\[0\]\.slots\[0\]\.priority"
        ):
            load_bot_definition(path)

    def test_an_unknown_key_is_refused(self, tmp_path: Path) -> None:
        path = self.write(tmp_path, "name: B\nlocales: {}\nvoice: Joanna\n")

        with pytest.raises(DefinitionError, match="voice"):
            load_bot_definition(path)

    def test_a_placeholder_without_its_slot_is_refused(self, tmp_path: Path) -> None:
        path = self.write(
            tmp_path,
            "name: B\nlocales:\n  en_US:\n    intents:\n      - name: A\n"
            "        sampleUtterances: ['Show {Nothing}']\n",
        )

        with pytest.raises(DefinitionError, match=r"sampleUtterances\[0\]: no slot"):
            load_bot_definition(path)

    def test_an_undefined_slot_type_is_refused(self, tmp_path: Path) -> None:
        path = self.write(
            tmp_path,
            "name: B\nlocales:\n  en_US:\n    intents:\n      - name: A\n"
            "        slots:\n          - name: S\n            slotTypeName: Nope\n"
            "            priority: 1\n"
            "            valueElicitationSetting: {prompt: Which one}\n",
        )

        with pytest.raises(DefinitionError, match="unknown type Nope"):
            load_bot_definition(path)

    def test_an_unknown_locale_names_the_ones_defined(
        self, definition: BotDefinition
    ) -> None:
        with pytest.raises(DefinitionError, match="en_US, es_US"):
            definition.locale("fr_FR")
