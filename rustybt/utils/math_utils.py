"""Numeric helpers at zipline's import paths (``zipline.utils.math_utils``, ``api.math_utils``).

The NaN-ignoring reductions are NumPy's. :func:`round_if_near_integer` snaps
by the rule order sizing uses (:data:`rustybt.finance.orders.sizing.NEAR_INTEGER`).

Examples
--------
>>> from rustybt.api import math_utils
>>> math_utils.round_if_near_integer(9.99995), math_utils.tolerant_equals(1.0, 1.0 + 1e-9)
(10, True)
>>> math_utils.number_of_decimal_places(2.125), float(math_utils.nanmean([1.0, float("nan"), 3.0]))
(3, 2.0)
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from rustybt.finance.orders.sizing import NEAR_INTEGER

__all__ = [
    "nanargmax",
    "nanargmin",
    "nanmax",
    "nanmean",
    "nanmedian",
    "nanmin",
    "nanstd",
    "nansum",
    "number_of_decimal_places",
    "round_if_near_integer",
    "tolerant_equals",
]

nanmean = np.nanmean
nanstd = np.nanstd
nansum = np.nansum
nanmax = np.nanmax
nanmin = np.nanmin
nanargmax = np.nanargmax
nanargmin = np.nanargmin
nanmedian = np.nanmedian


def tolerant_equals(
    a: float, b: float, atol: float = 1e-6, rtol: float = 1e-6, equal_nan: bool = False
) -> bool:
    """Whether ``a`` and ``b`` differ by at most ``atol + rtol * |b|``.

    Parameters
    ----------
    a, b
        The numbers to compare.
    atol, rtol
        Absolute and relative tolerance (zipline's defaults).
    equal_nan
        Count two NaNs as equal.

    Returns
    -------
    bool
        Equal infinities are equal; NaN equals nothing unless ``equal_nan``.
    """
    if equal_nan and math.isnan(a) and math.isnan(b):
        return True
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * abs(b)


def round_if_near_integer(a: float, epsilon: float = float(NEAR_INTEGER)) -> float:
    """``a`` rounded to the nearest whole number if it is within ``epsilon`` of it, else ``a``.

    Parameters
    ----------
    a
        The number.
    epsilon
        How close counts as near (default: the order-sizing rule, 1e-4).

    Returns
    -------
    float
        The whole number (an ``int``) or ``a`` unchanged.
    """
    nearest = round(a)
    return nearest if abs(a - nearest) <= epsilon else a


def number_of_decimal_places(n: float | str | Decimal) -> int:
    """How many digits ``n`` has after the decimal point, as written (``2.50`` -> 1 for a float).

    Parameters
    ----------
    n
        A number; a float counts the digits of its shortest repr.

    Returns
    -------
    int
        Zero for a whole number.
    """
    exponent = Decimal(str(n)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
