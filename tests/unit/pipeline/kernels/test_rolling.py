"""The rolling window kernels against plainly written per-column references.

Each kernel runs on a (D, W, N) panel holding NaNs inside windows, an
all-NaN column, a constant column and a column listed mid-window; the result
must match a Python loop over days and columns, and each day's (W, N) call
must give exactly that day's row of the batched call.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rustybt.pipeline.kernels import rolling
from tests.unit.pipeline.kernels.window_kit import (
    Kernel,
    assert_batched_matches_days,
    batches,
    check_matches_reference,
    check_new_float64_result,
    check_sliding_view,
    make_panel,
    present,
)

WINDOW = 10


# --- references, written on one asset's window ---------------------------------------------


def ref_mean(window: np.ndarray) -> float:
    values = present(window)
    return sum(values) / len(values) if values else math.nan


def ref_std(window: np.ndarray) -> float:
    values = present(window)
    return float(pd.Series(values, dtype=float).std(ddof=0)) if values else math.nan


def ref_ewma(window: np.ndarray, decay_rate: float) -> float:
    if np.isnan(window).any():
        return math.nan
    weights = [decay_rate ** (len(window) - 1 - row) for row in range(len(window))]
    return sum(w * x for w, x in zip(weights, window, strict=True)) / sum(weights)


def ref_ewmstd(window: np.ndarray, decay_rate: float) -> float:
    if np.isnan(window).any():
        return math.nan
    if decay_rate == 1.0:
        return float(np.std(window, ddof=1)) if len(window) > 1 else math.nan
    ewm = pd.Series(window).ewm(alpha=1.0 - decay_rate, adjust=True)
    return float(ewm.std(bias=False).iloc[-1])


def ref_lwma(window: np.ndarray) -> float:
    length = len(window)
    total = sum((row + 1) * x for row, x in enumerate(window) if not math.isnan(x))
    return total / (length * (length + 1) / 2)


def ref_change(window: np.ndarray, absolute: bool = False) -> float:
    first, last = np.float64(window[0]), np.float64(window[-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return float((last - first) / (abs(first) if absolute else first))


def ref_dollar_volume(close: np.ndarray, volume: np.ndarray) -> float:
    pairs = [c * v for c, v in zip(close, volume, strict=True) if not math.isnan(c * v)]
    return sum(pairs) / len(close)


def ref_weighted_average(values: np.ndarray, weights: np.ndarray) -> float:
    numerator = sum(x * w for x, w in zip(values, weights, strict=True) if not math.isnan(x * w))
    denominator = sum(present(weights))
    if denominator == 0:
        return math.nan if numerator == 0 else math.copysign(math.inf, numerator)
    return numerator / denominator


def ref_max_drawdown(window: np.ndarray) -> float:
    peak, best, trough_row = math.nan, -math.inf, 0
    peaks = []
    for row, value in enumerate(window):
        if not math.isnan(value):
            peak = value if math.isnan(peak) else max(peak, value)
        peaks.append(peak)
        if not math.isnan(value) and peak - value > best:
            best, trough_row = peak - value, row
    trough = np.float64(window[trough_row])
    with np.errstate(divide="ignore", invalid="ignore"):
        return float((peaks[trough_row] - trough) / trough)


# --- each kernel on the panel ---------------------------------------------------------------


PANEL = make_panel(1, WINDOW)
VOLUME = np.abs(make_panel(2, WINDOW)) * 1_000.0

CASES: list[tuple[str, Callable[..., np.ndarray], Callable[..., float], tuple[np.ndarray, ...]]] = [
    ("simple_moving_average", rolling.simple_moving_average, ref_mean, (PANEL,)),
    ("moving_standard_deviation", rolling.moving_standard_deviation, ref_std, (PANEL,)),
    (
        "exponential_weighted_moving_average",
        lambda v: rolling.exponential_weighted_moving_average(v, 0.8),
        lambda w: ref_ewma(w, 0.8),
        (PANEL,),
    ),
    (
        "exponential_weighted_moving_std",
        lambda v: rolling.exponential_weighted_moving_std(v, 0.8),
        lambda w: ref_ewmstd(w, 0.8),
        (PANEL,),
    ),
    (
        "exponential_weighted_moving_std, decay 1",
        lambda v: rolling.exponential_weighted_moving_std(v, 1.0),
        lambda w: ref_ewmstd(w, 1.0),
        (PANEL,),
    ),
    ("linear_weighted_moving_average", rolling.linear_weighted_moving_average, ref_lwma, (PANEL,)),
    ("returns", rolling.returns, ref_change, (PANEL,)),
    ("percent_change", rolling.percent_change, lambda w: ref_change(w, True), (PANEL - 50.0,)),
    (
        "annualized_volatility",
        lambda r: rolling.annualized_volatility(r, annualization_factor=12.0),
        lambda w: ref_std(w) * math.sqrt(12.0),
        (np.diff(PANEL, axis=1) / 50.0,),
    ),
    ("average_dollar_volume", rolling.average_dollar_volume, ref_dollar_volume, (PANEL, VOLUME)),
    (
        "weighted_average_value",
        rolling.weighted_average_value,
        ref_weighted_average,
        (PANEL, VOLUME),
    ),
    ("max_drawdown", rolling.max_drawdown, ref_max_drawdown, (PANEL,)),
]


@pytest.mark.parametrize(
    ("kernel", "reference", "panels"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_kernel_matches_reference_on_every_day_and_column(
    kernel: Kernel, reference: Callable[..., float], panels: tuple[np.ndarray, ...]
) -> None:
    check_matches_reference(kernel, reference, panels)


@pytest.mark.parametrize(
    ("kernel", "panels"), [(c[1], c[3]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_kernel_returns_a_new_float64_array_of_read_only_inputs(
    kernel: Kernel, panels: tuple[np.ndarray, ...]
) -> None:
    check_new_float64_result(kernel, panels)


@pytest.mark.parametrize(
    ("kernel", "panels"), [(c[1], c[3]) for c in CASES], ids=[c[0] for c in CASES]
)
def test_sliding_view_of_one_panel_gives_the_per_day_results(
    kernel: Kernel, panels: tuple[np.ndarray, ...]
) -> None:
    check_sliding_view(kernel, panels)


def test_all_nan_and_constant_columns() -> None:
    panel = PANEL
    assert np.isnan(rolling.simple_moving_average(panel)[:, 0]).all()
    np.testing.assert_array_equal(rolling.simple_moving_average(panel)[:, 1], 7.25)
    np.testing.assert_array_equal(rolling.moving_standard_deviation(panel)[:, 1], 0.0)
    np.testing.assert_array_equal(rolling.max_drawdown(panel)[:, 1], 0.0)
    np.testing.assert_array_equal(rolling.returns(panel)[:, 1], 0.0)
    np.testing.assert_allclose(
        rolling.exponential_weighted_moving_average(panel, 0.5)[:, 1], 7.25, rtol=1e-15
    )
    # nansum of nothing is 0, as zipline's: the linear average and dollar volume are 0, not NaN.
    np.testing.assert_array_equal(rolling.linear_weighted_moving_average(panel)[:, 0], 0.0)
    np.testing.assert_array_equal(rolling.average_dollar_volume(panel, VOLUME)[:, 0], 0.0)
    assert np.isnan(rolling.weighted_average_value(panel, VOLUME)[:, 0]).all()
    assert np.isnan(rolling.max_drawdown(panel)[:, 0]).all()


# --- hand-computed cases -------------------------------------------------------------------


def column(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)[:, np.newaxis]


def test_exponential_weights_as_zipline_builds_them() -> None:
    np.testing.assert_array_equal(rolling.exponential_weights(3, 0.5), [0.0625, 0.125, 0.25])
    np.testing.assert_array_equal(rolling.exponential_weights(2, 1.0), [1.0, 1.0])


def test_decay_rates_match_pandas_ewm_parameters() -> None:
    window = np.linspace(1.0, 3.0, 40) ** 2
    series = pd.Series(window)
    for decay_rate, ewm in [
        (rolling.decay_rate_from_span(15), series.ewm(span=15)),
        (rolling.decay_rate_from_halflife(4.5), series.ewm(halflife=4.5)),
        (rolling.decay_rate_from_center_of_mass(3), series.ewm(com=3)),
    ]:
        kernel = rolling.exponential_weighted_moving_average(window[:, np.newaxis], decay_rate)
        assert kernel[0] == pytest.approx(ewm.mean().iloc[-1], rel=1e-12)
    assert rolling.decay_rate_from_span(15) == 0.875
    assert rolling.decay_rate_from_halflife(1) == 0.5
    assert rolling.decay_rate_from_center_of_mass(1) == 0.5


def test_hand_computed_cases() -> None:
    rises_then_falls = column(10.0, 12.0, 6.0, 9.0)
    # Running peak 12, deepest fall to 6: zipline divides by the trough, (12 - 6) / 6.
    assert rolling.max_drawdown(rises_then_falls)[0] == 1.0
    assert rolling.returns(rises_then_falls)[0] == pytest.approx(-0.1)
    assert rolling.percent_change(column(-2.0, 1.0))[0] == 1.5
    assert rolling.linear_weighted_moving_average(column(3.0, np.nan, 6.0))[0] == 3.5
    assert rolling.weighted_average_value(column(1.0, 3.0), column(1.0, 3.0))[0] == 2.5
    assert rolling.average_dollar_volume(column(2.0, np.nan), column(5.0, 1.0))[0] == 5.0
    assert rolling.exponential_weighted_moving_average(column(1.0, 3.0), 0.5)[0] == pytest.approx(
        (0.5 * 1.0 + 3.0) / 1.5
    )
    assert rolling.annualized_volatility(column(0.01, -0.01))[0] == pytest.approx(
        0.01 * math.sqrt(252)
    )
    # One row: zero variance times an infinite bias correction (zipline gets NaN too; where the
    # weighted mean rounds off the value, e.g. decay 0.9 on 5.0, both get inf instead).
    assert math.isnan(rolling.exponential_weighted_moving_std(column(5.0), 0.5)[0])
    assert rolling.returns(column(0.0, 1.0))[0] == math.inf


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: rolling.simple_moving_average(np.ones(4)), "values"),
        (lambda: rolling.returns(np.ones((1, 3))), "values"),
        (lambda: rolling.percent_change(np.ones((1, 3))), "values"),
        (lambda: rolling.average_dollar_volume(np.ones((4, 3)), np.ones((4, 2))), "volume"),
        (lambda: rolling.weighted_average_value(np.ones((4, 3)), np.ones((3, 3))), "weights"),
        (lambda: rolling.exponential_weights(0, 0.5), "length"),
        (lambda: rolling.exponential_weights(3, 0.0), "decay_rate"),
        (lambda: rolling.exponential_weighted_moving_average(np.ones((3, 2)), 1.5), "decay_rate"),
        (lambda: rolling.exponential_weighted_moving_std(np.ones((3, 2)), -0.5), "decay_rate"),
        (lambda: rolling.decay_rate_from_span(1), "span"),
        (lambda: rolling.decay_rate_from_span(math.nan), "span"),
        (lambda: rolling.decay_rate_from_halflife(0), "halflife"),
        (lambda: rolling.decay_rate_from_center_of_mass(-0.5), "center_of_mass"),
        (lambda: rolling.annualized_volatility(np.ones((3, 2)), -1.0), "annualization_factor"),
    ],
)
def test_bad_arguments_get_a_one_line_error_naming_them(
    call: Callable[[], object], name: str
) -> None:
    with pytest.raises(ValueError, match=name) as raised:
        call()
    assert "\n" not in str(raised.value)


# --- the batched form is the per-day form, stacked ------------------------------------------

HYPOTHESIS_KERNELS: dict[str, tuple[Callable[..., np.ndarray], int, int]] = {
    "simple_moving_average": (rolling.simple_moving_average, 1, 1),
    "moving_standard_deviation": (rolling.moving_standard_deviation, 1, 1),
    "ewma": (lambda v: rolling.exponential_weighted_moving_average(v, 0.7), 1, 1),
    "ewmstd": (lambda v: rolling.exponential_weighted_moving_std(v, 0.7), 1, 1),
    "linear_weighted_moving_average": (rolling.linear_weighted_moving_average, 1, 1),
    "returns": (rolling.returns, 1, 2),
    "percent_change": (rolling.percent_change, 1, 2),
    "annualized_volatility": (rolling.annualized_volatility, 1, 1),
    "average_dollar_volume": (rolling.average_dollar_volume, 2, 1),
    "weighted_average_value": (rolling.weighted_average_value, 2, 1),
    "max_drawdown": (rolling.max_drawdown, 1, 1),
}


@pytest.mark.parametrize("name", sorted(HYPOTHESIS_KERNELS))
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_batched_equals_stacked_per_day(name: str, data: st.DataObject) -> None:
    kernel, inputs, min_window = HYPOTHESIS_KERNELS[name]
    panels = data.draw(batches(inputs, min_window))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the kernels return zipline's inf and NaN quietly
        assert_batched_matches_days(kernel, *panels)
