"""Objectives: the number a search maximizes or minimizes, read from a perf frame.

The return statistics are :mod:`rustybt.analytics.statistics`' (empyrical's
definitions, computed with NumPy, so a worker process starts without
empyrical or SciPy); this module names them and reads them from a perf frame.

Examples
--------
>>> import pandas as pd
>>> perf = pd.DataFrame({"returns": [0.0, 0.01, -0.02, 0.015], "pnl": [0, 10, -20, 15]})
>>> round(summary_statistics(perf)["max_drawdown"], 4)
-0.02
>>> [(o.name, o.direction) for o in resolve_objectives(["sharpe", "max_drawdown:min", "pnl"])]
[('sharpe', 'maximize'), ('max_drawdown', 'minimize'), ('pnl', 'maximize')]
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

from rustybt.analytics.statistics import (
    TRADING_DAYS_PER_YEAR,
    Returns,
    annual_return,
    annual_volatility,
    calmar_ratio,
    max_drawdown,
    omega_ratio,
    return_statistics,
    sharpe_ratio,
    sortino_ratio,
    stability_of_timeseries,
    tail_ratio,
    total_return,
)
from rustybt.exceptions import ParameterValidationError

# Its public names; the return statistics are rustybt.analytics.statistics', re-exported
# here for the callers of this module.
__all__ = [
    "NON_NUMERIC_COLUMNS",
    "OBJECTIVE_PREFIX",
    "STATISTICS",
    "TRADING_DAYS_PER_YEAR",
    "Column",
    "Direction",
    "Evaluator",
    "Objective",
    "Returns",
    "Statistic",
    "annual_return",
    "annual_volatility",
    "calmar_ratio",
    "make_evaluator",
    "max_drawdown",
    "omega_ratio",
    "resolve_objectives",
    "return_statistics",
    "sharpe_ratio",
    "sortino_ratio",
    "stability_of_timeseries",
    "summary_statistics",
    "tail_ratio",
    "total_return",
]

Direction: TypeAlias = Literal["maximize", "minimize"]
# The key under which an evaluator reports each objective's value.
OBJECTIVE_PREFIX = "objective:"

# Every statistic of summary_statistics and the direction a search takes by
# default. max_drawdown is negative (-0.25 is a 25% fall), so maximizing it
# seeks the smallest drawdown.
STATISTICS: dict[str, Direction] = {
    "sharpe": "maximize",
    "sortino": "maximize",
    "calmar": "maximize",
    "omega": "maximize",
    "stability": "maximize",
    "tail_ratio": "maximize",
    "total_return": "maximize",
    "annual_return": "maximize",
    "annual_volatility": "minimize",
    "max_drawdown": "maximize",
    "final_value": "maximize",
    "trades": "maximize",
    "trading_days": "maximize",
}
# Perf columns that hold lists or timestamps, never an objective.
NON_NUMERIC_COLUMNS = frozenset(
    {"orders", "positions", "transactions", "period_open", "period_close", "period_label"}
)


def _last(perf: pd.DataFrame, column: str) -> float:
    return float(perf[column].iloc[-1]) if column in perf and len(perf) else math.nan


def summary_statistics(perf: pd.DataFrame) -> dict[str, float]:
    """Every named statistic of a perf frame (floats; NaN where undefined).

    The return statistics come from the ``returns`` column (one row a session);
    ``total_return`` is the last ``algorithm_period_return`` (when present),
    ``final_value`` the last ``portfolio_value``, ``trades`` the number of
    fills in ``transactions`` and ``trading_days`` the number of rows.

    Examples
    --------
    >>> perf = pd.DataFrame({"returns": [0.0, 0.1], "portfolio_value": [100.0, 110.0]})
    >>> stats = summary_statistics(perf)
    >>> stats["final_value"], stats["trading_days"], math.isnan(stats["trades"])
    (110.0, 2.0, True)
    """
    if "returns" not in perf:
        raise ParameterValidationError(
            f"the perf frame has no 'returns' column (columns: {', '.join(map(str, perf))})"
        )
    stats = return_statistics(perf["returns"].to_numpy(dtype=np.float64, na_value=np.nan))
    if "algorithm_period_return" in perf:
        stats["total_return"] = _last(perf, "algorithm_period_return")
    stats["final_value"] = _last(perf, "portfolio_value")
    fills = sum(map(len, perf["transactions"])) if "transactions" in perf else math.nan
    stats["trades"] = float(fills)
    stats["trading_days"] = float(len(perf))
    return stats


@dataclass(frozen=True)
class Statistic:
    """One named statistic of :func:`summary_statistics` (a picklable function)."""

    name: str

    def __call__(self, perf: pd.DataFrame) -> float:
        return summary_statistics(perf)[self.name]


def _refused(objective: str, problem: str) -> ParameterValidationError:
    return ParameterValidationError(
        f"objective {objective}: {problem}", context={"objective": objective}
    )


@dataclass(frozen=True)
class Column:
    """The last value of a perf column (a picklable function)."""

    name: str

    def __call__(self, perf: pd.DataFrame) -> float:
        if self.name not in perf:
            raise _refused(
                repr(self.name),
                f"not a statistic ({', '.join(STATISTICS)}) nor a column of the perf "
                f"frame (columns: {', '.join(map(str, perf))})",
            )
        value = perf[self.name].iloc[-1] if len(perf) else None
        try:
            return math.nan if value is None else float(value)
        except (TypeError, ValueError):
            raise _refused(repr(self.name), f"the last value {value!r} is not a number") from None


@dataclass(frozen=True)
class Objective:
    """What a search optimizes: a named number of the perf frame and a direction.

    Parameters
    ----------
    name
        The statistic, column or function name (the metric key of a trial).
    direction
        ``"maximize"`` or ``"minimize"``.
    function
        ``perf -> float``; picklable, since worker processes call it.
    """

    name: str
    direction: Direction
    function: Callable[[pd.DataFrame], float]

    def __post_init__(self) -> None:
        if self.direction not in ("maximize", "minimize"):
            raise _refused(
                repr(self.name), f"direction {self.direction!r} is not maximize or minimize"
            )

    def __call__(self, perf: pd.DataFrame) -> float:
        return float(self.function(perf))


_DIRECTIONS: dict[str, Direction] = {
    "max": "maximize",
    "maximize": "maximize",
    "min": "minimize",
    "minimize": "minimize",
}


def _direction(text: str | None, objective: str) -> Direction | None:
    """'max'/'maximize'/'min'/'minimize' (any case) as optuna's word; None stays None."""
    if text is None:
        return None
    if (word := str(text).strip().lower()) not in _DIRECTIONS:
        raise _refused(objective, f"direction {text!r} is not max, maximize, min or minimize")
    return _DIRECTIONS[word]


def _named_objective(spec: str, direction: Direction | None) -> Objective:
    name, colon, suffix = spec.rpartition(":")
    given = _direction(suffix, repr(spec)) if colon else None
    if given and direction and given != direction:
        raise _refused(repr(spec), f"its :{suffix} contradicts direction {direction!r}")
    name, direction = (name if colon else spec).strip(), given or direction
    known = ", ".join(STATISTICS)
    if not name:
        raise _refused(repr(spec), f"no name (statistics: {known})")
    if name == "returns":
        raise _refused("'returns'", "that is one day's return; use total_return or annual_return")
    if name in NON_NUMERIC_COLUMNS:
        raise _refused(
            repr(name),
            f"that perf column holds no numbers; use a statistic ({known}) or a number column",
        )
    if name in STATISTICS:
        return Objective(name, direction or STATISTICS[name], Statistic(name))
    return Objective(name, direction or "maximize", Column(name))


def _function_objective(function: Callable[..., Any], direction: Direction | None) -> Objective:
    qualname = getattr(function, "__qualname__", type(function).__qualname__)
    try:
        refused = "<lambda>" in qualname or "<locals>" in qualname
        pickle.dumps(function)
    except Exception:
        refused = True
    if refused:
        raise _refused(
            qualname,
            "worker processes cannot import it; define it at module level "
            "(def name(perf) -> float), not as a lambda or a nested function",
        )
    name = getattr(function, "__name__", type(function).__name__)
    return Objective(name, direction or "maximize", function)


def resolve_objectives(
    objective: Any, direction: str | Sequence[str | None] | None = None
) -> tuple[Objective, ...]:
    """The objectives of a search: one, or several for a multi-objective search.

    Parameters
    ----------
    objective
        A statistic name (:data:`STATISTICS`), any other perf column (its last
        value; checked when a perf frame is evaluated), either with ``:min``
        or ``:max``, a module-level function ``perf -> float`` (named by its
        ``__name__``), an :class:`Objective`, or a sequence of these.
    direction
        ``"maximize"``/``"minimize"`` (or ``max``/``min``) for one objective,
        or a sequence with one entry (or None: the default) per objective.

    Examples
    --------
    >>> resolve_objectives("annual_volatility")[0].direction
    'minimize'
    >>> [o.direction for o in resolve_objectives(["sharpe", "trades"], ["max", "min"])]
    ['maximize', 'minimize']
    >>> try:
    ...     resolve_objectives(lambda perf: 1.0)
    ... except ParameterValidationError as exc:
    ...     print(str(exc)[:53])
    objective <lambda>: worker processes cannot import it
    """
    single = isinstance(objective, str) or callable(objective)
    items = list(objective) if not single and isinstance(objective, Iterable) else [objective]
    if not items:
        raise ParameterValidationError("no objective given (e.g. objective='sharpe')")
    if direction is None or isinstance(direction, str):
        directions: list[str | None] = [direction] * len(items)
    else:
        directions = list(direction)
    if (isinstance(direction, str) and len(items) > 1) or len(directions) != len(items):
        raise ParameterValidationError(
            f"direction {direction!r} for {len(items)} objectives: give one per objective"
        )
    objectives = [
        _resolve_one(item, _direction(given, repr(item)))
        for item, given in zip(items, directions, strict=True)
    ]
    names = [o.name for o in objectives]
    for name in names:
        if names.count(name) > 1:
            raise _refused(repr(name), "given twice")
    return tuple(objectives)


def _resolve_one(item: Any, direction: Direction | None) -> Objective:
    if isinstance(item, Objective):
        return replace(item, direction=direction) if direction else item
    if isinstance(item, str):
        return _named_objective(item, direction)
    if callable(item):
        return _function_objective(item, direction)
    raise _refused(repr(item), "expected a statistic, a perf column or a function perf -> float")


@dataclass(frozen=True)
class Evaluator:
    """``perf -> metrics``: every summary statistic and each objective's value.

    Picklable, so it travels to worker processes; objective values are under
    ``"objective:<name>"`` (:data:`OBJECTIVE_PREFIX`).
    """

    objectives: tuple[Objective, ...]

    @property
    def metrics_set(self) -> str:
        """The metrics set a run needs for this evaluation: ``"returns"`` (what
        :func:`summary_statistics` reads) when every objective is one of its
        statistics, else ``"default"`` (a column or a function may read any)."""
        statistics = all(isinstance(o.function, Statistic) for o in self.objectives)
        return "returns" if statistics else "default"

    def __call__(self, perf: pd.DataFrame) -> dict[str, float]:
        metrics = summary_statistics(perf)
        for objective in self.objectives:
            metrics[OBJECTIVE_PREFIX + objective.name] = objective(perf)
        return metrics


def make_evaluator(objectives: Sequence[Objective]) -> Evaluator:
    """The evaluator a trial runner calls on each trial's perf frame.

    Examples
    --------
    >>> evaluate = make_evaluator(resolve_objectives("final_value"))
    >>> metrics = evaluate(pd.DataFrame({"returns": [0.0], "portfolio_value": [1e5]}))
    >>> metrics["objective:final_value"], metrics["trading_days"]
    (100000.0, 1.0)
    """
    return Evaluator(tuple(objectives))
