"""Windows: stacked days equal single days, and unadjusted rows keep their stored bits."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rustybt.pipeline.windows import Windows


def adjusted_windows(seed: int, length: int, n_out: int) -> tuple[Windows, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = n_out + length - 1
    values = np.round(rng.uniform(1, 500, size=(rows + 1, 4)), 2)
    # Cumulative multipliers as the portal builds them: one event per column at most.
    mult = np.ones((rows + 1, 4))
    for col in range(4):
        event = int(rng.integers(1, rows + 1))
        mult[:event, col] = rng.choice([0.5, 0.98731, 3.0, 0.25])
    # Row i of the windows is the bar of session i; output date j views from session j + length.
    row_mult, view_mult = mult[:rows], mult[length:]
    return Windows(values[:rows], length, n_out, (row_mult, view_mult)), values[:rows], mult


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.integers(1, 30))
def test_a_stack_of_days_equals_each_day_and_the_definition(
    seed: int, length: int, n_out: int
) -> None:
    windows, values, mult = adjusted_windows(seed, length, n_out)
    stacked = windows.stack(0, n_out)
    for j in range(n_out):
        assert np.array_equal(stacked[j], windows.window(j))
        expected = values[j : j + length] * (mult[j : j + length] / mult[length + j])
        assert np.array_equal(stacked[j], expected)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 12), st.integers(1, 30))
def test_rows_with_nothing_effective_before_the_view_are_the_stored_values(
    seed: int, length: int, n_out: int
) -> None:
    windows, values, mult = adjusted_windows(seed, length, n_out)
    for j in range(n_out):
        window = windows.window(j)
        untouched = mult[j : j + length] == mult[length + j]
        assert np.array_equal(window[untouched], values[j : j + length][untouched])


def test_masked_columns_and_plain_inputs() -> None:
    windows, values, _ = adjusted_windows(3, 4, 6)
    columns = np.array([True, False, True, False])
    assert np.array_equal(windows.window(2, columns), windows.window(2)[:, columns])
    plain = Windows(values, 4, 6)
    assert np.array_equal(plain.window(5), values[5:9])
    assert not plain.window(5).flags.writeable  # a view of the input: read only
    assert [b for b in Windows(np.zeros((3_000, 500)), 252, 2_749).blocks()][:2] == [
        (0, 31),
        (31, 62),
    ]
