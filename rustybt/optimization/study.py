"""Parameter search: an optuna study whose every trial is a real backtest.

:func:`optimize` asks optuna's sampler for parameters, runs each set as a
backtest through an executor (this process, a pool of processes, or Ray),
and tells the study each result as it arrives, so every finished trial is in
the storage before the next one is scheduled. A study lives in a SQLite file
under ``RUSTYBT_ROOT`` by default, named after the algorithm, the bundle, the
dates, the method and the objectives: running the same search again resumes
it, and only the trials that were in flight when it was killed run again.

Results do not depend on the executor or the number of workers. The trials
are asked for in this process, in trial-number order. The samplers that learn
from results (TPE, CMA-ES, NSGA-II) are asked a generation of trials at a
time, and the next generation is asked only once the whole previous one is
told; grid and random search learn nothing and stream.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import pandas as pd

from rustybt.exceptions import OptimizationError, ParameterValidationError
from rustybt.optimization.executors import make_executor
from rustybt.optimization.objectives import (
    OBJECTIVE_PREFIX,
    Objective,
    make_evaluator,
    resolve_objectives,
)
from rustybt.optimization.space import ParameterSpace
from rustybt.optimization.trial import BacktestSpec, TrialOutcome, TrialTask
from rustybt.utils.paths import rustybt_root

__all__ = [
    "GENERATION_SIZE",
    "METHODS",
    "OptimizationResult",
    "backtest_spec",
    "default_storage",
    "default_study_name",
    "optimize",
]

#: The search methods and what each needs of the space.
METHODS = ("grid", "random", "tpe", "cmaes", "nsga2")

#: Trials asked together by the samplers that learn from results (the next
#: generation waits for this one): a fixed number, so that the trials asked do
#: not depend on how many workers run them.
GENERATION_SIZE = 4

# User attributes of a trial (stored with it, so a resumed study's table is whole).
_METRICS, _DURATION, _WORKER, _ERROR, _RERUN_OF = (
    "metrics",
    "duration",
    "worker",
    "error",
    "rerun_of",
)
# The study's own record of what it searches (checked when it is resumed).
_DEFINITION = "rustybt"


@dataclass(frozen=True)
class OptimizationResult:
    """What a search found.

    Attributes
    ----------
    study
        The optuna study (its storage holds every trial).
    space
        The parameter space searched.
    objectives
        What was optimized, in order.
    trials
        One row per trial, by trial number: the parameters, the objective
        values, every summary statistic, ``duration`` (seconds of backtest),
        ``status`` ("complete", "fail" or "interrupted": in flight when a run
        was killed, and run again as a later trial), ``error`` and ``worker``.
    """

    study: optuna.Study
    space: ParameterSpace
    objectives: tuple[Objective, ...]
    trials: pd.DataFrame

    def ranked(self, objective: str | None = None) -> pd.DataFrame:
        """The complete trials, best first by ``objective`` (default: the first
        objective), the lowest trial number first among equals."""
        chosen = self.objectives[0] if objective is None else self._objective(objective)
        done = self.trials[self.trials["status"] == "complete"]
        ascending = chosen.direction == "minimize"
        ordered = done.sort_values([chosen.name, "number"], ascending=[ascending, True])
        return ordered.reset_index(drop=True)

    def best_by(self, objective: str | None = None) -> pd.Series:
        """The first row of :meth:`ranked`."""
        ranked = self.ranked(objective)
        if ranked.empty:
            raise OptimizationError(
                f"study {self.study.study_name!r} has no complete trial",
                context={"study": self.study.study_name},
            )
        return ranked.iloc[0]

    def params_of(self, trial: pd.Series) -> dict[str, Any]:
        """The parameters of a row of :attr:`trials`, as Python values in the space's order."""
        return {name: _plain(trial[name]) for name in self.space.names}

    @property
    def best_trial(self) -> pd.Series:
        """The row of :attr:`trials` with the best objective value (single objective)."""
        if len(self.objectives) > 1:
            raise OptimizationError(
                "a multi-objective study has a Pareto front, not one best trial: "
                "see result.pareto_front, or result.best_by(name)",
                context={"objectives": [o.name for o in self.objectives]},
            )
        return self.best_by()

    @property
    def best_params(self) -> dict[str, Any]:
        """The parameters of :attr:`best_trial`, in the space's order."""
        return self.params_of(self.best_trial)

    @property
    def best_value(self) -> float:
        """The objective value of :attr:`best_trial`."""
        return float(self.best_trial[self.objectives[0].name])

    def _objective(self, name: str) -> Objective:
        for objective in self.objectives:
            if objective.name == name:
                return objective
        raise ParameterValidationError(
            f"{name!r} is not an objective of this study "
            f"({', '.join(o.name for o in self.objectives)})",
            context={"objective": name},
        )

    @property
    def pareto_front(self) -> pd.DataFrame:
        """The trials no other trial beats on every objective (by trial number)."""
        numbers = sorted(t.number for t in self.study.best_trials)
        return self.trials[self.trials["number"].isin(numbers)].reset_index(drop=True)


def default_storage(environ: Mapping[str, str] | None = None) -> str:
    """The SQLite file under ``RUSTYBT_ROOT`` that holds studies by default."""
    folder = rustybt_root(environ) / "optimization"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'studies.db'}"


def optimize(
    algorithm: str | os.PathLike[str],
    space: ParameterSpace,
    bundle: str = "demo",
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
    objective: Any = "sharpe",
    method: str = "tpe",
    trials: int | None = None,
    jobs: int = 1,
    ray_address: str | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    seed: int = 0,
    direction: str | Sequence[str] | None = None,
    capital_base: float = 100_000,
    data_frequency: str = "daily",
    benchmark_symbol: str | None = None,
    params: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    progress: Callable[[TrialOutcome, int, int], None] | None = None,
    executor: Any = None,
) -> OptimizationResult:
    """Search ``space`` for the parameters of ``algorithm`` that optimize ``objective``.

    Every trial is a real backtest of the algorithm file on ``bundle`` from
    ``start`` to ``end``; its parameters reach the algorithm as
    ``context.params`` and as names in the script's namespace (what
    ``rustybt run -D name=value`` does).

    Parameters
    ----------
    algorithm
        The algorithm's ``.py`` file.
    space
        The parameters to search.
    bundle, start, end, capital_base, data_frequency, benchmark_symbol
        The backtest, as ``rustybt run`` takes it.
    objective
        A statistic's name ("sharpe", "sortino", "calmar", "total_return",
        "max_drawdown", ...), a perf column's name, "name:min"/"name:max", a
        module-level function of the perf frame, or a sequence of these
        (multi-objective: use ``method="nsga2"`` or "tpe").
    method
        "grid" (every point of the space, which must be discrete), "random",
        "tpe", "cmaes" (one objective, numeric parameters) or "nsga2".
    trials
        How many trials the study should hold when done (finished ones of an
        earlier run count). Default: the grid's size for "grid", else 50.
    jobs
        Worker processes (-1: one per core); 1 runs in this process.
    ray_address
        Run on Ray instead: "local" starts a local Ray, "auto" or an address
        joins a cluster.
    storage
        An optuna storage URL (any RDB URL, e.g. ``sqlite:///study.db``), or
        ":memory:". Default: :func:`default_storage`.
    study_name
        The study's name in the storage: a study of that name is resumed.
        Default: made of the algorithm, bundle, dates, method and objectives,
        and a digest of the whole search (see :func:`default_study_name`).
    seed
        The sampler's seed.
    direction
        Override the objectives' directions ("maximize"/"minimize").
    params
        Fixed parameters passed to every trial, beside the searched ones.
    environ
        Where ``RUSTYBT_ROOT`` is read (default: the process environment).
    progress
        Called as ``progress(outcome, done, total)`` after each trial.
    executor
        An executor to run the trials on (kept open: several searches can
        share its workers); default: one made from ``jobs`` and
        ``ray_address`` for this search.

    Returns
    -------
    OptimizationResult

    Raises
    ------
    ParameterValidationError
        An unknown method, a grid over a continuous parameter, a missing
        algorithm file, CMA-ES with several objectives.
    OptimizationError
        Every trial failed (the first error is named), or the storage holds a
        study of that name that searched something else.

    Examples
    --------
    >>> from rustybt.optimization import Int, ParameterSpace, optimize
    >>> space = ParameterSpace(fast=Int(5, 50, step=5), slow=Int(20, 200, step=20))
    >>> result = optimize("examples/dual_moving_average.py", space, bundle="demo",
    ...                   start="2015-01-02", end="2022-12-30", method="grid",
    ...                   jobs=2)  # doctest: +SKIP
    >>> result.best_params  # doctest: +SKIP
    {'fast': 20, 'slow': 140}
    """
    objectives = resolve_objectives(objective, direction)
    sampler = _sampler(method, space, seed, objectives)
    total = _trial_count(method, space, trials)
    evaluate = make_evaluator(objectives)
    # Each trial computes only the metrics its evaluation reads.
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
        evaluate.metrics_set,
    )
    _check_names(space, spec.fixed_params)
    definition = _definition(spec, space, objectives, method)
    study = _open_study(
        storage if storage is not None else default_storage(environ),
        study_name or default_study_name(spec, [method, *(o.name for o in objectives)], definition),
        sampler,
        objectives,
        definition,
    )
    remaining = total - _requeue_interrupted(study)
    if method == "grid":
        _enqueue_grid(study, space, total)
    generation = GENERATION_SIZE if method in ("tpe", "cmaes", "nsga2") else None
    done = total - remaining
    with ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(make_executor(jobs, ray_address))
        while remaining > 0:
            size = remaining if generation is None else min(generation, remaining)
            asked = _Asked(study, space, size)
            for outcome in executor.run(spec, asked.tasks(), evaluate):
                _tell(study, asked.trial(outcome.number), outcome, objectives)
                done += 1
                if progress is not None:
                    progress(outcome, done, total)
            remaining -= size
    result = OptimizationResult(study, space, objectives, trials_frame(study, space, objectives))
    _check_some_complete(result)
    return result


class _Asked:
    """Trials asked of the study one at a time, as the executor takes their tasks."""

    def __init__(self, study: optuna.Study, space: ParameterSpace, size: int) -> None:
        self._study = study
        self._space = space
        self._size = size
        self._trials: dict[int, optuna.Trial] = {}

    def tasks(self) -> Iterator[TrialTask]:
        for _ in range(self._size):
            trial = self._study.ask()
            self._trials[trial.number] = trial
            yield TrialTask(trial.number, self._space.suggest(trial))

    def trial(self, number: int) -> optuna.Trial:
        return self._trials[number]


def _tell(
    study: optuna.Study,
    trial: optuna.Trial,
    outcome: TrialOutcome,
    objectives: tuple[Objective, ...],
) -> None:
    """Record ``outcome`` as ``trial``'s result (a trial whose objective is NaN fails)."""
    trial.set_user_attr(_DURATION, outcome.duration)
    trial.set_user_attr(_WORKER, outcome.worker)
    error = outcome.error
    values: list[float] = []
    if outcome.status == "complete":
        trial.set_user_attr(_METRICS, outcome.metrics)
        values = [outcome.metrics[OBJECTIVE_PREFIX + o.name] for o in objectives]
        undefined = [o.name for o, v in zip(objectives, values, strict=True) if math.isnan(v)]
        if undefined:
            error = f"objective {', '.join(undefined)} is undefined (NaN) for this run"
    if error is not None:
        trial.set_user_attr(_ERROR, error)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    else:
        study.tell(trial, values)


def trials_frame(
    study: optuna.Study, space: ParameterSpace, objectives: tuple[Objective, ...]
) -> pd.DataFrame:
    """The study's trials as :attr:`OptimizationResult.trials` shows them."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        metrics = {
            k: v for k, v in attrs.get(_METRICS, {}).items() if not k.startswith(OBJECTIVE_PREFIX)
        }
        row: dict[str, Any] = {"number": trial.number}
        # The values the algorithm ran with (a stepped float as the grid has it).
        params = space.validate(trial.params) if len(trial.params) == len(space.names) else {}
        row.update({name: params.get(name) for name in space.names})
        recorded = attrs.get(_METRICS, {})
        for objective in objectives:
            row[objective.name] = recorded.get(OBJECTIVE_PREFIX + objective.name, math.nan)
        row.update({k: v for k, v in metrics.items() if k not in row})
        row["duration"] = attrs.get(_DURATION, math.nan)
        row["status"] = _status(trial)
        row["error"] = attrs.get(_ERROR)
        row["worker"] = attrs.get(_WORKER)
        row["rerun_of"] = attrs.get(_RERUN_OF)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("number", ignore_index=True)


def _status(trial: optuna.trial.FrozenTrial) -> str:
    if _interrupted(trial):
        return "interrupted"
    if trial.state == optuna.trial.TrialState.COMPLETE:
        return "complete"
    if trial.state == optuna.trial.TrialState.FAIL:
        return "fail"
    return trial.state.name.lower()


def _check_some_complete(result: OptimizationResult) -> None:
    """One clear error for a study none of whose trials completed."""
    trials = result.trials
    if len(trials) and not (trials["status"] == "complete").any():
        first = trials.loc[trials["status"] == "fail", "error"]
        reason = first.iloc[0] if len(first) else "every trial was interrupted"
        raise OptimizationError(
            f"study {result.study.study_name!r}: all {len(trials)} trials failed; "
            f"the first: {reason}",
            context={"study": result.study.study_name, "error": reason},
        )


# --- the study and its storage ---------------------------------------------------------


def _open_study(
    storage: str,
    name: str,
    sampler: optuna.samplers.BaseSampler,
    objectives: tuple[Objective, ...],
    definition: dict[str, Any],
) -> optuna.Study:
    """Create the study, or load the one of that name if it searched the same thing."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = None if storage == ":memory:" else storage
    study = optuna.create_study(
        storage=url,
        study_name=name,
        sampler=sampler,
        directions=[o.direction for o in objectives],
        load_if_exists=True,
    )
    stored = study.user_attrs.get(_DEFINITION)
    if stored is None:
        study.set_user_attr(_DEFINITION, definition)
    elif stored != definition:
        changed = sorted(k for k in definition if stored.get(k) != definition[k])
        raise OptimizationError(
            f"study {name!r} in {storage} searched another {', '.join(changed)}; "
            "give another study name to start a new one",
            context={"study": name, "storage": storage, "changed": changed},
        )
    return study


def _requeue_interrupted(study: optuna.Study) -> int:
    """Fail the trials a killed run left running, and queue their parameters again.

    Returns how many trials the study holds as done (complete, or failed by
    the algorithm); the re-queued ones run again as new trials.
    """
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
        # A trial killed between being asked and drawing its parameters holds them
        # only as the queued point it was given (a grid's, or an earlier re-run's).
        params = trial.params or trial.system_attrs.get("fixed_params", {})
        if params:
            study.enqueue_trial(params, user_attrs={_RERUN_OF: trial.number})
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
    return sum(1 for t in study.get_trials(deepcopy=False, states=finished) if not _interrupted(t))


def _enqueue_grid(study: optuna.Study, space: ParameterSpace, total: int) -> None:
    """Queue the first ``total`` points of the grid that no trial holds yet (done,
    or queued to run), in grid order."""
    held = []
    for trial in study.get_trials(deepcopy=False):
        if trial.state == optuna.trial.TrialState.WAITING:
            held.append(trial.system_attrs.get("fixed_params", {}))
        elif trial.state.is_finished() and not _interrupted(trial):
            held.append(trial.params)
    seen = {tuple(space.validate(params).items()) for params in held if params}
    for point in space.grid()[:total]:
        if tuple(point.items()) not in seen:
            study.enqueue_trial(point)


def _interrupted(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether ``trial`` was in flight when its run was killed: every trial this
    module tells has a duration; one failed without it was never told."""
    return trial.state == optuna.trial.TrialState.FAIL and _DURATION not in trial.user_attrs


def _definition(
    spec: BacktestSpec, space: ParameterSpace, objectives: tuple[Objective, ...], method: str
) -> dict[str, Any]:
    """What a study searches, as stored with it (JSON)."""
    return {
        "algorithm": spec.algorithm,
        "bundle": spec.bundle,
        "start": str(spec.start),
        "end": str(spec.end),
        "capital_base": spec.capital_base,
        "data_frequency": spec.data_frequency,
        "benchmark_symbol": spec.benchmark_symbol,
        "fixed_params": {k: repr(v) for k, v in spec.fixed_params.items()},
        "space": space.to_dict(),
        "objectives": [[o.name, o.direction] for o in objectives],
        "method": method,
    }


def default_study_name(
    spec: BacktestSpec, details: Sequence[Any], definition: Mapping[str, Any]
) -> str:
    """A study's default name: the algorithm, bundle and dates of ``spec`` and
    ``details`` (the search at a glance), then a short digest of ``definition``
    (what it searches), so that the same search resumes its study and a changed
    one (another space, say) starts anew.

    Examples
    --------
    >>> spec = BacktestSpec("algo.py", "demo", "2015-01-02", "2015-12-31")
    >>> default_study_name(spec, ["grid"], {"space": {"fast": [5, 10]}})
    'algo-demo-20150102-20151231-grid-5864436b'
    """
    text = json.dumps(definition, sort_keys=True, default=str)
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:8]
    parts = [
        Path(spec.algorithm).stem,
        spec.bundle,
        pd.Timestamp(spec.start).strftime("%Y%m%d"),
        pd.Timestamp(spec.end).strftime("%Y%m%d"),
        *details,
        digest,
    ]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(map(str, parts)))


# --- arguments ---------------------------------------------------------------------


def _sampler(
    method: str, space: ParameterSpace, seed: int, objectives: tuple[Objective, ...]
) -> optuna.samplers.BaseSampler:
    """optuna's sampler for ``method``."""
    if method == "grid":
        # Its points are queued in grid order (see _enqueue_grid): the sampler
        # is never asked. (optuna's GridSampler stops the study when the grid
        # is done, which only works inside study.optimize.)
        space.grid_size()  # refuses a space that has no grid
        return optuna.samplers.RandomSampler(seed=seed)
    if method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if method == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if method == "cmaes":
        if len(objectives) > 1:
            raise ParameterValidationError(
                "method 'cmaes' optimizes one objective; use 'nsga2' or 'tpe' for several",
                context={"method": method},
            )
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if method == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    raise ParameterValidationError(
        f"unknown search method {method!r}; choose one of {', '.join(METHODS)}",
        context={"method": method},
    )


def _trial_count(method: str, space: ParameterSpace, trials: int | None) -> int:
    if trials is not None:
        if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
            raise ParameterValidationError(
                f"trials must be a positive whole number, got {trials!r}",
                context={"trials": repr(trials)},
            )
        return trials
    return space.grid_size() if method == "grid" else 50


def _check_names(space: ParameterSpace, fixed: Mapping[str, Any]) -> None:
    both = sorted(set(space.names) & set(fixed))
    if both:
        raise ParameterValidationError(
            f"parameter(s) {', '.join(both)} are both searched and fixed",
            context={"parameters": both},
        )


def backtest_spec(
    algorithm: str | os.PathLike[str],
    bundle: str,
    start: pd.Timestamp | str | None,
    end: pd.Timestamp | str | None,
    capital_base: float = 100_000,
    data_frequency: str = "daily",
    benchmark_symbol: str | None = None,
    params: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    metrics_set: str = "default",
) -> BacktestSpec:
    """The backtest every trial of a search runs, checked before any trial runs.

    Raises
    ------
    ParameterValidationError
        A missing algorithm file, or no start or end.
    """
    path = Path(algorithm)
    if not path.is_file():
        raise ParameterValidationError(
            f"algorithm file {str(path)!r} not found", context={"algorithm": str(path)}
        )
    if start is None or end is None:
        raise ParameterValidationError(
            "give the backtest's start and end sessions", context={"start": start, "end": end}
        )
    return BacktestSpec(
        algorithm=str(path.resolve()),
        bundle=bundle,
        start=pd.Timestamp(start),
        end=pd.Timestamp(end),
        capital_base=capital_base,
        data_frequency=data_frequency,
        benchmark_symbol=benchmark_symbol,
        root=str(rustybt_root(environ)),
        fixed_params=dict(params or {}),
        metrics_set=metrics_set,
    )


def _plain(value: Any) -> Any:
    """A NumPy scalar of the trials frame as the Python value the space gave."""
    return value.item() if hasattr(value, "item") else value
