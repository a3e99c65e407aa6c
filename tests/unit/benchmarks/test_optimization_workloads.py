"""The search workloads grid100 and wf5, their algorithm file and their sizes, on tiny bundles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rustybt import run_algorithm
from rustybt.benchmarks import dual_ma
from rustybt.benchmarks.optimization_workloads import (
    ALGORITHM,
    FAST_WINDOWS,
    SLOW_WINDOWS,
    RssSampler,
    search_space,
    walk_forward_spans,
)
from rustybt.benchmarks.workloads import (
    CAPITAL_BASE,
    WORKLOAD_NAMES,
    PreparedWorkload,
    prepare_workload,
    run_backtest,
    run_workloads,
    workload_function,
    workload_spec,
)
from rustybt.exceptions import ParameterValidationError

# Long enough for every tiny grid's slow window (50, 70) to trade.
SESSIONS = 120


def run_file(prepared: PreparedWorkload, **params: int) -> tuple[float, int]:
    """The algorithm file run alone, as `rustybt run -D ...` runs it: (final value, fills)."""
    sessions = prepared.spec.session_index()
    perf = run_algorithm(
        sessions[0],
        sessions[-1],
        capital_base=CAPITAL_BASE,
        bundle=prepared.bundle,
        environ=prepared.environ,
        script=ALGORITHM.read_text(),
        algo_filename=str(ALGORITHM),
        params=params,
        default_extension=False,
    )
    return float(perf["portfolio_value"].iloc[-1]), int(sum(map(len, perf["transactions"])))


@pytest.fixture(scope="module")
def small_bundle(tmp_path_factory: pytest.TempPathFactory) -> PreparedWorkload:
    """3 assets x 120 sessions: the daily bundle W5 and the searches of that size share."""
    root = tmp_path_factory.mktemp("searches")
    return prepare_workload(workload_spec("grid100", assets=3, sessions=SESSIONS), root)


def test_the_grid_is_10_by_10_with_fast_below_slow_and_holds_w5() -> None:
    space = search_space()
    points = space.grid()
    assert space.grid_size() == len(points) == 100
    assert all(p["fast"] < p["slow"] for p in points)
    assert {"fast": dual_ma.FAST, "slow": dual_ma.SLOW} in points
    assert [p["fast"] for p in points[::10]] == list(FAST_WINDOWS)
    assert [p["slow"] for p in points[:10]] == list(SLOW_WINDOWS)
    assert search_space(2).grid() == [
        {"fast": 4, "slow": 50}, {"fast": 4, "slow": 70},
        {"fast": 8, "slow": 50}, {"fast": 8, "slow": 70},
    ]  # fmt: skip


def test_search_workloads_are_registered_with_their_sizes() -> None:
    assert WORKLOAD_NAMES[-2:] == ("grid100", "wf5")
    grid = workload_spec("GRID100")
    assert (grid.name, grid.assets, grid.sessions, grid.grid, grid.jobs) == (
        "grid100", 50, 2520, 10, 2
    )  # fmt: skip
    assert grid.frequency == "daily" and grid.configuration_name == "grid100-50x2520-g10-j2"
    assert grid.size == "50 assets x 2520 sessions, 10x10 grid, 2 jobs"
    wf = workload_spec("wf5", assets=4, sessions=300, grid=3, trials=6, jobs=1)
    assert wf.size == "4 assets x 300 sessions, 5x6 trials of 3x3, 1 jobs"
    assert wf.configuration_name == "wf5-4x300-g3-t6-j1"
    assert workload_spec("W5").search == ""


@pytest.mark.parametrize(
    ("name", "sizes", "message"),
    [
        ("grid100", {"grid": 11}, "grid100: grid must be 1 .. 10 (the first values of each"),
        ("grid100", {"grid": 0}, "grid100: grid must be 1 .. 10"),
        ("wf5", {"trials": 0}, "wf5: trials and jobs must be at least 1, got trials=0, jobs=2"),
        ("grid100", {"jobs": 0}, "grid100: trials and jobs must be at least 1"),
        ("wf5", {"sessions": 9}, "wf5 cuts its sessions into a training span and 5 test spans"),
    ],
)
def test_search_sizes_out_of_range_are_clear_errors(
    name: str, sizes: dict[str, int], message: str
) -> None:
    with pytest.raises(ParameterValidationError, match=message.replace("(", r"\(")):
        workload_spec(name, **sizes)


def test_walk_forward_spans_leave_five_test_spans() -> None:
    for sessions in (10, 120, 2516, 2520):
        train, test = walk_forward_spans(sessions)
        assert train + 5 * test == sessions and test == sessions // 10 and train >= 5 * test


def test_the_algorithm_file_is_w5_at_w5s_windows(small_bundle: PreparedWorkload) -> None:
    w5 = prepare_workload(workload_spec("W5", assets=3, sessions=SESSIONS), small_bundle.root)
    assert w5.bundle == small_bundle.bundle  # one bundle for both
    expected = run_backtest(w5)
    assert expected["fills"] > 0
    assert run_file(small_bundle) == (expected["final_portfolio_value"], expected["fills"])
    assert run_file(small_bundle, fast=20, slow=50) == run_file(small_bundle)
    assert run_file(small_bundle, fast=8, slow=70) != run_file(small_bundle)


def test_the_algorithm_file_refuses_fast_not_below_slow(small_bundle: PreparedWorkload) -> None:
    with pytest.raises(ParameterValidationError, match="0 < fast < slow, got fast=60, slow=50"):
        run_file(small_bundle, fast=60, slow=50)


def test_grid_search_on_a_2x2_grid_finds_the_best_of_its_backtests(
    small_bundle: PreparedWorkload,
) -> None:
    spec = workload_spec("grid100", assets=3, sessions=SESSIONS, grid=2, jobs=1)
    result = workload_function(PreparedWorkload(spec, small_bundle.root, small_bundle.bundle))()
    assert result["trials"] == result["complete"] == 4
    assert result["workers"] == 1 and result["worker_rss_mb"] == []  # trials ran in-process
    assert result["best_params"] in search_space(2).grid()
    assert result["backtest_seconds"] > 0
    # The best trial is a real backtest of the file with its parameters.
    value, fills = run_file(small_bundle, **result["best_params"])
    assert (result["best_final_value"], result["best_fills"]) == (value, fills)


def test_grid100_runs_through_run_workloads_on_two_worker_processes(tmp_path: Path) -> None:
    seen: list[str] = []
    (report,) = run_workloads(
        ["GRID100"],
        assets=2,
        sessions=SESSIONS,
        root=tmp_path,
        search={"grid": 2, "jobs": 2},
        on_report=lambda r: seen.append(r.spec.configuration_name),
        runs=1,
        warmup=0,
        memory="none",
    )
    assert seen == ["grid100-2x120-g2-j2"]
    result = report.result
    assert result["trials"] == result["complete"] == 4 and result["workers"] == 2
    # Each worker process that ran trials, with its peak resident memory.
    workers = result["worker_rss_mb"]
    assert 1 <= len(workers) <= 2 and all(w["peak"] > 0 and w["anon"] > 0 for w in workers)
    assert report.benchmark.num_runs == 1 and report.benchmark.min_seconds > 0


def test_rss_sampler_sees_a_child_process() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        with RssSampler(interval=0.01) as sampler:
            sampler.sample()
        assert child.pid in sampler.samples
        memory = sampler.samples[child.pid]
        assert memory["peak"] > 0 and memory["anon"] + memory["file"] <= memory["peak"]
    finally:
        child.kill()
        child.wait()
