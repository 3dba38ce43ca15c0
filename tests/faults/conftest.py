"""The fault server for the session, and a fresh sandbox bank behind it per test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.faults import BUDGET_SECONDS, Drive, DriveFactory
from tests.faults.server import FaultServer, serve_faults
from tests.live import live_service
from tests.servers import Moto


@pytest.fixture(scope="session")
def fault_server() -> Iterator[FaultServer]:
    with serve_faults() as server:
        yield server


@pytest.fixture
def faults(fault_server: FaultServer) -> FaultServer:
    """The session's fault server, forwarding to a fresh demo bank."""
    fault_server.open_bank()
    return fault_server


@pytest.fixture
def live_drive(
    moto: Moto, faults: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> DriveFactory:
    """Opens a live service aimed at the fault server, with small budgets."""

    @contextmanager
    def open_drive(budget_seconds: float = BUDGET_SECONDS) -> Iterator[Drive]:
        with live_service(
            moto,
            faults.base_url,
            monkeypatch,
            lex_budget_seconds=budget_seconds,
            connect_budget_seconds=budget_seconds,
        ) as service:
            yield Drive(service, faults)

    return open_drive
