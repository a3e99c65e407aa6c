"""Thinning long traces: few enough points, and every bucket's low and high kept."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis.extra.numpy import arrays

from rustybt.analytics.tearsheet.decimate import (
    MAX_POINTS,
    decimate,
    decimate_frame,
    kept_positions,
)

finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(values=arrays(np.float64, st.integers(0, 3000), elements=finite), most=st.integers(4, 700))
def test_kept_positions_bound_order_and_extremes(values: np.ndarray, most: int) -> None:
    kept = kept_positions(values, most)
    assert len(kept) <= most
    assert np.all(np.diff(kept) > 0)  # ascending, no repeats
    if len(values) <= most:
        assert list(kept) == list(range(len(values)))
        return
    assert kept[0] == 0 and kept[-1] == len(values) - 1
    assert values[kept].max() == values.max() and values[kept].min() == values.min()


def test_each_bucket_keeps_its_low_and_high() -> None:
    # Two buckets of 3 inner points: lows 3 and 5 (positions), highs 1 and 6.
    values = np.array([0.0, 5.0, 1.0, -3.0, 2.0, 0.0, 4.0, 1.0])
    assert kept_positions(values, max_points=6).tolist() == [0, 1, 3, 5, 6, 7]


def test_nan_buckets_keep_a_point_and_numbers_win() -> None:
    values = np.array([1.0] + [np.nan] * 50 + [-9.0] + [np.nan] * 50 + [2.0])
    kept = kept_positions(values, max_points=10)
    assert 51 in kept  # the one number among NaNs is the low of its bucket
    assert kept[0] == 0 and kept[-1] == len(values) - 1


def test_too_few_points_refused() -> None:
    with pytest.raises(ValueError, match="max_points must be at least 4"):
        kept_positions(np.arange(10.0), max_points=3)


def test_decimate_a_decade_of_sessions() -> None:
    index = pd.bdate_range("2010-01-01", periods=2520 * 2, tz="UTC")
    trace = pd.Series(np.cumsum(np.random.default_rng(1).normal(size=len(index))), index=index)
    thin = decimate(trace)
    assert len(thin) <= MAX_POINTS
    assert thin.index.is_monotonic_increasing and thin.index.isin(index).all()
    assert thin.idxmin() == trace.idxmin() and thin.idxmax() == trace.idxmax()


def test_decimate_frame_keeps_shared_rows() -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(10_000, 5)), columns=list("abcde"))
    thin = decimate_frame(frame, max_points=1000)
    assert len(thin) <= 1000
    for column in frame:  # every column's extremes survive on the shared rows
        assert thin[column].max() == frame[column].max()
        assert thin[column].min() == frame[column].min()
    assert decimate_frame(frame.iloc[:50], max_points=1000).equals(frame.iloc[:50])
