"""The report's pages of a parameter search or a walk-forward analysis.

:func:`search_panels` turns an
:class:`~rustybt.optimization.study.OptimizationResult` or a
:class:`~rustybt.optimization.walkforward.WalkForwardResult` into the panels
of :mod:`.search_panels`, and :func:`search_figures` into its key figures.
A walk-forward is also a run: :func:`stitched_run` gives the frame and the
benchmark the run panels of :mod:`.document` read from its stitched
out-of-sample record. The optimization package (optuna) is imported only when
a result is given, so a run's report loads without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard, cast

import pandas as pd

from rustybt.analytics.summary import benchmark_returns_of
from rustybt.analytics.tearsheet.panels import KeyFigure, Panel
from rustybt.analytics.tearsheet.search_panels import (
    MAX_HEATMAP_VALUES,
    MAX_TABLE_TRIALS,
    axis_values,
    objective_heatmap_panel,
    objective_line_panel,
    oos_equity_panel,
    parallel_coordinates_panel,
    pareto_panel,
    stability_panel,
    trials_panel,
    value_text,
    window_comparison_panel,
    windows_panel,
)
from rustybt.exceptions import ParameterValidationError

if TYPE_CHECKING:
    from rustybt.optimization.study import OptimizationResult
    from rustybt.optimization.walkforward import WalkForwardResult

__all__ = [
    "StitchedRun",
    "best_cells",
    "checked_search",
    "is_search",
    "is_walk_forward",
    "search_figures",
    "search_panels",
    "stitched_run",
]

#: The trial statistics the trials table shows after the objectives, when present.
SHOWN_METRICS = ("total_return", "annual_return", "max_drawdown", "trades")


def search_classes() -> tuple[type, type]:
    """The two result classes (imported here, on first use: they bring optuna)."""
    from rustybt.optimization.study import OptimizationResult
    from rustybt.optimization.walkforward import WalkForwardResult

    return OptimizationResult, WalkForwardResult


def is_search(value: Any) -> bool:
    """Whether ``value`` is an optimization or a walk-forward result."""
    if isinstance(value, pd.DataFrame) or value is None:
        return False
    return isinstance(value, search_classes())


def checked_search(value: Any, argument: str) -> OptimizationResult | WalkForwardResult:
    """``value`` when it is a search's result; else a one-line error naming ``argument``."""
    if not is_search(value):
        raise ParameterValidationError(
            f"{argument}: expected the result of rustybt.optimization.optimize or "
            f"walk_forward, got {type(value).__name__}",
            context={"argument": argument},
        )
    return cast("OptimizationResult | WalkForwardResult", value)


def is_walk_forward(
    result: OptimizationResult | WalkForwardResult,
) -> TypeGuard[WalkForwardResult]:
    """Whether ``result`` is a walk-forward's (else an optimization's)."""
    return isinstance(result, search_classes()[1])


def complete_trials(result: OptimizationResult) -> pd.DataFrame:
    """The trials that finished, by trial number."""
    trials = result.trials
    return trials[trials["status"] == "complete"].reset_index(drop=True)


def best_cells(result: OptimizationResult, x: str, y: str) -> pd.Series:
    """The first objective at each pair of ``x`` and ``y`` values tried: the best trial's
    there (by the objective's direction), indexed by ``(x value, y value)``."""
    objective = result.objectives[0]
    done = complete_trials(result)
    grouped = done.groupby([x, y], sort=False)[objective.name]
    best = grouped.max() if objective.direction == "maximize" else grouped.min()
    return best.rename(objective.name)


def objective_panel(result: OptimizationResult) -> Panel:
    """The objective against the parameters: a line (one), a heatmap (two), parallel
    coordinates (three or more, or two with too many values each for a heatmap's cells:
    a random search over floats)."""
    objective = result.objectives[0]
    names = list(result.space.names)
    done = complete_trials(result)
    if len(names) == 1:
        return objective_line_panel(done, names[0], objective.name, objective.direction)
    if len(names) == 2 and all(done[name].nunique() <= MAX_HEATMAP_VALUES for name in names):
        cells = best_cells(result, names[0], names[1])
        return objective_heatmap_panel(
            cells,
            axis_values(done[names[0]]),
            axis_values(done[names[1]]),
            objective.direction,
        )
    dimensions = names + [o.name for o in result.objectives]
    return parallel_coordinates_panel(done, dimensions, objective.name, objective.direction)


def listed_trials(result: OptimizationResult) -> pd.DataFrame:
    """The trials table's rows: complete trials best first, then the others by number."""
    others = result.trials[result.trials["status"] != "complete"]
    listed = pd.concat([result.ranked(), others], ignore_index=True)
    return listed.iloc[:MAX_TABLE_TRIALS]


def optimization_panels(result: OptimizationResult) -> list[Panel]:
    """The panels of a search: objective by parameters, Pareto front, trials."""
    objectives = [o.name for o in result.objectives]
    metrics = objectives + [m for m in SHOWN_METRICS if m in result.trials and m not in objectives]
    panels = []
    if len(complete_trials(result)):
        panels.append(objective_panel(result))
        if len(objectives) > 1:
            panels.append(pareto_panel(complete_trials(result), result.pareto_front, objectives))
    panels.append(
        trials_panel(listed_trials(result), result.space.names, metrics, len(result.trials))
    )
    return panels


def walk_forward_panels(result: WalkForwardResult) -> list[Panel]:
    """The panels of a walk-forward: stitched equity, windows, parameter stability."""
    objective = result.objectives[0].name
    names = list(result.space.names)
    return [
        oos_equity_panel(result.oos_perf["equity"], result.windows),
        window_comparison_panel(result.windows, objective),
        windows_panel(result.windows, names, objective),
        stability_panel(result.windows, names, result.parameter_stability),
    ]


def search_panels(result: OptimizationResult | WalkForwardResult) -> list[Panel]:
    """The panels of an optimization's or a walk-forward's result."""
    if is_walk_forward(result):
        return walk_forward_panels(result)
    return optimization_panels(cast("OptimizationResult", result))


def number_text(value: float, digits: str = ".4g") -> str:
    return "n/a" if value is None or not math.isfinite(value) else format(value, digits)


def search_figures(result: OptimizationResult | WalkForwardResult) -> tuple[KeyFigure, ...]:
    """The key figures of a search: its trials and best; of a walk-forward: its windows
    and efficiency."""
    objectives = result.objectives
    direction = ", ".join(f"{o.name} ({o.direction})" for o in objectives)
    if is_walk_forward(result):
        windows = result.windows
        figures = [
            KeyFigure("windows", "Windows", str(len(windows))),
            KeyFigure("trials", "Trials per window", value_text(windows["trials"].max())),
            KeyFigure("objective", "Objective", direction),
            KeyFigure(
                "efficiency", "Walk-forward efficiency", number_text(result.efficiency, ".2f")
            ),
            KeyFigure(
                "is_annual_return",
                "Mean in-sample annual return",
                f"{windows['is_annual_return'].mean():.2%}",
            ),
            KeyFigure(
                "oos_annual_return",
                "Mean out-of-sample annual return",
                f"{windows['oos_annual_return'].mean():.2%}",
            ),
        ]
        return tuple(figures)
    search = cast("OptimizationResult", result)
    counts = search.trials["status"].value_counts()
    figures = [
        KeyFigure("trials", "Trials", f"{len(search.trials):,}"),
        KeyFigure("complete", "Complete", f"{int(counts.get('complete', 0)):,}"),
        KeyFigure("failed", "Failed", f"{int(counts.get('fail', 0)):,}"),
        KeyFigure("objective", "Objective", direction),
    ]
    if int(counts.get("complete", 0)) == 0:
        return tuple(figures)
    if len(objectives) > 1:
        figures.append(KeyFigure("pareto", "On the Pareto front", str(len(search.pareto_front))))
        return tuple(figures)
    best = search.best_trial
    figures.append(
        KeyFigure(
            "best_value", f"Best {objectives[0].name}", number_text(float(best[objectives[0].name]))
        )
    )
    figures += [
        KeyFigure(f"best_{name}", f"Best {name}", value_text(value))
        for name, value in search.best_params.items()
    ]
    figures.append(KeyFigure("best_trial", "Best trial", str(int(best["number"]))))
    return tuple(figures)


def search_title(result: OptimizationResult | WalkForwardResult) -> str:
    """A search's section heading and default page title."""
    return "Walk-forward analysis" if is_walk_forward(result) else "Parameter search"


def search_subtitle(result: OptimizationResult | WalkForwardResult) -> str:
    """What the search was, under the page's title."""
    names = ", ".join(result.space.names)
    if is_walk_forward(result):
        windows = result.windows
        equity = result.oos_perf["equity"]
        first, last = windows["test_start"].iloc[0], windows["test_end"].iloc[-1]
        start = float(equity.iloc[0]) / (1.0 + float(result.oos_perf["returns"].iloc[0]))
        return (
            f"{len(windows)} windows of {names} · out of sample {first:%Y-%m-%d} to "
            f"{last:%Y-%m-%d} · {len(equity):,} sessions · "
            f"equity {start:,.2f} → {float(equity.iloc[-1]):,.2f}"
        )
    search = cast("OptimizationResult", result)
    return f"{len(search.trials):,} trials of {names} · study {search.study.study_name}"


@dataclass(frozen=True)
class StitchedRun:
    """A walk-forward's out-of-sample record read as one run.

    Attributes
    ----------
    perf
        ``oos_perf``: the test runs' rows end to end (each restarts from the
        capital base; its ``equity`` compounds them).
    benchmark
        The benchmark's daily returns, window by window (each test run's
        ``benchmark_period_return`` restarts at its first session), or None.
    runs
        The window of each row: each window is a run of its own, whose trades
        and holdings do not carry into the next.
    """

    perf: pd.DataFrame
    benchmark: pd.Series | None
    runs: pd.Series


def stitched_run(result: WalkForwardResult) -> StitchedRun:
    """The out-of-sample record of a walk-forward as the run panels read a run."""
    oos = result.oos_perf
    parts = [benchmark_returns_of(frame) for _, frame in oos.groupby("window", sort=False)]
    benchmark = None if any(part is None for part in parts) else pd.concat(parts)
    return StitchedRun(oos, benchmark, oos["window"])
