"""Real servers on loopback for the tests: moto's SSM and any ASGI app.

Each runs in a background thread on a free 127.0.0.1 port, says when it is
listening (no sleeping), and stops when its context ends.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs
import boto3
import httpx
import uvicorn
from botocore.credentials import Credentials
from moto.server import ThreadedMotoServer

from adapters.secrets import SsmSecretStore

REGION = "us-east-1"
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_STARTUP_SECONDS = 10.0


class Moto:
    """moto's SSM on loopback, with an admin client and per-test parameter names."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.admin = self.aws("ssm")

    def aws(self, service: str) -> Any:
        """A boto3 client for a service of this server (SSM, IAM, STS)."""
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=REGION, **DUMMY_CREDENTIALS
        )

    def put(
        self, values: Mapping[str, str], kind: str = "SecureString"
    ) -> dict[str, str]:
        """Stores each value under a fresh parameter name; returns the name map."""
        prefix = f"/bankbot-contract/{uuid.uuid4().hex}"
        names = {}
        for logical, value in values.items():
            names[logical] = f"{prefix}/{logical}"
            self.admin.put_parameter(Name=names[logical], Value=value, Type=kind)
        return names

    def store(
        self,
        names: Mapping[str, str],
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
        **options: Any,
    ) -> SsmSecretStore:
        """The adapter aimed at this server (or `endpoint`), with dummy keys."""
        return SsmSecretStore(
            names,
            region=REGION,
            endpoint_url=endpoint or self.endpoint,
            credentials=credentials or dummy_credentials(),
            transport=transport,
            **options,
        )

    @contextmanager
    def authenticating(self) -> Iterator[None]:
        """moto checks every request's signature and IAM policy meanwhile.

        The switch is moto's, for the whole process: parameters, users and
        roles must exist before, and the admin client is refused during.
        """
        reset = f"{self.endpoint}/moto-api/reset-auth"
        httpx.post(reset, content=b"0").raise_for_status()
        try:
            yield
        finally:
            httpx.post(reset, content=b"inf").raise_for_status()


def dummy_credentials() -> Credentials:
    return Credentials(
        DUMMY_CREDENTIALS["aws_access_key_id"],
        DUMMY_CREDENTIALS["aws_secret_access_key"],
    )


class CountingTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, keeping every request that went through it."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        self.closed = True
        await self._inner.aclose()

    def names_asked(self) -> list[list[str]]:
        """The parameter names of each GetParameters request, in order."""
        return [json.loads(request.content)["Names"] for request in self.requests]


@contextmanager
def moto_ssm() -> Iterator[Moto]:
    """moto's standalone server on loopback, with an admin client."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    moto = Moto(f"http://{host}:{port}")
    try:
        yield moto
    finally:
        moto.admin.close()
        server.stop()


class Switchboard:
    """An ASGI app that hands each request to the app of the current test."""

    def __init__(self) -> None:
        self.app: Callable[..., object] | None = None

    async def __call__(self, scope, receive, send) -> None:
        assert self.app is not None, "no app installed for this test"
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
class ServedApp:
    base_url: str
    switchboard: Switchboard


@contextmanager
def serve_asgi() -> Iterator[ServedApp]:
    """uvicorn on 127.0.0.1 in a background thread, serving a switchable app."""
    switchboard = Switchboard()
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say
    # they are TCP; without it every response waits for a delayed ACK.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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
            raise RuntimeError("the test server did not start listening")
        yield ServedApp(f"http://127.0.0.1:{port}", switchboard)
    finally:
        server.should_exit = True
        thread.join(_STARTUP_SECONDS)
        listener.close()
