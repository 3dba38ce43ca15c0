from __future__ import annotations

from decimal import Decimal

import pytest

from entrypoints.settings import ConfigurationError, Settings
from entrypoints.turn import turn_budget


class Context:
    def __init__(self, remaining: object) -> None:
        self.remaining = remaining

    def get_remaining_time_in_millis(self) -> object:
        return self.remaining


class TestSettings:
    def test_live_mode_names_every_missing_variable(self) -> None:
        with pytest.raises(ConfigurationError) as raised:
            Settings.from_env({})

        for name in ("BANK_API_URL", "BANK_API_KEY_PARAMETER", "SIGNING_KEY_PARAMETER"):
            assert name in str(raised.value)

    def test_sandbox_mode_needs_nothing(self) -> None:
        settings = Settings.from_env({"BANKBOT_MODE": "sandbox"})

        assert settings.sandbox
        assert settings.transfer_limit == Decimal("10000.00")

    def test_reads_the_limit_as_an_exact_amount(self) -> None:
        env = {"BANKBOT_MODE": "sandbox", "TRANSFER_LIMIT": "2500.50"}

        assert Settings.from_env(env).transfer_limit == Decimal("2500.50")

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("TRANSFER_LIMIT", "NaN"),
            ("TRANSFER_LIMIT", "-5"),
            ("CONNECT_BUDGET_SECONDS", "9"),
            ("LEX_BUDGET_SECONDS", "soon"),
            ("BANKBOT_MODE", "prod"),
        ],
    )
    def test_refuses_odd_values(self, name: str, value: str) -> None:
        env = {"BANKBOT_MODE": "sandbox", name: value}

        with pytest.raises(ConfigurationError, match=name):
            Settings.from_env(env)


class TestTurnBudget:
    def test_takes_lambdas_remaining_time_less_the_margin(self) -> None:
        assert turn_budget(Context(2000), 3.0, 0.3) == pytest.approx(1.7)

    def test_is_capped_by_the_channel(self) -> None:
        assert turn_budget(Context(60_000), 3.0, 0.3) == 3.0

    @pytest.mark.parametrize("context", [None, object(), Context("x"), Context(None)])
    def test_falls_back_to_the_channel_cap_for_odd_contexts(
        self, context: object
    ) -> None:
        assert turn_budget(context, 3.0, 0.3) == 3.0

    def test_never_drops_below_a_floor(self) -> None:
        assert turn_budget(Context(100), 3.0, 0.3) == pytest.approx(0.05)
