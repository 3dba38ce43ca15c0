"""Both Lambda handlers against generated events: never a crash, always a reply.

The events come from `tests.strategies`: mostly what Lex and Connect really
send, broken in a few places, and some that are no event at all. They go
through the real entrypoints over one sandbox service per module, as a warm
execution environment would see them. Whatever comes in, the handler returns;
a Lex reply passes the botocore model check and the rules Lex adds; a Connect
reply is a flat map of strings, under 32 KB as UTF-8 JSON, with a known
`status`. And no turn ends in the catch-all for unexpected errors: a malformed
event is answered by design, not rescued.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, find, given, settings

from adapters.connect import OPERATIONS
from entrypoints.bootstrap import Service, build_service
from entrypoints.connect_lambda import ConnectEntrypoint
from entrypoints.demo import DEMO_PHONE, DEMO_PIN, connect_event
from entrypoints.lex_lambda import LexEntrypoint
from entrypoints.settings import SANDBOX, Settings
from tests.conftest import LogCollector
from tests.lex_validation import assert_valid_lex_reply
from tests.strategies import (
    TOKEN,
    connect_events,
    fuzz_settings,
    lex_events,
    with_token,
)

STATUSES = {"OK", "REJECTED", "UNAUTHENTICATED", "ERROR"}
MAX_CONNECT_REPLY_BYTES = 32 * 1024
UNEXPECTED = "unexpected failure"
# How far to look for an example of an outcome before calling it unreachable.
SEARCH = settings(
    max_examples=2000,
    phases=[Phase.generate],
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    # Tokens outlive a long `make fuzz`, so valid ones stay valid throughout.
    built = build_service(Settings(mode=SANDBOX, token_lifetime_minutes=24 * 60))
    yield built
    built.close()


@pytest.fixture(scope="module")
def token(service: Service) -> str:
    verified = ConnectEntrypoint(service).handle(
        connect_event(
            "fuzz-verify", DEMO_PHONE, {"operation": "VerifyCaller", "pin": DEMO_PIN}
        ),
        None,
    )
    return str(verified["authToken"])


@pytest.fixture(scope="module")
def lex(service: Service) -> LexEntrypoint:
    return LexEntrypoint(service)


@pytest.fixture(scope="module")
def connect(service: Service) -> ConnectEntrypoint:
    return ConnectEntrypoint(service)


def utf8_json_size(reply: object) -> int:
    """Bytes of the reply as JSON in UTF-8; raises if UTF-8 cannot carry it."""
    return len(json.dumps(reply, ensure_ascii=False).encode("utf-8"))


def assert_valid_connect_reply(reply: object) -> None:
    assert isinstance(reply, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in reply.items())
    assert reply.get("status") in STATUSES
    assert utf8_json_size(reply) < MAX_CONNECT_REPLY_BYTES


def lex_outcome(reply: dict[str, Any]) -> str:
    state = reply["sessionState"]
    intent = state.get("intent") or {}
    return f"{state['dialogAction']['type']}:{intent.get('state', '-')}"


def new_lines(collector: LogCollector, start: int) -> list[str]:
    return collector.raw_lines[start:]


class TestLexHandler:
    @fuzz_settings(300)
    @given(sent=lex_events)
    def test_answers_any_event_with_a_reply_lex_accepts(
        self,
        lex: LexEntrypoint,
        token: str,
        log_collector: LogCollector,
        sent: object,
    ) -> None:
        start = len(log_collector.raw_lines)

        reply = lex.handle(with_token(sent, token), None)

        assert_valid_lex_reply(reply)
        assert utf8_json_size(reply) > 0
        assert not any(UNEXPECTED in line for line in new_lines(log_collector, start))
        event(lex_outcome(reply))


class TestConnectHandler:
    @fuzz_settings(300)
    @given(sent=connect_events)
    def test_answers_any_event_with_a_flat_reply_connect_accepts(
        self,
        connect: ConnectEntrypoint,
        token: str,
        log_collector: LogCollector,
        sent: object,
    ) -> None:
        start = len(log_collector.raw_lines)

        reply = connect.handle(with_token(sent, token), None)

        assert_valid_connect_reply(reply)
        assert not any(UNEXPECTED in line for line in new_lines(log_collector, start))
        operation = _operation_of(sent)
        known = operation if operation in OPERATIONS else "other"
        event(f"{known}:{reply['status']}")

    @pytest.mark.parametrize(
        "attributes",
        [
            pytest.param({"customerId": "C-1\ud800", "authToken": TOKEN}, id="id"),
            pytest.param(
                {"customerId": "C-1001", "authToken": "v1.9.x\ud800"}, id="token"
            ),
        ],
    )
    def test_a_caller_id_or_token_unicode_cannot_carry_is_unauthenticated(
        self,
        connect: ConnectEntrypoint,
        token: str,
        log_collector: LogCollector,
        attributes: dict[str, str],
    ) -> None:
        # Found by this fuzzing: the token check failed with UnicodeEncodeError
        # on a lone surrogate and the caller was escalated as for a bug.
        sent = connect_event(
            "fuzz-surrogate", DEMO_PHONE, {"operation": "CheckBalance"}
        )
        sent["Details"]["ContactData"]["Attributes"] = with_token(attributes, token)

        reply = connect.handle(sent, None)

        assert reply["status"] == "UNAUTHENTICATED"
        assert not any(UNEXPECTED in line for line in log_collector.raw_lines)


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
class TestTheGeneratedEvents:
    """The strategies reach the writes too, not only the refusals."""

    @pytest.mark.parametrize("intent", ["TransferFunds", "ReportLostCard"])
    def test_reach_a_fulfilled_write_through_lex(
        self, lex: LexEntrypoint, token: str, intent: str
    ) -> None:
        def fulfilled(sent: object) -> bool:
            reply = lex.handle(with_token(sent, token), None)
            state = reply["sessionState"]
            return (
                state["dialogAction"]["type"] == "Close"
                and state["intent"]["name"] == intent
                and state["intent"]["state"] == "Fulfilled"
                and state["intent"].get("confirmationState") == "Confirmed"
            )

        find(lex_events, fulfilled, settings=SEARCH)

    @pytest.mark.parametrize("operation", OPERATIONS)
    def test_reach_every_operation_done_through_connect(
        self, connect: ConnectEntrypoint, token: str, operation: str
    ) -> None:
        def done(sent: object) -> bool:
            reply = connect.handle(with_token(sent, token), None)
            return reply["status"] == "OK" and _operation_of(sent) == operation

        find(connect_events, done, settings=SEARCH)


def _operation_of(sent: object) -> object:
    try:
        return sent["Details"]["Parameters"]["operation"]  # type: ignore[index]
    except (TypeError, KeyError):
        return None
