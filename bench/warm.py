"""Warm turns: each handler scenario timed thousands of times, sandbox in-process.

Run as `python -m bench.warm TURNS`; prints one JSON object. Writes (transfers,
card blocks) get a fresh idempotency key each time, from an untimed dialog turn
for Lex and a fresh contact id for Connect, so every timed turn is a real write
and not a replay. Log lines are formatted as usual and then discarded.
"""

from __future__ import annotations

import gc
import io
import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from banking_domain.model import CustomerId
from bench.stats import tails
from entrypoints.bootstrap import Service, build_service
from entrypoints.connect_lambda import ConnectEntrypoint
from entrypoints.demo import DEMO_PHONE, DEMO_PIN, connect_event, lex_event
from entrypoints.lex_lambda import LexEntrypoint
from entrypoints.settings import Settings

CUSTOMER = "C-1001"
CARD = "5511"
WARMUP = 50

Event = dict[str, Any]
# Builds the next event, untimed; may run handler turns of its own.
Source = Callable[[int], Event]


class Discard(io.StringIO):
    """A log stream that keeps nothing, so neither time nor memory grows with it."""

    def write(self, text: str) -> int:
        return len(text)


def sandbox_service() -> Service:
    return build_service(Settings(mode="sandbox"), log_stream=Discard())


def session(service: Service) -> dict[str, str]:
    """Session attributes of a verified caller, as the Connect flow sets them."""
    issued = service.runner.run(lambda: service.tokens.issue(CustomerId(CUSTOMER)), 5.0)
    return {"customerId": CUSTOMER, "authToken": issued.value}


def lex_outcome(reply: dict[str, Any]) -> str:
    state = reply.get("sessionState", {})
    action = state.get("dialogAction", {}).get("type", "?")
    return f"{action}:{(state.get('intent') or {}).get('state', '-')}"


def connect_outcome(reply: dict[str, str]) -> str:
    return reply.get("status", "?")


# ------------------------------------------------------------------ scenarios


class Scenarios:
    """Every Lex intent and invocation source, every Connect operation."""

    def __init__(self, service: Service) -> None:
        self.lex = LexEntrypoint(service)
        self.connect = ConnectEntrypoint(service)
        self.attributes = session(service)
        self.conversation = str(uuid.uuid4())

    def lex_turn(self, intent: str, slots: dict[str, str | None], source: str) -> Event:
        return lex_event(
            self.conversation,
            intent,
            slots,
            source,
            attributes=self.attributes,
            transcript="bench",
        )

    def confirmed(self, intent: str, slots: dict[str, str | None]) -> Event:
        """A fulfilment event carrying the key the dialog turn just minted."""
        asked = self.lex.handle(self.lex_turn(intent, slots, "DialogCodeHook"), None)
        attributes = asked["sessionState"]["sessionAttributes"]
        event = self.lex_turn(intent, slots, "FulfillmentCodeHook")
        event["sessionState"]["sessionAttributes"] = attributes
        event["sessionState"]["intent"]["confirmationState"] = "Confirmed"
        return event

    def call(self, parameters: dict[str, str], verified: bool = True) -> Event:
        event = connect_event(str(uuid.uuid4()), DEMO_PHONE, parameters)
        if verified:
            event["Details"]["ContactData"]["Attributes"] = dict(self.attributes)
        return event

    def lex_sources(self) -> dict[str, Source]:
        balance = {"AccountType": "checking"}
        card = {"CardLastFour": CARD}

        def fixed(event: Event) -> Source:
            return lambda _: event

        def transfer(index: int) -> dict[str, str | None]:
            # Back and forth, so thousands of transfers leave the balances alone.
            accounts = ("checking", "savings")[:: 1 if index % 2 else -1]
            return {
                "SourceAccountType": accounts[0],
                "TargetAccountType": accounts[1],
                "TransferAmount": "1.00",
            }

        dialog, fulfil = "DialogCodeHook", "FulfillmentCodeHook"
        return {
            "CheckBalance dialog": fixed(
                self.lex_turn("CheckBalance", balance, dialog)
            ),
            "CheckBalance fulfilment": fixed(
                self.lex_turn("CheckBalance", balance, fulfil)
            ),
            "TransferFunds dialog": lambda i: self.lex_turn(
                "TransferFunds", transfer(i), dialog
            ),
            "TransferFunds fulfilment": lambda i: self.confirmed(
                "TransferFunds", transfer(i)
            ),
            "ReportLostCard dialog": fixed(
                self.lex_turn("ReportLostCard", card, dialog)
            ),
            "ReportLostCard fulfilment": lambda _: self.confirmed(
                "ReportLostCard", card
            ),
            "FallbackIntent dialog": fixed(self.lex_turn("FallbackIntent", {}, dialog)),
            "FallbackIntent fulfilment": fixed(
                self.lex_turn("FallbackIntent", {}, fulfil)
            ),
        }

    def connect_sources(self) -> dict[str, Source]:
        def transfer(index: int) -> Event:
            accounts = ("checking", "savings")[:: 1 if index % 2 else -1]
            return self.call(
                {
                    "operation": "TransferFunds",
                    "sourceAccountType": accounts[0],
                    "targetAccountType": accounts[1],
                    "amount": "1.00",
                }
            )

        verify = {"operation": "VerifyCaller", "pin": DEMO_PIN}
        balance = {"operation": "CheckBalance", "accountType": "checking"}
        card = {"operation": "ReportLostCard", "cardLastFour": CARD}
        return {
            "VerifyCaller": lambda _: self.call(verify, verified=False),
            "CheckBalance": lambda _: self.call(balance),
            "TransferFunds": transfer,
            "ReportLostCard": lambda _: self.call(card),
        }


# ------------------------------------------------------------------ the plain handler

_ACCOUNT_WORDS = frozenset(
    {"checking", "chequing", "current", "savings", "saving", "credit", "credit card"}
)
_SORRY = (
    "Sorry, I didn't catch that. You can ask for a balance, a transfer or a lost card."
)


def plain_handler(event: Any, context: object, log: io.StringIO) -> dict[str, Any]:
    """The same dialog checks on bare dicts: read, check the slot, reply, log."""
    started = time.perf_counter()
    state = event.get("sessionState") or {}
    intent = state.get("intent") or {}
    attributes = state.get("sessionAttributes") or {}
    slots = intent.get("slots") or {}
    name = intent.get("name")

    words = ((slots.get("AccountType") or {}).get("value") or {}).get(
        "interpretedValue"
    )
    if name == "CheckBalance" and (
        words is None or words.strip().lower() in _ACCOUNT_WORDS
    ):
        action = {"type": "Delegate"}
        messages = []
    else:
        action = {"type": "ElicitIntent"}
        messages = [{"contentType": "PlainText", "content": _SORRY}]
    reply: dict[str, Any] = {
        "sessionState": {
            "dialogAction": action,
            "intent": {
                "name": name,
                "slots": slots,
                "state": "InProgress",
                "confirmationState": intent.get("confirmationState", "None"),
            },
            "sessionAttributes": attributes,
        },
        "messages": messages,
    }

    line = {
        "level": "INFO",
        "message": "turn served",
        "request_id": getattr(context, "aws_request_id", "local"),
        "conversation_id": event.get("sessionId"),
        "intent": name,
        "outcome": action["type"],
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
    }
    log.write(json.dumps(line) + "\n")
    return reply


# ------------------------------------------------------------------ timing


def time_turns(
    handle: Callable[[Event], dict[str, Any]],
    source: Source,
    outcome: Callable[[Any], str],
    turns: int,
) -> dict[str, Any]:
    """Microseconds per call of `handle`, the events built outside the clock."""
    for index in range(WARMUP):
        handle(source(index))
    timings = []
    outcomes: Counter[str] = Counter()
    for index in range(turns):
        event = source(index)
        started = time.perf_counter_ns()
        reply = handle(event)
        timings.append((time.perf_counter_ns() - started) / 1000)
        outcomes[outcome(reply)] += 1
    return {**tails(timings), "outcomes": dict(outcomes)}


def measure(turns: int) -> dict[str, Any]:
    service = sandbox_service()
    scenarios = Scenarios(service)
    results: dict[str, Any] = {"lex": {}, "connect": {}, "overhead": {}}
    gc.collect()

    def lex(event: Event) -> dict[str, Any]:
        return scenarios.lex.handle(event, None)

    def connect(event: Event) -> dict[str, str]:
        return scenarios.connect.handle(event, None)

    for name, source in scenarios.lex_sources().items():
        results["lex"][name] = time_turns(lex, source, lex_outcome, turns)
    for name, source in scenarios.connect_sources().items():
        results["connect"][name] = time_turns(connect, source, connect_outcome, turns)

    # The same no-API dialog turns through the plain-dict handler.
    sink = Discard()
    lex_sources = scenarios.lex_sources()
    for name in ("CheckBalance dialog", "FallbackIntent dialog"):
        plain = time_turns(
            lambda event: plain_handler(event, None, sink),
            lex_sources[name],
            lex_outcome,
            turns,
        )
        results["overhead"][name] = {
            "bankbot": results["lex"][name],
            "plain": plain,
            "ratio_p50": results["lex"][name]["p50"] / plain["p50"],
        }
    service.close()
    return results


def main() -> None:
    turns = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    started = time.perf_counter()
    results = measure(turns)
    results["turns"] = turns
    results["seconds"] = time.perf_counter() - started
    print(json.dumps(results))


if __name__ == "__main__":
    main()
