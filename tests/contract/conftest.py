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

from adapters.bank_api import API_KEY_SECRET, HttpAccountGateway
from adapters.http_client import build_client
from adapters.sandbox import DEVELOPMENT_API_KEY, SandboxBank, create_app
from adapters.secrets import SsmSecretStore
from banking_domain.ports import AccountGateway, SecretStore
from tests.fakes import FakeAccountGateway, FakeSecretStore
from tests.servers import Moto


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
    moto: Moto | None = None


@pytest.fixture(params=["fake", "sandbox-asgi", "sandbox-http-ssm"])
def _target(request: pytest.FixtureRequest) -> _Target:
    name = request.param
    if name == "fake":
        return _Target(name, FakeAccountGateway.with_demo_customers())
    bank = SandboxBank()
    if name == "sandbox-asgi":
        return _Target(name, bank)
    served = request.getfixturevalue("served_sandbox")
    served.switchboard.app = create_app(bank)
    return _Target(name, bank, served.base_url, request.getfixturevalue("moto"))


@pytest.fixture
async def harness(_target: _Target) -> AsyncIterator[GatewayHarness]:
    bank = _target.bank
    if isinstance(bank, FakeAccountGateway):
        yield GatewayHarness(_target.name, bank, lambda: len(bank.writes))
        return

    if _target.base_url is None:
        secrets: SecretStore = FakeSecretStore({API_KEY_SECRET: DEVELOPMENT_API_KEY})
        transport = httpx.ASGITransport(app=create_app(bank))
        client = build_client("http://sandbox.test", transport=transport)
    else:
        # Over real HTTP the key is read from SSM (moto), as in live mode.
        assert _target.moto is not None
        secrets = _target.moto.store(
            _target.moto.put({API_KEY_SECRET: DEVELOPMENT_API_KEY})
        )
        client = build_client(_target.base_url)
    async with client:
        gateway = HttpAccountGateway(client, secrets)
        yield GatewayHarness(_target.name, gateway, lambda: len(bank.ledger))
    if isinstance(secrets, SsmSecretStore):
        await secrets.aclose()
