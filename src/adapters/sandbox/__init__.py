"""The embedded sandbox bank: the account API on in-memory demo data.

Development only. It needs the `sandbox` extra (starlette, uvicorn); nothing
outside this package imports those, so the Lambda package never carries them.
Its keys are published on purpose and must never guard anything real.
"""

from __future__ import annotations

from adapters.sandbox.app import create_app, serve
from adapters.sandbox.bank import (
    DEVELOPMENT_API_KEY,
    DEVELOPMENT_SIGNING_KEY,
    LedgerEntry,
    SandboxBank,
    demo_customers,
    sensitive_values,
)

__all__ = [
    "DEVELOPMENT_API_KEY",
    "DEVELOPMENT_SIGNING_KEY",
    "LedgerEntry",
    "SandboxBank",
    "create_app",
    "demo_customers",
    "sensitive_values",
    "serve",
]
