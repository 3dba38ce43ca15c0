"""Amazon Connect's "Invoke AWS Lambda function" block, in and out.

Inbound, `parse_call` reads the few fields of a ``ContactFlowEvent`` the
service needs and never raises: whatever is missing, null or of the wrong type
is left out and named in `ConnectCall.problems`. ``Details.Parameters.operation``
selects the use-case; `ConnectOperations` runs it and turns its outcome into
the flat string map the flow reads as ``$.External``: always ``status`` (OK,
REJECTED, UNAUTHENTICATED or ERROR) and a speakable ``message``, plus the
operation's own keys. Business outcomes are statuses; errors the use-cases
raise are turned into replies only by `failure_reply`. The ``message`` speaks
the contact's language (``ContactData.LanguageCode``: ``es-US`` is Spanish;
missing or unknown is English).

Connect retries a failed invocation up to three times, so each write carries
an idempotency key derived from the contact, the operation, the customer and
the parameters: a retry asks the bank for the same write and gets the first
result back.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Final

from attrs import field, frozen

from adapters import messages
from adapters.messages import Messages
from adapters.speech import Speech, to_plain_text
from banking_domain.errors import DeadlineExceeded, DependencyError, NotAuthenticated
from banking_domain.identity import Credentials
from banking_domain.model import AccountType
from banking_domain.usecases import (
    BalanceReported,
    CallerVerified,
    CardBlocked,
    TransferCompleted,
    TransferProblem,
    TransferRequest,
    UseCases,
)

OK: Final = "OK"
REJECTED: Final = "REJECTED"
UNAUTHENTICATED: Final = "UNAUTHENTICATED"
ERROR: Final = "ERROR"
STATUSES: Final = frozenset({OK, REJECTED, UNAUTHENTICATED, ERROR})

# Connect refuses a Lambda result of 32 KB or more (UTF-8).
MAX_REPLY_BYTES: Final = 32 * 1024

VERIFY_CALLER: Final = "VerifyCaller"
CHECK_BALANCE: Final = "CheckBalance"
TRANSFER_FUNDS: Final = "TransferFunds"
REPORT_LOST_CARD: Final = "ReportLostCard"
OPERATIONS: Final = (VERIFY_CALLER, CHECK_BALANCE, TRANSFER_FUNDS, REPORT_LOST_CARD)
_BY_FOLDED_NAME = {name.casefold(): name for name in OPERATIONS}

# The parameters each write's idempotency key is made of.
_TRANSFER_PARAMETERS = ("sourceAccountType", "targetAccountType", "amount")
_CARD_PARAMETERS = ("cardLastFour",)

_log = logging.getLogger(__name__)


def _frozen_strings(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@frozen
class ConnectCall:
    """What one Connect invocation asks for, as far as the event could be read."""

    contact_id: str | None
    operation: str | None
    parameters: Mapping[str, str] = field(converter=_frozen_strings, repr=False)
    phone: str | None = field(repr=False)
    attributes: Mapping[str, str] = field(converter=_frozen_strings, repr=False)
    channel: str | None
    # Short words naming what was wrong with the event; never its values.
    problems: tuple[str, ...] = ()
    # ContactData.LanguageCode as Connect sends it, e.g. ``es-US``.
    language: str | None = None

    @property
    def credentials(self) -> Credentials:
        """The identity the contact attributes claim; the use-case checks it."""
        return Credentials(
            self.attributes.get("customerId"), self.attributes.get("authToken")
        )

    @property
    def says(self) -> Messages:
        """What the bot says in the contact's language."""
        return messages.for_locale(self.language)


# -------------------------------------------------------------------- inbound


def parse_call(event: object) -> ConnectCall:
    """The call an event describes; never raises, whatever the event holds."""
    try:
        return _parse(event)
    except Exception:
        # Not expected from JSON input; still, a Connect block must get a reply.
        _log.exception("connect event could not be read")
        return ConnectCall(None, None, {}, None, {}, None, ("unreadable",))


def _parse(event: object) -> ConnectCall:
    problems: list[str] = []
    root = _mapping(event, "not_an_object", problems)
    details = _mapping(root.get("Details"), "no_details", problems)
    contact = _mapping(details.get("ContactData"), "no_contact_data", problems)
    parameters = _strings(details.get("Parameters"), "parameter", problems)
    attributes = _strings(contact.get("Attributes"), "attribute", problems)

    contact_id = _text(contact.get("ContactId"))
    if contact_id is None:
        problems.append("no_contact_id")
    endpoint = contact.get("CustomerEndpoint")
    phone = _text(endpoint.get("Address")) if isinstance(endpoint, Mapping) else None
    operation = _text(parameters.get("operation"))
    if operation is None:
        problems.append("no_operation")

    return ConnectCall(
        contact_id=contact_id,
        operation=operation,
        parameters=parameters,
        phone=phone,
        attributes=attributes,
        channel=_text(contact.get("Channel")),
        problems=tuple(problems),
        language=_text(contact.get("LanguageCode")),
    )


def _mapping(value: object, problem: str, problems: list[str]) -> Mapping[str, object]:
    if isinstance(value, Mapping):
        return value
    problems.append(problem)
    return {}


def _strings(value: object, kind: str, problems: list[str]) -> dict[str, str]:
    """The string entries of a map; anything else is dropped and noted."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{kind}s_not_a_map")
        return {}
    kept = {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}
    if len(kept) != len(value):
        problems.append(f"{kind}_dropped")
    return kept


def _text(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


# ----------------------------------------------------------------- operations

Reply = dict[str, str]


class ConnectOperations:
    """Runs the operation a call names and answers with a Connect reply.

    Errors the use-cases raise (`NotAuthenticated`, `DependencyError`...) pass
    through untouched; the entrypoint hands them to `failure_reply`.
    """

    def __init__(self, use_cases: UseCases) -> None:
        self._use_cases = use_cases
        self._operations: dict[str, Callable[[ConnectCall], Awaitable[Reply]]] = {
            VERIFY_CALLER: self._verify_caller,
            CHECK_BALANCE: self._check_balance,
            TRANSFER_FUNDS: self._transfer_funds,
            REPORT_LOST_CARD: self._report_lost_card,
        }

    async def respond(self, call: ConnectCall) -> Reply:
        name = known_operation(call)
        if name is None:
            reason = "unknown_operation" if call.operation else "missing_operation"
            return _escalation(reason, call.says)
        return within_limits(await self._operations[name](call), call.says)

    async def _verify_caller(self, call: ConnectCall) -> Reply:
        outcome = await self._use_cases.verify_caller(
            call.phone or "", call.parameters.get("pin", "")
        )
        if not isinstance(outcome, CallerVerified):
            return _rejected(outcome.reason.value, call.says.caller_refused(outcome))
        return _reply(
            OK,
            call.says.caller_verified(outcome),
            customerId=outcome.customer.customer_id.value,
            authToken=outcome.token.value,
        )

    async def _check_balance(self, call: ConnectCall) -> Reply:
        outcome = await self._use_cases.check_balance(
            call.credentials, call.parameters.get("accountType")
        )
        if not isinstance(outcome, BalanceReported):
            speech = call.says.balance_problem(outcome)
            return _rejected(outcome.problem.value, speech)
        account = outcome.account
        reply = _reply(
            OK,
            call.says.balance(outcome),
            accountType=account.account_type.value,
            accountLastFour=account.last_four,
            balance=account.available.to_text(),
            currency=account.currency,
        )
        credit = outcome.credit_available
        if account.account_type is AccountType.CREDIT and account.owed is not None:
            reply["owed"] = account.owed.to_text()
        if account.account_type is AccountType.CREDIT and credit is not None:
            reply["creditAvailable"] = credit.to_text()
        return reply

    async def _transfer_funds(self, call: ConnectCall) -> Reply:
        if call.contact_id is None:
            return _escalation("missing_contact_id", call.says)
        request = TransferRequest(
            source=call.parameters.get("sourceAccountType"),
            target=call.parameters.get("targetAccountType"),
            amount=call.parameters.get("amount"),
        )
        key = idempotency_key(call, TRANSFER_FUNDS, _TRANSFER_PARAMETERS)
        outcome = await self._use_cases.transfer_funds(call.credentials, request, key)

        if not isinstance(outcome, TransferCompleted):
            issue = outcome.issue
            reply = _rejected(issue.problem.value, call.says.transfer_issue(issue))
            reply["field"] = issue.field.value
            if issue.problem is TransferProblem.OVER_LIMIT and issue.limit is not None:
                reply["limit"] = issue.limit.to_text()
            return reply
        moved = outcome.transfer
        return _reply(
            OK,
            call.says.transfer_completed(outcome),
            transferId=outcome.transfer_id,
            amount=moved.amount.to_text(),
            currency=moved.amount.currency,
            sourceLastFour=moved.source.last_four,
            targetLastFour=moved.target.last_four,
        )

    async def _report_lost_card(self, call: ConnectCall) -> Reply:
        if call.contact_id is None:
            return _escalation("missing_contact_id", call.says)
        last_four = call.parameters.get("cardLastFour")
        key = idempotency_key(call, REPORT_LOST_CARD, _CARD_PARAMETERS)
        outcome = await self._use_cases.report_lost_card(
            call.credentials, last_four, key
        )

        if not isinstance(outcome, CardBlocked):
            issue = outcome.issue
            reply = _rejected(issue.problem.value, call.says.card_issue(issue))
            if issue.choices:
                reply["cardChoices"] = ",".join(issue.choices)
            return reply
        return _reply(
            OK,
            call.says.card_blocked(outcome),
            caseReference=outcome.case_reference,
            cardLastFour=outcome.card.last_four,
            alreadyBlocked=_flag(outcome.already_blocked),
            replacementOrdered=_flag(outcome.replacement_ordered),
        )


def known_operation(call: ConnectCall) -> str | None:
    """The operation's canonical name; flows may write it in any case."""
    if call.operation is None:
        return None
    return _BY_FOLDED_NAME.get(call.operation.casefold())


def idempotency_key(call: ConnectCall, operation: str, names: tuple[str, ...]) -> str:
    """The same key for every retry of one write within one contact.

    Parameter values are compared as the caller meant them: surrounding and
    repeated spaces and letter case do not make a different request.
    """
    parameters = sorted(
        (name, " ".join(value.split()).casefold())
        for name in names
        if (value := call.parameters.get(name)) is not None
    )
    material = [call.contact_id, operation, call.credentials.customer_id, parameters]
    encoded = json.dumps(material, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


# --------------------------------------------------------------------- errors


def failure_reply(call: ConnectCall, error: BaseException) -> Reply:
    """The reply for an error a use-case raised; the one place this happens.

    The caller logs the error; this only decides what the flow hears.
    """
    says = call.says
    if isinstance(error, NotAuthenticated):
        reply = _reply(UNAUTHENTICATED, says.verify_first, reason="not_verified")
    elif isinstance(error, DeadlineExceeded):
        reply = _escalation("deadline_exceeded", says)
    elif isinstance(error, DependencyError):
        reply = _escalation("dependency_failed", says)
    else:
        reply = _escalation("internal_error", says)
    operation = known_operation(call)
    if operation is not None:
        reply["operation"] = operation
    return within_limits(reply, says)


# -------------------------------------------------------------------- replies


def within_limits(reply: Mapping[str, object], says: Messages | None = None) -> Reply:
    """The reply if Connect can take it, else a minimal ERROR reply.

    The minimal reply speaks `says`'s locale, English without it.

    Connect wants a flat map of strings under 32 KB, with our `status` and a
    `message` the flow can play; anything else would take the block's Error
    branch with nothing said.
    """
    flat = {k: v for k, v in reply.items() if isinstance(k, str) and isinstance(v, str)}
    if (
        len(flat) == len(reply)
        and flat.get("status") in STATUSES
        and flat.get("message")
        and reply_size(flat) < MAX_REPLY_BYTES
    ):
        return flat
    _log.error("connect reply out of bounds, sent a minimal one instead")
    return _escalation("reply_too_large", says or messages.for_locale(None))


def reply_size(reply: Mapping[str, str]) -> int:
    """Bytes of the reply as Connect receives it: JSON in UTF-8."""
    return len(json.dumps(reply, ensure_ascii=False).encode("utf-8"))


def _reply(status: str, message: Speech, **fields: str) -> Reply:
    return {"status": status, "message": to_plain_text(message), **fields}


def _rejected(reason: str, message: Speech) -> Reply:
    return _reply(REJECTED, message, reason=reason)


def _escalation(reason: str, says: Messages) -> Reply:
    return _reply(ERROR, says.escalate, reason=reason, escalate="true")


def _flag(value: bool) -> str:
    return "true" if value else "false"
