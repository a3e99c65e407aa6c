"""Order sizing: every order function's number through size_order."""

from __future__ import annotations

from decimal import Decimal

import pytest

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
        # order(asset, n): rounded toward zero, near-integers snapped first.
        (D("10.7"), Unit.SHARES, False, D(0), None, D(10)),
        (D("-10.7"), Unit.SHARES, False, D(0), None, D(-10)),
        (D("9.99995"), Unit.SHARES, False, D(0), None, D(10)),
        (D("-9.99995"), Unit.SHARES, False, D(0), None, D(-10)),
        (D("9.9998"), Unit.SHARES, False, D(0), None, D(9)),
        # order_target(asset, n): the difference to the position.
        (D(25), Unit.SHARES, True, D(10), None, D(15)),
        (D(0), Unit.SHARES, True, D(10), None, D(-10)),
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


@pytest.mark.parametrize("number", [D("0.25"), D("-0.5"), D("0.9998")])
@pytest.mark.parametrize("target", [False, True])
def test_units_below_one_share_are_refused_naming_asset_and_amount(
    number: Decimal, target: bool
) -> None:
    from rustybt.exceptions import InvalidOrderError

    call = "order_target" if target else "order"
    with pytest.raises(InvalidOrderError) as raised:
        size_order(number, Unit.SHARES, target, D(0), None, 1.0, None, EQUITY, "BTC", call)
    assert str(raised.value).startswith(f"{call}('BTC', {number}): {number} is less than one unit")
    assert raised.value.context["amount"] == str(number)


def test_rounding_that_is_not_an_explicit_fraction_stays_zipline_s() -> None:
    # A near-integer is that integer; a value or a fraction sized below one share is no order.
    assert size_order(D("0.99995"), Unit.SHARES, False, D(0), None, 1.0, None, EQUITY) == D(1)
    assert size_order(D(50), Unit.VALUE, False, D(0), 99.5, 1.0, None, EQUITY) == D(0)
    assert size_order(D("0.001"), Unit.PERCENT, True, D(0), 100.0, 1.0, _value, EQUITY) == D(0)
    # A target within one share of the position rounds to nothing, as in zipline.
    assert size_order(D("10.4"), Unit.SHARES, True, D(10), None, 1.0, None, EQUITY) == D(0)
    # Crypto's 8 places take a quarter.
    assert size_order(D("0.25"), Unit.SHARES, False, D(0), None, 1.0, None, CRYPTO) == D("0.25")
