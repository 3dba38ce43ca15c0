"""The layers keep to their imports: a pure domain, and no boto3 in src."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCES = Path(__file__).parents[2] / "src"
DOMAIN = SOURCES / "banking_domain"

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


def imported_modules(source: str) -> list[str]:
    """Every module a piece of source imports absolutely, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            # A relative import stays inside the package, which is the point.
            found.append(node.module or "")
    return found


def forbidden_imports(source: str) -> list[str]:
    """The modules a piece of source imports that the domain may not."""
    return [m for m in imported_modules(source) if m.partition(".")[0] in FORBIDDEN]


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


class TestTheLambdaPackage:
    def test_nothing_in_src_imports_boto3(self) -> None:
        # SSM is read through botocore's signer alone; boto3 is for tests.
        offenders = [
            str(path.relative_to(SOURCES))
            for path in sorted(SOURCES.rglob("*.py"))
            for module in imported_modules(path.read_text(encoding="utf-8"))
            if module.partition(".")[0] == "boto3"
        ]

        assert offenders == []


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
