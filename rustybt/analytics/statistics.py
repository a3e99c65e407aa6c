"""Return and risk statistics of daily returns.

Each statistic follows empyrical's definition where empyrical has it: daily
returns, 252 sessions a year, a risk-free rate of 0, the sample standard
deviation, NaN returns skipped (a NaN return counts as a flat day in the
wealth curve). Skew and kurtosis are SciPy's (biased moments; the kurtosis is
the excess over a normal distribution's). Everything here is NumPy, so a
worker process of an optimization imports neither SciPy nor empyrical.

The functions take a pandas Series of daily returns indexed by session, or
any array of returns; those marked "along the last axis" also take a
``(samples, sessions)`` array and give one value a row. The drawdown periods
are in :mod:`rustybt.analytics.drawdowns`, the statistics against a benchmark
in :mod:`rustybt.analytics.relative` and the figures of a whole run in
:mod:`rustybt.analytics.summary`.

Examples
--------
>>> import pandas as pd
>>> returns = pd.Series([0.01, -0.02, 0.015, 0.003, -0.004])
>>> round(total_return(returns), 6)
0.00363
>>> round(max_drawdown(returns), 4)
-0.02
>>> round(value_at_risk(returns, level=0.05), 4)
-0.0168
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from numbers import Real
from statistics import NormalDist
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from rustybt.exceptions import ParameterValidationError

#: Daily returns: a pandas Series indexed by session, or any array of floats.
Returns: TypeAlias = "pd.Series | npt.ArrayLike"
#: How a value at risk is estimated (see :func:`value_at_risk`).
VaRMethod: TypeAlias = Literal["historical", "parametric", "cornish_fisher"]

TRADING_DAYS_PER_YEAR = 252
VAR_METHODS: tuple[VaRMethod, ...] = ("historical", "parametric", "cornish_fisher")
#: The rolling window of the rolling statistics: half a year of sessions.
ROLLING_WINDOW = 126


def values_of(returns: Returns) -> npt.NDArray[np.float64]:
    """The returns as a float64 array (pandas' missing values as NaN).

    >>> values_of(pd.Series([0.01, None], dtype="Float64"))
    array([0.01,  nan])
    """
    if isinstance(returns, pd.Series):
        return returns.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(returns, dtype=np.float64)


def _scalar_or_array(result: Any) -> Any:
    """A float for one series, the array for a (samples, sessions) array."""
    result = np.asarray(result, dtype=np.float64)
    return float(result) if result.ndim == 0 else result


def _undefined(values: npt.NDArray[np.float64]) -> Any:
    """NaN for each series of ``values`` (a float for one series)."""
    return _scalar_or_array(np.full(values.shape[:-1], np.nan))


def _without_nan(returns: Returns) -> npt.NDArray[np.float64]:
    values = values_of(returns)
    return values[~np.isnan(values)]


def sharpe_ratio(returns: Returns) -> Any:
    """Annualized Sharpe ratio (risk-free 0); NaN under 2 returns, +-inf for constant ones.

    Along the last axis: a float for one series, an array for one series a row.

    >>> round(sharpe_ratio(np.array([0.01, -0.005, 0.02])), 4)
    10.5131
    """
    values = values_of(returns)
    if values.shape[-1] < 2:
        return _undefined(values)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a window of NaN only is NaN
        std = np.nanstd(values, ddof=1, axis=-1)
        # Exactly 0 for constant returns, not the ~1e-18 residue of a float mean (but
        # NaN, undefined, for under 2 present returns).
        constant = np.nanmax(values, axis=-1) == np.nanmin(values, axis=-1)
        std = np.where(constant & np.isfinite(std), 0.0, std)
        mean = np.nanmean(values, axis=-1)
        return _scalar_or_array(mean / std * np.sqrt(TRADING_DAYS_PER_YEAR))


def sortino_ratio(returns: Returns) -> float:
    """Annualized mean over annualized downside deviation (target 0).

    >>> round(sortino_ratio(np.array([0.01, -0.005, 0.02])), 4)
    45.8258
    """
    values = values_of(returns)
    if len(values) < 2:
        return math.nan
    mean = np.nanmean(values) * TRADING_DAYS_PER_YEAR
    downside = np.sqrt(np.nanmean(np.square(np.clip(values, -np.inf, 0))))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(mean / (downside * np.sqrt(TRADING_DAYS_PER_YEAR)))


def total_return(returns: Returns) -> Any:
    """The compounded return; NaN without returns (along the last axis, as
    :func:`sharpe_ratio`).

    >>> round(total_return(np.array([0.1, -0.5, 0.2])), 4)
    -0.34
    """
    values = values_of(returns)
    if values.shape[-1] < 1:
        return _undefined(values)
    return _scalar_or_array(np.nanprod(values + 1, axis=-1) - 1)


def annual_return(returns: Returns) -> Any:
    """Compound annual growth rate over ``len(returns) / 252`` years (along the last axis).

    >>> round(annual_return(np.full(252, 0.001)), 6)
    0.286434
    """
    values = values_of(returns)
    if values.shape[-1] < 1:
        return _undefined(values)
    years = values.shape[-1] / TRADING_DAYS_PER_YEAR
    with np.errstate(invalid="ignore"):
        return _scalar_or_array(np.nanprod(values + 1, axis=-1) ** (1 / years) - 1)


def annual_volatility(returns: Returns) -> Any:
    """Sample standard deviation of the returns times sqrt(252) (along the last axis).

    >>> round(annual_volatility(np.array([0.01, -0.01])), 6)
    0.224499
    """
    values = values_of(returns)
    if values.shape[-1] < 2:
        return _undefined(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # under 2 numbers is NaN
        std = np.nanstd(values, ddof=1, axis=-1)
    return _scalar_or_array(std * TRADING_DAYS_PER_YEAR ** (1 / 2.0))


def _underwater(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each session's fall from the running peak (<= 0) along the last axis; the
    start counts as a peak and a NaN return as a flat day."""
    # On empyrical's base of 100, so its rounding is empyrical's too.
    wealth = np.cumprod(np.nan_to_num(values, nan=0.0) + 1, axis=-1) * 100.0
    peaks = np.fmax(np.fmax.accumulate(wealth, axis=-1), 100.0)
    return np.minimum((wealth - peaks) / peaks, 0.0)


def drawdown_series(returns: Returns) -> pd.Series:
    """The underwater curve: each session's fall from the running peak of wealth,
    as a fraction (<= 0; 0 at a new high). The start counts as a peak.

    Indexed as ``returns`` (a Series) or by position (an array).

    >>> drawdown_series(pd.Series([0.1, -0.5, 1.0, 0.2])).round(4).tolist()
    [0.0, -0.5, 0.0, 0.0]
    """
    values = values_of(returns)
    index = returns.index if isinstance(returns, pd.Series) else None
    if values.ndim != 1:
        raise ParameterValidationError(
            f"returns: expected one series of daily returns, got shape {values.shape}"
        )
    return pd.Series(_underwater(values), index=index, name="drawdown", dtype=np.float64)


def max_drawdown(returns: Returns) -> Any:
    """Largest fall from a running peak, as a negative fraction (0 when none); the start
    counts as a peak (along the last axis).

    >>> max_drawdown(np.array([0.1, -0.5, 0.2]))
    -0.5
    """
    values = values_of(returns)
    if values.shape[-1] < 1:
        return _undefined(values)
    return _scalar_or_array(np.nanmin(_underwater(values), axis=-1))


def calmar_ratio(returns: Returns) -> float:
    """Annual return over the size of the max drawdown; NaN without a drawdown.

    >>> round(calmar_ratio(np.tile([0.002, -0.001], 126)), 4)  # a year: 13.4% over a 0.1% fall
    133.9253
    """
    values = values_of(returns)
    drawdown = max_drawdown(values)
    if not drawdown < 0:
        return math.nan
    ratio: float = annual_return(values) / abs(drawdown)
    return math.nan if math.isinf(ratio) else ratio


def omega_ratio(returns: Returns) -> float:
    """Sum of gains over sum of losses (threshold 0); NaN without a loss.

    >>> omega_ratio(np.array([0.02, -0.01, 0.03]))
    5.0
    """
    values = values_of(returns)
    if len(values) < 2:
        return math.nan
    losses = -np.sum(values[values < 0.0])
    return float(np.sum(values[values > 0.0]) / losses) if losses > 0.0 else math.nan


def stability_of_timeseries(returns: Returns) -> float:
    """R-squared of a straight line fitted to the cumulative log returns.

    >>> stability_of_timeseries(np.full(10, 0.01))
    1.0
    """
    values = values_of(returns)
    if len(values) < 2:
        return math.nan
    log_wealth = np.log1p(values[~np.isnan(values)]).cumsum()
    days = np.arange(len(log_wealth))
    # The least-squares correlation, as SciPy's linregress computes it.
    var_x, cov_xy, _, var_y = np.cov(days, log_wealth, bias=True).flat
    if var_x == 0.0 or var_y == 0.0:
        r = math.nan if cov_xy == 0 else 0.0
    else:
        r = float(np.clip(cov_xy / np.sqrt(var_x * var_y), -1.0, 1.0))
    return r**2


def tail_ratio(returns: Returns) -> float:
    """Size of the 95th percentile return over the size of the 5th.

    >>> round(tail_ratio(np.array([-0.02, 0.0, 0.04])), 12)
    2.0
    """
    values = _without_nan(returns)
    if len(values) < 1:
        return math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.abs(np.percentile(values, 95)) / np.abs(np.percentile(values, 5)))


def _moments(values: npt.NDArray[np.float64]) -> tuple[np.float64, ...] | None:
    """The 2nd, 3rd and 4th central moments (biased, as NumPy floats: a ratio of
    underflowing powers is NaN or inf, not an error); None when the returns do not
    vary (SciPy's test: the variance within rounding of the mean)."""
    if len(values) < 1:
        return None
    mean = values.mean()
    deviations = values - mean
    m2 = np.mean(deviations**2)
    if m2 <= (np.finfo(np.float64).eps * mean) ** 2:
        return None
    return m2, np.mean(deviations**3), np.mean(deviations**4)


def skew(returns: Returns) -> float:
    """Skewness of the returns (the biased estimate, as SciPy's default); NaN returns
    skipped; NaN when the returns do not vary.

    >>> round(skew(np.array([0.01, 0.02, 0.09])), 6)
    0.665469
    """
    moments = _moments(_without_nan(returns))
    if moments is None:
        return math.nan
    m2, m3, _ = moments
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        return float(m3 / m2**1.5)


def kurtosis(returns: Returns) -> float:
    """Excess kurtosis of the returns (Fisher's, biased, as SciPy's default: 0 for a
    normal distribution); NaN returns skipped; NaN when the returns do not vary.

    >>> round(kurtosis(np.array([0.01, -0.01, 0.01, -0.01])), 6)
    -2.0
    """
    moments = _moments(_without_nan(returns))
    if moments is None:
        return math.nan
    m2, _, m4 = moments
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        return float(m4 / m2**2 - 3.0)


def _checked_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, Real) or not 0.0 < level < 1.0:
        raise ParameterValidationError(
            f"level: expected a tail probability between 0 and 1 (e.g. 0.05), got {level!r}"
        )
    return float(level)


def _checked_method(method: str) -> VaRMethod:
    for known in VAR_METHODS:
        if method == known:
            return known
    raise ParameterValidationError(
        f"method: expected one of {', '.join(VAR_METHODS)}, got {method!r}"
    )


def _cornish_fisher_quantile(z: float, skewness: float, excess_kurtosis: float) -> float:
    """The standard normal quantile ``z`` corrected for skew and excess kurtosis."""
    return (
        z
        + (z**2 - 1) * skewness / 6
        + (z**3 - 3 * z) * excess_kurtosis / 24
        - (2 * z**3 - 5 * z) * skewness**2 / 36
    )


def value_at_risk(returns: Returns, level: float = 0.05, method: VaRMethod = "historical") -> float:
    """The daily return the worst ``level`` of sessions fall to or below (a loss is
    negative, as empyrical's): the ``level`` quantile of the returns.

    Parameters
    ----------
    returns
        Daily returns; NaN returns are skipped.
    level
        The tail probability, between 0 and 1 (0.05: the worst 5% of sessions).
    method
        ``"historical"``: the empirical quantile (linear interpolation, as
        empyrical's ``value_at_risk``). ``"parametric"``: a normal distribution's,
        ``mean + std * z`` with the sample standard deviation and ``z`` the
        standard normal quantile of ``level``. ``"cornish_fisher"``: the same
        with ``z`` corrected for the returns' skew and excess kurtosis
        (:func:`skew`, :func:`kurtosis`) by the Cornish-Fisher expansion.

    Returns
    -------
    float
        NaN without returns (under 2 for the parametric methods, or returns that
        do not vary for Cornish-Fisher).

    Examples
    --------
    >>> returns = np.array([-0.03, -0.01, 0.0, 0.01, 0.02])
    >>> round(value_at_risk(returns, 0.25), 4)
    -0.01
    >>> round(value_at_risk(returns, 0.05, "parametric"), 4)
    -0.0336
    """
    level, method = _checked_level(level), _checked_method(method)
    values = _without_nan(returns)
    if method == "historical":
        return float(np.percentile(values, 100 * level)) if len(values) else math.nan
    if len(values) < 2:
        return math.nan
    z = NormalDist().inv_cdf(level)
    if method == "cornish_fisher":
        z = _cornish_fisher_quantile(z, skew(values), kurtosis(values))
    return float(values.mean() + values.std(ddof=1) * z)


def _normal_tail_moments(z: float, level: float) -> list[float]:
    """``E[Z**k ; Z <= z]`` for k = 0..3, Z standard normal and ``level = P(Z <= z)``.

    Integration by parts gives ``I_k = -z**(k-1) * pdf(z) + (k - 1) * I_(k-2)``.
    """
    density = NormalDist().pdf(z)
    moments = [level, -density]
    for k in (2, 3):
        moments.append(-(z ** (k - 1)) * density + (k - 1) * moments[k - 2])
    return moments


def conditional_value_at_risk(
    returns: Returns, level: float = 0.05, method: VaRMethod = "historical"
) -> float:
    """The mean daily return of the worst ``level`` of sessions (expected shortfall;
    a loss is negative, as empyrical's).

    Parameters
    ----------
    returns
        Daily returns; NaN returns are skipped.
    level
        The tail probability, between 0 and 1.
    method
        ``"historical"``: the mean of the lowest ``floor((n - 1) * level) + 1``
        returns (empyrical's ``conditional_value_at_risk``). ``"parametric"``:
        a normal distribution's, ``mean - std * pdf(z) / level``.
        ``"cornish_fisher"``: the mean of the Cornish-Fisher value at risk
        (:func:`value_at_risk`) over the tail probabilities from 0 to
        ``level``, computed exactly from the normal distribution's partial
        moments.

    Returns
    -------
    float
        NaN as :func:`value_at_risk`.

    Examples
    --------
    >>> returns = np.array([-0.03, -0.01, 0.0, 0.01, 0.02])
    >>> round(conditional_value_at_risk(returns, 0.25), 4)
    -0.02
    >>> round(conditional_value_at_risk(returns, 0.05, "parametric"), 4)
    -0.0417
    """
    level, method = _checked_level(level), _checked_method(method)
    values = _without_nan(returns)
    if method == "historical":
        if not len(values):
            return math.nan
        tail = int((len(values) - 1) * level) + 1
        return float(np.mean(np.partition(values, tail - 1)[:tail]))
    if len(values) < 2:
        return math.nan
    z = NormalDist().inv_cdf(level)
    i0, i1, i2, i3 = _normal_tail_moments(z, level)
    if method == "parametric":
        tail_z = i1 / i0
    else:
        s, k = skew(values), kurtosis(values)
        # The Cornish-Fisher quantile is a cubic in z: average each power over the tail.
        tail_z = (
            i1 + (i2 - i0) * s / 6 + (i3 - 3 * i1) * k / 24 - (2 * i3 - 5 * i1) * s**2 / 36
        ) / i0
    return float(values.mean() + values.std(ddof=1) * tail_z)


def _checked_window(window: int) -> int:
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 2:
        raise ParameterValidationError(
            f"window: expected a whole number of sessions of at least 2, got {window!r}"
        )
    return int(window)


def rolling_statistic(
    statistic: Callable[..., Any], window: int, *series: Returns, name: str
) -> pd.Series:
    """``statistic`` (a function along the last axis, of one array per series) over each
    trailing ``window`` of sessions: NaN for the first ``window - 1`` sessions (and all,
    for fewer sessions). Indexed as the first series (a Series) or by position.

    >>> rolling_statistic(total_return, 2, [0.01, 0.02, 0.04], name="growth").round(4).tolist()
    [nan, 0.0302, 0.0608]
    """
    window = _checked_window(window)
    columns = [values_of(one) for one in series]
    first = series[0]
    index = first.index if isinstance(first, pd.Series) else None
    rolled = np.full(len(columns[0]), np.nan)
    if len(columns[0]) >= window:
        windows = [sliding_window_view(column, window) for column in columns]
        rolled[window - 1 :] = statistic(*windows)
    return pd.Series(rolled, index=index, name=name, dtype=np.float64)


def rolling_sharpe(returns: Returns, window: int = ROLLING_WINDOW) -> pd.Series:
    """:func:`sharpe_ratio` over each trailing ``window`` of sessions (a Series indexed
    as ``returns``; NaN until a window has filled).

    >>> rolling_sharpe(pd.Series([0.01, -0.01, 0.02, 0.0]), window=3).round(4).tolist()
    [nan, nan, 6.9282, 3.4641]
    """
    return rolling_statistic(sharpe_ratio, window, returns, name="rolling_sharpe")


def rolling_volatility(returns: Returns, window: int = ROLLING_WINDOW) -> pd.Series:
    """:func:`annual_volatility` over each trailing ``window`` of sessions.

    >>> rolling_volatility(pd.Series([0.01, -0.01, 0.01]), window=2).round(4).tolist()
    [nan, 0.2245, 0.2245]
    """
    return rolling_statistic(annual_volatility, window, returns, name="rolling_volatility")


def return_statistics(returns: Returns) -> dict[str, float]:
    """Every statistic of a daily returns array (``total_return`` compounds them).

    >>> stats = return_statistics(np.array([0.01, 0.02]))
    >>> round(stats["total_return"], 6), stats["max_drawdown"]
    (0.0302, 0.0)
    """
    values = values_of(returns)
    return {
        "sharpe": sharpe_ratio(values),
        "sortino": sortino_ratio(values),
        "calmar": calmar_ratio(values),
        "omega": omega_ratio(values),
        "stability": stability_of_timeseries(values),
        "tail_ratio": tail_ratio(values),
        "total_return": total_return(values),
        "annual_return": annual_return(values),
        "annual_volatility": annual_volatility(values),
        "max_drawdown": max_drawdown(values),
    }
