"""The SecretStore port: one contract for the fake, the sandbox map and SSM.

SSM is moto's standalone server on loopback, reached over real HTTP by the
adapter's own signed requests, so the request, the decryption flag, the
batching and the error handling are exercised as they would be against AWS.
Retries go through a small proxy in front of moto that fails on cue, and the
signature is checked by moto itself, with IAM authentication switched on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from botocore.credentials import Credentials

from adapters.secrets import SsmError, SsmSecretStore, StaticSecretStore
from banking_domain.errors import SecretUnavailable
from banking_domain.ports import SecretStore
from tests.fakes import FakeSecretStore
from tests.servers import CountingTransport, Moto, ServedApp, serve_asgi

SOURCES = Path(__file__).parents[2] / "src"
VALUES = {
    "signing-key": "contract-signing-key-not-secret",
    "bank-api-key": "contract-api-key-not-secret",
}
TTL = 300.0
GRACE = 900.0
RETRY_AFTER = 30.0
THROTTLED = (400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
UNAVAILABLE = (503, {"__type": "InternalServerError", "message": "try again"})
REFUSED = (400, {"__type": "AccessDeniedException", "Message": "not allowed"})

StoreMaker = Callable[[Mapping[str, str]], SecretStore]


class TickingClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def no_sleep(_: float) -> None:
    """Retry waits pass at once: the tests never sleep."""


class SsmStores:
    """Builds SSM stores aimed at moto, counts their requests, closes them all."""

    def __init__(self, moto: Moto) -> None:
        self.moto = moto
        self._transports: list[CountingTransport] = []
        self._stores: list[SsmSecretStore] = []

    def build(
        self, names: Mapping[str, str], endpoint: str | None = None, **options: Any
    ) -> SsmSecretStore:
        transport = CountingTransport()
        store = self.moto.store(
            names, transport, endpoint=endpoint, sleep=no_sleep, **options
        )
        self._transports.append(transport)
        self._stores.append(store)
        return store

    @property
    def requests(self) -> int:
        return sum(len(transport.requests) for transport in self._transports)

    def names_asked(self) -> list[list[str]]:
        return [names for t in self._transports for names in t.names_asked()]

    def closed(self) -> bool:
        return all(transport.closed for transport in self._transports)

    async def close(self) -> None:
        for store in self._stores:
            await store.aclose()


@pytest.fixture
async def ssm(moto: Moto) -> AsyncIterator[SsmStores]:
    stores = SsmStores(moto)
    yield stores
    await stores.close()


@pytest.fixture(params=["fake", "static", "ssm"])
def make_store(request: pytest.FixtureRequest) -> StoreMaker:
    if request.param == "fake":
        return lambda values: FakeSecretStore(dict(values))
    if request.param == "static":
        return StaticSecretStore
    stores: SsmStores = request.getfixturevalue("ssm")
    return lambda values: stores.build(stores.moto.put(values))


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
    async def test_decrypts_a_secure_string(self, ssm: SsmStores) -> None:
        names = ssm.moto.put({"signing-key": "plain-text-of-the-key"})
        stored = ssm.moto.admin.get_parameter(Name=names["signing-key"])
        store = ssm.build(names)

        value = await store.get("signing-key")

        assert value == "plain-text-of-the-key"
        assert stored["Parameter"]["Value"] != value

    async def test_reads_a_plain_string_parameter(self, ssm: SsmStores) -> None:
        store = ssm.build(ssm.moto.put({"bank-api-key": "plain-string"}, "String"))

        assert await store.get("bank-api-key") == "plain-string"

    async def test_a_name_outside_its_map_is_refused_without_asking_ssm(
        self, ssm: SsmStores
    ) -> None:
        store = ssm.build(ssm.moto.put(VALUES))

        with pytest.raises(SecretUnavailable):
            await store.get("database-password")

        assert ssm.requests == 0

    async def test_a_missing_parameter_raises_from_ssms_error(
        self, ssm: SsmStores
    ) -> None:
        absent = f"/bankbot-contract/{uuid.uuid4().hex}/absent"
        store = ssm.build({"signing-key": absent})

        with pytest.raises(SecretUnavailable) as raised:
            await store.get("signing-key")

        assert isinstance(raised.value.__cause__, SsmError)
        assert raised.value.__cause__.code == "ParameterNotFound"
        assert str(raised.value).endswith(f"{absent!r}: ParameterNotFound")

    async def test_a_missing_parameter_fails_only_its_own_name(
        self, ssm: SsmStores
    ) -> None:
        names = ssm.moto.put({"bank-api-key": VALUES["bank-api-key"]})
        names["signing-key"] = f"/bankbot-contract/{uuid.uuid4().hex}/absent"
        store = ssm.build(names)

        with pytest.raises(SecretUnavailable):
            await store.get("signing-key")
        api_key = await store.get("bank-api-key")

        assert api_key == VALUES["bank-api-key"]
        assert ssm.requests == 1

    async def test_an_unreachable_ssm_raises_after_trying_twice(
        self, ssm: SsmStores
    ) -> None:
        endpoint = f"http://127.0.0.1:{unused_loopback_port()}"
        store = ssm.build({"signing-key": "/bankbot/signing-key"}, endpoint)

        with pytest.raises(SecretUnavailable) as raised:
            await store.get("signing-key")

        assert isinstance(raised.value.__cause__, httpx.ConnectError)
        assert "'/bankbot/signing-key': ConnectError" in str(raised.value)
        assert ssm.requests == 2

    async def test_concurrent_first_reads_of_one_name_ask_ssm_once(
        self, ssm: SsmStores
    ) -> None:
        store = ssm.build(ssm.moto.put(VALUES))

        values = await asyncio.gather(*(store.get("signing-key") for _ in range(8)))

        assert set(values) == {VALUES["signing-key"]}
        assert ssm.requests == 1

    async def test_concurrent_first_reads_of_both_names_ask_ssm_once(
        self, ssm: SsmStores
    ) -> None:
        store = ssm.build(ssm.moto.put(VALUES))

        values = await asyncio.gather(*(store.get(name) for name in [*VALUES] * 4))

        assert set(values) == set(VALUES.values())
        assert ssm.requests == 1


class TestSsmSecretStoreBatching:
    async def test_one_get_parameters_request_serves_both_names(
        self, ssm: SsmStores
    ) -> None:
        names = ssm.moto.put(VALUES)
        store = ssm.build(names)

        read = {name: await store.get(name) for name in VALUES}

        assert read == VALUES
        assert ssm.names_asked() == [list(names.values())]

    async def test_asks_for_at_most_ten_names_per_request(self, ssm: SsmStores) -> None:
        values = {f"secret-{n}": f"value-{n}-not-secret" for n in range(12)}
        store = ssm.build(ssm.moto.put(values))

        read = {name: await store.get(name) for name in values}

        assert read == values
        assert [len(names) for names in ssm.names_asked()] == [10, 2]

    async def test_a_refresh_asks_only_for_the_names_that_are_due(
        self, ssm: SsmStores, clock: TickingClock
    ) -> None:
        names = ssm.moto.put(VALUES)
        store = ssm.build(names, ttl_seconds=TTL, clock=clock)
        await store.get("signing-key")
        ssm.moto.admin.delete_parameter(Name=names["signing-key"])
        clock.advance(TTL)
        await store.get("bank-api-key")
        clock.advance(RETRY_AFTER)

        await store.get("signing-key")

        assert [len(asked) for asked in ssm.names_asked()] == [2, 2, 1]
        assert ssm.names_asked()[-1] == [names["signing-key"]]


class TestSsmSecretStoreConstruction:
    def test_building_the_store_sends_nothing(self, ssm: SsmStores) -> None:
        ssm.build(ssm.moto.put(VALUES))

        assert ssm.requests == 0

    def test_building_a_store_for_an_unreachable_ssm_does_not_fail(
        self, ssm: SsmStores
    ) -> None:
        endpoint = f"http://127.0.0.1:{unused_loopback_port()}"

        store = ssm.build({}, endpoint)

        assert isinstance(store, SsmSecretStore)

    async def test_closing_the_store_closes_its_connections(
        self, ssm: SsmStores
    ) -> None:
        store = ssm.build(ssm.moto.put(VALUES))
        await store.get("signing-key")

        await store.aclose()

        assert ssm.closed()

    async def test_closing_a_store_that_never_read_does_nothing(
        self, ssm: SsmStores
    ) -> None:
        store = ssm.build(ssm.moto.put(VALUES))

        await store.aclose()

        assert ssm.requests == 0

    def test_importing_the_adapter_imports_neither_boto3_nor_botocore(
        self,
    ) -> None:
        check = (
            "import sys, adapters.secrets; "
            "sys.exit(int('boto3' in sys.modules or 'botocore' in sys.modules))"
        )

        finished = subprocess.run(
            [sys.executable, "-c", check], check=False, cwd=SOURCES
        )

        assert finished.returncode == 0


# ----------------------------------------------------------------- retries


@attrs.define
class FlakyProxy:
    """In front of moto: answers the first requests with the given failures."""

    moto_endpoint: str
    failures: list[tuple[int, dict[str, str]]]
    requests: int = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = await _request_body(receive)
        self.requests += 1
        if self.failures:
            status, error = self.failures.pop(0)
            reply = json.dumps(error).encode()
        else:
            status, reply = await self._forward(scope, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/x-amz-json-1.1")],
            }
        )
        await send({"type": "http.response.body", "body": reply})

    async def _forward(self, scope: Any, body: bytes) -> tuple[int, bytes]:
        skip = {b"host", b"content-length"}
        headers = [(k, v) for k, v in scope["headers"] if k not in skip]
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{self.moto_endpoint}/", content=body, headers=headers
            )
        return response.status_code, response.content


async def _request_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


@pytest.fixture(scope="module")
def proxy_server() -> Iterator[ServedApp]:
    with serve_asgi() as served:
        yield served


@pytest.fixture
def flaky(proxy_server: ServedApp, moto: Moto) -> Callable[..., tuple[FlakyProxy, str]]:
    def install(*failures: tuple[int, dict[str, str]]) -> tuple[FlakyProxy, str]:
        proxy = FlakyProxy(moto.endpoint, list(failures))
        proxy_server.switchboard.app = proxy
        return proxy, proxy_server.base_url

    return install


class TestSsmSecretStoreRetries:
    @pytest.mark.parametrize(
        "failure", [THROTTLED, UNAVAILABLE], ids=["throttled", "server error"]
    )
    async def test_retries_once_after_a_passing_failure(
        self,
        ssm: SsmStores,
        flaky: Callable[..., tuple[FlakyProxy, str]],
        failure: Any,
    ) -> None:
        proxy, url = flaky(failure)
        store = ssm.build(ssm.moto.put(VALUES), url)

        value = await store.get("signing-key")

        assert value == VALUES["signing-key"]
        assert proxy.requests == 2

    async def test_gives_up_after_the_second_attempt(
        self, ssm: SsmStores, flaky: Callable[..., tuple[FlakyProxy, str]]
    ) -> None:
        proxy, url = flaky(THROTTLED, THROTTLED, THROTTLED)
        store = ssm.build(ssm.moto.put(VALUES), url)

        with pytest.raises(SecretUnavailable) as raised:
            await store.get("signing-key")

        assert isinstance(raised.value.__cause__, SsmError)
        assert raised.value.__cause__.code == "ThrottlingException"
        assert proxy.requests == 2

    async def test_does_not_retry_a_refusal(
        self, ssm: SsmStores, flaky: Callable[..., tuple[FlakyProxy, str]]
    ) -> None:
        proxy, url = flaky(REFUSED)
        store = ssm.build(ssm.moto.put(VALUES), url)

        with pytest.raises(SecretUnavailable, match="AccessDeniedException"):
            await store.get("signing-key")

        assert proxy.requests == 1


# ----------------------------------------------------------------- signing


@attrs.frozen
class Identities:
    """Credentials moto knows, made before it starts checking signatures."""

    user: Credentials
    role: Credentials
    get_parameter_only_role: Credentials


def _policy(action: str) -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _assumed(moto: Moto, name: str, action: str) -> Credentials:
    iam, sts = moto.aws("iam"), moto.aws("sts")
    trust = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "sts:AssumeRole",
    }
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [trust]}
        ),
    )["Role"]
    iam.put_role_policy(
        RoleName=name, PolicyName="read", PolicyDocument=_policy(action)
    )
    found = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="bankbot-test")
    keys = found["Credentials"]
    return Credentials(
        keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"]
    )


@pytest.fixture(scope="module")
def identities(moto: Moto) -> Identities:
    suffix = uuid.uuid4().hex[:8]
    iam = moto.aws("iam")
    user = f"bankbot-reader-{suffix}"
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user, PolicyName="read", PolicyDocument=_policy("ssm:GetParameters")
    )
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return Identities(
        Credentials(key["AccessKeyId"], key["SecretAccessKey"]),
        _assumed(moto, f"bankbot-fn-{suffix}", "ssm:GetParameters"),
        _assumed(moto, f"bankbot-old-fn-{suffix}", "ssm:GetParameter"),
    )


class TestSsmSecretStoreSigning:
    async def test_ssm_accepts_a_request_signed_with_the_right_secret_key(
        self, ssm: SsmStores, identities: Identities
    ) -> None:
        store = ssm.build(ssm.moto.put(VALUES), credentials=identities.user)

        with ssm.moto.authenticating():
            value = await store.get("signing-key")

        assert value == VALUES["signing-key"]

    async def test_ssm_refuses_a_request_signed_with_a_wrong_secret_key(
        self, ssm: SsmStores, identities: Identities
    ) -> None:
        wrong = Credentials(identities.user.access_key, "not-the-secret-key")
        store = ssm.build(ssm.moto.put(VALUES), credentials=wrong)

        with ssm.moto.authenticating(), pytest.raises(SecretUnavailable) as raised:
            await store.get("signing-key")

        assert isinstance(raised.value.__cause__, SsmError)
        assert raised.value.__cause__.status == 403
        assert ssm.requests == 1

    async def test_temporary_credentials_sign_their_session_token(
        self, ssm: SsmStores, identities: Identities
    ) -> None:
        store = ssm.build(ssm.moto.put(VALUES), credentials=identities.role)

        with ssm.moto.authenticating():
            value = await store.get("bank-api-key")

        assert value == VALUES["bank-api-key"]

    async def test_ssm_refuses_a_wrong_session_token(
        self, ssm: SsmStores, identities: Identities
    ) -> None:
        role = identities.role
        wrong = Credentials(role.access_key, role.secret_key, "not-the-token")
        store = ssm.build(ssm.moto.put(VALUES), credentials=wrong)

        with ssm.moto.authenticating(), pytest.raises(SecretUnavailable):
            await store.get("bank-api-key")

    async def test_a_role_allowed_only_get_parameter_is_refused(
        self, ssm: SsmStores, identities: Identities
    ) -> None:
        store = ssm.build(
            ssm.moto.put(VALUES), credentials=identities.get_parameter_only_role
        )

        with ssm.moto.authenticating(), pytest.raises(SecretUnavailable) as raised:
            await store.get("signing-key")

        assert isinstance(raised.value.__cause__, SsmError)
        assert raised.value.__cause__.status == 403


# ---------------------------------------------------------------- rotation


class TestSsmSecretStoreRotation:
    async def test_serves_the_cached_value_until_the_ttl_passes(
        self, ssm: SsmStores, clock: TickingClock
    ) -> None:
        names = ssm.moto.put(VALUES)
        store = ssm.build(names, ttl_seconds=TTL, clock=clock)
        await store.get("signing-key")
        rotate(ssm.moto, names["signing-key"], "rotated-signing-key")
        clock.advance(TTL - 1)

        assert await store.get("signing-key") == VALUES["signing-key"]

    async def test_picks_up_a_rotated_value_after_the_ttl(
        self, ssm: SsmStores, clock: TickingClock
    ) -> None:
        names = ssm.moto.put(VALUES)
        store = ssm.build(names, ttl_seconds=TTL, clock=clock)
        await store.get("signing-key")
        rotate(ssm.moto, names["signing-key"], "rotated-signing-key")
        clock.advance(TTL)

        assert await store.get("signing-key") == "rotated-signing-key"


class TestSsmSecretStoreWhenRefreshFails:
    @pytest.fixture
    def broken(self, ssm: SsmStores, clock: TickingClock) -> Broken:
        """A store that has read its secret once; then the parameter vanished."""
        names = ssm.moto.put(VALUES)
        store = ssm.build(
            names,
            ttl_seconds=TTL,
            stale_grace_seconds=GRACE,
            retry_after_failure_seconds=RETRY_AFTER,
            clock=clock,
        )
        return Broken(store, ssm, names["signing-key"])

    async def test_serves_the_last_good_value_within_the_grace(
        self, broken: Broken, clock: TickingClock
    ) -> None:
        await broken.read_then_lose_the_parameter()
        clock.advance(TTL + GRACE - 1)

        assert await broken.store.get("signing-key") == VALUES["signing-key"]
        assert broken.ssm.requests == 2

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
        assert warnings[0].__dict__["error"] == "ParameterNotFound"

    async def test_raises_from_ssms_error_after_the_grace(
        self, broken: Broken, clock: TickingClock
    ) -> None:
        await broken.read_then_lose_the_parameter()
        clock.advance(TTL + GRACE)

        with pytest.raises(SecretUnavailable) as raised:
            await broken.store.get("signing-key")

        assert isinstance(raised.value.__cause__, SsmError)

    async def test_waits_before_asking_a_failing_ssm_again(
        self, broken: Broken, clock: TickingClock
    ) -> None:
        await broken.read_then_lose_the_parameter()
        clock.advance(TTL + 1)
        await broken.store.get("signing-key")

        clock.advance(RETRY_AFTER - 1)
        await broken.store.get("signing-key")
        requests_while_waiting = broken.ssm.requests
        clock.advance(1)
        await broken.store.get("signing-key")

        assert requests_while_waiting == 2
        assert broken.ssm.requests == 3

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

    def __init__(self, store: SsmSecretStore, ssm: SsmStores, name: str) -> None:
        self.store = store
        self.ssm = ssm
        self.parameter = name

    async def read_then_lose_the_parameter(self) -> None:
        assert await self.store.get("signing-key") == VALUES["signing-key"]
        self.ssm.moto.admin.delete_parameter(Name=self.parameter)

    def restore(self, value: str) -> None:
        self.ssm.moto.admin.put_parameter(
            Name=self.parameter, Value=value, Type="SecureString"
        )


def rotate(moto: Moto, parameter: str, value: str) -> None:
    moto.admin.put_parameter(
        Name=parameter, Value=value, Type="SecureString", Overwrite=True
    )
