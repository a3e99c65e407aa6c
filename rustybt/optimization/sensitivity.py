"""Sensitivity: how the objective moves when the parameters move away from a chosen point.

A parameter set that wins by a whisker on one point of the space and loses
everywhere around it is luck. :func:`sensitivity` runs one-at-a-time sweeps
(each parameter over its values near the chosen point, the others held
there) and two-dimensional grids of parameter pairs, each point a real
backtest, and scores each parameter's stability.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rustybt.exceptions import ParameterValidationError
from rustybt.optimization.executors import make_executor
from rustybt.optimization.objectives import (
    OBJECTIVE_PREFIX,
    Objective,
    make_evaluator,
    resolve_objectives,
)
from rustybt.optimization.space import Categorical, Float, ParameterSpace
from rustybt.optimization.study import backtest_spec
from rustybt.optimization.trial import TrialTask

__all__ = ["SensitivityResult", "neighbourhood", "sensitivity"]


def neighbourhood(space: ParameterSpace, name: str, center: Any, radius: int = 3) -> list[Any]:
    """The values of parameter ``name`` a sweep around ``center`` visits, in order.

    A discrete parameter (an ``Int``, a ``Float`` with a step) gives its
    values up to ``radius`` steps either side of ``center``; a continuous
    ``Float`` gives ``2 * radius + 1`` evenly spaced values (geometrically for
    a log scale) across the middle half of its range around ``center``; a
    ``Categorical`` gives every choice.

    Examples
    --------
    >>> from rustybt.optimization.space import Int
    >>> neighbourhood(ParameterSpace(fast=Int(5, 50, step=5)), "fast", 10, radius=2)
    [5, 10, 15, 20]
    """
    parameter = space.params[name]
    if isinstance(parameter, Categorical):
        return list(parameter.choices)
    if isinstance(parameter, Float) and parameter.step is None:
        return _continuous(parameter, float(center), radius)
    values: list[Any] = list(parameter.values())
    try:
        at = values.index(center)
    except ValueError:
        raise ParameterValidationError(
            f"parameter {name!r}: {center!r} is not one of its values", context={name: center}
        ) from None
    return values[max(0, at - radius) : at + radius + 1]


def _continuous(parameter: Float, center: float, radius: int) -> list[float]:
    """``2 * radius + 1`` points across the middle half of the range, centred on ``center``
    (geometric on a log scale), inside the bounds, without repeats."""
    low, high = parameter.low, parameter.high
    if parameter.log:
        half = (math.log(high) - math.log(low)) / 4
        logs = np.linspace(math.log(center) - half, math.log(center) + half, 2 * radius + 1)
        points = np.exp(logs)
    else:
        half = (high - low) / 4
        points = np.linspace(center - half, center + half, 2 * radius + 1)
    points[radius] = center  # exactly the centre, not its round trip through a log
    return sorted({float(p) for p in np.clip(points, low, high)})


@dataclass(frozen=True)
class SensitivityResult:
    """What the sweeps found.

    Attributes
    ----------
    center
        The parameters every sweep is centred on.
    objective
        The objective measured.
    runs
        Every backtest run: its parameters, the objective and the summary
        statistics (one row per distinct parameter set).
    sweeps
        For each parameter, the objective over its values (the others at the
        centre): a Series indexed by the parameter's value.
    interactions
        For each pair of parameters, the objective over their grid (the
        others at the centre): a DataFrame, rows the first parameter's values
        and columns the second's.
    """

    center: dict[str, Any]
    objective: Objective
    runs: pd.DataFrame
    sweeps: dict[str, pd.Series]
    interactions: dict[tuple[str, str], pd.DataFrame]

    @property
    def stability(self) -> pd.DataFrame:
        """Per parameter: the objective at the centre, the sweep's ``min``, ``max``
        and ``std``, and ``score``: the share of the centre's objective the sweep
        keeps on average (mean over centre for one to maximize, centre over mean
        for one to minimize), clipped to [0, 1]; 1 is flat. NaN when the centre's
        objective is not positive."""
        rows = {}
        for name, sweep in self.sweeps.items():
            base = float(sweep.loc[self.center[name]])
            values = sweep.to_numpy(dtype=float)
            mean = float(np.nanmean(values))
            if base > 0 and mean > 0:
                kept = mean / base if self.objective.direction == "maximize" else base / mean
                score = min(max(kept, 0.0), 1.0)
            else:
                score = math.nan
            rows[name] = {
                "center": base,
                "min": float(np.nanmin(values)),
                "max": float(np.nanmax(values)),
                "std": float(np.nanstd(values)),
                "score": score,
            }
        return pd.DataFrame.from_dict(rows, orient="index")


def sensitivity(
    algorithm: str | os.PathLike[str],
    space: ParameterSpace,
    center: Mapping[str, Any],
    bundle: str = "demo",
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
    objective: Any = "sharpe",
    radius: int = 3,
    pairs: Sequence[tuple[str, str]] | None = None,
    jobs: int = 1,
    ray_address: str | None = None,
    capital_base: float = 100_000,
    data_frequency: str = "daily",
    benchmark_symbol: str | None = None,
    params: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> SensitivityResult:
    """Sweep each parameter around ``center``, and grid each pair of ``pairs``.

    Parameters
    ----------
    algorithm, space, bundle, start, end, capital_base, data_frequency, benchmark_symbol
        As :func:`~rustybt.optimization.study.optimize` takes them.
    center
        The parameters to sweep around (e.g. an optimization's best ones).
    objective
        One objective (see ``optimize``).
    radius
        How many values either side of the centre a sweep visits (see
        :func:`neighbourhood`).
    pairs
        The parameter pairs to grid; default: the first two parameters (none
        for a one-parameter space).
    jobs, ray_address
        Where the backtests run (see ``optimize``).
    params, environ
        Fixed parameters of every run, and where ``RUSTYBT_ROOT`` is read.

    Returns
    -------
    SensitivityResult

    Examples
    --------
    >>> from rustybt.optimization import Int, ParameterSpace, sensitivity
    >>> space = ParameterSpace(fast=Int(5, 50, step=5), slow=Int(20, 200, step=20))
    >>> result = sensitivity("examples/dual_moving_average.py", space,
    ...                      {"fast": 20, "slow": 140}, bundle="demo",
    ...                      start="2015-01-02", end="2022-12-30")  # doctest: +SKIP
    >>> result.stability  # doctest: +SKIP
    """
    (goal,) = _one(resolve_objectives(objective))
    center = space.validate(center)
    if pairs is None:
        pairs = [(space.names[0], space.names[1])] if len(space.names) > 1 else []
    sweeps = {name: neighbourhood(space, name, center[name], radius) for name in space.names}
    points = [{**center, name: value} for name, values in sweeps.items() for value in values]
    for a, b in pairs:
        points += [{**center, a: x, b: y} for x in sweeps[a] for y in sweeps[b]]
    unique = _distinct(points)
    spec = backtest_spec(
        algorithm,
        bundle,
        start,
        end,
        capital_base,
        data_frequency,
        benchmark_symbol,
        params,
        environ,
    )
    evaluate = make_evaluator((goal,))
    with make_executor(jobs, ray_address) as executor:
        tasks = [TrialTask(i, point) for i, point in enumerate(unique)]
        outcomes = sorted(executor.run(spec, tasks, evaluate), key=lambda o: o.number)
    runs = pd.DataFrame(
        [
            {
                **o.params,
                goal.name: o.metrics.get(OBJECTIVE_PREFIX + goal.name, math.nan),
                **{
                    k: v
                    for k, v in o.metrics.items()
                    if not k.startswith(OBJECTIVE_PREFIX) and k != goal.name
                },
                "status": o.status,
                "error": o.error,
            }
            for o in outcomes
        ]
    )
    value = _lookup(runs, space.names, goal.name)
    return SensitivityResult(
        center,
        goal,
        runs,
        {
            name: pd.Series(
                [value({**center, name: v}) for v in values],
                index=pd.Index(values, name=name),
                name=goal.name,
            )
            for name, values in sweeps.items()
        },
        {
            (a, b): pd.DataFrame(
                [[value({**center, a: x, b: y}) for y in sweeps[b]] for x in sweeps[a]],
                index=pd.Index(sweeps[a], name=a),
                columns=pd.Index(sweeps[b], name=b),
            )
            for a, b in pairs
        },
    )


def _one(objectives: tuple[Objective, ...]) -> tuple[Objective]:
    if len(objectives) != 1:
        raise ParameterValidationError(
            "sensitivity measures one objective", context={"objectives": len(objectives)}
        )
    return (objectives[0],)


def _distinct(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``points`` without repeats, in first-seen order."""
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for point in points:
        seen.setdefault(tuple(point.items()), point)
    return list(seen.values())


def _lookup(runs: pd.DataFrame, names: Sequence[str], column: str) -> Any:
    """A function from a parameter set to its run's ``column`` value."""
    index = {tuple(row[:-1]): row[-1] for row in runs[[*names, column]].itertuples(index=False)}

    def value(params: Mapping[str, Any]) -> float:
        return float(index[tuple(params[n] for n in names)])

    return value
