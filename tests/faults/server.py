"""A fault-injecting HTTP server on loopback, in front of the sandbox bank.

`serve_faults()` starts it on a free 127.0.0.1 port in a background thread with
its own event loop, and stops it when the context ends: every connection it
still holds is closed then, and nothing of it outlives the context.

Requests are read with h11, answers written either through h11 or, for the
faults that misbehave at the byte level, as raw bytes. A good answer is the
sandbox bank's own: the server hands the request to `create_app(bank)` through
`httpx.ASGITransport`, in process, so `bank.ledger` shows every write the bank
actually carried out.

What happens to a request is decided by the `Scenario` of the moment, from the
request's method and path and its attempt number (how many times this server
has seen that method and path since the scenario was set).
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, Final

import h11
import httpx
from attrs import field, frozen

from adapters.sandbox import SandboxBank, create_app

_log = logging.getLogger(__name__)

_STARTUP_SECONDS: Final = 10.0
_DRIBBLE_SECONDS: Final = 0.5
_READ_CHUNK: Final = 64 * 1024
_MAX_BODY_BYTES: Final = 64 * 1024
_HOP_BY_HOP: Final = frozenset(
    {"host", "connection", "keep-alive", "content-length", "transfer-encoding"}
)
# An answer whose header section never ends, sent a byte at a time forever.
_DRIBBLE_HEAD: Final = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-dribble: "
)
_ERROR_BODY: Final = {
    "error": {"code": "validation_failed", "message": "the request was refused"}
}
# Well-formed JSON that matches no answer of the account API.
_WRONG_SHAPE: Final = b'{"data": [{"id": 1, "balance": 2450.13}], "status": "ok"}'


class Fault(enum.Enum):
    """What the server does with one request."""

    FORWARD = "forwards to the sandbox"
    NEVER_ANSWER = "never answers"
    DRIBBLE = "answers one byte every 500 ms"
    CLOSE_BEFORE_FORWARD = "closes the connection before forwarding"
    CLOSE_AFTER_FORWARD = "forwards, then closes without an answer"
    STATUS_500 = "answers 500"
    STATUS_503 = "answers 503"
    STATUS_429 = "answers 429 with Retry-After: 1"
    STATUS_422 = "answers 422 with an error body"
    INVALID_JSON = "answers 200 with invalid JSON"
    WRONG_SHAPE = "answers 200 with JSON of the wrong shape"


class Target(enum.Enum):
    """Which requests a fault hits; the others are forwarded."""

    ALL = "every request"
    READS = "reads (GET)"
    WRITES = "writes (POST transfers and card blocks)"
    VERIFY = "caller verification (POST /v1/callers/verify)"

    def hits(self, method: str, path: str) -> bool:
        if self is Target.ALL:
            return True
        if self is Target.READS:
            return method == "GET"
        if self is Target.VERIFY:
            return method == "POST" and path == "/v1/callers/verify"
        return method == "POST" and path.endswith(("/transfers", "/block"))


@frozen
class Scenario:
    """A fault, the requests it hits, and on how many attempts of each.

    `times` None means every attempt; 1 means the first attempt of each method
    and path, after which requests are forwarded (503 then 200, for instance).
    """

    fault: Fault = Fault.FORWARD
    target: Target = Target.ALL
    times: int | None = None

    def fault_for(self, method: str, path: str, attempt: int) -> Fault:
        if not self.target.hits(method, path):
            return Fault.FORWARD
        if self.times is not None and attempt > self.times:
            return Fault.FORWARD
        return self.fault


FORWARD_ALL: Final = Scenario()


@frozen
class Seen:
    """One request the server read, and what it did with it."""

    method: str
    path: str
    attempt: int
    fault: Fault
    idempotency_key: str | None = field(default=None, repr=False)


@frozen
class _Request:
    method: str
    path: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)


class FaultServer:
    """The server's controls, safe to use from the test's thread."""

    def __init__(self) -> None:
        self.base_url = ""
        self._lock = threading.Lock()
        self._request_read = threading.Condition(self._lock)
        self._scenario = FORWARD_ALL
        self._attempts: dict[tuple[str, str], int] = {}
        self._seen: list[Seen] = []
        self._bank = SandboxBank()
        self._app = create_app(self._bank)

    # ------------------------------------------------------------ controls

    def open_bank(self, bank: SandboxBank | None = None) -> SandboxBank:
        """Puts a fresh demo bank (or `bank`) behind the server and forwards all."""
        chosen = SandboxBank() if bank is None else bank
        with self._lock:
            self._bank = chosen
            self._app = create_app(chosen)
        self.inject(FORWARD_ALL)
        return chosen

    def inject(self, scenario: Scenario) -> None:
        """Sets the scenario and starts counting attempts and requests afresh."""
        with self._lock:
            self._scenario = scenario
            self._attempts.clear()
            self._seen.clear()

    @property
    def bank(self) -> SandboxBank:
        return self._bank

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        """Requests read since the scenario was set, optionally one kind only."""
        with self._lock:
            return [
                s
                for s in self._seen
                if (method is None or s.method == method)
                and (path is None or s.path.endswith(path))
            ]

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        """Whether `count` requests were read (since the scenario) in time."""
        with self._request_read:
            return self._request_read.wait_for(
                lambda: len(self._seen) >= count, timeout
            )

    def decide(self, request: _Request) -> Fault:
        """The fault for a request just read; counts it as an attempt."""
        with self._lock:
            key = (request.method, request.path)
            attempt = self._attempts[key] = self._attempts.get(key, 0) + 1
            fault = self._scenario.fault_for(request.method, request.path, attempt)
            self._seen.append(
                Seen(
                    request.method,
                    request.path,
                    attempt,
                    fault,
                    request.header("idempotency-key"),
                )
            )
            self._request_read.notify_all()
        return fault

    async def sandbox_app(self, scope: Any, receive: Any, send: Any) -> None:
        """The current bank's API, as an ASGI app."""
        await self._app(scope, receive, send)


class _Loop:
    """The server's own event loop and everything that runs on it."""

    def __init__(self, controls: FaultServer) -> None:
        self._controls = controls
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._sandbox: httpx.AsyncClient | None = None
        self._port = 0
        self._thread = threading.Thread(
            target=self._run, name="fault-server", daemon=True
        )

    def start(self) -> int:
        self._thread.start()
        if not self._ready.wait(_STARTUP_SECONDS):
            raise RuntimeError("the fault server did not start listening")
        if self._failure is not None:
            raise RuntimeError("the fault server failed to start") from self._failure
        return self._port

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            with suppress(RuntimeError):  # the loop has already finished
                self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(_STARTUP_SECONDS)
        if self._thread.is_alive():
            raise RuntimeError("the fault server did not stop")
        if self._failure is not None:
            raise RuntimeError("the fault server failed") from self._failure

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:
            self._failure = error
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        transport = httpx.ASGITransport(app=self._controls.sandbox_app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sandbox.invalid"
        ) as sandbox:
            self._sandbox = sandbox
            server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
            self._port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stopping.wait()

            server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await server.wait_closed()

    # --------------------------------------------------------- connections

    async def _accept(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._converse(reader, writer)
        except (ConnectionError, h11.ProtocolError):
            pass  # the client went away or spoke nonsense: nothing to answer
        except Exception:
            _log.exception("the fault server failed on a connection")
        finally:
            self._connections.discard(task)
            writer.close()
            with suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _converse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Answers requests on one connection until a fault or the client ends it."""
        conn = h11.Connection(h11.SERVER)
        while True:
            request = await _read_request(conn, reader)
            if request is None:
                return
            keep_open = await self._answer(request, conn, reader, writer)
            if not keep_open or conn.our_state is not h11.DONE:
                return
            conn.start_next_cycle()

    async def _answer(
        self,
        request: _Request,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Carries out the scenario for one request; False ends the connection."""
        fault = self._controls.decide(request)
        if fault is Fault.NEVER_ANSWER:
            await self._hold(reader)
            return False
        if fault is Fault.DRIBBLE:
            await self._dribble(writer)
            return False
        if fault is Fault.CLOSE_BEFORE_FORWARD:
            return False
        if fault in (Fault.FORWARD, Fault.CLOSE_AFTER_FORWARD):
            answer = await self._forward(request)
            if fault is Fault.CLOSE_AFTER_FORWARD:
                return False
            status, headers, body = answer
        else:
            status, headers, body = _canned(fault)
        await _send(conn, writer, status, headers, body)
        return True

    async def _forward(
        self, request: _Request
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        assert self._sandbox is not None
        headers = [(k, v) for k, v in request.headers if k not in _HOP_BY_HOP]
        response = await self._sandbox.request(
            request.method, request.target, headers=headers, content=request.body
        )
        kept = [
            (k, v) for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP
        ]
        return response.status_code, kept, response.content

    async def _hold(self, reader: asyncio.StreamReader) -> None:
        """Until the server stops or the client hangs up, whichever comes first."""
        assert self._stopping is not None
        stopped = asyncio.ensure_future(self._stopping.wait())
        hung_up = asyncio.ensure_future(_until_eof(reader))
        try:
            await asyncio.wait({stopped, hung_up}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (stopped, hung_up):
                waiter.cancel()
            await asyncio.gather(stopped, hung_up, return_exceptions=True)

    async def _dribble(self, writer: asyncio.StreamWriter) -> None:
        """One byte every 500 ms, the status line first, and never an end."""
        assert self._stopping is not None
        sent = 0
        while not self._stopping.is_set() and not writer.is_closing():
            byte = _DRIBBLE_HEAD[sent : sent + 1] or b"a"
            writer.write(byte)
            await writer.drain()
            sent += 1
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), _DRIBBLE_SECONDS)


async def _read_request(
    conn: h11.Connection, reader: asyncio.StreamReader
) -> _Request | None:
    """The next whole request on the connection, or None when the client is done."""
    head: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(_READ_CHUNK))
        elif isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > _MAX_BODY_BYTES:
                return None
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            return _request(head, bytes(body))
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return None


def _request(head: h11.Request, body: bytes) -> _Request:
    target = head.target.decode("ascii")
    headers = tuple(
        (name.decode("ascii").lower(), value.decode("latin-1"))
        for name, value in head.headers
    )
    return _Request(
        method=head.method.decode("ascii"),
        path=target.split("?", 1)[0],
        target=target,
        headers=headers,
        body=body,
    )


async def _send(
    conn: h11.Connection,
    writer: asyncio.StreamWriter,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
) -> None:
    head = [*headers, ("content-length", str(len(body)))]
    writer.write(conn.send(h11.Response(status_code=status, headers=head)) or b"")
    writer.write(conn.send(h11.Data(data=body)) or b"")
    writer.write(conn.send(h11.EndOfMessage()) or b"")
    await writer.drain()


async def _until_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(_READ_CHUNK):
        pass


def _canned(fault: Fault) -> tuple[int, list[tuple[str, str]], bytes]:
    """The answer of a fault that answers instead of the sandbox."""
    json_type = ("content-type", "application/json")
    if fault is Fault.STATUS_500:
        return 500, [json_type], _json({"error": {"code": "internal_error"}})
    if fault is Fault.STATUS_503:
        return 503, [json_type], _json({"error": {"code": "unavailable"}})
    if fault is Fault.STATUS_429:
        body = _json({"error": {"code": "rate_limited"}})
        return 429, [json_type, ("retry-after", "1")], body
    if fault is Fault.STATUS_422:
        return 422, [json_type], _json(_ERROR_BODY)
    if fault is Fault.INVALID_JSON:
        return 200, [json_type], b'{"accounts": [{"accountId": "A-1", "type": '
    if fault is Fault.WRONG_SHAPE:
        return 200, [json_type], _WRONG_SHAPE
    raise ValueError(f"{fault} has no canned answer")


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


@contextmanager
def serve_faults() -> Iterator[FaultServer]:
    """The fault server on 127.0.0.1, forwarding everything until told otherwise."""
    controls = FaultServer()
    loop = _Loop(controls)
    port = loop.start()
    controls.base_url = f"http://127.0.0.1:{port}"
    try:
        yield controls
    finally:
        loop.stop()
