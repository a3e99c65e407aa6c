"""Walk-forward analysis: optimize in-sample, trade the winner out-of-sample, window by window.

The run's trading sessions are cut into windows: a training span, then the
test span right after it. Each window's parameters are searched on its
training sessions alone (:func:`~rustybt.optimization.study.optimize`), and
the best ones are then run, fresh, on its test sessions: a test span's bars
never reach the search that chose its parameters. Windows roll (the training
span moves with the step) or are anchored (the training span starts at the
first session and grows). The test runs, stitched end to end, are the
out-of-sample record of the whole procedure.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from rustybt.data import bundles
from rustybt.exceptions import OptimizationError, ParameterValidationError
from rustybt.optimization.executors import make_executor
from rustybt.optimization.objectives import (
    OBJECTIVE_PREFIX,
    Objective,
    make_evaluator,
    resolve_objectives,
)
from rustybt.optimization.space import ParameterSpace
from rustybt.optimization.study import (
    OptimizationResult,
    backtest_spec,
    default_study_name,
    optimize,
)
from rustybt.optimization.trial import TrialOutcome, TrialTask

__all__ = ["WalkForwardResult", "Window", "session_span", "walk_forward", "walk_forward_windows"]

_SPAN = re.compile(r"^\s*(\d+)\s*([YMWD])\s*$", re.IGNORECASE)
_UNITS = {"Y": "years", "M": "months", "W": "weeks", "D": "days"}


class Window(NamedTuple):
    """One walk-forward window: its training and test sessions (first and last, inclusive)."""

    number: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp


def session_span(span: str | int, name: str) -> pd.DateOffset | int:
    """A window length: "2Y", "6M", "3W", "90D" (calendar time) or a number of sessions.

    Examples
    --------
    >>> session_span("6M", "test"), session_span(63, "step")
    (<DateOffset: months=6>, 63)
    """
    if isinstance(span, int) and not isinstance(span, bool):
        if span < 1:
            raise ParameterValidationError(
                f"{name} must be at least one session, got {span}", context={name: span}
            )
        return span
    match = _SPAN.match(str(span))
    if match is None or int(match.group(1)) < 1:
        raise ParameterValidationError(
            f"{name} {span!r}: give a length such as 2Y, 6M, 3W or 90D, or a number of sessions",
            context={name: str(span)},
        )
    offset: pd.DateOffset = pd.DateOffset(**{_UNITS[match.group(2).upper()]: int(match.group(1))})  # type: ignore[arg-type]
    return offset


def walk_forward_windows(
    sessions: pd.DatetimeIndex,
    train: str | int,
    test: str | int,
    step: str | int | None = None,
    anchored: bool = False,
    end: pd.Timestamp | str | None = None,
) -> list[Window]:
    """Cut ``sessions`` into walk-forward windows; every window's test span is whole.

    A window's training span holds the sessions from its start up to (not
    including) start + ``train``; its test span the sessions from there up to
    start + ``train`` + ``test``. The next window starts ``step`` later
    (default: ``test``, so the test spans tile the run); anchored windows all
    start at the first session and their training span grows by ``step``.
    Calendar lengths are counted from the first session's date (so equal
    spans tile exactly); lengths in sessions count sessions. Windows end by
    ``end`` (default: the last session): a test span that holds a session
    after it makes no window. ``sessions`` may run past ``end`` (the
    calendar's sessions): they tell whether a span that ends past the last
    session in the run is whole.

    Raises
    ------
    ParameterValidationError
        A length that cannot be read, or sessions too few for one window.

    Examples
    --------
    >>> sessions = pd.bdate_range("2020-01-01", "2020-12-31")
    >>> [(str(w.train_start.date()), str(w.test_start.date()), str(w.test_end.date()))
    ...  for w in walk_forward_windows(sessions, "6M", "3M")]
    [('2020-01-01', '2020-07-01', '2020-09-30'), ('2020-04-01', '2020-10-01', '2020-12-31')]
    """
    train_len = session_span(train, "train")
    test_len = session_span(test, "test")
    step_len = test_len if step is None else session_span(step, "step")
    last = len(sessions) if end is None else int(sessions.searchsorted(end, side="right"))
    # Past the sessions given, a date is known to hold no session only up to the next day.
    horizon = sessions[-1] + pd.Timedelta(days=1)
    origin = sessions[0]
    base = _shift(sessions, origin, train_len)
    windows: list[Window] = []
    for i in itertools.count():
        first = origin if anchored else _shift(sessions, origin, step_len, i)
        split = _shift(sessions, base, step_len, i)
        # Test spans as long as the step end where the next one starts.
        stop = (
            _shift(sessions, base, step_len, i + 1)
            if step_len == test_len
            else _shift(sessions, split, test_len)
        )
        a, b, c = (int(sessions.searchsorted(d)) for d in (first, split, stop))
        if stop > horizon or c > last or not a < b < c:
            break
        windows.append(Window(i, sessions[a], sessions[b - 1], sessions[b], sessions[c - 1]))
    if not windows:
        raise ParameterValidationError(
            f"{last} sessions ({sessions[0].date()} .. {sessions[max(last, 1) - 1].date()}) "
            f"hold no whole window of train {train} and test {test}",
            context={"train": str(train), "test": str(test), "sessions": last},
        )
    return windows


def _shift(
    sessions: pd.DatetimeIndex, date: pd.Timestamp, length: pd.DateOffset | int, times: int = 1
) -> pd.Timestamp:
    """The date ``times`` lengths after ``date``: in calendar time, or that many
    sessions after the first one on or after ``date`` (past the last session:
    the day after it when the count ends there, else the end of time)."""
    if not isinstance(length, int):
        return date + length * times if times else date
    position = int(sessions.searchsorted(date)) + length * times
    if position < len(sessions):
        return sessions[position]
    if position == len(sessions):
        return sessions[-1] + pd.Timedelta(days=1)
    return pd.Timestamp.max


@dataclass(frozen=True)
class WalkForwardResult:
    """What a walk-forward analysis found.

    Attributes
    ----------
    windows
        One row per window: its sessions, the parameters its search chose,
        the in-sample (``is_``) and out-of-sample (``oos_``) objective values,
        annual and total returns, the out-of-sample max drawdown, and the
        window's efficiency (out-of-sample over in-sample annual return).
    oos_perf
        The test runs' daily performance rows, end to end, with ``window``
        and ``equity``: the capital compounded through every test run's
        daily returns (each test run starts from the capital base).
    searches
        Each window's :class:`~rustybt.optimization.study.OptimizationResult`.
    space, objectives
        What was searched and optimized.
    """

    windows: pd.DataFrame
    oos_perf: pd.DataFrame
    searches: tuple[OptimizationResult, ...]
    space: ParameterSpace
    objectives: tuple[Objective, ...]

    @property
    def efficiency(self) -> float:
        """Walk-forward efficiency: mean out-of-sample annual return over the
        mean in-sample one (the best trials'); NaN when the latter is 0."""
        in_sample = float(self.windows["is_annual_return"].mean())
        out_of_sample = float(self.windows["oos_annual_return"].mean())
        return out_of_sample / in_sample if in_sample else math.nan

    @property
    def parameter_stability(self) -> pd.DataFrame:
        """How much the chosen parameters move from window to window, one row per parameter.

        ``distinct`` values chosen, the ``mode`` and the share of windows that
        chose it (``mode_share``, 1.0: every window chose the same), and for
        numbers the ``mean``, ``std`` and coefficient of variation ``cv``
        (std over the absolute mean).
        """
        rows = {}
        for name in self.space.names:
            chosen = self.windows[name]
            counts = chosen.value_counts(sort=True)
            row: dict[str, Any] = {
                "distinct": int(chosen.nunique()),
                "mode": counts.index[0],
                "mode_share": float(counts.iloc[0] / len(chosen)),
                "mean": math.nan,
                "std": math.nan,
                "cv": math.nan,
            }
            if pd.api.types.is_numeric_dtype(chosen) and not pd.api.types.is_bool_dtype(chosen):
                values = chosen.to_numpy(dtype=float)
                mean, std = float(values.mean()), float(values.std())
                row.update(mean=mean, std=std, cv=std / abs(mean) if mean else math.nan)
            rows[name] = row
        return pd.DataFrame.from_dict(rows, orient="index")


def walk_forward(
    algorithm: str | os.PathLike[str],
    space: ParameterSpace,
    bundle: str = "demo",
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
    train: str | int = "2Y",
    test: str | int = "6M",
    step: str | int | None = None,
    anchored: bool = False,
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
    progress: Callable[[int, TrialOutcome, int, int], None] | None = None,
) -> WalkForwardResult:
    """Optimize ``algorithm`` on each window's training sessions, then run the winner on its test.

    Parameters
    ----------
    algorithm, space, bundle, start, end
        As :func:`~rustybt.optimization.study.optimize` takes them; ``start``
        and ``end`` bound every window.
    train, test, step
        Window lengths: "2Y", "6M", "3W", "90D" or a number of sessions;
        ``step`` defaults to ``test``.
    anchored
        Every training span starts at the first session (else it rolls).
    objective, method, trials, jobs, ray_address, seed, direction
        Each window's search (see ``optimize``); the first objective picks
        the parameters a test runs with.
    storage, study_name
        Where each window's study is kept: ``study_name`` (default: made of
        the algorithm, bundle, dates and windows) with ``-w<N>`` appended, so
        an interrupted analysis resumes window by window.
    capital_base, data_frequency, benchmark_symbol, params, environ
        The backtests, as ``optimize`` takes them.
    progress
        Called as ``progress(window, outcome, done, total)`` after each trial.

    Returns
    -------
    WalkForwardResult

    Examples
    --------
    >>> from rustybt.optimization import Int, ParameterSpace, walk_forward
    >>> space = ParameterSpace(fast=Int(5, 50, step=5), slow=Int(20, 200, step=20))
    >>> wf = walk_forward("examples/dual_moving_average.py", space, bundle="demo",
    ...                   start="2015-01-02", end="2022-12-30", train="2Y", test="6M",
    ...                   method="tpe", trials=40)  # doctest: +SKIP
    >>> wf.windows, wf.oos_perf, wf.parameter_stability, wf.efficiency  # doctest: +SKIP
    """
    objectives = resolve_objectives(objective, direction)
    run_spec = backtest_spec(
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
    sessions = _sessions(bundle, pd.Timestamp(run_spec.start), pd.Timestamp(run_spec.end), environ)
    windows = walk_forward_windows(
        sessions, train, test, step, anchored, pd.Timestamp(run_spec.end)
    )
    windows_at_a_glance = f"wf{train}-{test}-{step or test}{'-anchored' if anchored else ''}"
    searched = {
        "space": space.to_dict(),
        "objectives": [[o.name, o.direction] for o in objectives],
        "trials": trials,
        "seed": seed,
        "capital_base": capital_base,
        "data_frequency": data_frequency,
        "benchmark_symbol": benchmark_symbol,
        "params": {k: repr(v) for k, v in (params or {}).items()},
    }
    base_name = study_name or default_study_name(run_spec, [windows_at_a_glance, method], searched)
    evaluate = make_evaluator(objectives)
    searches: list[OptimizationResult] = []
    outcomes: list[TrialOutcome] = []
    with make_executor(jobs, ray_address) as executor:
        for window in windows:
            search = optimize(
                algorithm,
                space,
                bundle,
                window.train_start,
                window.train_end,
                objective=list(objectives),
                method=method,
                trials=trials,
                storage=storage,
                study_name=f"{base_name}-w{window.number}",
                seed=seed + window.number,
                capital_base=capital_base,
                data_frequency=data_frequency,
                benchmark_symbol=benchmark_symbol,
                params=params,
                environ=environ,
                progress=None if progress is None else _for_window(progress, window.number),
                executor=executor,
            )
            searches.append(search)
            # The whole run's backtest on the test span, with the full perf frame.
            test_spec = replace(run_spec, start=window.test_start, end=window.test_end)
            task = TrialTask(window.number, search.params_of(search.best_by()))
            (outcome,) = executor.run(test_spec, [task], evaluate, keep_perf=True)
            if outcome.status != "complete":
                raise OptimizationError(
                    f"window {window.number} ({window.test_start.date()} .. "
                    f"{window.test_end.date()}): the out-of-sample run failed: {outcome.error}",
                    context={"window": window.number, "error": outcome.error},
                )
            outcomes.append(outcome)
    return WalkForwardResult(
        _windows_frame(windows, searches, outcomes, objectives[0]),
        _stitch(outcomes, capital_base),
        tuple(searches),
        space,
        objectives,
    )


def _windows_frame(
    windows: list[Window],
    searches: list[OptimizationResult],
    outcomes: list[TrialOutcome],
    objective: Objective,
) -> pd.DataFrame:
    rows = []
    for window, search, outcome in zip(windows, searches, outcomes, strict=True):
        in_sample = search.best_by()
        is_annual = float(in_sample["annual_return"])
        oos_annual = float(outcome.metrics["annual_return"])
        rows.append(
            {
                **window._asdict(),
                "window": window.number,
                **outcome.params,
                f"is_{objective.name}": float(in_sample[objective.name]),
                f"oos_{objective.name}": float(outcome.metrics[OBJECTIVE_PREFIX + objective.name]),
                "is_annual_return": is_annual,
                "oos_annual_return": oos_annual,
                "oos_total_return": float(outcome.metrics["total_return"]),
                "oos_max_drawdown": float(outcome.metrics["max_drawdown"]),
                "efficiency": oos_annual / is_annual if is_annual else math.nan,
                "trials": len(search.trials),
            }
        )
    frame = pd.DataFrame(rows).drop(columns="number")
    first = ["window", "train_start", "train_end", "test_start", "test_end"]
    return frame[first + [c for c in frame.columns if c not in first]]


def _stitch(outcomes: list[TrialOutcome], capital_base: float) -> pd.DataFrame:
    """The test runs' rows end to end, with the window and the compounded equity."""
    frames = []
    for outcome in outcomes:
        assert outcome.perf is not None
        frames.append(outcome.perf.assign(window=outcome.number))
    perf = pd.concat(frames)
    perf["equity"] = capital_base * np.cumprod(1.0 + perf["returns"].to_numpy(dtype=float))
    return perf


def _sessions(
    bundle: str, start: pd.Timestamp, end: pd.Timestamp, environ: Mapping[str, str] | None
) -> pd.DatetimeIndex:
    """The bundle calendar's sessions from ``start`` on, up to five years past
    ``end`` (what tells whether a test span that ends past ``end`` is whole)."""
    with bundles.load(bundle, os.environ if environ is None else environ) as data:
        calendar = data.calendar
        beyond = min(end + pd.DateOffset(years=5), calendar.last_session)
        return calendar.sessions_in_range(start, beyond)


def _for_window(
    progress: Callable[[int, TrialOutcome, int, int], None], window: int
) -> Callable[[TrialOutcome, int, int], None]:
    def report(outcome: TrialOutcome, done: int, total: int) -> None:
        progress(window, outcome, done, total)

    return report
