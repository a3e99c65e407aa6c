"""Performance metrics: the registry of metrics sets and the tracker that runs them.

Three sets are built in: ``"default"`` (every column of zipline's daily
performance DataFrame), ``"returns"`` (the daily and cumulative returns, the
portfolio value and the fills: what summary statistics of a run read, so a
parameter search's trials run with it) and ``"none"`` (only the period
fields). Register more with :func:`register`, as a decorator or a call.

Examples
--------
>>> from rustybt.finance import metrics
>>> sorted(metrics.metrics_sets)[:3]
['default', 'none', 'returns']
>>> @metrics.register("just-returns")
... def just_returns():
...     return {metrics.Returns()}
>>> [type(m).__name__ for m in metrics.load("just-returns")]
['Returns']
>>> metrics.unregister("just-returns")
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from types import MappingProxyType
from typing import Any

from rustybt.finance.metrics.metric import (
    PNL,
    AlphaBeta,
    BenchmarkReturnsAndVolatility,
    CashFlow,
    ConstantCumulativeRiskMetric,
    DailyLedgerField,
    LedgerFields,
    MaxLeverage,
    NumTradingDays,
    Orders,
    PeriodLabel,
    Positions,
    Returns,
    ReturnsRisk,
    ReturnsStatistic,
    SimpleLedgerField,
    StartOfPeriodLedgerField,
    Transactions,
)
from rustybt.finance.metrics.tracker import MetricsTracker, daily_stats_frame

__all__ = [
    "PNL",
    "AlphaBeta",
    "BenchmarkReturnsAndVolatility",
    "CashFlow",
    "ConstantCumulativeRiskMetric",
    "DailyLedgerField",
    "LedgerFields",
    "MaxLeverage",
    "MetricsTracker",
    "NumTradingDays",
    "Orders",
    "PeriodLabel",
    "Positions",
    "Returns",
    "ReturnsRisk",
    "ReturnsStatistic",
    "SimpleLedgerField",
    "StartOfPeriodLedgerField",
    "Transactions",
    "daily_stats_frame",
    "load",
    "metrics_sets",
    "register",
    "unregister",
]

MetricsSetFactory = Callable[[], Any]

_metrics_sets: dict[str, MetricsSetFactory] = {}
#: Read-only view of the registered metrics sets: name -> factory.
metrics_sets = MappingProxyType(_metrics_sets)


def register(name: str, function: MetricsSetFactory | None = None) -> Any:
    """Register a factory returning a fresh set of metric objects under ``name``.

    Used as ``register(name, factory)`` or as the decorator ``@register(name)``.

    Raises
    ------
    ValueError
        If ``name`` is already registered.
    """
    if function is None:
        return partial(register, name)
    if name in _metrics_sets:
        raise ValueError(f"metrics set {name!r} is already registered")
    _metrics_sets[name] = function
    return function


def unregister(name: str) -> None:
    """Remove the metrics set ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not registered.
    """
    try:
        del _metrics_sets[name]
    except KeyError:
        raise ValueError(f"metrics set {name!r} was not already registered") from None


def load(name: str) -> set[Any]:
    """A new instance of the metrics set ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not registered (the message lists the known sets).
    """
    try:
        factory = _metrics_sets[name]
    except KeyError:
        raise ValueError(
            f"no metrics set registered as {name!r}, options are: {sorted(_metrics_sets)!r}"
        ) from None
    return set(factory())


register("none", set)


@register("returns")
def returns_metrics() -> set[Any]:
    """``returns``, ``algorithm_period_return``, ``portfolio_value`` and ``transactions``.

    The columns every statistic of a run's summary reads (sharpe, drawdown,
    total return, final value, trades), and no per-session risk statistics,
    positions or orders: a search runs each trial with it.
    """
    return {
        Returns(),
        Transactions(),
        LedgerFields([DailyLedgerField("portfolio_value")]),
    }


@register("default")
def default_metrics() -> set[Any]:
    """Every field of zipline's default daily performance packet.

    The risk statistics stream (O(1) a session) and equal empyrical's.
    """
    return {
        Returns(),
        ReturnsRisk(),  # algo_volatility, sharpe, sortino, max_drawdown
        BenchmarkReturnsAndVolatility(),
        PNL(),
        CashFlow(),
        Orders(),
        Transactions(),
        Positions(),
        # Read together, each object once a period for all its fields. The
        # portfolio's figures are read from the ledger's Decimals (the
        # portfolio view holds their floats): the view is refreshed only when
        # the algorithm reads it.
        LedgerFields(
            [
                StartOfPeriodLedgerField("positions_exposure", "starting_exposure"),
                DailyLedgerField("positions_exposure", "ending_exposure"),
                StartOfPeriodLedgerField("positions_value", "starting_value"),
                DailyLedgerField("positions_value", "ending_value"),
                StartOfPeriodLedgerField("cash", "starting_cash"),
                DailyLedgerField("cash", "ending_cash"),
                DailyLedgerField("portfolio_value"),
                DailyLedgerField("position_tracker.stats.longs_count"),
                DailyLedgerField("position_tracker.stats.shorts_count"),
                DailyLedgerField("position_tracker.stats.long_value"),
                DailyLedgerField("position_tracker.stats.short_value"),
                DailyLedgerField("position_tracker.stats.long_exposure"),
                DailyLedgerField("position_tracker.stats.short_exposure"),
                DailyLedgerField("account.gross_leverage"),
                DailyLedgerField("account.net_leverage"),
            ]
        ),
        AlphaBeta(),
        MaxLeverage(),
        ConstantCumulativeRiskMetric("excess_return", 0.0),
        ConstantCumulativeRiskMetric("treasury_period_return", 0.0),
        NumTradingDays(),
        PeriodLabel(),
    }
