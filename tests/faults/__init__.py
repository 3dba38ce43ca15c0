"""Faults of the account API, injected on loopback and heard through the handlers.

`tests.faults.server` is the fault-injecting server. This module names the
faults the tests and the report walk through (`CATALOGUE`), says which request
of each use-case a fault hits, and drives one use-case through one channel's
real handler (`Drive`): the caller is verified and the dialog held with every
request forwarded, then the scenario is set and the one turn under test runs.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Final

from attrs import frozen

from entrypoints.bootstrap import Service
from entrypoints.connect_lambda import ConnectEntrypoint
from entrypoints.demo import DEMO_PHONE, DEMO_PIN, connect_event, lex_event
from entrypoints.lex_lambda import LexEntrypoint
from tests.faults.server import FORWARD_ALL, Fault, FaultServer, Scenario, Target

CONNECT: Final = "Connect"
LEX: Final = "Lex"
CHANNELS: Final = (CONNECT, LEX)

VERIFY_CALLER: Final = "VerifyCaller"
CHECK_BALANCE: Final = "CheckBalance"
TRANSFER_FUNDS: Final = "TransferFunds"
REPORT_LOST_CARD: Final = "ReportLostCard"
WRITES: Final = (TRANSFER_FUNDS, REPORT_LOST_CARD)

# The request of each use-case a fault hits: the one its outcome hangs on.
TARGETS: Final = {
    VERIFY_CALLER: Target.VERIFY,
    CHECK_BALANCE: Target.READS,
    TRANSFER_FUNDS: Target.WRITES,
    REPORT_LOST_CARD: Target.WRITES,
}
# Lex only fulfils: callers are verified by the Connect flow.
USE_CASES: Final = {
    CONNECT: (VERIFY_CALLER, CHECK_BALANCE, TRANSFER_FUNDS, REPORT_LOST_CARD),
    LEX: (CHECK_BALANCE, TRANSFER_FUNDS, REPORT_LOST_CARD),
}

BUDGET_SECONDS: Final = 1.0
# Room for a one-second Retry-After and another attempt.
RETRY_AFTER_BUDGET_SECONDS: Final = 2.5

_PARAMETERS: Final = {
    CHECK_BALANCE: {"accountType": "savings"},
    TRANSFER_FUNDS: {
        "sourceAccountType": "savings",
        "targetAccountType": "checking",
        "amount": "250",
    },
    REPORT_LOST_CARD: {"cardLastFour": "5511"},
}
_SLOTS: Final = {
    CHECK_BALANCE: {"AccountType": "savings"},
    TRANSFER_FUNDS: {
        "SourceAccountType": "savings",
        "TargetAccountType": "checking",
        "TransferAmount": "250",
    },
    REPORT_LOST_CARD: {"CardLastFour": "5511"},
}


@frozen
class NamedFault:
    """A fault as the table names it, and the channel budget it runs under."""

    name: str
    fault: Fault
    times: int | None = None
    budget_seconds: float = BUDGET_SECONDS

    def scenario(self, use_case: str) -> Scenario:
        return Scenario(self.fault, TARGETS[use_case], self.times)

    @property
    def slug(self) -> str:
        return "-".join(self.name.replace(":", "").replace(",", "").split())


CATALOGUE: Final = (
    NamedFault("none (forwarded)", Fault.FORWARD),
    NamedFault("never answers", Fault.NEVER_ANSWER),
    NamedFault("one byte every 500 ms", Fault.DRIBBLE),
    NamedFault("closes before forwarding", Fault.CLOSE_BEFORE_FORWARD),
    NamedFault("closes after forwarding, every attempt", Fault.CLOSE_AFTER_FORWARD),
    NamedFault("closes after forwarding, once", Fault.CLOSE_AFTER_FORWARD, times=1),
    NamedFault("500", Fault.STATUS_500),
    NamedFault("503 then 200", Fault.STATUS_503, times=1),
    NamedFault(
        "429 Retry-After: 1 then 200",
        Fault.STATUS_429,
        times=1,
        budget_seconds=RETRY_AFTER_BUDGET_SECONDS,
    ),
    NamedFault("429 Retry-After: 1, no time to wait", Fault.STATUS_429, times=1),
    NamedFault("422 with an error body", Fault.STATUS_422),
    NamedFault("200 with invalid JSON", Fault.INVALID_JSON),
    NamedFault("200 with JSON of the wrong shape", Fault.WRONG_SHAPE),
)


@frozen
class Heard:
    """One reply of a handler, as the caller and the contact flow take it."""

    channel: str
    reply: dict[str, Any]
    seconds: float

    @property
    def message(self) -> str:
        if self.channel == CONNECT:
            return str(self.reply.get("message", ""))
        messages = self.reply.get("messages") or [{}]
        return str(messages[0].get("content", ""))

    @property
    def escalated(self) -> bool:
        if self.channel == CONNECT:
            return self.reply.get("escalate") == "true"
        attributes = self.reply["sessionState"].get("sessionAttributes") or {}
        return attributes.get("escalate") == "true"

    @property
    def status(self) -> str:
        """Connect's `status`; for Lex, the dialog action and the intent's state."""
        if self.channel == CONNECT:
            return str(self.reply.get("status"))
        state = self.reply["sessionState"]
        intent_state = (state.get("intent") or {}).get("state", "-")
        return f"{state['dialogAction']['type']} {intent_state}"

    @property
    def answered(self) -> bool:
        """The normal answer: what the caller asked for was done."""
        done = "OK" if self.channel == CONNECT else "Close Fulfilled"
        return self.status == done and not self.escalated


class Drive:
    """Runs use-cases through the real handlers of one live service."""

    def __init__(self, service: Service, server: FaultServer) -> None:
        self._server = server
        self._connect = ConnectEntrypoint(service)
        self._lex = LexEntrypoint(service)
        self.contact_id = str(uuid.uuid4())
        self.session_id = str(uuid.uuid4())

    def run(self, channel: str, use_case: str, scenario: Scenario) -> Heard:
        """Gets the turn ready with faults off, then sends it under `scenario`."""
        event = self.ready(channel, use_case)
        self._server.inject(scenario)
        return self.send(channel, event)

    def ready(self, channel: str, use_case: str) -> dict[str, Any]:
        """The event of the turn under test; earlier turns run with faults off."""
        self._server.inject(FORWARD_ALL)
        if use_case == VERIFY_CALLER:
            return self._verify_event()
        credentials = self.verify()
        if channel == CONNECT:
            event = connect_event(
                self.contact_id,
                DEMO_PHONE,
                {"operation": use_case, **_PARAMETERS[use_case]},
            )
            event["Details"]["ContactData"]["Attributes"] = credentials
            return event
        if use_case not in WRITES:
            return self._lex_event(use_case, "FulfillmentCodeHook", credentials)
        asked = self._confirmation_asked(use_case, credentials)
        return self._lex_event(use_case, "FulfillmentCodeHook", asked, "Confirmed")

    def send(self, channel: str, event: dict[str, Any]) -> Heard:
        handler = self._connect if channel == CONNECT else self._lex
        started = time.monotonic()
        reply = handler.handle(event, None)
        return Heard(channel, reply, time.monotonic() - started)

    def verify(self) -> dict[str, str]:
        """The session attributes of a verified caller."""
        reply = self._connect.handle(self._verify_event(), None)
        if reply.get("status") != "OK":
            raise AssertionError(f"the caller was not verified: {reply.get('reason')}")
        return {"customerId": reply["customerId"], "authToken": reply["authToken"]}

    def _verify_event(self) -> dict[str, Any]:
        parameters = {"operation": VERIFY_CALLER, "pin": DEMO_PIN}
        return connect_event(self.contact_id, DEMO_PHONE, parameters)

    def _confirmation_asked(
        self, use_case: str, attributes: dict[str, str]
    ) -> dict[str, str]:
        """The attributes after the bot asked to confirm: with the pending key."""
        event = self._lex_event(use_case, "DialogCodeHook", attributes)
        reply = self._lex.handle(event, None)
        state = reply["sessionState"]
        if state["dialogAction"]["type"] != "ConfirmIntent":
            raise AssertionError(f"no confirmation asked: {state['dialogAction']}")
        return dict(state["sessionAttributes"])

    def _lex_event(
        self,
        use_case: str,
        source: str,
        attributes: dict[str, str],
        confirmation: str = "None",
    ) -> dict[str, Any]:
        return lex_event(
            self.session_id,
            use_case,
            _SLOTS[use_case],
            source,
            attributes=attributes,
            transcript="yes" if confirmation == "Confirmed" else "please",
            confirmation=confirmation,
        )


# Opens a live service aimed at the fault server: `live_drive(budget_seconds)`.
DriveFactory = Callable[..., AbstractContextManager[Drive]]


def writes_per_key(server: FaultServer) -> Counter[str]:
    """How many writes the sandbox bank carried out under each idempotency key."""
    return Counter(entry.idempotency_key for entry in server.bank.ledger)
