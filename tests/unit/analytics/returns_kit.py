"""Return series for the statistics tests: hypothesis strategies and a comparison rule.

The strategies cover what empyrical's definitions must agree on: ordinary
returns, all-negative returns, constant (zero-variance) returns, returns with
NaN sessions, and short series (0, 1 and 2 sessions).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

basis_points = st.integers(-5000, 5000).map(lambda bp: bp / 10_000)
NAN = float("nan")
maybe_nan = st.one_of(basis_points, basis_points, basis_points, st.just(NAN))

return_lists = st.one_of(
    st.lists(basis_points, max_size=300),
    st.lists(st.integers(-9000, -1).map(lambda bp: bp / 10_000), max_size=60),  # all negative
    st.tuples(basis_points, st.integers(0, 40)).map(lambda x: [x[0]] * x[1]),  # zero variance
    st.lists(maybe_nan, max_size=80),  # NaN sessions
    st.lists(st.floats(-0.99, 3.0, allow_nan=False, allow_subnormal=False), max_size=3),  # short
)


def series_of(returns: list[float], start: str = "2020-01-02 21:00") -> pd.Series:
    """The returns as a Series indexed by business-day session closes (UTC)."""
    index = pd.date_range(start, periods=len(returns), freq="B", tz="UTC")
    return pd.Series(returns, index=index, dtype=np.float64)


def relative_difference(ours: float, theirs: Any) -> float:
    """|ours - theirs| / |theirs|: 0 for equal values, both NaN or the same infinity."""
    theirs = float(theirs)
    if math.isnan(ours) or math.isnan(theirs):
        return 0.0 if math.isnan(ours) and math.isnan(theirs) else math.inf
    if math.isinf(ours) or math.isinf(theirs):
        return 0.0 if ours == theirs else math.inf
    if ours == theirs:
        return 0.0
    return abs(ours - theirs) / max(abs(theirs), 1e-300)


def same(ours: float, theirs: Any) -> bool:
    """Equal to 1e-9 relative, or both NaN, or the same infinity.

    The absolute floor (1e-12) covers values that are zero up to summation
    order (empyrical sums with bottleneck, we with NumPy's pairwise sum).
    """
    theirs = float(theirs)
    if relative_difference(ours, theirs) <= 1e-9:
        return True
    return math.isfinite(ours) and math.isfinite(theirs) and abs(ours - theirs) <= 1e-12
