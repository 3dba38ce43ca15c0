"""SsmSecretStore's requests and error replies, against scripted answers.

The reads themselves are tested against moto (tests/contract); here
httpx.MockTransport answers, so each request can be looked at and each error
shape SSM may send can be scripted. Sleeping is recorded, never done.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from botocore.credentials import Credentials

from adapters.deadline import deadline_in
from adapters.secrets import MalformedReply, SsmError, SsmNotConfigured, SsmSecretStore
from banking_domain.errors import SecretUnavailable

PARAMETER = "/bankbot/signing-key"
VALUE = "unit-signing-key-not-secret"
KEYS = Credentials("AKIDUNITTEST", "unit-secret-key-not-secret")

Answer = httpx.Response | type[httpx.TransportError]


def found(name: str = PARAMETER, value: Any = VALUE) -> httpx.Response:
    parameter = {"Name": name, "Type": "SecureString", "Value": value}
    return httpx.Response(200, json={"Parameters": [parameter]})


def failure(status: int, body: bytes, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=body, headers=headers)


class ScriptedSsm:
    """Answers each request with the next answer; the last one repeats."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, httpx.Response):
            return answer
        raise answer("scripted", request=request)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def store(self, **options: Any) -> SsmSecretStore:
        settings = {"region": "eu-west-1", "credentials": KEYS, **options}
        return SsmSecretStore(
            {"signing-key": PARAMETER},
            transport=httpx.MockTransport(self.handle),
            sleep=self.sleep,
            **settings,
        )


@pytest.fixture
async def stores() -> AsyncIterator[Callable[..., SsmSecretStore]]:
    built: list[SsmSecretStore] = []

    def build(ssm: ScriptedSsm, **options: Any) -> SsmSecretStore:
        built.append(ssm.store(**options))
        return built[-1]

    yield build
    for store in built:
        await store.aclose()


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No AWS setting at all, and no file or metadata service to find one in."""
    for name in (
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SSM",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


def signed_headers(request: httpx.Request) -> list[str]:
    authorization = request.headers["authorization"]
    return authorization.partition("SignedHeaders=")[2].partition(",")[0].split(";")


class TestTheRequest:
    async def test_is_one_signed_get_parameters_post(self, stores: Callable) -> None:
        ssm = ScriptedSsm(found())

        await stores(ssm).get("signing-key")

        (request,) = ssm.requests
        assert request.method == "POST"
        assert str(request.url) == "https://ssm.eu-west-1.amazonaws.com/"
        assert request.headers["x-amz-target"] == "AmazonSSM.GetParameters"
        assert request.headers["content-type"] == "application/x-amz-json-1.1"
        assert json.loads(request.content) == {
            "Names": [PARAMETER],
            "WithDecryption": True,
        }
        assert request.headers["authorization"].startswith(
            "AWS4-HMAC-SHA256 Credential=AKIDUNITTEST/"
        )
        assert "/eu-west-1/ssm/aws4_request" in request.headers["authorization"]
        assert {"host", "x-amz-target", "x-amz-date"} <= set(signed_headers(request))

    async def test_signs_and_sends_a_session_token(self, stores: Callable) -> None:
        ssm = ScriptedSsm(found())
        keys = Credentials("ASIAUNITTEST", "unit-secret-not-secret", "unit-token")

        await stores(ssm, credentials=keys).get("signing-key")

        (request,) = ssm.requests
        assert request.headers["x-amz-security-token"] == "unit-token"
        assert "x-amz-security-token" in signed_headers(request)


class TestTheEnvironment:
    @pytest.mark.parametrize(
        ("variables", "url"),
        [
            ({"AWS_REGION": "eu-west-1"}, "https://ssm.eu-west-1.amazonaws.com/"),
            (
                {"AWS_DEFAULT_REGION": "us-west-2"},
                "https://ssm.us-west-2.amazonaws.com/",
            ),
            (
                {"AWS_REGION": "cn-north-1"},
                "https://ssm.cn-north-1.amazonaws.com.cn/",
            ),
            (
                {"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://all.test"},
                "http://all.test/",
            ),
            (
                {
                    "AWS_REGION": "eu-west-1",
                    "AWS_ENDPOINT_URL": "http://all.test",
                    "AWS_ENDPOINT_URL_SSM": "http://ssm.test:4566",
                },
                "http://ssm.test:4566/",
            ),
        ],
    )
    async def test_names_the_endpoint(
        self,
        stores: Callable,
        bare_environment: pytest.MonkeyPatch,
        variables: dict[str, str],
        url: str,
    ) -> None:
        for name, value in variables.items():
            bare_environment.setenv(name, value)
        ssm = ScriptedSsm(found())

        await stores(ssm, region=None).get("signing-key")

        assert str(ssm.requests[0].url) == url

    async def test_signs_with_the_keys_lambda_puts_in_the_environment(
        self, stores: Callable, bare_environment: pytest.MonkeyPatch
    ) -> None:
        bare_environment.setenv("AWS_ACCESS_KEY_ID", "ASIAFROMENV")
        bare_environment.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-not-secret")
        bare_environment.setenv("AWS_SESSION_TOKEN", "env-token")
        ssm = ScriptedSsm(found())

        await stores(ssm, credentials=None).get("signing-key")

        (request,) = ssm.requests
        assert "Credential=ASIAFROMENV/" in request.headers["authorization"]
        assert request.headers["x-amz-security-token"] == "env-token"

    async def test_without_credentials_nothing_is_sent(
        self, stores: Callable, bare_environment: pytest.MonkeyPatch
    ) -> None:
        ssm = ScriptedSsm(found())

        with pytest.raises(SecretUnavailable) as raised:
            await stores(ssm, credentials=None).get("signing-key")

        assert isinstance(raised.value.__cause__, SsmNotConfigured)
        assert ssm.requests == []

    async def test_without_a_region_nothing_is_sent(
        self, stores: Callable, bare_environment: pytest.MonkeyPatch
    ) -> None:
        ssm = ScriptedSsm(found())

        with pytest.raises(SecretUnavailable) as raised:
            await stores(ssm, region=None).get("signing-key")

        assert isinstance(raised.value.__cause__, SsmNotConfigured)
        assert ssm.requests == []


class TestErrorReplies:
    @pytest.mark.parametrize(
        ("answer", "code", "attempts"),
        [
            (
                failure(
                    400,
                    b'{"__type": "com.amazonaws.ssm#ParameterNotFound",'
                    b' "message": "not found"}',
                ),
                "ParameterNotFound",
                1,
            ),
            (
                failure(400, b'{"__type": "ThrottlingException", "Message": "slow"}'),
                "ThrottlingException",
                2,
            ),
            (
                failure(
                    400,
                    b"{}",
                    **{"x-amzn-ErrorType": "AccessDeniedException:http://x.test/"},
                ),
                "AccessDeniedException",
                1,
            ),
            (
                failure(500, b'{"__type": "InternalServerError"}'),
                "InternalServerError",
                2,
            ),
            (failure(502, b"<html>bad gateway</html>"), "HTTP 502", 2),
            (failure(429, b""), "HTTP 429", 2),
            (failure(403, b"<ErrorResponse/>"), "HTTP 403", 1),
        ],
    )
    async def test_become_secret_unavailable_naming_the_parameter_and_code(
        self, stores: Callable, answer: httpx.Response, code: str, attempts: int
    ) -> None:
        ssm = ScriptedSsm(answer)

        with pytest.raises(SecretUnavailable) as raised:
            await stores(ssm).get("signing-key")

        assert str(raised.value) == f"cannot read parameter {PARAMETER!r}: {code}"
        assert isinstance(raised.value.__cause__, SsmError)
        assert raised.value.__cause__.status == answer.status_code
        assert len(ssm.requests) == attempts

    async def test_keep_ssms_message_on_the_cause(self, stores: Callable) -> None:
        body = b'{"__type": "x#AccessDeniedException", "Message": "no role"}'
        ssm = ScriptedSsm(failure(400, body))

        with pytest.raises(SecretUnavailable) as raised:
            await stores(ssm).get("signing-key")

        assert str(raised.value.__cause__) == (
            "AccessDeniedException (status 400): no role"
        )


class TestMalformedReplies:
    @pytest.mark.parametrize(
        ("answer", "cause"),
        [
            (failure(200, b"not json"), json.JSONDecodeError),
            (failure(200, b"[]"), MalformedReply),
            (failure(200, b'{"Parameters": {}}'), MalformedReply),
            (found(value=7), MalformedReply),
            (found(name="/bankbot/another"), MalformedReply),
            (
                failure(200, b'{"Parameters": [], "InvalidParameters": [3]}'),
                MalformedReply,
            ),
        ],
    )
    async def test_become_secret_unavailable_without_a_retry(
        self, stores: Callable, answer: httpx.Response, cause: type[Exception]
    ) -> None:
        ssm = ScriptedSsm(answer)

        with pytest.raises(SecretUnavailable) as raised:
            await stores(ssm).get("signing-key")

        assert isinstance(raised.value.__cause__, cause)
        assert str(raised.value).startswith(f"cannot read parameter {PARAMETER!r}: ")
        assert len(ssm.requests) == 1

    async def test_never_show_a_value_that_came_back(self, stores: Callable) -> None:
        ssm = ScriptedSsm(found(name="/bankbot/another"))

        with pytest.raises(SecretUnavailable) as raised:
            await stores(ssm).get("signing-key")

        assert VALUE not in str(raised.value)
        assert VALUE not in str(raised.value.__cause__)


class TestRetries:
    @pytest.mark.parametrize(
        "error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout]
    )
    async def test_a_transport_failure_is_tried_once_more(
        self, stores: Callable, error: type[httpx.TransportError]
    ) -> None:
        ssm = ScriptedSsm(error, found())

        value = await stores(ssm).get("signing-key")

        assert value == VALUE
        assert len(ssm.requests) == 2

    async def test_a_second_transport_failure_is_the_answer(
        self, stores: Callable
    ) -> None:
        ssm = ScriptedSsm(httpx.ReadTimeout)

        with pytest.raises(SecretUnavailable, match="ReadTimeout") as raised:
            await stores(ssm).get("signing-key")

        assert isinstance(raised.value.__cause__, httpx.ReadTimeout)
        assert len(ssm.requests) == 2

    async def test_each_attempt_is_signed_afresh(self, stores: Callable) -> None:
        ssm = ScriptedSsm(httpx.ConnectError, found())

        await stores(ssm).get("signing-key")

        first, second = ssm.requests
        assert "authorization" in first.headers
        assert "authorization" in second.headers

    async def test_the_wait_between_attempts_is_short(self, stores: Callable) -> None:
        ssm = ScriptedSsm(httpx.ConnectError, found())

        await stores(ssm).get("signing-key")

        assert len(ssm.sleeps) == 1
        assert 0 <= ssm.sleeps[0] <= 0.2

    async def test_no_second_attempt_when_the_turn_has_no_time_left(
        self, stores: Callable
    ) -> None:
        ssm = ScriptedSsm(httpx.ConnectError, found())

        with deadline_in(0.1), pytest.raises(SecretUnavailable):
            await stores(ssm).get("signing-key")

        assert len(ssm.requests) == 1
