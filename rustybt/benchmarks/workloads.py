"""The standard benchmark workloads, on generated data, any size by arguments.

========  =========================================================  ==================
workload  what is timed                                              default size
========  =========================================================  ==================
W1        the dual moving-average crossover (:mod:`.dual_ma`) on     500 assets x 10 y
          daily bars, through ``rustybt.run_algorithm``
W2        the same strategy on minute bars (windows in minutes)      50 assets x 1 y
W3        ``rustybt.data.bundles.ingest`` of a csvdir folder         500 assets x 10 y
W4        ``bundles.load`` + ``DataPortal`` + the first              500 assets x 10 y
          ``data.history(all assets, "close", 50, "1d")``
W5        the signal-change crossover (:mod:`.crossover`: orders     50 assets x 10 y
          only when a signal flips) on daily bars, through
          ``rustybt.run_algorithm``
W6        the same on minute bars                                    50 assets x 21
                                                                     sessions
grid100   a 10 x 10 grid search of W5's fast and slow windows,       50 assets x 10 y
          2 workers (:mod:`.optimization_workloads`)
wf5       a walk-forward of 5 windows, 20 trials each, on the same   50 assets x 10 y
          data (:mod:`.optimization_workloads`)
========  =========================================================  ==================

A year is 252 XNYS sessions from 2014-01-02. Data comes from
:mod:`rustybt.benchmarks.synthetic` (seeded, so every run sees the same bars)
and lives in a temporary ``RUSTYBT_ROOT``, never ``~/.rustybt``. Preparing a
workload (generating bars, ingesting them through the bundle writers, writing
W3's CSV files) is not timed; W1, W4, W5, grid100 and wf5 of the same size share
one bundle.

Each workload's timed function returns its result, so implementations can be
compared: W1/W2/W5/W6 the final portfolio value and the number of fills, W3
the bars ingested, W4 the window's shape and sum, grid100 and wf5 what their
searches chose. The backtests start with
:data:`CAPITAL_BASE`, no commission, no slippage and no benchmark (zero
benchmark returns), with the default metrics. W1 and W2 re-target every asset
on every bar (heavy order flow); W5 and W6 trade only on crossings, as a
typical strategy does, so their time is mostly the engine's per-bar cost.

With ``isolate=True`` each workload's timed runs happen in a fresh Python
process (the data is still prepared in this one), so peak RSS is that of the
workload alone, as a peer measured in its own process would report it.

Examples
--------
>>> report = run_workload(workload_spec("W4", assets=3, sessions=60), runs=2, warmup=0)
>>> report.result["window_shape"], report.benchmark.num_runs
([50, 3], 2)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from rustybt.benchmarks import crossover, dual_ma
from rustybt.benchmarks.optimization_workloads import (
    DEFAULT_GRID,
    DEFAULT_JOBS,
    DEFAULT_TRIALS,
    SEARCH_WORKLOADS,
    check_search_size,
    grid_search,
    walk_forward_search,
)
from rustybt.benchmarks.profiling import BenchmarkResult, MemoryMethod, run_benchmark_suite
from rustybt.benchmarks.synthetic import (
    CALENDAR_NAME,
    DEFAULT_SEED,
    DEFAULT_START,
    SESSIONS_PER_YEAR,
    generate_daily_bars,
    generate_minute_bars,
    synthetic_ingest,
    universe_symbols,
    write_csvdir,
    xnys_sessions,
)
from rustybt.exceptions import ParameterValidationError, RustyBTError

__all__ = [
    "CAPITAL_BASE",
    "DEFAULT_SIZES",
    "WORKLOAD_NAMES",
    "PreparedWorkload",
    "WorkloadReport",
    "WorkloadSpec",
    "ingest_csvdir",
    "open_bundle",
    "prepare_workload",
    "run_backtest",
    "run_workload",
    "run_workloads",
    "workload_function",
    "workload_spec",
]

WORKLOAD_NAMES: Final[tuple[str, ...]] = ("W1", "W2", "W3", "W4", "W5", "W6", *SEARCH_WORKLOADS)
#: Default (assets, years) of each workload.
DEFAULT_SIZES: Final[Mapping[str, tuple[int, float]]] = {
    "W1": (500, 10.0),
    "W2": (50, 1.0),
    "W3": (500, 10.0),
    "W4": (500, 10.0),
    "W5": (50, 10.0),
    "W6": (50, 21 / SESSIONS_PER_YEAR),  # 21 sessions, about a month
    "grid100": (50, 10.0),
    "wf5": (50, 10.0),
}
DESCRIPTIONS: Final[Mapping[str, str]] = {
    "W1": "daily dual moving-average crossover",
    "W2": "minute dual moving-average crossover",
    "W3": "csvdir ingest",
    "W4": "open bundle + first history window",
    "W5": "daily crossover, orders on signal changes",
    "W6": "minute crossover, orders on signal changes",
    "grid100": "grid search of W5's windows",
    "wf5": "walk-forward of W5's windows",
}
#: The workloads that run on minute bars.
MINUTE_WORKLOADS: Final[frozenset[str]] = frozenset({"W2", "W6"})
#: The strategy module (``initialize``, ``handle_data``) of each backtest workload.
STRATEGIES: Final[Mapping[str, Any]] = {
    "W1": dual_ma,
    "W2": dual_ma,
    "W5": crossover,
    "W6": crossover,
}
#: Starting cash of W1 and W2.
CAPITAL_BASE: Final[float] = 10_000_000.0


@dataclass(frozen=True)
class WorkloadSpec:
    """One workload at one size.

    Attributes
    ----------
    name
        ``"W1"`` .. ``"W6"``, ``"grid100"`` or ``"wf5"``.
    assets, sessions
        Universe size and XNYS sessions (from ``start``).
    start
        The first session, ``YYYY-MM-DD``.
    seed
        The data generator's root seed.
    grid, trials, jobs
        grid100 and wf5 only: the first ``grid`` fast and slow windows
        searched, wf5's trials per window, and the worker processes.
    """

    name: str
    assets: int
    sessions: int
    start: str = str(DEFAULT_START.date())
    seed: int = DEFAULT_SEED
    grid: int = DEFAULT_GRID
    trials: int = DEFAULT_TRIALS
    jobs: int = DEFAULT_JOBS

    @property
    def frequency(self) -> str:
        """The bars the workload reads: ``"minute"`` for W2 and W6, else ``"daily"``."""
        return "minute" if self.name in MINUTE_WORKLOADS else "daily"

    @property
    def description(self) -> str:
        """What the workload does, in a few words."""
        return DESCRIPTIONS[self.name]

    @property
    def search(self) -> str:
        """How a search workload searches: ``"10x10 grid, 2 jobs"``; ``""`` for the others."""
        if self.name == "grid100":
            return f"{self.grid}x{self.grid} grid, {self.jobs} jobs"
        if self.name == "wf5":
            return f"5x{self.trials} trials of {self.grid}x{self.grid}, {self.jobs} jobs"
        return ""

    @property
    def size(self) -> str:
        """``"500 assets x 2520 sessions"`` (``" of minutes"`` on minute bars)."""
        text = f"{self.assets} assets x {self.sessions} sessions"
        if self.search:
            return f"{text}, {self.search}"
        return text + " of minutes" if self.frequency == "minute" else text

    @property
    def short_size(self) -> str:
        """``"500 x 2520d"`` (``"50 x 252d 1m"`` for minute bars)."""
        text = f"{self.assets} x {self.sessions}d"
        return text + " 1m" if self.frequency == "minute" else text

    @property
    def configuration_name(self) -> str:
        """``"W1-500x2520"``: names the benchmark result and its JSON file."""
        name = f"{self.name}-{self.assets}x{self.sessions}"
        if self.name == "grid100":
            return f"{name}-g{self.grid}-j{self.jobs}"
        if self.name == "wf5":
            return f"{name}-g{self.grid}-t{self.trials}-j{self.jobs}"
        return name

    def session_index(self) -> pd.DatetimeIndex:
        """The workload's sessions."""
        return xnys_sessions(sessions=self.sessions, start=self.start)


def workload_spec(
    name: str,
    assets: int | None = None,
    years: float | None = None,
    sessions: int | None = None,
    seed: int = DEFAULT_SEED,
    grid: int | None = None,
    trials: int | None = None,
    jobs: int | None = None,
) -> WorkloadSpec:
    """A workload at its default size, or at the size given.

    Parameters
    ----------
    name
        ``"W1"`` .. ``"W6"``, ``"grid100"``, ``"wf5"`` (case-insensitive).
    assets
        Universe size; default :data:`DEFAULT_SIZES`.
    years, sessions
        Length in years of 252 sessions, or in sessions (``sessions`` wins).
    seed
        The data generator's root seed.
    grid, trials, jobs
        grid100 and wf5: grid side (default 10), wf5's trials per window
        (default 20) and worker processes (default 2).

    Raises
    ------
    ParameterValidationError
        For an unknown name, fewer than one asset or session, a W4 shorter
        than the 50-session history window, or a search size out of range
        (:func:`.optimization_workloads.check_search_size`).

    Examples
    --------
    >>> workload_spec("w2").size
    '50 assets x 252 sessions of minutes'
    >>> workload_spec("W1", assets=5, sessions=63).configuration_name
    'W1-5x63'
    """
    key = {known.upper(): known for known in WORKLOAD_NAMES}.get(name.upper())
    if key is None:
        raise ParameterValidationError(
            f"unknown workload {name!r}; choose from {', '.join(WORKLOAD_NAMES)}",
            context={"workload": name},
        )
    default_assets, default_years = DEFAULT_SIZES[key]
    if sessions is None:
        sessions = round((default_years if years is None else years) * SESSIONS_PER_YEAR)
    spec = WorkloadSpec(
        key,
        default_assets if assets is None else assets,
        int(sessions),
        seed=seed,
        grid=DEFAULT_GRID if grid is None else grid,
        trials=DEFAULT_TRIALS if trials is None else trials,
        jobs=DEFAULT_JOBS if jobs is None else jobs,
    )
    _check_spec(spec)
    return spec


def _check_spec(spec: WorkloadSpec) -> None:
    if spec.assets < 1 or spec.sessions < 1:
        raise ParameterValidationError(
            f"{spec.name} needs at least one asset and one session, got "
            f"{spec.assets} x {spec.sessions}",
            context={"workload": spec.name, "assets": spec.assets, "sessions": spec.sessions},
        )
    if spec.name == "W4" and spec.sessions < dual_ma.SLOW:
        raise ParameterValidationError(
            f"W4 serves a {dual_ma.SLOW}-session history window: it needs at least "
            f"{dual_ma.SLOW} sessions, got {spec.sessions}",
            context={"workload": spec.name, "sessions": spec.sessions},
        )
    if spec.name in SEARCH_WORKLOADS:
        check_search_size(spec.name, spec.grid, spec.trials, spec.jobs, spec.sessions)


# --- preparing data (not timed) -------------------------------------------------------


@dataclass(frozen=True)
class PreparedWorkload:
    """A workload whose data is ready under ``root``.

    Attributes
    ----------
    spec
        The workload.
    root
        The ``RUSTYBT_ROOT`` holding the bundle (and W3's CSV folder).
    bundle
        The bundle to run on (W1, W2, W4) or to ingest (W3).
    csvdir
        W3's csvdir folder; None for the others.
    """

    spec: WorkloadSpec
    root: str
    bundle: str
    csvdir: str | None = None

    @property
    def environ(self) -> dict[str, str]:
        """The environment the workload reads: ``{"RUSTYBT_ROOT": root}``."""
        return {"RUSTYBT_ROOT": self.root}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PreparedWorkload:
        """Rebuild from :meth:`to_dict`'s output."""
        return cls(**{**data, "spec": WorkloadSpec(**data["spec"])})


def _bundle_name(kind: str, spec: WorkloadSpec) -> str:
    return f"bench-{kind}-{spec.assets}x{spec.sessions}-{spec.start}-{spec.seed}"


@contextmanager
def _registered(name: str, ingest_fn: Any, sessions: pd.DatetimeIndex) -> Iterator[None]:
    from rustybt.data import bundles

    bundles.register(
        name,
        ingest_fn,
        calendar_name=CALENDAR_NAME,
        start_session=sessions[0],
        end_session=sessions[-1],
    )
    try:
        yield
    finally:
        bundles.unregister(name)


def _ensure_bundle(
    root: str, name: str, make_ingest: Callable[[], Any], spec: WorkloadSpec
) -> None:
    """Ingest bundle ``name`` into ``root`` unless it is there already."""
    from rustybt.data import bundles

    environ = {"RUSTYBT_ROOT": root}
    if bundles.ingestions_for_bundle(name, environ):
        return
    with _registered(name, make_ingest(), spec.session_index()):
        bundles.ingest(name, environ)


def _daily_ingest(spec: WorkloadSpec) -> Any:
    return synthetic_ingest(generate_daily_bars(spec.assets, spec.session_index(), spec.seed))


def _minute_ingest(spec: WorkloadSpec) -> Any:
    minute, daily = generate_minute_bars(spec.assets, spec.session_index(), spec.seed)
    return synthetic_ingest(daily, minute)


def _prepare_csvdir(spec: WorkloadSpec, root: str) -> PreparedWorkload:
    folder = Path(root) / "csvdir" / f"{spec.assets}x{spec.sessions}-{spec.start}-{spec.seed}"
    if not (folder / "daily").is_dir():
        bars = generate_daily_bars(spec.assets, spec.session_index(), spec.seed)
        tmp = folder.with_name(folder.name + ".tmp")
        write_csvdir(bars, tmp)
        os.replace(tmp, folder)
    return PreparedWorkload(spec, root, _bundle_name("csvdir", spec), str(folder))


def prepare_workload(spec: WorkloadSpec, root: str | Path) -> PreparedWorkload:
    """Generate and store ``spec``'s data under ``root`` (reused if already there).

    W1, W4 and W5 ingest daily bars through the bundle writers (one bundle
    per size, shared), W2 and W6 minute bars (and their daily aggregate); W3
    writes a csvdir folder of CSV files.

    Examples
    --------
    >>> import tempfile
    >>> prepared = prepare_workload(workload_spec("W1", assets=2, sessions=5), tempfile.mkdtemp())
    >>> prepared.bundle
    'bench-daily-2x5-2014-01-02-20140102'
    """
    root = str(root)
    if spec.name == "W3":
        return _prepare_csvdir(spec, root)
    minute = spec.frequency == "minute"
    kind, make = ("minute", _minute_ingest) if minute else ("daily", _daily_ingest)
    name = _bundle_name(kind, spec)
    _ensure_bundle(root, name, partial(make, spec), spec)
    return PreparedWorkload(spec, root, name)


# --- the timed parts ---------------------------------------------------------------


def _fills(perf: pd.DataFrame) -> int:
    return int(sum(len(day) for day in perf["transactions"]))


def run_backtest(prepared: PreparedWorkload) -> dict[str, Any]:
    """W1/W2/W5/W6: run the workload's strategy on the prepared bundle.

    The strategy is :data:`STRATEGIES`'s: :mod:`.dual_ma` (W1, W2) or
    :mod:`.crossover` (W5, W6).

    Returns
    -------
    dict
        ``final_portfolio_value`` (float) and ``fills`` (transactions).
    """
    from rustybt import run_algorithm

    strategy = STRATEGIES[prepared.spec.name]
    sessions = prepared.spec.session_index()
    perf = run_algorithm(
        sessions[0],
        sessions[-1],
        strategy.initialize,
        CAPITAL_BASE,
        strategy.handle_data,
        data_frequency=prepared.spec.frequency,
        bundle=prepared.bundle,
        environ=prepared.environ,
        default_extension=False,
        universe=universe_symbols(prepared.spec.assets),
    )
    return {
        "final_portfolio_value": float(perf["portfolio_value"].iloc[-1]),
        "fills": _fills(perf),
    }


def ingest_csvdir(prepared: PreparedWorkload) -> dict[str, Any]:
    """W3: ingest the prepared csvdir folder as a new ingestion of its bundle.

    Returns
    -------
    dict
        ``bars`` (daily bars written) and ``assets``.
    """
    from rustybt.data import bundles
    from rustybt.data.bundles.core import DAILY_FILE

    spec = prepared.spec
    ingest_fn = bundles.csvdir_equities(["daily"], prepared.csvdir)
    with _registered(prepared.bundle, ingest_fn, spec.session_index()):
        path = bundles.ingest(prepared.bundle, prepared.environ)
    return {"bars": int(pq.read_metadata(path / DAILY_FILE).num_rows), "assets": spec.assets}


def open_bundle(prepared: PreparedWorkload) -> dict[str, Any]:
    """W4: load the bundle, build a DataPortal, serve the first full 50-session window.

    The window is ``data.history(all assets, "close", 50, "1d")`` at the
    50th session, the first at which it is complete.

    Returns
    -------
    dict
        ``window_shape`` and ``window_sum`` (NaN-skipping sum of the window).
    """
    from rustybt.data import bundles
    from rustybt.data.bar_data import BarData
    from rustybt.data.portal import DataPortal

    data = bundles.load(prepared.bundle, prepared.environ)
    try:
        reader = data.equity_daily_bar_reader
        portal = DataPortal(
            data.asset_finder,
            data.calendar,
            reader.first_trading_day,  # type: ignore[arg-type]
            equity_daily_reader=reader,
            equity_minute_reader=data.equity_minute_bar_reader,
            adjustment_reader=data.adjustment_reader,
        )
        assets = data.asset_finder.retrieve_all(data.asset_finder.sids)
        session = reader.sessions[dual_ma.SLOW - 1]
        bar_data = BarData(portal, lambda: session, "daily", data.calendar)
        window = bar_data.history(assets, "close", dual_ma.SLOW, "1d")
    finally:
        data.close()
    values = window.to_numpy(dtype=np.float64)
    return {"window_shape": list(values.shape), "window_sum": float(np.nansum(values))}


def workload_function(prepared: PreparedWorkload) -> Callable[[], dict[str, Any]]:
    """The timed part of a prepared workload, as a no-argument callable.

    Examples
    --------
    >>> import tempfile
    >>> prepared = prepare_workload(workload_spec("W4", assets=2, sessions=55), tempfile.mkdtemp())
    >>> workload_function(prepared)()["window_shape"]
    [50, 2]
    """
    searches = {"grid100": grid_search, "wf5": walk_forward_search}
    if prepared.spec.name in searches:
        return partial(searches[prepared.spec.name], prepared, CAPITAL_BASE)
    timed = {"W3": ingest_csvdir, "W4": open_bundle}
    return partial(timed.get(prepared.spec.name, run_backtest), prepared)


# --- running and reporting ------------------------------------------------------------


@dataclass(frozen=True)
class WorkloadReport:
    """A workload's benchmark: what ran, at which size, how long, and its result.

    Attributes
    ----------
    spec
        The workload and its size.
    benchmark
        Times, memory, the result and (if asked) the profile.
    isolated
        Whether the timed runs happened in a fresh process.
    """

    spec: WorkloadSpec
    benchmark: BenchmarkResult
    isolated: bool = False

    @property
    def result(self) -> Any:
        """What the workload's last timed run returned (JSON-ready)."""
        return self.benchmark.result

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "workload": self.spec.name,
            "description": self.spec.description,
            "size": self.spec.size,
            "spec": asdict(self.spec),
            "isolated": self.isolated,
            "benchmark": self.benchmark.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkloadReport:
        """Rebuild from :meth:`to_dict`'s output."""
        return cls(
            WorkloadSpec(**data["spec"]),
            BenchmarkResult.from_dict(data["benchmark"]),
            bool(data.get("isolated", False)),
        )


@dataclass(frozen=True)
class _Options:
    """How to run a prepared workload (JSON-ready, for the isolated child)."""

    runs: int = 1
    warmup: int = 1
    profile: bool = False
    memory: MemoryMethod = "tracemalloc"
    output_dir: str | None = None
    top: int = 25


def _run_prepared(prepared: PreparedWorkload, options: _Options) -> WorkloadReport:
    benchmark = run_benchmark_suite(
        workload_function(prepared),
        num_runs=options.runs,
        configuration_name=prepared.spec.configuration_name,
        workflow_type=prepared.spec.name,
        output_dir=options.output_dir,
        warmup=options.warmup,
        profile=options.profile,
        memory=options.memory,
        top=options.top,
    )
    return WorkloadReport(prepared.spec, benchmark, isolated=False)


_CHILD_CODE: Final[str] = (
    "import sys; from rustybt.benchmarks.workloads import _child_main; _child_main(sys.argv[1])"
)
_RESULT_MARKER: Final[str] = "RUSTYBT-BENCHMARK-REPORT "


def _child_main(payload: str) -> None:
    """Entry point of an isolated run: run the workload, print its report as JSON."""
    data = json.loads(payload)
    prepared = PreparedWorkload.from_dict(data["prepared"])
    report = _run_prepared(prepared, _Options(**data["options"]))
    sys.stdout.write(_RESULT_MARKER + json.dumps(report.to_dict()) + "\n")


def _run_isolated(prepared: PreparedWorkload, options: _Options) -> WorkloadReport:
    payload = json.dumps({"prepared": prepared.to_dict(), "options": asdict(options)})
    env = {**os.environ, "RUSTYBT_ROOT": prepared.root}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD_CODE, payload],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(_RESULT_MARKER)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RustyBTError(
            f"workload {prepared.spec.name} failed in its own process "
            f"(exit code {proc.returncode}):\n{tail}",
            context={"workload": prepared.spec.name, "returncode": proc.returncode},
        )
    report = WorkloadReport.from_dict(json.loads(lines[-1][len(_RESULT_MARKER) :]))
    return WorkloadReport(report.spec, report.benchmark, isolated=True)


def run_workload(
    spec: WorkloadSpec,
    *,
    root: str | Path | None = None,
    runs: int = 1,
    warmup: int = 1,
    profile: bool = False,
    memory: MemoryMethod = "tracemalloc",
    output_dir: str | Path | None = None,
    isolate: bool = False,
    top: int = 25,
) -> WorkloadReport:
    """Prepare a workload's data (untimed), then benchmark its timed part.

    Parameters
    ----------
    spec
        The workload (:func:`workload_spec`).
    root
        The ``RUSTYBT_ROOT`` to keep the data in; default a temporary folder
        removed afterwards.
    runs, warmup, profile, memory, top
        As in :func:`~rustybt.benchmarks.profiling.run_benchmark_suite`.
    output_dir
        Write the benchmark result there as JSON.
    isolate
        Run the timed part in a fresh Python process.

    Returns
    -------
    WorkloadReport
        The spec, the benchmark result and the workload's result.
    """
    options = _Options(
        runs, warmup, profile, memory, None if output_dir is None else str(output_dir), top
    )
    with _root(root) as folder:
        prepared = prepare_workload(spec, folder)
        return _run_isolated(prepared, options) if isolate else _run_prepared(prepared, options)


@contextmanager
def _root(root: str | Path | None) -> Iterator[str]:
    if root is not None:
        yield str(root)
        return
    with tempfile.TemporaryDirectory(prefix="rustybt-bench-") as folder:
        yield folder


def run_workloads(
    names: Sequence[str] = WORKLOAD_NAMES,
    *,
    assets: int | None = None,
    years: float | None = None,
    sessions: int | None = None,
    root: str | Path | None = None,
    on_report: Callable[[WorkloadReport], None] | None = None,
    search: Mapping[str, int | None] | None = None,
    **options: Any,
) -> list[WorkloadReport]:
    """Run several workloads at their default sizes or at the size given, in order.

    Parameters
    ----------
    names
        Workloads to run (default all eight).
    assets, years, sessions
        Override every chosen workload's size (see :func:`workload_spec`).
    root
        The ``RUSTYBT_ROOT`` for the data; default one temporary folder for
        all of them, so W1, W4 and W5 of the same size share a bundle.
    on_report
        Called with each report as soon as it is ready.
    search
        ``grid``, ``trials`` and ``jobs`` of grid100 and wf5 (see
        :func:`workload_spec`); None or missing: the defaults.
    **options
        ``runs``, ``warmup``, ``profile``, ``memory``, ``output_dir``,
        ``isolate``, ``top``, as :func:`run_workload` takes them.

    Examples
    --------
    >>> reports = run_workloads(["W1"], assets=2, sessions=60, runs=1, warmup=0)
    >>> reports[0].result["final_portfolio_value"] > 0
    True
    """
    sizes = dict(search or {})
    specs = [workload_spec(name, assets, years, sessions, DEFAULT_SEED, **sizes) for name in names]
    reports = []
    with _root(root) as folder:
        for spec in specs:
            report = run_workload(spec, root=folder, **options)
            reports.append(report)
            if on_report is not None:
                on_report(report)
    return reports
