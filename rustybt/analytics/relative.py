"""Statistics of daily returns against a benchmark's daily returns.

Alpha, beta and the capture ratios follow empyrical's definitions (risk-free
rate 0, 252 sessions a year). The information ratio and the tracking error
are annualized, so they read on the scale of a Sharpe ratio and a volatility:
the information ratio is empyrical's ``excess_sharpe`` times sqrt(252), the
tracking error the annual volatility of the active returns (returns minus
benchmark).

Two Series are aligned on their sessions (a session only one of them has is a
NaN in the other); an array is matched by position and must be as long as
the other input. A session with a NaN on either side is left out of every
statistic here but alpha and beta, which skip, as empyrical's, the sessions
whose return is NaN.

Examples
--------
>>> import pandas as pd
>>> benchmark = pd.Series([0.01, -0.02, 0.015, 0.005])
>>> returns = 2 * benchmark + 0.001
>>> alpha, beta = alpha_beta(returns, benchmark)
>>> round(beta, 6), round(correlation(returns, benchmark), 6)
(2.0, 1.0)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.analytics.statistics import (
    ROLLING_WINDOW,
    TRADING_DAYS_PER_YEAR,
    Returns,
    annual_return,
    annual_volatility,
    rolling_statistic,
    values_of,
)
from rustybt.exceptions import ParameterValidationError

Pair = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]


def aligned(returns: Returns, benchmark: Returns) -> tuple[pd.Series, pd.Series]:
    """``returns`` and ``benchmark`` as two float Series on one index.

    Two Series are joined on their index (the union, NaN where one lacks a
    session); otherwise both are taken by position and must be as long.

    >>> a, b = aligned(pd.Series([0.01, 0.02], index=[1, 2]), pd.Series([0.03], index=[2]))
    >>> b.tolist()
    [nan, 0.03]
    """
    if isinstance(returns, pd.Series) and isinstance(benchmark, pd.Series):
        if len(returns) and len(benchmark) and not returns.index.isin(benchmark.index).any():
            raise ParameterValidationError(
                f"benchmark: no session in common with the returns (returns from "
                f"{returns.index[0]}, benchmark from {benchmark.index[0]})"
            )
        sessions = returns.index.union(benchmark.index)
        return (
            pd.Series(values_of(returns.reindex(sessions)), index=sessions),
            pd.Series(values_of(benchmark.reindex(sessions)), index=sessions),
        )
    ours, theirs = values_of(returns), values_of(benchmark)
    if ours.ndim != 1 or theirs.ndim != 1 or len(ours) != len(theirs):
        raise ParameterValidationError(
            f"benchmark: expected one series as long as the returns ({ours.shape}), "
            f"got {theirs.shape}; pass two Series to align them on their sessions"
        )
    index: pd.Index | None = returns.index if isinstance(returns, pd.Series) else None
    if isinstance(benchmark, pd.Series) and index is None:
        index = benchmark.index
    return pd.Series(ours, index=index), pd.Series(theirs, index=index)


def _pair(returns: Returns, benchmark: Returns) -> Pair:
    ours, theirs = aligned(returns, benchmark)
    return ours.to_numpy(), theirs.to_numpy()


def _present(returns: Returns, benchmark: Returns) -> Pair:
    """The sessions where both returns are present."""
    ours, theirs = _pair(returns, benchmark)
    both = ~(np.isnan(ours) | np.isnan(theirs))
    return ours[both], theirs[both]


def _beta(ours: npt.NDArray[np.float64], theirs: npt.NDArray[np.float64]) -> Any:
    """Cov(returns, benchmark) / Var(benchmark) along the last axis, over the sessions
    whose return is present; NaN when the benchmark does not vary."""
    if ours.shape[-1] < 1 or theirs.shape[-1] < 2:
        return np.full(ours.shape[:-1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a window of NaN only is NaN
        independent = np.where(np.isnan(ours), np.nan, theirs)
        residual = independent - np.nanmean(independent, axis=-1, keepdims=True)
        covariance = np.nanmean(residual * ours, axis=-1)
        variance = np.nanmean(np.square(residual), axis=-1)
    variance = np.where(variance < 1.0e-30, np.nan, variance)
    return covariance / variance


def beta(returns: Returns, benchmark: Returns) -> float:
    """The slope of the returns on the benchmark's (empyrical's ``beta``).

    >>> round(beta([0.02, -0.04, 0.01], [0.01, -0.02, 0.005]), 12)
    2.0
    """
    return float(_beta(*_pair(returns, benchmark)))


def alpha_beta(returns: Returns, benchmark: Returns) -> tuple[float, float]:
    """Annualized alpha and beta against the benchmark (empyrical's ``alpha_beta``).

    Alpha is ``(1 + mean(returns - beta * benchmark)) ** 252 - 1``; both NaN
    under 2 sessions.

    >>> a, b = alpha_beta([0.021, -0.039, 0.011], [0.01, -0.02, 0.005])
    >>> round(a, 4), round(b, 4)
    (0.2864, 2.0)
    """
    ours, theirs = _pair(returns, benchmark)
    slope = float(_beta(ours, theirs))
    if len(ours) < 2:
        return math.nan, slope
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        daily = np.nanmean(ours - slope * theirs)
    return float((daily + 1) ** TRADING_DAYS_PER_YEAR - 1), slope


def _active(returns: Returns, benchmark: Returns) -> npt.NDArray[np.float64]:
    ours, theirs = _present(returns, benchmark)
    return ours - theirs


def tracking_error(returns: Returns, benchmark: Returns) -> float:
    """Annualized standard deviation of the active returns (returns minus benchmark).

    >>> round(tracking_error([0.02, 0.0], [0.01, 0.01]), 6)
    0.224499
    """
    active = _active(returns, benchmark)
    if len(active) < 2:
        return math.nan
    if active.max() == active.min():
        return 0.0  # exactly, not the ~1e-18 residue of a float mean
    return float(annual_volatility(active))


def information_ratio(returns: Returns, benchmark: Returns) -> float:
    """Annualized mean active return over the tracking error (empyrical's
    ``excess_sharpe`` times sqrt(252)); +-inf for constant active returns.

    >>> round(information_ratio([0.02, 0.0, 0.015], [0.01, 0.01, 0.01]), 4)
    2.542
    """
    active = _active(returns, benchmark)
    error = tracking_error(returns, benchmark)
    if math.isnan(error):
        return math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(active.mean() * TRADING_DAYS_PER_YEAR) / np.float64(error))


def _capture(ours: npt.NDArray[np.float64], theirs: npt.NDArray[np.float64]) -> float:
    if not len(ours):
        return math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(annual_return(ours)) / np.float64(annual_return(theirs)))


def up_capture(returns: Returns, benchmark: Returns) -> float:
    """Annual return over the benchmark's, on the sessions the benchmark rose
    (empyrical's ``up_capture``).

    >>> round(up_capture([0.02, -0.01, 0.01], [0.01, -0.02, 0.005]), 4)
    7.4488
    """
    ours, theirs = _present(returns, benchmark)
    up = theirs > 0
    return _capture(ours[up], theirs[up])


def down_capture(returns: Returns, benchmark: Returns) -> float:
    """Annual return over the benchmark's, on the sessions the benchmark fell
    (empyrical's ``down_capture``).

    >>> round(down_capture([0.02, -0.01, 0.01], [0.01, -0.02, 0.005]), 4)
    0.9263
    """
    ours, theirs = _present(returns, benchmark)
    down = theirs < 0
    return _capture(ours[down], theirs[down])


def correlation(returns: Returns, benchmark: Returns) -> float:
    """Pearson correlation of the daily returns with the benchmark's; NaN under 2
    sessions or when either does not vary.

    >>> correlation([0.01, 0.02, 0.03], [0.03, 0.02, 0.01])
    -1.0
    """
    ours, theirs = _present(returns, benchmark)
    if len(ours) < 2 or ours.max() == ours.min() or theirs.max() == theirs.min():
        return math.nan
    ours, theirs = ours - ours.mean(), theirs - theirs.mean()
    r = np.sum(ours * theirs) / np.sqrt(np.sum(ours**2) * np.sum(theirs**2))
    return float(np.clip(r, -1.0, 1.0))


def rolling_beta(returns: Returns, benchmark: Returns, window: int = ROLLING_WINDOW) -> pd.Series:
    """:func:`beta` over each trailing ``window`` of sessions (a Series on the aligned
    sessions; NaN until a window has filled).

    >>> rolling_beta([0.01, 0.02, -0.01, 0.0], [0.005, 0.01, -0.005, 0.01], 3).round(4).tolist()
    [nan, nan, 2.0, 1.3333]
    """
    ours, theirs = aligned(returns, benchmark)
    return rolling_statistic(_beta, window, ours, theirs, name="rolling_beta")
