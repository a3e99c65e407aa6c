"""Order sizing: how the order API's numbers become a quantity to trade.

zipline's order functions take a number of shares, a value, or a fraction of
the portfolio, either as the order itself or as the target the position
should reach. :func:`size_order` turns any of them into a signed amount of
units and rounds it as every order is rounded (zipline's near-integer
snapping, then the asset class's quantity rounding toward zero, which
:mod:`rustybt.finance.precision` owns).

Examples
--------
>>> from decimal import Decimal
>>> from rustybt.finance.precision import DEFAULT_PRECISION
>>> rules = DEFAULT_PRECISION.equity
>>> size_order(Decimal("1000"), Unit.VALUE, True, Decimal("3"), 99.5, 1.0, None, rules)
Decimal('7')
>>> size_order(Decimal("9.99995"), Unit.SHARES, False, Decimal(0), None, 1.0, None, rules)
Decimal('10')
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from rustybt.exceptions import InvalidOrderError
from rustybt.finance.precision import ZERO, AssetClassPrecision, to_decimal

__all__ = ["NEAR_INTEGER", "Unit", "size_order"]

#: zipline's rule: order amounts within 1e-4 of a whole number are that number.
NEAR_INTEGER = Decimal("1e-4")


class Unit:
    """What an order function's number counts (plain strings: compared per order)."""

    #: Units of the asset (``order``, ``order_target``).
    SHARES: Final = "shares"
    #: Money (``order_value``, ``order_target_value``).
    VALUE: Final = "value"
    #: A fraction of the portfolio value (``order_percent``, ``order_target_percent``).
    PERCENT: Final = "percent"


def size_order(
    number: Decimal,
    unit: str,
    target: bool,
    held: Decimal,
    price: float | None,
    multiplier: float,
    portfolio_value: Callable[[], Decimal] | None,
    rules: AssetClassPrecision,
    asset: Any = None,
    call: str = "order",
) -> Decimal:
    """The quantity an order function asks for: sized, snapped, rounded toward zero.

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
    rules
        The asset class's quantity rules.
    asset, call
        The asset and the API function's name, for the error message.

    Raises
    ------
    InvalidOrderError
        When a number of units (``order``, ``order_target``) is not zero but
        less than one of the asset's quantity steps (0.25 of a whole-share
        asset): it would round to nothing and place no order.

    Notes
    -----
    zipline's near-integer rule applies before rounding: an amount within
    :data:`NEAR_INTEGER` of a whole number is that number (so 0.99999 of a
    share is one share, not zero). Rounding toward zero is the asset class's
    :meth:`~rustybt.finance.precision.AssetClassPrecision.quantity`.

    zipline rounds ``order(asset, 0.5)`` to 0 and places nothing, without an
    error; a strategy written for fractional units (crypto on a bundle whose
    assets trade whole shares) would then silently never trade, so that one
    case is refused. Amounts of one unit or more still round toward zero
    (``order(asset, 10.7)`` orders 10, as in zipline), and sizing by value or
    fraction never raises for rounding.
    """
    if unit == Unit.SHARES and number and abs(number) < rules.quantity_quantum:
        _refuse_below_one_unit(number, rules, asset, call)
    if unit != Unit.SHARES:
        if not number:
            # Nothing to buy: no portfolio value or division needed (0 / price is 0).
            number = ZERO
        else:
            if unit == Unit.PERCENT:
                assert portfolio_value is not None
                number = portfolio_value() * number
            assert price is not None
            unit_price = to_decimal(price)
            if multiplier != 1:
                unit_price *= to_decimal(multiplier)
            number = number / unit_price if unit_price else ZERO
    amount = number - held if target else number
    if not amount:
        return ZERO  # nothing to trade: zero rounds to zero
    nearest = amount.to_integral_value()
    if abs(amount - nearest) <= NEAR_INTEGER:
        amount = nearest
    return rules.quantity(amount)


def _refuse_below_one_unit(
    number: Decimal, rules: AssetClassPrecision, asset: Any, call: str
) -> None:
    """Raise for a number of units that rounds to nothing (near-integers are snapped first)."""
    nearest = number.to_integral_value()
    if abs(number - nearest) <= NEAR_INTEGER and nearest:
        return  # 0.99995 is one unit
    raise InvalidOrderError(
        f"{call}({asset!r}, {number}): {number} is less than one unit ({rules.quantity_quantum}) "
        f"of {asset!r}, which trades in whole units of {rules.quantity_quantum}; the order "
        "would round to 0 and place nothing",
        context={"asset": repr(asset), "amount": str(number), "call": call},
    )
