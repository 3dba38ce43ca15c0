"""A warm execution environment over a long shift: nothing piles up.

Ten thousand invocations in one process, through both handlers of one live
service (secrets from SSM on moto, the sandbox bank over loopback HTTP), in
the mix a real line sees: callers verified by Connect, then a balance, a
transfer confirmed and fulfilled, a lost card blocked, and a turn the bot did
not understand. Every reply is checked as it comes, and every 25th Lex reply
against the botocore model too. Resident memory and open file descriptors are
measured after a warm-up and at the end and must stay flat; closing the
service must leave no unclosed client, socket or event loop behind.

The log scanner keeps every line of a test, and pytest every record for its
failure report; here the lines are scanned with the scanner's own rules and
let go every few hundred invocations, so that what is measured is the service
and not the test's lists of log lines.
"""

from __future__ import annotations

import gc
import io
import itertools
import logging
import os
import time
import uuid
import warnings
from collections.abc import Callable, Iterator

import pytest
from _pytest.logging import LogCaptureHandler
from attrs import frozen

from adapters.logging import configure_logging
from adapters.sandbox import SandboxBank, create_app
from entrypoints.bootstrap import Service
from entrypoints.connect_lambda import ConnectEntrypoint
from entrypoints.demo import DEMO_PHONE, DEMO_PIN, connect_event, lex_event
from entrypoints.lex_lambda import LexEntrypoint
from tests.conftest import LogCollector, find_leaks, sensitive_values
from tests.lex_validation import assert_valid_lex_reply
from tests.live import live_service
from tests.servers import Moto, ServedApp

INVOCATIONS = 10_000
WARM_UP = 500
# Log lines are scanned and dropped this often (in invocations).
SCAN_EVERY = 500
# Every so many Lex replies also go through the full botocore check.
VALIDATE_EVERY = 25
MAX_FD_GROWTH = 5
MAX_RSS_GROWTH = 40 * 2**20
MB = 2**20
# What a leaked client, socket, task or loop says when it is collected.
LEAK_WORDS = (
    "unclosed",
    "event loop is closed",
    "was destroyed but it is pending",
    "was never awaited",
)


# ------------------------------------------------------------- measurements


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


class _Discard(io.TextIOBase):
    """Where production's log handler writes during the soak: nowhere."""

    def write(self, text: str) -> int:
        return len(text)


class LogDrain:
    """Scans the collected log lines with the scanner's rules, then drops them.

    pytest's own capture is emptied too: it would otherwise hold a record of
    every line for the report of a failure, which shows the last chunk only.
    """

    def __init__(self, collector: LogCollector) -> None:
        self._collector = collector
        self.scanned = 0
        self.leaks: list[str] = []
        self.troubles: list[str] = []

    def drain(self) -> None:
        raw = self._collector.raw_lines
        self.leaks += find_leaks(raw, sensitive_values())
        self.troubles += [
            line
            for line in raw
            if '"level":"ERROR"' in line
            or any(word in line.lower() for word in LEAK_WORDS)
        ]
        self.scanned += len(raw)
        raw.clear()
        self._collector.lines.clear()
        for handler in logging.getLogger().handlers:
            if isinstance(handler, LogCaptureHandler):
                handler.clear()


# ------------------------------------------------------------------ callers


class Shift:
    """Callers one after another; each step of `invocations` is one invocation.

    Each caller is verified by Connect, asks Lex for a balance, moves 1.00
    between savings and checking (alternating, so the money lasts), reports a
    card lost (the first report blocks it, later ones hear it already was)
    and says something the bot does not understand: ten invocations.
    """

    def __init__(self, service: Service) -> None:
        self._connect = ConnectEntrypoint(service)
        self._lex = LexEntrypoint(service)
        self.lex_replies = 0

    def invocations(self) -> Iterator[str]:
        for number in itertools.count():
            session = str(uuid.uuid4())
            verified = self._connect.handle(
                connect_event(
                    session, DEMO_PHONE, {"operation": "VerifyCaller", "pin": DEMO_PIN}
                ),
                None,
            )
            assert verified["status"] == "OK"
            yield "verify"
            turn = self._turns(
                session,
                {
                    "customerId": verified["customerId"],
                    "authToken": verified["authToken"],
                },
            )

            balance = {"AccountType": "savings"}
            assert turn("CheckBalance", balance, "Dialog") == "Delegate"
            yield "balance dialog"
            assert turn("CheckBalance", balance, "Fulfillment") == "Close:Fulfilled"
            yield "balance"

            source, target = ("savings", "checking")[:: 1 if number % 2 else -1]
            transfer = {
                "SourceAccountType": source,
                "TargetAccountType": target,
                "TransferAmount": "1.00",
            }
            yield from self._confirmed_change(turn, "TransferFunds", transfer)

            card = {"CardLastFour": ("5511", "0019")[number % 2]}
            yield from self._confirmed_change(turn, "ReportLostCard", card)

            assert turn("FallbackIntent", {}, "Dialog") == "ElicitIntent"
            yield "fallback"

    def _confirmed_change(
        self, turn: Callable[..., str], intent: str, slots: dict[str, str]
    ) -> Iterator[str]:
        assert turn(intent, slots, "Dialog") == "ConfirmIntent"
        yield f"{intent} asked"
        assert turn(intent, slots, "Dialog", "Confirmed") == "Delegate"
        yield f"{intent} confirmed"
        assert turn(intent, slots, "Fulfillment", "Confirmed") == "Close:Fulfilled"
        yield intent

    def _turns(self, session: str, attributes: dict[str, str]) -> Callable[..., str]:
        """Sends Lex turns of one session; returns what the bot did, briefly."""
        current = dict(attributes)

        def turn(
            intent: str,
            slots: dict[str, str],
            hook: str,
            confirmation: str = "None",
        ) -> str:
            event = lex_event(
                session,
                intent,
                slots,
                f"{hook}CodeHook",
                attributes=current,
                transcript="...",
                confirmation=confirmation,
            )
            reply = self._lex.handle(event, None)
            self.lex_replies += 1
            if self.lex_replies % VALIDATE_EVERY == 0:
                assert_valid_lex_reply(reply)
            state = reply["sessionState"]
            current.clear()
            current.update(state.get("sessionAttributes") or {})
            action = state["dialogAction"]["type"]
            if action == "Close":
                return f"Close:{state['intent']['state']}"
            return str(action)

        return turn


# --------------------------------------------------------------------- test


@frozen
class Figures:
    invocations: int
    seconds: float
    rss_before: int
    rss_after: int
    fds_before: int
    fds_after: int

    @property
    def rss_growth(self) -> int:
        return self.rss_after - self.rss_before

    @property
    def fd_growth(self) -> int:
        return self.fds_after - self.fds_before

    def report(self, log_lines: int) -> dict[str, object]:
        return {
            "soak_invocations": self.invocations,
            "soak_seconds": round(self.seconds, 1),
            "soak_rss_before_mb": round(self.rss_before / MB, 1),
            "soak_rss_growth_mb": round(self.rss_growth / MB, 2),
            "soak_fds_before": self.fds_before,
            "soak_fd_growth": self.fd_growth,
            "soak_log_lines": log_lines,
        }


def work_a_shift(
    moto: Moto, bank_api_url: str, monkeypatch: pytest.MonkeyPatch, drain: LogDrain
) -> Figures:
    """Builds a live service, serves the shift, measures, and closes it."""
    with live_service(moto, bank_api_url, monkeypatch) as service:
        configure_logging(service.settings.log_level, _Discard())
        try:
            steps = Shift(service).invocations()
            started = time.perf_counter()

            run(steps, WARM_UP, drain)
            gc.collect()
            rss_before, fds_before = resident_bytes(), open_descriptors()
            run(steps, INVOCATIONS - WARM_UP, drain)
            gc.collect()
            rss_after, fds_after = resident_bytes(), open_descriptors()

            seconds = time.perf_counter() - started
            steps.close()
        finally:
            configure_logging()
    return Figures(INVOCATIONS, seconds, rss_before, rss_after, fds_before, fds_after)


def run(steps: Iterator[str], count: int, drain: LogDrain) -> None:
    for done, _ in enumerate(itertools.islice(steps, count), start=1):
        if done % SCAN_EVERY == 0:
            drain.drain()
    drain.drain()


class TestWarmEnvironment:
    def test_serves_ten_thousand_invocations_with_flat_memory_and_descriptors(
        self,
        moto: Moto,
        served_sandbox: ServedApp,
        monkeypatch: pytest.MonkeyPatch,
        log_collector: LogCollector,
        record_property: Callable[[str, object], None],
    ) -> None:
        served_sandbox.switchboard.app = create_app(SandboxBank())
        drain = LogDrain(log_collector)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            figures = work_a_shift(moto, served_sandbox.base_url, monkeypatch, drain)
            # Nothing of the shift is reachable now; what was left open says so.
            gc.collect()
        drain.drain()

        report = figures.report(drain.scanned)
        for name, value in report.items():
            record_property(name, value)
        print("\n" + ", ".join(f"{name}={value}" for name, value in report.items()))
        leaked = [
            f"{w.category.__name__}: {w.message}"
            for w in caught
            if issubclass(w.category, ResourceWarning)
            or any(word in str(w.message).lower() for word in LEAK_WORDS)
        ]

        assert figures.fd_growth <= MAX_FD_GROWTH
        assert figures.rss_growth < MAX_RSS_GROWTH
        assert leaked == []
        assert drain.troubles == []
        assert drain.leaks == []
