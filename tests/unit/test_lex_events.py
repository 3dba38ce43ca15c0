"""Reading Lex V2 events tolerantly, and answering whatever comes in validly."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import messages
from adapters.lex import LexDialog, LexTurn, failure_reply, parse_turn
from adapters.lex.responses import (
    Intent,
    InvalidReply,
    Message,
    Slot,
    close,
    confirm_intent,
    delegate,
    elicit_intent,
    elicit_slot,
    to_wire,
)
from banking_domain.errors import NotAuthenticated
from tests.fakes import ALEX, fake_bank
from tests.lex_validation import assert_valid_lex_reply

TOKEN = "{{TOKEN}}"
INTENTS = ["CheckBalance", "TransferFunds", "ReportLostCard", "FallbackIntent"]
SLOT_NAMES = [
    "AccountType",
    "SourceAccountType",
    "TargetAccountType",
    "TransferAmount",
    "CardLastFour",
]
WORDS = [
    "checking",
    "Savings",
    "CREDIT CARD",
    "pension",
    "5511",
    "0019",
    "9090",
    "12 34",
    "250.50",
    "20000",
    "10.005",
    "-5",
    "0",
    "NaN",
    "1e9999",
    "$1,200.50",
    " ",
]


def slot_with(value: object) -> dict[str, Any]:
    return {"shape": "Scalar", "value": {"interpretedValue": value}}


def event_with(
    intent: dict[str, Any] | None = None,
    attributes: object = None,
    **top: object,
) -> dict[str, Any]:
    return {
        "invocationSource": "DialogCodeHook",
        "inputMode": "Text",
        "sessionId": "s-1",
        "bot": {"localeId": "en_US"},
        "sessionState": {
            "intent": intent or {"name": "CheckBalance", "slots": {}},
            "sessionAttributes": attributes or {},
        },
        **top,
    }


# ------------------------------------------------------------------ strategies

odd_text = st.one_of(
    st.text(max_size=12),
    # Lone surrogates: valid in JSON text, not encodable as UTF-8.
    st.text(st.characters(codec=None, categories=["Cs", "Co", "Cf"]), max_size=4),
    st.sampled_from(["", " ", "\u202eevil", "\ufeff", "💸", "ß", "İ", "\x00"]),
)
junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | odd_text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3)
    ),
    max_leaves=6,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The strategy's values, or a null, or something of the wrong type."""
    return st.one_of(strategy, strategy, st.none(), junk)


slot_value = st.fixed_dictionaries(
    {},
    optional={
        "originalValue": maybe(odd_text),
        "interpretedValue": maybe(st.sampled_from(WORDS) | odd_text),
        "resolvedValues": maybe(st.lists(maybe(st.sampled_from(WORDS)), max_size=2)),
    },
)
scalar_slot = st.fixed_dictionaries(
    {},
    optional={
        "shape": maybe(st.sampled_from(["Scalar", "List", "Composite"])),
        "value": maybe(slot_value),
    },
)
slot = st.one_of(
    st.none(),
    scalar_slot,
    st.fixed_dictionaries(
        {"shape": st.just("List")},
        optional={
            "value": maybe(slot_value),
            "values": maybe(st.lists(scalar_slot, max_size=2)),
        },
    ),
    st.fixed_dictionaries(
        {"shape": st.just("Composite")},
        optional={"subSlots": maybe(st.dictionaries(odd_text, scalar_slot))},
    ),
    junk,
)
intent = st.fixed_dictionaries(
    {},
    optional={
        "name": maybe(st.sampled_from([*INTENTS, "OrderPizza"]) | odd_text),
        "slots": maybe(
            st.dictionaries(st.sampled_from(SLOT_NAMES) | odd_text, slot, max_size=4)
        ),
        "state": maybe(st.sampled_from(["InProgress", "ReadyForFulfillment", "Done"])),
        "confirmationState": maybe(
            st.sampled_from(["None", "Confirmed", "Denied", "Maybe"])
        ),
    },
)
attributes = st.dictionaries(
    st.sampled_from(["customerId", "authToken", "pendingKey", "pendingFor"]) | odd_text,
    st.sampled_from(["C-1001", "C-1002", TOKEN, "v1.1.forged"]) | junk,
    max_size=5,
)
session_state = st.fixed_dictionaries(
    {},
    optional={
        "sessionAttributes": maybe(attributes),
        "intent": maybe(intent),
        "originatingRequestId": maybe(odd_text),
        "dialogAction": junk,
        "activeContexts": junk,
    },
)
known_fields = st.fixed_dictionaries(
    {},
    optional={
        "messageVersion": maybe(st.just("1.0")),
        "invocationSource": maybe(
            st.sampled_from(["DialogCodeHook", "FulfillmentCodeHook"])
        ),
        "inputMode": maybe(st.sampled_from(["Speech", "DTMF", "Text"])),
        "sessionId": maybe(odd_text),
        "bot": maybe(st.fixed_dictionaries({}, optional={"localeId": maybe(odd_text)})),
        "sessionState": maybe(session_state),
        "interpretations": junk,
        "requestAttributes": junk,
    },
)
SLOTS_OF = {
    "CheckBalance": ["AccountType"],
    "TransferFunds": ["SourceAccountType", "TargetAccountType", "TransferAmount"],
    "ReportLostCard": ["CardLastFour"],
    "FallbackIntent": [],
    "OrderPizza": ["Topping"],
}
GOOD_WORDS = {
    "AccountType": ["checking", "savings", "credit"],
    "SourceAccountType": ["checking", "Savings"],
    "TargetAccountType": ["checking", "credit card"],
    "TransferAmount": ["25", "250.50"],
    "CardLastFour": ["5511", "0019"],
}
PATHS = [
    ("sessionId",),
    ("inputMode",),
    ("invocationSource",),
    ("bot",),
    ("sessionState",),
    ("sessionState", "intent"),
    ("sessionState", "intent", "name"),
    ("sessionState", "intent", "slots"),
    ("sessionState", "intent", "confirmationState"),
    ("sessionState", "intent", "state"),
    ("sessionState", "sessionAttributes"),
    ("sessionState", "sessionAttributes", "customerId"),
    ("sessionState", "sessionAttributes", "authToken"),
    ("sessionState", "sessionAttributes", "pendingKey"),
]
_DELETE = object()


@st.composite
def plausible_events(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed event for a known intent, with a few parts broken."""
    # Weighted towards the intents that write, with mostly good answers, so
    # that completed transfers and blocks are among the examples too.
    name = draw(st.sampled_from([*SLOTS_OF, "TransferFunds", "ReportLostCard"]))
    slots = {}
    for slot_name in SLOTS_OF[name]:
        good = st.sampled_from(GOOD_WORDS.get(slot_name, WORDS)).map(slot_with)
        odd = st.one_of(st.none(), st.sampled_from(WORDS).map(slot_with), slot)
        slots[slot_name] = draw(good if draw(st.integers(0, 9)) < 8 else odd)
    session_attributes = {"customerId": "C-1001", "authToken": TOKEN}
    session_attributes.update(draw(attributes))
    event = event_with(
        {
            "name": name,
            "slots": slots,
            "state": "InProgress",
            "confirmationState": draw(st.sampled_from(["None", "Confirmed", "Denied"])),
        },
        session_attributes,
        invocationSource=draw(
            st.sampled_from(["DialogCodeHook", "FulfillmentCodeHook"])
        ),
        inputMode=draw(st.sampled_from(["Speech", "DTMF", "Text"])),
    )
    broken = draw(st.lists(st.sampled_from(PATHS), max_size=3))
    for path in broken if draw(st.booleans()) else ():
        parent: Any = event
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            value = draw(st.one_of(st.just(_DELETE), junk))
            if value is _DELETE:
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
    event.update(draw(st.dictionaries(odd_text, junk, max_size=2)))
    return event


lex_like_events = st.one_of(
    plausible_events(),
    plausible_events(),
    st.tuples(known_fields, st.dictionaries(odd_text, junk, max_size=2)).map(
        lambda parts: {**parts[1], **parts[0]}
    ),
    junk,
)


def with_token(value: object, token: str) -> object:
    """The event with every token placeholder replaced by a real token."""
    if value == TOKEN:
        return token
    if isinstance(value, dict):
        return {k: with_token(v, token) for k, v in value.items()}
    if isinstance(value, list):
        return [with_token(item, token) for item in value]
    return value


# ----------------------------------------------------------------------- tests


class TestAnyEvent:
    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(event=lex_like_events)
    async def test_is_read_without_raising_and_answered_validly(
        self, event: object
    ) -> None:
        bank = fake_bank()
        token = (await bank.tokens.issue(ALEX)).value
        turn = parse_turn(with_token(event, token))
        try:
            reply = await LexDialog(bank.use_cases).respond(turn)
        except Exception as error:  # what the entrypoint does
            reply = failure_reply(turn, error)

        assert_valid_lex_reply(reply)
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
    intent = Intent("TransferFunds", {"TransferAmount": Slot("20")}, None, "None")
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
        confirmed = Intent(
            "TransferFunds", {"TransferAmount": Slot("20")}, None, "Confirmed"
        )

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
                "intent": {"name": "CheckBalance"},
            }
        }

    def test_always_send_the_session_attributes_even_when_empty(self) -> None:
        wire = to_wire(elicit_intent({}, self.message))

        assert wire["sessionState"]["sessionAttributes"] == {}
        assert wire["messages"] == [{"content": "Shall I?", "contentType": "PlainText"}]
