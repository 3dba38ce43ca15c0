"""The wall-clock deadline of the current turn, shared by everything it calls.

The entrypoint sets it once per invocation (and enforces it with
`asyncio.timeout`); adapters read it to stop retrying before time runs out.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("bankbot_deadline", default=None)


@contextmanager
def deadline_in(seconds: float) -> Iterator[float]:
    """Sets the turn's deadline `seconds` from now for the code inside."""
    at = time.monotonic() + seconds
    token = _deadline.set(at)
    try:
        yield at
    finally:
        _deadline.reset(token)


def seconds_left() -> float | None:
    """Seconds until the turn's deadline, or None outside a turn."""
    at = _deadline.get()
    return None if at is None else at - time.monotonic()
