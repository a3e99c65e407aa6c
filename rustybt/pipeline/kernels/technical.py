"""Window kernels of zipline's technical indicators: RSI, Bollinger, MACD, Aroon ...

The window contract of :mod:`rustybt.pipeline.kernels.rolling` holds here:
windows along axis -2 (oldest row first), assets along axis -1, leading axes
a batch of days; results are new float64 arrays. Semantics (NaN handling,
degenerate windows) are zipline-reloaded's.
"""

from __future__ import annotations

import operator

import numpy as np
import numpy.typing as npt

from rustybt.exceptions import PipelineError
from rustybt.pipeline.kernels.rolling import (
    FloatArray,
    decay_rate_from_span,
    exponential_weighted_moving_average,
    float_warnings_silenced,
    moving_standard_deviation,
    simple_moving_average,
    window_inputs,
)


@float_warnings_silenced
def rsi(closes: npt.ArrayLike) -> FloatArray:
    """Relative Strength Index of each window (zipline ``RSI``).

    From the session-to-session changes: ``100 - 100 / (1 + up / down)`` with
    ``up`` the mean of the rises (falls count 0) and ``down`` the mean size of
    the falls, NaN changes skipped.

    Parameters
    ----------
    closes : array_like, shape (..., W, N)

    Returns
    -------
    ndarray, shape (..., N)
        100 where a window only rises; NaN where it never moves.
    """
    (windows,) = window_inputs(1, closes=closes)
    changes = np.diff(windows, axis=-2)
    ups = simple_moving_average(np.clip(changes, 0.0, np.inf))
    downs = np.abs(simple_moving_average(np.clip(changes, -np.inf, 0.0)))
    return np.asarray(100.0 - 100.0 / (1.0 + ups / downs), dtype=np.float64)


@float_warnings_silenced
def bollinger_bands(closes: npt.ArrayLike, k: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Bollinger bands of each window (zipline ``BollingerBands``).

    Parameters
    ----------
    closes : array_like, shape (..., W, N)
    k : float
        Standard deviations (ddof 0, NaNs skipped) between the middle band
        and each outer band.

    Returns
    -------
    lower, middle, upper : ndarray, shape (..., N)
        ``middle`` is the window's mean (NaNs skipped).
    """
    (windows,) = window_inputs(1, closes=closes)
    width = float(k) * moving_standard_deviation(windows)
    middle = simple_moving_average(windows)
    return middle - width, middle, middle + width


def _check_period(name: str, period: int) -> int:
    length = operator.index(period)
    if length < 2:
        raise PipelineError(
            f"{name} must be at least 2 (an EWMA over one session has zero weight); got {period!r}"
        )
    return length


def _trailing_ewmas(windows: FloatArray, length: int, count: int) -> FloatArray:
    """EWMAs of span ``length`` over the windows ending at each of the last ``count`` rows.

    Returns shape (..., count, N); zipline's MACD weighs each such window
    with the span's decay rate.
    """
    decay_rate = decay_rate_from_span(length)
    rows = windows.shape[-2]
    ends = range(rows - count + 1, rows + 1)
    averages = [
        exponential_weighted_moving_average(windows[..., end - length : end, :], decay_rate)
        for end in ends
    ]
    return np.stack(averages, axis=-2)


@float_warnings_silenced
def macd_signal(
    closes: npt.ArrayLike, fast_period: int, slow_period: int, signal_period: int
) -> FloatArray:
    """MACD signal line of each window (zipline ``MovingAverageConvergenceDivergenceSignal``).

    The MACD (fast EWMA minus slow EWMA, each of span its period, each over
    its trailing sessions) is taken at each of the window's last
    ``signal_period`` rows; the result is the EWMA of span ``signal_period``
    of those MACD values. A NaN in any window used makes the result NaN.

    Parameters
    ----------
    closes : array_like, shape (..., W, N)
        ``W`` exactly ``slow_period + signal_period - 1``, as zipline sets it.
    fast_period, slow_period, signal_period : int
        Each at least 2; ``slow_period`` greater than ``fast_period``.

    Returns
    -------
    ndarray, shape (..., N)
    """
    fast = _check_period("fast_period", fast_period)
    slow = _check_period("slow_period", slow_period)
    signal = _check_period("signal_period", signal_period)
    if slow <= fast:
        raise PipelineError(
            f"slow_period must be greater than fast_period; got {slow_period!r} <= {fast_period!r}"
        )
    (windows,) = window_inputs(1, closes=closes)
    if windows.shape[-2] != slow + signal - 1:
        raise PipelineError(
            f"closes must hold windows of slow_period + signal_period - 1 = {slow + signal - 1} "
            f"sessions along axis -2; got shape {windows.shape}"
        )
    macd = _trailing_ewmas(windows, fast, signal) - _trailing_ewmas(windows, slow, signal)
    return exponential_weighted_moving_average(macd, decay_rate_from_span(signal))


def _nanargmax(windows: FloatArray) -> FloatArray:
    """Row of each window's first largest non-NaN value, as a float (NaN if none)."""
    all_nan = np.isnan(windows).all(axis=-2)
    rows = np.argmax(np.where(np.isnan(windows), -np.inf, windows), axis=-2).astype(np.float64)
    rows[all_nan] = np.nan
    return rows


@float_warnings_silenced
def aroon(lows: npt.ArrayLike, highs: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Aroon down and up of each window (zipline ``Aroon``).

    ``up`` is ``100 * row of the highest high / (W - 1)``, ``down`` the same of
    the lowest low (rows count from the oldest, 0; the first of equal values
    wins; NaNs skipped).

    Parameters
    ----------
    lows, highs : array_like, shape (..., W, N)

    Returns
    -------
    down, up : ndarray, shape (..., N)
        NaN for an all-NaN window (where zipline raises) and for ``W == 1``.
    """
    low_windows, high_windows = window_inputs(1, lows=lows, highs=highs)
    span = low_windows.shape[-2] - 1
    down = 100.0 * _nanargmax(-low_windows) / span
    up = 100.0 * _nanargmax(high_windows) / span
    return down, up


@float_warnings_silenced
def fast_stochastic_oscillator(
    closes: npt.ArrayLike, lows: npt.ArrayLike, highs: npt.ArrayLike
) -> FloatArray:
    """Fast stochastic %K of each window (zipline ``FastStochasticOscillator``).

    ``100 * (last close - lowest low) / (highest high - lowest low)``, the
    extremes skipping NaNs.

    Parameters
    ----------
    closes, lows, highs : array_like, shape (..., W, N)

    Returns
    -------
    ndarray, shape (..., N)
    """
    close_windows, low_windows, high_windows = window_inputs(
        1, closes=closes, lows=lows, highs=highs
    )
    lowest = np.fmin.reduce(low_windows, axis=-2)
    highest = np.fmax.reduce(high_windows, axis=-2)
    ratio = (close_windows[..., -1, :] - lowest) / (highest - lowest)
    return np.asarray(ratio * 100.0, dtype=np.float64)


def _midpoint(highs: FloatArray, lows: FloatArray, length: int) -> FloatArray:
    """Midpoint of the highest high and lowest low of the last ``length`` rows (NaN spreads)."""
    return np.asarray(
        (highs[..., -length:, :].max(axis=-2) + lows[..., -length:, :].min(axis=-2)) / 2,
        dtype=np.float64,
    )


def _check_length(name: str, length: int, low: int, high: int) -> int:
    value = operator.index(length)
    if not low <= value <= high:
        raise PipelineError(f"{name} must be between {low} and {high}; got {length!r}")
    return value


@float_warnings_silenced
def ichimoku_kinko_hyo(
    highs: npt.ArrayLike,
    lows: npt.ArrayLike,
    closes: npt.ArrayLike,
    tenkan_sen_length: int,
    kijun_sen_length: int,
    chikou_span_length: int,
) -> dict[str, FloatArray]:
    """The five Ichimoku Kinko Hyo lines of each window (zipline ``IchimokuKinkoHyo``).

    A NaN among the rows a line uses makes that line NaN (zipline takes plain
    maxima and minima).

    Parameters
    ----------
    highs, lows, closes : array_like, shape (..., W, N)
    tenkan_sen_length, kijun_sen_length : int
        Trailing rows of the tenkan-sen and kijun-sen midpoints, 1 to ``W``.
    chikou_span_length : int
        The chikou span is the close at this row counted from the window's
        oldest (0), as zipline indexes it; 0 to ``W - 1``.

    Returns
    -------
    dict of ndarray, shape (..., N)
        Keys ``tenkan_sen``, ``kijun_sen``, ``senkou_span_a`` (their mean),
        ``senkou_span_b`` (the whole window's midpoint), ``chikou_span``.
    """
    high_windows, low_windows, close_windows = window_inputs(
        1, highs=highs, lows=lows, closes=closes
    )
    rows = high_windows.shape[-2]
    tenkan_rows = _check_length("tenkan_sen_length", tenkan_sen_length, 1, rows)
    kijun_rows = _check_length("kijun_sen_length", kijun_sen_length, 1, rows)
    chikou_row = _check_length("chikou_span_length", chikou_span_length, 0, rows - 1)
    tenkan_sen = _midpoint(high_windows, low_windows, tenkan_rows)
    kijun_sen = _midpoint(high_windows, low_windows, kijun_rows)
    return {
        "tenkan_sen": tenkan_sen,
        "kijun_sen": kijun_sen,
        "senkou_span_a": (tenkan_sen + kijun_sen) / 2,
        "senkou_span_b": _midpoint(high_windows, low_windows, rows),
        "chikou_span": close_windows[..., chikou_row, :].copy(),
    }


@float_warnings_silenced
def true_range(highs: npt.ArrayLike, lows: npt.ArrayLike, closes: npt.ArrayLike) -> FloatArray:
    """True range of each window's last session (zipline ``TrueRange``).

    The largest of ``high - low``, ``|high - previous close|`` and
    ``|low - previous close|`` of the last row, skipping NaN terms. zipline's
    factor only works on two-row windows; longer windows use their last two rows.

    Parameters
    ----------
    highs, lows, closes : array_like, shape (..., W, N)
        ``W`` at least 2.

    Returns
    -------
    ndarray, shape (..., N)
        NaN where all three terms are NaN.
    """
    high_windows, low_windows, close_windows = window_inputs(
        2, highs=highs, lows=lows, closes=closes
    )
    high, low = high_windows[..., -1, :], low_windows[..., -1, :]
    previous_close = close_windows[..., -2, :]
    spreads = np.fmax(np.abs(high - previous_close), np.abs(low - previous_close))
    return np.asarray(np.fmax(high - low, spreads), dtype=np.float64)


@float_warnings_silenced
def rate_of_change_percentage(closes: npt.ArrayLike) -> FloatArray:
    """``100 * (last - first) / first`` of each window (zipline ``RateOfChangePercentage``).

    Parameters
    ----------
    closes : array_like, shape (..., W, N)

    Returns
    -------
    ndarray, shape (..., N)
    """
    (windows,) = window_inputs(1, closes=closes)
    first, last = windows[..., 0, :], windows[..., -1, :]
    return np.asarray((last - first) / first * 100.0, dtype=np.float64)
