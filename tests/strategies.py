"""hypothesis strategies for what Lex V2 and Amazon Connect send us, and worse.

Two families. The adapter tests' strategies (`lex_like_events`,
`connect_like_events`) vary the shape of an event around the fields the
adapters read. The handler strategies (`lex_events`, `connect_events`) start
from an event as the service really gets it (a known intent or operation,
sensible slots and parameters, often a valid token) and then break a few parts
of it: nulls, missing keys, wrong types, strings of up to 12 KB, odd unicode
(lone surrogates, right-to-left marks, emoji, full-width digits), non-string
attribute values, unknown intents, slots and parameters. Wherever an event
should carry a valid caller token it carries `TOKEN`; `with_token` puts a real
one in its place.

Example counts come from a settings profile chosen with the
``HYPOTHESIS_PROFILE`` environment variable: none (hypothesis's "default") in
``make test``, "fuzz" in ``make fuzz``. `fuzz_settings` gives a test its
count under either.
"""

from __future__ import annotations

import os
import re
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from adapters.connect import OPERATIONS
from adapters.sandbox import sensitive_values

# ------------------------------------------------------------------ profiles

FUZZ_EXAMPLES = 5000
settings.register_profile(
    "fuzz",
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Loaded here rather than in conftest.py: every module that fuzzes imports
# this one before its tests are decorated, which is when hypothesis reads it.
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


def fuzz_settings(examples: int) -> settings:
    """`examples` examples, or the active profile's count when that is more.

    No deadline (a turn's time varies with the machine), and the log
    scanner, a function-scoped fixture, spans all examples of a test.
    """
    return settings(
        max_examples=max(examples, settings.default.max_examples),
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
        ],
    )


TOKEN = "{{TOKEN}}"


def with_token(value: object, token: str) -> object:
    """The event with every token placeholder replaced by a real token."""
    if value == TOKEN:
        return token
    if isinstance(value, dict):
        return {k: with_token(v, token) for k, v in value.items()}
    if isinstance(value, list):
        return [with_token(item, token) for item in value]
    return value


# ------------------------------------------------ Lex V2, for the adapter

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


# ----------------------------------------------- Connect, for the adapter

_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
)
json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_text_or_json = st.text(max_size=24) | json_values
_parameters = st.fixed_dictionaries(
    {},
    optional={
        "operation": st.sampled_from([*OPERATIONS, "checkbalance", "", " "])
        | _text_or_json,
        "pin": st.sampled_from(["2468", "1357", "0000"]) | _text_or_json,
        "accountType": st.sampled_from(["checking", "savings", "credit"])
        | _text_or_json,
        "sourceAccountType": st.sampled_from(["checking", "savings", "credit"])
        | _text_or_json,
        "targetAccountType": st.sampled_from(["checking", "savings", "credit"])
        | _text_or_json,
        "amount": st.sampled_from(["10", "0", "-1", "1e9", "NaN", "1.005", "9,999.99"])
        | _text_or_json,
        "cardLastFour": st.sampled_from(["5511", "0019", "1", "abcd"]) | _text_or_json,
    },
)
_contact = st.fixed_dictionaries(
    {},
    optional={
        "ContactId": st.uuids().map(str) | json_values,
        "Channel": st.sampled_from(["VOICE", "CHAT", "TASK"]) | json_values,
        "CustomerEndpoint": st.none()
        | st.fixed_dictionaries(
            {},
            optional={
                "Address": st.sampled_from(["+15555550100", "+15555550101"])
                | _text_or_json
            },
        )
        | json_values,
        "Attributes": st.fixed_dictionaries(
            {},
            optional={
                "customerId": st.sampled_from(["C-1001", "C-1002"]) | _text_or_json,
                "authToken": st.just(TOKEN) | _text_or_json,
            },
        )
        | json_values,
    },
)
connect_like_events = (
    st.fixed_dictionaries(
        {"Name": st.just("ContactFlowEvent")},
        optional={
            "Details": st.fixed_dictionaries(
                {},
                optional={
                    "ContactData": _contact | json_values,
                    "Parameters": _parameters,
                },
            )
            | json_values
        },
    )
    | json_values
)


# --------------------------------------------------- text for the handlers

_SENSITIVE = sensitive_values()
_TOKEN_SHAPE = re.compile(r"v1\.\d+\.[A-Za-z0-9_-]{16,}")
MAX_HUGE = 12 * 1024


def full_width(ascii_text: str) -> str:
    """The text with its digits and dots in their full-width forms."""
    return ascii_text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789."})


ODD_PIECES = [
    "\ud800",  # lone surrogates: in JSON text, not in UTF-8
    "\udfff",
    "a\udc80b",
    "\u202e",  # right-to-left override
    "\u200f",  # right-to-left mark
    "\u202btransfer\u202c",
    "مرحبا",
    "שלום",
    "💸",
    "👩\u200d👩\u200d👧",
    "🇺🇸",
    "\ufe0f",
    full_width("125"),
    full_width("250.00"),
    full_width("5511"),
    "\x00",
    "\ufeff",
    "\u2028",
    "\r\n",
    "ß",
    "İ",
    "ﬁ",
    "e\u0301",
    "Ω",
    "'",
    '"',
    "\\",
    "<speak>",
    "&amp;",
    "]]>",
    "%s",
    "{0}",
    "${x}",
]


def harmless(text: str) -> bool:
    """Holds nothing the log scanner looks for.

    hypothesis also draws string constants from the code under test, the
    demo PIN and the development keys among them; an event carrying one in a
    field that is logged (an intent or operation name) would fail the scanner
    for the input, not for the code.
    """
    return not _TOKEN_SHAPE.search(text) and not any(s in text for s in _SENSITIVE)


def _repeated(piece: str, size: int) -> str:
    return (piece * (size // len(piece) + 1))[:size]


_small_text = st.one_of(
    st.text(max_size=16),
    st.text(st.characters(codec=None, categories=["Cs", "Cf", "Co", "Mn"]), max_size=6),
    st.sampled_from(ODD_PIECES),
    st.lists(st.sampled_from(ODD_PIECES), min_size=2, max_size=5).map("".join),
)
# Built by repetition: hypothesis cannot draw 12 KB one character at a time.
huge_text = st.builds(
    _repeated,
    st.sampled_from(ODD_PIECES) | st.text(min_size=1, max_size=8),
    st.integers(1024, MAX_HUGE),
).filter(harmless)
text = st.one_of(_small_text, _small_text, _small_text, huge_text).filter(harmless)
wrong = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3)
    ),
    max_leaves=5,
)


def often(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly `good`; otherwise odd text, a null or a value of the wrong type."""
    return st.one_of(good, good, good, good, text, st.none(), wrong)


@st.composite
def _broken(
    draw: st.DrawFn, event: dict[str, Any], paths: list[tuple[str, ...]]
) -> dict[str, Any]:
    """The event with a few parts deleted, nulled or replaced; maybe none."""
    for path in draw(st.lists(st.sampled_from(paths), max_size=3)):
        parent: Any = event
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        replacement = draw(st.one_of(st.just(_DELETE), st.none(), wrong, huge_text))
        if replacement is _DELETE:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = replacement
    event.update(draw(st.dictionaries(text, wrong, max_size=2)))
    return event


class _Fields:
    """Draws the fields of one event: good values when the event is sane."""

    def __init__(self, draw: st.DrawFn, sane: bool) -> None:
        self._draw = draw
        self.sane = sane

    def __call__(
        self, good: st.SearchStrategy[Any], odd: st.SearchStrategy[Any] | None = None
    ) -> Any:
        if self.sane:
            return self._draw(good)
        return self._draw(often(good if odd is None else good | odd))


# ------------------------------------------------ Lex V2, for the handlers

UNKNOWN_INTENTS = ["OrderPizza", "checkbalance", "Check Balance", "AMAZON.HelpIntent"]
# Sane events use the first words of each list; others any of them.
LEX_WORDS = {
    "AccountType": ["checking", "savings", "credit", "Credit Card", "pension"],
    "SourceAccountType": ["savings", "checking", "credit"],
    "TargetAccountType": ["checking", "savings", "credit card"],
    "TransferAmount": ["1", "2.50", "0.01", "25", "0", "-5", "10.005", "1e3", "NaN"],
    "CardLastFour": ["5511", "0019", "9090", "55 11", "1234"],
}
_SANE_WORDS = {
    "AccountType": 3,
    "SourceAccountType": 2,
    "TargetAccountType": 2,
    "TransferAmount": 4,
    "CardLastFour": 2,
}
LEX_PATHS = [
    *PATHS,
    ("messageVersion",),
    ("inputTranscript",),
    ("interpretations",),
    ("requestAttributes",),
    ("bot", "localeId"),
    ("sessionState", "originatingRequestId"),
    ("sessionState", "sessionAttributes", "pendingFor"),
]


def _scalar_slot(words: str) -> dict[str, Any]:
    return {
        "shape": "Scalar",
        "value": {
            "originalValue": words,
            "interpretedValue": words,
            "resolvedValues": [words],
        },
    }


def _list_slot(words: list[str]) -> dict[str, Any]:
    return {
        "shape": "List",
        "value": {"originalValue": " and ".join(words), "resolvedValues": words},
        "values": [_scalar_slot(w) for w in words],
    }


def _lex_slot(name: str, sane: bool) -> st.SearchStrategy[Any]:
    words = LEX_WORDS.get(name, WORDS)
    if sane:
        return st.sampled_from(words[: _SANE_WORDS.get(name)]).map(_scalar_slot)
    said = st.sampled_from(words) | text
    return st.one_of(
        said.map(_scalar_slot),
        said.map(_scalar_slot),
        said.map(_scalar_slot),
        st.lists(said, min_size=1, max_size=3).map(_list_slot),
        st.none(),
        slot,
        wrong,
    )


def _lex_attributes(draw: st.DrawFn, fields: _Fields) -> dict[str, Any]:
    attributes = {
        "customerId": fields(st.just("C-1001"), st.sampled_from(["C-1002", "C-9"])),
        "authToken": fields(st.just(TOKEN), st.just("v1.1.forged")),
    }
    if fields.sane:
        return attributes
    optional = {
        "pendingKey": st.uuids().map(lambda u: u.hex),
        "pendingFor": st.text("0123456789abcdef", min_size=16, max_size=16),
        "escalate": st.just("true"),
    }
    for name, values in optional.items():
        if draw(st.booleans()):
            attributes[name] = fields(values)
    # Any runtime client may write session attributes, of any JSON type.
    return {**draw(st.dictionaries(text, wrong, max_size=3)), **attributes}


@st.composite
def _lex_event(draw: st.DrawFn) -> dict[str, Any]:
    fields = _Fields(draw, sane=draw(st.booleans()))
    name = fields(
        st.sampled_from([*INTENTS, "TransferFunds", "ReportLostCard"]),
        st.sampled_from(UNKNOWN_INTENTS),
    )
    names = list(SLOTS_OF.get(name, [])) if isinstance(name, str) else []
    if not fields.sane:
        names += draw(st.lists(st.sampled_from(SLOT_NAMES) | text, max_size=2))
    slots = {slot_name: draw(_lex_slot(slot_name, fields.sane)) for slot_name in names}
    event = {
        "messageVersion": "1.0",
        "invocationSource": fields(
            st.sampled_from(["FulfillmentCodeHook", "DialogCodeHook"])
        ),
        "inputMode": fields(st.sampled_from(["Text", "Speech", "DTMF"])),
        "responseContentType": "text/plain; charset=utf-8",
        "sessionId": fields(st.uuids().map(str)),
        "inputTranscript": draw(text),
        "bot": {
            "id": "DEMOBOTID0",
            "name": "bankbot",
            "localeId": fields(st.sampled_from(["en_US", "en_GB", "es_US"])),
            "version": "DRAFT",
            "aliasId": "TSTALIASID",
            "aliasName": "TestBotAlias",
        },
        "interpretations": draw(st.lists(wrong, max_size=2)),
        "proposedNextState": draw(st.none() | wrong),
        "requestAttributes": draw(st.none() | st.dictionaries(text, wrong)),
        "sessionState": {
            "sessionAttributes": _lex_attributes(draw, fields),
            "intent": {
                "name": name,
                "slots": slots,
                "state": fields(st.sampled_from(["InProgress", "ReadyForFulfillment"])),
                "confirmationState": fields(
                    st.sampled_from(["Confirmed", "None", "Denied"]),
                    st.sampled_from(["Yes", "confirmed"]),
                ),
            },
            "originatingRequestId": draw(st.uuids().map(str)),
        },
    }
    return event if fields.sane else draw(_broken(event, LEX_PATHS))


# Lex V2 code hook events: half well formed, most others broken, a few junk.
lex_events = st.one_of(_lex_event(), _lex_event(), _lex_event(), wrong)


# ----------------------------------------------- Connect, for the handlers

DEMO_PHONES = ["+15555550100", "+15555550101", "+15555550199"]
# Sane events use the first word of each list; others any of them.
CONNECT_WORDS = {
    "pin": ["2468", "1357", "0000", "24 68", full_width("2468")],
    "accountType": ["checking", "savings", "credit", "Savings ", "pension"],
    "sourceAccountType": ["savings", "checking", "credit"],
    "targetAccountType": ["checking", "savings", "credit"],
    "amount": ["1.00", "2.5", "0.01", "0", "-1", "1e9", "NaN", "1.005", "9,999.99"],
    "cardLastFour": ["5511", "0019", "9090", "1", "abcd", full_width("5511")],
}
_SANE_CONNECT_WORDS = {
    "pin": 1,
    "accountType": 3,
    "sourceAccountType": 2,
    "targetAccountType": 2,
    "amount": 3,
    "cardLastFour": 2,
}
CONNECT_PATHS = [
    ("Name",),
    ("Details",),
    ("Details", "ContactData"),
    ("Details", "Parameters"),
    ("Details", "Parameters", "operation"),
    ("Details", "ContactData", "ContactId"),
    ("Details", "ContactData", "Channel"),
    ("Details", "ContactData", "CustomerEndpoint"),
    ("Details", "ContactData", "Attributes"),
    ("Details", "ContactData", "Attributes", "customerId"),
    ("Details", "ContactData", "Attributes", "authToken"),
]


def _connect_parameters(draw: st.DrawFn, fields: _Fields) -> dict[str, Any]:
    parameters = {
        "operation": fields(
            st.sampled_from([*OPERATIONS, "TransferFunds"]),
            st.sampled_from(["verifycaller", "TRANSFERFUNDS", "Transfer", ""]),
        )
    }
    for name, words in CONNECT_WORDS.items():
        if fields.sane:
            parameters[name] = draw(st.sampled_from(words[: _SANE_CONNECT_WORDS[name]]))
        elif draw(st.integers(0, 3)):
            parameters[name] = fields(st.sampled_from(words))
    if not fields.sane:
        # Flows may pass anything else too, of any type.
        parameters.update(draw(st.dictionaries(text, wrong, max_size=2)))
    return parameters


def _connect_attributes(draw: st.DrawFn, fields: _Fields) -> dict[str, Any]:
    attributes = {
        "customerId": fields(st.just("C-1001"), st.just("C-1002")),
        "authToken": fields(st.just(TOKEN), st.just("v1.1.forged")),
    }
    if not fields.sane:
        attributes.update(draw(st.dictionaries(text, wrong, max_size=2)))
    return attributes


@st.composite
def _connect_event(draw: st.DrawFn) -> dict[str, Any]:
    fields = _Fields(draw, sane=draw(st.booleans()))
    contact_id = fields(st.uuids().map(str))
    event = {
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {
                "Attributes": _connect_attributes(draw, fields),
                "Channel": fields(st.sampled_from(["VOICE", "CHAT", "TASK"])),
                "ContactId": contact_id,
                "CustomerEndpoint": {
                    "Address": fields(
                        st.just(DEMO_PHONES[0]), st.sampled_from(DEMO_PHONES)
                    ),
                    "Type": "TELEPHONE_NUMBER",
                },
                "InitialContactId": contact_id,
                "InitiationMethod": "INBOUND",
                "InstanceARN": draw(text),
                "LanguageCode": "en-US",
                "MediaStreams": draw(wrong),
                "Queue": draw(st.none() | wrong),
                "SystemEndpoint": draw(st.none() | wrong),
            },
            "Parameters": _connect_parameters(draw, fields),
        },
    }
    return event if fields.sane else draw(_broken(event, CONNECT_PATHS))


# Connect invocation events: half well formed, most others broken, a few junk.
connect_events = st.one_of(_connect_event(), _connect_event(), _connect_event(), wrong)
