"""Shared by every test: the log scanner.

Each test's log lines are collected as JSON (through `JsonFormatter`) and, when
the test ends, scanned for what must never be logged: a demo PIN, a caller
token, a development or test key, a full account or card number. A hit fails
the test. The scan reads what the code handed to the logger, before the
scrubber: the scrubber is the second line of defence, not an excuse.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping

import pytest

from adapters.logging import QUIET_LIBRARIES, JsonFormatter
from tests.servers import Moto, ServedApp, moto_ssm, serve_asgi

# Used when the sandbox cannot say what is sensitive (not importable yet).
DEMO_PINS = ("2468", "1357")
DEVELOPMENT_KEYS = (
    "bankbot-sandbox-signing-key-DEVELOPMENT-ONLY",
    "bankbot-sandbox-api-key-DEVELOPMENT-ONLY",
)
TOKEN_SHAPE = re.compile(r"v1\.\d+\.[A-Za-z0-9_-]{22,}")
# Short values (PINs) count only as a whole number: not inside a longer
# number, a UUID or an amount such as 2468.00.
_WHOLE = r"(?<![\w-])(?<!\d[.,]){}(?![\w-])(?![.,]\d)"
_SHORT = 6


@functools.cache
def sensitive_values() -> tuple[str, ...]:
    """Every value no log line may hold, from the sandbox when it can tell."""
    from tests.fakes import FakeSecretStore

    values = [*DEMO_PINS, *DEVELOPMENT_KEYS, *FakeSecretStore().values.values()]
    try:
        from adapters.sandbox import sensitive_values as from_sandbox
    except ImportError:
        pass
    else:
        found = from_sandbox()
        if isinstance(found, Mapping):
            found = found.values()
        values.extend(str(value) for value in found)
    return tuple(dict.fromkeys(value for value in values if value))


def find_leaks(lines: Iterable[str], sensitive: Iterable[str]) -> list[str]:
    """One description per line that holds a sensitive value or a token.

    The descriptions name the line and what kind of value it held, never the
    value itself, so a failing test does not print the secret again.
    """
    patterns = [
        re.compile(_WHOLE.format(re.escape(value)))
        if len(value) <= _SHORT
        else re.compile(re.escape(value))
        for value in sensitive
    ]
    leaks = []
    for number, line in enumerate(lines, start=1):
        if TOKEN_SHAPE.search(line):
            leaks.append(f"log line {number} holds a caller token")
        hits = sum(1 for pattern in patterns if pattern.search(line))
        if hits:
            leaks.append(f"log line {number} holds {hits} sensitive value(s)")
    return leaks


class LogCollector(logging.Handler):
    """Keeps every record twice: as production writes it, and unscrubbed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.raw_lines: list[str] = []
        self._production = JsonFormatter()
        self._raw = JsonFormatter(scrubbing=False)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self._production.format(record))
        self.raw_lines.append(self._raw.format(record))


@pytest.fixture(autouse=True)
def log_collector() -> Iterator[LogCollector]:
    root = logging.getLogger()
    level = root.level
    collector = LogCollector()
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    # As in production (configure_logging): libraries that print bodies stay
    # at WARNING; everything of ours is collected down to DEBUG.
    quiet = {name: logging.getLogger(name) for name in QUIET_LIBRARIES}
    levels = {name: logger.level for name, logger in quiet.items()}
    for logger in quiet.values():
        logger.setLevel(logging.WARNING)
    try:
        yield collector
    finally:
        root.removeHandler(collector)
        root.setLevel(level)
        for name, logger in quiet.items():
            logger.setLevel(levels[name])

    leaks = find_leaks(collector.raw_lines, sensitive_values())
    if leaks:
        pytest.fail("sensitive data was logged:\n" + "\n".join(leaks))


@pytest.fixture
def log_lines(log_collector: LogCollector) -> LogLines:
    """The lines logged so far in this test, parsed, as production writes them."""
    return LogLines(log_collector)


class LogLines:
    def __init__(self, collector: LogCollector) -> None:
        self._collector = collector

    def __call__(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self._collector.lines]

    def audit(self) -> list[dict[str, object]]:
        return [line for line in self() if line.get("audit") is True]


# ------------------------------------------------------------- loopback servers


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    """moto's SSM server on loopback, shared by the session."""
    with moto_ssm() as server:
        yield server


@pytest.fixture(scope="session")
def served_sandbox() -> Iterator[ServedApp]:
    """The sandbox's HTTP server on loopback; a test installs its own bank."""
    with serve_asgi() as served:
        yield served
