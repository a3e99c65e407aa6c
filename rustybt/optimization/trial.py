"""One trial of a parameter search: a real backtest on a bundle opened once per process.

A search runs the same algorithm file on the same bundle hundreds of times
with different parameters. Opening the bundle (its SQLite asset database,
its Parquet readers, the digest check of its files) and reading the
algorithm file are done once per process and kept in this module's caches;
every later trial of the process reuses them. The readers' panels are read
from the Parquet files on first use and never change afterwards, so runs
share nothing else: each trial builds its own
:class:`~rustybt.data.portal.DataPortal`, broker, ledger and metrics.

:func:`run_trial` is what every executor of :mod:`rustybt.optimization.executors`
calls in its workers; what travels to a worker is the :class:`BacktestSpec`
(paths and dates), the :class:`TrialTask` (a number and parameters) and the
``evaluate`` callable; what comes back is a :class:`TrialOutcome` holding the
metrics, not the performance frame (unless asked for).

Examples
--------
>>> spec = BacktestSpec("examples/dual_moving_average.py", "demo", "2016-01-04", "2016-06-30")
>>> spec.capital_base, spec.fixed_params
(100000, {})
>>> TrialTask(3, {"fast": 10})
TrialTask(number=3, params={'fast': 10})
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from rustybt.data import bundles
from rustybt.exceptions import ConfigValidationError
from rustybt.runner import run_algorithm
from rustybt.utils.paths import rustybt_root

__all__ = [
    "BacktestSpec",
    "TrialOutcome",
    "TrialTask",
    "open_bundle",
    "read_algorithm",
    "run_trial",
    "warm",
]

#: What a trial reports: metric name -> value (NaN where undefined).
Evaluate = Callable[[pd.DataFrame], Mapping[str, float]]


@dataclass(frozen=True)
class BacktestSpec:
    """What every trial of a search runs: the algorithm file, the bundle, the dates.

    Picklable and small: it is sent to every worker with each trial.

    Parameters
    ----------
    algorithm
        Path of the algorithm's ``.py`` file (made absolute here, so that a
        worker with another working directory finds it).
    bundle
        The bundle's name.
    start, end
        First and last session of the backtest.
    capital_base
        Starting cash.
    data_frequency
        ``"daily"`` or ``"minute"``.
    benchmark_symbol
        The benchmark asset's symbol; None: zero benchmark returns.
    root
        The ``RUSTYBT_ROOT`` holding the bundle; None: the environment's (of
        the worker). A Ray cluster's nodes must all see this path.
    bundle_timestamp
        Use the ingestion made at or before this time; None: the newest.
    fixed_params
        Parameters every trial passes besides its own (a trial's own win).
    metrics_set
        The run's metrics set (``"returns"`` computes only what summary
        statistics read; see :mod:`rustybt.finance.metrics`).
    """

    algorithm: str
    bundle: str
    start: pd.Timestamp | str
    end: pd.Timestamp | str
    capital_base: float = 100_000
    data_frequency: str = "daily"
    benchmark_symbol: str | None = None
    root: str | None = None
    bundle_timestamp: pd.Timestamp | str | None = None
    fixed_params: Mapping[str, Any] = field(default_factory=dict)
    metrics_set: str = "default"

    def __post_init__(self) -> None:
        object.__setattr__(self, "algorithm", os.path.abspath(os.fspath(self.algorithm)))
        if self.root is not None:
            object.__setattr__(self, "root", os.path.abspath(os.fspath(self.root)))
        object.__setattr__(self, "fixed_params", dict(self.fixed_params))

    def environ(self) -> Mapping[str, str]:
        """The environment the backtest reads: the process's, with ``root`` as RUSTYBT_ROOT.

        A new mapping: the process's own ``os.environ`` is left as it is.

        Examples
        --------
        >>> spec = BacktestSpec("a.py", "demo", "2020-01-02", "2020-02-03", root="/data/rb")
        >>> spec.environ()["RUSTYBT_ROOT"]
        '/data/rb'
        """
        if self.root is None:
            return os.environ
        return {**os.environ, "RUSTYBT_ROOT": self.root}


@dataclass(frozen=True)
class TrialTask:
    """One trial to run: its number in the search and its parameters."""

    number: int
    params: dict[str, Any]


@dataclass(frozen=True)
class TrialOutcome:
    """What a trial gives back.

    Attributes
    ----------
    number, params
        The task's.
    metrics
        What ``evaluate`` returned for the performance frame, as floats
        (empty when the trial failed).
    duration
        Wall time of the backtest in seconds (until the error, for a failure).
    status
        ``"complete"`` or ``"fail"``.
    error
        For a failure, one line: the algorithm file, the exception's class and
        its message.
    worker
        Where the trial ran: ``"pid 1234"``, or ``"node <id> pid 1234"`` on Ray.
    perf
        The performance frame, when the trial was run with ``keep_perf``.
    """

    number: int
    params: dict[str, Any]
    metrics: dict[str, float]
    duration: float
    status: Literal["complete", "fail"]
    error: str | None
    worker: str
    perf: pd.DataFrame | None = None


# The per-process caches. A worker process runs one trial at a time.
_OPEN_BUNDLES: dict[tuple[str, str, str | None], bundles.BundleData] = {}
_ALGORITHMS: dict[str, tuple[int, str]] = {}


def open_bundle(spec: BacktestSpec) -> bundles.BundleData:
    """The bundle of ``spec``, opened on this process's first call and reused after.

    Keyed by bundle name, root and requested timestamp; the opened bundle
    stays open for the life of the process.

    Raises
    ------
    DataNotFoundError
        The bundle has no ingestion under the root (a search must stop, not
        record a failed trial per task).
    BundleCorruptedError
        A file of the ingestion is missing or differs from its digest.
    """
    environ = spec.environ()
    stamp = None if spec.bundle_timestamp is None else str(pd.Timestamp(spec.bundle_timestamp))
    key = (spec.bundle, str(rustybt_root(environ)), stamp)
    data = _OPEN_BUNDLES.get(key)
    if data is None:
        timestamp = None if stamp is None else pd.Timestamp(stamp)
        data = _OPEN_BUNDLES[key] = bundles.load(spec.bundle, environ, timestamp)
    return data


def read_algorithm(path: str) -> str:
    """The text of the algorithm file, read once per process while the file is unchanged.

    Raises
    ------
    ConfigValidationError
        Naming the file, when it cannot be read.
    """
    try:
        mtime = os.stat(path).st_mtime_ns
        cached = _ALGORITHMS.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigValidationError(
            f"algorithm file {path}: cannot be read: {reason}", context={"file": path}
        ) from exc
    _ALGORITHMS[path] = (mtime, text)
    return text


def warm(spec: BacktestSpec) -> None:
    """Open the bundle and read the algorithm of ``spec`` in this process, before any trial.

    Executors call it when a worker starts, so that the first trial of each
    worker costs what every later one does.
    """
    open_bundle(spec)
    read_algorithm(spec.algorithm)


def run_trial(
    spec: BacktestSpec, task: TrialTask, evaluate: Evaluate, keep_perf: bool = False
) -> TrialOutcome:
    """Run one backtest with the task's parameters and evaluate its performance.

    The algorithm gets ``spec.fixed_params`` updated with ``task.params``, as
    names in the script's namespace and as ``context.params`` (see
    :func:`rustybt.run_algorithm`). What it prints is dropped: a search runs
    it hundreds of times (a failure's error is kept).

    Parameters
    ----------
    spec
        The algorithm, bundle and dates.
    task
        The trial's number and parameters.
    evaluate
        Called with the performance frame, in the process that ran it;
        returns the trial's metrics.
    keep_perf
        Also return the performance frame (else it stays in the worker).

    Returns
    -------
    TrialOutcome
        Status ``"complete"`` with the metrics, or ``"fail"`` with a one-line
        error when the algorithm (or ``evaluate``) raised.

    Raises
    ------
    DataNotFoundError, BundleCorruptedError
        The bundle cannot be opened: no trial of the search could run.
    ConfigValidationError
        The algorithm file cannot be read.

    Examples
    --------
    >>> def final_value(perf):
    ...     return {"final_value": float(perf["portfolio_value"].iloc[-1])}
    >>> spec = BacktestSpec("examples/buyapple.py", "demo", "2016-01-04", "2016-02-01")
    >>> outcome = run_trial(spec, TrialTask(0, {}), final_value)  # doctest: +SKIP
    >>> outcome.status, sorted(outcome.metrics)  # doctest: +SKIP
    ('complete', ['final_value'])
    """
    data = open_bundle(spec)
    script = read_algorithm(spec.algorithm)
    params = {**spec.fixed_params, **task.params}
    worker = f"pid {os.getpid()}"
    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            perf = run_algorithm(
                spec.start,
                spec.end,
                capital_base=spec.capital_base,
                data_frequency=spec.data_frequency,
                bundle=spec.bundle,
                environ=spec.environ(),
                script=script,
                algo_filename=spec.algorithm,
                params=params,
                benchmark_symbol=spec.benchmark_symbol,
                metrics_set=spec.metrics_set,
                bundle_data=data,
            )
        duration = time.perf_counter() - started
        metrics = {str(name): float(value) for name, value in evaluate(perf).items()}
    except Exception as exc:  # the algorithm's (or evaluate's) failure is the trial's
        return TrialOutcome(
            task.number,
            dict(task.params),
            {},
            time.perf_counter() - started,
            "fail",
            failure_line(spec.algorithm, exc),
            worker,
        )
    return TrialOutcome(
        task.number,
        dict(task.params),
        metrics,
        duration,
        "complete",
        None,
        worker,
        perf if keep_perf else None,
    )


def failure_line(algorithm: str, exc: BaseException) -> str:
    """One line naming the algorithm file, the exception's class and its message.

    Examples
    --------
    >>> failure_line("/algos/a.py", ValueError("bad window\\nsecond line"))
    '/algos/a.py: ValueError: bad window second line'
    """
    message = " ".join(str(exc).split())
    return f"{algorithm}: {type(exc).__name__}: {message}"
