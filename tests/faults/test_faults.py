"""Every fault of the account API, through the real Lex and Connect handlers.

The handlers run in live mode (secrets from moto's SSM) against the fault
server on loopback, which forwards good requests to a sandbox bank. For each
fault and use-case the reply must be one the channel accepts, come within the
budget plus a margin, escalate where the outcome is unknown (or give the normal
answer where a retry recovered), and leave the ledger with no duplicate write.
"""

from __future__ import annotations

import json
import socket
from contextlib import ExitStack
from typing import Any

import pytest

from adapters import messages
from adapters.connect import MAX_REPLY_BYTES, STATUSES
from adapters.speech import to_plain_text
from tests.faults import (
    CATALOGUE,
    CHECK_BALANCE,
    CONNECT,
    LEX,
    REPORT_LOST_CARD,
    TRANSFER_FUNDS,
    USE_CASES,
    VERIFY_CALLER,
    WRITES,
    DriveFactory,
    Heard,
    NamedFault,
    writes_per_key,
)
from tests.faults.server import (
    FORWARD_ALL,
    Fault,
    FaultServer,
    Scenario,
    Target,
    serve_faults,
)
from tests.lex_validation import assert_valid_lex_reply

MARGIN_SECONDS = 1.0
ESCALATION = to_plain_text(messages.ESCALATE)
VERIFY_PATH = "/v1/callers/verify"

# Faults a retry gets past, for requests that may be retried: reads and writes
# with an idempotency key. VerifyCaller is never retried once it was sent.
RECOVERED_BY_A_RETRY = {
    "closes after forwarding, once",
    "503 then 200",
    "429 Retry-After: 1 then 200",
}
# What the caller hears when the use-case did its job.
NORMAL_ANSWERS = {
    VERIFY_CALLER: "You're verified",
    CHECK_BALANCE: "$10,200.00 available",
    TRANSFER_FUNDS: "$250.00 has moved",
    REPORT_LOST_CARD: "ending in 5511 is now blocked",
}


def answers_normally(case: NamedFault, use_case: str) -> bool:
    if case.fault is Fault.FORWARD:
        return True
    return use_case != VERIFY_CALLER and case.name in RECOVERED_BY_A_RETRY


def expected_writes(case: NamedFault, use_case: str) -> int:
    """Writes the bank carries out: the answer may be lost after one was done."""
    if use_case not in WRITES:
        return 0
    reached_the_bank = case.fault is Fault.CLOSE_AFTER_FORWARD
    return 1 if answers_normally(case, use_case) or reached_the_bank else 0


def assert_valid_connect_reply(reply: dict[str, Any]) -> None:
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in reply.items())
    assert reply.get("status") in STATUSES
    assert len(json.dumps(reply, ensure_ascii=False).encode()) < MAX_REPLY_BYTES


def assert_valid(heard: Heard) -> None:
    if heard.channel == LEX:
        assert_valid_lex_reply(heard.reply)
    else:
        assert_valid_connect_reply(heard.reply)


def assert_escalated(heard: Heard) -> None:
    assert heard.escalated
    assert heard.status == ("ERROR" if heard.channel == CONNECT else "Close Failed")
    assert heard.message == ESCALATION


def matrix(channel: str) -> list[Any]:
    return [
        pytest.param(case, use_case, id=f"{use_case}-{case.slug}")
        for case in CATALOGUE
        for use_case in USE_CASES[channel]
    ]


def run_case(
    live_drive: DriveFactory, channel: str, case: NamedFault, use_case: str
) -> Heard:
    with live_drive(case.budget_seconds) as drive:
        return drive.run(channel, use_case, case.scenario(use_case))


def assert_survived(
    faults: FaultServer, heard: Heard, case: NamedFault, use_case: str
) -> None:
    """Valid, in time, the right words, and no write done twice."""
    assert_valid(heard)
    assert heard.seconds < case.budget_seconds + MARGIN_SECONDS
    if answers_normally(case, use_case):
        assert heard.answered
        assert NORMAL_ANSWERS[use_case] in heard.message
    else:
        assert_escalated(heard)
    per_key = writes_per_key(faults)
    assert sum(per_key.values()) == expected_writes(case, use_case)
    assert all(count == 1 for count in per_key.values())
    if use_case == VERIFY_CALLER:
        assert len(faults.seen("POST", VERIFY_PATH)) == 1


class TestConnectUnderFaults:
    @pytest.mark.parametrize(("case", "use_case"), matrix(CONNECT))
    def test_the_reply_is_valid_timely_right_and_writes_once(
        self,
        faults: FaultServer,
        live_drive: DriveFactory,
        case: NamedFault,
        use_case: str,
    ) -> None:
        heard = run_case(live_drive, CONNECT, case, use_case)

        assert_survived(faults, heard, case, use_case)


class TestLexUnderFaults:
    @pytest.mark.parametrize(("case", "use_case"), matrix(LEX))
    def test_the_reply_is_valid_timely_right_and_writes_once(
        self,
        faults: FaultServer,
        live_drive: DriveFactory,
        case: NamedFault,
        use_case: str,
    ) -> None:
        heard = run_case(live_drive, LEX, case, use_case)

        assert_survived(faults, heard, case, use_case)


class TestAPostWhoseAnswerWasLost:
    """Sent, then the connection dropped: retried only with its key."""

    @pytest.mark.parametrize("channel", [CONNECT, LEX])
    @pytest.mark.parametrize("use_case", WRITES)
    def test_a_keyed_write_retried_gets_the_stored_result(
        self, faults: FaultServer, live_drive: DriveFactory, channel: str, use_case: str
    ) -> None:
        scenario = Scenario(Fault.CLOSE_AFTER_FORWARD, Target.WRITES, times=1)
        with live_drive() as drive:
            heard = drive.run(channel, use_case, scenario)

        posts = faults.seen("POST")
        assert [post.fault for post in posts] == [
            Fault.CLOSE_AFTER_FORWARD,
            Fault.FORWARD,
        ]
        assert len({post.idempotency_key for post in posts}) == 1
        assert heard.answered
        [entry] = faults.bank.ledger
        assert entry.idempotency_key == posts[0].idempotency_key
        assert entry.reference in heard.message.replace(" ", "")

    def test_a_transfer_whose_every_answer_was_lost_is_written_once(
        self, faults: FaultServer, live_drive: DriveFactory
    ) -> None:
        scenario = Scenario(Fault.CLOSE_AFTER_FORWARD, Target.WRITES)
        with live_drive() as drive:
            heard = drive.run(CONNECT, TRANSFER_FUNDS, scenario)

        posts = faults.seen("POST")
        assert len(posts) == 3
        assert len({post.idempotency_key for post in posts}) == 1
        assert_escalated(heard)
        assert len(faults.bank.ledger) == 1

    def test_connect_retrying_the_call_hears_the_write_that_was_done(
        self, faults: FaultServer, live_drive: DriveFactory
    ) -> None:
        with live_drive() as drive:
            event = drive.ready(CONNECT, TRANSFER_FUNDS)
            faults.inject(Scenario(Fault.CLOSE_AFTER_FORWARD, Target.WRITES))
            lost = drive.send(CONNECT, event)
            faults.inject(FORWARD_ALL)
            retried = drive.send(CONNECT, event)

        assert_escalated(lost)
        assert retried.answered
        [entry] = faults.bank.ledger
        assert retried.reply["transferId"] == entry.reference

    @pytest.mark.parametrize(
        "fault", [Fault.CLOSE_AFTER_FORWARD, Fault.CLOSE_BEFORE_FORWARD]
    )
    def test_verify_caller_is_sent_exactly_once(
        self, faults: FaultServer, live_drive: DriveFactory, fault: Fault
    ) -> None:
        with live_drive() as drive:
            heard = drive.run(CONNECT, VERIFY_CALLER, Scenario(fault, Target.VERIFY))

        assert len(faults.seen("POST", VERIFY_PATH)) == 1
        assert_escalated(heard)


class TestAFaultOnTheReadBeforeAWrite:
    @pytest.mark.parametrize("fault", [Fault.NEVER_ANSWER, Fault.STATUS_500])
    @pytest.mark.parametrize("use_case", WRITES)
    def test_nothing_is_written_and_the_caller_is_escalated(
        self, faults: FaultServer, live_drive: DriveFactory, fault: Fault, use_case: str
    ) -> None:
        with live_drive() as drive:
            heard = drive.run(LEX, use_case, Scenario(fault, Target.READS))

        assert_valid_lex_reply(heard.reply)
        assert_escalated(heard)
        assert faults.seen("POST") == []
        assert faults.bank.ledger == []


class TestTheFaultServer:
    def test_a_fault_hits_only_its_target(
        self, faults: FaultServer, live_drive: DriveFactory
    ) -> None:
        with live_drive() as drive:
            drive.run(
                CONNECT, TRANSFER_FUNDS, Scenario(Fault.STATUS_500, Target.WRITES)
            )

        assert [(s.method, s.fault) for s in faults.seen()] == [
            ("GET", Fault.FORWARD),
            ("POST", Fault.STATUS_500),
        ]

    def test_a_fault_on_the_first_attempt_forwards_the_next(
        self, faults: FaultServer, live_drive: DriveFactory
    ) -> None:
        scenario = Scenario(Fault.STATUS_503, Target.READS, times=1)
        with live_drive() as drive:
            drive.run(CONNECT, CHECK_BALANCE, scenario)

        assert [(s.attempt, s.fault) for s in faults.seen()] == [
            (1, Fault.STATUS_503),
            (2, Fault.FORWARD),
        ]

    def test_a_dribbled_answer_comes_one_byte_at_a_time(
        self, faults: FaultServer
    ) -> None:
        faults.inject(Scenario(Fault.DRIBBLE))
        with _connect(faults) as sock:
            sock.sendall(_GET)
            first, second = sock.recv(64), sock.recv(64)

        assert (first, second) == (b"H", b"T")

    def test_stopping_closes_every_connection_it_holds(self) -> None:
        with ExitStack() as cleanup:
            with serve_faults() as server:
                server.inject(Scenario(Fault.NEVER_ANSWER))
                held = cleanup.enter_context(_connect(server))
                held.sendall(_GET)
                assert server.wait_for_requests(1)

            assert held.recv(64) == b""

    def test_a_forwarded_request_gets_the_sandbox_answer(
        self, faults: FaultServer
    ) -> None:
        with _connect(faults) as sock:
            sock.sendall(_GET)
            answer = _read_all(sock)

        assert answer.startswith(b"HTTP/1.1 401 ")
        assert b'"unauthorized"' in answer


# Without the API key: the sandbox answers 401, and the server closes after it.
_GET = (
    b"GET /v1/customers/C-1001/accounts HTTP/1.1\r\n"
    b"host: 127.0.0.1\r\nconnection: close\r\n\r\n"
)


def _connect(server: FaultServer) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5.0)


def _read_all(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received
