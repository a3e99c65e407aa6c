"""The panels of a real demo backtest: each draws the run's series, thinned and in percent."""

from __future__ import annotations

from typing import Any

import empyrical
import numpy as np
import pandas as pd
import pytest

from rustybt.analytics.drawdowns import drawdown_periods
from rustybt.analytics.relative import rolling_beta
from rustybt.analytics.statistics import drawdown_series, rolling_sharpe, rolling_volatility
from rustybt.analytics.summary import benchmark_returns_of, returns_of
from rustybt.analytics.tearsheet.decimate import MAX_POINTS
from rustybt.analytics.tearsheet.panels import (
    annual_returns_panel,
    calendar_returns,
    cumulative_returns_panel,
    log_growth_panel,
    monthly_returns_panel,
    returns_distribution_panel,
    rolling_panel,
    underwater_panel,
)

Run = tuple[pd.DataFrame, dict[str, Any]]


@pytest.mark.parametrize(("period", "empyrical_name"), [("month", "monthly"), ("year", "yearly")])
def test_calendar_returns_match_empyrical(demo_run: Run, period: str, empyrical_name: str) -> None:
    returns = demo_run[0]["returns"]
    ours = calendar_returns(returns, period)
    theirs = empyrical.aggregate_returns(returns, empyrical_name)
    assert len(ours) == len(theirs) == (24 if period == "month" else 2)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-12)


def test_monthly_heatmap_is_years_by_months(demo_run: Run) -> None:
    returns = demo_run[0]["returns"]
    heatmap = monthly_returns_panel(returns).figure.data[0]
    assert list(heatmap.y) == ["2016", "2017"] and len(heatmap.x) == 12
    expected = calendar_returns(returns, "month").loc[(2017, 3)] * 100
    assert heatmap.z[1][2] == pytest.approx(expected)


def test_annual_bars_colored_by_sign(demo_run: Run) -> None:
    returns = demo_run[0]["returns"]
    bars = annual_returns_panel(returns).figure.data[0]
    annual = calendar_returns(returns, "year") * 100
    np.testing.assert_allclose(bars.y, annual.to_numpy())
    assert [color == "#2e8b57" for color in bars.marker.color] == [v >= 0 for v in annual]


def test_cumulative_panels_end_at_the_runs_total_return(demo_run: Run) -> None:
    perf = demo_run[0]
    growth = (1 + perf["returns"]).cumprod()
    benchmark = 1 + perf["benchmark_period_return"]
    linear = cumulative_returns_panel(growth, benchmark).figure
    assert [trace.name for trace in linear.data] == ["strategy", "benchmark"]
    total = perf["algorithm_period_return"].iloc[-1] * 100
    assert linear.data[0].y[-1] == pytest.approx(total, rel=1e-9)
    assert linear.data[0].x[-1] == perf.index[-1].strftime("%Y-%m-%d")
    logged = log_growth_panel(growth, None).figure
    assert logged.layout.yaxis.type == "log" and len(logged.data) == 1


def test_long_traces_are_thinned() -> None:
    days = pd.bdate_range("1990-01-01", periods=30 * 252, tz="UTC")
    returns = pd.Series(np.random.default_rng(3).normal(0, 0.01, len(days)), index=days)
    growth = (1 + returns).cumprod()
    trace = cumulative_returns_panel(growth, growth * 0 + 1).figure.data[0]
    assert len(trace.x) <= MAX_POINTS < len(days)
    assert max(trace.y) == pytest.approx((growth.max() - 1) * 100)


def test_distribution_counts_every_session_and_marks_lines(demo_run: Run) -> None:
    returns = demo_run[0]["returns"]
    panel = returns_distribution_panel(returns, {"VaR 5%": -0.02, "none": float("nan")})
    bars = panel.figure.data[0]
    assert sum(bars.y) == returns.notna().sum()
    lines = [shape for shape in panel.figure.layout.shapes]
    assert len(lines) == 1 and lines[0].x0 == pytest.approx(-2.0)


def test_underwater_shades_and_lists_the_deepest_periods(demo_run: Run) -> None:
    returns = returns_of(demo_run[0])
    periods = drawdown_periods(returns, top=5)
    panel = underwater_panel(drawdown_series(returns), periods)
    assert len(panel.figure.layout.shapes) == len(periods) == 5
    assert panel.table is not None and len(panel.table.cells) == 5
    deepest = panel.table.cells[0]
    assert deepest[1] == periods["peak"].iloc[0].strftime("%Y-%m-%d")
    assert deepest[4] == f"{periods['drawdown'].iloc[0]:.2%}"
    assert min(panel.figure.data[0].y) == pytest.approx(periods["drawdown"].iloc[0] * 100)


def test_rolling_panel_rows(demo_run: Run) -> None:
    returns = returns_of(demo_run[0])
    benchmark = benchmark_returns_of(demo_run[0])
    sharpe, volatility = rolling_sharpe(returns), rolling_volatility(returns)
    panel = rolling_panel(sharpe, volatility, rolling_beta(returns, benchmark), 126)
    assert [trace.name for trace in panel.figure.data] == ["Sharpe", "volatility", "beta"]
    assert panel.figure.data[0].y[-1] == pytest.approx(sharpe.iloc[-1])
    short = returns.iloc[:50]
    panel = rolling_panel(rolling_sharpe(short), rolling_volatility(short), None, 126)
    assert len(panel.figure.data) == 2 and "shorter than the 126-session window" in panel.note
