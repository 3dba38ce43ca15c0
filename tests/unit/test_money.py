"""Money is exact: Decimal from text, in a known currency, never rounded."""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banking_domain.errors import InvalidMoney
from banking_domain.money import Money, decimal_places


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


class TestParsingMoney:
    @pytest.mark.parametrize(
        ("text", "amount"),
        [
            ("2450.13", "2450.13"),
            ("85", "85"),
            ("0.5", "0.5"),
            (" 12.00 ", "12.00"),
            ("1,200.50", "1200.50"),
            ("$25", "25"),
            ("-315.40", "-315.40"),
        ],
    )
    def test_reads_the_amount_exactly_from_text(self, text: str, amount: str) -> None:
        money = usd(text)

        assert money.amount == Decimal(amount)
        assert money.currency == "USD"

    @pytest.mark.parametrize("value", [12.99, 12, Decimal("12.99"), None, b"12.99"])
    def test_refuses_anything_but_text(self, value: object) -> None:
        with pytest.raises(InvalidMoney):
            Money.parse(value, "USD")  # type: ignore[arg-type]

    @pytest.mark.parametrize("text", ["", "twelve", "1.2.3", "12 dollars", "--5"])
    def test_refuses_text_that_is_not_a_number(self, text: str) -> None:
        with pytest.raises(InvalidMoney):
            usd(text)

    @pytest.mark.parametrize(
        "text", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "-inf"]
    )
    def test_refuses_nan_and_infinity(self, text: str) -> None:
        with pytest.raises(InvalidMoney):
            usd(text)

    @pytest.mark.parametrize("text", ["12.999", "0.001", "1E-3", "10.005"])
    def test_refuses_more_decimals_than_the_currency_allows(self, text: str) -> None:
        with pytest.raises(InvalidMoney):
            usd(text)

    def test_refuses_an_unknown_currency(self) -> None:
        with pytest.raises(InvalidMoney):
            Money.parse("10.00", "XXX")


class TestBuildingMoneyDirectly:
    def test_refuses_a_float_amount(self) -> None:
        with pytest.raises(InvalidMoney):
            Money(12.99, "USD")  # type: ignore[arg-type]

    def test_refuses_a_non_finite_decimal(self) -> None:
        with pytest.raises(InvalidMoney):
            Money(Decimal("NaN"), "USD")

    def test_refuses_too_many_places_rather_than_rounding(self) -> None:
        with pytest.raises(InvalidMoney):
            Money(Decimal("1.005"), "USD")

    def test_zero_is_zero_in_its_currency(self) -> None:
        assert Money.zero("EUR") == Money(Decimal(0), "EUR")


class TestCurrencies:
    def test_yen_has_no_minor_units(self) -> None:
        assert Money.parse("1500", "JPY").to_text() == "1500"

    @pytest.mark.parametrize("text", ["1500.5", "1500.0"])
    def test_yen_refuses_any_decimals(self, text: str) -> None:
        with pytest.raises(InvalidMoney):
            Money.parse(text, "JPY")

    def test_dinar_has_three_places(self) -> None:
        assert Money.parse("1.234", "KWD").to_text() == "1.234"


class TestArithmetic:
    def test_adds_and_subtracts_exactly(self) -> None:
        total = usd("0.10") + usd("0.20")

        assert total == usd("0.30")
        assert total - usd("0.30") == Money.zero("USD")

    def test_compares_amounts(self) -> None:
        assert usd("1.00") < usd("1.01")
        assert usd("1.01") > usd("1.00")
        assert usd("1.00") <= usd("1.0")
        assert usd("1.00") >= usd("1")

    @pytest.mark.parametrize(
        "combine",
        [
            operator.add,
            operator.sub,
            operator.lt,
            operator.le,
            operator.gt,
            operator.ge,
        ],
    )
    def test_refuses_to_mix_currencies(
        self, combine: Callable[[Money, Money], object]
    ) -> None:
        with pytest.raises(InvalidMoney):
            combine(usd("1.00"), Money.parse("1.00", "EUR"))

    def test_knows_whether_it_is_positive(self) -> None:
        assert usd("0.01").is_positive
        assert not usd("0").is_positive
        assert not usd("-0.01").is_positive


class TestMoneyAsText:
    @pytest.mark.parametrize(
        ("text", "shown"),
        [("85", "85.00"), ("0.5", "0.50"), ("-315.4", "-315.40"), ("1200", "1200.00")],
    )
    def test_shows_exactly_the_currency_places(self, text: str, shown: str) -> None:
        assert usd(text).to_text() == shown

    def test_counts_the_places_as_written(self) -> None:
        assert decimal_places(Decimal("2.50")) == 2
        assert decimal_places(Decimal("100")) == 0
        assert decimal_places(Decimal("1E+2")) == 0


whole = st.integers(min_value=-(10**15), max_value=10**15).map(str)
digits = st.text(alphabet="0123456789", min_size=1, max_size=2)
many_digits = st.text(alphabet="0123456789", min_size=3, max_size=12)


class TestAnyAmountFromOutside:
    @given(whole=whole, fraction=st.one_of(st.none(), digits))
    def test_text_with_at_most_two_places_round_trips(
        self, whole: str, fraction: str | None
    ) -> None:
        text = whole if fraction is None else f"{whole}.{fraction}"

        money = usd(text)

        assert money.amount == Decimal(text)
        assert usd(money.to_text()) == money

    @given(whole=whole, fraction=many_digits)
    def test_text_with_more_than_two_places_is_refused(
        self, whole: str, fraction: str
    ) -> None:
        with pytest.raises(InvalidMoney):
            usd(f"{whole}.{fraction}")

    @given(text=st.text())
    def test_any_text_is_money_or_invalid_money(self, text: str) -> None:
        try:
            money = usd(text)
        except InvalidMoney:
            return

        assert money.amount.is_finite()
        assert decimal_places(money.amount) <= 2
