"""What the bot answers on each Lex V2 turn, intent by intent.

`LexDialog` looks the turn's intent up in a small table (`intent_handlers`) and
asks its handler for the dialog or the fulfilment reply. A handler is any
object with ``dialog(turn)`` and ``fulfil(turn)``; adding an intent is a class
and one line in that table. Each returns an `Answer`: the `LexReply` itself
when the event alone decides it (a word check, a "no", a help text), or an
awaitable when the bank or a secret must be asked. Only the awaitable runs on
the event loop, under the turn's deadline: a dialog turn answered at once
skips the loop, which would cost more than the rest of the turn together.

Dialog calls never change anything: they only use the use-cases' read-only
checks. Writes (a transfer, a card block) happen at fulfilment, only once the
caller has confirmed, and carry an idempotency key minted when the question was
asked, so the same fulfilment event arriving again changes nothing twice.

Errors are not caught here: `failure_reply` is the one place that turns one
into a reply, and the entrypoint calls it. Every reply, that one included,
speaks the turn's locale (``bot.localeId``); see `messages.for_locale`.
"""

from __future__ import annotations

import abc
import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Protocol, TypeAlias

import attrs

from adapters import messages
from adapters.lex.events import LexTurn
from adapters.lex.responses import (
    Intent,
    LexReply,
    Message,
    close,
    confirm_intent,
    delegate,
    elicit_intent,
    elicit_slot,
    to_wire,
)
from adapters.messages import Messages
from adapters.speech import Speech
from banking_domain.errors import NotAuthenticated
from banking_domain.identity import Credentials
from banking_domain.model import AccountType
from banking_domain.usecases import (
    BalanceNotReported,
    BalanceProblem,
    CardIssue,
    CardNotBlocked,
    CardProblem,
    CheckBalance,
    ReportLostCard,
    TransferField,
    TransferFunds,
    TransferIssue,
    TransferProblem,
    TransferRejected,
    TransferRequest,
    UseCases,
)

FALLBACK_INTENT: Final = "FallbackIntent"
PENDING_KEY: Final = "pendingKey"
PENDING_FOR: Final = "pendingFor"
AUTH_REQUIRED: Final = "authRequired"
ESCALATE: Final = "escalate"

_KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{8,128}")


# A reply decided from the event alone, or one that must await the bank.
Answer: TypeAlias = LexReply | Awaitable[LexReply]
WireAnswer: TypeAlias = dict[str, Any] | Awaitable[dict[str, Any]]


class IntentHandler(Protocol):
    def dialog(self, turn: LexTurn) -> Answer: ...

    def fulfil(self, turn: LexTurn) -> Answer: ...


def _new_key() -> str:
    return uuid.uuid4().hex


def intent_handlers(
    use_cases: UseCases, new_key: Callable[[], str]
) -> dict[str, IntentHandler]:
    """The bot's intents by name; a name not here gets the help text."""
    return {
        "CheckBalance": BalanceIntent(use_cases.check_balance),
        "TransferFunds": TransferIntent(use_cases.transfer_funds, new_key),
        "ReportLostCard": LostCardIntent(use_cases.report_lost_card, new_key),
        FALLBACK_INTENT: NotUnderstood(apologise=True),
    }


class LexDialog:
    """Answers one Lex V2 turn; may raise `NotAuthenticated` or `DependencyError`."""

    def __init__(
        self, use_cases: UseCases, new_key: Callable[[], str] = _new_key
    ) -> None:
        self._handlers = intent_handlers(use_cases, new_key)
        self._unknown = NotUnderstood(apologise=False)
        self._unnamed = self._handlers[FALLBACK_INTENT]

    def respond(self, turn: LexTurn) -> WireAnswer:
        """The wire reply, or an awaitable of it when the bank must be asked."""
        if turn.intent_name is None:
            handler = self._unnamed
        else:
            handler = self._handlers.get(turn.intent_name, self._unknown)
        answer = handler.fulfil(turn) if turn.is_fulfilment else handler.dialog(turn)
        if isinstance(answer, LexReply):
            return to_wire(answer)
        return _wired(answer)


async def _wired(answer: Awaitable[LexReply]) -> dict[str, Any]:
    return to_wire(await answer)


def failure_reply(turn: LexTurn, error: BaseException) -> dict[str, Any]:
    """The reply for a turn that raised: verify first, or hand over to an agent.

    The only mapping from errors to replies for Lex. It works for any turn,
    including one read from garbage.
    """
    intent = _echo(turn) if turn.intent_name else Intent(FALLBACK_INTENT)
    says = _words(turn)
    if isinstance(error, NotAuthenticated):
        attributes = {**turn.session_attributes, AUTH_REQUIRED: "true"}
        speech = says.verify_first
    else:
        attributes = {**turn.session_attributes, ESCALATE: "true"}
        speech = says.escalate
    return to_wire(close(intent, "Failed", attributes, _say(turn, speech)))


# ------------------------------------------------------------------ handlers


class NotUnderstood:
    """Any intent the bot cannot act on: say what it can do, ask again.

    With `apologise`, first say that the words were not understood.
    """

    def __init__(self, *, apologise: bool) -> None:
        self._apologise = apologise

    def dialog(self, turn: LexTurn) -> LexReply:
        says = _words(turn)
        speech = says.not_understood if self._apologise else says.help
        return elicit_intent(turn.session_attributes, _say(turn, speech))

    def fulfil(self, turn: LexTurn) -> LexReply:
        return self.dialog(turn)


class BalanceIntent:
    SLOT: Final = "AccountType"

    def __init__(self, check_balance: CheckBalance) -> None:
        self._check_balance = check_balance

    def dialog(self, turn: LexTurn) -> LexReply:
        # Only the words are checked here; the balance itself is read once, at
        # fulfilment, where the caller's token is checked too.
        words = turn.slots.get(self.SLOT)
        if words is not None and AccountType.parse(words) is None:
            problem = BalanceNotReported(BalanceProblem.UNKNOWN_ACCOUNT_TYPE)
            return _elicit(turn, self.SLOT, _words(turn).balance_problem(problem))
        return delegate(_echo(turn), turn.session_attributes)

    async def fulfil(self, turn: LexTurn) -> LexReply:
        outcome = await self._check_balance(
            _credentials(turn), turn.slots.get(self.SLOT)
        )
        if isinstance(outcome, BalanceNotReported):
            return _elicit(turn, self.SLOT, _words(turn).balance_problem(outcome))
        speech = _words(turn).balance(outcome)
        return close(
            _echo(turn), "Fulfilled", turn.session_attributes, _say(turn, speech)
        )


class _ConfirmedChange(abc.ABC):
    """An intent that changes something once the caller has said yes.

    Subclasses name the slots that describe the change, review them and act.
    """

    slots: tuple[str, ...] = ()

    def __init__(self, new_key: Callable[[], str]) -> None:
        self._new_key = new_key

    @abc.abstractmethod
    async def review(self, turn: LexTurn) -> LexReply | Speech | None:
        """A reply asking again, None while a slot is missing, else the question."""

    @abc.abstractmethod
    async def act(self, turn: LexTurn, key: str) -> LexReply:
        """Makes the change under the idempotency key `key`."""

    def ask_missing(self, turn: LexTurn) -> LexReply:
        """The fulfilment reply while a slot is still missing."""
        return delegate(_echo(turn), turn.session_attributes)

    def dialog(self, turn: LexTurn) -> Answer:
        if turn.confirmation_state == "Denied":
            return _cancelled(turn)
        return self._review_in_dialog(turn)

    def fulfil(self, turn: LexTurn) -> Answer:
        if turn.confirmation_state == "Denied":
            return _cancelled(turn)
        if turn.confirmation_state == "Confirmed":
            return self.act(turn, self._write_key(turn))
        return self._review_at_fulfilment(turn)

    async def _review_in_dialog(self, turn: LexTurn) -> LexReply:
        reviewed = await self.review(turn)
        if isinstance(reviewed, LexReply):
            return reviewed
        if reviewed is None or turn.confirmation_state == "Confirmed":
            return delegate(_echo(turn), turn.session_attributes)
        return self._confirm(turn, reviewed)

    async def _review_at_fulfilment(self, turn: LexTurn) -> LexReply:
        # The bot asked no confirmation of its own: ask it here.
        reviewed = await self.review(turn)
        if isinstance(reviewed, LexReply):
            return reviewed
        if reviewed is None:
            return self.ask_missing(turn)
        return self._confirm(turn, reviewed)

    def _confirm(self, turn: LexTurn, question: Speech) -> LexReply:
        attributes = {
            **turn.session_attributes,
            PENDING_KEY: self._new_key(),
            PENDING_FOR: self._fingerprint(turn),
        }
        return confirm_intent(_echo(turn), attributes, _say(turn, question))

    def _fingerprint(self, turn: LexTurn) -> str:
        """Which request a pending key was minted for: intent and slot values."""
        return _digest(turn.intent_name or "", *self._normalised(turn))[:16]

    def _write_key(self, turn: LexTurn) -> str:
        """The key minted with the question, else one derived from the request.

        A derived key still dedupes a replayed event, but it also merges two
        identical requests in one session that came without our question.
        """
        pending = turn.session_attributes.get(PENDING_KEY, "")
        minted_for = turn.session_attributes.get(PENDING_FOR)
        if minted_for == self._fingerprint(turn) and _KEY_PATTERN.fullmatch(pending):
            return pending
        parts = (turn.session_id, turn.intent_name or "", *self._normalised(turn))
        return "lex-" + _digest(*parts)

    def _normalised(self, turn: LexTurn) -> list[str]:
        return [" ".join((turn.slots.get(s) or "").lower().split()) for s in self.slots]


class TransferIntent(_ConfirmedChange):
    slots = ("SourceAccountType", "TargetAccountType", "TransferAmount")
    _SLOT_OF: Final = {
        TransferField.SOURCE: "SourceAccountType",
        TransferField.TARGET: "TargetAccountType",
        TransferField.AMOUNT: "TransferAmount",
    }

    def __init__(
        self, transfer_funds: TransferFunds, new_key: Callable[[], str]
    ) -> None:
        super().__init__(new_key)
        self._transfer_funds = transfer_funds

    async def review(self, turn: LexTurn) -> LexReply | Speech | None:
        request = self._request(turn)
        checked = await self._transfer_funds.check(_credentials(turn), request)
        if isinstance(checked, TransferIssue):
            return self._ask_again(turn, checked)
        if checked is None:
            return None
        return _words(turn).confirm_transfer(checked)

    def ask_missing(self, turn: LexTurn) -> LexReply:
        missing = next(
            (f for f, s in self._SLOT_OF.items() if turn.slots.get(s) is None),
            TransferField.SOURCE,
        )
        return self._ask_again(turn, TransferIssue(missing, TransferProblem.MISSING))

    async def act(self, turn: LexTurn, key: str) -> LexReply:
        outcome = await self._transfer_funds(
            _credentials(turn), self._request(turn), key
        )
        if isinstance(outcome, TransferRejected):
            return self._ask_again(turn, outcome.issue)
        speech = _words(turn).transfer_completed(outcome)
        return close(_echo(turn), "Fulfilled", _settled(turn), _say(turn, speech))

    def _request(self, turn: LexTurn) -> TransferRequest:
        source, target, amount = (turn.slots.get(slot) for slot in self.slots)
        return TransferRequest(source, target, amount)

    def _ask_again(self, turn: LexTurn, issue: TransferIssue) -> LexReply:
        slot = self._SLOT_OF[issue.field]
        return _elicit(turn, slot, _words(turn).transfer_issue(issue))


class LostCardIntent(_ConfirmedChange):
    SLOT: Final = "CardLastFour"
    slots = (SLOT,)

    def __init__(
        self, report_lost_card: ReportLostCard, new_key: Callable[[], str]
    ) -> None:
        super().__init__(new_key)
        self._report_lost_card = report_lost_card

    async def review(self, turn: LexTurn) -> LexReply | Speech | None:
        words = turn.slots.get(self.SLOT)
        card = await self._report_lost_card.check(_credentials(turn), words)
        if isinstance(card, CardIssue):
            return self._ask_again(turn, card)
        question = _words(turn).confirm_card_block(card.last_four)
        if words is None:
            # The caller's only card: the confirmation fills the slot, so that
            # Lex has nothing left to ask and fulfilment blocks this card.
            slots = {**turn.slots, self.SLOT: card.last_four}
            return self._confirm(attrs.evolve(turn, slots=slots), question)
        return question

    async def act(self, turn: LexTurn, key: str) -> LexReply:
        words = turn.slots.get(self.SLOT)
        outcome = await self._report_lost_card(_credentials(turn), words, key)
        if isinstance(outcome, CardNotBlocked):
            return self._ask_again(turn, outcome.issue)
        speech = _words(turn).card_blocked(outcome)
        return close(_echo(turn), "Fulfilled", _settled(turn), _say(turn, speech))

    def _ask_again(self, turn: LexTurn, issue: CardIssue) -> LexReply:
        speech = _words(turn).card_issue(issue)
        if issue.problem is CardProblem.NO_CARDS:
            # Asking again cannot help: there is nothing to block.
            return close(_echo(turn), "Fulfilled", _settled(turn), _say(turn, speech))
        return _elicit(turn, self.SLOT, speech)


# ------------------------------------------------------------------- helpers


def _credentials(turn: LexTurn) -> Credentials:
    attributes = turn.session_attributes
    return Credentials(attributes.get("customerId"), attributes.get("authToken"))


def _echo(turn: LexTurn) -> Intent:
    """The turn's intent as the reply carries it back."""
    name = turn.intent_name or FALLBACK_INTENT
    return Intent(name, dict(turn.slots), turn.intent_state, turn.confirmation_state)


def _words(turn: LexTurn) -> Messages:
    """What the bot says in the turn's locale (``bot.localeId``)."""
    return messages.for_locale(turn.locale)


def _say(turn: LexTurn, speech: Speech) -> Message:
    return Message.speak(speech, turn.voice)


def _elicit(turn: LexTurn, slot: str, speech: Speech) -> LexReply:
    return elicit_slot(_echo(turn), slot, turn.session_attributes, _say(turn, speech))


def _cancelled(turn: LexTurn) -> LexReply:
    # The caller said no: a choice, not a failure, so the intent is done.
    message = _say(turn, _words(turn).cancelled)
    return close(_echo(turn), "Fulfilled", _settled(turn), message)


def _settled(turn: LexTurn) -> Mapping[str, str]:
    """The session attributes without the key of a question now answered."""
    return {
        name: value
        for name, value in turn.session_attributes.items()
        if name not in (PENDING_KEY, PENDING_FOR)
    }


def _digest(*parts: str) -> str:
    joined = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(joined).hexdigest()
