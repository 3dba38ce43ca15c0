"""The domain stays pure: no adapters, no I/O, no wire or logging libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).parents[2] / "src" / "banking_domain"

# Top-level packages the domain must never import. asyncio is allowed: the
# use-cases are coroutines.
FORBIDDEN = frozenset(
    {
        "adapters",
        "entrypoints",
        "boto3",
        "botocore",
        "mypy_boto3_ssm",
        "httpx",
        "requests",
        "urllib",
        "http",
        "socket",
        "ssl",
        "starlette",
        "uvicorn",
        "tenacity",
        "cattrs",
        "json",
        "logging",
        "importlib",
    }
)


def forbidden_imports(source: str) -> list[str]:
    """The modules a piece of source imports that the domain may not."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # A relative import stays inside the package, which is the point.
            modules = [node.module or ""] if node.level == 0 else []
        else:
            continue
        found += [m for m in modules if m.partition(".")[0] in FORBIDDEN]
    return found


def domain_modules() -> list[Path]:
    return sorted(DOMAIN.glob("*.py"))


class TestTheDomainLayer:
    def test_has_modules_to_check(self) -> None:
        names = {path.stem for path in domain_modules()}

        assert {"money", "model", "identity", "ports", "usecases", "errors"} <= names

    @pytest.mark.parametrize("module", domain_modules(), ids=lambda path: path.stem)
    def test_imports_nothing_from_outer_layers_or_io_libraries(
        self, module: Path
    ) -> None:
        assert forbidden_imports(module.read_text(encoding="utf-8")) == []


class TestTheImportCheck:
    @pytest.mark.parametrize(
        "source",
        [
            "import boto3",
            "import logging.config",
            "from adapters.secrets import SsmSecretStore",
            "from entrypoints import bootstrap",
            "import json as wire",
            "from httpx import AsyncClient",
            "if True:\n    import socket",
            "def later():\n    import cattrs",
        ],
    )
    def test_finds_a_forbidden_import_anywhere_in_a_module(self, source: str) -> None:
        assert forbidden_imports(source) != []

    @pytest.mark.parametrize(
        "source",
        [
            "import asyncio",
            "from decimal import Decimal",
            "from banking_domain.money import Money",
            "from . import errors",
            "import jsonlines",
        ],
    )
    def test_lets_pure_imports_through(self, source: str) -> None:
        assert forbidden_imports(source) == []
