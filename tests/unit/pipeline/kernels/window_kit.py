"""What the window kernels' tests share: panels, references applied day by day, and the
checks every window kernel passes.

A panel is (D, W, N): D days of W-row windows over N assets, positive random walks
with holes (column 0 all NaN, column 1 constant, column 2 listed mid-window).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

DAYS, ASSETS = 3, 6

Kernel = Callable[..., np.ndarray]


def make_panel(seed: int, window: int, days: int = DAYS) -> np.ndarray:
    """A read-only (days, window, ASSETS) panel of random walks with holes."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.03, size=(days, window, ASSETS))
    panel = 50.0 * np.exp(np.cumsum(steps, axis=1))
    panel[rng.random(panel.shape) < 0.15] = np.nan
    panel[..., 0] = np.nan
    panel[..., 1] = 7.25
    panel[:, : window // 2, 2] = np.nan
    panel.setflags(write=False)
    return panel


def reference_panel(reference: Callable[..., float], *panels: np.ndarray) -> np.ndarray:
    """Apply a reference on 1-D windows to every day and column of (D, W, N) panels."""
    days, _, assets = panels[0].shape
    out = np.empty((days, assets))
    for day in range(days):
        for asset in range(assets):
            out[day, asset] = reference(*(panel[day, :, asset] for panel in panels))
    return out


def assert_batched_matches_days(kernel: Kernel, *panels: np.ndarray) -> None:
    batched = kernel(*panels)
    assert batched.dtype == np.float64
    assert batched.shape == panels[0].shape[:1] + panels[0].shape[2:]
    per_day = np.stack([kernel(*(panel[day] for panel in panels)) for day in range(len(batched))])
    np.testing.assert_array_equal(batched, per_day)


def present(window: np.ndarray) -> list[float]:
    return [float(value) for value in window if not math.isnan(value)]


def check_matches_reference(
    kernel: Kernel, reference: Callable[..., float], panels: tuple[np.ndarray, ...]
) -> None:
    """The kernel equals the reference on every day and column, batched or day by day."""
    expected = reference_panel(reference, *panels)
    np.testing.assert_allclose(kernel(*panels), expected, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert_batched_matches_days(kernel, *panels)


def check_new_float64_result(kernel: Kernel, panels: tuple[np.ndarray, ...]) -> None:
    """On one day's read-only windows: a new float64 array, the inputs untouched."""
    views = [panel[0] for panel in panels]
    for view in views:
        view.setflags(write=False)
    before = [view.copy() for view in views]
    result = kernel(*views)
    assert result.dtype == np.float64
    assert result.shape == (ASSETS,)
    assert not any(np.shares_memory(result, view) for view in views)
    for view, copy in zip(views, before, strict=True):
        np.testing.assert_array_equal(view, copy)


def sliding_windows(seed: int, window: int) -> np.ndarray:
    """(D, W, N) read-only overlapping windows of one panel, as the engine slides them."""
    panel = make_panel(seed, days=1, window=window + 4)[0]
    return np.swapaxes(sliding_window_view(panel, window, axis=0), -1, -2)


def check_sliding_view(kernel: Kernel, panels: tuple[np.ndarray, ...]) -> None:
    """A sliding view of one panel gives each day's result, as contiguous days do."""
    views = [sliding_windows(seed, panels[0].shape[1]) for seed in range(len(panels))]
    batched = kernel(*views)
    per_day = [kernel(*(np.ascontiguousarray(view[day]) for view in views)) for day in range(5)]
    np.testing.assert_array_equal(batched, np.stack(per_day))


# Ordinary prices, and cells on which zipline warns: NaN, zero, infinities, subnormal, huge.
CELLS = st.one_of(
    st.floats(-5.0, 200.0, allow_nan=False),
    st.sampled_from([np.nan, 0.0, np.inf, -np.inf, 5e-324, 1e308]),
)


@st.composite
def batches(draw: st.DrawFn, inputs: int, min_window: int, max_window: int = 7) -> list[np.ndarray]:
    """``inputs`` panels of one random shape, with cells from :data:`CELLS`."""
    shape = (
        draw(st.integers(1, 3)),
        draw(st.integers(min_window, max_window)),
        draw(st.integers(1, 4)),
    )
    return [draw(hnp.arrays(np.float64, shape, elements=CELLS)) for _ in range(inputs)]
