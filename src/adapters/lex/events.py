"""The Lex V2 code hook event, read tolerantly into a `LexTurn`.

Lex adds fields without changing ``messageVersion``, Connect sends explicit
nulls, and any runtime client can write session attributes, so nothing in the
event is trusted to have the documented shape. `parse_turn` never raises: what
it cannot use it leaves out and names in `LexTurn.problems` (short words, never
values) for the log.

This parse is plain checks rather than cattrs on purpose: cattrs fails the
whole structure on one odd field, and one odd field must not cost the event.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from attrs import field, frozen

DIALOG: Final = "DialogCodeHook"
FULFILMENT: Final = "FulfillmentCodeHook"
CONFIRMATION_STATES: Final = frozenset({"None", "Confirmed", "Denied"})
INTENT_STATES: Final = frozenset(
    {
        "Failed",
        "Fulfilled",
        "FulfillmentInProgress",
        "InProgress",
        "ReadyForFulfillment",
        "Waiting",
    }
)
_VOICE_MODES: Final = frozenset({"Speech", "DTMF"})
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    # A read-only view is kept as it is: `parse_turn` wraps the dicts it has
    # just built, which nothing else holds.
    if type(value) is MappingProxyType:
        return value
    return MappingProxyType(dict(value))


@frozen
class LexTurn:
    """One code hook invocation, as much of it as could be read."""

    session_id: str = ""
    invocation_source: str | None = None
    input_mode: str | None = None
    locale: str | None = None
    intent_name: str | None = None
    # Slot name to its value as the caller gave it; None when not filled.
    slots: Mapping[str, str | None] = field(default=_EMPTY, converter=_frozen_map)
    confirmation_state: str = "None"
    intent_state: str | None = None
    session_attributes: Mapping[str, str] = field(default=_EMPTY, converter=_frozen_map)
    originating_request_id: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def voice(self) -> bool:
        """Whether the caller spoke or keyed digits, so the reply is spoken."""
        return self.input_mode in _VOICE_MODES

    @property
    def is_fulfilment(self) -> bool:
        # Anything but a fulfilment call is treated as a dialog call, which
        # never changes anything.
        return self.invocation_source == FULFILMENT


def parse_turn(event: object) -> LexTurn:
    """Reads what can be read from a Lex V2 event; never raises."""
    problems: list[str] = []
    root = _object(event)
    if root is None:
        return LexTurn(problems=("event not an object",))

    state = _mapping(root.get("sessionState"), "sessionState", problems)
    intent = _mapping(state.get("intent"), "intent", problems)
    bot = _mapping(root.get("bot"), "bot", problems)

    return LexTurn(
        session_id=_text(root.get("sessionId"), "sessionId", problems) or "",
        invocation_source=_text(
            root.get("invocationSource"), "invocationSource", problems
        ),
        input_mode=_text(root.get("inputMode"), "inputMode", problems),
        locale=_text(bot.get("localeId"), "localeId", problems),
        intent_name=_text(intent.get("name"), "intent name", problems),
        slots=MappingProxyType(_slots(intent.get("slots"), problems)),
        confirmation_state=_confirmation(intent.get("confirmationState"), problems),
        intent_state=_intent_state(intent.get("state"), problems),
        session_attributes=MappingProxyType(
            _attributes(state.get("sessionAttributes"), problems)
        ),
        originating_request_id=_optional_text(
            state.get("originatingRequestId"), "originatingRequestId", problems
        ),
        problems=tuple(dict.fromkeys(problems)) if problems else (),
    )


def _object(value: object) -> Mapping[str, Any] | None:
    # Lambda hands over plain dicts; the ABC check is for anything else and
    # costs ten times as much.
    if type(value) is dict or isinstance(value, Mapping):
        return value
    return None


def _mapping(value: object, what: str, problems: list[str]) -> Mapping[str, Any]:
    found = _object(value)
    if found is not None:
        return found
    problems.append(f"{what} missing" if value is None else f"{what} not an object")
    return _EMPTY


def _text(value: object, what: str, problems: list[str]) -> str | None:
    """A non-empty string, or None with the reason noted."""
    if value is None:
        problems.append(f"{what} missing")
        return None
    if not isinstance(value, str):
        problems.append(f"{what} not a string")
        return None
    if not value:
        problems.append(f"{what} empty")
        return None
    return value if value.isascii() else _clean(value, what, problems)


def _optional_text(value: object, what: str, problems: list[str]) -> str | None:
    return None if value is None else _text(value, what, problems)


def _clean(value: str, what: str, problems: list[str]) -> str:
    # JSON allows lone surrogates, which cannot be encoded as UTF-8 again:
    # hashing or replying with them would fail later, far from the cause.
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        problems.append(f"{what} not valid unicode")
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def _confirmation(value: object, problems: list[str]) -> str:
    if value is None:
        return "None"
    if isinstance(value, str) and value in CONFIRMATION_STATES:
        return value
    problems.append("confirmationState unknown")
    return "None"


def _intent_state(value: object, problems: list[str]) -> str | None:
    if value is None or (isinstance(value, str) and value in INTENT_STATES):
        return value
    problems.append("intent state unknown")
    return None


def _attributes(value: object, problems: list[str]) -> dict[str, str]:
    """String to string only; other values are stringified when plainly scalar."""
    if value is None:
        return {}
    attributes = _object(value)
    if attributes is None:
        problems.append("sessionAttributes not an object")
        return {}
    kept: dict[str, str] = {}
    for key, raw in attributes.items():
        plain = type(key) is str and type(raw) is str and key.isascii()
        if plain and key and raw.isascii():  # the common case: nothing to clean
            kept[key] = raw
            continue
        if not isinstance(key, str) or not key:
            problems.append("session attribute name unusable")
            continue
        name = _clean(key, "session attribute name", problems)
        if isinstance(raw, str):
            kept[name] = _clean(raw, "session attribute", problems)
        elif isinstance(raw, bool):
            # JSON's true/false; Lex itself would have sent "true"/"false".
            problems.append("session attribute not a string")
            kept[name] = "true" if raw else "false"
        elif isinstance(raw, int | float) and math.isfinite(raw):
            problems.append("session attribute not a string")
            kept[name] = str(raw)
        else:
            problems.append("session attribute dropped")
    return kept


def _slots(value: object, problems: list[str]) -> dict[str, str | None]:
    if value is None:
        return {}
    given = _object(value)
    if given is None:
        problems.append("slots not an object")
        return {}
    slots: dict[str, str | None] = {}
    for name, slot in given.items():
        if not isinstance(name, str) or not name:
            problems.append("slot name unusable")
            continue
        slots[_clean(name, "slot name", problems)] = _slot_value(slot, problems)
    return slots


def _slot_value(slot: object, problems: list[str]) -> str | None:
    """interpretedValue, else the first resolved value; List slots use `values`."""
    if slot is None:
        return None
    filled = _object(slot)
    if filled is None:
        problems.append("slot not an object")
        return None
    found = _value_of(filled.get("value"), problems)
    if found is None and filled.get("shape") == "List":
        items = filled.get("values")
        first = _object(items[0]) if isinstance(items, list) and items else None
        if first is not None:
            found = _value_of(first.get("value"), problems)
    return found


def _value_of(value: object, problems: list[str]) -> str | None:
    if value is None:
        return None
    given = _object(value)
    if given is None:
        problems.append("slot value not an object")
        return None
    interpreted = given.get("interpretedValue")
    if isinstance(interpreted, str) and interpreted:
        return _clean(interpreted, "slot value", problems)
    resolved = given.get("resolvedValues")
    if isinstance(resolved, list) and resolved:
        first = resolved[0]
        if isinstance(first, str) and first:
            return _clean(first, "slot value", problems)
    if interpreted is not None:
        problems.append("slot value unusable")
    return None
