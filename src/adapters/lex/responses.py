"""The Lex V2 code hook reply: small value classes, builders and one converter.

The builders refuse, at build time, a reply Lex would answer with "Invalid
Lambda Response": a Close without an allowed state, an ElicitSlot without its
slot, a ConfirmIntent or ElicitIntent without a message, a message outside 1 to
1024 characters. `to_wire` turns a reply into the camelCase JSON Lex reads,
leaving out what is None.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs
import cattrs
from attrs import field, frozen
from cattrs.fns import identity
from cattrs.gen import make_dict_unstructure_fn, override

from adapters.speech import Speech, to_plain_text, to_ssml

CLOSE_STATES: Final = frozenset({"Fulfilled", "Failed", "InProgress"})
MAX_MESSAGE_LENGTH: Final = 1024
MAX_MESSAGES: Final = 10


@frozen
class Intent:
    name: str
    # Slot name to its value, None when empty; each filled one goes on the
    # wire as a Lex Slot object. Every builder passes a dict of its own, so
    # none is copied here.
    slots: dict[str, str | None] = field(factory=dict)
    state: str | None = None
    confirmation_state: str | None = None


@frozen
class DialogAction:
    type: str
    slot_to_elicit: str | None = None


@frozen
class Message:
    content: str
    # No default: a default would be left out of the wire form.
    content_type: str

    @classmethod
    def speak(cls, speech: Speech, voice: bool) -> Message:
        """SSML for a voice channel, plain text for a text channel."""
        if voice:
            return cls(to_ssml(speech), "SSML")
        return cls(to_plain_text(speech), "PlainText")


@frozen
class SessionState:
    dialog_action: DialogAction
    # Kept as given (often the turn's read-only map); the wire form is a copy.
    session_attributes: Mapping[str, str] = field(factory=dict)
    intent: Intent | None = None


@frozen
class LexReply:
    session_state: SessionState
    messages: tuple[Message, ...] = ()


# Built once: the actions that name no slot are the same on every reply.
_ACTIONS: Final = {
    name: DialogAction(name)
    for name in ("Close", "ConfirmIntent", "Delegate", "ElicitIntent")
}


class InvalidReply(ValueError):
    """A reply that breaks Lex's rules; always a bug in the code building it."""


def close(
    intent: Intent, state: str, attributes: Mapping[str, str], message: Message
) -> LexReply:
    if state not in CLOSE_STATES:
        raise InvalidReply(f"Close cannot carry intent state {state!r}")
    closed = attrs.evolve(intent, state=state)
    return _reply("Close", closed, attributes, (message,))


def elicit_slot(
    intent: Intent, slot: str, attributes: Mapping[str, str], message: Message
) -> LexReply:
    """Asks for `slot` again; its old value is cleared so Lex asks afresh.

    A yes given to the old value does not hold for the new one, so the
    confirmation starts over too.
    """
    if not slot:
        raise InvalidReply("ElicitSlot needs a slot name")
    slots = {**intent.slots, slot: None}
    asking = Intent(intent.name, slots, "InProgress", "None")
    action = DialogAction("ElicitSlot", slot)
    return _reply(action, asking, attributes, (message,))


def confirm_intent(
    intent: Intent, attributes: Mapping[str, str], message: Message
) -> LexReply:
    asking = attrs.evolve(intent, state="InProgress", confirmation_state="None")
    return _reply("ConfirmIntent", asking, attributes, (message,))


def delegate(intent: Intent, attributes: Mapping[str, str]) -> LexReply:
    return _reply("Delegate", intent, attributes, ())


def elicit_intent(attributes: Mapping[str, str], message: Message) -> LexReply:
    return _reply("ElicitIntent", None, attributes, (message,))


def _reply(
    action: str | DialogAction,
    intent: Intent | None,
    attributes: Mapping[str, str],
    messages: tuple[Message, ...],
) -> LexReply:
    if isinstance(action, str):
        action = _ACTIONS.get(action) or DialogAction(action)
    if intent is not None and not intent.name:
        raise InvalidReply("an intent needs a name")
    if not all(isinstance(value, str) for value in attributes.values()):
        raise InvalidReply("session attribute values must be strings")
    if len(messages) > MAX_MESSAGES:
        raise InvalidReply("at most 10 messages")
    for message in messages:
        if not 1 <= len(message.content) <= MAX_MESSAGE_LENGTH:
            raise InvalidReply("a message must hold 1 to 1024 characters")
    state = SessionState(action, attributes, intent)
    return LexReply(state, messages)


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    # First, so that the hooks generated below find them: a slot's wire shape,
    # and optional text passed through, which the generated code then inlines
    # instead of calling a hook per field.
    converter.register_unstructure_hook_func(_is_slot_map, _slots_to_wire)
    converter.register_unstructure_hook_func(_is_messages, _messages_to_wire)
    converter.register_unstructure_hook_func(_is_optional_text, identity)
    renames: dict[type, dict[str, Any]] = {
        Intent: {
            "confirmation_state": override(rename="confirmationState"),
            # Always sent, so the default need not be built to compare.
            "slots": override(omit_if_default=False),
        },
        DialogAction: {"slot_to_elicit": override(rename="slotToElicit")},
        Message: {"content_type": override(rename="contentType")},
        SessionState: {
            "dialog_action": override(rename="dialogAction"),
            # An absent map would keep the stored attributes: always send ours.
            "session_attributes": override(
                rename="sessionAttributes", omit_if_default=False
            ),
        },
        LexReply: {"session_state": override(rename="sessionState")},
    }
    for cls, overrides in renames.items():
        hook: Callable[[Any], dict[str, Any]] = make_dict_unstructure_fn(
            cls, converter, _cattrs_omit_if_default=True, **overrides
        )
        converter.register_unstructure_hook(cls, hook)
        if cls is Intent:
            # A session state's optional intent, without a generic wrapper.
            converter.register_unstructure_hook_func(
                _is_optional_intent, functools.partial(_optional, hook)
            )
    return converter


def _optional(hook: Callable[[Any], dict[str, Any]], value: Any) -> Any:
    return None if value is None else hook(value)


def _is_optional_intent(kind: Any) -> bool:
    return bool(kind == Intent | None)


def _is_optional_text(kind: Any) -> bool:
    return bool(kind == str | None)


def _is_messages(kind: Any) -> bool:
    return bool(kind == tuple[Message, ...])


def _messages_to_wire(messages: tuple[Message, ...]) -> list[dict[str, str]]:
    return [
        {"content": message.content, "contentType": message.content_type}
        for message in messages
    ]


def _is_slot_map(kind: Any) -> bool:
    return bool(kind == dict[str, str | None])


def _slots_to_wire(slots: dict[str, str | None]) -> dict[str, Any]:
    # Lex reads each slot as a full Slot object; ours are always single
    # values. One comprehension rather than cattrs' generic walk over a map.
    return {
        name: None
        if value is None
        else {"shape": "Scalar", "value": {"interpretedValue": value}}
        for name, value in slots.items()
    }


_CONVERTER: Final = _make_converter()
# Looked up once, not dispatched on every reply.
_REPLY_TO_WIRE: Final = _CONVERTER.get_unstructure_hook(LexReply)


def to_wire(reply: LexReply) -> dict[str, Any]:
    """The JSON-ready dict Lex expects, without the fields that are None."""
    wire: dict[str, Any] = _REPLY_TO_WIRE(reply)
    return wire
