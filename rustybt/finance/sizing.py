"""Order sizing: how the order API's numbers become a quantity to trade.

zipline's order functions take a number of shares, a value, or a fraction of
the portfolio, either as the order itself or as the target the position
should reach. :func:`size_order` turns any of them into a signed amount of
units; :func:`order_quantity` rounds that amount as every order is rounded
(zipline's near-integer snapping, then the asset class's quantity rounding
toward zero, which :mod:`rustybt.finance.precision` owns).

Examples
--------
>>> from decimal import Decimal
>>> from rustybt.finance.precision import DEFAULT_PRECISION
>>> rules = DEFAULT_PRECISION.equity
>>> amount = size_order(Decimal("1000"), Unit.VALUE, True, Decimal("3"), 99.5, 1.0, None)
>>> amount.quantize(Decimal("0.001")), order_quantity(amount, rules)
(Decimal('7.050'), Decimal('7'))
>>> snap_near_integer(Decimal("9.99995"))
Decimal('10')
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Any

from rustybt.exceptions import InvalidOrderError
from rustybt.finance.precision import ZERO, AssetClassPrecision, to_decimal

__all__ = ["NEAR_INTEGER", "Unit", "as_quantity", "order_quantity", "size_order", "snap_near_integer"]

#: zipline's rule: order amounts within 1e-4 of a whole number are that number.
NEAR_INTEGER = Decimal("1e-4")


class Unit(Enum):
    """What an order function's number counts."""

    #: Units of the asset (``order``, ``order_target``).
    SHARES = "shares"
    #: Money (``order_value``, ``order_target_value``).
    VALUE = "value"
    #: A fraction of the portfolio value (``order_percent``, ``order_target_percent``).
    PERCENT = "percent"


def snap_near_integer(value: Decimal) -> Decimal:
    """zipline's rule: an amount within 1e-4 of a whole number is that number."""
    nearest = value.to_integral_value()
    return nearest if abs(value - nearest) <= NEAR_INTEGER else value


def as_quantity(x: Any, asset: Any, dt: Any) -> Decimal:
    """An order function's number as a finite Decimal.

    Raises
    ------
    InvalidOrderError
        If ``x`` is not a finite number (naming the asset and the time).
    """
    if type(x) is Decimal and x.is_finite():
        return x
    try:
        return to_decimal(x)
    except Exception as exc:
        raise InvalidOrderError(
            f"invalid order amount {x!r} for {asset!r} at {dt}: must be a finite number",
            context={"asset": repr(asset), "amount": repr(x), "dt": str(dt)},
        ) from exc


def size_order(
    number: Decimal,
    unit: Unit,
    target: bool,
    held: Decimal,
    price: float | None,
    multiplier: float,
    portfolio_value: Callable[[], Decimal] | None,
) -> Decimal:
    """The signed amount of units an order function asks for (before rounding).

    Parameters
    ----------
    number
        The function's number: units, a value, or a fraction of the portfolio.
    unit
        What ``number`` counts.
    target
        Whether ``number`` is the position to reach (``order_target*``) rather
        than the order itself.
    held
        The position's amount now (read only for a target).
    price
        The asset's current price (read only for values and fractions); a zero
        price sizes nothing.
    multiplier
        The contract multiplier: a value buys ``value / (price * multiplier)`` units.
    portfolio_value
        Called for the portfolio value when ``unit`` is PERCENT and ``number``
        is not zero.
    """
    if unit is not Unit.SHARES:
        if not number:
            # Nothing to buy: no portfolio value or division needed (0 / price is 0).
            number = ZERO
        else:
            if unit is Unit.PERCENT:
                assert portfolio_value is not None
                number = portfolio_value() * number
            assert price is not None
            unit_price = to_decimal(price)
            if multiplier != 1:
                unit_price *= to_decimal(multiplier)
            number = number / unit_price if unit_price else ZERO
    return number - held if target else number


def order_quantity(amount: Decimal, rules: AssetClassPrecision) -> Decimal:
    """The quantity an order for ``amount`` trades: snapped to a near integer,
    then rounded toward zero to the asset class's quantity places."""
    return rules.quantity(snap_near_integer(amount))
