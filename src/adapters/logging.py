"""JSON log lines, and the audit log the use-cases report their outcomes to.

Every line is one JSON object with fixed keys (level, timestamp, message,
service, logger) followed by the fields of the current turn, bound once with
`log_context`, and the record's own `extra` fields. Before a line is written
every value goes through the scrubber: runs of five or more digits keep only
their last four, values of keys named like a secret are replaced, and
anything shaped like a caller token is hidden. That is the second line of
defence; code must still never hand a PIN, a token, a key or a full number to
a logger, and the test suite fails when it does.

`AuditLogger` implements the domain's `AuditLog` port: one INFO line with an
``audit`` marker per outcome, carrying only safe fields.
"""

from __future__ import annotations

import enum
import functools
import itertools
import json
import logging
import math
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TextIO

from banking_domain.money import Money
from banking_domain.usecases import (
    BalanceNotReported,
    BalanceReported,
    CallerRefused,
    CallerVerified,
    CardBlocked,
    CardNotBlocked,
    TransferCompleted,
    TransferRejected,
)

AUDIT_LOGGER = "bankbot.audit"
# Libraries whose DEBUG lines print request and response bodies, secrets
# read from SSM among them: they never log below WARNING.
QUIET_LIBRARIES = ("botocore", "boto3", "urllib3", "httpx", "httpcore", "s3transfer")
REDACTED = "[redacted]"

# The bound fields, and whether scrubbing would leave them all as they are:
# judged once when they are bound, not again on every line.
_Bound = tuple[Mapping[str, object], bool]
_context: ContextVar[_Bound | None] = ContextVar("bankbot_log_context", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra`.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    # Set by the AWS Lambda runtime's log filter; reported as `request_id`.
    "aws_request_id",
}
# Measurements and the bank's own references, never account or card digits.
_DIGITS_KEPT = frozenset({"duration_ms", "transfer_id", "case_reference"})

# One pass, left to right: a UUID (request and contact ids) and a time of day
# are kept whole, an amount of money keeps its digits, any other run of 5+
# digits is masked.
_DIGITS = re.compile(
    r"(?P<uuid>[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})"
    r"|(?P<time>\d{2}:\d{2}:\d{2}[.,]\d{1,9})"
    r"|(?P<amount>(?<![\d.])\d{5,9}\.\d{1,3}(?![\d.]))"
    r"|(?P<run>\d{5,})"
)
_TOKEN = re.compile(r"v1\.\d+\.[A-Za-z0-9_-]{16,}")
# `pin=2468`, `'authToken': 'v1...'`, `"x-api-key": "..."` inside free text.
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b(x-api-key|api[_-]?key|auth[_-]?token|token|pin|secret|password)"
    r"(['\"]?\s*[:=]\s*['\"]?)"
    r"([^\s'\",;}&]+)"
)
# What the three rewrites above look for, as cheap hints: nearly every logged
# value is a short word or id with none of them, and is returned as it is.
_FIVE_DIGITS = re.compile(r"\d{5}")
# ASCII digits read as "0", so that a run of five is one substring search.
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0000000000")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_UUID_LENGTH = 36
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_SECRET_WORDS = frozenset(
    {"pin", "token", "secret", "password", "passwd", "apikey", "authorization"}
)
_SECRET_PAIRS = frozenset({"apikey", "signingkey", "privatekey"})


# ------------------------------------------------------------------ scrubbing


def scrub(text: str, *, digits: bool = True) -> str:
    """The text with tokens hidden, secret assignments redacted, digits masked."""
    if not _suspect(text):
        return text
    text = _TOKEN.sub(REDACTED, text)
    text = _SECRET_ASSIGNMENT.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)
    return _DIGITS.sub(_mask_digits, text) if digits else text


def _suspect(text: str) -> bool:
    """Whether `scrub` might change `text`; False only when it surely would not."""
    return (
        "v1." in text
        or _has_five_digits(text)
        or (("=" in text or ":" in text) and _has_secret_word(text))
    )


# The two looks below avoid `re` on purpose: a pattern search costs about
# two hundred instructions a character, these a few.


def _has_five_digits(text: str) -> bool:
    if text.isascii():
        return b"00000" in text.encode("ascii").translate(_DIGITS_AS_ZERO)
    return _FIVE_DIGITS.search(text) is not None


def _has_secret_word(text: str) -> bool:
    # One of these is in every field name `is_secret_key` refuses, and in
    # every secret assignment. Spelled out: a generator over the words costs
    # as much as the searches.
    lowered = text.lower()
    return (
        "key" in lowered
        or "token" in lowered
        or "pin" in lowered
        or "secret" in lowered
        or "passw" in lowered
        or "authorization" in lowered
    )


def _mask_digits(match: re.Match[str]) -> str:
    if match["run"] is None:
        return match[0]
    return "****" + match[0][-4:]


# Field names are the code's own few dozen, so each is judged once.
@functools.lru_cache(maxsize=1024)
def is_secret_key(key: str) -> bool:
    """Whether a field named `key` may hold a secret (``pin``, ``authToken``...)."""
    words = [word.lower() for word in _WORDS.findall(key)]
    pairs = {a + b for a, b in itertools.pairwise(words)}
    return not (_SECRET_WORDS.isdisjoint(words) and _SECRET_PAIRS.isdisjoint(pairs))


def _unchanged_by_scrubbing(payload: Mapping[str, object]) -> bool:
    """Whether `_safe` would give back every field of `payload` as it is.

    Nearly every line holds only plain names, short words, ids and numbers
    with nothing to hide, and the same few recur line after line: each is
    judged once and remembered. Only plain strings and numbers qualify. A
    True here is exact, never a guess; the test suite checks it against
    `_safe` on generated lines.
    """
    # Exact types: a subclass (a str enum, say) may render otherwise. The
    # set lookups come first, inline: they settle nearly every field.
    for key, value in payload.items():
        if key not in _PLAIN_NAMES and not _plain_name(key):
            return False
        if type(value) is str:
            if value not in _UNCHANGED and not _unchanged_text(value):
                return False
        elif type(value) is int or type(value) is float:
            if key not in _DIGITS_KEPT and not _unchanged_text(str(value)):
                return False
        elif value is not None and type(value) is not bool:
            return False
    return True


# Field names known to be neither a secret's nor changed by the scrubber,
# and texts known to come through `scrub` unchanged; each emptied when large.
_PLAIN_NAMES: set[str] = set()
_UNCHANGED: set[str] = set()
_UNCHANGED_MAX = 4096


def _plain_name(key: str) -> bool:
    if is_secret_key(key) or scrub(key) != key:
        return False
    return _remember(_PLAIN_NAMES, key)


def _unchanged_text(text: str) -> bool:
    if text in _UNCHANGED:
        return True
    # A request or contact id: the scrubber keeps a UUID whole.
    if len(text) == _UUID_LENGTH and _UUID.fullmatch(text) is not None:
        return True
    if _suspect(text) and scrub(text) != text:
        return False
    return _remember(_UNCHANGED, text)


def _remember(known: set[str], text: str) -> bool:
    if len(known) >= _UNCHANGED_MAX:
        known.clear()
    known.add(text)
    return True


@functools.lru_cache(maxsize=1024)
def _field_name(key: str) -> str:
    return scrub(key)


def _safe(value: object, key: str = "", depth: int = 0) -> object:
    """A JSON-ready, scrubbed copy of a logged value; other objects by type only."""
    if key and is_secret_key(key):
        return REDACTED
    digits = key not in _DIGITS_KEPT
    if isinstance(value, str):
        return scrub(value, digits=digits)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        text = str(value)
        masked = scrub(text, digits=digits)
        return value if masked == text else masked
    if isinstance(value, enum.Enum):
        return _safe(value.value, key, depth)
    if isinstance(value, Decimal):
        return scrub(str(value))
    if isinstance(value, Money):
        return scrub(value.to_text())
    if depth < 4 and isinstance(value, Mapping):
        return {scrub(str(k)): _safe(v, str(k), depth + 1) for k, v in value.items()}
    if depth < 4 and isinstance(value, list | tuple | set | frozenset):
        return [_safe(item, key, depth + 1) for item in value]
    # Never str() an arbitrary object: its repr may carry what we must not log.
    return f"<{type(value).__name__}>"


# --------------------------------------------------------------- turn context


def log_context(**fields: object) -> _Binding:
    """Adds `fields` to every line logged inside, in this task and its children.

    Use as ``with log_context(...)``. Fields set to None are left out. Nested
    contexts add to the outer one.
    """
    return _Binding({k: v for k, v in fields.items() if v is not None})


class _Binding:
    """What `log_context` returns: a class, as a generator costs a turn dearly."""

    __slots__ = ("_fields", "_token")

    def __init__(self, fields: dict[str, object]) -> None:
        self._fields = fields
        self._token: Token[_Bound | None] | None = None

    def __enter__(self) -> None:
        outer = _context.get()
        fields, as_is = self._fields, _unchanged_by_scrubbing(self._fields)
        if outer is not None:
            fields, as_is = {**outer[0], **fields}, as_is and outer[1]
        self._token = _context.set((fields, as_is))

    def __exit__(self, *_: object) -> None:
        if self._token is not None:
            _context.reset(self._token)
            self._token = None


def current_context() -> Mapping[str, object]:
    bound = _context.get()
    return {} if bound is None else dict(bound[0])


# ------------------------------------------------------------------ formatter


class JsonFormatter(logging.Formatter):
    """One scrubbed JSON object per record, on a single line."""

    def __init__(self, service: str = "bankbot", *, scrubbing: bool = True) -> None:
        super().__init__()
        self._service = service
        # Off only for the test suite's scanner, which must see what code tried
        # to log rather than what the scrubber let through.
        self._scrubbing = scrubbing

    def format(self, record: logging.LogRecord) -> str:
        # The first four are the process's own, never data: only the rest,
        # the record's own and the bound fields, can need scrubbing.
        payload: dict[str, object] = {
            "level": record.levelname,
            "timestamp": _timestamp(record.created),
            "message": _message(record),
            "service": self._service,
            "logger": record.name,
        }
        own: dict[str, object] = {"message": payload["message"]}
        request_id = getattr(record, "aws_request_id", None)
        if isinstance(request_id, str) and request_id:
            payload["request_id"] = own["request_id"] = request_id
        bound = _context.get()
        if bound is not None:
            payload.update(bound[0])
        # The record's `extra` fields, in a steady order; a set difference
        # rather than a walk over the two dozen attributes every record has.
        fields = record.__dict__
        for key in sorted(fields.keys() - _RECORD_ATTRIBUTES):
            if not key.startswith("_"):
                payload[key] = own[key] = fields[key]
        if record.exc_info and record.exc_info[0] is not None:
            payload["exception"] = own["exception"] = self.formatException(
                record.exc_info
            )
        if record.stack_info:
            payload["stack"] = own["stack"] = self.formatStack(record.stack_info)
        if not self._scrubbing:
            payload = {key: _plain(value) for key, value in payload.items()}
        elif not (bound is None or bound[1]) or not _unchanged_by_scrubbing(own):
            payload = {
                _field_name(key): _safe(value, key) for key, value in payload.items()
            }
        return json.dumps(payload, separators=(",", ":"), default=str)


def _timestamp(created: float) -> str:
    """``2026-12-03T15:10:00.123Z``; the part up to the second is reused."""
    global _second  # noqa: PLW0603 - a one-entry cache, replaced whole
    # Rounded to the microsecond as `datetime.fromtimestamp` does, then cut.
    fraction, seconds = math.modf(created)
    micros, whole = round(fraction * 1_000_000), int(seconds)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    cached = _second
    if cached[0] != whole:
        moment = datetime.fromtimestamp(whole, UTC)
        cached = _second = (whole, moment.strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{cached[1]}.{micros // 1000:03d}Z"


_second: tuple[int, str] = (-1, "")


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a bad format string must not lose the line
        return f"{record.msg} (log arguments did not fit the message)"


def _plain(value: object) -> object:
    """Like `_safe` but unscrubbed: what the code handed to the logger."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return str(value)


# ---------------------------------------------------------------- configuring


class _BankbotHandler(logging.StreamHandler[TextIO]):
    """Our own handler, so that configuring again can find and replace it."""


def configure_logging(
    level: str = "INFO", stream: TextIO | None = None, service: str = "bankbot"
) -> None:
    """Makes every line of the process one JSON object; safe to call again.

    On AWS Lambda the runtime has put its own handler on the root logger (it
    adds the request id and ships lines to CloudWatch); that handler keeps its
    job and gets our formatter. Elsewhere, or when `stream` is given, lines go
    to our handler on `stream` (standard error by default, so replies printed
    on standard output stay clean). A second call replaces our handler.
    """
    root = logging.getLogger()
    formatter = JsonFormatter(service)
    numeric = logging.getLevelName(level.strip().upper())
    known = isinstance(numeric, int)
    root.setLevel(numeric if known else logging.INFO)
    # Audit records are kept whatever the level: they are the trail of writes.
    audit = logging.getLogger(AUDIT_LOGGER)
    audit.setLevel(min(root.level, logging.INFO))
    # Library internals at DEBUG print request and response bodies, which
    # include secrets read from SSM: they stay at WARNING.
    for noisy in QUIET_LIBRARIES:
        logging.getLogger(noisy).setLevel(max(root.level, logging.WARNING))

    for handler in list(root.handlers):
        if isinstance(handler, _BankbotHandler):
            root.removeHandler(handler)
    runtime = [h for h in root.handlers if _is_lambda_runtime(h)]
    if stream is None and runtime:
        for handler in runtime:
            handler.setFormatter(formatter)
    else:
        ours = _BankbotHandler(stream if stream is not None else sys.stderr)
        ours.setFormatter(formatter)
        root.addHandler(ours)

    if not known:
        logging.getLogger(__name__).warning(
            "unknown log level, using INFO", extra={"requested_level": level}
        )


def _is_lambda_runtime(handler: logging.Handler) -> bool:
    # The Python runtime's handler classes are all named LambdaLoggerHandler...
    # and are not importable outside Lambda, so they are known by name.
    return type(handler).__name__.startswith("LambdaLoggerHandler")


# ------------------------------------------------------------------ audit log


class AuditLogger:
    """The `AuditLog` port as JSON lines: one INFO record per domain outcome.

    The outcome types carry no customer id (except a verification); the
    entrypoint's `log_context` supplies the conversation, and any customer id
    it binds, to the same line.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger(AUDIT_LOGGER)

    def record(self, event: object) -> None:
        kind = type(event).__name__
        try:
            fields = audit_fields(event)
        except Exception:
            # The outcome has happened already (money may have moved); a
            # faulty record must not turn it into a failure for the caller.
            self._logger.exception("audit record incomplete", extra={"event": kind})
            fields = {}
        self._logger.info(kind, extra={"audit": True, "event": kind, **fields})


def audit_fields(event: object) -> dict[str, Any]:
    """The safe fields of one outcome; an unknown type has none."""
    match event:
        case CallerVerified(customer=customer, token=token):
            return {
                "customer_id": customer.customer_id.value,
                "verified_until": token.expires_at.isoformat(timespec="seconds"),
            }
        case CallerRefused(reason=reason, phone_last_four=last_four):
            return {"reason": reason.value, "phone_last_four": last_four}
        case BalanceReported(account=account):
            return {
                "account_type": account.account_type.value,
                "account_last_four": account.last_four,
            }
        case BalanceNotReported(problem=problem):
            return {"reason": problem.value}
        case TransferCompleted(transfer=transfer, transfer_id=transfer_id):
            return {
                "transfer_id": transfer_id,
                "amount": transfer.amount.to_text(),
                "currency": transfer.amount.currency,
                "source_last_four": transfer.source.last_four,
                "target_last_four": transfer.target.last_four,
            }
        case TransferRejected(issue=issue):
            return {"reason": issue.problem.value, "field": issue.field.value}
        case CardBlocked():
            return {
                "card_last_four": event.card.last_four,
                "case_reference": event.case_reference,
                "already_blocked": event.already_blocked,
                "replacement_ordered": event.replacement_ordered,
            }
        case CardNotBlocked(issue=issue):
            return {"reason": issue.problem.value}
    return {}
