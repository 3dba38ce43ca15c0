"""Warm turns: each handler scenario timed thousands of times, sandbox in-process.

Run as `python -m bench.warm TURNS`; prints one JSON object. Writes (transfers,
card blocks) get a fresh idempotency key each time, from an untimed dialog turn
for Lex and a fresh contact id for Connect, so every timed turn is a real write
and not a replay. Log lines are formatted as usual and then discarded.
"""

from __future__ import annotations

import gc
import io
import itertools
import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from banking_domain.model import CustomerId
from bench.plain import plain_handler, plain_logger
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


class LambdaContext:
    """What the Lambda runtime hands each invocation: a request id, time left."""

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + 10.0

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def lambda_contexts() -> Iterator[LambdaContext]:
    """Contexts with distinct request ids, made before any clock starts."""
    return itertools.cycle([LambdaContext() for _ in range(257)])


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


# ------------------------------------------------------------------ timing


def _timed(
    handle: Callable[[Event], dict[str, Any]],
    source: Source,
    outcome: Callable[[Any], str],
    indices: range,
    outcomes: Counter[str],
) -> list[float]:
    """Microseconds per call of `handle`, the events built outside the clock."""
    timings = []
    for index in indices:
        event = source(index)
        started = time.perf_counter_ns()
        reply = handle(event)
        timings.append((time.perf_counter_ns() - started) / 1000)
        outcomes[outcome(reply)] += 1
    return timings


def time_turns(
    handle: Callable[[Event], dict[str, Any]],
    source: Source,
    outcome: Callable[[Any], str],
    turns: int,
) -> dict[str, Any]:
    for index in range(WARMUP):
        handle(source(index))
    outcomes: Counter[str] = Counter()
    timings = _timed(handle, source, outcome, range(turns), outcomes)
    return {**tails(timings), "outcomes": dict(outcomes)}


def compare(
    ours: Callable[[Event], dict[str, Any]],
    plain: Callable[[Event], dict[str, Any]],
    source: Source,
    turns: int,
) -> dict[str, Any]:
    """Both handlers on the same events, in alternating blocks.

    The machine's speed drifts over a run (other processes, frequency), and
    the ratio of two figures timed minutes apart would carry that drift.
    Blocks of 100 turns taken in turn put both under the same conditions.
    """
    first = source(0)
    if _shape(ours(first)) != _shape(plain(first)):
        raise RuntimeError("the plain handler does not answer as bankbot does")
    for index in range(WARMUP):
        ours(source(index))
        plain(source(index))
    seen: dict[str, Counter[str]] = {"bankbot": Counter(), "plain": Counter()}
    timings: dict[str, list[float]] = {"bankbot": [], "plain": []}
    for block in range(0, turns, _BLOCK):
        indices = range(block, min(block + _BLOCK, turns))
        for name, handle in (("bankbot", ours), ("plain", plain)):
            timings[name] += _timed(handle, source, lex_outcome, indices, seen[name])
    results = {
        name: {**tails(timings[name]), "outcomes": dict(seen[name])} for name in timings
    }
    return {
        **results,
        "ratio_p50": results["bankbot"]["p50"] / results["plain"]["p50"],
    }


_BLOCK = 100


def _shape(reply: dict[str, Any]) -> tuple[str, str, list[str]]:
    """What the caller gets from a reply: the action, the intent, the words."""
    state = reply["sessionState"]
    said = [message["content"] for message in reply.get("messages", [])]
    intent = json.dumps(state.get("intent"), sort_keys=True)
    return state["dialogAction"]["type"], intent, said


def measure(turns: int) -> dict[str, Any]:
    service = sandbox_service()
    scenarios = Scenarios(service)
    results: dict[str, Any] = {"lex": {}, "connect": {}, "overhead": {}}
    contexts = lambda_contexts()
    gc.collect()

    def lex(event: Event) -> dict[str, Any]:
        return scenarios.lex.handle(event, next(contexts))

    def connect(event: Event) -> dict[str, str]:
        return scenarios.connect.handle(event, next(contexts))

    for name, source in scenarios.lex_sources().items():
        results["lex"][name] = time_turns(lex, source, lex_outcome, turns)
    for name, source in scenarios.connect_sources().items():
        results["connect"][name] = time_turns(connect, source, connect_outcome, turns)

    # The no-API dialog turns against the plain-dict handler, side by side.
    log = plain_logger(Discard())
    lex_sources = scenarios.lex_sources()
    for name in ("CheckBalance dialog", "FallbackIntent dialog"):
        results["overhead"][name] = compare(
            lex,
            lambda event: plain_handler(event, next(contexts), log),
            lex_sources[name],
            turns,
        )
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
