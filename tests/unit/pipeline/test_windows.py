"""Windows: every value adjusted by exactly the adjustments seen, one after another."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rustybt.pipeline.windows import Windows


def make(seed: int, length: int, n_out: int, n_events: int) -> tuple[Windows, np.ndarray, tuple]:
    rng = np.random.default_rng(seed)
    rows = n_out + length - 1
    values = np.round(rng.uniform(1, 500, size=(rows, 4)), 2)
    k = np.sort(rng.integers(0, rows, size=n_events))
    column = rng.integers(0, 4, size=n_events)
    multiplier = rng.choice([0.5, 0.98731, 3.0, 0.25, 0.9912], size=n_events)
    events = (k, column, multiplier)
    return Windows(values, length, n_out, events), values, events


def by_definition(values: np.ndarray, events: tuple, length: int, n_out: int, j: int) -> np.ndarray:
    """Row r of date j's window: its stored value times each adjustment seen, in order."""
    offset = values.shape[0] - n_out
    end = offset + j
    window = values[end - length + 1 : end + 1].copy()
    for k, column, multiplier in zip(*events, strict=True):
        for i, r in enumerate(range(end - length + 1, end + 1)):
            if r <= k <= end:
                window[i, column] *= multiplier
    return window


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.integers(1, 30), st.integers(0, 12))
def test_stacks_and_single_days_equal_the_definition_bit_for_bit(
    seed: int, length: int, n_out: int, n_events: int
) -> None:
    windows, values, events = make(seed, length, n_out, n_events)
    mid = n_out // 2
    stacked = np.concatenate([windows.stack(0, mid), windows.stack(mid, n_out)])
    fresh, _, _ = make(seed, length, n_out, n_events)
    for j in range(n_out):
        expected = by_definition(values, events, length, n_out, j)
        assert np.array_equal(stacked[j], expected)
        assert np.array_equal(fresh.window(j), expected)  # day by day, as custom terms read


def test_stored_values_are_left_alone_and_days_can_be_read_again() -> None:
    windows, values, events = make(5, 4, 10, 3)
    before = values.copy()
    later = windows.window(8).copy()
    earlier = windows.window(2)  # going back restarts the walk
    assert np.array_equal(earlier, by_definition(values, events, 4, 10, 2))
    assert np.array_equal(later, by_definition(values, events, 4, 10, 8))
    assert np.array_equal(values, before)
    assert not earlier.flags.writeable


def test_masked_columns_and_plain_inputs() -> None:
    windows, values, _ = make(3, 4, 6, 2)
    columns = np.array([True, False, True, False])
    assert np.array_equal(windows.window(2, columns), windows.window(2)[:, columns])
    plain = Windows(values, 4, 6)
    assert np.array_equal(plain.window(5), values[5:9])
    assert np.array_equal(plain.stack(0, 6)[5], values[5:9])
    blocks = list(Windows(np.zeros((3_000, 500)), 252, 2_749).blocks())
    assert blocks[:2] == [(0, 31), (31, 62)] and blocks[-1][1] == 2_749
