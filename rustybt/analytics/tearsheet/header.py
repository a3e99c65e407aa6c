"""How the report writes a figure: the header's (performance_summary) and the trades' panel.

One function per kind of figure turns its float into the text on the page, so
that a test can compute what the page must show from the analytics functions'
values (``figure_text(key, performance_summary(perf)[key])``).
"""

from __future__ import annotations

import math

__all__ = [
    "SUMMARY_LABELS",
    "TRADE_LABELS",
    "figure_text",
    "trade_figure_text",
]

#: The header's label of each key of :func:`rustybt.analytics.summary.performance_summary`.
SUMMARY_LABELS = {
    "total_return": "Total return",
    "annual_return": "Annual return",
    "annual_volatility": "Annual volatility",
    "sharpe": "Sharpe",
    "sortino": "Sortino",
    "calmar": "Calmar",
    "omega": "Omega",
    "tail_ratio": "Tail ratio",
    "stability": "Stability",
    "skew": "Skew",
    "kurtosis": "Excess kurtosis",
    "max_drawdown": "Max drawdown",
    "max_drawdown_duration": "Max drawdown sessions",
    "value_at_risk": "Daily VaR 5%",
    "conditional_value_at_risk": "Daily CVaR 5%",
    "benchmark_total_return": "Benchmark return",
    "alpha": "Alpha",
    "beta": "Beta",
    "information_ratio": "Information ratio",
    "tracking_error": "Tracking error",
    "up_capture": "Up capture",
    "down_capture": "Down capture",
    "correlation": "Correlation",
    "sessions": "Sessions",
}

#: Summary figures that are fractions, shown as percentages.
PERCENT_KEYS = frozenset(
    {
        "total_return",
        "annual_return",
        "annual_volatility",
        "max_drawdown",
        "value_at_risk",
        "conditional_value_at_risk",
        "benchmark_total_return",
        "alpha",
        "tracking_error",
        "win_rate",
        "average_return",
    }
)
#: Figures that count something (sessions, trades), shown as whole numbers.
COUNT_KEYS = frozenset(
    {
        "sessions",
        "max_drawdown_duration",
        "count",
        "longest_winning_streak",
        "longest_losing_streak",
    }
)
#: Trade figures in the run's currency.
MONEY_KEYS = frozenset(
    {"expectancy", "total_pnl", "average_win", "average_loss", "largest_win", "largest_loss"}
)

#: The trades panel's label of each key of :func:`rustybt.analytics.trades.trade_statistics`.
TRADE_LABELS = {
    "count": "Round trips",
    "win_rate": "Win rate",
    "profit_factor": "Profit factor",
    "expectancy": "Expectancy",
    "total_pnl": "Total P&L",
    "average_win": "Average win",
    "average_loss": "Average loss",
    "largest_win": "Largest win",
    "largest_loss": "Largest loss",
    "longest_winning_streak": "Longest winning streak",
    "longest_losing_streak": "Longest losing streak",
    "average_return": "Average return",
    "average_holding_period": "Average sessions held",
}


def figure_text(key: str, value: float) -> str:
    """A figure as the page shows it: percent, whole number, money or two decimals.

    Examples
    --------
    >>> figure_text("total_return", 0.41329), figure_text("sharpe", 0.4987)
    ('41.33%', '0.50')
    >>> figure_text("sessions", 2516.0), figure_text("alpha", float("nan"))
    ('2,516', 'n/a')
    """
    if value is None or math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if key in PERCENT_KEYS:
        return f"{value:.2%}"
    if key in COUNT_KEYS:
        return f"{value:,.0f}"
    if key in MONEY_KEYS:
        return f"{value:,.2f}"
    return f"{value:.2f}"


def trade_figure_text(key: str, value: float) -> str:
    """A trade statistic as the trades panel shows it (:func:`figure_text`'s rules)."""
    if key == "average_holding_period" and value is not None and math.isfinite(value):
        return f"{value:.1f}"
    return figure_text(key, value)
