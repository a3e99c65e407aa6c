"""A real run's risk columns equal empyrical recomputed on its returns, at every session.

The default metrics stream their statistics (O(1) a session); empyrical,
called here on each prefix of ``perf["returns"]``, is the reference.
"""

from __future__ import annotations

import math
import runpy
from pathlib import Path
from typing import Any

import empyrical as ep
import numpy as np
import pandas as pd
import pytest

import rustybt
from rustybt.api import order_target_percent, symbol
from rustybt.calendars import get_calendar

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def crossover(context: Any, data: Any) -> None:
    prices = data.history(context.asset, "price", 30, "1d")
    fast = bool(prices.iloc[-5:].mean() > prices.mean())
    if fast != context.long:
        order_target_percent(context.asset, 1.0 if fast else -0.5)
        context.long = fast


def initialize(context: Any) -> None:
    context.asset = symbol("AAPL")
    context.long = None


def expect(value: Any, expected: Any, keep_infinite: bool = False) -> None:
    """The packet convention: None where empyrical's figure is NaN (or infinite)."""
    expected = float(expected)
    if math.isnan(expected) or (math.isinf(expected) and not keep_infinite):
        assert value is None or math.isnan(value)
    else:
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-15)


def check_every_row(perf: pd.DataFrame, benchmark: np.ndarray) -> None:
    returns = perf["returns"].to_numpy(dtype=float)
    for ix in range(len(perf)):
        row = perf.iloc[ix]
        r, b = returns[: ix + 1], benchmark[: ix + 1]
        expect(row["algo_volatility"], ep.annual_volatility(r))
        expect(row["sharpe"], ep.sharpe_ratio(r))
        expect(row["sortino"], ep.sortino_ratio(r))
        expect(row["max_drawdown"], ep.max_drawdown(r))
        alpha, beta = ep.alpha_beta_aligned(r, b)
        expect(row["alpha"], alpha)
        expect(row["beta"], beta, keep_infinite=True)
        expect(row["benchmark_volatility"], ep.annual_volatility(b))
        expect(row["benchmark_period_return"], np.prod(1 + b) - 1)


def test_risk_columns_match_empyrical_every_session(demo: Path) -> None:
    sessions = pd.DatetimeIndex(get_calendar("XNYS").sessions_in_range("2016-02-01", "2018-12-31"))
    rng = np.random.default_rng(7)
    given = pd.Series(rng.normal(0.0004, 0.01, len(sessions)), index=sessions)
    perf = rustybt.run_algorithm(
        "2016-02-01", "2018-12-31", initialize, 100_000,
        handle_data=crossover, benchmark_returns=given,
    )  # fmt: skip
    assert len(perf) == len(sessions) > 700
    assert perf["sharpe"].notna().sum() > 700 and perf["beta"].notna().sum() > 700
    check_every_row(perf, given.to_numpy())


def test_risk_columns_with_an_asset_benchmark(demo: Path) -> None:
    """buy_and_hold against SPY: the benchmark's daily returns come from its prices."""
    ns = runpy.run_path(str(EXAMPLES / "buy_and_hold.py"))
    perf = rustybt.run_algorithm(
        "2019-01-02", "2019-12-31", ns["initialize"], 100_000,
        handle_data=ns["handle_data"], benchmark_symbol="SPY",
    )  # fmt: skip
    growth = perf["benchmark_period_return"].to_numpy(dtype=float) + 1
    benchmark = np.concatenate([[growth[0] - 1], growth[1:] / growth[:-1] - 1])
    returns = perf["returns"].to_numpy(dtype=float)
    last = perf.iloc[-1]
    expect(last["sharpe"], ep.sharpe_ratio(returns))
    expect(last["max_drawdown"], ep.max_drawdown(returns))
    # The benchmark's returns are recovered from its cumulative return, which
    # rounds: these agree to that rounding only.
    alpha, beta = ep.alpha_beta_aligned(returns, benchmark)
    assert last["beta"] == pytest.approx(beta, rel=1e-7)
    assert last["alpha"] == pytest.approx(alpha, rel=1e-6)
    assert last["benchmark_volatility"] == pytest.approx(ep.annual_volatility(benchmark), rel=1e-7)
