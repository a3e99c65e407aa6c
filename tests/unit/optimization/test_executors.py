"""The serial and process-pool executors on the demo bundle (Ray: tests/integration)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rustybt.exceptions import (
    ConfigValidationError,
    DataNotFoundError,
    ParameterValidationError,
)
from rustybt.optimization.executors import (
    PoolExecutor,
    SerialExecutor,
    TrialActor,
    make_executor,
    resolve_jobs,
)
from rustybt.optimization.trial import BacktestSpec, TrialOutcome, TrialTask
from tests.unit.optimization._algos import (
    WINDOWS,
    final_metrics,
    reader_identity,
    write_dual_moving_average,
)

START, END = "2016-01-04", "2016-12-30"


def tasks() -> list[TrialTask]:
    return [TrialTask(i, w) for i, w in enumerate(WINDOWS)]


def by_number(outcomes: Iterator[TrialOutcome]) -> dict[int, TrialOutcome]:
    return {o.number: o for o in outcomes}


@pytest.fixture
def spec(demo_root: Path, tmp_path: Path) -> BacktestSpec:
    return BacktestSpec(write_dual_moving_average(tmp_path), "demo", START, END, root=demo_root)


def test_serial_and_pools_give_equal_metrics(spec: BacktestSpec) -> None:
    with SerialExecutor() as serial:
        expected = by_number(serial.run(spec, tasks(), final_metrics))
    assert all(o.status == "complete" for o in expected.values())
    assert len({o.metrics["final_value"] for o in expected.values()}) == len(WINDOWS)
    for jobs in (1, 2):
        with PoolExecutor(jobs) as pool:
            got = by_number(pool.run(spec, tasks(), final_metrics))
        assert {n: o.metrics for n, o in got.items()} == {n: o.metrics for n, o in expected.items()}
        assert {n: o.params for n, o in got.items()} == {n: o.params for n, o in expected.items()}
        assert all(o.worker != f"pid {os.getpid()}" for o in got.values())


def test_pool_workers_open_the_bundle_once_and_keep_it(spec: BacktestSpec) -> None:
    many = [TrialTask(i, WINDOWS[i % len(WINDOWS)]) for i in range(6)]
    with PoolExecutor(2) as pool:
        outcomes = list(pool.run(spec, many, reader_identity))
        # A second search on the same pool: its workers still hold the bundle.
        outcomes += pool.run(spec, many[:2], reader_identity)
    readers: dict[str, set[float]] = {}
    for outcome in outcomes:
        readers.setdefault(outcome.worker, set()).add(outcome.metrics["daily_reader"])
    assert 1 <= len(readers) <= 2
    assert all(len(ids) == 1 for ids in readers.values()), readers


def test_pool_reads_tasks_lazily_and_keeps_perf(spec: BacktestSpec) -> None:
    pulled: list[int] = []

    def lazy() -> Iterator[TrialTask]:
        for task in tasks():
            pulled.append(task.number)
            yield task

    with PoolExecutor(2) as pool:
        run = pool.run(spec, lazy(), final_metrics, keep_perf=True)
        first = next(run)
        assert len(pulled) <= 4  # the workers' trials and a queue as long again
        rest = list(run)
    assert sorted(o.number for o in [first, *rest]) == list(range(len(WINDOWS)))
    assert first.perf is not None and len(first.perf) == 252


def test_pool_records_a_failing_trial_and_goes_on(spec: BacktestSpec) -> None:
    bad = [TrialTask(0, {"fast": 5, "slow": "x"}), *tasks()[1:3]]
    with PoolExecutor(2) as pool:
        got = by_number(pool.run(spec, bad, final_metrics))
    assert got[0].status == "fail" and got[0].error is not None
    assert got[0].error.startswith(f"{spec.algorithm}: ")
    assert [got[1].status, got[2].status] == ["complete", "complete"]


def test_missing_bundle_stops_the_pool_before_any_trial(tmp_path: Path) -> None:
    spec = BacktestSpec(write_dual_moving_average(tmp_path), "demo", START, END,
                        root=tmp_path / "no-root")  # fmt: skip
    with PoolExecutor(2) as pool, pytest.raises(DataNotFoundError, match="no ingestion"):
        list(pool.run(spec, tasks(), final_metrics))
    with SerialExecutor() as serial, pytest.raises(DataNotFoundError):
        list(serial.run(spec, tasks(), final_metrics))


def test_trial_actor_outside_ray_runs_here(spec: BacktestSpec) -> None:
    actor = TrialActor()
    assert actor.warm(spec) == f"pid {os.getpid()}"
    outcome = actor.run(spec, TrialTask(0, WINDOWS[0]), final_metrics, False)
    assert outcome.status == "complete" and outcome.worker == f"pid {os.getpid()}"


def test_make_executor_chooses_by_jobs() -> None:
    assert isinstance(make_executor(), SerialExecutor)
    pool = make_executor(jobs=2)
    assert isinstance(pool, PoolExecutor) and pool.workers == 2
    every = make_executor(jobs=-1)
    assert isinstance(every, PoolExecutor) and every.workers == (os.cpu_count() or 1)


def test_ray_executor_without_ray_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an absent package gives
    with pytest.raises(ConfigValidationError, match=r"pip install 'rustybt\[ray\]'"):
        make_executor(jobs=2, ray_address="auto")


@pytest.mark.parametrize("jobs", [0, -2, 1.5, True])
def test_bad_jobs_refused(jobs: object) -> None:
    with pytest.raises(ParameterValidationError, match=f"got {jobs!r}"):
        resolve_jobs(jobs)  # type: ignore[arg-type]
    with pytest.raises(ParameterValidationError):
        make_executor(jobs=jobs)  # type: ignore[arg-type]


def test_pool_started_at_module_level_without_main_guard(
    spec: BacktestSpec, tmp_path: Path
) -> None:
    # Each worker imports the main script; one that starts a search at module level
    # makes Python stop the worker, and the user learns what to change.
    script = tmp_path / "search.py"
    script.write_text(
        "from rustybt.optimization.executors import PoolExecutor\n"
        "from rustybt.optimization.trial import BacktestSpec, TrialTask\n"
        "from tests.unit.optimization._algos import final_metrics\n"
        f"spec = BacktestSpec({spec.algorithm!r}, 'demo', {START!r}, {END!r}, root={spec.root!r})\n"
        "with PoolExecutor(1) as pool:\n"
        "    list(pool.run(spec, [TrialTask(0, {})], final_metrics))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("rustybt.exceptions.ConfigValidationError: a worker process of the pool")
    assert 'put that code under `if __name__ == "__main__":`' in last
