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
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
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
        When a number of units (``order``, ``order_target``,
        ``batch_market_order``) is not a whole number of the asset's quantity
        steps (1.75 or 0.25 of a whole-share asset): rounding it would trade
        another amount than the one asked for, or nothing.

    Notes
    -----
    zipline's near-integer rule applies before rounding: an amount within
    :data:`NEAR_INTEGER` of a whole number is that number (so 0.99999 of a
    share is one share, not zero). Rounding toward zero is the asset class's
    :meth:`~rustybt.finance.precision.AssetClassPrecision.quantity`.

    zipline truncates ``order(asset, 1.75)`` to 1 share, and ``0.25`` to no
    order, without a word: a strategy written for fractional units (crypto on
    a bundle whose assets trade whole shares) would silently trade other
    amounts than it asks for, or never trade. So a number of units the user
    gives must be a whole number of the asset's steps. A quantity sized from a
    value or a fraction of the portfolio is no count of the user's: it rounds
    toward zero, as in zipline, and never raises for rounding.
    """
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
    quantity = rules.quantity(amount)
    if unit == Unit.SHARES and quantity != amount:
        # Positions hold whole steps: a target's difference is whole when the target is.
        _refuse_part_of_a_step(number, rules, asset, call)
    return quantity


def _refuse_part_of_a_step(
    number: Decimal, rules: AssetClassPrecision, asset: Any, call: str
) -> None:
    """Raise for a number of units that is not a whole number of the asset's steps."""
    step = rules.quantity_quantum
    below = number.quantize(step, ROUND_FLOOR)
    above = number.quantize(step, ROUND_CEILING) + 0  # + 0: -0.5 rounds up to 0, not -0
    if step == 1:
        fault = f"{asset!r} trades in whole units; {number} is not a whole number of units"
    else:
        fault = (
            f"{asset!r} trades in steps of {step:f} units; {number} is not a whole number of steps"
        )
    raise InvalidOrderError(
        f"{call}({asset!r}, {number}): {fault} ({call} {below} or {above})",
        context={"asset": repr(asset), "amount": str(number), "call": call},
    )
