"""Secrets by logical name: SSM Parameter Store when live, a fixed map in the sandbox.

`SsmSecretStore` keeps each value for a TTL so rotation is picked up without a
redeploy, and rides out a short SSM outage on the last good value (logged as
a WARNING, never with the value).

It speaks SSM's JSON protocol itself: one ``GetParameters`` POST over httpx
for every name that is due, signed by botocore's own SigV4 signer, because
importing boto3 and building its client costs about three times as much on
a cold start. botocore is imported on the first read, not with this module,
and nothing touches the network before then.

Why a read failed, as the ``__cause__`` of `SecretUnavailable`::

    SsmError            SSM answered with an error: its code, e.g. ParameterNotFound
    MalformedReply      SSM's answer was not the JSON it should be
    SsmNotConfigured    no region or no credentials to sign with
    httpx.HTTPError     the request failed or timed out
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import httpx
from attrs import field, frozen
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from adapters.http_client import (
    MAYBE_SENT,
    NEVER_SENT,
    NoTimeForAnotherTry,
    build_client,
)
from banking_domain.errors import SecretUnavailable

if TYPE_CHECKING:
    from botocore.credentials import Credentials, ReadOnlyCredentials

_log = logging.getLogger(__name__)

_TARGET: Final = "AmazonSSM.GetParameters"
_CONTENT_TYPE: Final = "application/x-amz-json-1.1"
_MAX_NAMES: Final = 10  # SSM refuses more names in one GetParameters
_ATTEMPTS: Final = 2
_MIN_ATTEMPT_SECONDS: Final = 0.25
_THROTTLED: Final = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException"}
)


class StaticSecretStore:
    """Fixed values, for the sandbox only: development keys that are not secret."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __repr__(self) -> str:
        return f"StaticSecretStore(names={sorted(self._values)!r})"

    async def get(self, name: str) -> str:
        try:
            return self._values[name]
        except KeyError:
            raise SecretUnavailable(f"no secret named {name!r}") from None


# ------------------------------------------------------------------ errors


class SsmError(Exception):
    """SSM answered with an error; `code` is the part of ``__type`` after '#'."""

    def __init__(self, code: str, status: int, message: str = "") -> None:
        detail = f": {message}" if message else ""
        super().__init__(f"{code} (status {status}){detail}")
        self.code = code
        self.status = status

    @property
    def transient(self) -> bool:
        return self.status >= 500 or self.status == 429 or self.code in _THROTTLED


class MalformedReply(ValueError):
    """SSM answered 200 with a body that is not a GetParameters result."""


class SsmNotConfigured(Exception):
    """No region or no credentials: nothing to sign a request with."""


# What reading one batch may fail with; each becomes the names' failure.
_READ_FAILURES: Final = (httpx.HTTPError, SsmError, SsmNotConfigured, ValueError)


def _kind(error: BaseException) -> str:
    """The error's type as a log or a message may show it; never a value."""
    return error.code if isinstance(error, SsmError) else type(error).__name__


def _unavailable(parameter: str, cause: Exception) -> SecretUnavailable:
    error = SecretUnavailable(f"cannot read parameter {parameter!r}: {_kind(cause)}")
    error.__cause__ = cause
    return error


# ------------------------------------------------------------------- store


@frozen
class _Cached:
    value: str = field(repr=False)
    read_at: float
    # After a failed refresh, when to ask SSM again; until then the stale
    # value is served without waiting on a service that just failed.
    retry_at: float


class SsmSecretStore:
    """Reads SecureString parameters from SSM, cached per name for a TTL.

    `parameters` maps logical names (``"signing-key"``) to parameter names.
    A value is fresh for `ttl_seconds`; when a refresh fails, the last good
    value is served while it is younger than `ttl_seconds` plus
    `stale_grace_seconds`, and SSM is asked again at most every
    `retry_after_failure_seconds`. A name never read, or read too long ago,
    raises `SecretUnavailable` from the reason (see the module docstring).

    A miss refreshes every name that is due in one request, so the first
    turn of an execution environment reads both secrets at once. The region,
    endpoint and credentials come from the standard AWS environment unless
    given; `transport` and `sleep` are for tests. Call `aclose` when done.
    """

    def __init__(
        self,
        parameters: Mapping[str, str],
        *,
        ttl_seconds: float = 300,
        stale_grace_seconds: float = 900,
        retry_after_failure_seconds: float = 30,
        clock: Callable[[], float] = time.monotonic,
        region: str | None = None,
        endpoint_url: str | None = None,
        credentials: Credentials | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._parameters = dict(parameters)
        self._ttl = ttl_seconds
        self._grace = stale_grace_seconds
        self._retry_after = retry_after_failure_seconds
        self._clock = clock
        self._ssm = _SsmClient(region, endpoint_url, credentials, transport, sleep)
        self._cache: dict[str, _Cached] = {}
        self._refreshing = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SsmSecretStore(parameters={self._parameters!r})"

    async def get(self, name: str) -> str:
        if name not in self._parameters:
            raise SecretUnavailable(f"no parameter configured for secret {name!r}")
        cached = self._usable(name)
        if cached is not None:
            return cached
        # One refresh at a time: the others wait and take its result.
        async with self._refreshing:
            cached = self._usable(name)
            if cached is not None:
                return cached
            outcomes = await self._refresh_due()
        outcome = outcomes[name]
        if isinstance(outcome, SecretUnavailable):
            raise outcome
        return outcome

    async def aclose(self) -> None:
        """Closes the HTTP client, if a read ever built one."""
        await self._ssm.aclose()

    def _usable(self, name: str) -> str | None:
        """The cached value when no refresh is due yet."""
        cached = self._cache.get(name)
        if cached is None:
            return None
        now = self._clock()
        if now - cached.read_at < self._ttl or now < cached.retry_at:
            return cached.value
        return None

    async def _refresh_due(self) -> dict[str, str | SecretUnavailable]:
        """Asks SSM for every name that is due, in one request; records each."""
        due = [name for name in self._parameters if self._usable(name) is None]
        wanted = list(dict.fromkeys(self._parameters[name] for name in due))
        read = await self._ssm.get_parameters(wanted)
        return {name: self._record(name, read[self._parameters[name]]) for name in due}

    def _record(self, name: str, outcome: str | Exception) -> str | SecretUnavailable:
        if isinstance(outcome, str):
            now = self._clock()
            self._cache[name] = _Cached(outcome, read_at=now, retry_at=now)
            _log.debug("secret refreshed", extra={"secret": name})
            return outcome
        return self._stale(name, _unavailable(self._parameters[name], outcome))

    def _stale(self, name: str, error: SecretUnavailable) -> str | SecretUnavailable:
        """The last good value while the grace lasts, else the error."""
        cached = self._cache.get(name)
        now = self._clock()
        if cached is None or now - cached.read_at >= self._ttl + self._grace:
            return error
        self._cache[name] = _Cached(
            cached.value, cached.read_at, retry_at=now + self._retry_after
        )
        _log.warning(
            "secret %r: refresh failed, serving the last good value",
            name,
            extra={
                "secret": name,
                "parameter": self._parameters[name],
                "age_seconds": round(now - cached.read_at),
                "error": _kind(error.__cause__ or error),
            },
        )
        return cached.value


# --------------------------------------------------------------------- wire


class _SsmClient:
    """``GetParameters`` over httpx, signed with botocore's SigV4 signer."""

    def __init__(
        self,
        region: str | None,
        endpoint_url: str | None,
        credentials: Credentials | None,
        transport: httpx.AsyncBaseTransport | None,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._region = region
        self._endpoint_url = endpoint_url
        self._credentials = credentials
        self._transport = transport
        self._sleep = sleep
        self._client: httpx.AsyncClient | None = None

    async def get_parameters(self, names: Sequence[str]) -> dict[str, str | Exception]:
        """Each name's value, or why it could not be read."""
        outcomes: dict[str, str | Exception] = {}
        for chunk in _chunks(names, _MAX_NAMES):
            try:
                outcomes |= await self._get_chunk(chunk)
            except _READ_FAILURES as error:
                outcomes |= dict.fromkeys(chunk, error)
        return outcomes

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _get_chunk(self, names: Sequence[str]) -> dict[str, str | Exception]:
        body = json.dumps({"Names": list(names), "WithDecryption": True}).encode()
        # Reads are idempotent, so a request that may have arrived is repeated.
        retrying = AsyncRetrying(
            stop=(
                stop_after_attempt(_ATTEMPTS)
                | NoTimeForAnotherTry(_MIN_ATTEMPT_SECONDS)
            ),
            wait=wait_random_exponential(multiplier=0.02, max=0.2),
            retry=retry_if_exception(_worth_retrying),
            sleep=self._sleep,
            reraise=True,
        )
        response: httpx.Response = await retrying(self._attempt, body, len(names))
        return _outcomes(names, response.content)

    async def _attempt(self, body: bytes, count: int) -> httpx.Response:
        url, headers = self._signed(body)
        started = time.perf_counter()
        try:
            response = await self._http(url).post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            _log_request(count, type(error).__name__, started)
            raise
        _log_request(count, response.status_code, started)
        if response.status_code != 200:
            raise _error_from(response)
        return response

    def _signed(self, body: bytes) -> tuple[str, dict[str, str]]:
        """The URL and the headers of a request signed now, for this body."""
        # botocore (~100 ms) is imported by the first read, not at init.
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        region, url = self._where()
        request = AWSRequest(
            method="POST",
            url=url,
            data=body,
            headers={"Content-Type": _CONTENT_TYPE, "X-Amz-Target": _TARGET},
        )
        SigV4Auth(self._frozen_credentials(), "ssm", region).add_auth(request)
        return url, dict(request.headers.items())

    def _where(self) -> tuple[str, str]:
        """The region and URL; read from the environment on first use if not given."""
        self._region = self._region or _region_from_env()
        if self._region is None:
            raise SsmNotConfigured("no AWS region: set AWS_REGION")
        endpoint = self._endpoint_url or _endpoint_from_env(self._region)
        self._endpoint_url = endpoint
        return self._region, endpoint.rstrip("/") + "/"

    def _frozen_credentials(self) -> ReadOnlyCredentials:
        """This request's credentials; a refreshable set refreshes when due."""
        from botocore.exceptions import BotoCoreError  # with the signer, not at init

        try:
            if self._credentials is None:
                self._credentials = _find_credentials()
            return self._credentials.get_frozen_credentials()
        except BotoCoreError as error:
            raise SsmNotConfigured(f"credentials: {type(error).__name__}") from error

    def _http(self, url: str) -> httpx.AsyncClient:
        # Built on the first read: the client binds to the loop it runs on.
        if self._client is None:
            self._client = build_client(url, self._transport)
        return self._client


def _find_credentials() -> Credentials:
    """The environment's credentials, as Lambda sets them, else the full chain."""
    from botocore.credentials import EnvProvider  # with the signer, not at init

    found: Credentials | None = EnvProvider().load()
    if found is None:
        # Imported only here: the chain costs ~50 ms more, and Lambda has no need.
        from botocore.session import Session

        # Runs on the event loop: outside Lambda, a chain that asks the
        # instance metadata service may block the loop for a second or two.
        found = Session().get_credentials()
    if found is None:
        raise SsmNotConfigured("no AWS credentials found")
    return found


def _region_from_env() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def _endpoint_from_env(region: str) -> str:
    configured = os.environ.get("AWS_ENDPOINT_URL_SSM") or os.environ.get(
        "AWS_ENDPOINT_URL"
    )
    if configured:
        return configured
    # FIPS and dual-stack endpoints are not derived (AWS_USE_FIPS_ENDPOINT is
    # ignored); such a deployment sets AWS_ENDPOINT_URL_SSM instead.
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://ssm.{region}.{domain}"


def _chunks(names: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(names), size):
        yield names[start : start + size]


def _worth_retrying(error: BaseException) -> bool:
    if isinstance(error, SsmError):
        return error.transient
    return isinstance(error, (*NEVER_SENT, *MAYBE_SENT))


def _error_from(response: httpx.Response) -> SsmError:
    """SSM's error reply as an exception: ``{"__type": ..., "message": ...}``."""
    try:
        body: Any = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    kind = body.get("__type") or response.headers.get("x-amzn-errortype", "")
    code = str(kind).partition(":")[0].rpartition("#")[2]
    message = body.get("message", body.get("Message", ""))
    status = response.status_code
    return SsmError(code or f"HTTP {status}", status, str(message))


def _outcomes(names: Sequence[str], content: bytes) -> dict[str, str | Exception]:
    """Each asked name's value, or its own failure, from a 200 reply."""
    values, invalid = _parse_reply(content)
    outcomes: dict[str, str | Exception] = {}
    for name in names:
        if name in values:
            outcomes[name] = values[name]
        elif name in invalid:
            # SSM lists a name it does not hold here rather than failing.
            outcomes[name] = SsmError("ParameterNotFound", 200, "in InvalidParameters")
        else:
            outcomes[name] = MalformedReply("the reply does not name the parameter")
    return outcomes


def _parse_reply(content: bytes) -> tuple[dict[str, str], set[str]]:
    body = json.loads(content)
    if not isinstance(body, dict):
        raise MalformedReply("the reply is not a JSON object")
    values: dict[str, str] = {}
    for parameter in _list_in(body, "Parameters"):
        entry = parameter if isinstance(parameter, dict) else {}
        name, value = entry.get("Name"), entry.get("Value")
        if not (isinstance(name, str) and isinstance(value, str)):
            raise MalformedReply("a parameter without a string Name and Value")
        values[name] = value
    invalid = _list_in(body, "InvalidParameters")
    if not all(isinstance(name, str) for name in invalid):
        raise MalformedReply("InvalidParameters holds something not a name")
    return values, set(invalid)


def _list_in(body: dict[str, Any], key: str) -> list[Any]:
    found = body.get(key, [])
    if not isinstance(found, list):
        raise MalformedReply(f"{key} is not a list")
    return found


def _log_request(count: int, outcome: int | str, started: float) -> None:
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    _log.debug(
        "SSM GetParameters for %d name(s) -> %s in %d ms",
        count,
        outcome,
        elapsed_ms,
        extra={"names": count, "status": outcome, "duration_ms": elapsed_ms},
    )
