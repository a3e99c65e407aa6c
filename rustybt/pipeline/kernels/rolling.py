"""Window kernels of zipline's basic factors: moving averages, returns, drawdown.

Every kernel takes windows along axis -2 (rows are sessions, oldest first)
and assets along axis -1; leading axes are a batch of days, so a (W, N)
input gives an (N,) result and a (D, W, N) input a (D, N) result. Results
are new float64 arrays; inputs are never written to. NaN handling follows
zipline-reloaded's factors: its nan-aware reductions (``nanmean``,
``nanstd``, ``nansum``) skip NaNs, its plain ones (the exponential weights)
let a NaN in a window make that window's result NaN.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt

from rustybt.exceptions import PipelineError

FloatArray = npt.NDArray[np.float64]
_Params = ParamSpec("_Params")
_Result = TypeVar("_Result")


def float_warnings_silenced(kernel: Callable[_Params, _Result]) -> Callable[_Params, _Result]:
    """Run ``kernel`` with NumPy's division, overflow and invalid-operation warnings off.

    Where zipline divides by zero or averages an empty slice it warns and
    returns inf or NaN; the kernels return the same values without the warning.
    """

    @functools.wraps(kernel)
    def silenced(*args: _Params.args, **kwargs: _Params.kwargs) -> _Result:
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            return kernel(*args, **kwargs)

    return silenced


def window_inputs(min_length: int, **windows: npt.ArrayLike) -> list[FloatArray]:
    """Check window inputs and return them as float64 arrays, in the given order.

    Parameters
    ----------
    min_length : int
        The fewest sessions (rows along axis -2) a window may hold.
    **windows : array_like
        The kernel's window inputs, by argument name (the name an error cites).

    Returns
    -------
    list of ndarray
        The inputs as float64 arrays (the input itself when it already is one:
        do not write to them).

    Raises
    ------
    ValueError
        If an input has fewer than two axes, fewer than ``min_length`` rows,
        or a shape unlike the first input's.
    """
    arrays: list[FloatArray] = []
    first_name, first_shape = "", ()
    for name, window in windows.items():
        array = np.asarray(window, dtype=np.float64)
        if array.ndim < 2:
            raise PipelineError(
                f"{name} must hold windows along axis -2 and assets along axis -1; "
                f"got shape {array.shape}"
            )
        if array.shape[-2] < min_length:
            raise PipelineError(
                f"{name} needs windows of at least {min_length} sessions along axis -2; "
                f"got shape {array.shape}"
            )
        if arrays and array.shape != first_shape:
            raise PipelineError(
                f"{name} has shape {array.shape}, unlike {first_name}'s {first_shape}"
            )
        if not arrays:
            first_name, first_shape = name, array.shape
        arrays.append(array)
    return arrays


def _nansum(values: FloatArray) -> FloatArray:
    """Sum each window, skipping NaNs (an all-NaN window sums to 0, as ``nansum``)."""
    return np.where(np.isnan(values), 0.0, values).sum(axis=-2)


def _nanmean(values: FloatArray) -> FloatArray:
    """Mean of each window's non-NaN values (NaN when there are none), as ``nanmean``."""
    count = np.count_nonzero(~np.isnan(values), axis=-2)
    return np.asarray(_nansum(values) / count, dtype=np.float64)


@float_warnings_silenced
def simple_moving_average(values: npt.ArrayLike) -> FloatArray:
    """Mean of each window, skipping NaNs (zipline ``SimpleMovingAverage``).

    Parameters
    ----------
    values : array_like, shape (..., W, N)
        ``W`` may be 0 (the RSI of one session averages no changes).

    Returns
    -------
    ndarray, shape (..., N)
        NaN where a window holds no value.
    """
    (windows,) = window_inputs(0, values=values)
    return _nanmean(windows)


@float_warnings_silenced
def moving_standard_deviation(values: npt.ArrayLike) -> FloatArray:
    """Population standard deviation (ddof 0) of each window, skipping NaNs.

    This is zipline's ``nanstd`` over a window, behind ``AnnualizedVolatility``
    and ``BollingerBands``.

    Parameters
    ----------
    values : array_like, shape (..., W, N)

    Returns
    -------
    ndarray, shape (..., N)
        NaN where a window holds no value; 0 where it holds one.
    """
    (windows,) = window_inputs(1, values=values)
    present = ~np.isnan(windows)
    mean = np.expand_dims(_nanmean(windows), -2)
    deviations = np.where(present, windows - mean, 0.0)
    count = np.count_nonzero(present, axis=-2)
    return np.asarray(np.sqrt((deviations * deviations).sum(axis=-2) / count))


def _check_decay_rate(decay_rate: float) -> float:
    rate = float(decay_rate)
    if not 0.0 < rate <= 1.0:
        raise PipelineError(f"decay_rate must be in (0, 1]; got {decay_rate!r}")
    return rate


def exponential_weights(length: int, decay_rate: float) -> FloatArray:
    """Weights of an exponentially weighted window, oldest row first.

    As zipline builds them: ``[decay_rate ** (length + 1), ..., decay_rate ** 2]``
    (the newest row's weight is ``decay_rate ** 2``; only ratios matter).

    Parameters
    ----------
    length : int
        Number of rows in the window, at least 1.
    decay_rate : float
        Factor discounting each older row, in (0, 1].

    Returns
    -------
    ndarray, shape (length,)
    """
    rows = operator.index(length)
    if rows < 1:
        raise PipelineError(f"length must be at least 1; got {length!r}")
    rate = _check_decay_rate(decay_rate)
    return np.asarray(np.full(rows, rate) ** np.arange(rows + 1, 1, -1), dtype=np.float64)


def decay_rate_from_span(span: float) -> float:
    """Decay rate of a span, as pandas' ``ewm(span=...)``: ``1 - 2 / (1 + span)``.

    Parameters
    ----------
    span : float
        Greater than 1.

    Returns
    -------
    float
    """
    if not span > 1:
        raise PipelineError(f"span must be greater than 1; got {span!r}")
    return 1.0 - 2.0 / (1.0 + span)


def decay_rate_from_halflife(halflife: float) -> float:
    """Decay rate of a half life, as pandas' ``ewm(halflife=...)``: ``0.5 ** (1 / halflife)``.

    Parameters
    ----------
    halflife : float
        Greater than 0.

    Returns
    -------
    float
    """
    if not halflife > 0:
        raise PipelineError(f"halflife must be greater than 0; got {halflife!r}")
    return math.exp(math.log(0.5) / halflife)


def decay_rate_from_center_of_mass(center_of_mass: float) -> float:
    """Decay rate of a center of mass, as pandas' ``ewm(com=...)``: ``1 - 1 / (1 + com)``.

    Parameters
    ----------
    center_of_mass : float
        Greater than 0 (0 would weigh every row 0).

    Returns
    -------
    float
    """
    if not center_of_mass > 0:
        raise PipelineError(f"center_of_mass must be greater than 0; got {center_of_mass!r}")
    return 1.0 - 1.0 / (1.0 + center_of_mass)


def _weighted_mean(windows: FloatArray, weights: FloatArray) -> FloatArray:
    """Weighted mean of each window (a NaN in a window makes it NaN), as ``np.average``."""
    weighted = windows * weights[:, np.newaxis]
    return np.asarray(weighted.sum(axis=-2) / weights.sum(), dtype=np.float64)


@float_warnings_silenced
def exponential_weighted_moving_average(values: npt.ArrayLike, decay_rate: float) -> FloatArray:
    """Exponentially weighted mean of each window (zipline ``EWMA``).

    Parameters
    ----------
    values : array_like, shape (..., W, N)
    decay_rate : float
        Factor discounting each older row, in (0, 1].

    Returns
    -------
    ndarray, shape (..., N)
        NaN where a window holds a NaN.
    """
    (windows,) = window_inputs(1, values=values)
    return _weighted_mean(windows, exponential_weights(windows.shape[-2], decay_rate))


@float_warnings_silenced
def exponential_weighted_moving_std(values: npt.ArrayLike, decay_rate: float) -> FloatArray:
    """Exponentially weighted standard deviation of each window (zipline ``EWMSTD``).

    The weighted variance carries pandas' bias correction for unequal
    weights, ``S**2 / (S**2 - sum(w**2))`` with ``S = sum(w)``.

    Parameters
    ----------
    values : array_like, shape (..., W, N)
    decay_rate : float
        Factor discounting each older row, in (0, 1].

    Returns
    -------
    ndarray, shape (..., N)
        NaN where a window holds a NaN, and everywhere for one-row windows.
    """
    (windows,) = window_inputs(1, values=values)
    weights = exponential_weights(windows.shape[-2], decay_rate)
    mean = np.expand_dims(_weighted_mean(windows, weights), -2)
    deviations = windows - mean
    variance = _weighted_mean(deviations * deviations, weights)
    squared_weight_sum = weights.sum() ** 2
    bias_correction = squared_weight_sum / (squared_weight_sum - (weights**2).sum())
    return np.asarray(np.sqrt(variance * bias_correction), dtype=np.float64)


@float_warnings_silenced
def linear_weighted_moving_average(values: npt.ArrayLike) -> FloatArray:
    """Linearly weighted mean of each window (zipline ``LinearWeightedMovingAverage``).

    Row ``i`` (oldest 1, newest ``W``) weighs ``i``; NaN rows add nothing but
    the divisor stays ``W * (W + 1) / 2``, as zipline's.

    Parameters
    ----------
    values : array_like, shape (..., W, N)

    Returns
    -------
    ndarray, shape (..., N)
    """
    (windows,) = window_inputs(1, values=values)
    length = windows.shape[-2]
    weights = np.arange(1, length + 1, dtype=np.float64)[:, np.newaxis]
    return _nansum(windows * weights) / (length * (length + 1) / 2)


@float_warnings_silenced
def returns(values: npt.ArrayLike) -> FloatArray:
    """Change from each window's first to its last row, over the first (zipline ``Returns``).

    ``DailyReturns`` is this over two-row windows.

    Parameters
    ----------
    values : array_like, shape (..., W, N)
        ``W`` at least 2.

    Returns
    -------
    ndarray, shape (..., N)
    """
    (windows,) = window_inputs(2, values=values)
    first, last = windows[..., 0, :], windows[..., -1, :]
    return np.asarray((last - first) / first, dtype=np.float64)


@float_warnings_silenced
def percent_change(values: npt.ArrayLike) -> FloatArray:
    """``(last - first) / abs(first)`` of each window (zipline ``PercentChange``).

    Parameters
    ----------
    values : array_like, shape (..., W, N)
        ``W`` at least 2.

    Returns
    -------
    ndarray, shape (..., N)
    """
    (windows,) = window_inputs(2, values=values)
    first, last = windows[..., 0, :], windows[..., -1, :]
    return np.asarray((last - first) / np.abs(first), dtype=np.float64)


@float_warnings_silenced
def annualized_volatility(
    returns: npt.ArrayLike, annualization_factor: float = 252.0
) -> FloatArray:
    """Standard deviation of returns (ddof 0, NaNs skipped) times ``sqrt(annualization_factor)``.

    zipline ``AnnualizedVolatility``.

    Parameters
    ----------
    returns : array_like, shape (..., W, N)
        Periodic returns.
    annualization_factor : float, default 252.0
        Periods per year, at least 0.

    Returns
    -------
    ndarray, shape (..., N)
    """
    if not annualization_factor >= 0:
        raise PipelineError(
            f"annualization_factor must be at least 0; got {annualization_factor!r}"
        )
    return moving_standard_deviation(returns) * float(annualization_factor) ** 0.5


@float_warnings_silenced
def average_dollar_volume(close: npt.ArrayLike, volume: npt.ArrayLike) -> FloatArray:
    """Sum of ``close * volume`` over each window (NaNs skipped) divided by ``W``.

    zipline ``AverageDollarVolume``: a session missing either value counts as
    zero dollars, not as absent.

    Parameters
    ----------
    close, volume : array_like, shape (..., W, N)

    Returns
    -------
    ndarray, shape (..., N)
    """
    closes, volumes = window_inputs(1, close=close, volume=volume)
    return _nansum(closes * volumes) / closes.shape[-2]


@float_warnings_silenced
def weighted_average_value(values: npt.ArrayLike, weights: npt.ArrayLike) -> FloatArray:
    """``nansum(values * weights) / nansum(weights)`` over each window.

    zipline ``WeightedAverageValue``; ``VWAP`` is this of close and volume.
    As zipline's, the divisor keeps the weights of rows whose value is NaN.

    Parameters
    ----------
    values, weights : array_like, shape (..., W, N)

    Returns
    -------
    ndarray, shape (..., N)
    """
    bases, weighings = window_inputs(1, values=values, weights=weights)
    return np.asarray(_nansum(bases * weighings) / _nansum(weighings), dtype=np.float64)


@float_warnings_silenced
def max_drawdown(values: npt.ArrayLike) -> FloatArray:
    """Largest fall from a running peak in each window (zipline ``MaxDrawdown``).

    The trough is the first row with the largest ``running peak - value``
    (NaNs skipped); the result is ``(peak - trough) / trough``: zipline divides
    by the trough, not the peak.

    Parameters
    ----------
    values : array_like, shape (..., W, N)

    Returns
    -------
    ndarray, shape (..., N)
        0 for a window that never falls; NaN for an all-NaN window.
    """
    (windows,) = window_inputs(1, values=values)
    peaks = np.fmax.accumulate(windows, axis=-2)
    drawdowns = peaks - windows
    drawdowns[np.isnan(drawdowns)] = -np.inf
    trough_row = np.expand_dims(np.argmax(drawdowns, axis=-2), -2)
    peak = np.take_along_axis(peaks, trough_row, axis=-2)[..., 0, :]
    trough = np.take_along_axis(windows, trough_row, axis=-2)[..., 0, :]
    return np.asarray((peak - trough) / trough, dtype=np.float64)
