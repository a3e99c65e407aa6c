"""Window kernels of the statistical factors: correlations, regressions, beta.

Each kernel compares the windows of many assets with one ``target`` window:
``values`` holds windows along axis -2 (oldest session first) and assets along
axis -1, any leading axes being a batch of days; ``target`` has the same shape
with a last axis of 1 (one asset's window, broadcast to every column) or of
N (asset-wise comparison, as zipline allows a two-dimensional target). Every
kernel returns new float64 arrays shaped like ``values`` without its window
axis, following zipline-reloaded's RollingPearson, RollingSpearman,
RollingLinearRegression and SimpleBeta value for value, NaNs included.
"""

from __future__ import annotations

import numbers

import numpy as np
import numpy.typing as npt

from rustybt.exceptions import PipelineError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

WINDOW_AXIS = -2
# zipline's correlations and regressions need two sessions at least.
MIN_WINDOW = 2
# scipy.stats.linregress keeps its t statistic finite at |r| == 1 with this.
LINREGRESS_TINY = 1.0e-20
# SimpleBeta refuses regressions over fewer than three daily returns.
SIMPLE_BETA_MIN_WINDOW = 3


def allowed_missing_count(window_length: int, allowed_missing_percentage: float) -> int:
    """Convert SimpleBeta's allowed missing fraction to a count of observations.

    Parameters
    ----------
    window_length
        Number of daily returns in each regression (at least 3).
    allowed_missing_percentage
        Fraction of those returns, between 0 and 1 inclusive, that may be NaN.

    Returns
    -------
    int
        ``int(allowed_missing_percentage * window_length)``, truncated as
        zipline's SimpleBeta truncates it.
    """
    if (
        isinstance(window_length, bool)
        or not isinstance(window_length, numbers.Integral)
        or window_length < SIMPLE_BETA_MIN_WINDOW
    ):
        raise PipelineError(
            f"window_length must be an integer of at least {SIMPLE_BETA_MIN_WINDOW}, "
            f"got {window_length!r}"
        )
    if (
        isinstance(allowed_missing_percentage, bool)
        or not isinstance(allowed_missing_percentage, numbers.Real)
        or not 0.0 <= allowed_missing_percentage <= 1.0
    ):
        raise PipelineError(
            "allowed_missing_percentage must be a number between 0 and 1, "
            f"got {allowed_missing_percentage!r}"
        )
    return int(allowed_missing_percentage * window_length)


def pearson_r(target: npt.ArrayLike, values: npt.ArrayLike, allowed_missing: int = 0) -> FloatArray:
    """Pearson correlation of each column's window with the target's window.

    Parameters
    ----------
    target
        Windows of shape ``(..., W, 1)`` (or ``(..., W, N)``, column by column).
    values
        Windows of shape ``(..., W, N)``.
    allowed_missing
        Sessions per column that may be NaN in either input; with more the
        result is NaN. With 0 any NaN gives NaN; above 0 the correlation uses
        the sessions where both inputs are present.

    Returns
    -------
    numpy.ndarray
        Correlations, shape ``(..., N)``; NaN for zero variance.
    """
    target_arr, values_arr = _window_pair(target, values)
    limit = _check_missing_limit(allowed_missing, "allowed_missing")
    if limit > 0:
        # Both sides keep only the sessions where both are present.
        either_missing = np.isnan(target_arr) | np.isnan(values_arr)
        target_own = np.where(either_missing, np.nan, target_arr)
        values_own = np.where(either_missing, np.nan, values_arr)
    else:
        target_own = target_arr.copy()
        values_own = values_arr.copy()
    return _pearson_in_place(target_own, values_own, limit)


def spearman_r(
    target: npt.ArrayLike, values: npt.ArrayLike, allowed_missing: int = 0
) -> FloatArray:
    """Spearman rank correlation of each column's window with the target's.

    Ranks are taken along the window axis, ties sharing their average rank,
    then correlated as by :func:`pearson_r` and clipped to [-1, 1] (as
    scipy.stats.spearmanr clips).

    Parameters
    ----------
    target
        Windows of shape ``(..., W, 1)`` (or ``(..., W, N)``, column by column).
    values
        Windows of shape ``(..., W, N)``.
    allowed_missing
        Sessions per column that may be NaN in either input. zipline's
        RollingSpearman is the case 0 (any NaN gives NaN); above 0 each column
        ranks only the sessions where both inputs are present.

    Returns
    -------
    numpy.ndarray
        Rank correlations, shape ``(..., N)``; NaN when either side is constant.
    """
    target_arr, values_arr = _window_pair(target, values)
    limit = _check_missing_limit(allowed_missing, "allowed_missing")
    if limit > 0:
        # Each column ranks only the sessions where both sides are present.
        either_missing = np.isnan(target_arr) | np.isnan(values_arr)
        target_ranks = _average_ranks(np.where(either_missing, np.nan, target_arr))
        values_ranks = _average_ranks(np.where(either_missing, np.nan, values_arr))
    else:
        # With no NaN allowed a column with one comes out NaN whatever its ranks.
        target_ranks = _average_ranks(target_arr)
        values_ranks = _average_ranks(values_arr)
    correlation = _pearson_in_place(target_ranks, values_ranks, limit)
    return np.clip(correlation, -1.0, 1.0)


def linear_regression(target: npt.ArrayLike, values: npt.ArrayLike) -> dict[str, FloatArray]:
    """Least-squares regression of each column's window on the target's window.

    Follows scipy.stats.linregress(x=target, y=column) as zipline's
    RollingLinearRegression calls it: any NaN in a column's pair of windows
    makes all five outputs NaN. Where linregress raises (a constant target
    window) the outputs are NaN, so one degenerate day does not stop a block.

    Parameters
    ----------
    target
        Windows of shape ``(..., W, 1)`` (or ``(..., W, N)``), the regressor.
    values
        Windows of shape ``(..., W, N)``, the regressands.

    Returns
    -------
    dict of str to numpy.ndarray
        ``alpha`` (intercept), ``beta`` (slope), ``r_value``, ``p_value``
        (two-sided, null hypothesis of zero slope) and ``stderr`` (of the
        slope), each of shape ``(..., N)``.
    """
    target_arr, values_arr = _window_pair(target, values)
    window_length = values_arr.shape[WINDOW_AXIS]
    with np.errstate(divide="ignore", invalid="ignore"):
        x_mean = _one_window_mean(target_arr)
        y_mean = _one_window_mean(values_arr)
        x_residual = target_arr - x_mean
        y_residual = values_arr - y_mean
        # np.cov(x, y, bias=1), the moments linregress starts from. All three
        # are summed over arrays of one shape, in one order, so a column equal
        # to the target gets Sxx == Sxy == Syy exactly (r = 1, as linregress).
        scratch = np.square(np.broadcast_to(x_residual, y_residual.shape))
        ss_x = np.mean(scratch, axis=WINDOW_AXIS)
        ss_y = np.mean(np.square(y_residual, out=scratch), axis=WINDOW_AXIS)
        ss_xy = np.mean(np.multiply(x_residual, y_residual, out=scratch), axis=WINDOW_AXIS)
        del scratch, y_residual
        r_value = _regression_r(ss_x, ss_y, ss_xy)
        beta = ss_xy / ss_x
        alpha = y_mean[..., 0, :] - beta * x_mean[..., 0, :]
        if window_length == 2:
            # Two points lie on their line: linregress reports no error then.
            p_value = np.where(values_arr[..., 0, :] == values_arr[..., 1, :], 1.0, 0.0)
            stderr = np.zeros_like(beta)
        else:
            p_value, stderr = _slope_significance(r_value, ss_x, ss_y, window_length - 2)
    undefined = _regression_undefined(target_arr, values_arr)
    outputs = {
        "alpha": alpha,
        "beta": beta,
        "r_value": r_value,
        "p_value": p_value,
        "stderr": stderr,
    }
    return {name: np.where(undefined, np.nan, output) for name, output in outputs.items()}


def simple_beta(
    target: npt.ArrayLike, values: npt.ArrayLike, allowed_missing_count: int
) -> FloatArray:
    """Beta of each column's returns against the target's returns.

    The slope Cov(target, column) / Var(target) over the sessions where both
    are present, as zipline's SimpleBeta computes it (the target's variance
    taken over the same sessions as the covariance, column by column).

    Parameters
    ----------
    target
        Return windows of shape ``(..., W, 1)`` (or ``(..., W, N)``).
    values
        Return windows of shape ``(..., W, N)``.
    allowed_missing_count
        Sessions per column that may be NaN in either input; with more the
        beta is NaN (see :func:`allowed_missing_count`).

    Returns
    -------
    numpy.ndarray
        Betas, shape ``(..., N)``; NaN where the target's variance is 0.
    """
    target_arr, values_arr = _window_pair(target, values)
    limit = _check_missing_limit(allowed_missing_count, "allowed_missing_count")
    # The target takes each column's gaps, so its moments cover that column's sessions.
    residual = np.where(np.isnan(values_arr), np.nan, target_arr)
    missing = np.isnan(residual).sum(axis=WINDOW_AXIS)
    with np.errstate(divide="ignore", invalid="ignore"):
        residual -= _nan_skipping_mean(residual, keepdims=True)
        # Centering one side suffices: the residual's mean over these sessions is 0.
        scratch = np.multiply(residual, values_arr)
        covariance = _nan_skipping_mean(scratch, keepdims=False)
        variance = _nan_skipping_mean(np.square(residual, out=scratch), keepdims=False)
        beta = covariance / variance
    return np.where(missing > limit, np.nan, beta)


def _window_pair(target: npt.ArrayLike, values: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Both inputs as float64 arrays, checked to share windows of 2 sessions or more."""
    values_arr = np.asarray(values, dtype=np.float64)
    target_arr = np.asarray(target, dtype=np.float64)
    if values_arr.ndim < 2:
        raise PipelineError(
            f"values must have shape (..., W, N) (windows, then assets), got {values_arr.shape}"
        )
    if values_arr.shape[WINDOW_AXIS] < MIN_WINDOW:
        raise PipelineError(
            f"values must hold windows of at least {MIN_WINDOW} sessions, "
            f"got {values_arr.shape[WINDOW_AXIS]}"
        )
    windows_match = target_arr.shape[:-1] == values_arr.shape[:-1]
    if not windows_match or target_arr.shape[-1] not in (1, values_arr.shape[-1]):
        raise PipelineError(
            f"target must have shape {(*values_arr.shape[:-1], 1)} to match values "
            f"of shape {values_arr.shape}, got {target_arr.shape}"
        )
    return target_arr, values_arr


def _check_missing_limit(limit: int, name: str) -> int:
    """The allowed count of missing sessions, checked to be an integer >= 0."""
    if isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 0:
        raise PipelineError(f"{name} must be an integer >= 0, got {limit!r}")
    return int(limit)


def _pearson_in_place(target: FloatArray, values: FloatArray, limit: int) -> FloatArray:
    """Pearson r per column, centering the caller's own ``target`` and ``values`` in place.

    With ``limit`` above 0 the caller has blanked both sides wherever either
    is NaN, and means skip NaNs (zipline's nanmean); with 0, plain means let
    any NaN through to the result, as zipline's np.mean does.
    """
    missing = (np.isnan(target) | np.isnan(values)).sum(axis=WINDOW_AXIS)
    skip_nan = limit > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        target -= _window_mean(target, skip_nan, keepdims=True)
        values -= _window_mean(values, skip_nan, keepdims=True)
        target_variance = _window_mean(np.square(target), skip_nan, keepdims=False)
        # One scratch array holds the values' squares, then the cross products.
        scratch = np.square(values)
        values_variance = _window_mean(scratch, skip_nan, keepdims=False)
        covariance = _window_mean(
            np.multiply(target, values, out=scratch), skip_nan, keepdims=False
        )
        correlation = covariance / np.sqrt(target_variance * values_variance)
    return np.where(missing > limit, np.nan, correlation)


def _window_mean(windows: FloatArray, skip_nan: bool, keepdims: bool) -> FloatArray:
    """Mean along the window axis, of the non-NaN entries only when ``skip_nan``."""
    if skip_nan:
        return _nan_skipping_mean(windows, keepdims)
    mean: FloatArray = windows.mean(axis=WINDOW_AXIS, keepdims=keepdims)
    return mean


def _nan_skipping_mean(windows: FloatArray, keepdims: bool) -> FloatArray:
    """Mean along the window axis of the non-NaN entries; NaN where there are none."""
    present = ~np.isnan(windows)
    total = np.sum(windows, axis=WINDOW_AXIS, where=present, keepdims=keepdims)
    count = present.sum(axis=WINDOW_AXIS, keepdims=keepdims)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean: FloatArray = total / count
    return mean


def _average_ranks(windows: FloatArray) -> FloatArray:
    """Ranks (from 1) along the window axis, ties averaged, NaN left NaN.

    NaNs sort last, so the present entries of each column take ranks 1..k.
    """
    length = windows.shape[WINDOW_AXIS]
    last_position = float(length - 1)
    position = np.arange(length, dtype=np.float64).reshape(length, 1)
    # Ties share one average rank, so the sort need not be stable.
    order = np.argsort(windows, axis=WINDOW_AXIS)
    ordered = np.sort(windows, axis=WINDOW_AXIS)
    # A run of equal values starts where the sorted value changes; NaN != NaN,
    # so every NaN is a run of its own (its rank is blanked below anyway).
    starts_run = np.ones(ordered.shape, dtype=bool)
    np.not_equal(ordered[..., 1:, :], ordered[..., :-1, :], out=starts_run[..., 1:, :])
    del ordered
    run_first = np.where(starts_run, position, 0.0)
    np.maximum.accumulate(run_first, axis=WINDOW_AXIS, out=run_first)
    # A run ends just before the next one starts; scan backwards for the nearest end.
    run_last = np.full(starts_run.shape, last_position)
    run_last[..., :-1, :] = np.where(starts_run[..., 1:, :], position[:-1], last_position)
    del starts_run
    backwards = np.flip(run_last, axis=WINDOW_AXIS)
    np.minimum.accumulate(backwards, axis=WINDOW_AXIS, out=backwards)
    run_first += run_last
    run_first *= 0.5
    run_first += 1.0
    # run_last is spent: its buffer receives the ranks, back in window order.
    ranks = run_last
    np.put_along_axis(ranks, order, run_first, axis=WINDOW_AXIS)
    ranks[np.isnan(windows)] = np.nan
    return ranks


def _one_window_mean(windows: FloatArray) -> FloatArray:
    """Mean along the window axis (kept), summed as np.mean sums one window alone.

    linregress averages each 1-D window with NumPy's pairwise summation; summing
    along a contiguous last axis does the same, so a constant window's mean is
    exactly what linregress finds (its zero variance then shows as zero).
    """
    windows_last = np.ascontiguousarray(np.moveaxis(windows, WINDOW_AXIS, -1))
    mean: FloatArray = np.expand_dims(windows_last.mean(axis=-1), WINDOW_AXIS)
    return mean


def _regression_r(ss_x: FloatArray, ss_y: FloatArray, ss_xy: FloatArray) -> FloatArray:
    """linregress's r: clipped to [-1, 1]; with a zero variance, NaN if Sxy is 0 else 0."""
    zero_variance = (ss_x == 0.0) | (ss_y == 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_value = np.clip(ss_xy / np.sqrt(ss_x * ss_y), -1.0, 1.0)
    degenerate_r = np.where(ss_xy == 0.0, np.nan, 0.0)
    return np.where(zero_variance, degenerate_r, r_value)


def _slope_significance(
    r_value: FloatArray, ss_x: FloatArray, ss_y: FloatArray, dof: int
) -> tuple[FloatArray, FloatArray]:
    """Two-sided p-value of a zero slope and the slope's standard error, as linregress."""
    # NumPy has no Student t distribution; scipy is a dependency of empyrical.
    from scipy.special import stdtr

    with np.errstate(divide="ignore", invalid="ignore"):
        t_stat = r_value * np.sqrt(
            dof / ((1.0 - r_value + LINREGRESS_TINY) * (1.0 + r_value + LINREGRESS_TINY))
        )
        p_value: FloatArray = 2.0 * stdtr(dof, -np.abs(t_stat))
        stderr = np.sqrt((1.0 - np.square(r_value)) * ss_y / ss_x / dof)
    return p_value, stderr


def _regression_undefined(target: FloatArray, values: FloatArray) -> BoolArray:
    """Columns where linregress gives NaN (a NaN in either window) or raises (constant target)."""
    any_missing = (np.isnan(target) | np.isnan(values)).any(axis=WINDOW_AXIS)
    with np.errstate(invalid="ignore"):
        constant_target = target.max(axis=WINDOW_AXIS) == target.min(axis=WINDOW_AXIS)
    undefined: BoolArray = any_missing | constant_target
    return undefined
