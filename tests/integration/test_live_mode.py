"""The handlers in live mode: SSM on moto, the account API over loopback HTTP."""

from __future__ import annotations

import uuid

import pytest

from adapters.sandbox import SandboxBank, create_app
from entrypoints.connect_lambda import ConnectEntrypoint
from entrypoints.demo import connect_event
from entrypoints.lex_lambda import LexEntrypoint
from tests.live import live_service
from tests.servers import Moto, ServedApp


def test_a_verified_caller_hears_a_balance_in_live_mode(
    moto: Moto, served_sandbox: ServedApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    served_sandbox.switchboard.app = create_app(SandboxBank())
    with live_service(moto, served_sandbox.base_url, monkeypatch) as service:
        connect = ConnectEntrypoint(service)
        verified = connect.handle(
            connect_event(
                str(uuid.uuid4()),
                "+15555550100",
                {"operation": "VerifyCaller", "pin": "2468"},
            ),
            None,
        )
        event = connect_event(
            str(uuid.uuid4()),
            "+15555550100",
            {"operation": "CheckBalance", "accountType": "savings"},
        )
        event["Details"]["ContactData"]["Attributes"] = {
            "customerId": verified["customerId"],
            "authToken": verified["authToken"],
        }

        balance = connect.handle(event, None)

    assert verified["status"] == "OK"
    assert balance["status"] == "OK"
    assert balance["balance"] == "10200.00"


def test_an_unreachable_ssm_ends_in_escalation(
    moto: Moto, served_sandbox: ServedApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    served_sandbox.switchboard.app = create_app(SandboxBank())
    with live_service(moto, served_sandbox.base_url, monkeypatch) as service:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9")
        reply = LexEntrypoint(service).handle({}, None)
        connect = ConnectEntrypoint(service).handle(
            connect_event(
                str(uuid.uuid4()),
                "+15555550100",
                {"operation": "VerifyCaller", "pin": "2468"},
            ),
            None,
        )

    assert reply["sessionState"]["dialogAction"]["type"] in {"ElicitIntent", "Close"}
    assert connect["status"] == "ERROR"
    assert connect["escalate"] == "true"
