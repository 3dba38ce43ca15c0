"""The Lex dialog simulator: a hand-written code hook, then the real handler."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.lex import parse_turn
from entrypoints.bootstrap import Service, build_service
from entrypoints.connect_lambda import ConnectEntrypoint
from entrypoints.demo import connect_event
from entrypoints.lex_lambda import LexEntrypoint
from entrypoints.settings import SANDBOX, Settings
from lexbot.definition import BotDefinition, load_bot_definition
from lexbot.simulator import InvalidLambdaResponse, LexSimulator, spoken_text
from tests.lex_validation import assert_valid_lex_reply


@pytest.fixture(scope="module")
def definition() -> BotDefinition:
    return load_bot_definition()


class DelegatingHook:
    """A code hook that always delegates, keeping what Lex sent; records events."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: object) -> dict[str, Any]:
        self.events.append(event)
        state = event["sessionState"]
        attributes = {**state["sessionAttributes"], "turns": str(len(self.events))}
        if event["invocationSource"] == "FulfillmentCodeHook":
            intent = {**state["intent"], "state": "Fulfilled"}
            return {
                "sessionState": {
                    "dialogAction": {"type": "Close"},
                    "intent": intent,
                    "sessionAttributes": attributes,
                },
                "messages": [{"contentType": "SSML", "content": "<speak>Done &amp; "
                              "dusted.</speak>"}],
            }  # fmt: skip
        return {
            "sessionState": {
                "dialogAction": {"type": "Delegate"},
                "intent": state["intent"],
                "sessionAttributes": attributes,
            }
        }


class TestUnderstanding:
    def test_picks_the_intent_and_fills_slots_from_one_sentence(
        self, definition: BotDefinition
    ) -> None:
        hook = DelegatingHook()
        bot = LexSimulator(definition, hook)

        result = bot.say("Move $1,250.50 from my savings account to checking")

        assert result.intent_name == "TransferFunds"
        assert result.slots == {
            "SourceAccountType": "savings",
            "TargetAccountType": "checking",
            "TransferAmount": "1250.50",
        }

    def test_resolves_synonyms_to_the_slot_type_value(
        self, definition: BotDefinition
    ) -> None:
        bot = LexSimulator(definition, DelegatingHook())

        result = bot.say("How much do I owe on my credit card?")

        assert result.slots == {"AccountType": "credit"}

    def test_resolves_spanish_synonyms_with_or_without_accents(
        self, definition: BotDefinition
    ) -> None:
        bot = LexSimulator(definition, DelegatingHook(), locale="es_US")

        result = bot.say("Cuánto debo en mi tarjeta de credito")

        assert (result.intent_name, result.slots) == (
            "CheckBalance",
            {"AccountType": "credit"},
        )

    def test_words_far_from_every_sample_are_the_fallback_intent(
        self, definition: BotDefinition
    ) -> None:
        hook = DelegatingHook()
        bot = LexSimulator(definition, hook)

        result = bot.say("What's the weather like tomorrow?")

        assert result.intent_name == "FallbackIntent"
        assert [e["invocationSource"] for e in hook.events] == ["FulfillmentCodeHook"]


class TestDialog:
    def test_asks_missing_slots_by_priority_without_calling_the_hook_to_ask(
        self, definition: BotDefinition
    ) -> None:
        hook = DelegatingHook()
        bot = LexSimulator(definition, hook)

        first = bot.say("I want to transfer money")
        second = bot.say("savings")

        assert first.messages == [
            "Which account should the money come from: checking or savings?"
        ]
        assert first.dialog_action == "ElicitSlot"
        assert second.messages == ["Which account should the money go to?"]
        assert [len(first.events), len(second.events)] == [1, 1]

    def test_asks_again_when_an_answer_holds_no_value(
        self, definition: BotDefinition
    ) -> None:
        hook = DelegatingHook()
        bot = LexSimulator(definition, hook)
        bot.say("I lost my card")

        again = bot.say("I don't remember")

        assert again.messages == ["What are the last four digits of the card you lost?"]
        assert again.events == []

    def test_asks_the_defined_confirmation_then_fulfils_on_yes(
        self, definition: BotDefinition
    ) -> None:
        hook = DelegatingHook()
        bot = LexSimulator(definition, hook)

        asked = bot.say("Block the card ending in 5511")
        done = bot.say("yeah, go ahead")

        assert asked.messages == [
            "You'd like to block the card ending in 5511. Shall I go ahead?"
        ]
        assert asked.dialog_action == "ConfirmIntent"
        assert done.messages == ["Done & dusted."]
        assert (done.dialog_action, done.intent_state) == ("Close", "Fulfilled")
        assert done.confirmation_state == "Confirmed"
        assert [e["invocationSource"] for e in done.events] == [
            "DialogCodeHook",
            "FulfillmentCodeHook",
        ]

    def test_a_no_plays_the_declination_when_the_hook_delegates(
        self, definition: BotDefinition
    ) -> None:
        bot = LexSimulator(definition, DelegatingHook(), locale="es_US")
        bot.say("Bloquea la tarjeta que termina en 5511")

        result = bot.say("no, cancela")

        assert result.messages == ["De acuerdo, lo he cancelado. No se cambió nada."]
        assert (result.dialog_action, result.intent_state) == ("Close", "Failed")

    def test_keeps_session_attributes_as_the_hook_returns_them(
        self, definition: BotDefinition
    ) -> None:
        hook = DelegatingHook()
        bot = LexSimulator(definition, hook, session_attributes={"customerId": "C-9"})
        bot.say("What's my checking balance")

        result = bot.say("What's my savings balance")

        assert result.session_attributes == {"customerId": "C-9", "turns": "4"}
        assert hook.events[-1]["sessionState"]["sessionAttributes"]["turns"] == "3"

    def test_a_reply_lex_would_refuse_raises(self, definition: BotDefinition) -> None:
        def broken(event: dict[str, Any], context: object) -> dict[str, Any]:
            return {"sessionState": {"dialogAction": {"type": "ElicitIntent"}}}

        bot = LexSimulator(definition, broken)

        with pytest.raises(InvalidLambdaResponse, match="ElicitIntent needs"):
            bot.say("hello there")


class TestEvents:
    def test_events_have_the_shape_the_adapter_reads(
        self, definition: BotDefinition
    ) -> None:
        hook = DelegatingHook()
        bot = LexSimulator(
            definition,
            hook,
            locale="es_US",
            input_mode="Speech",
            session_id="session-1",
        )

        bot.say("Quiero transferir dinero")
        turn = parse_turn(hook.events[0])

        assert turn.problems == ()
        assert (turn.session_id, turn.locale, turn.input_mode) == (
            "session-1",
            "es_US",
            "Speech",
        )
        assert turn.intent_name == "TransferFunds"
        assert turn.slots == {
            "SourceAccountType": None,
            "TargetAccountType": None,
            "TransferAmount": None,
        }

    def test_a_dialog_event_proposes_the_slot_lex_would_ask_next(
        self, definition: BotDefinition
    ) -> None:
        hook = DelegatingHook()
        bot = LexSimulator(definition, hook)

        bot.say("Transfer 20 to my savings")
        proposed = hook.events[0]["proposedNextState"]

        assert proposed["dialogAction"] == {
            "type": "ElicitSlot",
            "slotToElicit": "SourceAccountType",
        }
        slot = hook.events[0]["sessionState"]["intent"]["slots"]["TransferAmount"]
        assert slot["value"]["interpretedValue"] == "20"

    def test_ssml_is_rendered_as_the_words_a_caller_hears(self) -> None:
        ssml = '<speak>Card <say-as interpret-as="digits">5511</say-as>.</speak>'

        assert spoken_text(ssml) == "Card 5511."


# ------------------------------------------------------ the real Lex handler


@pytest.fixture
def service() -> Iterator[Service]:
    built = build_service(Settings(mode=SANDBOX))
    yield built
    built.close()


def verified(service: Service) -> dict[str, str]:
    event = connect_event(
        str(uuid.uuid4()), "+15555550100", {"operation": "VerifyCaller", "pin": "2468"}
    )
    reply = ConnectEntrypoint(service).handle(event, None)
    return {"customerId": reply["customerId"], "authToken": reply["authToken"]}


def checked(handler: Any) -> Any:
    def call(event: dict[str, Any], context: object) -> dict[str, Any]:
        reply: dict[str, Any] = handler(event, context)
        assert_valid_lex_reply(reply)
        return reply

    return call


class TestWithTheRealHandler:
    def test_a_transfer_is_confirmed_then_made(
        self, definition: BotDefinition, service: Service
    ) -> None:
        bot = LexSimulator(
            definition,
            checked(LexEntrypoint(service).handle),
            session_attributes=verified(service),
        )

        asked = bot.say("Move 250 dollars from savings to checking")
        done = bot.say("yes")

        assert asked.messages[0].startswith("You'd like to move $250.00 from your")
        assert "pendingKey" in asked.session_attributes
        assert done.messages[0].startswith("Done. $250.00 has moved")
        assert (done.dialog_action, done.intent_state) == ("Close", "Fulfilled")
        assert "pendingKey" not in done.session_attributes

    def test_an_amount_over_the_limit_is_asked_again_then_corrected(
        self, definition: BotDefinition, service: Service
    ) -> None:
        bot = LexSimulator(
            definition,
            checked(LexEntrypoint(service).handle),
            session_attributes=verified(service),
        )

        over = bot.say("Transfer $20,000 from savings to checking")
        fixed = bot.say("100")

        assert over.dialog_action == "ElicitSlot"
        assert over.slots["TransferAmount"] is None
        assert "$10,000.00" in over.messages[0]
        assert fixed.dialog_action == "ConfirmIntent"
        assert fixed.slots["TransferAmount"] == "100"

    def test_a_lost_card_is_blocked_after_choosing_it_by_voice(
        self, definition: BotDefinition, service: Service
    ) -> None:
        bot = LexSimulator(
            definition,
            checked(LexEntrypoint(service).handle),
            input_mode="Speech",
            session_attributes=verified(service),
        )

        which = bot.say("I lost my card")
        bot.say("5511")
        done = bot.say("sure")

        assert which.messages == ["Which card is lost? The one ending in 5511 or 0019?"]
        assert "<" not in done.messages[0]
        assert "5511 is now blocked" in done.messages[0]

    def test_an_unverified_caller_is_told_to_verify_first(
        self, definition: BotDefinition, service: Service
    ) -> None:
        bot = LexSimulator(definition, checked(LexEntrypoint(service).handle))

        result = bot.say("What's my checking balance")

        assert (result.dialog_action, result.intent_state) == ("Close", "Failed")
        assert result.session_attributes["authRequired"] == "true"
