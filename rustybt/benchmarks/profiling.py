"""Run a workflow repeatedly under controlled conditions; time, measure and profile it.

:func:`run_benchmark_suite` is the one entry point. Each timed run is preceded
by a full garbage collection and timed with :func:`time.perf_counter`;
``warmup`` runs come first and are not counted. Memory is measured outside the
timed runs (see ``memory``), and a cProfile breakdown is taken from one more,
untimed, run when ``profile=True``.

How the profile is attributed
-----------------------------
Every profiled function has an own time (cProfile's ``tottime``: time in the
function itself, not in what it calls), and every function's file falls in one
category (:func:`categorize`):

``data``
    ``rustybt/data/``, ``rustybt/assets/``, ``rustybt/calendars.py``: bundles,
    bar readers, the DataPortal and BarData.
``ledger``
    ``rustybt/finance/ledger/`` and ``precision.py``: Decimal cash,
    positions, cost basis, records.
``execution``
    ``rustybt/finance/orders/``, ``models/``, ``risk/`` and
    ``rustybt/brokers/``: orders, sizing, routing, fills, costs, controls.
``metrics``
    ``rustybt/finance/metrics/`` and ``rustybt/analytics/``.
``loop``
    ``rustybt/sim/`` (clock, simulation loop, scheduling),
    ``rustybt/algorithm.py``, ``rustybt/api.py`` and ``rustybt/runner.py``.
``user``
    Code outside rustybt, the standard library and site-packages (a
    strategy's own module, a script compiled from text), and the workloads
    of ``rustybt/benchmarks/`` (its strategy, data generator and workload
    functions), which stand in for user code.
``other``
    Any other file of rustybt, this module (the timing harness) included.
``library``
    The standard library, site-packages (NumPy, pandas, Polars, ...),
    built-ins, and code generated at run time (``<string>``: dataclass and
    namedtuple methods).

:attr:`ProfileBreakdown.own_categories` is the own time summed per category
as is. :attr:`ProfileBreakdown.categories` charges library time to whoever
called the library: a library function's own time is split over its callers
in proportion to its own time under each caller (cProfile's per-caller
``tottime``); a caller that is itself library code passes its share further up,
split in proportion to its cumulative time under each of *its* callers, until
a non-library function takes it. Library time with no such caller (a
library call at the top of the profile, a recursion cycle inside a library)
is ``unattributed``.
So ``categories["data"]`` is the time spent in rustybt's data code *and* in
the NumPy/pandas/Arrow calls that code makes.

Examples
--------
>>> import tempfile
>>> result = run_benchmark_suite(sum, ([1, 2, 3],), num_runs=3, configuration_name="sum",
...                              workflow_type="toy", output_dir=tempfile.mkdtemp())
>>> result.num_runs, len(result.run_times), result.result
(3, 3, 6)
>>> result.min_seconds <= result.mean_seconds <= result.max_seconds
True
>>> result.json_path.suffix
'.json'
"""

from __future__ import annotations

import cProfile
import gc
import json
import math
import os
import platform
import pstats
import re
import resource
import statistics
import sys
import sysconfig
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

import rustybt
from rustybt.exceptions import ParameterValidationError

__all__ = [
    "CATEGORIES",
    "BenchmarkResult",
    "FunctionStat",
    "MemoryMethod",
    "ProfileBreakdown",
    "categorize",
    "max_rss_bytes",
    "profile_breakdown",
    "reset_peak_rss",
    "run_benchmark_suite",
    "t_critical",
]

MemoryMethod = Literal["tracemalloc", "rss", "none"]
MEMORY_METHODS: Final[tuple[str, ...]] = ("tracemalloc", "rss", "none")

#: The categories of :func:`categorize`, in report order.
CATEGORIES: Final[tuple[str, ...]] = (
    "data",
    "ledger",
    "execution",
    "metrics",
    "loop",
    "user",
    "other",
    "library",
)
UNATTRIBUTED: Final[str] = "unattributed"

_PACKAGE_DIR: Final[Path] = Path(rustybt.__file__).resolve().parent
# First match wins; paths are relative to the rustybt package, "/"-separated.
_RUSTYBT_RULES: Final[tuple[tuple[str, str], ...]] = (
    ("benchmarks/profiling.py", "other"),
    ("benchmarks/comparisons.py", "other"),
    ("benchmarks/", "user"),
    ("data/", "data"),
    ("assets/", "data"),
    ("calendars.py", "data"),
    ("finance/metrics/", "metrics"),
    ("analytics/", "metrics"),
    ("finance/ledger/", "ledger"),
    ("finance/precision.py", "ledger"),
    ("finance/orders/", "execution"),
    ("finance/models/", "execution"),
    ("finance/risk/", "execution"),
    ("brokers/", "execution"),
    ("sim/", "loop"),
    ("algorithm.py", "loop"),
    ("api.py", "loop"),
    ("protocol.py", "loop"),
    ("user_code.py", "loop"),
    ("runner.py", "loop"),
    ("utils/run_algo.py", "loop"),
)

# Two-sided 95% critical values of Student's t for 1..30 degrees of freedom.
_T_975: Final[tuple[float, ...]] = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z_975: Final[float] = 1.959963984540054


# --- results ------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionStat:
    """One profiled function.

    Attributes
    ----------
    function
        ``path:line(name)``, the path relative to the rustybt package's parent
        or to site-packages; built-ins as cProfile names them.
    category
        Its file's category (:func:`categorize`).
    ncalls, tottime, cumtime
        Calls, own seconds and cumulative seconds, as cProfile counts them.
    """

    function: str
    category: str
    ncalls: int
    tottime: float
    cumtime: float


@dataclass(frozen=True)
class ProfileBreakdown:
    """Where a profiled run spent its time (see the module docstring).

    Attributes
    ----------
    total_seconds
        The run's total own time (the sum of every function's ``tottime``).
    categories
        Seconds per category with library time charged to its callers, plus
        ``"unattributed"``; sums to ``total_seconds``.
    own_categories
        Seconds of own time per file category, library included, as is.
    top_functions
        The functions with the most own time, most first.
    """

    total_seconds: float
    categories: Mapping[str, float]
    own_categories: Mapping[str, float]
    top_functions: tuple[FunctionStat, ...]
    attribution: str = (
        "own time (tottime) by the function's file; library time charged to its "
        "rustybt/user callers in proportion to the time under each caller"
    )

    def shares(self) -> dict[str, float]:
        """``categories`` as fractions of ``total_seconds``."""
        total = self.total_seconds or 1.0
        return {name: seconds / total for name, seconds in self.categories.items()}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        out["categories"] = dict(self.categories)
        out["own_categories"] = dict(self.own_categories)
        out["shares"] = self.shares()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProfileBreakdown:
        """Rebuild a breakdown from :meth:`to_dict`'s output."""
        return cls(
            total_seconds=float(data["total_seconds"]),
            categories=dict(data["categories"]),
            own_categories=dict(data["own_categories"]),
            top_functions=tuple(FunctionStat(**f) for f in data["top_functions"]),
            attribution=str(data.get("attribution", cls.attribution)),
        )


@dataclass(frozen=True)
class BenchmarkResult:
    """The outcome of :func:`run_benchmark_suite`; times in seconds.

    Attributes
    ----------
    configuration_name, workflow_type
        What was run, as the caller named it.
    num_runs, warmup
        Timed runs, and the untimed warm-up runs before them.
    run_times
        Every timed run, in order.
    mean_seconds, std_seconds, min_seconds, max_seconds, median_seconds
        Statistics of ``run_times``; ``std_seconds`` is the sample standard
        deviation (0.0 for a single run).
    ci95
        The 95% confidence interval of the mean (Student's t with
        ``num_runs - 1`` degrees of freedom); None for a single run.
    peak_memory_bytes, memory_method
        Peak memory and how it was measured: ``"tracemalloc"`` (the traced
        peak of one extra untimed run: Python and NumPy allocations, not
        Arrow/Polars buffers), ``"rss"`` (the process's peak resident set
        size while the warm-up and timed runs ran: everything resident, the
        interpreter and its imports included; on Linux the peak is reset
        before the first run, elsewhere it counts from process start, see
        ``environment["rss_peak_reset"]``) or ``"none"`` (None).
    result
        What the last timed run returned, made JSON-ready (Decimal as str,
        NumPy scalars as numbers, anything else unknown as its repr).
    profile
        The cProfile breakdown of one extra untimed run, if asked for.
    environment
        Python, platform and rustybt versions, CPU count, start time (UTC).
    json_path
        Where the JSON file was written (None without ``output_dir``).
    """

    configuration_name: str
    workflow_type: str
    num_runs: int
    warmup: int
    run_times: tuple[float, ...]
    mean_seconds: float
    std_seconds: float
    min_seconds: float
    max_seconds: float
    median_seconds: float
    ci95: tuple[float, float] | None
    peak_memory_bytes: int | None
    memory_method: str
    result: Any = None
    profile: ProfileBreakdown | None = None
    environment: Mapping[str, Any] = field(default_factory=dict)
    json_path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``json_path`` left out)."""
        out = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("profile", "json_path")
        }
        out["run_times"] = list(self.run_times)
        out["ci95"] = None if self.ci95 is None else list(self.ci95)
        out["environment"] = dict(self.environment)
        out["profile"] = None if self.profile is None else self.profile.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BenchmarkResult:
        """Rebuild a result from :meth:`to_dict`'s output (e.g. a JSON file)."""
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        values["run_times"] = tuple(data["run_times"])
        ci = data.get("ci95")
        values["ci95"] = None if ci is None else (float(ci[0]), float(ci[1]))
        profile = data.get("profile")
        values["profile"] = None if profile is None else ProfileBreakdown.from_dict(profile)
        values.pop("json_path", None)
        return cls(**values)


# --- statistics -----------------------------------------------------------------


def t_critical(df: int) -> float:
    """The two-sided 95% critical value of Student's t with ``df`` degrees of freedom.

    A table for ``df <= 30``; above, the Cornish-Fisher expansion around the
    normal quantile (error below 1e-4).

    Examples
    --------
    >>> t_critical(9), round(t_critical(120), 3)
    (2.262, 1.98)
    """
    if df < 1:
        raise ParameterValidationError(f"degrees of freedom must be >= 1, got {df}")
    if df <= len(_T_975):
        return _T_975[df - 1]
    z = _Z_975
    g1 = (z**3 + z) / 4.0
    g2 = (5.0 * z**5 + 16.0 * z**3 + 3.0 * z) / 96.0
    g3 = (3.0 * z**7 + 19.0 * z**5 + 17.0 * z**3 - 15.0 * z) / 384.0
    return z + g1 / df + g2 / df**2 + g3 / df**3


def _statistics(times: Sequence[float]) -> dict[str, Any]:
    mean = statistics.fmean(times)
    std = statistics.stdev(times) if len(times) > 1 else 0.0
    ci = None
    if len(times) > 1:
        half = t_critical(len(times) - 1) * std / math.sqrt(len(times))
        ci = (mean - half, mean + half)
    return {
        "mean_seconds": mean,
        "std_seconds": std,
        "min_seconds": min(times),
        "max_seconds": max(times),
        "median_seconds": statistics.median(times),
        "ci95": ci,
    }


# --- running ------------------------------------------------------------------


def _timed_call(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def _tracemalloc_peak(fn: Callable[[], Any]) -> int:
    gc.collect()
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        fn()
        return int(tracemalloc.get_traced_memory()[1])
    finally:
        if not already:
            tracemalloc.stop()


_STATUS: Final[Path] = Path("/proc/self/status")
_CLEAR_REFS: Final[Path] = Path("/proc/self/clear_refs")


def max_rss_bytes() -> int:
    """This process's peak resident set size, in bytes.

    On Linux, ``VmHWM`` of ``/proc/self/status``: the peak since the process
    started or since :func:`reset_peak_rss`. Elsewhere ``ru_maxrss``, which
    on Linux would also count a parent's peak inherited across ``exec``.

    Examples
    --------
    >>> max_rss_bytes() > 0
    True
    """
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return int(peak if sys.platform == "darwin" else peak * 1024)


def reset_peak_rss() -> bool:
    """Restart the peak-RSS count from the current RSS (Linux); False if unsupported."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _peak_memory(fn: Callable[[], Any], method: str) -> int | None:
    if method == "tracemalloc":
        return _tracemalloc_peak(fn)
    if method == "rss":
        return max_rss_bytes()
    return None


def _profiled(fn: Callable[[], Any], top: int) -> ProfileBreakdown:
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        fn()
    finally:
        profiler.disable()
    return profile_breakdown(pstats.Stats(profiler), top=top)


def _environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "rustybt": rustybt.__version__,
        "numpy": np.__version__,
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _check_arguments(num_runs: int, warmup: int, memory: str, top: int) -> None:
    if num_runs < 1:
        raise ParameterValidationError(
            f"num_runs must be >= 1, got {num_runs}", context={"num_runs": num_runs}
        )
    if warmup < 0:
        raise ParameterValidationError(
            f"warmup must be >= 0, got {warmup}", context={"warmup": warmup}
        )
    if memory not in MEMORY_METHODS:
        raise ParameterValidationError(
            f"memory must be one of {', '.join(MEMORY_METHODS)}, got {memory!r}",
            context={"memory": memory},
        )
    if top < 0:
        raise ParameterValidationError(f"top must be >= 0, got {top}", context={"top": top})


def run_benchmark_suite(
    workflow_fn: Callable[..., Any],
    workflow_args: Sequence[Any] = (),
    num_runs: int = 10,
    configuration_name: str = "default",
    workflow_type: str = "workflow",
    output_dir: str | Path | None = None,
    warmup: int = 1,
    profile: bool = False,
    *,
    workflow_kwargs: Mapping[str, Any] | None = None,
    memory: MemoryMethod = "tracemalloc",
    top: int = 25,
) -> BenchmarkResult:
    """Time ``workflow_fn(*workflow_args, **workflow_kwargs)`` over repeated runs.

    Parameters
    ----------
    workflow_fn, workflow_args, workflow_kwargs
        The workflow and its arguments; each run calls it the same way.
    num_runs
        Timed runs (at least 1).
    configuration_name, workflow_type
        Names recorded in the result and the JSON file's name.
    output_dir
        Folder to write the result to as JSON (created if missing; written
        to a temporary file and renamed into place). None: write nothing.
    warmup
        Untimed runs before the timed ones (imports, caches, first-use costs).
    profile
        Profile one extra untimed run with cProfile and attach a
        :class:`ProfileBreakdown`.
    memory
        ``"tracemalloc"`` (one extra untimed run under tracemalloc), ``"rss"``
        (the process's peak RSS during the runs, no extra run) or ``"none"``.
    top
        How many functions the profile lists, by own time.

    Returns
    -------
    BenchmarkResult
        Times, their statistics, peak memory, the last run's result and,
        if asked, the profile.

    Raises
    ------
    ParameterValidationError
        If ``num_runs < 1``, ``warmup < 0``, ``top < 0`` or ``memory`` is unknown.

    Examples
    --------
    >>> result = run_benchmark_suite(sorted, ([3, 1, 2],), num_runs=2, warmup=0, profile=True)
    >>> result.result, result.ci95 is not None, "user" in result.profile.categories
    ([1, 2, 3], True, True)
    """
    _check_arguments(num_runs, warmup, memory, top)
    kwargs = dict(workflow_kwargs or {})

    def call() -> Any:
        return workflow_fn(*workflow_args, **kwargs)

    environment = _environment()
    if memory == "rss":
        environment["rss_peak_reset"] = reset_peak_rss()
    for _ in range(warmup):
        _timed_call(call)
    timed = [_timed_call(call) for _ in range(num_runs)]
    times = tuple(seconds for seconds, _ in timed)
    last_value = timed[-1][1]
    del timed
    peak = _peak_memory(call, memory)
    breakdown = _profiled(call, top) if profile else None
    result = BenchmarkResult(
        configuration_name=configuration_name,
        workflow_type=workflow_type,
        num_runs=num_runs,
        warmup=warmup,
        run_times=times,
        **_statistics(times),
        peak_memory_bytes=peak,
        memory_method=memory,
        result=jsonable(last_value),
        profile=breakdown,
        environment=environment,
    )
    if output_dir is None:
        return result
    return replace(result, json_path=write_result(result, output_dir))


# --- JSON ---------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """``value`` as JSON-ready data: Decimal as str, NumPy as Python, others by repr.

    Examples
    --------
    >>> from decimal import Decimal
    >>> jsonable({"cash": Decimal("1.50"), "n": np.int64(3), "xs": (1.0, np.float64(2.5))})
    {'cash': '1.50', 'n': 3, 'xs': [1.0, 2.5]}
    """
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return repr(value)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "benchmark"


def write_result(result: BenchmarkResult, output_dir: str | Path) -> Path:
    """Write ``result`` as JSON into ``output_dir`` atomically; returns the file.

    The name is ``<configuration>_<workflow type>_<UTC time>.json``; the file
    is written beside its final name and renamed into place.
    """
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    stem = f"{_slug(result.configuration_name)}_{_slug(result.workflow_type)}_{stamp}"
    path = folder / f"{stem}.json"
    counter = 1
    while path.exists():
        counter += 1
        path = folder / f"{stem}-{counter}.json"
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        tmp.write_text(json.dumps(result.to_dict(), indent=2, allow_nan=False))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# --- profile attribution ----------------------------------------------------------


@lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots.update({sys.base_prefix, sys.prefix, sys.exec_prefix})
    real = {os.path.realpath(root) for root in roots}
    # A prefix of "/" would make every file library code.
    return tuple(sorted(root.rstrip(os.sep) + os.sep for root in real if root != os.sep))


def _rustybt_category(relative: str) -> str:
    for prefix, category in _RUSTYBT_RULES:
        if relative.startswith(prefix):
            return category
    return "other"


@lru_cache(maxsize=4096)
def categorize(filename: str) -> str:
    """The category of the code in ``filename`` (see the module docstring).

    Examples
    --------
    >>> import rustybt.finance.ledger as ledger, json as stdlib_json
    >>> categorize(ledger.__file__), categorize(stdlib_json.__file__), categorize("~")
    ('ledger', 'library', 'library')
    >>> categorize("/home/me/strategies/my_algo.py"), categorize("<algorithm>")
    ('user', 'user')
    """
    if filename == "~" or filename.startswith(("<frozen", "<string>")):
        return "library"  # built-ins, frozen modules, dataclass/namedtuple methods
    if filename.startswith("<"):
        return "user"  # source compiled from text: a strategy script
    real = os.path.realpath(filename)
    package = str(_PACKAGE_DIR) + os.sep
    if real.startswith(package):
        return _rustybt_category(real[len(package) :].replace(os.sep, "/"))
    if "site-packages" in real or "dist-packages" in real:
        return "library"
    if any(real.startswith(root) for root in _library_roots()):
        return "library"
    return "user"


def _label(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    if filename == "~":
        return name
    return f"{_short_path(os.path.realpath(filename))}:{line}({name})"


def _short_path(real: str) -> str:
    """A file's path relative to site-packages, the stdlib or rustybt's parent folder."""
    for marker in ("site-packages" + os.sep, "dist-packages" + os.sep):
        if marker in real:
            return real.split(marker, 1)[1]
    roots = (str(_PACKAGE_DIR.parent) + os.sep, *_library_roots())
    for root in sorted(roots, key=len, reverse=True):
        if real.startswith(root):
            return real[len(root) :]
    return real


Func = tuple[str, int, str]


class _Attributor:
    """Charges library own time to the nearest non-library callers (see module doc)."""

    # Deeper library call chains than this are left unattributed.
    MAX_DEPTH: Final[int] = 400

    def __init__(self, stats: Mapping[Func, tuple[Any, ...]]) -> None:
        self.stats = stats
        self._shares: dict[Func, dict[str, float]] = {}

    def category(self, func: Func) -> str:
        return categorize(func[0])

    def own_time_shares(self, func: Func) -> dict[str, float]:
        """How ``func``'s own time splits over categories (by per-caller tottime)."""
        if self.category(func) != "library":
            return {self.category(func): 1.0}
        return self._split(func, weight_index=2, depth=0, stack=frozenset({func}))

    def _shares_of(self, func: Func, depth: int, stack: frozenset[Func]) -> dict[str, float]:
        """How time under ``func`` splits over categories (by per-caller cumtime)."""
        if self.category(func) != "library":
            return {self.category(func): 1.0}
        if func in stack or depth > self.MAX_DEPTH:
            return {UNATTRIBUTED: 1.0}
        if func not in self._shares:
            self._shares[func] = self._split(func, 3, depth, stack | {func})
        return self._shares[func]

    def _split(
        self, func: Func, weight_index: int, depth: int, stack: frozenset[Func]
    ) -> dict[str, float]:
        callers: Mapping[Func, tuple[Any, ...]] = self.stats[func][4] if func in self.stats else {}
        weights = {caller: float(edge[weight_index]) for caller, edge in callers.items()}
        total = sum(weights.values())
        if total <= 0.0:
            weights = {caller: float(edge[1]) for caller, edge in callers.items()}
            total = sum(weights.values())
        if total <= 0.0:
            return {UNATTRIBUTED: 1.0}
        out: dict[str, float] = {}
        for caller, weight in weights.items():
            for name, share in self._shares_of(caller, depth + 1, stack).items():
                out[name] = out.get(name, 0.0) + share * weight / total
        return out


def profile_breakdown(stats: pstats.Stats, top: int = 25) -> ProfileBreakdown:
    """Attribute a cProfile run's time to categories (see the module docstring).

    Parameters
    ----------
    stats
        The profile, e.g. ``pstats.Stats(profiler)``.
    top
        How many functions to list, by own time.

    Examples
    --------
    >>> import cProfile, pstats
    >>> profiler = cProfile.Profile()
    >>> _ = profiler.runcall(sorted, list(range(10_000)), key=lambda x: -x)
    >>> breakdown = profile_breakdown(pstats.Stats(profiler), top=3)
    >>> round(sum(breakdown.categories.values()), 6) == round(breakdown.total_seconds, 6)
    True
    """
    raw: Mapping[Func, tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    attributor = _Attributor(raw)
    own = dict.fromkeys(CATEGORIES, 0.0)
    charged = {**dict.fromkeys(CATEGORIES[:-1], 0.0), UNATTRIBUTED: 0.0}
    for func, (_cc, _nc, tottime, _ct, _callers) in raw.items():
        own[attributor.category(func)] += tottime
        for name, share in attributor.own_time_shares(func).items():
            charged[name] += tottime * share
    ranked = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    functions = tuple(
        FunctionStat(_label(func), attributor.category(func), int(nc), float(tt), float(ct))
        for func, (_cc, nc, tt, ct, _callers) in ranked
    )
    return ProfileBreakdown(
        total_seconds=float(sum(own.values())),
        categories=charged,
        own_categories=own,
        top_functions=functions,
    )
