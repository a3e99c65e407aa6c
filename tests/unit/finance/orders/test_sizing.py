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
