"""Caller tokens: only the service's key makes one, and only until it expires."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banking_domain.errors import NotAuthenticated, SecretUnavailable
from banking_domain.identity import SIGNING_KEY, CallerTokens, Credentials
from tests.fakes import ALEX, SAM, FakeSecretStore, FixedClock

LIFETIME = timedelta(minutes=15)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def secrets() -> FakeSecretStore:
    return FakeSecretStore()


@pytest.fixture
def tokens(secrets: FakeSecretStore, clock: FixedClock) -> CallerTokens:
    return CallerTokens(secrets, clock, LIFETIME)


async def alex_token(tokens: CallerTokens) -> str:
    return (await tokens.issue(ALEX)).value


def with_last_character_changed(text: str) -> str:
    return text[:-1] + ("A" if text[-1] != "A" else "B")


class TestIssuingATokenToAVerifiedCaller:
    async def test_the_token_proves_the_customer_it_was_issued_to(
        self, tokens: CallerTokens
    ) -> None:
        token = await alex_token(tokens)

        assert await tokens.authenticate(Credentials("C-1001", token)) == ALEX

    async def test_the_token_expires_after_its_lifetime(
        self, tokens: CallerTokens, clock: FixedClock
    ) -> None:
        issued = await tokens.issue(ALEX)

        assert issued.expires_at == clock.now() + LIFETIME

    async def test_the_token_never_shows_its_value_in_a_repr(
        self, tokens: CallerTokens
    ) -> None:
        issued = await tokens.issue(ALEX)
        credentials = Credentials("C-1001", issued.value)

        assert issued.value not in repr(issued)
        assert issued.value not in repr(credentials)

    async def test_a_missing_signing_key_stops_issuing(
        self, tokens: CallerTokens, secrets: FakeSecretStore
    ) -> None:
        del secrets.values[SIGNING_KEY]

        with pytest.raises(SecretUnavailable):
            await tokens.issue(ALEX)


class TestAuthenticatingACaller:
    async def test_accepts_the_token_until_just_before_it_expires(
        self, tokens: CallerTokens, clock: FixedClock
    ) -> None:
        token = await alex_token(tokens)
        clock.advance(LIFETIME - timedelta(seconds=1))

        assert await tokens.authenticate(Credentials("C-1001", token)) == ALEX

    @pytest.mark.parametrize(
        "age", [LIFETIME, LIFETIME + timedelta(seconds=1), timedelta(days=2)]
    )
    async def test_refuses_an_expired_token(
        self, tokens: CallerTokens, clock: FixedClock, age: timedelta
    ) -> None:
        token = await alex_token(tokens)
        clock.advance(age)

        with pytest.raises(NotAuthenticated):
            await tokens.authenticate(Credentials("C-1001", token))

    async def test_refuses_a_forged_mac(self, tokens: CallerTokens) -> None:
        forged = with_last_character_changed(await alex_token(tokens))

        with pytest.raises(NotAuthenticated):
            await tokens.authenticate(Credentials("C-1001", forged))

    async def test_refuses_the_token_for_another_customer_id(
        self, tokens: CallerTokens
    ) -> None:
        token = await alex_token(tokens)

        with pytest.raises(NotAuthenticated):
            await tokens.authenticate(Credentials(SAM.value, token))

    async def test_refuses_a_token_whose_expiry_was_pushed_back(
        self, tokens: CallerTokens, clock: FixedClock
    ) -> None:
        version, expiry, mac = (await alex_token(tokens)).split(".")
        later = f"{version}.{int(expiry) + 86_400}.{mac}"
        clock.advance(LIFETIME)

        with pytest.raises(NotAuthenticated):
            await tokens.authenticate(Credentials("C-1001", later))

    async def test_refuses_a_token_signed_with_another_key(
        self, tokens: CallerTokens, clock: FixedClock
    ) -> None:
        other_key = FakeSecretStore({SIGNING_KEY: "some-other-key"})
        foreign = await CallerTokens(other_key, clock, LIFETIME).issue(ALEX)

        with pytest.raises(NotAuthenticated):
            await tokens.authenticate(Credentials("C-1001", foreign.value))

    @pytest.mark.parametrize(
        "token",
        [
            "garbage",
            "v1",
            "v1..",
            "v1.1700000000.",
            "v1..bWFj",
            "v1.soon.bWFj",
            "v1.-5.bWFj",
            "v2.1700000000.bWFj",
        ],
    )
    async def test_refuses_a_malformed_token(
        self, tokens: CallerTokens, token: str
    ) -> None:
        with pytest.raises(NotAuthenticated):
            await tokens.authenticate(Credentials("C-1001", token))

    @pytest.mark.parametrize(
        ("customer_id", "token"),
        [(None, "v1.1.x"), ("", "v1.1.x"), ("C-1001", None), ("C-1001", "")],
    )
    async def test_refuses_missing_credentials(
        self, tokens: CallerTokens, customer_id: str | None, token: str | None
    ) -> None:
        with pytest.raises(NotAuthenticated):
            await tokens.authenticate(Credentials(customer_id, token))

    async def test_refuses_an_overlong_token_without_reading_the_key(
        self, tokens: CallerTokens, secrets: FakeSecretStore
    ) -> None:
        token = await alex_token(tokens)
        reads = secrets.reads

        with pytest.raises(NotAuthenticated):
            await tokens.authenticate(Credentials("C-1001", token + "A" * 200))

        assert secrets.reads == reads

    @given(customer_id=st.one_of(st.none(), st.text()), token=st.text())
    async def test_arbitrary_credentials_never_authenticate(
        self, customer_id: str | None, token: str
    ) -> None:
        tokens = CallerTokens(FakeSecretStore(), FixedClock(), LIFETIME)

        with pytest.raises(NotAuthenticated):
            await tokens.authenticate(Credentials(customer_id, token))
