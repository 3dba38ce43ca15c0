"""Fixtures for the AccountGateway contract: one harness per implementation.

The served sandbox is one uvicorn server on a free loopback port for the whole
session (tests/conftest.py); each test installs a fresh bank behind it, so
tests never share state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import attrs
import httpx
import pytest

from adapters.bank_api import API_KEY_SECRET, HttpAccountGateway, build_client
from adapters.sandbox import DEVELOPMENT_API_KEY, SandboxBank, create_app
from banking_domain.ports import AccountGateway
from tests.fakes import FakeAccountGateway, FakeSecretStore


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
