"""run_benchmark_suite: controlled runs, statistics, memory, JSON, profile attribution."""

from __future__ import annotations

import gc
import json
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rustybt
from rustybt.benchmarks import profiling
from rustybt.benchmarks.profiling import (
    BenchmarkResult,
    categorize,
    run_benchmark_suite,
    t_critical,
)
from rustybt.data import validation
from rustybt.exceptions import ParameterValidationError

PACKAGE = Path(rustybt.__file__).parent


class Counter:
    """A workflow that counts its calls and returns its argument doubled."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: int) -> int:
        self.calls += 1
        return 2 * x


def test_statistics_describe_the_timed_runs() -> None:
    result = run_benchmark_suite(time.sleep, (0.002,), num_runs=5, warmup=0, memory="none")
    times = result.run_times
    assert len(times) == 5 and all(t >= 0.002 for t in times)
    assert result.mean_seconds == pytest.approx(statistics.fmean(times))
    assert result.std_seconds == pytest.approx(statistics.stdev(times))
    assert result.min_seconds == min(times) and result.max_seconds == max(times)
    assert result.median_seconds == pytest.approx(statistics.median(times))
    low, high = result.ci95  # type: ignore[misc]
    half = t_critical(4) * statistics.stdev(times) / np.sqrt(5)
    assert low == pytest.approx(result.mean_seconds - half)
    assert high == pytest.approx(result.mean_seconds + half)


def test_warmup_runs_are_run_but_not_timed() -> None:
    calls: list[float] = []

    def slow_first() -> None:
        calls.append(time.perf_counter())
        if len(calls) == 1:
            time.sleep(0.05)

    result = run_benchmark_suite(slow_first, num_runs=3, warmup=1, memory="none")
    assert len(calls) == 4
    assert result.warmup == 1 and len(result.run_times) == 3
    assert result.max_seconds < 0.05


def test_call_count_covers_warmup_runs_memory_and_profile() -> None:
    counter = Counter()
    result = run_benchmark_suite(
        counter, (21,), num_runs=4, warmup=2, profile=True, memory="tracemalloc"
    )
    # 2 warm-up + 4 timed + 1 under tracemalloc + 1 under cProfile.
    assert counter.calls == 8
    assert result.result == 42


def test_garbage_is_collected_before_every_run(monkeypatch: pytest.MonkeyPatch) -> None:
    collections: list[int] = []
    real_collect = gc.collect

    def counting_collect(*args: int) -> int:
        collections.append(1)
        return real_collect(*args)

    monkeypatch.setattr(gc, "collect", counting_collect)
    run_benchmark_suite(lambda: None, num_runs=3, warmup=1, memory="none")
    assert len(collections) >= 4


def test_kwargs_reach_the_workflow() -> None:
    result = run_benchmark_suite(
        lambda a, b=0: a - b, (10,), workflow_kwargs={"b": 3}, num_runs=1, memory="none"
    )
    assert result.result == 7


def test_single_run_has_no_confidence_interval() -> None:
    result = run_benchmark_suite(lambda: 1, num_runs=1, warmup=0, memory="none")
    assert result.ci95 is None and result.std_seconds == 0.0


def test_json_is_written_atomically_and_round_trips(tmp_path: Path) -> None:
    result = run_benchmark_suite(
        lambda: {"value": np.float64(1.5)},
        num_runs=2,
        configuration_name="tiny config",
        workflow_type="toy/type",
        output_dir=tmp_path / "out",
        profile=True,
    )
    assert result.json_path is not None and result.json_path.parent == tmp_path / "out"
    assert result.json_path.name.startswith("tiny-config_toy-type_")
    assert [p.name for p in (tmp_path / "out").iterdir()] == [result.json_path.name]
    data = json.loads(result.json_path.read_text())
    assert data["num_runs"] == 2 and data["result"] == {"value": 1.5}
    assert data["memory_method"] == "tracemalloc" and data["peak_memory_bytes"] >= 0
    assert set(data["profile"]["categories"]) >= {"data", "ledger", "execution", "user"}
    again = BenchmarkResult.from_dict(data)
    assert again.run_times == result.run_times and again.profile == result.profile


def test_two_results_in_one_second_get_two_files(tmp_path: Path) -> None:
    first = run_benchmark_suite(len, ("ab",), num_runs=1, output_dir=tmp_path, memory="none")
    second = run_benchmark_suite(len, ("ab",), num_runs=1, output_dir=tmp_path, memory="none")
    assert first.json_path != second.json_path
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_tracemalloc_peak_sees_the_workflows_allocation() -> None:
    megabytes = 16
    result = run_benchmark_suite(
        lambda: float(np.ones(megabytes * 1024**2 // 8).sum()), num_runs=1, warmup=0
    )
    assert result.peak_memory_bytes is not None
    assert result.peak_memory_bytes >= megabytes * 1024**2


def test_rss_is_the_peak_during_the_runs() -> None:
    result = run_benchmark_suite(lambda: None, num_runs=1, memory="rss")
    assert result.memory_method == "rss"
    assert result.peak_memory_bytes is not None
    assert result.peak_memory_bytes > 10 * 1024**2  # an interpreter with NumPy loaded
    assert result.peak_memory_bytes <= profiling.max_rss_bytes()


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux only")
def _resident_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_rss_peak_before_the_runs_is_not_counted() -> None:
    block = np.ones(256 * 1024**2 // 8)  # 256 MiB resident, then freed
    del block
    peak_before = profiling.max_rss_bytes()
    resident = _resident_bytes()
    # The block is in the peak so far, not in what is resident now.
    assert peak_before > resident + 200 * 1024**2
    result = run_benchmark_suite(lambda: None, num_runs=1, memory="rss")
    assert result.environment["rss_peak_reset"] is True
    assert result.peak_memory_bytes is not None
    # Measured from what is resident (other threads of the test process may
    # add a little), never from the earlier peak.
    assert result.peak_memory_bytes < resident + 128 * 1024**2
    with_block = run_benchmark_suite(
        lambda: float(np.ones(256 * 1024**2 // 8).sum()), num_runs=1, memory="rss"
    )
    assert with_block.peak_memory_bytes is not None
    assert with_block.peak_memory_bytes > result.peak_memory_bytes + 200 * 1024**2


@pytest.mark.parametrize(
    "kwargs",
    [{"num_runs": 0}, {"warmup": -1}, {"memory": "psutil"}, {"top": -1}],
)
def test_bad_arguments_raise(kwargs: dict[str, object]) -> None:
    with pytest.raises(ParameterValidationError):
        run_benchmark_suite(lambda: None, **kwargs)  # type: ignore[arg-type]


def test_t_critical_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for df in [*range(1, 40), 50, 75, 100, 500, 10_000]:
        assert t_critical(df) == pytest.approx(stats.t.ppf(0.975, df), abs=2e-3), df
    with pytest.raises(ParameterValidationError):
        t_critical(0)


@pytest.mark.parametrize(
    ("relative", "category"),
    [
        ("data/portal.py", "data"),
        ("data/bundles/core.py", "data"),
        ("assets/finder.py", "data"),
        ("finance/ledger/facade.py", "ledger"),
        ("finance/ledger/position.py", "ledger"),
        ("brokers/simulated.py", "execution"),
        ("finance/models/slippage.py", "execution"),
        ("finance/orders/order.py", "execution"),
        ("finance/metrics/tracker.py", "metrics"),
        ("sim/loop.py", "loop"),
        ("algorithm.py", "loop"),
        ("benchmarks/dual_ma.py", "user"),
        ("exceptions.py", "other"),
    ],
)
def test_rustybt_files_fall_in_their_category(relative: str, category: str) -> None:
    assert categorize(str(PACKAGE / relative)) == category


def test_libraries_builtins_and_user_code() -> None:
    assert categorize(np.__file__) == "library"
    assert categorize(json.__file__) == "library"
    assert categorize("~") == "library"
    assert categorize("<string>") == "library"  # dataclass-generated methods
    assert categorize(__file__) == "user"
    assert categorize("<algorithm>") == "user"


VALUES = np.random.default_rng(0).standard_normal(400_000)


def user_sorts() -> float:
    return float(sum(np.sort(VALUES)[0] for _ in range(3)))


def test_library_time_is_charged_to_the_user_code_that_called_it() -> None:
    result = run_benchmark_suite(user_sorts, num_runs=1, warmup=0, memory="none", profile=True)
    profile = result.profile
    assert profile is not None
    assert profile.own_categories["library"] > profile.own_categories["user"]
    assert profile.categories["user"] > 0.8 * profile.total_seconds
    assert sum(profile.categories.values()) == pytest.approx(profile.total_seconds)
    assert sum(profile.own_categories.values()) == pytest.approx(profile.total_seconds)


def validate_many() -> None:
    index = pd.date_range("2000-01-03", periods=20_000, freq="D")
    close = np.linspace(10.0, 20.0, len(index))
    frame = pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 1.0},
        index=index,
    )
    for _ in range(20):
        validation.validate_bars(frame, frequency="daily", valid_index=None, source="x")


def test_library_time_under_rustybt_data_code_counts_as_data() -> None:
    result = run_benchmark_suite(
        validate_many, num_runs=1, warmup=0, memory="none", profile=True, top=5
    )
    profile = result.profile
    assert profile is not None
    # The NumPy/pandas work validate_bars does is charged to it, i.e. to "data".
    # (Ratios, not exact shares: timings move with the machine's load.)
    assert profile.categories["data"] > 1.2 * profile.own_categories["data"]
    assert profile.categories["data"] > 0.3 * profile.total_seconds
    assert len(profile.top_functions) == 5
    tottimes = [f.tottime for f in profile.top_functions]
    assert tottimes == sorted(tottimes, reverse=True)
    assert abs(sum(profile.shares().values()) - 1.0) < 1e-9
