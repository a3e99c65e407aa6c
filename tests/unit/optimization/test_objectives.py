"""Objectives: summary statistics as empyrical defines them, and objective resolution."""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import empyrical
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rustybt
from rustybt.api import order, symbol
from rustybt.exceptions import ParameterValidationError
from rustybt.optimization.objectives import (
    OBJECTIVE_PREFIX,
    STATISTICS,
    Objective,
    make_evaluator,
    resolve_objectives,
    summary_statistics,
)

EMPYRICAL = {
    "sharpe": empyrical.sharpe_ratio,
    "sortino": empyrical.sortino_ratio,
    "calmar": empyrical.calmar_ratio,
    "omega": empyrical.omega_ratio,
    "stability": empyrical.stability_of_timeseries,
    "tail_ratio": empyrical.tail_ratio,
    "total_return": empyrical.cum_returns_final,
    "annual_return": empyrical.annual_return,
    "annual_volatility": empyrical.annual_volatility,
    "max_drawdown": empyrical.max_drawdown,
}


def same(ours: float, theirs: Any) -> bool:
    """Equal to 1e-9 relative, or both NaN, or the same infinity.

    The absolute floor covers values that are zero up to summation order
    (empyrical sums with bottleneck, we with NumPy's pairwise sum).
    """
    theirs = float(theirs)
    if math.isnan(ours) or math.isnan(theirs):
        return math.isnan(ours) and math.isnan(theirs)
    if math.isinf(ours) or math.isinf(theirs):
        return ours == theirs
    return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12)


def perf_of(returns: list[float]) -> pd.DataFrame:
    index = pd.date_range("2020-01-02 21:00", periods=len(returns), freq="B", tz="UTC")
    return pd.DataFrame({"returns": returns}, index=index)


basis_points = st.integers(-5000, 5000).map(lambda bp: bp / 10_000)
returns_series = st.one_of(
    st.lists(basis_points, max_size=300),
    st.lists(st.integers(-9000, 0).map(lambda bp: bp / 10_000), max_size=60),  # all negative
    st.tuples(basis_points, st.integers(0, 40)).map(lambda x: [x[0]] * x[1]),  # zero variance
    st.lists(st.floats(-0.99, 3.0, allow_nan=False, allow_subnormal=False), max_size=8),
)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # empyrical's 0 / 0
@pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning")
@settings(max_examples=300, deadline=None)
@given(returns=returns_series)
def test_summary_statistics_match_empyrical(returns: list[float]) -> None:
    stats = summary_statistics(perf_of(returns))
    series = perf_of(returns)["returns"]
    for name, function in EMPYRICAL.items():
        assert same(stats[name], function(series)), (name, stats[name], function(series))
    assert stats["trading_days"] == len(returns)
    assert math.isnan(stats["final_value"]) and math.isnan(stats["trades"])


def test_the_edge_cases_empyrical_defines() -> None:
    flat = summary_statistics(perf_of([0.0] * 5))
    assert math.isnan(flat["sharpe"]) and math.isnan(flat["sortino"])  # 0 / 0
    assert flat["max_drawdown"] == 0.0 and math.isnan(flat["calmar"])
    assert math.isnan(flat["stability"]) and flat["total_return"] == 0.0
    steady = summary_statistics(perf_of([0.001] * 5))
    assert steady["sharpe"] == math.inf and steady["sortino"] == math.inf
    assert steady["stability"] == 1.0
    one = summary_statistics(perf_of([0.01]))
    assert math.isnan(one["sharpe"]) and math.isnan(one["annual_volatility"])
    empty = summary_statistics(perf_of([]))
    assert all(math.isnan(empty[name]) for name in EMPYRICAL)
    assert empty["trading_days"] == 0.0


def test_a_perf_frame_without_returns_is_refused() -> None:
    with pytest.raises(ParameterValidationError, match=r"no 'returns' column \(columns: pnl\)"):
        summary_statistics(pd.DataFrame({"pnl": [1.0]}))


def pnl_total(perf: pd.DataFrame) -> float:
    """A module-level objective: the sum of daily pnl."""
    return float(perf["pnl"].sum())


class Ratio:
    """A module-level callable class: last value of one column over another."""

    def __init__(self, top: str, bottom: str) -> None:
        self.top, self.bottom = top, bottom

    def __call__(self, perf: pd.DataFrame) -> float:
        return float(perf[self.top].iloc[-1] / perf[self.bottom].iloc[-1])


def test_named_statistics_take_their_natural_direction() -> None:
    directions = {o.name: o.direction for o in resolve_objectives(list(STATISTICS))}
    assert directions == STATISTICS
    assert directions["max_drawdown"] == "maximize"  # negative: the least drawdown
    assert directions["annual_volatility"] == "minimize"
    assert resolve_objectives("gross_leverage")[0].direction == "maximize"  # a perf column


def test_directions_are_overridden_by_suffix_or_argument() -> None:
    assert resolve_objectives("sharpe:min")[0].direction == "minimize"
    assert resolve_objectives("annual_volatility:MAX")[0].direction == "maximize"
    assert resolve_objectives("sharpe", "minimize")[0].direction == "minimize"
    assert resolve_objectives("sharpe:min", "min")[0].direction == "minimize"
    resolved = resolve_objectives(["sharpe", "max_drawdown", pnl_total], ["min", None, "max"])
    assert [(o.name, o.direction) for o in resolved] == [
        ("sharpe", "minimize"),
        ("max_drawdown", "maximize"),
        ("pnl_total", "maximize"),
    ]
    objective = Objective("x", "maximize", pnl_total)
    assert resolve_objectives(objective) == (objective,)
    assert resolve_objectives(objective, "min")[0].direction == "minimize"


@pytest.mark.parametrize(
    ("objective", "direction", "message"),
    [
        ("sharpe:up", None, "objective 'sharpe:up': direction 'up' is not max, maximize, min or"),
        ("sharpe:min", "max", "objective 'sharpe:min': its :min contradicts direction 'maximize'"),
        ("sharpe", "upward", "objective 'sharpe': direction 'upward' is not max"),
        (["sharpe", "sortino"], "max", "direction 'max' for 2 objectives: give one per objective"),
        (
            ["sharpe", "sortino"],
            ["max"],
            "direction ['max'] for 2 objectives: give one per objective",
        ),
        ([], None, "no objective given"),
        (":max", None, "objective ':max': no name (statistics: sharpe, sortino, calmar,"),
        (
            "transactions",
            None,
            "objective 'transactions': that perf column holds no numbers; use a statistic (sharpe,",
        ),
        ("returns:max", None, "objective 'returns': that is one day's return; use total_return"),
        (["sharpe", "sharpe:min"], None, "objective 'sharpe': given twice"),
        (5, None, "objective 5: expected a statistic, a perf column or a function perf -> float"),
    ],
)
def test_bad_objectives_are_refused(objective: Any, direction: Any, message: str) -> None:
    with pytest.raises(ParameterValidationError) as caught:
        resolve_objectives(objective, direction)
    assert message in str(caught.value)


def test_lambdas_and_nested_functions_cannot_reach_workers() -> None:
    def nested(perf: pd.DataFrame) -> float:
        return 0.0

    for function, name in [(lambda perf: 0.0, "<lambda>"), (nested, "nested")]:
        with pytest.raises(ParameterValidationError) as caught:
            resolve_objectives(function)
        message = str(caught.value)
        assert name in message and "worker processes cannot import it" in message
        assert "define it at module level" in message


def test_callables_are_named_and_picklable() -> None:
    (by_function,) = resolve_objectives(pnl_total)
    (by_instance,) = resolve_objectives(Ratio("pnl", "returns"), "min")
    assert (by_function.name, by_instance.name, by_instance.direction) == (
        "pnl_total",
        "Ratio",
        "minimize",
    )
    evaluate = make_evaluator(resolve_objectives(["sharpe", "pnl", pnl_total]))
    assert pickle.loads(pickle.dumps(evaluate)) == evaluate


def test_a_missing_column_is_reported_when_evaluated() -> None:
    (objective,) = resolve_objectives("sharp")
    with pytest.raises(ParameterValidationError) as caught:
        objective(pd.DataFrame({"returns": [0.0], "pnl": [1.0]}))
    assert str(caught.value) == (
        "objective 'sharp': not a statistic (" + ", ".join(STATISTICS) + ") "
        "nor a column of the perf frame (columns: returns, pnl)"
    )
    (text,) = resolve_objectives("label")
    with pytest.raises(ParameterValidationError, match="last value 'x' is not a number"):
        text(pd.DataFrame({"label": ["x"]}))


def buy_and_hold(context: Any) -> None:
    context.asset = symbol("AAPL")
    context.bought = False


def buy_once(context: Any, data: Any) -> None:
    if not context.bought:
        order(context.asset, 100)
        context.bought = True


@pytest.fixture(scope="module")
def perf(demo_root: Path, cache_dir: Path) -> Iterator[pd.DataFrame]:
    """One short buy-and-hold on the demo bundle, shared by this module's tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUSTYBT_ROOT", str(demo_root))
        patch.setenv("RUSTYBT_CACHE_DIR", str(cache_dir))
        yield rustybt.run_algorithm(
            "2016-01-04", "2016-06-30", buy_and_hold, 100_000, buy_once, bundle="demo"
        )


def test_statistics_of_a_real_run(perf: pd.DataFrame) -> None:
    stats = summary_statistics(perf)
    assert set(stats) == set(STATISTICS)
    assert all(isinstance(value, float) for value in stats.values())
    for name, function in EMPYRICAL.items():
        assert same(stats[name], function(perf["returns"])), name
    assert stats["final_value"] == perf["portfolio_value"].iloc[-1] != 100_000
    assert stats["total_return"] == perf["algorithm_period_return"].iloc[-1]
    assert stats["trades"] == 1.0 and stats["trading_days"] == len(perf) > 100
    # The engine's own cumulative risk metrics agree on the last session.
    assert math.isclose(stats["sharpe"], perf["sharpe"].iloc[-1], rel_tol=1e-9)
    assert math.isclose(stats["max_drawdown"], perf["max_drawdown"].iloc[-1], rel_tol=1e-9)


def test_the_evaluator_reports_statistics_and_objectives(perf: pd.DataFrame) -> None:
    objectives = resolve_objectives(["sortino", "ending_cash:min", pnl_total])
    evaluate = pickle.loads(pickle.dumps(make_evaluator(objectives)))
    metrics = evaluate(perf)
    assert {k: v for k, v in metrics.items() if not k.startswith(OBJECTIVE_PREFIX)} == (
        summary_statistics(perf)
    )
    assert metrics["objective:sortino"] == metrics["sortino"]
    assert metrics["objective:ending_cash"] == perf["ending_cash"].iloc[-1]
    assert metrics["objective:pnl_total"] == perf["pnl"].sum() != 0.0
    assert [o.direction for o in objectives] == ["maximize", "minimize", "maximize"]
