"""The service in live mode, as on Lambda, against servers on loopback.

Secrets come from moto's SSM through the real `SsmSecretStore`, which finds
moto through ``AWS_ENDPOINT_URL_SSM`` and its keys in the environment, as on
Lambda; the account API is whatever loopback URL the test names: the served
sandbox or a fault-injecting server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from adapters.sandbox import DEVELOPMENT_API_KEY
from entrypoints.bootstrap import Service, build_service
from entrypoints.settings import LIVE, Settings
from tests.servers import DUMMY_CREDENTIALS, REGION, Moto

TEST_SIGNING_KEY = "live-test-signing-key-not-secret"


def point_aws_at(moto: Moto, monkeypatch: pytest.MonkeyPatch) -> None:
    """The standard AWS environment, aimed at moto; no machine config is read."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", moto.endpoint)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv(
        "AWS_SECRET_ACCESS_KEY", DUMMY_CREDENTIALS["aws_secret_access_key"]
    )
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


def live_settings(moto: Moto, bank_api_url: str, **overrides: Any) -> Settings:
    """Live settings whose two SSM parameters exist in moto (fresh names)."""
    names = moto.put(
        {"bank-api-key": DEVELOPMENT_API_KEY, "signing-key": TEST_SIGNING_KEY}
    )
    fields: dict[str, Any] = {
        "mode": LIVE,
        "bank_api_url": bank_api_url,
        "api_key_parameter": names["bank-api-key"],
        "signing_key_parameter": names["signing-key"],
        **overrides,
    }
    return Settings(**fields)


@contextmanager
def live_service(
    moto: Moto,
    bank_api_url: str,
    monkeypatch: pytest.MonkeyPatch,
    **overrides: Any,
) -> Iterator[Service]:
    """A live-mode service, built as the handlers build it, closed afterwards."""
    point_aws_at(moto, monkeypatch)
    service = build_service(live_settings(moto, bank_api_url, **overrides))
    try:
        yield service
    finally:
        service.close()


def new_contact_id() -> str:
    return str(uuid.uuid4())
