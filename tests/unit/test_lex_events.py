"""Reading Lex V2 events tolerantly, and answering whatever comes in validly."""

from __future__ import annotations

import math

import pytest
from hypothesis import given

from adapters import messages
from adapters.lex import LexDialog, LexTurn, failure_reply, parse_turn
from adapters.lex.responses import (
    Intent,
    InvalidReply,
    Message,
    close,
    confirm_intent,
    delegate,
    elicit_intent,
    elicit_slot,
    to_wire,
)
from banking_domain.errors import NotAuthenticated
from tests.fakes import ALEX, fake_bank
from tests.lex_validation import answer_turn, assert_valid_lex_reply
from tests.strategies import (
    event_with,
    fuzz_settings,
    junk,
    lex_like_events,
    slot_with,
    with_token,
)

# ----------------------------------------------------------------------- tests


class TestAnyEvent:
    @fuzz_settings(300)
    @given(event=lex_like_events)
    async def test_is_read_without_raising_and_answered_validly(
        self, event: object
    ) -> None:
        bank = fake_bank()
        token = (await bank.tokens.issue(ALEX)).value
        turn = parse_turn(with_token(event, token))
        await answer_turn(LexDialog(bank.use_cases), turn)

        assert isinstance(turn, LexTurn)
        assert all(isinstance(v, str) for v in turn.session_attributes.values())

    @given(event=junk.filter(lambda value: not isinstance(value, dict)))
    def test_that_is_not_an_object_is_read_as_an_empty_turn(
        self, event: object
    ) -> None:
        turn = parse_turn(event)

        assert turn == LexTurn(problems=("event not an object",))

    def test_of_12_kb_junk_is_read_as_an_empty_turn(self) -> None:
        turn = parse_turn("x\u0000\ud800" * 4096)

        assert turn.problems == ("event not an object",)
        assert turn.slots == {}


class TestSlots:
    def test_prefer_the_interpreted_value(self) -> None:
        value = {"interpretedValue": "Savings", "resolvedValues": ["checking"]}

        turn = parse_turn(event_with({"name": "X", "slots": {"A": {"value": value}}}))

        assert turn.slots == {"A": "Savings"}

    def test_fall_back_to_the_first_resolved_value(self) -> None:
        value = {"originalValue": "sav", "resolvedValues": ["savings", "saving"]}

        turn = parse_turn(event_with({"name": "X", "slots": {"A": {"value": value}}}))

        assert turn.slots == {"A": "savings"}

    def test_of_list_shape_use_the_first_of_values_without_a_top_level_value(
        self,
    ) -> None:
        listed = {"shape": "List", "values": [slot_with("credit"), slot_with("x")]}

        turn = parse_turn(event_with({"name": "X", "slots": {"A": listed}}))

        assert turn.slots == {"A": "credit"}

    def test_of_list_shape_prefer_the_top_level_value(self) -> None:
        listed = {**slot_with("credit and savings"), "shape": "List"}
        listed["values"] = [slot_with("credit")]

        turn = parse_turn(event_with({"name": "X", "slots": {"A": listed}}))

        assert turn.slots == {"A": "credit and savings"}

    def test_null_composite_and_unusable_slots_are_unfilled(self) -> None:
        slots = {
            "Null": None,
            "Composite": {"shape": "Composite", "subSlots": {"B": slot_with("b")}},
            "Number": slot_with(12),
            "Text": "savings",
        }

        turn = parse_turn(event_with({"name": "X", "slots": slots}))

        assert turn.slots == dict.fromkeys(slots)
        assert "slot not an object" in turn.problems
        assert "slot value unusable" in turn.problems

    def test_keep_the_callers_case(self) -> None:
        slots = {"AccountType": slot_with("SAVINGS")}

        turn = parse_turn(event_with({"name": "CheckBalance", "slots": slots}))

        assert turn.slots["AccountType"] == "SAVINGS"


class TestSessionAttributes:
    def test_keep_strings_and_stringify_plain_scalars(self) -> None:
        sent = {"a": "x", "n": 3, "f": 0.5, "t": True, "nan": math.nan, "o": {}}

        turn = parse_turn(event_with(attributes=sent))

        assert turn.session_attributes == {"a": "x", "n": "3", "f": "0.5", "t": "true"}
        assert "session attribute not a string" in turn.problems
        assert "session attribute dropped" in turn.problems

    def test_problems_name_no_values(self) -> None:
        turn = parse_turn(event_with(attributes={"authToken": 123456, "pin": None}))

        assert not any("123456" in problem for problem in turn.problems)

    def test_lone_surrogates_are_replaced(self) -> None:
        turn = parse_turn(event_with(attributes={"customerId": "C-\ud800"}))

        turn.session_attributes["customerId"].encode("utf-8")
        assert "session attribute not valid unicode" in turn.problems

    def test_cannot_be_changed_after_reading(self) -> None:
        turn = parse_turn(event_with(attributes={"a": "x"}))

        with pytest.raises(TypeError):
            turn.session_attributes["a"] = "y"  # type: ignore[index]


class TestTurn:
    @pytest.mark.parametrize(
        ("mode", "voice"),
        [("Speech", True), ("DTMF", True), ("Text", False), (None, False)],
    )
    def test_is_spoken_for_speech_and_keypad(
        self, mode: str | None, voice: bool
    ) -> None:
        assert parse_turn(event_with(inputMode=mode)).voice is voice

    def test_reads_every_field(self) -> None:
        event = event_with(
            {
                "name": "TransferFunds",
                "slots": {},
                "state": "ReadyForFulfillment",
                "confirmationState": "Confirmed",
            },
            {"customerId": "C-1001"},
            invocationSource="FulfillmentCodeHook",
            inputMode="Speech",
        )
        event["sessionState"]["originatingRequestId"] = "r-1"

        turn = parse_turn(event)

        assert turn == LexTurn(
            session_id="s-1",
            invocation_source="FulfillmentCodeHook",
            input_mode="Speech",
            locale="en_US",
            intent_name="TransferFunds",
            slots={},
            confirmation_state="Confirmed",
            intent_state="ReadyForFulfillment",
            session_attributes={"customerId": "C-1001"},
            originating_request_id="r-1",
        )
        assert turn.is_fulfilment

    def test_an_unknown_confirmation_state_counts_as_none(self) -> None:
        intent = {"name": "X", "confirmationState": "Yes!"}

        turn = parse_turn(event_with(intent))

        assert turn.confirmation_state == "None"
        assert "confirmationState unknown" in turn.problems


class TestFailureReply:
    def test_for_an_unverified_caller_asks_to_verify_without_escalating(
        self,
    ) -> None:
        turn = parse_turn(event_with(attributes={"customerId": "C-1001"}))

        reply = failure_reply(turn, NotAuthenticated("no token"))

        assert_valid_lex_reply(reply)
        assert reply["sessionState"]["sessionAttributes"] == {
            "customerId": "C-1001",
            "authRequired": "true",
        }
        text = reply["messages"][0]["content"]
        assert text == messages.VERIFY_FIRST.parts[0]

    def test_for_a_bug_escalates(self) -> None:
        turn = parse_turn(event_with(inputMode="Speech"))

        reply = failure_reply(turn, KeyError("bug"))

        assert_valid_lex_reply(reply)
        assert reply["sessionState"]["sessionAttributes"]["escalate"] == "true"
        assert reply["messages"][0]["contentType"] == "SSML"


class TestReplyBuilders:
    intent = Intent("TransferFunds", {"TransferAmount": "20"}, None, "None")
    message = Message("Shall I?", "PlainText")

    def test_refuse_close_with_a_state_lex_does_not_allow(self) -> None:
        with pytest.raises(InvalidReply):
            close(self.intent, "ReadyForFulfillment", {}, self.message)

    @pytest.mark.parametrize("content", ["", "x" * 1025])
    def test_refuse_a_message_of_the_wrong_length(self, content: str) -> None:
        with pytest.raises(InvalidReply):
            confirm_intent(self.intent, {}, Message(content, "PlainText"))

    def test_refuse_an_elicit_slot_without_a_slot(self) -> None:
        with pytest.raises(InvalidReply):
            elicit_slot(self.intent, "", {}, self.message)

    def test_elicit_slot_clears_the_slot_and_the_confirmation(self) -> None:
        confirmed = Intent("TransferFunds", {"TransferAmount": "20"}, None, "Confirmed")

        wire = to_wire(elicit_slot(confirmed, "TransferAmount", {}, self.message))

        assert wire["sessionState"]["intent"] == {
            "name": "TransferFunds",
            "slots": {"TransferAmount": None},
            "state": "InProgress",
            "confirmationState": "None",
        }

    def test_write_camel_case_and_leave_out_what_is_none(self) -> None:
        wire = to_wire(delegate(Intent("CheckBalance"), {"a": "b"}))

        assert wire == {
            "sessionState": {
                "dialogAction": {"type": "Delegate"},
                "sessionAttributes": {"a": "b"},
                # The slot map is always sent, empty or not.
                "intent": {"name": "CheckBalance", "slots": {}},
            }
        }

    def test_always_send_the_session_attributes_even_when_empty(self) -> None:
        wire = to_wire(elicit_intent({}, self.message))

        assert wire["sessionState"]["sessionAttributes"] == {}
        assert wire["messages"] == [{"content": "Shall I?", "contentType": "PlainText"}]
