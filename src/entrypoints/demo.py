"""A scripted call on the sandbox bank, through the real Lambda handlers.

The caller is verified by the Connect handler, then talks to the Lex handler.
This module plays Lex's part only as far as the script needs: it sends the
events Lex would send and follows the dialog action of each reply.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from attrs import define, field

from entrypoints.bootstrap import Service
from entrypoints.connect_lambda import ConnectEntrypoint
from entrypoints.lex_lambda import LexEntrypoint

DEMO_PHONE = "+15555550100"
DEMO_PIN = "2468"

Print = Callable[[str], None]


def lex_event(
    session_id: str,
    intent: str,
    slots: Mapping[str, str | None],
    source: str,
    *,
    attributes: Mapping[str, str],
    transcript: str,
    confirmation: str = "None",
    input_mode: str = "Text",
    locale: str = "en_US",
) -> dict[str, Any]:
    """A Lex V2 code hook event of the shape Lex sends (message version 1.0)."""
    lex_slots = {name: _slot(value) for name, value in slots.items()}
    state = "ReadyForFulfillment" if source == "FulfillmentCodeHook" else "InProgress"
    return {
        "messageVersion": "1.0",
        "invocationSource": source,
        "inputMode": input_mode,
        "responseContentType": "text/plain; charset=utf-8",
        "sessionId": session_id,
        "inputTranscript": transcript,
        "bot": {
            "id": "DEMOBOTID0",
            "name": "bankbot",
            "localeId": locale,
            "version": "DRAFT",
            "aliasId": "TSTALIASID",
            "aliasName": "TestBotAlias",
        },
        "interpretations": [],
        "proposedNextState": None,
        "requestAttributes": None,
        "sessionState": {
            "sessionAttributes": dict(attributes),
            "intent": {
                "name": intent,
                "slots": lex_slots,
                "state": state,
                "confirmationState": confirmation,
            },
            "originatingRequestId": str(uuid.uuid4()),
        },
    }


def connect_event(
    contact_id: str,
    phone: str,
    parameters: Mapping[str, str],
    language: str = "en-US",
) -> dict[str, Any]:
    """A Connect "Invoke AWS Lambda function" event for an inbound voice call."""
    return {
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {
                "Attributes": {},
                "Channel": "VOICE",
                "ContactId": contact_id,
                "CustomerEndpoint": {"Address": phone, "Type": "TELEPHONE_NUMBER"},
                "InitialContactId": contact_id,
                "InitiationMethod": "INBOUND",
                "LanguageCode": language,
            },
            "Parameters": dict(parameters),
        },
    }


def _slot(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "shape": "Scalar",
        "value": {
            "originalValue": value,
            "interpretedValue": value,
            "resolvedValues": [value],
        },
    }


@define
class DemoCall:
    """One caller's conversation: the Lex session and what the bot last asked."""

    lex: LexEntrypoint
    say: Print
    session_id: str = field(factory=lambda: str(uuid.uuid4()))
    attributes: dict[str, str] = field(factory=dict)
    intent: str = ""
    slots: dict[str, str | None] = field(factory=dict)

    def caller(self, line: str, intent: str, **slots: str | None) -> None:
        """The caller starts a request: Lex has recognised `intent` and `slots`."""
        self.say(f"Caller: {line}")
        self.intent, self.slots = intent, dict(slots)
        self._turn(line, "None")

    def answer(self, line: str, slot: str | None = None) -> None:
        """The caller answers the bot's last question (a slot, or yes and no)."""
        self.say(f"Caller: {line}")
        if slot is not None:
            self.slots[slot] = line
            self._turn(line, "None")
        else:
            yes = line.strip().lower() in {"yes", "yes please", "go ahead", "sure"}
            self._turn(line, "Confirmed" if yes else "Denied")

    def _turn(self, line: str, confirmation: str) -> None:
        reply = self._send("DialogCodeHook", line, confirmation)
        if reply["sessionState"]["dialogAction"]["type"] == "Delegate":
            reply = self._send("FulfillmentCodeHook", line, confirmation)
        for message in reply.get("messages", []):
            self.say(f"Bot:    {message['content']}")

    def _send(self, source: str, line: str, confirmation: str) -> dict[str, Any]:
        event = lex_event(
            self.session_id,
            self.intent,
            self.slots,
            source,
            attributes=self.attributes,
            transcript=line,
            confirmation=confirmation,
        )
        reply = self.lex.handle(event, None)
        state = reply["sessionState"]
        self.attributes = dict(state.get("sessionAttributes") or {})
        slots = (state.get("intent") or {}).get("slots") or {}
        for name in self.slots:
            if name in slots and slots[name] is None:
                self.slots[name] = None
        return reply


def run_demo(service: Service, say: Print = print) -> None:
    """Verifies the demo caller, then checks a balance, moves money, blocks a card."""
    connect = ConnectEntrypoint(service)
    contact = str(uuid.uuid4())
    say(f"(Call from {DEMO_PHONE}. The flow asks for a PIN; the caller keys it in.)")
    verified = connect.handle(
        connect_event(
            contact, DEMO_PHONE, {"operation": "VerifyCaller", "pin": DEMO_PIN}
        ),
        None,
    )
    say(f"Bot:    {verified['message']}")
    if verified.get("status") != "OK":
        return

    call = DemoCall(LexEntrypoint(service), say)
    call.attributes = {
        "customerId": verified["customerId"],
        "authToken": verified["authToken"],
    }
    call.caller(
        "What's the balance of my checking account?",
        "CheckBalance",
        AccountType="checking",
    )
    call.caller("And my credit card?", "CheckBalance", AccountType="credit")
    call.caller(
        "Move 250 dollars from savings to checking.",
        "TransferFunds",
        SourceAccountType="savings",
        TargetAccountType="checking",
        TransferAmount="250",
    )
    call.answer("Yes")
    call.caller("How much is in checking now?", "CheckBalance", AccountType="checking")
    call.caller("I lost my card.", "ReportLostCard", CardLastFour=None)
    call.answer("5511", slot="CardLastFour")
    call.answer("Yes")
