"""The yardstick for the Lex handler's own overhead: the same turn, on bare dicts.

`plain_handler` answers the dialog turns that need no account API call
(CheckBalance's slot check, FallbackIntent's help) the way a careful
hand-written Lambda would: no classes, no converter, no event loop. It makes
the checks bankbot's handler makes on such a turn, so that the ratio between
the two measures what the models and layers cost, not what the checks cost:

- every field the tolerant parse reads is type-checked, text is checked to be
  valid Unicode, session attributes are kept string to string, and what is
  wrong is noted as a problem for the log line;
- the slot's words are looked up among the account type's words;
- the reply echoes the intent and its slots in Lex's wire shape, with the
  same message text, SSML for a voice caller, and is checked against the
  rules bankbot's reply builders enforce (an intent name, string attributes,
  one to ten messages of 1 to 1024 characters);
- one JSON log line with the same fields goes through `logging`, the values a
  caller could have written passed through the same scrubber.

Its texts are read once from the English catalogue, as constants would be.
It scrubs with bankbot's `scrub`, writes the time of the line with
bankbot's own helper and rounds the duration the same cheap way, so that
neither side wins on a primitive. What it does not have is what is being
measured: the turn and reply classes, the converter, the intent table, the
log context and the generic formatter that judges every field.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from typing import Any, TextIO

from adapters import messages
from adapters.lex.events import CONFIRMATION_STATES, INTENT_STATES
from adapters.logging import _timestamp, scrub
from adapters.speech import Speech, to_plain_text, to_ssml
from banking_domain.usecases import BalanceNotReported, BalanceProblem

Event = dict[str, Any]

LOGGER = "bench.plain"
_RECORD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "taskName"}
# The fields whose values came from the event, which the caller could have
# written; the handler's own (outcome, duration...) need no scrubbing.
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_CALLER_WRITTEN = ("conversation_id", "customer_id", "intent", "invocation_source")
_ACCOUNT_WORDS = frozenset(
    {"checking", "chequing", "current", "savings", "saving", "credit", "credit card"}
)


def _both(speech: Speech) -> dict[bool, dict[str, str]]:
    return {
        False: {"contentType": "PlainText", "content": to_plain_text(speech)},
        True: {"contentType": "SSML", "content": to_ssml(speech)},
    }


_SAYS = messages.for_locale("en_US")
_NOT_UNDERSTOOD = _both(_SAYS.not_understood)
_UNKNOWN_ACCOUNT = _both(
    _SAYS.balance_problem(BalanceNotReported(BalanceProblem.UNKNOWN_ACCOUNT_TYPE))
)


class PlainFormatter(logging.Formatter):
    """The record's fields as one JSON object, caller-written values scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "timestamp": _timestamp(record.created),
            "message": record.getMessage(),
            "service": "plain",
            "logger": record.name,
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD:
                line[key] = value
        for key in _CALLER_WRITTEN:
            value = line.get(key)
            # The scrubber keeps a UUID (a contact id) whole anyway.
            if isinstance(value, str) and not _UUID.fullmatch(value):
                line[key] = scrub(value)
        return json.dumps(line, separators=(",", ":"))


def plain_logger(stream: TextIO) -> logging.Logger:
    logger = logging.getLogger(LOGGER)
    logger.handlers.clear()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PlainFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def _text(value: object, what: str, problems: list[str]) -> str | None:
    if not isinstance(value, str) or not value:
        problems.append(f"{what} missing or not a string")
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        problems.append(f"{what} not valid unicode")
        return None
    return value


def _object(value: object, what: str, problems: list[str]) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    problems.append(f"{what} not an object")
    return {}


def _slot(slot: object, problems: list[str]) -> str | None:
    if slot is None:
        return None
    value = _object(slot, "slot", problems).get("value")
    if value is None:
        return None
    value = _object(value, "slot value", problems)
    words = value.get("interpretedValue")
    if words is None:
        resolved = value.get("resolvedValues")
        words = resolved[0] if isinstance(resolved, list) and resolved else None
    return _text(words, "slot value", problems)


def _attributes(value: object, problems: list[str]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for key, raw in _object(value or {}, "sessionAttributes", problems).items():
        if _text(key, "attribute name", problems) is None:
            continue
        if isinstance(raw, str):
            if _text(raw or " ", "attribute", problems) is not None:
                kept[key] = raw
        elif isinstance(raw, bool):
            kept[key] = "true" if raw else "false"
        elif isinstance(raw, int | float) and math.isfinite(raw):
            kept[key] = str(raw)
        else:
            problems.append("session attribute dropped")
    return kept


def _check_reply(
    intent: dict[str, Any], attributes: dict[str, str], said: list[dict[str, str]]
) -> None:
    if intent and not intent.get("name"):
        raise ValueError("an intent needs a name")
    if not all(isinstance(value, str) for value in attributes.values()):
        raise ValueError("session attribute values must be strings")
    if len(said) > 10:
        raise ValueError("at most 10 messages")
    for message in said:
        if not 1 <= len(message["content"]) <= 1024:
            raise ValueError("a message must hold 1 to 1024 characters")


def plain_handler(event: Any, context: object, log: logging.Logger) -> Event:
    """A no-API dialog turn answered on bare dicts, with bankbot's checks."""
    started = time.perf_counter()
    problems: list[str] = []
    event = _object(event, "event", problems)
    state = _object(event.get("sessionState"), "sessionState", problems)
    intent = _object(state.get("intent"), "intent", problems)
    bot = _object(event.get("bot"), "bot", problems)
    session_id = _text(event.get("sessionId"), "sessionId", problems) or ""
    source = _text(event.get("invocationSource"), "invocationSource", problems)
    mode = _text(event.get("inputMode"), "inputMode", problems)
    _text(bot.get("localeId"), "localeId", problems)
    name = _text(intent.get("name"), "intent name", problems)
    slots = {
        slot_name: _slot(slot, problems)
        for slot_name, slot in _object(
            intent.get("slots") or {}, "slots", problems
        ).items()
        if _text(slot_name, "slot name", problems) is not None
    }
    confirmation = intent.get("confirmationState") or "None"
    if confirmation not in CONFIRMATION_STATES:
        problems.append("confirmationState unknown")
        confirmation = "None"
    intent_state = intent.get("state")
    if intent_state is not None and intent_state not in INTENT_STATES:
        problems.append("intent state unknown")
        intent_state = None
    attributes = _attributes(state.get("sessionAttributes"), problems)
    voice = mode in ("Speech", "DTMF")

    echo = {
        "name": name or "FallbackIntent",
        "slots": {
            slot_name: None
            if words is None
            else {"shape": "Scalar", "value": {"interpretedValue": words}}
            for slot_name, words in slots.items()
        },
        "state": intent_state,
        "confirmationState": confirmation,
    }
    words = slots.get("AccountType")
    if name == "CheckBalance" and source != "FulfillmentCodeHook":
        if words is None or words.strip().lower() in _ACCOUNT_WORDS:
            action: dict[str, Any] = {"type": "Delegate"}
            said = []
        else:
            action = {"type": "ElicitSlot", "slotToElicit": "AccountType"}
            echo["slots"]["AccountType"] = None
            echo["state"], echo["confirmationState"] = "InProgress", "None"
            said = [_UNKNOWN_ACCOUNT[voice]]
    else:
        action, echo, said = {"type": "ElicitIntent"}, {}, [_NOT_UNDERSTOOD[voice]]
    session: dict[str, Any] = {"dialogAction": action, "sessionAttributes": attributes}
    if echo:
        session["intent"] = {k: v for k, v in echo.items() if v is not None}
    reply = {"sessionState": session, "messages": said}
    _check_reply(echo, attributes, said)

    fields: dict[str, Any] = {
        "request_id": getattr(context, "aws_request_id", "local"),
        "conversation_id": session_id,
        "intent": name,
        "invocation_source": source,
        "customer_id": attributes.get("customerId"),
        "outcome": f"{action['type']}:{(echo or {}).get('state') or '-'}",
        "escalated": False,
        "duration_ms": round((time.perf_counter() - started) * 10_000) / 10,
    }
    if problems:
        fields["malformed"] = problems
    log.info("turn handled", extra=fields)
    return reply
