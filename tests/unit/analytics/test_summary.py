"""performance_summary on a real backtest of the demo bundle, against empyrical and SciPy."""

from __future__ import annotations

import math
import re
import runpy
from pathlib import Path

import empyrical
import numpy as np
import pandas as pd
import pytest
import scipy.stats

import rustybt
from rustybt.analytics import (
    benchmark_returns_of,
    drawdown_periods,
    performance_summary,
    returns_of,
)
from rustybt.analytics.summary import BENCHMARK_KEYS, SUMMARY_KEYS
from rustybt.exceptions import ParameterValidationError
from tests.unit.analytics.returns_kit import same

REPO = Path(__file__).resolve().parents[3]


def dual_moving_average(start: str, end: str, **run: object) -> pd.DataFrame:
    """A run of examples/dual_moving_average.py (windows 20 and 60, so it trades)."""
    algorithm = runpy.run_path(str(REPO / "examples" / "dual_moving_average.py"))

    def initialize(context: object) -> None:
        algorithm["initialize"](context)
        context.fast, context.slow = 20, 60  # type: ignore[attr-defined]

    return rustybt.run_algorithm(
        start=pd.Timestamp(start),
        end=pd.Timestamp(end),
        initialize=initialize,
        handle_data=algorithm["handle_data"],
        capital_base=100_000,
        bundle="demo",
        **run,
    )


def test_the_summary_of_a_real_backtest_against_spy_matches_empyrical(demo: Path) -> None:
    perf = dual_moving_average("2016-01-04", "2017-12-29", benchmark_symbol="SPY")
    assert sum(map(len, perf["transactions"])) > 4  # it traded
    returns = returns_of(perf)
    benchmark = benchmark_returns_of(perf)
    assert benchmark is not None and benchmark.index.equals(perf.index)
    # The daily returns compound back to the frame's running benchmark return.
    compounded = (1 + benchmark).cumprod() - 1
    assert np.allclose(compounded, perf["benchmark_period_return"], rtol=1e-12, atol=1e-14)

    summary = performance_summary(perf)
    assert tuple(summary) == SUMMARY_KEYS
    assert all(isinstance(value, float) for value in summary.values())
    expected = {
        "total_return": empyrical.cum_returns_final(returns),
        "annual_return": empyrical.annual_return(returns),
        "annual_volatility": empyrical.annual_volatility(returns),
        "sharpe": empyrical.sharpe_ratio(returns),
        "sortino": empyrical.sortino_ratio(returns),
        "calmar": empyrical.calmar_ratio(returns),
        "omega": empyrical.omega_ratio(returns),
        "tail_ratio": empyrical.tail_ratio(returns),
        "stability": empyrical.stability_of_timeseries(returns),
        "skew": scipy.stats.skew(returns),
        "kurtosis": scipy.stats.kurtosis(returns),
        "max_drawdown": empyrical.max_drawdown(returns),
        "max_drawdown_duration": drawdown_periods(returns, top=1)["duration"].iloc[0],
        "value_at_risk": empyrical.value_at_risk(returns, 0.05),
        "conditional_value_at_risk": empyrical.conditional_value_at_risk(returns, 0.05),
        "benchmark_total_return": empyrical.cum_returns_final(benchmark),
        "alpha": empyrical.alpha(returns, benchmark),
        "beta": empyrical.beta(returns, benchmark),
        "information_ratio": empyrical.excess_sharpe(returns, benchmark) * math.sqrt(252),
        "tracking_error": empyrical.annual_volatility(returns - benchmark),
        "up_capture": empyrical.up_capture(returns, benchmark),
        "down_capture": empyrical.down_capture(returns, benchmark),
        "correlation": returns.corr(benchmark),
        "sessions": len(perf),
    }
    for key, value in expected.items():
        assert same(summary[key], value), (key, summary[key], value)
    assert summary["max_drawdown"] < 0 and summary["beta"] != 0
    # The run's own figures, computed as it went, agree.
    last = perf.iloc[-1]
    assert summary["total_return"] == pytest.approx(last["algorithm_period_return"], rel=1e-9)
    assert summary["benchmark_total_return"] == pytest.approx(
        last["benchmark_period_return"], rel=1e-9
    )
    assert summary["alpha"] == pytest.approx(last["alpha"], rel=1e-6)
    assert summary["beta"] == pytest.approx(last["beta"], rel=1e-6)
    assert summary["max_drawdown"] == pytest.approx(last["max_drawdown"], rel=1e-9)


def test_a_run_without_benchmark_has_no_benchmark_figures(demo: Path) -> None:
    perf = dual_moving_average("2016-01-04", "2016-06-30")
    assert benchmark_returns_of(perf) is None
    summary = performance_summary(perf)
    assert tuple(summary) == SUMMARY_KEYS
    assert all(math.isnan(summary[key]) for key in BENCHMARK_KEYS)
    assert same(summary["sharpe"], empyrical.sharpe_ratio(returns_of(perf)))
    # A benchmark given explicitly is used instead.
    rng = np.random.default_rng(5)
    benchmark = pd.Series(rng.normal(0.0004, 0.01, len(perf)), index=perf.index)
    given = performance_summary(perf, benchmark=benchmark)
    assert same(given["beta"], empyrical.beta(returns_of(perf), benchmark))
    assert same(given["benchmark_total_return"], empyrical.cum_returns_final(benchmark))


def test_every_key_is_documented() -> None:
    documented = re.findall(r"- ``(\w+)``:", performance_summary.__doc__ or "")
    assert tuple(documented) == SUMMARY_KEYS


def test_small_and_empty_frames() -> None:
    empty = performance_summary(pd.DataFrame({"returns": []}, dtype=float))
    assert empty["sessions"] == 0.0 and empty["max_drawdown_duration"] == 0.0
    assert math.isnan(empty["total_return"]) and math.isnan(empty["sharpe"])
    flat = performance_summary(pd.DataFrame({"returns": [0.0, 0.0]}))
    assert flat["max_drawdown"] == 0.0 and flat["max_drawdown_duration"] == 0.0


def test_bad_inputs_get_a_one_line_error() -> None:
    with pytest.raises(ParameterValidationError, match=r"^perf: the frame has no 'returns' column"):
        performance_summary(pd.DataFrame({"pnl": [1.0]}))
    with pytest.raises(ParameterValidationError, match=r"^perf: expected the performance"):
        returns_of([0.01])  # type: ignore[arg-type]
    with pytest.raises(ParameterValidationError, match=r"^benchmark: expected a Series"):
        performance_summary(pd.DataFrame({"returns": [0.01]}), benchmark=[0.01])  # type: ignore[arg-type]
