"""The one check every Lex V2 reply in the test suite goes through.

botocore's own parameter validator checks the reply's `sessionState` and
`messages` against the `lexv2-runtime` model (the members of PutSession's
request, which share their shapes with a code hook reply). That validator
checks types, required members and minimum lengths but not maximum lengths or
enums, so the rules Lex applies to a code hook reply on top are checked here.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable
from typing import Any

import botocore.session
from botocore.model import Shape
from botocore.validate import ParamValidator

from adapters.lex import LexDialog, LexTurn, failure_reply

DIALOG_ACTIONS = {"Close", "ConfirmIntent", "Delegate", "ElicitIntent", "ElicitSlot"}
CLOSE_STATES = {"Fulfilled", "Failed", "InProgress"}
INTENT_STATES = {
    "Failed",
    "Fulfilled",
    "FulfillmentInProgress",
    "InProgress",
    "ReadyForFulfillment",
    "Waiting",
}
CONFIRMATION_STATES = {"Confirmed", "Denied", "None"}
CONTENT_TYPES = {"CustomPayload", "ImageResponseCard", "PlainText", "SSML"}


class InvalidLexReply(AssertionError):
    """A reply Lex would refuse with "Invalid Lambda Response"."""


@functools.cache
def _put_session_request() -> Shape:
    model = botocore.session.get_session().get_service_model("lexv2-runtime")
    shape = model.operation_model("PutSession").input_shape
    assert shape is not None
    return shape


def without_nulls(value: Any) -> Any:
    """The JSON as Lex reads it: a null member is an absent member."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value if item is not None]
    return value


async def answer_turn(dialog: LexDialog, turn: LexTurn) -> dict[str, Any]:
    """What the entrypoint does with one turn, minus the event loop and the log.

    The reply, awaited when the dialog needed the bank, or the failure reply
    for what it raised; checked like every reply.
    """
    try:
        answer = dialog.respond(turn)
        reply = await answer if isinstance(answer, Awaitable) else answer
    except Exception as error:
        reply = failure_reply(turn, error)
    assert_valid_lex_reply(reply)
    return reply


def assert_valid_lex_reply(reply: dict[str, Any]) -> None:
    """Raises `InvalidLexReply` naming every rule the reply breaks."""
    if not isinstance(reply, dict):
        raise InvalidLexReply(f"a reply is a JSON object, not {type(reply)}")
    reply = without_nulls(reply)
    errors = _model_errors(reply) + _lex_rule_errors(reply)
    if errors:
        raise InvalidLexReply("\n".join(errors))


def _model_errors(reply: dict[str, Any]) -> list[str]:
    unknown = set(reply) - {"sessionState", "messages", "requestAttributes"}
    errors = [f"unknown top-level member {name!r}" for name in sorted(unknown)]
    if "sessionState" not in reply:
        errors.append("sessionState is required")
    # Placeholders for the members a code hook reply lacks, each valid for
    # the model (a bot id has exactly ten characters), so every error the
    # validator reports is about the reply itself.
    request = {
        "botId": "BOT0000001",
        "botAliasId": "A",
        "localeId": "en_US",
        "sessionId": "s1",
        "sessionState": reply.get("sessionState", {}),
    }
    if "messages" in reply:
        request["messages"] = reply["messages"]
    if "requestAttributes" in reply:
        request["requestAttributes"] = reply["requestAttributes"]
    report = ParamValidator().validate(request, _put_session_request())
    if report.has_errors():
        errors.append(report.generate_report())
    return errors


def _lex_rule_errors(reply: dict[str, Any]) -> list[str]:
    state = reply.get("sessionState")
    messages = reply.get("messages", [])
    if not isinstance(state, dict) or not isinstance(messages, list):
        return []  # the model check has reported the wrong type
    errors = _message_errors(messages)
    action = state.get("dialogAction")
    if not isinstance(action, dict):
        return [*errors, "sessionState.dialogAction is required"]
    intent = state.get("intent") if isinstance(state.get("intent"), dict) else {}
    kind = action.get("type")

    if kind not in DIALOG_ACTIONS:
        errors.append(f"dialogAction.type {kind!r} is not a code hook reply")
    if intent.get("state", "InProgress") not in INTENT_STATES:
        errors.append(f"intent.state {intent.get('state')!r} is unknown")
    if intent.get("confirmationState", "None") not in CONFIRMATION_STATES:
        errors.append("intent.confirmationState is unknown")
    if kind == "Close":
        if not intent.get("name"):
            errors.append("Close needs the intent's name")
        if intent.get("state") not in CLOSE_STATES:
            errors.append(f"Close needs a state in {sorted(CLOSE_STATES)}")
    if kind == "ElicitSlot":
        if not action.get("slotToElicit"):
            errors.append("ElicitSlot needs slotToElicit")
        if not intent.get("name"):
            errors.append("ElicitSlot needs the intent's name")
    if kind == "ConfirmIntent":
        if not intent.get("name"):
            errors.append("ConfirmIntent needs the intent's name")
        if not messages:
            errors.append("ConfirmIntent needs a message")
    if kind == "ElicitIntent" and not messages:
        errors.append("ElicitIntent needs a message")
    attributes = state.get("sessionAttributes", {})
    if isinstance(attributes, dict):
        for name, value in attributes.items():
            if not isinstance(value, str):
                errors.append(f"session attribute {name!r} is not a string")
    return errors


def _message_errors(messages: list[Any]) -> list[str]:
    errors = []
    if len(messages) > 10:
        errors.append(f"{len(messages)} messages; at most 10")
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue  # the model check has reported it
        content_type = message.get("contentType")
        if content_type not in CONTENT_TYPES:
            errors.append(f"messages[{index}].contentType {content_type!r}")
        content = message.get("content")
        if content_type in {"PlainText", "SSML", "CustomPayload"} and not content:
            errors.append(f"messages[{index}] needs content")
        if isinstance(content, str) and not 1 <= len(content) <= 1024:
            errors.append(f"messages[{index}].content has {len(content)} chars")
    return errors
