"""A small Lex V2 dialog manager for talking to the bot offline.

`LexSimulator` plays Lex's part from the bot definition: it picks an intent
for each new request (sample utterances matched fuzzily with rapidfuzz; below
the threshold, FallbackIntent), fills slots from the words and from answers
to its prompts, sends the Lex handler the events Lex V2 would send, and
follows each reply's dialog action the way Lex does. It is a development aid,
not an NLU model: LIMITS.md beside this file lists what real Lex does that it
does not.

A reply Lex would refuse ("Invalid Lambda Response") raises
`InvalidLambdaResponse` rather than being guessed at.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final
from xml.sax.saxutils import unescape

from attrs import define, field, frozen
from rapidfuzz import fuzz, process

from lexbot.definition import BotDefinition, Intent, Locale, Slot, SlotType

Handler = Callable[[dict[str, Any], object], dict[str, Any]]

DIALOG: Final = "DialogCodeHook"
FULFILMENT: Final = "FulfillmentCodeHook"
MATCH_THRESHOLD: Final = 72.0
# One turn never needs more: dialog hook, then fulfilment, then a re-ask.
_MAX_CALLS: Final = 4

YES_WORDS: Final = {
    "en": ("yes", "yeah", "yep", "yup", "sure", "go ahead", "ok", "okay", "please do",
           "correct", "that's right", "do it", "confirm"),
    "es": ("sí", "si", "claro", "adelante", "de acuerdo", "vale", "correcto",
           "por supuesto", "hazlo", "confirmo"),
}  # fmt: skip
NO_WORDS: Final = {
    "en": ("no", "nope", "nah", "cancel", "don't", "do not", "stop", "never mind"),
    "es": ("no", "cancela", "cancelar", "nada", "mejor no", "detente"),
}  # fmt: skip

_NUMBER: Final = re.compile(
    r"(?<![\w.])\$?\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\w])"
    r"(?:\s*(?:dollars?|bucks|dólares|dolares|usd))?"
)
_TAGS: Final = re.compile(r"<[^>]+>")
_SPACES: Final = re.compile(r"\s+")
_PUNCTUATION: Final = re.compile(r"[^\w\s$.,']|(?<!\d)[.,]|[.,](?!\d)")


class InvalidLambdaResponse(RuntimeError):
    """The handler replied with something Lex would refuse; the message says why."""


@frozen
class TurnResult:
    """What one line from the caller led to.

    `intent_name` is the intent the turn worked on; `intent_state` the state
    the last reply gave it (None when the reply carried no intent).
    """

    messages: list[str]
    dialog_action: str
    intent_name: str | None
    intent_state: str | None
    slots: dict[str, str | None]
    confirmation_state: str
    session_attributes: dict[str, str]
    events: list[dict[str, Any]]
    replies: list[dict[str, Any]]


@frozen
class _Value:
    original: str
    interpreted: str


@frozen
class _Span:
    start: int
    end: int
    value: _Value


@define
class _Turn:
    """What one `say` collects while it runs."""

    text: str
    messages: list[str] = field(factory=list)
    events: list[dict[str, Any]] = field(factory=list)
    replies: list[dict[str, Any]] = field(factory=list)
    action: str = "ElicitIntent"
    state: str | None = None
    score: float = 100.0


class LexSimulator:
    """One Lex V2 session with the bot, one `say` per line the caller speaks."""

    def __init__(
        self,
        definition: BotDefinition,
        handler: Handler,
        *,
        locale: str = "en_US",
        input_mode: str = "Text",
        session_attributes: Mapping[str, str] | None = None,
        session_id: str | None = None,
        match_threshold: float = MATCH_THRESHOLD,
    ) -> None:
        self._definition = definition
        self._locale_id = locale
        self._locale: Locale = definition.locale(locale)
        self._language = locale.split("_", maxsplit=1)[0]
        self._handler = handler
        self._input_mode = input_mode
        self._attributes = dict(session_attributes or {})
        self._session_id = session_id or str(uuid.uuid4())
        self._threshold = match_threshold
        self._intent: Intent | None = None
        self._slots: dict[str, _Value | None] = {}
        self._confirmation = "None"
        # What the bot last asked: ("slot", name), ("confirm", prompt) or None.
        self._asking: tuple[str, str] | None = None

    @property
    def session_attributes(self) -> dict[str, str]:
        return dict(self._attributes)

    def say(self, text: str) -> TurnResult:
        """The caller says `text`; Lex and the handler answer."""
        turn = _Turn(text)
        if self._asking is None:
            self._start(turn)
        elif self._asking[0] == "slot":
            if not self._answer_slot(turn, self._asking[1]):
                return self._result(turn)
        elif not self._answer_confirmation(turn):
            return self._result(turn)

        intent = self._current()
        if intent.dialog_code_hook.enabled:
            self._follow(turn, self._call(turn, DIALOG))
        else:
            self._delegate(turn)
        return self._result(turn)

    # ------------------------------------------------------------ caller side

    def _start(self, turn: _Turn) -> None:
        intent, values, score = self._recognise(turn.text)
        self._intent = intent
        self._slots = {slot.name: values.get(slot.name) for slot in intent.slots}
        self._confirmation = "None"
        turn.score = score

    def _answer_slot(self, turn: _Turn, name: str) -> bool:
        """Fills the slot asked for; False (and the prompt again) if no value."""
        slot = self._current().slot(name)
        if slot is None:
            return True
        spans = self._spans(slot.slot_type_name, _normal(turn.text))
        value = spans[0].value if spans else self._loose_value(slot, turn.text)
        if value is None:
            self._ask_slot(turn, slot)
            return False
        self._slots[name] = value
        return True

    def _answer_confirmation(self, turn: _Turn) -> bool:
        answer = self._yes_or_no(turn.text)
        if answer is None:
            assert self._asking is not None
            turn.messages.append(self._asking[1])
            turn.action, turn.state = "ConfirmIntent", "InProgress"
            return False
        self._confirmation = answer
        self._asking = None
        return True

    def _yes_or_no(self, text: str) -> str | None:
        words = _normal(text).replace(",", " ").replace(".", " ")
        words = _SPACES.sub(" ", words).strip()
        for state, table in (("Denied", NO_WORDS), ("Confirmed", YES_WORDS)):
            for phrase in table.get(self._language, table["en"]):
                folded = _fold(phrase)
                if words == folded or words.startswith(folded + " "):
                    return state
        return None

    # --------------------------------------------------------- understanding

    def _recognise(self, text: str) -> tuple[Intent, dict[str, _Value], float]:
        """The likeliest intent, the slot values its best sample finds, the score."""
        normal = _normal(text)
        best: tuple[float, Intent, dict[str, _Value]] | None = None
        for intent in self._locale.intents:
            if not intent.sample_utterances:
                continue
            kinds = {slot.slot_type_name for slot in intent.slots}
            spans = self._all_spans(kinds, normal)
            masked_text = _mask(normal, spans)
            for sample in intent.sample_utterances:
                masked_sample, order = self._masked_sample(intent, sample)
                score = fuzz.token_sort_ratio(masked_text, masked_sample)
                score = max(score, fuzz.ratio(masked_text, masked_sample))
                if best is None or score > best[0]:
                    best = (score, intent, _assign(order, spans))
        if best is None or best[0] < self._threshold:
            return self._locale.fallback, {}, best[0] if best else 0.0
        return best[1], best[2], best[0]

    def _masked_sample(self, intent: Intent, sample: str) -> tuple[str, list[Slot]]:
        order: list[Slot] = []

        def token(match: re.Match[str]) -> str:
            slot = intent.slot(match.group(1))
            if slot is None:
                return match.group(0)
            order.append(slot)
            return _token(slot.slot_type_name)

        masked = re.sub(r"\{([A-Za-z][A-Za-z0-9_]*)\}", token, sample)
        return _normal(masked), order

    def _all_spans(self, kinds: set[str], text: str) -> list[tuple[str, _Span]]:
        found: list[tuple[str, _Span]] = []
        for kind in sorted(kinds):
            for span in self._spans(kind, text):
                if not any(_overlaps(span, other) for _, other in found):
                    found.append((kind, span))
        return sorted(found, key=lambda item: item[1].start)

    def _spans(self, kind: str, text: str) -> list[_Span]:
        """Where values of slot type `kind` occur in normalised `text`, in order."""
        if kind == "AMAZON.Number":
            return list(_numbers(text))
        slot_type = self._locale.slot_type(kind)
        if slot_type is None:
            return []
        if slot_type.regex_filter is not None:
            return list(_regex_values(slot_type.regex_filter, text))
        return _custom_values(slot_type, text)

    def _loose_value(self, slot: Slot, text: str) -> _Value | None:
        """A near miss on a custom value ("savngs"), as Lex's fuzzy matching allows."""
        slot_type = self._locale.slot_type(slot.slot_type_name)
        if slot_type is None or not slot_type.values:
            return None
        choices = {
            _fold(word): item.value
            for item in slot_type.values
            for word in (item.value, *item.synonyms)
        }
        normal = _normal(text)
        found = process.extractOne(normal, list(choices), scorer=fuzz.ratio)
        if found is None or found[1] < 80:
            return None
        return _Value(normal, choices[found[0]])

    # ------------------------------------------------------------ Lex's part

    def _current(self) -> Intent:
        return self._intent if self._intent is not None else self._locale.fallback

    def _follow(self, turn: _Turn, reply: dict[str, Any]) -> None:
        """Does what the reply's dialog action says, as Lex would."""
        state = reply.get("sessionState")
        if not isinstance(state, Mapping):
            raise InvalidLambdaResponse("the reply has no sessionState")
        action = state.get("dialogAction")
        kind = action.get("type") if isinstance(action, Mapping) else None
        if isinstance(state.get("sessionAttributes"), Mapping):
            self._attributes = dict(state["sessionAttributes"])
        said = _contents(reply)
        intent = state.get("intent")
        if isinstance(intent, Mapping):
            self._take_intent(intent)
        turn.state = intent.get("state") if isinstance(intent, Mapping) else None
        turn.messages.extend(said)

        if kind == "Close":
            if not isinstance(intent, Mapping) or not intent.get("state"):
                raise InvalidLambdaResponse("Close needs intent.name and intent.state")
            turn.action = "Close"
            self._end()
        elif kind == "ElicitIntent":
            if not said:
                raise InvalidLambdaResponse("ElicitIntent needs a message")
            turn.action = "ElicitIntent"
            self._end()
        elif kind == "ElicitSlot":
            assert isinstance(action, Mapping)
            self._elicit(turn, action, said)
        elif kind == "ConfirmIntent":
            if not said:
                raise InvalidLambdaResponse("ConfirmIntent needs a message")
            turn.action = "ConfirmIntent"
            self._asking = ("confirm", said[-1])
            self._confirmation = "None"
        elif kind == "Delegate":
            self._delegate(turn)
        else:
            raise InvalidLambdaResponse(f"unknown dialogAction type {kind!r}")

    def _elicit(self, turn: _Turn, action: Mapping[str, Any], said: list[str]) -> None:
        name = action.get("slotToElicit")
        slot = self._current().slot(name) if isinstance(name, str) else None
        if slot is None:
            raise InvalidLambdaResponse(
                f"ElicitSlot names no slot of the intent: {name}"
            )
        if said:
            turn.action = "ElicitSlot"
            self._asking = ("slot", slot.name)
        else:
            self._ask_slot(turn, slot)

    def _delegate(self, turn: _Turn) -> None:
        """Lex's next step from the definition: a slot, the confirmation, or fulfil."""
        intent = self._current()
        if self._confirmation == "Denied":
            self._decline(turn, intent)
            return
        missing = self._next_missing(intent)
        if missing is not None:
            self._ask_slot(turn, missing)
            return
        confirmation = intent.intent_confirmation_setting
        if confirmation is not None and self._confirmation == "None":
            prompt = self._fill_in(confirmation.prompt)
            turn.messages.append(prompt)
            turn.action, turn.state = "ConfirmIntent", "InProgress"
            self._asking = ("confirm", prompt)
            return
        if intent.fulfillment_code_hook.enabled and len(turn.events) < _MAX_CALLS:
            reply = self._call(turn, FULFILMENT)
            if _action_of(reply) == "Delegate":
                # After fulfilment Lex moves on: the intent is done.
                self._take_reply_state(reply)
                turn.action, turn.state = "Close", "Fulfilled"
                self._end()
                return
            self._follow(turn, reply)
            return
        turn.action, turn.state = "Close", "Fulfilled"
        self._end()

    def _decline(self, turn: _Turn, intent: Intent) -> None:
        confirmation = intent.intent_confirmation_setting
        if confirmation is not None:
            turn.messages.append(self._fill_in(confirmation.declination_response))
        turn.action, turn.state = "Close", "Failed"
        self._end()

    def _ask_slot(self, turn: _Turn, slot: Slot) -> None:
        turn.messages.append(self._fill_in(slot.prompt))
        turn.action, turn.state = "ElicitSlot", "InProgress"
        self._asking = ("slot", slot.name)

    def _next_missing(self, intent: Intent) -> Slot | None:
        for slot in intent.slots_by_priority():
            required = slot.value_elicitation_setting.required
            if required and self._slots.get(slot.name) is None:
                return slot
        return None

    def _fill_in(self, prompt: str) -> str:
        def value(match: re.Match[str]) -> str:
            found = self._slots.get(match.group(1))
            return found.interpreted if found is not None else match.group(0)

        return re.sub(r"\{([A-Za-z][A-Za-z0-9_]*)\}", value, prompt)

    def _end(self) -> None:
        self._asking = None

    def _take_intent(self, intent: Mapping[str, Any]) -> None:
        slots = intent.get("slots")
        if isinstance(slots, Mapping):
            for name, slot in slots.items():
                if name not in self._slots:
                    continue
                interpreted = _interpreted(slot)
                if interpreted is None:
                    self._slots[name] = None
                else:
                    old = self._slots.get(name)
                    original = old.original if old is not None else interpreted
                    if old is None or old.interpreted != interpreted:
                        original = interpreted
                    self._slots[name] = _Value(original, interpreted)
        confirmation = intent.get("confirmationState")
        if confirmation in ("None", "Confirmed", "Denied"):
            self._confirmation = confirmation

    def _take_reply_state(self, reply: dict[str, Any]) -> None:
        state = reply.get("sessionState") or {}
        if isinstance(state.get("sessionAttributes"), Mapping):
            self._attributes = dict(state["sessionAttributes"])

    # ----------------------------------------------------------------- events

    def _call(self, turn: _Turn, source: str) -> dict[str, Any]:
        event = self._event(turn, source)
        reply = self._handler(event, None)
        if not isinstance(reply, dict):
            raise InvalidLambdaResponse("the reply is not a JSON object")
        turn.events.append(event)
        turn.replies.append(reply)
        return reply

    def _event(self, turn: _Turn, source: str) -> dict[str, Any]:
        """A Lex V2 code hook event (message version 1.0) for this turn."""
        intent = self._intent_json(
            "ReadyForFulfillment" if source == FULFILMENT else "InProgress"
        )
        voice = self._input_mode in ("Speech", "DTMF")
        event: dict[str, Any] = {
            "messageVersion": "1.0",
            "invocationSource": source,
            "inputMode": self._input_mode,
            "responseContentType": "text/plain; charset=utf-8",
            "sessionId": self._session_id,
            "inputTranscript": turn.text,
            "rawInputTranscript": turn.text,
            "bot": {
                "id": "BANKBOTSIM",
                "name": self._definition.name,
                "localeId": self._locale_id,
                "version": "DRAFT",
                "aliasId": "TSTALIASID",
                "aliasName": "TestBotAlias",
            },
            "interpretations": self._interpretations(intent, turn.score),
            "proposedNextState": self._proposed(source, intent),
            "requestAttributes": _VOICE_ATTRIBUTES if voice else None,
            "sessionState": {
                "sessionAttributes": dict(self._attributes),
                "activeContexts": [],
                "intent": intent,
                "originatingRequestId": str(uuid.uuid4()),
            },
        }
        if self._input_mode == "Speech":
            event["transcriptions"] = [
                {
                    "transcription": turn.text,
                    "rawTranscription": turn.text,
                    "transcriptionConfidence": 0.95,
                    "resolvedContext": {"intent": intent["name"]},
                    "resolvedSlots": {},
                }
            ]
        return event

    def _intent_json(self, state: str) -> dict[str, Any]:
        return {
            "name": self._current().name,
            "slots": {name: _slot_json(value) for name, value in self._slots.items()},
            "state": state,
            "confirmationState": self._confirmation,
        }

    def _interpretations(
        self, intent: dict[str, Any], score: float
    ) -> list[dict[str, Any]]:
        chosen: dict[str, Any] = {"intent": intent, "interpretationSource": "Lex"}
        fallback = self._locale.fallback.name
        if intent["name"] == fallback:
            return [chosen]
        chosen["nluConfidence"] = round(score / 100, 2)
        other = {"name": fallback, "slots": {}, "confirmationState": "None"}
        return [chosen, {"intent": other, "interpretationSource": "Lex"}]

    def _proposed(self, source: str, intent: dict[str, Any]) -> dict[str, Any] | None:
        # Lex proposes a next state only to a dialog hook about to elicit a slot.
        missing = self._next_missing(self._current())
        if source != DIALOG or missing is None or self._confirmation == "Denied":
            return None
        return {
            "dialogAction": {"type": "ElicitSlot", "slotToElicit": missing.name},
            "intent": intent,
            "prompt": {"attempt": "Initial"},
        }

    def _result(self, turn: _Turn) -> TurnResult:
        return TurnResult(
            messages=turn.messages,
            dialog_action=turn.action,
            intent_name=self._intent.name if self._intent is not None else None,
            intent_state=turn.state,
            slots={
                name: None if value is None else value.interpreted
                for name, value in self._slots.items()
            },
            confirmation_state=self._confirmation,
            session_attributes=dict(self._attributes),
            events=turn.events,
            replies=turn.replies,
        )


_VOICE_ATTRIBUTES: Final = {
    "x-amz-lex:accept-content-types": "PlainText,SSML",
    "x-amz-lex:channels:platform": "Connect",
}


def spoken_text(content: str) -> str:
    """What a caller hears from an SSML or plain message, as plain text."""
    if content.lstrip().startswith("<speak"):
        content = _TAGS.sub("", content)
        content = unescape(content, {"&quot;": '"', "&apos;": "'"})
    return _SPACES.sub(" ", content).strip()


def _contents(reply: Mapping[str, Any]) -> list[str]:
    messages = reply.get("messages")
    if not isinstance(messages, list):
        return []
    return [
        spoken_text(message["content"])
        for message in messages
        if isinstance(message, Mapping) and isinstance(message.get("content"), str)
    ]


def _action_of(reply: Mapping[str, Any]) -> str | None:
    state = reply.get("sessionState")
    action = state.get("dialogAction") if isinstance(state, Mapping) else None
    return action.get("type") if isinstance(action, Mapping) else None


def _slot_json(value: _Value | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "shape": "Scalar",
        "value": {
            "originalValue": value.original,
            "interpretedValue": value.interpreted,
            "resolvedValues": [value.interpreted],
        },
    }


def _interpreted(slot: object) -> str | None:
    if not isinstance(slot, Mapping):
        return None
    value = slot.get("value")
    if not isinstance(value, Mapping):
        return None
    interpreted = value.get("interpretedValue")
    return interpreted if isinstance(interpreted, str) and interpreted else None


def _fold(text: str) -> str:
    """Lower case without accents, so "crédito" and "credito" match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _normal(text: str) -> str:
    folded = _fold(text).replace("\u2019", "'")
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", folded)).strip()


def _token(kind: str) -> str:
    return "x" + re.sub(r"[^a-z0-9]", "", kind.lower())


def _mask(text: str, spans: list[tuple[str, _Span]]) -> str:
    masked, last = [], 0
    for kind, span in spans:
        masked.append(text[last : span.start])
        masked.append(_token(kind))
        last = span.end
    masked.append(text[last:])
    return _SPACES.sub(" ", "".join(masked)).strip()


def _assign(order: list[Slot], spans: list[tuple[str, _Span]]) -> dict[str, _Value]:
    """Slot values in the sample's order, each from the next span of its type."""
    remaining = list(spans)
    values: dict[str, _Value] = {}
    for slot in order:
        for index, (kind, span) in enumerate(remaining):
            if kind == slot.slot_type_name:
                values[slot.name] = span.value
                del remaining[index]
                break
    return values


def _overlaps(one: _Span, other: _Span) -> bool:
    return one.start < other.end and other.start < one.end


def _numbers(text: str) -> Iterator[_Span]:
    for match in _NUMBER.finditer(text):
        whole, cents = match.group(1).replace(",", ""), match.group(2)
        interpreted = f"{whole}.{cents}" if cents else whole
        original = match.group(0).strip()
        yield _Span(match.start(), match.end(), _Value(original, interpreted))


def _regex_values(pattern: str, text: str) -> Iterator[_Span]:
    compiled = re.compile(pattern)
    for match in re.finditer(r"[a-z0-9]+", text):
        if compiled.fullmatch(match.group(0)):
            word = match.group(0)
            yield _Span(match.start(), match.end(), _Value(word, word))


def _custom_values(slot_type: SlotType, text: str) -> list[_Span]:
    """Values and synonyms found as whole words, longest first, not overlapping."""
    words = sorted(
        ((_fold(word), item.value) for item in slot_type.values
         for word in (item.value, *item.synonyms)),
        key=lambda pair: -len(pair[0]),
    )  # fmt: skip
    spans: list[_Span] = []
    for word, value in words:
        for match in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", text):
            span = _Span(match.start(), match.end(), _Value(match.group(0), value))
            if not any(_overlaps(span, other) for other in spans):
                spans.append(span)
    if slot_type.value_selection_strategy == "OriginalValue":
        spans = [
            _Span(s.start, s.end, _Value(s.value.original, s.value.original))
            for s in spans
        ]
    return sorted(spans, key=lambda span: span.start)
