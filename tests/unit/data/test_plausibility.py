"""Tests of rustybt.data.plausibility: the price ceiling, one-bar spikes, minute vs daily bars."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rustybt.data.plausibility import SessionPrices, ceiling_rows, minute_daily_error, spike_rows


def walk(seed: int, size: int, factor: float) -> np.ndarray:
    """Closes whose every one-bar move stays within ``factor`` either way."""
    rng = np.random.default_rng(seed)
    moves = rng.uniform(1.0 / factor, factor, size)
    return np.clip(100.0 * np.cumprod(moves), 1e-6, 1e6)


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(0, 12), min_size=1, max_size=6),
    spikes=st.lists(st.tuples(st.integers(0, 71), st.booleans()), max_size=4),
)
def test_spikes_of_sources_end_to_end_are_those_of_each_source(
    seed: int, sizes: list[int], spikes: list[tuple[int, bool]]
) -> None:
    close = walk(seed, sum(sizes), 4.0)
    for row, up in spikes:
        if row < close.size:
            close[row] *= 50.0 if up else 1 / 50.0
    starts = np.cumsum([0, *sizes[:-1]]).astype(np.int64)
    together = spike_rows(close, starts, 5.0)
    apart = [
        spike_rows(close[a : a + n], np.array([0]), 5.0) for a, n in zip(starts, sizes, strict=True)
    ]
    assert together.tolist() == np.concatenate(apart).tolist()


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), row=st.integers(1, 28), up=st.booleans())
def test_a_reverting_jump_is_a_spike_and_nothing_else_is(seed: int, row: int, up: bool) -> None:
    close = walk(seed, 30, 2.0)
    assert not spike_rows(close, np.array([0]), 5.0).any()
    close[row] *= 20.0 if up else 1 / 20.0
    assert np.flatnonzero(spike_rows(close, np.array([0]), 5.0)).tolist() == [row]
    # The same jump that does not revert (every later bar moves with it) is kept.
    close[row + 1 :] *= 20.0 if up else 1 / 20.0
    assert not spike_rows(close, np.array([0]), 5.0).any()


def test_the_ceiling_flags_finite_prices_above_it_only() -> None:
    columns = {
        name: np.array([1.0, 2e9, np.inf, np.nan, 5.0]) for name in ("open", "high", "low", "close")
    }
    columns["high"] = np.array([1.0, 2e9, np.inf, np.nan, 3e9])
    assert ceiling_rows(columns, 1e9).tolist() == [False, True, False, False, True]
    clean = {name: np.array([1.0, 2.0]) for name in columns}
    assert not ceiling_rows(clean, 1e9).any()


def test_minute_bars_are_compared_with_daily_bars_per_session() -> None:
    day = 86_400 * 10**9
    daily = SessionPrices(
        "d.csv",
        np.array([0, day, 2 * day], dtype=np.int64),
        close=np.array([10.0, 10.0, 10.0]),
        high=np.array([11.0, 11.0, 11.0]),
        low=np.array([9.0, 9.0, 9.0]),
    )
    minutes = {
        "close": np.array([10.0, 10.1, 30.0, 30.0, 10.0]),
        "high": np.array([10.5, 10.5, 30.0, 30.0, 11.0]),
        "low": np.array([9.5, 9.5, 30.0, 30.0, 9.0]),
    }
    sessions = np.array([0, 0, day, day, 3 * day], dtype=np.int64)  # the last: no daily bar
    minute = SessionPrices.of_bars("m.csv", sessions, minutes)
    assert minute.close.tolist() == [10.1, 30.0, 10.0]
    assert minute_daily_error("X", daily, minute, 3.0) is None  # within 300%
    error = minute_daily_error("X", daily, minute, 0.05)
    assert error is not None
    assert error.message == (
        "m.csv: X's minute bars disagree with its daily bars (d.csv) by more than 5% in 1 "
        "session: 1970-01-02: last minute close 30.0 vs daily close 10.0, minute high 30.0 "
        "above daily high 11.0"
    )


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.lists(st.integers(0, 19), min_size=1, max_size=3),
    value=st.sampled_from([np.inf, -np.inf, np.nan, 0.0, -5.0]),
)
def test_a_price_that_is_not_finite_and_positive_makes_no_spike(
    seed: int, rows: list[int], value: float
) -> None:
    """Validation reports such a price once, as what it is; the spike rule stays silent."""
    close = walk(seed, 20, 2.0)
    close[rows] = value
    assert not spike_rows(close, np.array([0]), 5.0).any()
