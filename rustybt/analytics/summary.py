"""The figures of a whole run, read from its performance frame.

:func:`returns_of` and :func:`benchmark_returns_of` take the daily returns out
of the frame a run returns (``run_algorithm``, or ``rustybt run -o``), and
:func:`performance_summary` computes every figure a report's header shows
from them, each by the function of :mod:`rustybt.analytics` that owns it.

Examples
--------
>>> import pandas as pd
>>> sessions = pd.date_range("2024-01-02 21:00", periods=4, freq="B", tz="UTC")
>>> perf = pd.DataFrame(
...     {"returns": [0.0, 0.01, -0.02, 0.015], "benchmark_period_return": [0.0, 0.01, 0.0, 0.01]},
...     index=sessions,
... )
>>> benchmark_returns_of(perf).round(6).tolist()
[0.0, 0.01, -0.009901, 0.01]
>>> summary = performance_summary(perf)
>>> round(summary["max_drawdown"], 4), round(summary["beta"], 4)
(-0.02, 1.5976)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rustybt.analytics.drawdowns import drawdown_periods
from rustybt.analytics.relative import (
    alpha_beta,
    correlation,
    down_capture,
    information_ratio,
    tracking_error,
    up_capture,
)
from rustybt.analytics.statistics import (
    conditional_value_at_risk,
    kurtosis,
    return_statistics,
    skew,
    total_return,
    value_at_risk,
    values_of,
)
from rustybt.exceptions import ParameterValidationError

#: The tail probability of the summary's value at risk and conditional value at risk.
SUMMARY_VAR_LEVEL = 0.05
#: The keys of :func:`performance_summary` that need a benchmark (NaN without one).
BENCHMARK_KEYS = (
    "benchmark_total_return",
    "alpha",
    "beta",
    "information_ratio",
    "tracking_error",
    "up_capture",
    "down_capture",
    "correlation",
)
#: The keys of :func:`performance_summary`, in order.
SUMMARY_KEYS = (
    "total_return",
    "annual_return",
    "annual_volatility",
    "sharpe",
    "sortino",
    "calmar",
    "omega",
    "tail_ratio",
    "stability",
    "skew",
    "kurtosis",
    "max_drawdown",
    "max_drawdown_duration",
    "value_at_risk",
    "conditional_value_at_risk",
    *BENCHMARK_KEYS,
    "sessions",
)


def _checked_perf(perf: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(perf, pd.DataFrame):
        raise ParameterValidationError(
            f"perf: expected the performance DataFrame of a run, got {type(perf).__name__}"
        )
    if "returns" not in perf:
        raise ParameterValidationError(
            f"perf: the frame has no 'returns' column (columns: {', '.join(map(str, perf))})"
        )
    return perf


def returns_of(perf: pd.DataFrame) -> pd.Series:
    """The run's daily returns: the perf frame's ``returns`` column as floats,
    indexed by session.

    >>> returns_of(pd.DataFrame({"returns": [0.0, 0.01]})).tolist()
    [0.0, 0.01]
    """
    perf = _checked_perf(perf)
    return pd.Series(values_of(perf["returns"]), index=perf.index, name="returns")


def benchmark_returns_of(perf: pd.DataFrame) -> pd.Series | None:
    """The benchmark's daily returns, from the perf frame's ``benchmark_period_return``
    (the benchmark's compounded return since the start: each session's return is
    ``(1 + period_return) / (1 + previous period_return) - 1``).

    None when the frame has no benchmark: no such column, no value in it, or 0
    throughout (what a run without a benchmark records).

    >>> perf = pd.DataFrame({"returns": [0.0, 0.0], "benchmark_period_return": [0.1, 0.21]})
    >>> benchmark_returns_of(perf).round(6).tolist()
    [0.1, 0.1]
    """
    perf = _checked_perf(perf)
    if "benchmark_period_return" not in perf:
        return None
    period_returns = values_of(perf["benchmark_period_return"])
    if np.all(np.isnan(period_returns) | (period_returns == 0.0)):
        return None
    growth = 1.0 + period_returns
    previous = np.concatenate([[1.0], growth[:-1]])
    daily = growth / previous - 1.0
    return pd.Series(daily, index=perf.index, name="benchmark_returns")


def performance_summary(perf: pd.DataFrame, benchmark: pd.Series | None = None) -> dict[str, float]:
    """Every figure of a run's report header (floats; NaN where undefined).

    Parameters
    ----------
    perf
        The performance frame of a run (its ``returns`` column, one row a session).
    benchmark
        The benchmark's daily returns, a Series indexed by session; by default
        the perf frame's own benchmark (:func:`benchmark_returns_of`).

    Returns
    -------
    dict[str, float]
        In this order (the daily returns' statistics; "annual" means 252 sessions):

        - ``total_return``: compounded return of the run;
        - ``annual_return``: compound annual growth rate;
        - ``annual_volatility``: annualized standard deviation;
        - ``sharpe``: annualized Sharpe ratio (risk-free 0);
        - ``sortino``: annualized Sortino ratio (target 0);
        - ``calmar``: annual return over the size of the max drawdown;
        - ``omega``: sum of gains over sum of losses;
        - ``tail_ratio``: 95th percentile over the size of the 5th;
        - ``stability``: R-squared of a line fitted to the log wealth;
        - ``skew``: skewness;
        - ``kurtosis``: excess kurtosis;
        - ``max_drawdown``: deepest fall from a peak (a negative fraction);
        - ``max_drawdown_duration``: sessions of that fall, from its peak to its
          recovery or to the end (0 without a drawdown);
        - ``value_at_risk``: the 5% historical value at risk (a daily return);
        - ``conditional_value_at_risk``: the mean return of the worst 5% of sessions;
        - ``benchmark_total_return``: the benchmark's compounded return;
        - ``alpha``: annualized alpha against the benchmark;
        - ``beta``: beta against the benchmark;
        - ``information_ratio``: annualized mean active return over the tracking error;
        - ``tracking_error``: annualized standard deviation of the active returns;
        - ``up_capture``: annual return over the benchmark's, on its up sessions;
        - ``down_capture``: the same on the benchmark's down sessions;
        - ``correlation``: correlation of the daily returns with the benchmark's;
        - ``sessions``: the number of sessions.

        The benchmark's figures (:data:`BENCHMARK_KEYS`) are NaN without a benchmark.

    Examples
    --------
    >>> perf = pd.DataFrame({"returns": [0.01, -0.02, 0.03]})
    >>> summary = performance_summary(perf)
    >>> round(summary["total_return"], 6), summary["sessions"], math.isnan(summary["alpha"])
    (0.019494, 3.0, True)
    """
    returns = returns_of(perf)
    if benchmark is None:
        benchmark = benchmark_returns_of(perf)
    elif not isinstance(benchmark, pd.Series):
        raise ParameterValidationError(
            f"benchmark: expected a Series of daily returns indexed by session, "
            f"got {type(benchmark).__name__}"
        )
    figures = return_statistics(returns)
    worst = drawdown_periods(returns, top=1) if len(returns) else None
    figures.update(
        skew=skew(returns),
        kurtosis=kurtosis(returns),
        max_drawdown_duration=float(worst["duration"].iloc[0])
        if worst is not None and len(worst)
        else 0.0,
        value_at_risk=value_at_risk(returns, SUMMARY_VAR_LEVEL),
        conditional_value_at_risk=conditional_value_at_risk(returns, SUMMARY_VAR_LEVEL),
        sessions=float(len(returns)),
    )
    figures.update(_against(returns, benchmark))
    return {key: float(figures[key]) for key in SUMMARY_KEYS}


def _against(returns: pd.Series, benchmark: pd.Series | None) -> dict[str, float]:
    """The benchmark-relative figures of :func:`performance_summary`."""
    if benchmark is None:
        return dict.fromkeys(BENCHMARK_KEYS, math.nan)
    alpha, beta = alpha_beta(returns, benchmark)
    return {
        "benchmark_total_return": total_return(benchmark) if len(benchmark) else math.nan,
        "alpha": alpha,
        "beta": beta,
        "information_ratio": information_ratio(returns, benchmark),
        "tracking_error": tracking_error(returns, benchmark),
        "up_capture": up_capture(returns, benchmark),
        "down_capture": down_capture(returns, benchmark),
        "correlation": correlation(returns, benchmark),
    }
