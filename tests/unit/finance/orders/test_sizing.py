"""Order sizing: every order function's number through size_order."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rustybt.exceptions import InvalidOrderError
from rustybt.finance.orders.sizing import Unit, size_order
from rustybt.finance.precision import DEFAULT_PRECISION

D = Decimal
EQUITY = DEFAULT_PRECISION.equity
CRYPTO = DEFAULT_PRECISION.crypto


def _value() -> Decimal:
    return D("10000")


@pytest.mark.parametrize(
    ("number", "unit", "target", "held", "price", "expected"),
    [
        # order(asset, n): whole units as given, near-integers snapped (zipline's rule).
        (D(10), Unit.SHARES, False, D(0), None, D(10)),
        (D("-10.0"), Unit.SHARES, False, D(0), None, D(-10)),
        (D("9.99995"), Unit.SHARES, False, D(0), None, D(10)),
        (D("-9.99995"), Unit.SHARES, False, D(0), None, D(-10)),
        (D("10.0001"), Unit.SHARES, False, D(0), None, D(10)),
        # order_target(asset, n): the difference to the position.
        (D(25), Unit.SHARES, True, D(10), None, D(15)),
        (D(0), Unit.SHARES, True, D(10), None, D(-10)),
        (D("10.00001"), Unit.SHARES, True, D(10), None, D(0)),
        # order_value / order_target_value: value over price, rounded toward zero.
        (D(1000), Unit.VALUE, False, D(0), 57.0, D(17)),
        (D(-1000), Unit.VALUE, False, D(0), 57.0, D(-17)),
        # order_value / order_target_value: value over price.
        (D(1000), Unit.VALUE, False, D(0), 99.5, D(10)),
        (D(1000), Unit.VALUE, True, D(3), 99.5, D(7)),
        (D(0), Unit.VALUE, True, D(3), 99.5, D(-3)),
        (D(1000), Unit.VALUE, False, D(0), 0.0, D(0)),  # no price, nothing sized
        # order_percent / order_target_percent: a fraction of the portfolio value.
        (D("0.5"), Unit.PERCENT, False, D(0), 100.0, D(50)),
        (D("0.5"), Unit.PERCENT, True, D(20), 100.0, D(30)),
        (D("0"), Unit.PERCENT, True, D(20), 100.0, D(-20)),
    ],
)
def test_size_order(
    number: Decimal, unit: Unit, target: bool, held: Decimal, price: float | None, expected: Decimal
) -> None:
    got = size_order(number, unit, target, held, price, 1.0, _value, EQUITY)
    assert got == expected and type(got) is Decimal


def test_a_zero_fraction_needs_no_portfolio_value() -> None:
    def unknown() -> Decimal:
        raise AssertionError("the portfolio value was read")

    assert size_order(D(0), Unit.PERCENT, True, D(4), 10.0, 1.0, unknown, EQUITY) == D(-4)


def test_multiplier_and_crypto_places() -> None:
    assert size_order(D(1000), Unit.VALUE, False, D(0), 10.0, 50.0, None, EQUITY) == D(2)
    assert size_order(D(100), Unit.VALUE, False, D(0), 3.0, 1.0, None, CRYPTO) == D("33.33333333")


@pytest.mark.parametrize(
    ("number", "below", "above"),
    [
        (D("1.75"), 1, 2),
        (D("-1.75"), -2, -1),
        (D("0.25"), 0, 1),
        (D("-0.5"), -1, 0),
        (D("0.9998"), 0, 1),  # 2e-4 from a whole number: outside zipline's snapping
        (D("10.7"), 10, 11),
    ],
)
@pytest.mark.parametrize("target", [False, True])
def test_units_that_are_not_whole_are_refused_naming_call_asset_and_amount(
    number: Decimal, below: int, above: int, target: bool
) -> None:
    call = "order_target" if target else "order"
    held = D(3) if target else D(0)
    with pytest.raises(InvalidOrderError) as raised:
        size_order(number, Unit.SHARES, target, held, None, 1.0, None, EQUITY, "BTC", call)
    assert str(raised.value) == (
        f"{call}('BTC', {number}): 'BTC' trades in whole units; {number} is not a whole "
        f"number of units ({call} {below} or {above})"
    )
    assert raised.value.context == {"asset": "'BTC'", "amount": str(number), "call": call}


def test_a_target_is_refused_even_where_its_difference_would_round_to_nothing() -> None:
    # zipline orders nothing for order_target(asset, 10.4) holding 10: the 0.4 is dropped.
    with pytest.raises(InvalidOrderError, match=r"^order_target\('BTC', 10.4\): 'BTC' trades"):
        size_order(
            D("10.4"), Unit.SHARES, True, D(10), None, 1.0, None, EQUITY, "BTC", "order_target"
        )


def test_a_crypto_amount_finer_than_its_places_names_the_step() -> None:
    assert size_order(D("0.25"), Unit.SHARES, False, D(0), None, 1.0, None, CRYPTO) == D("0.25")
    with pytest.raises(InvalidOrderError) as raised:
        size_order(D("0.123456789"), Unit.SHARES, False, D(0), None, 1.0, None, CRYPTO, "ETH")
    assert str(raised.value) == (
        "order('ETH', 0.123456789): 'ETH' trades in steps of 0.00000001 units; 0.123456789 is "
        "not a whole number of steps (order 0.12345678 or 0.12345679)"
    )


def test_rounding_that_is_not_an_explicit_count_stays_zipline_s() -> None:
    # A value or a fraction sized below one share is no order, and no error.
    assert size_order(D(50), Unit.VALUE, False, D(0), 99.5, 1.0, None, EQUITY) == D(0)
    assert size_order(D("0.001"), Unit.PERCENT, True, D(0), 100.0, 1.0, _value, EQUITY) == D(0)
    assert size_order(D("0.5"), Unit.PERCENT, False, D(0), 3.0, 1.0, _value, EQUITY) == D(1666)


#: Numbers of units with up to 6 places, as strategies compute them.
UNITS = st.decimals(min_value=-(10**6), max_value=10**6, places=6, allow_nan=False)


@given(number=UNITS, held=st.integers(-1000, 1000), target=st.booleans())
def test_a_count_of_units_is_traded_exactly_or_refused(
    number: Decimal, held: int, target: bool
) -> None:
    nearest = number.to_integral_value()
    whole = abs(number - nearest) <= D("1e-4")
    try:
        got = size_order(number, Unit.SHARES, target, D(held), None, 1.0, None, EQUITY)
    except InvalidOrderError:
        assert not whole
    else:
        assert whole and got == (nearest - held if target else nearest)


@given(number=UNITS, price=st.floats(0.01, 1e5), unit=st.sampled_from([Unit.VALUE, Unit.PERCENT]))
def test_a_value_or_fraction_rounds_toward_zero_and_never_raises(
    number: Decimal, price: float, unit: str
) -> None:
    got = size_order(number, unit, False, D(0), price, 1.0, _value, EQUITY)
    exact = number * (_value() if unit == Unit.PERCENT else 1) / Decimal(repr(price))
    # Whole, toward zero (or snapped up by at most 1e-4), less than one unit short.
    assert got == got.to_integral_value()
    assert got * exact >= 0
    assert abs(got) <= abs(exact) + D("1e-4") and abs(exact) < abs(got) + 1
