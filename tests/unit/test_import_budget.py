"""What a cold start imports: the entrypoints' budget, counted in modules.

Each Lambda handler module is imported in a fresh interpreter, next to one that
imports only the runtime dependencies the entrypoints load at init (attrs,
cattrs, httpx, tenacity). The modules beyond that floor are ours, the
standard library's asyncio and a few more; their count is deterministic,
unlike a time, and grows whenever an import creeps onto the cold path. The
timed comparison is `make bench`'s.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
ENTRYPOINTS = ("entrypoints.lex_lambda", "entrypoints.connect_lambda")
FLOOR = "import attrs, cattrs, httpx, tenacity"

# Modules beyond the floor: 72 for the Lex handler when this was written (25
# of ours, 30 of asyncio's). The margin is for the standard library moving,
# not for new imports: one that needs more says so here.
EXTRA_MODULES_BUDGET = 95
# As a ratio of the floor's own count (329 / 257 when this was written).
RATIO_BUDGET = 1.4

# Never on the cold path: botocore is imported by the first SSM read, and the
# rest are the sandbox's, the bot tools' or the development machine's.
NEVER_AT_INIT = (
    "boto3",
    "botocore",
    "anyio",
    "starlette",
    "uvicorn",
    "yaml",
    "rapidfuzz",
    "tomllib",
    "adapters.sandbox",
    "lexbot",
    "entrypoints.cli",
    "entrypoints.chat",
    "entrypoints.demo",
    "hypothesis",
    "moto",
)


def modules_after(code: str) -> set[str]:
    """The names in `sys.modules` of a fresh interpreter after `code`."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.fixture(scope="module")
def floor() -> set[str]:
    return modules_after(FLOOR)


@pytest.mark.parametrize("entrypoint", ENTRYPOINTS)
class TestColdStartImports:
    def test_few_modules_beyond_the_dependencies(
        self, entrypoint: str, floor: set[str]
    ) -> None:
        imported = modules_after(f"import {entrypoint}")
        extra = sorted(imported - floor)

        assert len(extra) <= EXTRA_MODULES_BUDGET, extra
        assert len(imported) <= RATIO_BUDGET * len(floor)

    def test_nothing_the_first_event_does_not_need(self, entrypoint: str) -> None:
        imported = modules_after(f"import {entrypoint}")
        unwanted = sorted(
            name
            for name in imported
            if any(name == n or name.startswith(n + ".") for n in NEVER_AT_INIT)
        )

        assert unwanted == []


def test_the_count_notices_a_heavy_import(floor: set[str]) -> None:
    """The budget is not vacuous: botocore alone would break it."""
    imported = modules_after(f"import {ENTRYPOINTS[0]}, botocore.session")

    assert len(imported - floor) > EXTRA_MODULES_BUDGET
