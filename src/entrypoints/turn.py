"""Around every turn of both handlers: budget, deadline, errors, one log line."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from adapters.deadline import deadline_in
from banking_domain.errors import DeadlineExceeded, DependencyError, NotAuthenticated

R = TypeVar("R")
T = TypeVar("T")

logger = logging.getLogger("bankbot.turn")

# Never plan on less than this: a reply still has to be built and returned.
_FLOOR_SECONDS = 0.05


class TurnRunner:
    """One event loop per execution environment, and a hard deadline per turn.

    A shared `httpx.AsyncClient` is bound to the loop it first ran on, so the
    loop must outlive the invocation: `asyncio.run` per call would break it.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()

    def run(self, work: Callable[[], Awaitable[T]], budget_seconds: float) -> T:
        """Runs `work` to completion or raises `DeadlineExceeded` at the budget."""
        return self._loop.run_until_complete(self._bounded(work, budget_seconds))

    def close(self, *cleanups: Callable[[], Awaitable[None]]) -> None:
        for cleanup in cleanups:
            self._loop.run_until_complete(cleanup())
        self._loop.close()

    @staticmethod
    async def _bounded(work: Callable[[], Awaitable[T]], budget: float) -> T:
        with deadline_in(budget):
            timeout = asyncio.timeout(budget)
            try:
                async with timeout:
                    return await work()
            except TimeoutError as error:
                if timeout.expired():
                    raise DeadlineExceeded(f"turn exceeded {budget:.2f} s") from error
                raise


def turn_budget(context: object, cap_seconds: float, margin_seconds: float) -> float:
    """Seconds this turn may take: Lambda's remaining time less a margin, capped.

    A missing or odd context (a local run, a test) gets the channel's cap.
    """
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    try:
        millis = remaining() if callable(remaining) else None
    except Exception:  # a context from elsewhere must not cost the turn
        millis = None
    if not isinstance(millis, (int, float)) or isinstance(millis, bool):
        return cap_seconds
    return max(_FLOOR_SECONDS, min(cap_seconds, millis / 1000 - margin_seconds))


def request_id(context: object) -> str:
    value = getattr(context, "aws_request_id", None)
    return value if isinstance(value, str) else "local"


def serve_turn(
    runner: TurnRunner,
    budget: Callable[[], float],
    respond: Callable[[], R | Awaitable[R]],
    fail: Callable[[BaseException], R],
    outcome_of: Callable[[R], str],
    *,
    escalates: Callable[[R], bool] = lambda _: False,
) -> R:
    """Runs one turn; every error becomes `fail`'s reply and is logged once.

    `respond` gives the reply itself when the event alone decides it, or an
    awaitable, which runs on the event loop under the budget; the budget is
    worked out only then.

    The turn's log line says whether the caller was handed to an agent: after
    an error other than a missing identity, or when `escalates` says so.
    """
    started = time.perf_counter()
    escalated = False
    try:
        answer = respond()
        # What `Awaitable` checks, without the cost of an ABC check per turn.
        if hasattr(answer, "__await__"):
            work = cast(Awaitable[R], answer)
            reply = runner.run(lambda: work, budget())
        else:
            reply = answer
    except NotAuthenticated as error:
        logger.warning("caller not authenticated", extra={"reason": str(error)})
        reply = fail(error)
    except DependencyError as error:
        logger.error("dependency failed, caller escalated", exc_info=error)
        reply, escalated = fail(error), True
    except Exception as error:
        logger.exception("unexpected failure, caller escalated")
        reply, escalated = fail(error), True
    # To a tenth of a millisecond; round(x, 1) would cost a decimal conversion.
    duration_ms = round((time.perf_counter() - started) * 10_000) / 10
    logger.info(
        "turn handled",
        extra={
            "outcome": outcome_of(reply),
            "escalated": escalated or escalates(reply),
            "duration_ms": duration_ms,
        },
    )
    return reply
