"""The parameter-search workloads: ``grid100`` and ``wf5``.

=======  ===========================================================  ==============
name     what is timed                                                default size
=======  ===========================================================  ==============
grid100  :func:`rustybt.optimization.optimize`, method ``"grid"``:    50 assets x
         the W5 crossover (:mod:`.crossover_params`) for each of the  10 y, 2 workers
         10 x 10 (fast, slow) windows of :func:`search_space`,
         objective sharpe
wf5      :func:`rustybt.optimization.walk_forward`: 5 rolling         50 assets x
         windows, each a TPE search of 20 trials (seeded) over the    10 y, 2 workers
         same space on its training sessions, then its test run
=======  ===========================================================  ==============

Both run on the daily bundle W1, W4 and W5 of the same size use
(:mod:`.workloads` prepares it), with :data:`.workloads.CAPITAL_BASE`, no
costs and zero benchmark returns; every trial is a real backtest on a bundle
each worker opened once. The fast windows are 4, 8, .., 40 and the slow ones
50, 70, .., 230, so every pair has fast < slow and the grid holds W5's own
(20, 50): that trial's final value is W5's. ``grid`` (default 10) takes the
first ``grid`` values of each, for quicker runs; ``trials`` is wf5's trials
per window and ``jobs`` the worker processes of both.

wf5's windows are counted in sessions: each test span is a tenth of the
sessions and the first training span the rest but five test spans (5 years
then 1 year on 10 years of data), rolled by one test span.

Each timed run returns what it found (the best parameters, their sharpe and
final value, the backtests' summed time) and the peak RSS of each worker
process that ran trials (:class:`RssSampler`), so a caller can tell the
search's own cost from the backtests' and see what a worker holds.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from rustybt.benchmarks import crossover_params
from rustybt.exceptions import ParameterValidationError

if TYPE_CHECKING:
    from rustybt.benchmarks.workloads import PreparedWorkload
    from rustybt.optimization import ParameterSpace

__all__ = [
    "ALGORITHM",
    "FAST_WINDOWS",
    "SEARCH_WORKLOADS",
    "SLOW_WINDOWS",
    "RssSampler",
    "check_search_size",
    "grid_search",
    "search_space",
    "walk_forward_search",
    "walk_forward_spans",
]

#: The workloads of this module (lower case, as the issue names them).
SEARCH_WORKLOADS: Final[tuple[str, ...]] = ("grid100", "wf5")
#: The algorithm file every trial runs.
ALGORITHM: Final[Path] = Path(crossover_params.__file__).resolve()
#: The fast and the slow windows searched (the first ``grid`` of each).
FAST_WINDOWS: Final[tuple[int, ...]] = tuple(range(4, 41, 4))
SLOW_WINDOWS: Final[tuple[int, ...]] = tuple(range(50, 231, 20))
#: wf5's windows, its search method and the seed of its first window's sampler.
WALK_FORWARD_WINDOWS: Final[int] = 5
WALK_FORWARD_METHOD: Final[str] = "tpe"
SEED: Final[int] = 0
#: Default trials per wf5 window, grid side and workers.
DEFAULT_TRIALS: Final[int] = 20
DEFAULT_GRID: Final[int] = len(FAST_WINDOWS)
DEFAULT_JOBS: Final[int] = 2


def check_search_size(name: str, grid: int, trials: int, jobs: int, sessions: int) -> None:
    """Refuse a size the search workloads cannot run, naming the argument.

    Raises
    ------
    ParameterValidationError
        A grid side outside 1..10, fewer than one trial or worker, or a wf5
        of fewer than 10 sessions (its test spans are a tenth of them).

    Examples
    --------
    >>> check_search_size("grid100", grid=11, trials=20, jobs=2, sessions=100)
    Traceback (most recent call last):
    ...
    rustybt.exceptions.ParameterValidationError: grid100: grid must be 1 .. 10 (the first values of each window list), got 11
    """  # noqa: E501
    if not 1 <= grid <= DEFAULT_GRID:
        raise ParameterValidationError(
            f"{name}: grid must be 1 .. {DEFAULT_GRID} (the first values of each window "
            f"list), got {grid}",
            context={"workload": name, "grid": grid},
        )
    if trials < 1 or jobs < 1:
        raise ParameterValidationError(
            f"{name}: trials and jobs must be at least 1, got trials={trials}, jobs={jobs}",
            context={"workload": name, "trials": trials, "jobs": jobs},
        )
    if name == "wf5" and sessions < 2 * WALK_FORWARD_WINDOWS:
        raise ParameterValidationError(
            f"wf5 cuts its sessions into a training span and {WALK_FORWARD_WINDOWS} test "
            f"spans of a tenth each: it needs at least {2 * WALK_FORWARD_WINDOWS} sessions, "
            f"got {sessions}",
            context={"workload": name, "sessions": sessions},
        )


def search_space(grid: int = DEFAULT_GRID) -> ParameterSpace:
    """``fast`` over the first ``grid`` of :data:`FAST_WINDOWS`, ``slow`` of :data:`SLOW_WINDOWS`.

    Examples
    --------
    >>> space = search_space(2)
    >>> space.grid()
    [{'fast': 4, 'slow': 50}, {'fast': 4, 'slow': 70}, {'fast': 8, 'slow': 50}, {'fast': 8, 'slow': 70}]
    """  # noqa: E501
    from rustybt.optimization import Int, ParameterSpace

    fast, slow = FAST_WINDOWS[:grid], SLOW_WINDOWS[:grid]
    return ParameterSpace(
        fast=Int(fast[0], fast[-1], step=FAST_WINDOWS[1] - FAST_WINDOWS[0]),
        slow=Int(slow[0], slow[-1], step=SLOW_WINDOWS[1] - SLOW_WINDOWS[0]),
    )


def walk_forward_spans(sessions: int) -> tuple[int, int]:
    """wf5's (training, test) lengths in sessions: five tests of a tenth, the rest to train.

    Examples
    --------
    >>> walk_forward_spans(2520), walk_forward_spans(2516)
    ((1260, 252), (1261, 251))
    """
    test = sessions // (2 * WALK_FORWARD_WINDOWS)
    return sessions - WALK_FORWARD_WINDOWS * test, test


# --- worker memory ------------------------------------------------------------------

_KB: Final[int] = 1024


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (every thread's), from /proc; empty elsewhere."""
    found: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                found.extend(int(child) for child in fh.read().split())
    except OSError:
        pass  # the process ended, or no /proc
    return found


def _memory(pid: int) -> dict[str, int] | None:
    """``VmHWM`` (peak RSS) and the current ``RssAnon``/``RssFile`` of ``pid``, in bytes."""
    wanted = {"VmHWM:": "peak", "RssAnon:": "anon", "RssFile:": "file"}
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                key = line.split(maxsplit=1)[0] if line.strip() else ""
                if key in wanted:
                    out[wanted[key]] = int(line.split()[1]) * _KB
    except (OSError, ValueError, IndexError):
        return None
    return out if "peak" in out else None


class RssSampler:
    """Peak RSS of every process descended from this one, sampled while it runs.

    A thread reads ``/proc`` every ``interval`` seconds (Linux; elsewhere
    nothing is recorded). For each process it keeps the last sample: the peak
    resident set (``VmHWM``, which only grows) and the anonymous and
    file-backed parts of the resident set then (bundle files read through
    memory maps count as file-backed, shared by the processes that map them).

    Examples
    --------
    >>> import subprocess, sys
    >>> child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
    >>> with RssSampler(interval=0.01) as sampler:
    ...     sampler.sample()
    >>> sampler.samples[child.pid]["peak"] > 0
    True
    >>> child.kill()
    >>> child.wait() != 0
    True
    """

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.samples: dict[int, dict[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="rss-sampler", daemon=True)

    def _descendants(self) -> list[int]:
        todo, seen = _children(os.getpid()), []
        while todo:
            pid = todo.pop()
            seen.append(pid)
            todo.extend(_children(pid))
        return seen

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        """Read every descendant's memory now."""
        for pid in self._descendants():
            memory = _memory(pid)
            if memory is not None:
                self.samples[pid] = memory

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def workers(self, trials: pd.DataFrame) -> list[dict[str, float]]:
        """MB of each process named in the trials' ``worker`` column (``"pid N"``), by pid."""
        pids = sorted({int(str(w).split()[-1]) for w in trials["worker"].dropna()})
        return [
            {"pid": pid, **{k: v / _KB**2 for k, v in self.samples[pid].items()}}
            for pid in pids
            if pid in self.samples
        ]


# --- the timed parts ----------------------------------------------------------------


def grid_search(prepared: PreparedWorkload, capital_base: float) -> dict[str, Any]:
    """grid100: every (fast, slow) pair of the spec's grid, by ``optimize(method="grid")``.

    Returns
    -------
    dict
        ``trials`` and ``complete`` (counts), ``best_params``, ``best_sharpe``,
        ``best_final_value`` and ``best_fills`` (of the best trial),
        ``backtest_seconds`` (the trials' summed time inside ``run_algorithm``),
        ``workers`` and ``worker_rss_mb`` (peak, anonymous and file-backed
        resident MB of each worker process that ran trials).
    """
    from rustybt.optimization import optimize

    spec = prepared.spec
    sessions = spec.session_index()
    with RssSampler() as sampler:
        result = optimize(
            ALGORITHM,
            search_space(spec.grid),
            bundle=prepared.bundle,
            start=sessions[0],
            end=sessions[-1],
            objective="sharpe",
            method="grid",
            jobs=spec.jobs,
            storage=":memory:",
            capital_base=capital_base,
            environ=prepared.environ,
        )
    trials = result.trials
    best = result.best_trial
    return {
        "trials": len(trials),
        "complete": int((trials["status"] == "complete").sum()),
        "best_params": result.params_of(best),
        "best_sharpe": float(best["sharpe"]),
        "best_final_value": float(best["final_value"]),
        "best_fills": int(best["trades"]),
        "backtest_seconds": float(trials["duration"].sum()),
        "workers": spec.jobs,
        "worker_rss_mb": sampler.workers(trials),
    }


def walk_forward_search(prepared: PreparedWorkload, capital_base: float) -> dict[str, Any]:
    """wf5: five rolling windows, each a seeded TPE search then an out-of-sample run.

    Returns
    -------
    dict
        ``windows`` (count), ``trials`` (all windows'), ``chosen`` (each
        window's parameters), ``oos_sharpe`` (each test run's),
        ``efficiency`` (walk-forward efficiency), ``oos_final_equity`` (the
        capital compounded through the stitched test runs) and
        ``backtest_seconds`` (the searches' trials, summed).
    """
    from rustybt.optimization import walk_forward

    spec = prepared.spec
    sessions = spec.session_index()
    train, test = walk_forward_spans(spec.sessions)
    result = walk_forward(
        ALGORITHM,
        search_space(spec.grid),
        bundle=prepared.bundle,
        start=sessions[0],
        end=sessions[-1],
        train=train,
        test=test,
        objective="sharpe",
        method=WALK_FORWARD_METHOD,
        trials=spec.trials,
        jobs=spec.jobs,
        storage=":memory:",
        seed=SEED,
        capital_base=capital_base,
        environ=prepared.environ,
    )
    windows = result.windows
    names = result.space.names
    return {
        "windows": len(windows),
        "trials": int(sum(len(s.trials) for s in result.searches)),
        "chosen": [{n: row[n] for n in names} for row in windows.to_dict("records")],
        "oos_sharpe": windows["oos_sharpe"].astype(float).tolist(),
        "efficiency": float(result.efficiency),
        "oos_final_equity": float(result.oos_perf["equity"].iloc[-1]),
        "backtest_seconds": float(sum(s.trials["duration"].sum() for s in result.searches)),
    }
