"""The Ray executor on a two-node Ray cluster started on 127.0.0.1 by the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rustybt.exceptions import ConfigValidationError, DataNotFoundError
from rustybt.optimization.executors import RayExecutor, SerialExecutor, make_executor
from rustybt.optimization.trial import BacktestSpec, TrialTask
from tests.unit.optimization._algos import (
    WINDOWS,
    final_metrics,
    reader_identity,
    write_dual_moving_average,
)

ray = pytest.importorskip("ray")
cluster_utils = pytest.importorskip("ray.cluster_utils")

START, END = "2016-01-04", "2016-12-30"
OBJECT_STORE = 100 * 1024 * 1024


def test_local_ray_started_and_stopped_by_the_executor(demo_root: Path, tmp_path: Path) -> None:
    spec = BacktestSpec(write_dual_moving_average(tmp_path), "demo", START, END, root=demo_root)
    tasks = [TrialTask(i, WINDOWS[i]) for i in range(2)]
    with SerialExecutor() as serial:
        expected = {o.number: o.metrics for o in serial.run(spec, tasks, final_metrics)}
    with make_executor(jobs=1, ray_address="local") as executor:
        assert isinstance(executor, RayExecutor) and executor.workers == 1
        assert ray.is_initialized()
        got = {o.number: o.metrics for o in executor.run(spec, tasks, final_metrics)}
    assert got == expected
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A head node and a worker node, one CPU each, on 127.0.0.1."""
    assert not ray.is_initialized()
    with pytest.MonkeyPatch.context() as patch:
        # Ray takes a loopback address for "this machine" and connects to the
        # machine's outward address instead, where nothing listens; on Linux
        # this switch (read by the driver's Ray, and by the processes the
        # cluster starts, through the environment) keeps it on 127.0.0.1.
        patch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        patch.setattr(ray._private.ray_constants, "ENABLE_RAY_CLUSTER", False)
        yield from two_node_cluster()


def two_node_cluster() -> Iterator[Any]:
    """Start the cluster, yield it, and shut it down."""
    cluster = cluster_utils.Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 1,
            "object_store_memory": OBJECT_STORE,
            "include_dashboard": False,
            "node_ip_address": "127.0.0.1",
        },
    )
    try:
        cluster.add_node(num_cpus=1, object_store_memory=OBJECT_STORE,
                         node_ip_address="127.0.0.1")  # fmt: skip
        cluster.wait_for_nodes()
        yield cluster
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


def test_ray_cluster_runs_trials_on_both_nodes_with_serial_results(
    cluster: Any, demo_root: Path, tmp_path: Path
) -> None:
    spec = BacktestSpec(write_dual_moving_average(tmp_path), "demo", START, END, root=demo_root)
    tasks = [TrialTask(i, WINDOWS[i % len(WINDOWS)]) for i in range(6)]
    with SerialExecutor() as serial:
        expected = {o.number: o.metrics for o in serial.run(spec, tasks, final_metrics)}
    with RayExecutor(address=cluster.address) as executor:
        assert executor.workers == 2  # one actor per CPU of the cluster
        outcomes = list(executor.run(spec, tasks, final_metrics))
        # Each actor keeps the bundle it opened: one reader per actor.
        readers = list(executor.run(spec, tasks, reader_identity))
    assert {o.number: o.metrics for o in outcomes} == expected
    assert all(o.status == "complete" for o in outcomes)
    nodes = {o.worker.split()[1] for o in outcomes}
    assert {o.worker.split()[0] for o in outcomes} == {"node"}
    assert nodes == {node["NodeID"] for node in ray_nodes(cluster)}
    assert len(nodes) == 2
    per_worker: dict[str, set[float]] = {}
    for outcome in readers:
        per_worker.setdefault(outcome.worker, set()).add(outcome.metrics["daily_reader"])
    assert len(per_worker) == 2 and all(len(ids) == 1 for ids in per_worker.values())
    assert not ray.is_initialized()  # the executor connected, so it disconnected


def test_ray_missing_bundle_and_too_many_jobs(cluster: Any, tmp_path: Path) -> None:
    spec = BacktestSpec(write_dual_moving_average(tmp_path), "demo", START, END,
                        root=tmp_path / "no-root")  # fmt: skip
    with RayExecutor(jobs=1, address=cluster.address) as executor:
        assert executor.workers == 1
        with pytest.raises(DataNotFoundError, match="no ingestion of bundle 'demo'"):
            list(executor.run(spec, [TrialTask(0, {})], final_metrics))
    with pytest.raises(ConfigValidationError, match=r"asks for 3 workers .* cluster has 2 CPUs"):
        make_executor(jobs=3, ray_address=cluster.address)
    assert not ray.is_initialized()


def ray_nodes(cluster: Any) -> list[dict[str, Any]]:
    """The cluster's live nodes, as Ray lists them."""
    ray.init(address=cluster.address)
    try:
        return [node for node in ray.nodes() if node["Alive"]]
    finally:
        ray.shutdown()


def test_a_search_on_the_cluster_equals_the_search_in_this_process(
    cluster: Any, demo_root: Path
) -> None:
    from rustybt.optimization import Int, ParameterSpace, optimize

    algo = str(Path(__file__).parents[1] / "unit" / "optimization" / "algos" / "crossover.py")
    space = ParameterSpace(fast=Int(10, 20, step=10), slow=Int(40, 60, step=20))
    arguments = {
        "bundle": "demo", "start": START, "end": END, "method": "grid", "storage": ":memory:",
        "environ": {"RUSTYBT_ROOT": str(demo_root)},
    }  # fmt: skip
    here = optimize(algo, space, **arguments).trials
    there = optimize(algo, space, ray_address=cluster.address, jobs=2, **arguments).trials
    where = ["duration", "worker"]
    assert there["worker"].str.startswith("node ").all()
    assert here.drop(columns=where).equals(there.drop(columns=where))
