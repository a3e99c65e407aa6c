"""Where the trials of a search run: in this process, a local process pool, or Ray.

Every executor runs :func:`~rustybt.optimization.trial.run_trial` and yields
its :class:`~rustybt.optimization.trial.TrialOutcome` as each trial
completes; the metrics of a trial do not depend on the executor or on the
number of workers (a backtest is deterministic, and a worker's opened bundle
holds no state of earlier runs).

* :class:`SerialExecutor`: one trial after the other, here.
* :class:`PoolExecutor`: ``jobs`` worker processes (started by ``forkserver``,
  never ``fork``); each opens the bundle once, when it starts.
* :class:`RayExecutor`: one Ray actor per worker, on a local Ray or a
  cluster; each actor opens the bundle once from the shared ``RUSTYBT_ROOT``
  (the bundle's files are never sent with a task).

:func:`make_executor` chooses one from ``jobs`` and a Ray address.

Examples
--------
>>> with make_executor(jobs=1) as executor:
...     type(executor).__name__, executor.workers
('SerialExecutor', 1)
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from dataclasses import replace
from types import ModuleType, TracebackType
from typing import Any

from rustybt.exceptions import ConfigValidationError, ParameterValidationError
from rustybt.optimization.trial import (
    BacktestSpec,
    Evaluate,
    TrialOutcome,
    TrialTask,
    run_trial,
    warm,
)

__all__ = [
    "Executor",
    "PoolExecutor",
    "RayExecutor",
    "SerialExecutor",
    "TrialActor",
    "make_executor",
    "resolve_jobs",
]


def resolve_jobs(jobs: int) -> int:
    """The number of worker processes ``jobs`` asks for: -1 is every CPU of this machine.

    Raises
    ------
    ParameterValidationError
        For 0, or a number below -1.

    Examples
    --------
    >>> resolve_jobs(2)
    2
    >>> resolve_jobs(-1) == (os.cpu_count() or 1)
    True
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs == 0 or jobs < -1:
        raise ParameterValidationError(
            f"jobs must be a positive number of workers or -1 (every CPU), got {jobs!r}",
            context={"jobs": jobs},
        )
    return (os.cpu_count() or 1) if jobs == -1 else jobs


class Executor(ABC):
    """Runs trials and yields their outcomes in completion order; close it when done."""

    #: How many trials run at once.
    workers: int

    @abstractmethod
    def run(
        self,
        spec: BacktestSpec,
        tasks: Iterable[TrialTask],
        evaluate: Evaluate,
        keep_perf: bool = False,
    ) -> Iterator[TrialOutcome]:
        """Run every task of ``tasks`` on ``spec``; yield each outcome as it completes.

        ``tasks`` is read lazily: the next task is taken once a worker is
        free (after the outcomes before it were yielded), so a search may
        decide its next trial from the outcomes so far.

        Raises
        ------
        DataNotFoundError, BundleCorruptedError, ConfigValidationError
            The bundle or the algorithm file cannot be opened: no trial could run.
        """

    def close(self) -> None:
        """Release the workers (nothing to release by default)."""
        return None

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class SerialExecutor(Executor):
    """Run the trials one after the other in this process."""

    workers = 1

    def run(
        self,
        spec: BacktestSpec,
        tasks: Iterable[TrialTask],
        evaluate: Evaluate,
        keep_perf: bool = False,
    ) -> Iterator[TrialOutcome]:
        """Run each task here, in order (see :meth:`Executor.run`)."""
        warm(spec)
        for task in tasks:
            yield run_trial(spec, task, evaluate, keep_perf)


def _process_context() -> multiprocessing.context.BaseContext:
    """``forkserver`` where the platform has it, else ``spawn``: never ``fork``.

    A forked child would inherit the parent's threads' locks and a running
    Ray client; a fresh interpreter inherits nothing.
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class PoolExecutor(Executor):
    """Run the trials on ``jobs`` local worker processes.

    Each worker is a fresh interpreter that imports rustybt, opens the
    bundle and reads the algorithm once, when it starts, and keeps them for
    every trial it runs. At most ``2 * workers`` trials are submitted at a
    time, so a search can pick its next trials from the outcomes so far.

    Parameters
    ----------
    jobs
        Number of worker processes; -1: one per CPU.

    Raises
    ------
    ParameterValidationError
        For ``jobs`` 0 or below -1.
    """

    def __init__(self, jobs: int) -> None:
        self.workers = resolve_jobs(jobs)
        self._pool: cf.ProcessPoolExecutor | None = None

    def _started_pool(self, spec: BacktestSpec) -> cf.ProcessPoolExecutor:
        # Started by the first run, whose bundle each worker opens before its
        # first trial; another bundle of a later run is opened by its first trial.
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=_process_context(),
                initializer=warm,
                initargs=(spec,),
            )
        return self._pool

    def run(
        self,
        spec: BacktestSpec,
        tasks: Iterable[TrialTask],
        evaluate: Evaluate,
        keep_perf: bool = False,
    ) -> Iterator[TrialOutcome]:
        """Run the tasks on the pool, yielding outcomes as they complete (:meth:`Executor.run`)."""
        warm(spec)  # a missing bundle or file stops the search here, before any worker starts
        pool = self._started_pool(spec)
        todo = iter(tasks)
        pending: set[cf.Future[TrialOutcome]] = set()
        try:
            while True:
                for task in todo:
                    pending.add(pool.submit(run_trial, spec, task, evaluate, keep_perf))
                    if len(pending) >= 2 * self.workers:
                        break
                if not pending:
                    return
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    yield pool_result(future)
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Stop the worker processes (waiting for the trials they are running)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def pool_result(future: cf.Future[TrialOutcome]) -> TrialOutcome:
    """The outcome of a pool's trial; a dead worker process becomes one clear error.

    Raises
    ------
    ConfigValidationError
        A worker process died. The usual cause: the main script starts the
        search at module level without ``if __name__ == "__main__":``, so each
        worker (a fresh interpreter that imports the main script) starts it
        again and Python stops it.
    """
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise ConfigValidationError(
            f"a worker process of the pool died ({' '.join(str(exc).split())}); if your "
            "script starts the search at module level, put that code under "
            '`if __name__ == "__main__":` (each worker imports the main script)',
            context={"executor": "pool"},
        ) from exc


def import_ray() -> ModuleType:
    """The ``ray`` module, imported on first need.

    Raises
    ------
    ConfigValidationError
        When Ray is not installed, saying how to install it.
    """
    try:
        import ray
    except ImportError as exc:
        raise ConfigValidationError(
            f"the Ray executor needs ray, which is not installed ({exc}); "
            "install it with: pip install 'rustybt[ray]'",
            context={"package": "ray"},
        ) from exc
    return ray


class TrialActor:
    """A Ray actor's state: runs trials, each with the bundle its process opened once.

    :class:`RayExecutor` makes it a Ray actor class; in a plain process it
    runs trials as :func:`~rustybt.optimization.trial.run_trial` does.
    """

    def warm(self, spec: BacktestSpec) -> str:
        """Open the bundle and read the algorithm here; return where this actor runs."""
        warm(spec)
        return self.where()

    def run(
        self, spec: BacktestSpec, task: TrialTask, evaluate: Evaluate, keep_perf: bool
    ) -> TrialOutcome:
        """Run one trial; its ``worker`` names the Ray node and the process."""
        return replace(run_trial(spec, task, evaluate, keep_perf), worker=self.where())

    @staticmethod
    def where() -> str:
        """``"node <Ray node id> pid <pid>"``, or ``"pid <pid>"`` outside Ray."""
        pid = f"pid {os.getpid()}"
        ray = import_ray()
        if not ray.is_initialized():
            return pid
        return f"node {ray.get_runtime_context().get_node_id()} {pid}"


class RayExecutor(Executor):
    """Run the trials on Ray actors, on this machine or on a cluster.

    One actor per worker (each takes one CPU); each opens the bundle from the
    ``RUSTYBT_ROOT`` of the spec (a path every node must see) once, and runs
    every trial it is given with it. A trial goes to the least busy actor,
    with at most two queued on each; outcomes come back in completion order.

    Parameters
    ----------
    jobs
        Number of actors; None or -1: one per CPU of the cluster.
    address
        A Ray cluster's address (``"auto"``: the cluster this machine belongs
        to); None or ``"local"``: start a Ray instance on this machine (no
        dashboard). When Ray is already initialized in this process, that
        instance is used and the address is ignored.

    Raises
    ------
    ConfigValidationError
        Ray is not installed, or ``jobs`` asks for more CPUs than the cluster has.
    ParameterValidationError
        For ``jobs`` 0 or below -1.
    """

    def __init__(self, jobs: int | None = None, address: str | None = None) -> None:
        if jobs is not None:
            resolve_jobs(jobs)  # refuse a bad number before starting Ray
        self._ray = ray = import_ray()
        self._started_ray = not ray.is_initialized()
        if self._started_ray:
            start_ray(ray, jobs, address)
        cpus = int(ray.cluster_resources().get("CPU", 0))
        self.workers = cpus if jobs in (None, -1) else int(jobs)
        if self.workers > cpus or self.workers < 1:
            self.close()
            raise ConfigValidationError(
                f"the Ray executor asks for {self.workers} workers of one CPU each, but the "
                f"cluster has {cpus} CPUs; give jobs of at most {cpus}",
                context={"jobs": jobs, "cluster_cpus": cpus},
            )
        actor_class = ray.remote(num_cpus=1)(TrialActor)
        self._actors: list[Any] = [actor_class.remote() for _ in range(self.workers)]

    def run(
        self,
        spec: BacktestSpec,
        tasks: Iterable[TrialTask],
        evaluate: Evaluate,
        keep_perf: bool = False,
    ) -> Iterator[TrialOutcome]:
        """Run the tasks on the actors, yielding outcomes as they finish (:meth:`Executor.run`)."""
        ray = self._ray
        self._get(ray, [actor.warm.remote(spec) for actor in self._actors])
        # Two trials queued on each actor: it starts its next one as it ends one,
        # not after a round trip to this process (as the pool keeps 2 per worker).
        load = dict.fromkeys(self._actors, 0)
        todo = iter(tasks)
        running: dict[Any, Any] = {}  # the trial's result -> the actor running it
        try:
            while True:
                for task in todo:
                    actor = min(load, key=load.__getitem__)
                    load[actor] += 1
                    running[actor.run.remote(spec, task, evaluate, keep_perf)] = actor
                    if len(running) >= 2 * len(self._actors):
                        break
                if not running:
                    return
                (ready,), _ = ray.wait(list(running), num_returns=1)
                load[running.pop(ready)] -= 1
                yield self._get(ray, ready)
        finally:
            for ref in running:  # trials of a search that stopped early
                with suppress(Exception):
                    ray.cancel(ref)

    @staticmethod
    def _get(ray: ModuleType, refs: Any) -> Any:
        """``ray.get``, raising the error a worker raised as itself (one clear line)."""
        try:
            return ray.get(refs)
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause
            if isinstance(cause, Exception):
                raise cause from None
            raise

    def close(self) -> None:
        """Stop the actors; shut Ray down if this executor started it."""
        ray = self._ray
        for actor in getattr(self, "_actors", []):
            ray.kill(actor)
        self._actors = []
        if self._started_ray and ray.is_initialized():
            ray.shutdown()
        self._started_ray = False


def start_ray(ray: ModuleType, jobs: int | None, address: str | None) -> None:
    """Start a local Ray (no dashboard) or connect to the cluster at ``address``.

    Raises
    ------
    ConfigValidationError
        Ray cannot start, or no cluster answers at the address.
    """
    try:
        if address is None or address == "local":
            # Enough CPUs for the actors asked for, each taking one.
            cpus = None if jobs in (None, -1) else max(int(jobs), os.cpu_count() or 1)
            ray.init(include_dashboard=False, num_cpus=cpus)
        else:
            ray.init(address=address)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "a local Ray" if address in (None, "local") else f"the Ray cluster at {address!r}"
        message = " ".join(str(exc).split())
        raise ConfigValidationError(
            f"cannot start or reach {where}: {type(exc).__name__}: {message}",
            context={"ray_address": address},
        ) from exc


def make_executor(jobs: int = 1, ray_address: str | None = None) -> Executor:
    """The executor for ``jobs`` workers, on Ray when an address is given.

    Parameters
    ----------
    jobs
        Number of workers: 1 runs the trials in this process, more (or -1:
        one per CPU) on a local process pool. With a Ray address, the number
        of Ray actors (-1: one per CPU of the cluster).
    ray_address
        ``"auto"`` (the cluster this machine belongs to), ``"local"`` (start
        Ray on this machine) or a cluster's address; None: no Ray.

    Raises
    ------
    ParameterValidationError
        For ``jobs`` 0 or below -1.
    ConfigValidationError
        An address given without Ray installed.

    Examples
    --------
    >>> type(make_executor()).__name__, type(make_executor(jobs=2)).__name__
    ('SerialExecutor', 'PoolExecutor')
    """
    if ray_address is not None:
        return RayExecutor(jobs, ray_address)
    workers = resolve_jobs(jobs)
    if jobs == 1:
        return SerialExecutor()
    return PoolExecutor(workers)
