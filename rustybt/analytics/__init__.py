"""Analytics of a finished run: statistics, round trips, exposure, attribution, reports.

:mod:`rustybt.analytics.statistics` holds the return and risk statistics of
daily returns, :mod:`rustybt.analytics.drawdowns` the drawdown periods,
:mod:`rustybt.analytics.relative` the statistics against a benchmark and
:mod:`rustybt.analytics.summary` the figures of a whole run read from its
performance frame. :mod:`rustybt.analytics.round_trips` pairs a run's fills
into closed trades (first in, first out), :mod:`rustybt.analytics.trades`
measures them and :mod:`rustybt.analytics.exposure` reads exposure, turnover
and P&L attribution off the positions.
"""

from rustybt.analytics.drawdowns import drawdown_periods
from rustybt.analytics.exposure import (
    concentration,
    exposures,
    long_short_contribution,
    pnl_by_asset,
    top_positions,
    turnover,
)
from rustybt.analytics.relative import (
    alpha_beta,
    beta,
    correlation,
    down_capture,
    information_ratio,
    rolling_beta,
    tracking_error,
    up_capture,
)
from rustybt.analytics.round_trips import round_trips
from rustybt.analytics.statistics import (
    annual_return,
    annual_volatility,
    calmar_ratio,
    conditional_value_at_risk,
    drawdown_series,
    kurtosis,
    max_drawdown,
    omega_ratio,
    return_statistics,
    rolling_sharpe,
    rolling_volatility,
    sharpe_ratio,
    skew,
    sortino_ratio,
    stability_of_timeseries,
    tail_ratio,
    total_return,
    value_at_risk,
)
from rustybt.analytics.summary import benchmark_returns_of, performance_summary, returns_of
from rustybt.analytics.trades import round_trip_table, trade_statistics, trade_statistics_by_asset

__all__ = [
    "alpha_beta",
    "annual_return",
    "annual_volatility",
    "benchmark_returns_of",
    "beta",
    "calmar_ratio",
    "concentration",
    "conditional_value_at_risk",
    "correlation",
    "down_capture",
    "drawdown_periods",
    "drawdown_series",
    "exposures",
    "information_ratio",
    "kurtosis",
    "long_short_contribution",
    "max_drawdown",
    "omega_ratio",
    "performance_summary",
    "pnl_by_asset",
    "return_statistics",
    "returns_of",
    "rolling_beta",
    "rolling_sharpe",
    "rolling_volatility",
    "round_trip_table",
    "round_trips",
    "sharpe_ratio",
    "skew",
    "sortino_ratio",
    "stability_of_timeseries",
    "tail_ratio",
    "top_positions",
    "total_return",
    "tracking_error",
    "trade_statistics",
    "trade_statistics_by_asset",
    "turnover",
    "up_capture",
    "value_at_risk",
]
