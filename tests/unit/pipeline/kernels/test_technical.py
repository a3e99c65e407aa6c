"""The technical-indicator kernels against plainly written per-column references.

As in test_rolling: a (D, W, N) panel with NaNs inside windows, an all-NaN
column, a constant column and a column listed mid-window; results match a
Python loop over days and columns, and each day's call gives exactly that
day's row of the batched call.
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

from rustybt.pipeline.kernels import technical
from tests.unit.pipeline.kernels.window_kit import (
    Kernel,
    batches,
    check_matches_reference,
    check_new_float64_result,
    check_sliding_view,
    make_panel,
    present,
)

WINDOW = 12


def divide(numerator: float, denominator: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(numerator) / np.float64(denominator))


# --- references, written on one asset's window ---------------------------------------------


def ref_rsi(window: np.ndarray) -> float:
    changes = present(np.diff(window))
    if not changes:
        return math.nan
    gain = sum(c for c in changes if c > 0) / len(changes)
    loss = -sum(c for c in changes if c < 0) / len(changes)
    if loss == 0:
        return 100.0 if gain > 0 else math.nan
    return 100.0 - 100.0 / (1.0 + gain / loss)


def ref_bollinger(window: np.ndarray, k: float) -> tuple[float, float, float]:
    values = pd.Series(present(window), dtype=float)
    middle, width = values.mean(), k * values.std(ddof=0)
    return middle - width, middle, middle + width


def ref_ewma(window: np.ndarray | list[float], span: int) -> float:
    decay = 1.0 - 2.0 / (1.0 + span)
    weights = [decay ** (len(window) - 1 - row) for row in range(len(window))]
    return sum(w * x for w, x in zip(weights, window, strict=True)) / sum(weights)


def ref_macd(window: np.ndarray, fast: int, slow: int, signal: int) -> float:
    macd = []
    for end in range(len(window) - signal + 1, len(window) + 1):
        macd.append(
            ref_ewma(window[end - fast : end], fast) - ref_ewma(window[end - slow : end], slow)
        )
    return ref_ewma(macd, signal)


def ref_first_extreme_row(window: np.ndarray, highest: bool) -> float:
    rows = [row for row, x in enumerate(window) if not math.isnan(x)]
    if not rows:
        return math.nan
    pick = max if highest else min
    best = pick(window[row] for row in rows)
    return float(next(row for row in rows if window[row] == best))


def ref_aroon(lows: np.ndarray, highs: np.ndarray) -> tuple[float, float]:
    span = len(lows) - 1
    return (
        divide(100.0 * ref_first_extreme_row(lows, False), span),
        divide(100.0 * ref_first_extreme_row(highs, True), span),
    )


def ref_stochastic(closes: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> float:
    low, high = present(lows), present(highs)
    if not low or not high:
        return math.nan
    return divide(closes[-1] - min(low), max(high) - min(low)) * 100.0


def plain_midpoint(highs: np.ndarray, lows: np.ndarray) -> float:
    if np.isnan(highs).any() or np.isnan(lows).any():
        return math.nan
    return (max(highs) + min(lows)) / 2


def ref_ichimoku(
    highs: np.ndarray, lows: np.ndarray, closes: np.ndarray, tenkan: int, kijun: int, chikou: int
) -> dict[str, float]:
    tenkan_sen = plain_midpoint(highs[-tenkan:], lows[-tenkan:])
    kijun_sen = plain_midpoint(highs[-kijun:], lows[-kijun:])
    return {
        "tenkan_sen": tenkan_sen,
        "kijun_sen": kijun_sen,
        "senkou_span_a": (tenkan_sen + kijun_sen) / 2,
        "senkou_span_b": plain_midpoint(highs, lows),
        "chikou_span": float(closes[chikou]),
    }


def ref_true_range(highs: np.ndarray, lows: np.ndarray, closes: np.ndarray) -> float:
    high, low, previous = highs[-1], lows[-1], closes[-2]
    terms = present(np.array([high - low, abs(high - previous), abs(low - previous)]))
    return max(terms) if terms else math.nan


def ref_rate_of_change(window: np.ndarray) -> float:
    return divide(window[-1] - window[0], window[0]) * 100.0


# --- each kernel on the panel ---------------------------------------------------------------

CLOSES = make_panel(1, WINDOW)
OTHER = make_panel(2, WINDOW)
HIGHS, LOWS = np.fmax(CLOSES, OTHER) + 0.5, np.fmin(CLOSES, OTHER) - 0.5
ICHIMOKU = {"tenkan_sen_length": 3, "kijun_sen_length": 7, "chikou_span_length": 5}
KEYS = ("tenkan_sen", "kijun_sen", "senkou_span_a", "senkou_span_b", "chikou_span")


def pick(kernel: Callable[..., tuple[np.ndarray, ...]], index: int) -> Callable[..., np.ndarray]:
    return lambda *panels: kernel(*panels)[index]


def ichimoku_line(key: str) -> Callable[..., np.ndarray]:
    return lambda *panels: technical.ichimoku_kinko_hyo(*panels, **ICHIMOKU)[key]


CASES: list[tuple[str, Callable[..., np.ndarray], Callable[..., float], tuple[np.ndarray, ...]]] = [
    ("rsi", technical.rsi, ref_rsi, (CLOSES,)),
    *(
        (
            f"bollinger_bands[{index}]",
            pick(lambda c: technical.bollinger_bands(c, k=1.5), index),
            lambda w, i=index: ref_bollinger(w, 1.5)[i],
            (CLOSES,),
        )
        for index in range(3)
    ),
    (
        "macd_signal",
        lambda c: technical.macd_signal(c, fast_period=3, slow_period=8, signal_period=5),
        lambda w: ref_macd(w, 3, 8, 5),
        (CLOSES,),
    ),
    (
        "aroon down",
        pick(technical.aroon, 0),
        lambda lo, hi: ref_aroon(lo, hi)[0],
        (LOWS, HIGHS),
    ),
    ("aroon up", pick(technical.aroon, 1), lambda lo, hi: ref_aroon(lo, hi)[1], (LOWS, HIGHS)),
    (
        "fast_stochastic_oscillator",
        technical.fast_stochastic_oscillator,
        ref_stochastic,
        (CLOSES, LOWS, HIGHS),
    ),
    *(
        (
            f"ichimoku {key}",
            ichimoku_line(key),
            lambda h, lo, c, key=key: ref_ichimoku(h, lo, c, 3, 7, 5)[key],
            (HIGHS, LOWS, CLOSES),
        )
        for key in KEYS
    ),
    ("true_range", technical.true_range, ref_true_range, (HIGHS, LOWS, CLOSES)),
    (
        "rate_of_change_percentage",
        technical.rate_of_change_percentage,
        ref_rate_of_change,
        (CLOSES,),
    ),
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
    assert np.isnan(technical.rsi(CLOSES)[:, :2]).all()  # no data; no move at all
    down, up = technical.aroon(LOWS, HIGHS)
    assert np.isnan(down[:, 0]).all() and np.isnan(up[:, 0]).all()  # zipline raises here
    np.testing.assert_array_equal(up[:, 1], 0.0)  # the first of equal highs
    lower, middle, upper = technical.bollinger_bands(CLOSES, k=2.0)
    np.testing.assert_array_equal(np.stack([lower, middle, upper])[:, :, 1], 7.25)
    np.testing.assert_array_equal(technical.true_range(HIGHS, LOWS, CLOSES)[:, 1], 1.0)
    np.testing.assert_array_equal(technical.rate_of_change_percentage(CLOSES)[:, 1], 0.0)
    assert np.isnan(technical.macd_signal(CLOSES, 3, 8, 5)[:, 0]).all()
    np.testing.assert_allclose(technical.macd_signal(CLOSES, 3, 8, 5)[:, 1], 0.0, atol=1e-12)


# --- hand-computed cases -------------------------------------------------------------------


def column(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)[:, np.newaxis]


def test_hand_computed_cases() -> None:
    # Changes +1, -1, +2: mean rise 1, mean fall 1/3, so RS 3 and RSI 75.
    assert technical.rsi(column(1.0, 2.0, 1.0, 3.0))[0] == 75.0
    assert technical.rsi(column(1.0, 2.0, 2.0, 3.0))[0] == 100.0  # no fall at all
    assert technical.rsi(column(4.0, 3.0))[0] == 0.0
    lower, middle, upper = technical.bollinger_bands(column(1.0, 3.0), k=2.0)
    assert (lower[0], middle[0], upper[0]) == (0.0, 2.0, 4.0)
    # Highest high at row 3 of 5, lowest low at row 1: up 75, down 25.
    down, up = technical.aroon(column(5.0, 1.0, 4.0, 2.0, 3.0), column(1.0, 2.0, 3.0, 9.0, 4.0))
    assert (down[0], up[0]) == (25.0, 75.0)
    stochastic = technical.fast_stochastic_oscillator(
        column(5.0, 7.0), column(4.0, 6.0), column(6.0, 9.0)
    )
    assert stochastic[0] == 60.0  # (7 - 4) / (9 - 4)
    # High 10 and low 8 today, yesterday's close 12: the gap to the close wins.
    assert technical.true_range(column(9.0, 10.0), column(7.0, 8.0), column(12.0, 9.0))[0] == 4.0
    assert technical.rate_of_change_percentage(column(4.0, 9.0, 5.0))[0] == 25.0
    lines = technical.ichimoku_kinko_hyo(
        column(5.0, 8.0, 6.0),
        column(1.0, 4.0, 3.0),
        column(2.0, 7.0, 4.0),
        tenkan_sen_length=1,
        kijun_sen_length=2,
        chikou_span_length=1,
    )
    assert {key: value[0] for key, value in lines.items()} == {
        "tenkan_sen": 4.5,
        "kijun_sen": 5.5,
        "senkou_span_a": 5.0,
        "senkou_span_b": 4.5,
        "chikou_span": 7.0,
    }


def test_macd_of_a_straight_line_is_the_gap_between_the_ewma_lags() -> None:
    # On x = t the EWMA of span s over s rows lags the last row by a fixed amount,
    # so every MACD value, and the signal line, equals lag(slow) - lag(fast).
    def lag(span: int) -> float:
        decay = 1.0 - 2.0 / (1.0 + span)
        weights = decay ** np.arange(span - 1, -1, -1)
        return float(np.dot(weights, np.arange(span - 1, -1, -1)) / weights.sum())

    line = np.arange(26.0 + 9.0 - 1.0)[:, np.newaxis]
    expected = lag(26) - lag(12)
    signal = technical.macd_signal(line, fast_period=12, slow_period=26, signal_period=9)
    assert signal[0] == pytest.approx(expected, rel=1e-12)


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: technical.rsi(np.ones(5)), "closes"),
        (lambda: technical.macd_signal(np.ones((10, 2)), 1, 8, 3), "fast_period"),
        (lambda: technical.macd_signal(np.ones((10, 2)), 3, 3, 8), "slow_period"),
        (lambda: technical.macd_signal(np.ones((10, 2)), 3, 8, 1), "signal_period"),
        (lambda: technical.macd_signal(np.ones((11, 2)), 3, 8, 3), "closes"),
        (lambda: technical.aroon(np.ones((5, 2)), np.ones((5, 3))), "highs"),
        (lambda: technical.true_range(np.ones((1, 2)), np.ones((1, 2)), np.ones((1, 2))), "highs"),
        (
            lambda: technical.ichimoku_kinko_hyo(
                np.ones((5, 2)), np.ones((5, 2)), np.ones((5, 2)), 0, 3, 2
            ),
            "tenkan_sen_length",
        ),
        (
            lambda: technical.ichimoku_kinko_hyo(
                np.ones((5, 2)), np.ones((5, 2)), np.ones((5, 2)), 2, 6, 2
            ),
            "kijun_sen_length",
        ),
        (
            lambda: technical.ichimoku_kinko_hyo(
                np.ones((5, 2)), np.ones((5, 2)), np.ones((5, 2)), 2, 3, 5
            ),
            "chikou_span_length",
        ),
    ],
)
def test_bad_arguments_get_a_one_line_error_naming_them(
    call: Callable[[], object], name: str
) -> None:
    with pytest.raises(ValueError, match=name) as raised:
        call()
    assert "\n" not in str(raised.value)


# --- the batched form is the per-day form, stacked ------------------------------------------

HYPOTHESIS_KERNELS: dict[str, tuple[Callable[..., np.ndarray], int, int, int]] = {
    # name: (kernel, number of inputs, least window, most window)
    "rsi": (technical.rsi, 1, 1, 7),
    "bollinger_bands": (lambda c: np.stack(technical.bollinger_bands(c, k=2.0)), 1, 1, 7),
    "macd_signal": (lambda c: technical.macd_signal(c, 2, 4, 3), 1, 6, 6),
    "aroon": (lambda lo, hi: np.stack(technical.aroon(lo, hi)), 2, 1, 7),
    "fast_stochastic_oscillator": (technical.fast_stochastic_oscillator, 3, 1, 7),
    "ichimoku_kinko_hyo": (
        lambda h, lo, c: np.stack(list(technical.ichimoku_kinko_hyo(h, lo, c, 2, 3, 1).values())),
        3,
        3,
        7,
    ),
    "true_range": (technical.true_range, 3, 2, 7),
    "rate_of_change_percentage": (technical.rate_of_change_percentage, 1, 1, 7),
}


@pytest.mark.parametrize("name", sorted(HYPOTHESIS_KERNELS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_batched_equals_stacked_per_day(name: str, data: st.DataObject) -> None:
    kernel, inputs, min_window, max_window = HYPOTHESIS_KERNELS[name]
    panels = data.draw(batches(inputs, min_window, max_window))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the kernels return zipline's inf and NaN quietly
        batched = kernel(*panels)
        days = [kernel(*(panel[day] for panel in panels)) for day in range(len(panels[0]))]
    # Multi-output kernels stack their outputs first: the day axis is then axis 1.
    per_day = np.stack(days, axis=batched.ndim - 2)
    np.testing.assert_array_equal(batched, per_day)
