"""The report of a parameter search and of a walk-forward, from real searches of the demo bundle.

Each figure's data is checked against the result it draws: the heatmap's
cells are the trials' objective values, the window boundaries the windows'
dates, the stitched curve ``oos_perf``'s equity.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rustybt.analytics.summary import benchmark_returns_of, performance_summary
from rustybt.analytics.tearsheet import Report, report
from rustybt.analytics.tearsheet.header import figure_text
from rustybt.analytics.tearsheet.panels import Panel
from rustybt.analytics.trades import round_trip_table
from rustybt.exceptions import ParameterValidationError
from rustybt.optimization import Categorical, Int, ParameterSpace, optimize, walk_forward
from tests.unit.optimization._algos import CROSSOVER

START, END = "2015-01-02", "2015-12-31"
GRID = ParameterSpace(fast=Int(10, 30, step=10), slow=Int(40, 60, step=20))


@pytest.fixture(scope="module")
def on_demo(demo_root: Path, cache_dir: Path) -> Iterator[None]:
    """The demo bundle's root for the module's searches (run once each)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUSTYBT_ROOT", str(demo_root))
        patch.setenv("RUSTYBT_CACHE_DIR", str(cache_dir))
        yield


def search(space: ParameterSpace, **options: Any) -> Any:
    arguments = {"bundle": "demo", "start": START, "end": END, "storage": ":memory:"}
    return optimize(CROSSOVER, space, **{**arguments, **options})


@pytest.fixture(scope="module")
def grid(on_demo: None) -> Any:
    return search(GRID, method="grid")


@pytest.fixture(scope="module")
def walk(on_demo: None) -> Any:
    return walk_forward(
        CROSSOVER, GRID, bundle="demo", start="2015-01-02", end="2016-12-30", train="1Y",
        test="6M", method="grid", storage=":memory:", benchmark_symbol="SPY",
    )  # fmt: skip


def panel(built: Report, key: str) -> Panel:
    (found,) = [p for p in built.panels if p.key == key]
    return found


def shapes(figure: Any, kind: str) -> list[Any]:
    return [s for s in figure.layout.shapes if s.type == kind]


def test_heatmap_cells_are_the_trials_objective(grid: Any) -> None:
    built = report(grid)
    heatmap = panel(built, "search-objective").figure.data[0]
    assert heatmap.type == "heatmap"
    assert list(heatmap.x) == ["10", "20", "30"] and list(heatmap.y) == ["40", "60"]
    z = np.asarray(heatmap.z, dtype=float)
    for trial in grid.trials.to_dict("records"):
        cell = z[
            list(heatmap.y).index(str(trial["slow"])), list(heatmap.x).index(str(trial["fast"]))
        ]
        assert cell == trial["sharpe"]
    assert built.title == "Parameter search"
    shown = {f.key: f.text for f in built.figures}
    assert shown["trials"] == "6" and shown["failed"] == "0"
    assert shown["best_fast"] == str(grid.best_params["fast"])
    assert shown["best_slow"] == str(grid.best_params["slow"])


def test_trials_table_lists_the_best_first_and_sorts(grid: Any) -> None:
    table = panel(report(grid), "search-trials").table
    assert table is not None
    column = table.columns.index("sharpe")
    numbers = [row[0] for row in table.keys]
    assert numbers == list(grid.ranked()["number"])
    assert [row[column] for row in table.keys] == sorted(grid.trials["sharpe"], reverse=True)
    assert table.cells[0][table.columns.index("fast")] == str(grid.best_params["fast"])
    assert {row[-1] for row in table.cells} == {"complete"}


def test_one_parameter_draws_a_line_of_the_objective(demo: Path) -> None:
    result = search(ParameterSpace(fast=Int(10, 30, step=10)), method="grid")
    line = panel(report(result), "search-objective").figure.data[0]
    ordered = result.trials.sort_values("fast")
    assert list(line.x) == list(ordered["fast"].astype(float))
    assert list(line.y) == list(ordered["sharpe"])


def test_three_parameters_and_two_objectives(demo: Path) -> None:
    space = ParameterSpace(
        fast=Int(10, 30, step=10), slow=Int(40, 60, step=20), side=Categorical(["a", "b"])
    )
    result = search(space, method="nsga2", trials=6, objective=["sharpe", "max_drawdown"])
    built = report(result)
    done = result.trials[result.trials["status"] == "complete"].reset_index(drop=True)
    lines = panel(built, "search-objective").figure.data
    assert len(lines) == len(done)  # one line per complete trial
    fast = done["fast"].astype(float)
    codes = {value: n for n, value in enumerate(sorted(pd.unique(done["side"])))}
    for trace in lines:
        trial = done[done["number"] == int(trace.name.split()[1])].iloc[0]
        span = fast.max() - fast.min()
        assert trace.y[0] == pytest.approx((trial["fast"] - fast.min()) / span if span else 0.5)
        assert trace.y[2] == pytest.approx(codes[trial["side"]] / max(len(codes) - 1, 1))
        assert list(trace.x) == [0, 1, 2, 3, 4]  # fast, slow, side, sharpe, max_drawdown
    # Drawn worst first: the last line is the best sharpe.
    assert int(lines[-1].name.split()[1]) == int(done.loc[done["sharpe"].idxmax(), "number"])
    everything, front = panel(built, "search-pareto").figure.data
    assert sorted(everything.x) == sorted(done["sharpe"])
    expected = result.pareto_front.sort_values("sharpe")
    assert list(front.x) == list(expected["sharpe"]) and list(front.y) == list(
        expected["max_drawdown"]
    )
    shown = {f.key: f.text for f in built.figures}
    assert shown["pareto"] == str(len(result.pareto_front))


def test_walk_forward_equity_and_window_boundaries(walk: Any) -> None:
    built = report(walk)
    figure = panel(built, "wf-equity").figure
    curve = figure.data[0]
    oos = walk.oos_perf
    assert list(curve.y) == list(oos["equity"])
    assert list(curve.x) == list(oos.index.strftime("%Y-%m-%d"))
    starts = [f"{day:%Y-%m-%d}" for day in walk.windows["test_start"]]
    ends = [f"{day:%Y-%m-%d}" for day in walk.windows["test_end"]]
    assert [s.x0 for s in shapes(figure, "line")] == starts
    assert [(s.x0, s.x1) for s in shapes(figure, "rect")] == list(zip(starts, ends, strict=True))
    chart = panel(built, "wf-windows-chart").figure.data
    assert list(chart[0].y) == list(walk.windows["is_sharpe"])
    assert list(chart[1].y) == list(walk.windows["oos_sharpe"])
    assert list(chart[4].y) == list(walk.windows["efficiency"])
    stability = panel(built, "wf-stability").table
    assert stability is not None
    assert [row[0] for row in stability.keys] == list(walk.parameter_stability.index)
    assert [row[3] for row in stability.keys] == list(walk.parameter_stability["mode_share"])
    shown = {f.key: f.text for f in panel(built, "search").figures}
    assert shown["efficiency"] == f"{walk.efficiency:.2f}" and shown["windows"] == "2"


def test_walk_forward_report_has_the_run_panels_of_its_record(walk: Any) -> None:
    built = report(walk)
    oos = walk.oos_perf
    benchmark = pd.concat([benchmark_returns_of(part) for _, part in oos.groupby("window")])
    summary = performance_summary(oos, benchmark)
    assert {f.key: f.text for f in built.figures} == {
        key: figure_text(key, value) for key, value in summary.items()
    }
    assert summary["beta"] == summary["beta"]  # the benchmark, window by window
    # Each window's trades stay within it: no trip pairs fills of two windows.
    trips = panel(built, "round-trips")
    per_window = [round_trip_table(part) for _, part in oos.groupby("window")]
    assert trips.figures[0].text == f"{sum(len(t) for t in per_window):,}"
    assert built.subtitle.endswith(f"equity 100,000.00 → {oos['equity'].iloc[-1]:,.2f}")
    keys = [p.key for p in built.panels]
    assert keys[:5] == ["search", "wf-equity", "wf-windows-chart", "wf-windows", "wf-stability"]
    assert {"cumulative", "underwater", "round-trips", "exposure"} <= set(keys)


def test_a_run_report_with_the_search_appended(grid: Any, demo: Path) -> None:
    from rustybt.runner import run_algorithm

    perf = run_algorithm(
        START, END, capital_base=100_000, bundle="demo", script=Path(CROSSOVER).read_text(),
        algo_filename=CROSSOVER, params=grid.best_params,
    )  # fmt: skip
    alone = report(perf)
    both = report(perf, optimization=grid, title="best of the grid")
    assert both.figures == alone.figures and both.subtitle == alone.subtitle
    keys = [p.key for p in both.panels]
    assert keys == [p.key for p in alone.panels] + ["search", "search-objective", "search-trials"]
    page = both.html
    figures = json.loads(page.split('id="figures">', 1)[1].split("</script>", 1)[0])
    assert "plot-search-objective" in figures
    with pytest.raises(ParameterValidationError, match=r"^optimization: expected the result"):
        report(perf, optimization=perf)
    with pytest.raises(ParameterValidationError, match=r"^perf: a search's result"):
        report(grid, optimization=grid)
    with pytest.raises(ParameterValidationError, match=r"^perf: expected the performance"):
        report([1, 2, 3])


def test_a_run_report_does_not_load_the_optimization_package() -> None:
    code = (
        "import sys, numpy as np, pandas as pd\n"
        "from rustybt.analytics import report\n"
        "days = pd.bdate_range('2024-01-01 21:00', periods=30, tz='UTC')\n"
        "perf = pd.DataFrame({'returns': 0.001, 'portfolio_value': 1e5}, index=days)\n"
        "report(perf).html\n"
        "print('optuna' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_parallel_coordinates_draw_the_best_lines_and_leave_gaps_for_missing_values() -> None:
    from rustybt.analytics.tearsheet.search_panels import MAX_LINES, parallel_coordinates_panel

    rng = np.random.default_rng(3)
    count = MAX_LINES + 100
    trials = pd.DataFrame(
        {
            "number": np.arange(count),
            "rate": rng.uniform(0.01, 0.2, count),
            "kind": rng.choice(["ema", "sma"], count),
            "sharpe": rng.normal(size=count),
        }
    )
    trials.loc[7, "sharpe"] = np.nan  # a run without a trade: no Sharpe ratio
    drawn = parallel_coordinates_panel(trials, ["rate", "kind", "sharpe"], "sharpe", "maximize")
    lines = drawn.figure.data
    kept = {int(trace.name.split()[1]) for trace in lines}
    assert kept == set(trials.nlargest(MAX_LINES, "sharpe")["number"])
    assert int(lines[-1].name.split()[1]) == int(trials["sharpe"].idxmax())
    assert f"The {MAX_LINES:,} best of {count:,} trials" in drawn.note
    low = parallel_coordinates_panel(trials, ["rate", "kind", "sharpe"], "sharpe", "minimize")
    assert int(low.figure.data[-1].name.split()[1]) == int(trials["sharpe"].idxmin())


def test_a_failed_trial_is_listed_last_with_its_error(demo: Path) -> None:
    result = search(
        ParameterSpace(fast=Int(10, 30, step=10)), method="grid", params={"fail_at": 20}
    )
    built = report(result)
    table = panel(built, "search-trials").table
    assert table is not None
    statuses = [row[-1] for row in table.cells]
    assert statuses[:2] == ["complete", "complete"]
    assert statuses[2].startswith("fail: ") and "planted failure at fast=20" in statuses[2]
    assert list(panel(built, "search-objective").figure.data[0].x) == [10.0, 30.0]
    assert {f.key: f.text for f in built.figures}["failed"] == "1"
