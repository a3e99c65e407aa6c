"""grid100 against issue 17's targets: overhead per trial, 1 vs 2 workers, RSS, same results.

    python benchmarks/optimization_targets.py [--assets 50] [--sessions 2520] [--grid 10]
        [--executors serial,pool1,pool2,ray2] [--root DIR] [--out PREFIX]

Runs the grid100 workload's search (rustybt/benchmarks/optimization_workloads.py:
the W5 crossover's algorithm file, a grid x grid search of its fast and slow
windows, objective sharpe, ``storage=":memory:"``) once per executor, on the
generated daily bundle of the workload (prepared untimed under ``--root``):

- ``serial``: ``SerialExecutor`` (``optimize(jobs=1)``), trials in this process;
- ``pool1``, ``pool2``: ``PoolExecutor(1)`` and ``PoolExecutor(2)`` (``jobs=2``);
- ``ray2``: ``RayExecutor(jobs=2)`` on a local Ray started for the run.

Each search is timed from making its executor (worker start-up, bundle opening)
to its result. Reported per executor: the wall time; the trials' summed time
inside ``run_algorithm`` (``duration``); the overhead per trial,
``(workers x wall - summed durations) / trials`` (scheduling, worker start,
result collection, evaluation, the study's storage: everything but the
backtests), as a share of the mean trial and of a lone backtest (``run_algorithm``
of the same file with W5's windows, opening the bundle, best of three); the peak
RSS of each worker process (sampled from /proc); and whether its trials table,
without ``duration`` and ``worker``, is identical to the serial one. The
speed-up is ``pool1``'s wall over ``pool2``'s (and serial's over ``pool2``'s).
Writes ``PREFIX.json`` and ``PREFIX.md`` when ``--out`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from rustybt import run_algorithm
from rustybt.benchmarks.optimization_workloads import ALGORITHM, RssSampler, search_space
from rustybt.benchmarks.workloads import CAPITAL_BASE, prepare_workload, workload_spec
from rustybt.data import bundles
from rustybt.optimization import optimize
from rustybt.optimization.executors import PoolExecutor, RayExecutor, SerialExecutor

EXECUTORS: dict[str, Callable[[], Any]] = {
    "serial": SerialExecutor,
    "pool1": lambda: PoolExecutor(1),
    "pool2": lambda: PoolExecutor(2),
    "ray2": lambda: RayExecutor(jobs=2),
}
COMPARED_WITHOUT = ("duration", "worker")


def lone_backtest(prepared: Any, runs: int = 3) -> float:
    """Best of ``runs`` fresh ``run_algorithm`` calls of the file with W5's windows."""
    sessions = prepared.spec.session_index()
    script = ALGORITHM.read_text()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run_algorithm(
            sessions[0],
            sessions[-1],
            capital_base=CAPITAL_BASE,
            bundle=prepared.bundle,
            environ=prepared.environ,
            script=script,
            algo_filename=str(ALGORITHM),
            params={"fast": 20, "slow": 50},
            default_extension=False,
        )
        times.append(time.perf_counter() - started)
    return min(times)


def panels_mb(prepared: Any) -> float:
    """MB of the bundle's daily panels (open, high, low, close, volume) as a reader holds them."""
    with bundles.load(prepared.bundle, prepared.environ) as data:
        reader = data.equity_daily_bar_reader
        fields = ("open", "high", "low", "close", "volume")
        return sum(reader.panel(f).nbytes for f in fields) / 1024**2


# A fresh interpreter as a pool worker starts: its resident memory after the
# imports, after opening the bundle and reading its panels, after 1 and 10 trials.
WORKER_CODE = """
import json, sys
from rustybt.optimization import trial
from rustybt.optimization.objectives import make_evaluator, resolve_objectives

def rss():
    fields = {}
    for line in open("/proc/self/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) / 1024
    return fields

args = json.loads(sys.argv[1])
out = {"imports": rss()}
spec = trial.BacktestSpec(args["algorithm"], args["bundle"], args["start"], args["end"],
                          capital_base=args["capital"], root=args["root"])
data = trial.open_bundle(spec)
for field in ("open", "high", "low", "close", "volume"):
    data.equity_daily_bar_reader.panel(field)
out["bundle_open"] = rss()
evaluate = make_evaluator(resolve_objectives("sharpe"))
for n in range(10):
    trial.run_trial(spec, trial.TrialTask(n, {"fast": 20, "slow": 50 + 20 * (n % 3)}), evaluate)
    if n in (0, 9):
        out[f"after_{n + 1}_trials"] = rss()
print(json.dumps(out))
"""


def worker_memory(prepared: Any) -> dict[str, Any]:
    """Resident MB of a fresh worker-like process at each stage (see WORKER_CODE)."""
    sessions = prepared.spec.session_index()
    args = {
        "algorithm": str(ALGORITHM),
        "bundle": prepared.bundle,
        "start": str(sessions[0].date()),
        "end": str(sessions[-1].date()),
        "capital": CAPITAL_BASE,
        "root": prepared.root,
    }
    done = subprocess.run(
        [sys.executable, "-c", WORKER_CODE, json.dumps(args)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def search(prepared: Any, name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One grid search on executor ``name``: its trials and its measurements."""
    sessions = prepared.spec.session_index()
    with RssSampler() as sampler:
        started = time.perf_counter()
        with EXECUTORS[name]() as executor:
            made = time.perf_counter() - started
            result = optimize(
                ALGORITHM,
                search_space(prepared.spec.grid),
                bundle=prepared.bundle,
                start=sessions[0],
                end=sessions[-1],
                objective="sharpe",
                method="grid",
                storage=":memory:",
                capital_base=CAPITAL_BASE,
                environ=prepared.environ,
                executor=executor,
            )
            workers = executor.workers
        wall = time.perf_counter() - started
    trials = result.trials
    summed = float(trials["duration"].sum())
    return trials, {
        "executor": name,
        "workers": workers,
        "wall_s": wall,
        "executor_start_s": made,
        "trials": len(trials),
        "complete": int((trials["status"] == "complete").sum()),
        "backtest_s": summed,
        "mean_trial_s": summed / len(trials),
        "overhead_per_trial_s": (workers * wall - summed) / len(trials),
        "best_params": result.best_params,
        "best_sharpe": float(result.best_value),
        "worker_rss_mb": sampler.workers(trials),
        "distinct_workers": int(trials["worker"].nunique()),
    }


def comparable(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials table without the columns that depend on where and how fast trials ran."""
    frame = trials.drop(columns=[c for c in COMPARED_WITHOUT if c in trials])
    return frame.sort_values("number", ignore_index=True)


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"grid100 targets: {report['size']}; {report['date']}; {report['machine']}",
        f"Command: `{report['command']}`  ",
        f"Load average (1 min) before/after: {report['load_before']:.2f} / "
        f"{report['load_after']:.2f} (2 cores: above ~1 another process shared them)  ",
        f"Lone backtest (run_algorithm of the file, fast 20 / slow 50, opening the bundle, "
        f"best of 3): {report['lone_backtest_s']:.3f} s; the bundle's daily panels: "
        f"{report['panels_mb']:.1f} MB",
        "",
        "A worker-like process, resident MB (VmRSS; RssAnon, RssFile): "
        + "; ".join(
            f"{stage.replace('_', ' ')} {m['VmRSS']:.0f} ({m['RssAnon']:.0f}, {m['RssFile']:.0f})"
            for stage, m in report["worker_memory_mb"].items()
        ),
        "",
        "| executor | workers | wall s | executor start s | backtests s | mean trial s "
        "| overhead/trial s | overhead / mean trial | overhead / lone backtest "
        "| worker peak RSS MB (anon, file) | same trials as serial |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for run in report["runs"]:
        if "error" in run:
            lines.append(f"| {run['executor']} | failed: {run['error']} |||||||||")
            continue
        rss = "; ".join(
            f"{w['peak']:.0f} ({w['anon']:.0f}, {w['file']:.0f})" for w in run["worker_rss_mb"]
        )
        lines.append(
            f"| {run['executor']} | {run['workers']} | {run['wall_s']:.2f} | "
            f"{run['executor_start_s']:.2f} | {run['backtest_s']:.2f} | {run['mean_trial_s']:.3f} "
            f"| {run['overhead_per_trial_s']:.4f} | "
            f"{run['overhead_per_trial_s'] / run['mean_trial_s']:.1%} | "
            f"{run['overhead_per_trial_s'] / report['lone_backtest_s']:.1%} | {rss or '-'} | "
            f"{run.get('same_as_serial', '-')} |"
        )
    lines += ["", *(f"- {line}" for line in report["summary"])]
    return "\n".join(lines) + "\n"


def summary(runs: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    if "pool1" in runs and "pool2" in runs:
        out.append(
            f"speed-up 1 -> 2 workers (pool1 / pool2 wall): "
            f"{runs['pool1']['wall_s'] / runs['pool2']['wall_s']:.2f}x"
        )
    if "serial" in runs and "pool2" in runs:
        ratio = runs["serial"]["wall_s"] / runs["pool2"]["wall_s"]
        out.append(f"speed-up serial -> 2 workers: {ratio:.2f}x")
    for name, run in runs.items():
        out.append(f"{name}: best {run['best_params']} sharpe {run['best_sharpe']:.6f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=2520)
    parser.add_argument("--grid", type=int, default=10)
    parser.add_argument("--executors", default="serial,pool1,pool2,ray2")
    parser.add_argument("--root", default=None, help="RUSTYBT_ROOT for the data (default: temp)")
    parser.add_argument("--out", default=None, help="write PREFIX.json and PREFIX.md")
    args = parser.parse_args()

    root = args.root or tempfile.mkdtemp(prefix="rustybt-targets-")
    spec = workload_spec("grid100", args.assets, sessions=args.sessions, grid=args.grid)
    prepared = prepare_workload(spec, root)
    report: dict[str, Any] = {
        "size": spec.size,
        "command": "python " + " ".join(sys.argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}",
        "load_before": os.getloadavg()[0],
        "lone_backtest_s": lone_backtest(prepared),
        "panels_mb": panels_mb(prepared),
        "worker_memory_mb": worker_memory(prepared),
        "runs": [],
    }
    tables: dict[str, pd.DataFrame] = {}
    done: dict[str, dict[str, Any]] = {}
    for name in args.executors.split(","):
        print(f"== {name}", flush=True)
        try:
            trials, run = search(prepared, name)
        except Exception as exc:  # report a failing executor, keep the others
            report["runs"].append({"executor": name, "error": f"{type(exc).__name__}: {exc}"})
            continue
        tables[name] = comparable(trials)
        if "serial" in tables:
            run["same_as_serial"] = bool(tables[name].equals(tables["serial"]))
        done[name] = run
        report["runs"].append(run)
        print(json.dumps(run, default=str), flush=True)
    report["load_after"] = os.getloadavg()[0]
    report["summary"] = summary(done)
    text = markdown(report)
    print(text)
    if args.out:
        Path(f"{args.out}.json").write_text(json.dumps(report, indent=1, default=str))
        Path(f"{args.out}.md").write_text(text)


if __name__ == "__main__":
    main()
