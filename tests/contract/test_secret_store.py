"""The SecretStore port: one contract for the fake, the sandbox map and SSM.

SSM is moto's standalone server on loopback, reached over HTTP by a real
boto3 client, so the adapter's request, decryption flag and error handling
are exercised as they would be against AWS.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from adapters.secrets import SsmSecretStore, StaticSecretStore
from banking_domain.errors import SecretUnavailable
from banking_domain.ports import SecretStore
from tests.fakes import FakeSecretStore
from tests.servers import CountingFactory, Moto

if TYPE_CHECKING:
    pass

SOURCES = Path(__file__).parents[2] / "src"
VALUES = {
    "signing-key": "contract-signing-key-not-secret",
    "bank-api-key": "contract-api-key-not-secret",
}
TTL = 300.0
GRACE = 900.0
RETRY_AFTER = 30.0

StoreMaker = Callable[[Mapping[str, str]], SecretStore]


class TickingClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(params=["fake", "static", "ssm"])
def make_store(request: pytest.FixtureRequest) -> StoreMaker:
    if request.param == "fake":
        return lambda values: FakeSecretStore(dict(values))
    if request.param == "static":
        return StaticSecretStore
    moto: Moto = request.getfixturevalue("moto")

    def ssm_store(values: Mapping[str, str]) -> SecretStore:
        return SsmSecretStore(moto.put(values), client_factory=moto.client_factory())

    return ssm_store


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()


def unused_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TestEverySecretStore:
    async def test_returns_the_value_stored_under_each_name(
        self, make_store: StoreMaker
    ) -> None:
        store = make_store(VALUES)

        read = {name: await store.get(name) for name in VALUES}

        assert read == VALUES

    async def test_returns_the_same_value_when_asked_again(
        self, make_store: StoreMaker
    ) -> None:
        store = make_store(VALUES)

        first = await store.get("signing-key")
        second = await store.get("signing-key")

        assert first == second == VALUES["signing-key"]

    async def test_refuses_an_unknown_name_with_secret_unavailable(
        self, make_store: StoreMaker
    ) -> None:
        store = make_store(VALUES)

        with pytest.raises(SecretUnavailable):
            await store.get("no-such-secret")

    async def test_never_shows_a_value_in_its_repr(
        self, make_store: StoreMaker
    ) -> None:
        store = make_store(VALUES)
        await store.get("signing-key")

        shown = repr(store)

        assert not any(value in shown for value in VALUES.values())


class TestSsmSecretStoreReads:
    async def test_decrypts_a_secure_string(self, moto: Moto) -> None:
        names = moto.put({"signing-key": "plain-text-of-the-key"})
        stored = moto.admin.get_parameter(Name=names["signing-key"])
        store = SsmSecretStore(names, client_factory=moto.client_factory())

        value = await store.get("signing-key")

        assert value == "plain-text-of-the-key"
        assert stored["Parameter"]["Value"] != value

    async def test_reads_a_plain_string_parameter(self, moto: Moto) -> None:
        names = moto.put({"bank-api-key": "plain-string"}, kind="String")
        store = SsmSecretStore(names, client_factory=moto.client_factory())

        assert await store.get("bank-api-key") == "plain-string"

    async def test_a_name_outside_its_map_is_refused_without_asking_ssm(
        self, moto: Moto
    ) -> None:
        factory = moto.client_factory()
        store = SsmSecretStore(moto.put(VALUES), client_factory=factory)

        with pytest.raises(SecretUnavailable):
            await store.get("database-password")

        assert factory.clients == 0

    async def test_a_missing_parameter_raises_from_the_botocore_error(
        self, moto: Moto
    ) -> None:
        names = {"signing-key": f"/bankbot-contract/{uuid.uuid4().hex}/absent"}
        store = SsmSecretStore(names, client_factory=moto.client_factory())

        with pytest.raises(SecretUnavailable) as raised:
            await store.get("signing-key")

        assert isinstance(raised.value.__cause__, ClientError)

    async def test_an_unreachable_ssm_raises_from_the_botocore_error(self) -> None:
        endpoint = f"http://127.0.0.1:{unused_loopback_port()}"
        store = SsmSecretStore(
            {"signing-key": "/bankbot/signing-key"},
            client_factory=CountingFactory(endpoint),
        )

        with pytest.raises(SecretUnavailable) as raised:
            await store.get("signing-key")

        assert isinstance(raised.value.__cause__, BotoCoreError)

    async def test_concurrent_first_reads_of_one_name_ask_ssm_once(
        self, moto: Moto
    ) -> None:
        factory = moto.client_factory()
        store = SsmSecretStore(moto.put(VALUES), client_factory=factory)

        values = await asyncio.gather(*(store.get("signing-key") for _ in range(8)))

        assert set(values) == {VALUES["signing-key"]}
        assert factory.reads == 1


class TestSsmSecretStoreConstruction:
    def test_building_the_store_makes_no_client(self, moto: Moto) -> None:
        factory = moto.client_factory()

        SsmSecretStore(moto.put(VALUES), client_factory=factory)

        assert factory.clients == 0

    def test_building_a_store_for_an_unreachable_ssm_does_not_fail(self) -> None:
        endpoint = f"http://127.0.0.1:{unused_loopback_port()}"

        store = SsmSecretStore({}, client_factory=CountingFactory(endpoint))

        assert isinstance(store, SsmSecretStore)

    async def test_one_client_serves_every_name(self, moto: Moto) -> None:
        factory = moto.client_factory()
        store = SsmSecretStore(moto.put(VALUES), client_factory=factory)

        for name in VALUES:
            await store.get(name)

        assert factory.clients == 1
        assert factory.reads == len(VALUES)

    def test_importing_the_adapter_does_not_import_boto3(self) -> None:
        check = (
            "import sys, adapters.secrets; "
            "sys.exit(int('boto3' in sys.modules or 'botocore' in sys.modules))"
        )

        finished = subprocess.run(
            [sys.executable, "-c", check], check=False, cwd=SOURCES
        )

        assert finished.returncode == 0


class TestSsmSecretStoreRotation:
    async def test_serves_the_cached_value_until_the_ttl_passes(
        self, moto: Moto, clock: TickingClock
    ) -> None:
        names = moto.put(VALUES)
        store = SsmSecretStore(
            names, ttl_seconds=TTL, client_factory=moto.client_factory(), clock=clock
        )
        await store.get("signing-key")
        rotate(moto, names["signing-key"], "rotated-signing-key")
        clock.advance(TTL - 1)

        assert await store.get("signing-key") == VALUES["signing-key"]

    async def test_picks_up_a_rotated_value_after_the_ttl(
        self, moto: Moto, clock: TickingClock
    ) -> None:
        names = moto.put(VALUES)
        store = SsmSecretStore(
            names, ttl_seconds=TTL, client_factory=moto.client_factory(), clock=clock
        )
        await store.get("signing-key")
        rotate(moto, names["signing-key"], "rotated-signing-key")
        clock.advance(TTL)

        assert await store.get("signing-key") == "rotated-signing-key"


class TestSsmSecretStoreWhenRefreshFails:
    @pytest.fixture
    def broken(self, moto: Moto, clock: TickingClock) -> Broken:
        """A store that has read its secret once; then the parameter vanished."""
        names = moto.put(VALUES)
        factory = moto.client_factory()
        store = SsmSecretStore(
            names,
            ttl_seconds=TTL,
            stale_grace_seconds=GRACE,
            retry_after_failure_seconds=RETRY_AFTER,
            client_factory=factory,
            clock=clock,
        )
        return Broken(store, factory, moto, names["signing-key"])

    async def test_serves_the_last_good_value_within_the_grace(
        self, broken: Broken, clock: TickingClock
    ) -> None:
        await broken.read_then_lose_the_parameter()
        clock.advance(TTL + GRACE - 1)

        assert await broken.store.get("signing-key") == VALUES["signing-key"]
        assert broken.factory.reads == 2

    async def test_warns_without_the_value_when_it_serves_a_stale_one(
        self, broken: Broken, clock: TickingClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.WARNING, logger="adapters.secrets")
        await broken.read_then_lose_the_parameter()
        clock.advance(TTL + 1)

        await broken.store.get("signing-key")

        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "signing-key" in warnings[0].getMessage()
        assert VALUES["signing-key"] not in str(vars(warnings[0]))

    async def test_raises_from_the_botocore_error_after_the_grace(
        self, broken: Broken, clock: TickingClock
    ) -> None:
        await broken.read_then_lose_the_parameter()
        clock.advance(TTL + GRACE)

        with pytest.raises(SecretUnavailable) as raised:
            await broken.store.get("signing-key")

        assert isinstance(raised.value.__cause__, ClientError)

    async def test_waits_before_asking_a_failing_ssm_again(
        self, broken: Broken, clock: TickingClock
    ) -> None:
        await broken.read_then_lose_the_parameter()
        clock.advance(TTL + 1)
        await broken.store.get("signing-key")

        clock.advance(RETRY_AFTER - 1)
        await broken.store.get("signing-key")
        reads_while_waiting = broken.factory.reads
        clock.advance(1)
        await broken.store.get("signing-key")

        assert reads_while_waiting == 2
        assert broken.factory.reads == 3

    async def test_a_failed_refresh_does_not_extend_the_grace(
        self, broken: Broken, clock: TickingClock
    ) -> None:
        await broken.read_then_lose_the_parameter()
        clock.advance(TTL + GRACE - 10)
        await broken.store.get("signing-key")
        clock.advance(RETRY_AFTER)

        with pytest.raises(SecretUnavailable):
            await broken.store.get("signing-key")

    async def test_recovers_when_ssm_answers_again(
        self, broken: Broken, clock: TickingClock
    ) -> None:
        await broken.read_then_lose_the_parameter()
        clock.advance(TTL + 1)
        await broken.store.get("signing-key")
        broken.restore("restored-signing-key")
        clock.advance(RETRY_AFTER)

        assert await broken.store.get("signing-key") == "restored-signing-key"


class Broken:
    """A secret store and the SSM parameter behind its signing key."""

    def __init__(
        self, store: SsmSecretStore, factory: CountingFactory, moto: Moto, name: str
    ) -> None:
        self.store = store
        self.factory = factory
        self.moto = moto
        self.parameter = name

    async def read_then_lose_the_parameter(self) -> None:
        assert await self.store.get("signing-key") == VALUES["signing-key"]
        self.moto.admin.delete_parameter(Name=self.parameter)

    def restore(self, value: str) -> None:
        self.moto.admin.put_parameter(
            Name=self.parameter, Value=value, Type="SecureString"
        )


def rotate(moto: Moto, parameter: str, value: str) -> None:
    moto.admin.put_parameter(
        Name=parameter, Value=value, Type="SecureString", Overwrite=True
    )
