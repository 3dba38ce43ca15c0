"""Plays a conversation file through the Lex simulator and the real handlers.

A conversation file (see README.md beside this module) is a caller, a bank
and a list of turns: what the caller says and what should come back. The
runner verifies the caller through the Connect handler, as the contact flow
would, seeds the Lex session with the identity it got, then says each line
through `LexSimulator` and checks the result against the turn's expectations.

On the first turn that does not go as written it raises `ConversationFailed`,
whose text is the whole transcript so far and, for the failing turn, each
expectation next to what happened, with a character diff for a reply that
came out differently.
"""

from __future__ import annotations

import difflib
import functools
import io
import uuid
from collections.abc import (
    Awaitable,
    Callable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml
from attrs import frozen

from adapters.bank_api import API_KEY_SECRET, HttpAccountGateway
from adapters.clock import SystemClock
from adapters.http_client import build_client
from adapters.logging import AuditLogger
from banking_domain.identity import SIGNING_KEY
from entrypoints.bootstrap import Service, build_service, wire_use_cases
from entrypoints.connect_lambda import ConnectEntrypoint
from entrypoints.demo import connect_event
from entrypoints.lex_lambda import LexEntrypoint
from entrypoints.settings import SANDBOX, Settings
from entrypoints.turn import TurnRunner
from lexbot.definition import BotDefinition, load_bot_definition
from lexbot.simulator import LexSimulator, TurnResult

Handler = Callable[[Any, Any], dict[str, Any]]

# Callers of the sandbox bank: phone number and PIN.
CALLERS: Mapping[str, tuple[str, str]] = {
    "alex": ("+15555550100", "2468"),
    "sam": ("+15555550101", "1357"),
}
UNVERIFIED = "unverified"
# A caller who wrote their own session attributes: Alex's id, a made-up token.
FORGED = "forged"
FORGED_ATTRIBUTES: Mapping[str, str] = {
    "customerId": "C-1001",
    "authToken": "v1.9999999999.forged",
}
BANKS = ("normal", "unavailable")
LOCALES = ("en_US", "es_US")
INPUT_MODES = ("Text", "Speech")

_TOP_KEYS = {"name", "description", "locale", "input_mode", "caller", "bank", "turns"}
_SCALARS = ("intent", "state", "action")
_TURN_KEYS = {"user", "bot", "not_bot", "slots", "attributes", *_SCALARS}
# Written in a file for "empty slot" or "attribute not set".
_NOTHING = {"", "~", "null"}
_UNAVAILABLE_URL = "http://unavailable.bankbot.invalid"


class ConversationFileError(ValueError):
    """A conversation file that does not follow the format."""


class ConversationFailed(AssertionError):
    """A conversation that did not go as written; the text says where and how."""


# ------------------------------------------------------------------ the format


@frozen
class Turn:
    """One line the caller says and what should come back.

    `checks` holds the intent, state and action the file names (None: expected
    to be empty); `slots` and `attributes` are subsets to compare.
    """

    user: str
    bot: tuple[str, ...] = ()
    not_bot: tuple[str, ...] = ()
    checks: Mapping[str, str | None] = {}
    slots: Mapping[str, str | None] = {}
    attributes: Mapping[str, str | None] = {}


@frozen
class Conversation:
    name: str
    path: Path
    locale: str
    input_mode: str
    caller: str
    bank: str
    turns: tuple[Turn, ...]


def load_conversation(path: Path) -> Conversation:
    """Reads a conversation file; every value is read as the text written."""
    # BaseLoader keeps `yes`, `no`, `0019` and `200` as the caller said them.
    text = path.read_text(encoding="utf-8")
    raw = yaml.load(text, Loader=yaml.BaseLoader)
    where = path.name
    data = _mapping(raw, where)
    _known_keys(data, _TOP_KEYS, where)
    turns = data.get("turns")
    if not isinstance(turns, list) or not turns:
        raise ConversationFileError(f"{where}: `turns` must be a list of turns")
    return Conversation(
        name=_text(data.get("name", path.stem), f"{where}: name"),
        path=path,
        locale=_choice(data, "locale", LOCALES, where),
        input_mode=_choice(data, "input_mode", INPUT_MODES, where),
        caller=_caller(data.get("caller", "alex"), where),
        bank=_choice(data, "bank", BANKS, where),
        turns=tuple(
            _turn(item, f"{where}: turn {number}")
            for number, item in enumerate(turns, start=1)
        ),
    )


def _turn(raw: object, where: str) -> Turn:
    data = _mapping(raw, where)
    _known_keys(data, _TURN_KEYS, where)
    if "user" not in data:
        raise ConversationFileError(f"{where}: every turn needs `user:`")
    return Turn(
        user=_text(data["user"], f"{where}: user"),
        bot=_fragments(data.get("bot"), f"{where}: bot"),
        not_bot=_fragments(data.get("not_bot"), f"{where}: not_bot"),
        checks={
            key: _maybe(_text(data[key], f"{where}: {key}"))
            for key in _SCALARS
            if key in data
        },
        slots=_subset(data.get("slots"), f"{where}: slots"),
        attributes=_subset(data.get("attributes"), f"{where}: attributes"),
    )


def _mapping(raw: object, where: str) -> dict[str, object]:
    if not isinstance(raw, dict):
        raise ConversationFileError(f"{where}: expected `key: value` lines")
    return {str(key): value for key, value in raw.items()}


def _known_keys(data: Mapping[str, object], known: set[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConversationFileError(
            f"{where}: unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )


def _text(raw: object, where: str) -> str:
    if not isinstance(raw, str):
        raise ConversationFileError(f"{where}: expected a line of text")
    return raw


def _maybe(text: str) -> str | None:
    return None if text.strip() in _NOTHING else text


def _fragments(raw: object, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list):
        return tuple(_text(item, where) for item in raw)
    raise ConversationFileError(f"{where}: expected a fragment or a list of them")


def _subset(raw: object, where: str) -> dict[str, str | None]:
    if raw is None:
        return {}
    data = _mapping(raw, where)
    return {key: _maybe(_text(value, f"{where}: {key}")) for key, value in data.items()}


def _choice(
    data: Mapping[str, object], key: str, allowed: Sequence[str], where: str
) -> str:
    value = _text(data.get(key, allowed[0]), f"{where}: {key}")
    if value not in allowed:
        raise ConversationFileError(
            f"{where}: {key} must be one of {', '.join(allowed)}, not {value!r}"
        )
    return value


def _caller(raw: object, where: str) -> str:
    caller = _text(raw, f"{where}: caller")
    if caller not in (*CALLERS, UNVERIFIED, FORGED):
        choices = ", ".join((*CALLERS, UNVERIFIED, FORGED))
        raise ConversationFileError(
            f"{where}: caller must be one of {choices}, not {caller!r}"
        )
    return caller


# ------------------------------------------------------------------ the run


@frozen
class Exchange:
    """One turn as it happened."""

    number: int
    user: str
    result: TurnResult


def run_conversation(
    conversation: Conversation,
    *,
    wrap_handler: Callable[[Handler], Handler] | None = None,
) -> list[Exchange]:
    """Plays every turn; raises `ConversationFailed` at the first that differs.

    `wrap_handler` lets a test stand between the simulator and the real Lex
    handler, for instance to break a reply on purpose.
    """
    exchanges: list[Exchange] = []
    with _services(conversation.bank) as (bank, talking):
        handler: Handler = LexEntrypoint(talking).handle
        if wrap_handler is not None:
            handler = wrap_handler(handler)
        simulator = LexSimulator(
            _definition(),
            handler,
            locale=conversation.locale,
            input_mode=conversation.input_mode,
            session_attributes=_identity(bank, conversation.caller),
        )
        for number, turn in enumerate(conversation.turns, start=1):
            try:
                result = simulator.say(turn.user)
            except Exception as error:
                problem = f"the turn raised {type(error).__name__}: {error}"
                text = failure_text(conversation, exchanges, number, [problem])
                raise ConversationFailed(text) from error
            exchanges.append(Exchange(number, turn.user, result))
            problems = check_turn(turn, result)
            if problems:
                text = failure_text(conversation, exchanges, number, problems)
                raise ConversationFailed(text)
    return exchanges


@functools.cache
def _definition() -> BotDefinition:
    return load_bot_definition()


@contextmanager
def _services(bank: str) -> Iterator[tuple[Service, Service]]:
    """The sandbox service, and the one the caller talks to (the same if normal)."""
    settings = Settings(mode=SANDBOX)
    sandbox = build_service(settings, log_stream=io.StringIO())
    talking = sandbox if bank == "normal" else unavailable_service(settings)
    try:
        yield sandbox, talking
    finally:
        if talking is not sandbox:
            talking.close()
        sandbox.close()


def _identity(service: Service, caller: str) -> dict[str, str]:
    """The session attributes the contact flow hands Lex for this caller."""
    if caller == UNVERIFIED:
        return {}
    if caller == FORGED:
        return dict(FORGED_ATTRIBUTES)
    phone, pin = CALLERS[caller]
    parameters = {"operation": "VerifyCaller", "pin": pin}
    event = connect_event(str(uuid.uuid4()), phone, parameters)
    reply = ConnectEntrypoint(service).handle(event, None)
    if reply.get("status") != "OK":
        raise ConversationFailed(f"the sandbox refused to verify {caller}: {reply}")
    return {"customerId": reply["customerId"], "authToken": reply["authToken"]}


def unavailable_service(settings: Settings) -> Service:
    """A service whose account API answers every request with 503.

    It holds the sandbox's development keys, so a token the sandbox service
    issued is valid here too.
    """
    from adapters.sandbox import DEVELOPMENT_API_KEY, DEVELOPMENT_SIGNING_KEY
    from adapters.secrets import StaticSecretStore

    secrets = StaticSecretStore(
        {SIGNING_KEY: DEVELOPMENT_SIGNING_KEY, API_KEY_SECRET: DEVELOPMENT_API_KEY}
    )
    transport = httpx.ASGITransport(app=_always_unavailable)
    client = build_client(_UNAVAILABLE_URL, transport=transport)
    gateway = HttpAccountGateway(client, secrets, sleep=_no_wait)
    tokens, use_cases = wire_use_cases(
        gateway, secrets, AuditLogger(), SystemClock(), settings
    )
    return Service(settings, use_cases, tokens, TurnRunner(), client.aclose)


Message = MutableMapping[str, Any]


async def _always_unavailable(
    scope: Message,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"error": "unavailable"}'})


async def _no_wait(_: float) -> None:
    """Retries without waiting: the tests take no naps."""


# ------------------------------------------------------------------ checking


def check_turn(turn: Turn, result: TurnResult) -> list[str]:
    """What differs between the turn as written and as it happened."""
    heard = _heard(result)
    problems: list[str] = []
    for fragment in turn.bot:
        if _squash(fragment) not in heard:
            problems.append(_not_heard(fragment, heard))
    for fragment in turn.not_bot:
        if _squash(fragment) in heard:
            problems.append(f"bot: heard what must not be said: {fragment!r}")
    actual = {
        "intent": result.intent_name,
        "state": result.intent_state,
        "action": result.dialog_action,
    }
    for key, expected in turn.checks.items():
        if actual[key] != expected:
            problems.append(
                f"{key}: expected {_show(expected)}, got {_show(actual[key])}"
            )
    problems += _compare("slot", turn.slots, result.slots)
    problems += _compare("attribute", turn.attributes, result.session_attributes)
    return problems


def _compare(
    kind: str, expected: Mapping[str, str | None], actual: Mapping[str, str | None]
) -> list[str]:
    problems = []
    for name, want in expected.items():
        got = actual.get(name)
        if (got or None) != want:
            problems.append(f"{kind} {name}: expected {_show(want)}, got {_show(got)}")
    return problems


def _heard(result: TurnResult) -> str:
    return _squash(" ".join(result.messages))


def _squash(text: str) -> str:
    return " ".join(text.split())


def _show(value: str | None) -> str:
    return "(nothing)" if value is None else repr(value)


def _not_heard(fragment: str, heard: str) -> str:
    """The missing fragment, what was heard, and a diff with the closest words."""
    lines = [
        f"bot: expected to hear {fragment!r}",
        f"     but heard        {heard!r}" if heard else "     but heard nothing",
    ]
    closest = _closest_words(_squash(fragment), heard)
    if closest:
        lines.append("     closest words heard, as a diff (- expected, + heard):")
        diff = difflib.ndiff([_squash(fragment)], [closest])
        lines += [f"       {line.rstrip()}" for line in diff]
    return "\n".join(lines)


def _closest_words(fragment: str, heard: str) -> str | None:
    """The run of heard words most like the fragment, if any is much alike."""
    words = heard.split()
    size = len(fragment.split())
    candidates = {
        " ".join(words[start : start + length])
        for length in (size - 1, size, size + 1)
        if length > 0
        for start in range(max(1, len(words) - length + 1))
    }
    scored = [
        (difflib.SequenceMatcher(None, fragment, text).ratio(), text)
        for text in candidates
        if text
    ]
    if not scored:
        return None
    ratio, best = max(scored)
    return best if ratio >= 0.5 else None


# ------------------------------------------------------------------ the report


def failure_text(
    conversation: Conversation,
    exchanges: Sequence[Exchange],
    number: int,
    problems: Sequence[str],
) -> str:
    """The transcript up to the failing turn, then what went wrong in it."""
    total = len(conversation.turns)
    lines = [
        f"conversation {conversation.name!r} ({conversation.path.name}) "
        f"went off script at turn {number} of {total}",
        f"caller {conversation.caller}, bank {conversation.bank}, "
        f"{conversation.locale}, {conversation.input_mode}",
        "",
        "transcript:",
    ]
    for exchange in exchanges:
        lines += _transcript_lines(exchange, failing=exchange.number == number)
    if not exchanges or exchanges[-1].number != number:
        lines.append(f"> {number}. caller: {conversation.turns[number - 1].user}")
        lines.append("      (no reply)")
    lines += ["", f"turn {number} as written vs. as it happened:"]
    lines += [f"  {line}" for problem in problems for line in problem.splitlines()]
    return "\n".join(lines)


def _transcript_lines(exchange: Exchange, *, failing: bool) -> list[str]:
    result = exchange.result
    mark = ">" if failing else " "
    lines = [f"{mark} {exchange.number}. caller: {exchange.user}"]
    messages = result.messages or ["(says nothing)"]
    lines += [f"      bot:    {message}" for message in messages]
    slots = ", ".join(
        f"{name}={value}" for name, value in sorted(result.slots.items()) if value
    )
    facts = [
        f"intent {result.intent_name or '-'}",
        f"state {result.intent_state or '-'}",
        f"action {result.dialog_action}",
    ]
    if slots:
        facts.append(f"slots {slots}")
    lines.append(f"              [{'; '.join(facts)}]")
    return lines
