"""Real servers on loopback for the tests: moto's SSM and any ASGI app.

Each runs in a background thread on a free 127.0.0.1 port, says when it is
listening (no sleeping), and stops when its context ends.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import attrs
import boto3
import uvicorn
from moto.server import ThreadedMotoServer

from adapters.secrets import ssm_client

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

REGION = "us-east-1"
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_STARTUP_SECONDS = 10.0


class Moto:
    """moto's SSM on loopback, with an admin client and per-test parameter names."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.admin = boto3.client(
            "ssm", endpoint_url=endpoint, region_name=REGION, **DUMMY_CREDENTIALS
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

    def client_factory(self) -> CountingFactory:
        return CountingFactory(self.endpoint)


class CountingFactory:
    """Builds the adapter's real client for an endpoint; counts clients and reads."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.clients = 0
        self.reads = 0

    def __call__(self) -> SSMClient:
        self.clients += 1
        client = ssm_client(
            region_name=REGION, endpoint_url=self.endpoint, **DUMMY_CREDENTIALS
        )
        client.meta.events.register("before-call.ssm.GetParameter", self._count)
        return client

    def _count(self, **_: Any) -> None:
        self.reads += 1


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
