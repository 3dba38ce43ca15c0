"""VerifyCaller: phone number and PIN in, a verified customer or a refusal out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banking_domain.errors import AccountServiceError
from banking_domain.identity import Credentials
from banking_domain.usecases import (
    CallerRefused,
    CallerVerified,
    RefusalReason,
)
from tests.fakes import ALEX, Bank, fake_bank

ALEX_PHONE = "+15555550100"
ALEX_PIN = "2468"


@pytest.fixture
def bank() -> Bank:
    return fake_bank()


class TestVerifyCallerAcceptsTheRightPin:
    async def test_verifies_the_customer_and_issues_a_token(self, bank: Bank) -> None:
        outcome = await bank.use_cases.verify_caller(ALEX_PHONE, ALEX_PIN)

        assert isinstance(outcome, CallerVerified)
        assert outcome.customer.customer_id == ALEX
        credentials = Credentials(ALEX.value, outcome.token.value)
        assert await bank.tokens.authenticate(credentials) == ALEX

    async def test_the_token_lasts_fifteen_minutes(self, bank: Bank) -> None:
        outcome = await bank.use_cases.verify_caller(ALEX_PHONE, ALEX_PIN)

        assert isinstance(outcome, CallerVerified)
        assert outcome.token.expires_at == bank.clock.now() + timedelta(minutes=15)

    async def test_a_verification_is_audited_without_pin_or_token(
        self, bank: Bank
    ) -> None:
        outcome = await bank.use_cases.verify_caller(ALEX_PHONE, ALEX_PIN)

        assert isinstance(outcome, CallerVerified)
        assert bank.audit.records == [outcome]
        assert ALEX_PIN not in repr(bank.audit.records)
        assert outcome.token.value not in repr(bank.audit.records)


class TestVerifyCallerRefuses:
    @pytest.mark.parametrize("pin", ["97531", "1357", "0000"])
    async def test_a_wrong_pin_is_refused_and_audited_without_the_pin(
        self, bank: Bank, pin: str
    ) -> None:
        outcome = await bank.use_cases.verify_caller(ALEX_PHONE, pin)

        assert outcome == CallerRefused(RefusalReason.WRONG_CREDENTIALS, "0100")
        assert bank.audit.records == [outcome]
        assert pin not in repr(bank.audit.records)

    async def test_an_unknown_phone_number_is_refused(self, bank: Bank) -> None:
        outcome = await bank.use_cases.verify_caller("+15555550199", ALEX_PIN)

        assert outcome == CallerRefused(RefusalReason.WRONG_CREDENTIALS, "0199")

    @pytest.mark.parametrize(
        "phone",
        [
            "",
            "15555550100",
            "5555550100",
            "+1",
            "+15555550100x",
            "+0555555010",
            "+1\uff15\uff15\uff15\uff15\uff15\uff15\uff10\uff11\uff10\uff10",
            None,
        ],
    )
    async def test_a_malformed_phone_number_is_refused_without_asking_the_bank(
        self, bank: Bank, phone: str | None
    ) -> None:
        outcome = await bank.use_cases.verify_caller(
            phone,  # type: ignore[arg-type]
            ALEX_PIN,
        )

        assert isinstance(outcome, CallerRefused)
        assert outcome.reason is RefusalReason.MALFORMED_INPUT
        assert bank.gateway.calls == 0
        assert bank.audit.records == [outcome]

    @pytest.mark.parametrize(
        "pin",
        [
            "",
            "12",
            "246",
            "abcd",
            "24 68",
            "123456789",
            "\uff12\uff14\uff16\uff18",
            "\u0662\u0664\u0666\u0668",
            None,
        ],
    )
    async def test_a_malformed_pin_is_refused_without_asking_the_bank(
        self, bank: Bank, pin: str | None
    ) -> None:
        outcome = await bank.use_cases.verify_caller(
            ALEX_PHONE,
            pin,  # type: ignore[arg-type]
        )

        assert outcome == CallerRefused(RefusalReason.MALFORMED_INPUT, "0100")
        assert bank.gateway.calls == 0
        assert bank.audit.records == [outcome]

    async def test_a_failing_bank_raises_and_nothing_is_audited(
        self, bank: Bank
    ) -> None:
        bank.gateway.fail_with = AccountServiceError("bank down")

        with pytest.raises(AccountServiceError):
            await bank.use_cases.verify_caller(ALEX_PHONE, ALEX_PIN)

        assert bank.audit.records == []

    @given(phone=st.text(), pin=st.text())
    async def test_arbitrary_input_is_never_verified_by_chance(
        self, phone: str, pin: str
    ) -> None:
        bank = fake_bank()

        outcome = await bank.use_cases.verify_caller(phone, pin)

        verified = isinstance(outcome, CallerVerified)
        assert verified == ((phone, pin) in {(ALEX_PHONE, ALEX_PIN)})
        assert isinstance(outcome, CallerRefused | CallerVerified)
