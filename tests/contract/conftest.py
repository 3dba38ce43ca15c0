"""Fixtures for the AccountGateway contract: one harness per implementation.

The served sandbox is one uvicorn server on a free loopback port for the whole
session; each test installs a fresh bank behind it, so tests never share state.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator

import attrs
import httpx
import pytest
import uvicorn

from adapters.bank_api import API_KEY_SECRET, HttpAccountGateway, build_client
from adapters.sandbox import DEVELOPMENT_API_KEY, SandboxBank, create_app
from banking_domain.ports import AccountGateway
from tests.fakes import FakeAccountGateway, FakeSecretStore

_STARTUP_SECONDS = 10.0


class _Switchboard:
    """An ASGI app that hands each request to the sandbox of the current test."""

    def __init__(self) -> None:
        self.app: Callable[..., object] | None = None

    async def __call__(self, scope, receive, send) -> None:
        assert self.app is not None, "no sandbox installed for this test"
        await self.app(scope, receive, send)


class _Server(uvicorn.Server):
    """A uvicorn server that says when it is listening."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started:
            self.ready.set()


@attrs.define
class ServedSandbox:
    base_url: str
    switchboard: _Switchboard


@pytest.fixture(scope="session")
def served_sandbox() -> Iterator[ServedSandbox]:
    """The sandbox over real HTTP on 127.0.0.1, in a background thread."""
    switchboard = _Switchboard()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        switchboard, lifespan="off", log_config=None, access_log=False
    )
    ready = threading.Event()
    server = _Server(config, ready)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, daemon=True
    )
    thread.start()
    try:
        if not ready.wait(_STARTUP_SECONDS):
            raise RuntimeError("the sandbox server did not start listening")
        yield ServedSandbox(f"http://127.0.0.1:{port}", switchboard)
    finally:
        server.should_exit = True
        thread.join(_STARTUP_SECONDS)
        listener.close()


@attrs.define
class GatewayHarness:
    """A gateway under contract, and how to count the writes its bank did."""

    name: str
    gateway: AccountGateway
    writes: Callable[[], int]


@attrs.define
class _Target:
    name: str
    bank: SandboxBank | FakeAccountGateway
    base_url: str | None = None


@pytest.fixture(params=["fake", "sandbox-asgi", "sandbox-http"])
def _target(request: pytest.FixtureRequest) -> _Target:
    name = request.param
    if name == "fake":
        return _Target(name, FakeAccountGateway.with_demo_customers())
    bank = SandboxBank()
    if name == "sandbox-asgi":
        return _Target(name, bank)
    served = request.getfixturevalue("served_sandbox")
    served.switchboard.app = create_app(bank)
    return _Target(name, bank, served.base_url)


@pytest.fixture
async def harness(_target: _Target) -> AsyncIterator[GatewayHarness]:
    bank = _target.bank
    if isinstance(bank, FakeAccountGateway):
        yield GatewayHarness(_target.name, bank, lambda: len(bank.writes))
        return

    secrets = FakeSecretStore({API_KEY_SECRET: DEVELOPMENT_API_KEY})
    if _target.base_url is None:
        transport = httpx.ASGITransport(app=create_app(bank))
        client = build_client("http://sandbox.test", transport=transport)
    else:
        client = build_client(_target.base_url)
    async with client:
        gateway = HttpAccountGateway(client, secrets)
        yield GatewayHarness(_target.name, gateway, lambda: len(bank.ledger))
