"""rustybt.utils.math_utils (``rustybt.api.math_utils``): zipline's numeric helpers."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from rustybt.api import math_utils
from rustybt.finance.orders.sizing import NEAR_INTEGER


def test_tolerant_equals() -> None:
    assert math_utils.tolerant_equals(1.0, 1.0 + 5e-7)
    assert not math_utils.tolerant_equals(1.0, 1.01)
    assert math_utils.tolerant_equals(1.0, 1.01, atol=0.02)
    assert not math_utils.tolerant_equals(math.nan, math.nan)
    assert math_utils.tolerant_equals(math.nan, math.nan, equal_nan=True)
    assert math_utils.tolerant_equals(math.inf, math.inf)
    assert not math_utils.tolerant_equals(math.inf, -math.inf)


def test_round_if_near_integer_follows_the_order_sizing_rule() -> None:
    step = float(NEAR_INTEGER)
    assert math_utils.round_if_near_integer(10 - step / 2) == 10
    assert math_utils.round_if_near_integer(10 - step * 2) == 10 - step * 2
    assert math_utils.round_if_near_integer(-3.00001) == -3
    assert math_utils.round_if_near_integer(2.4, epsilon=0.5) == 2


@given(st.floats(min_value=-1e6, max_value=1e6))
def test_round_if_near_integer_moves_a_value_by_at_most_epsilon(a: float) -> None:
    assert abs(math_utils.round_if_near_integer(a) - a) <= float(NEAR_INTEGER)


def test_number_of_decimal_places() -> None:
    assert math_utils.number_of_decimal_places(1) == 0
    assert math_utils.number_of_decimal_places(0.01) == 2
    assert math_utils.number_of_decimal_places(Decimal("2.500")) == 3
    assert math_utils.number_of_decimal_places("12.125") == 3


def test_nan_reductions_ignore_nan() -> None:
    values = np.array([1.0, np.nan, 5.0])
    assert math_utils.nanmean(values) == 3.0
    assert math_utils.nansum(values) == 6.0
    assert (math_utils.nanmin(values), math_utils.nanmax(values)) == (1.0, 5.0)
    assert (math_utils.nanargmin(values), math_utils.nanargmax(values)) == (0, 2)
    assert math_utils.nanmedian(values) == 3.0
    assert math_utils.nanstd(values) == 2.0
