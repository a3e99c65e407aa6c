"""Decimal precision per asset class: float -> Decimal conversion and rounding."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

import numpy as np
import pytest

from rustybt.assets import Asset, Equity
from rustybt.assets.asset_types import exchange_info_for
from rustybt.exceptions import ValidationError
from rustybt.finance.precision import (
    DEFAULT_PRECISION,
    AssetClassPrecision,
    PrecisionConfig,
    float_decimals,
    plain_number,
    to_decimal,
)

NYSE = exchange_info_for("NYSE")


class _Crypto(Asset):
    """An asset of another class, as a crypto asset type would declare itself."""

    __slots__ = ()
    asset_type: ClassVar[str] = "crypto"


def test_to_decimal_uses_the_shortest_float_repr() -> None:
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal(np.float64(101.37)) == Decimal("101.37")
    assert to_decimal(np.float32(0.5)) == Decimal("0.5")
    assert to_decimal(7) == Decimal(7)
    assert to_decimal(np.int64(7)) == Decimal(7)
    assert to_decimal("2.50") == Decimal("2.50")
    assert to_decimal(Decimal("1.23")) == Decimal("1.23")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -np.inf, "abc", "NaN", None])
def test_to_decimal_refuses_non_finite_and_non_numbers(bad: object) -> None:
    with pytest.raises(ValidationError):
        to_decimal(bad)


def test_equity_rules_by_asset_type() -> None:
    aaa = Equity(1, NYSE, symbol="AAA")
    rules = DEFAULT_PRECISION.for_asset(aaa)
    assert (rules.cash_places, rules.quantity_places, rules.price_places) == (2, 0, None)
    assert DEFAULT_PRECISION.for_asset(_Crypto(2, NYSE)).quantity_places == 8
    assert DEFAULT_PRECISION.for_asset(None) == DEFAULT_PRECISION.default


def test_quantity_rounds_toward_zero() -> None:
    aaa = Equity(1, NYSE)
    assert DEFAULT_PRECISION.quantity(aaa, 10.99) == Decimal(10)
    assert DEFAULT_PRECISION.quantity(aaa, -10.99) == Decimal(-10)
    assert str(DEFAULT_PRECISION.quantity(aaa, -0.5)) == "0"  # no negative zero
    btc = _Crypto(2, NYSE)
    assert DEFAULT_PRECISION.quantity(btc, 0.123456789) == Decimal("0.12345678")


def test_cash_rounds_half_even_to_cash_places() -> None:
    aaa = Equity(1, NYSE)
    assert DEFAULT_PRECISION.cash(aaa, Decimal("1.005")) == Decimal("1.00")
    assert DEFAULT_PRECISION.cash(aaa, Decimal("1.015")) == Decimal("1.02")
    assert DEFAULT_PRECISION.cash(aaa, Decimal("-0.004")) == Decimal("0.00")
    assert DEFAULT_PRECISION.cash(_Crypto(2, NYSE), Decimal("0.123456785")) == Decimal("0.12345678")


def test_price_is_exact_unless_price_places_given() -> None:
    aaa = Equity(1, NYSE)
    assert DEFAULT_PRECISION.price(aaa, 0.1 + 0.2) == Decimal("0.30000000000000004")
    cfg = PrecisionConfig(equity=AssetClassPrecision(2, 0, 4, ROUND_HALF_UP))
    assert cfg.price(aaa, 10.123450) == Decimal("10.1235")
    assert cfg.cash(aaa, Decimal("0.125")) == Decimal("0.13")
    with pytest.raises(ValidationError):
        cfg.price(aaa, float("nan"))


def test_prices_is_price_over_a_list() -> None:
    values = [0.1 + 0.2, 10.123450, 101.25, -0.0, 1e16, 5e-324]
    for rules in (AssetClassPrecision(2, 0), AssetClassPrecision(2, 0, 4, ROUND_HALF_UP)):
        converted = rules.prices(values)
        assert [str(d) for d in converted] == [str(rules.price(x)) for x in values]
    assert AssetClassPrecision(2, 0, 4, ROUND_HALF_UP).prices([10.12345]) == [Decimal("10.1235")]
    assert AssetClassPrecision(2, 0).prices([]) == []


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_float_decimals_refuses_non_finite(bad: float) -> None:
    with pytest.raises(ValidationError):
        float_decimals([1.5, bad])
    with pytest.raises(ValidationError):
        AssetClassPrecision(2, 0).prices([bad])


def test_float_decimals_is_to_decimal_of_each() -> None:
    values = [0.1, 2.5, -0.0, 0.0, 123456789.125, 1e-7, 3e20]
    assert [str(d) for d in float_decimals(values)] == [str(to_decimal(x)) for x in values]


def test_quanta() -> None:
    assert AssetClassPrecision(2, 0).cash_quantum == Decimal("0.01")
    assert AssetClassPrecision(8, 8).quantity_quantum == Decimal("1e-8")


def test_plain_number_is_int_when_whole() -> None:
    assert plain_number(Decimal("10.00")) == 10 and type(plain_number(Decimal("10.00"))) is int
    assert plain_number(Decimal("-2.5")) == -2.5 and type(plain_number(Decimal("-2.5"))) is float


def test_rounding_never_leaves_a_negative_zero() -> None:
    rules = AssetClassPrecision(2, 0)
    for value in (rules.quantity(Decimal("-0.7")), rules.cash(Decimal("-0.001"))):
        assert value == 0 and not value.is_signed()


def test_quantity_and_cash_convert_floats_like_to_decimal() -> None:
    rules = AssetClassPrecision(2, 8)
    assert rules.quantity(0.1 + 0.2) == Decimal("0.30000000")
    assert rules.cash(2.675) == Decimal("2.68")  # the float's shortest repr, then half even
    with pytest.raises(ValidationError):
        rules.quantity(Decimal("NaN"))
