"""rustybt and zipline-reloaded worker: csvdir ingest, W1/W2/W5/W6 backtests, W4 open.

    python zipline_like.py FRAMEWORK JOB DATA_DIR RESULT_JSON

FRAMEWORK is ``rustybt`` (run with rustybt's venv, RUSTYBT_ROOT set) or
``zipline`` (run with .venv-zipline, ZIPLINE_ROOT set); the two differ only in
the modules imported: the strategy is the same functions (zlapi_strategy.py).

JOB:
  ingest   ``bundles.ingest`` of the csvdir (timed: the ingest call)
  run      ``run_algorithm`` over the simulated sessions (timed: the call,
           which loads the bundle, builds the DataPortal and runs the loop)
           with the W1/W2 strategy (re-target every asset on every bar)
  crossover  the same call with the W5/W6 strategy (orders only where an
           asset's signal flipped)
  open     ``bundles.load`` + ``DataPortal`` + the first 50-bar close window for
           all assets, as the strategy's first ``data.history`` asks for it
           (timed: those three steps, imports excluded)
  grid     grid100: the crossover for every (fast, slow) pair of GRID_FAST x
           GRID_SLOW, GRID_JOBS processes at a time (timed: the whole search).
           zipline: a ``multiprocessing.Pool`` whose workers each call
           ``run_algorithm`` per pair (which opens the bundle every time), the
           Sharpe ratio computed from each run's portfolio values; rustybt:
           ``rustybt.optimization.optimize(method="grid", jobs=GRID_JOBS)`` of
           the crossover's algorithm file (rustybt/benchmarks/crossover_params.py),
           objective sharpe
  wf       wf5 (rustybt only): ``rustybt.optimization.walk_forward`` of the
           same file and windows, 5 rolling windows of 20 seeded TPE trials

The bundle is registered in each process (the registry is per process); the
ingested files persist under the root between processes.

Environment: ``PEERS_DUMP_FILLS=file.csv`` (run, crossover) writes every fill;
``PEERS_PROFILE=file.txt`` runs the timed call under cProfile and writes the 25
functions with the most cumulative time and the 25 with the most own time (the
time in the result then includes the profiler's overhead).
``PEERS_COLD_IMPORTS=1`` (rustybt) skips the pre-import of the simulation loop,
so the timed call includes every import ``run_algorithm`` makes on first use,
as in a user's first run. The result records the imported framework's
``__file__`` (``module``), so a table can show which rustybt it measured.
"""

from __future__ import annotations

import cProfile
import io
import multiprocessing
import os
import pstats
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers_common import (
    CALENDAR,
    CAPITAL,
    GRID,
    GRID_FAST,
    GRID_JOBS,
    GRID_SLOW,
    SLOW,
    Timer,
    best_trial,
    load_manifest,
    quiet,
    sharpe,
    write_result,
)


def framework_modules(framework: str):  # type: ignore[no-untyped-def]
    if framework == "rustybt":
        # run_algorithm imports the simulation loop (and, through its metrics,
        # empyrical and scipy: about 0.7 s) on first use; zipline's import does
        # the same work up front. It is imported here so that neither timed
        # call includes imports.
        import contextlib
        import importlib

        import rustybt as fw
        from rustybt import api, run_algorithm

        # The module may move as the engine changes; then nothing is pre-imported.
        # PEERS_COLD_IMPORTS=1: no pre-import, the timed call pays for them.
        if not os.environ.get("PEERS_COLD_IMPORTS"):
            with contextlib.suppress(ImportError):
                importlib.import_module("rustybt.sim.loop")
        from rustybt.data import bundles
        from rustybt.data.bundles.csvdir import csvdir_equities
        from rustybt.finance.models import commission, slippage

        root_var = "RUSTYBT_ROOT"
    elif framework == "zipline":
        import zipline as fw
        from zipline import api, run_algorithm
        from zipline.data import bundles
        from zipline.data.bundles.csvdir import csvdir_equities
        from zipline.finance import commission, slippage

        root_var = "ZIPLINE_ROOT"
    else:
        raise SystemExit(f"unknown framework {framework!r}")
    if root_var not in os.environ:
        raise SystemExit(f"set {root_var} to a scratch directory")
    return fw, api, run_algorithm, bundles, csvdir_equities, commission, slippage


def dump_fills(perf: pd.DataFrame, path: str) -> None:
    """Every fill as ``session,symbol,amount,price`` (to compare frameworks)."""
    rows = []
    for day, txns in zip(perf.index, perf["transactions"], strict=True):
        for txn in txns:
            asset = txn["sid"]
            symbol = getattr(asset, "symbol", asset)
            price = round(float(txn["price"]), 4)
            rows.append((day.strftime("%Y-%m-%d %H:%M"), symbol, int(txn["amount"]), price))
    pd.DataFrame(rows, columns=["session", "symbol", "amount", "price"]).to_csv(path, index=False)


def write_profile(profiler: cProfile.Profile, path: str, title: str) -> None:
    """The top 25 functions by cumulative and by own time, as pstats prints them."""
    out = io.StringIO()
    out.write(f"cProfile of the run_algorithm call: {title}\n")
    for order in ("cumulative", "tottime"):
        out.write(f"\n=== top 25 by {order} ===\n")
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(25)
    Path(path).write_text(out.getvalue())


def zero_benchmark(manifest: dict) -> tuple[pd.Timestamp, pd.Timestamp, pd.Series]:
    """The simulated span's first and last session, and zero benchmark returns over it."""
    sessions = pd.DatetimeIndex(manifest["sessions"])
    sim_sessions = sessions[sessions >= pd.Timestamp(manifest["sim_start"])]
    return sim_sessions[0], sessions[-1], pd.Series(0.0, index=sim_sessions.tz_localize("UTC"))


# A zipline grid worker's state, set by grid_worker_setup in each pool process.
WORKER: dict = {}


def grid_worker_setup(framework: str, data_dir: str, bundle: str) -> None:
    """Import the framework in a pool process (a forked one has it already)."""
    manifest = load_manifest(data_dir)
    modules = framework_modules(framework)
    WORKER.update(manifest=manifest, modules=modules, bundle=bundle)


def grid_trial(pair: tuple[int, int]) -> dict:
    """One zipline backtest of the crossover with windows ``pair``: its Sharpe and value."""
    from zlapi_strategy import make_crossover_strategy

    fast, slow = pair
    manifest, bundle = WORKER["manifest"], WORKER["bundle"]
    _fw, api, run_algorithm, _bundles, _csvdir, commission, slippage = WORKER["modules"]
    initialize, handle_data = make_crossover_strategy(
        api, slippage, commission, manifest["symbols"], "1d", fast, slow
    )
    start, end, benchmark = zero_benchmark(manifest)
    perf = run_algorithm(start=start, end=end, initialize=initialize, handle_data=handle_data,
                         capital_base=CAPITAL, data_frequency="daily", bundle=bundle,
                         benchmark_returns=benchmark)  # fmt: skip
    values = [float(v) for v in perf["portfolio_value"]]
    fills = int(sum(len(x) for x in perf["transactions"]))
    return {"fast": fast, "slow": slow, "sharpe": sharpe(values, CAPITAL),
            "final_value": values[-1], "fills": fills}  # fmt: skip


def zipline_grid(data_dir: str, bundle: str) -> list[dict]:
    """grid100 as a zipline user runs it: a process pool mapping run_algorithm over the pairs."""
    pairs = [(fast, slow) for fast in GRID_FAST for slow in GRID_SLOW]
    with multiprocessing.Pool(GRID_JOBS, grid_worker_setup, ("zipline", data_dir, bundle)) as pool:
        return pool.map(grid_trial, pairs, chunksize=1)


def rustybt_grid(manifest: dict, bundle: str) -> tuple[list[dict], list[dict]]:
    """grid100 by rustybt's optimize (the algorithm file, the grid, 2 workers, sharpe):
    the trials, and the peak RSS of each worker process (MB)."""
    from rustybt.benchmarks.optimization_workloads import ALGORITHM, RssSampler, search_space
    from rustybt.optimization import optimize

    start, end, _ = zero_benchmark(manifest)
    with RssSampler() as sampler:
        result = optimize(ALGORITHM, search_space(GRID), bundle=bundle, start=start, end=end,
                          objective="sharpe", method="grid", jobs=GRID_JOBS, storage=":memory:",
                          capital_base=CAPITAL)  # fmt: skip
    trials = [
        {
            "fast": int(t.fast),
            "slow": int(t.slow),
            "sharpe": float(t.sharpe),
            "final_value": float(t.final_value),
            "fills": int(t.trades),
            "number": int(t.number),
            "duration": float(t.duration),
            "worker": t.worker,
        }
        for t in result.trials.itertuples()
    ]
    return trials, sampler.workers(result.trials)


def rustybt_walk_forward(manifest: dict, bundle: str) -> dict:
    """wf5 by rustybt's walk_forward: 5 rolling windows of 20 seeded TPE trials each
    (PEERS_WF_TRIALS trials when set)."""
    from rustybt.benchmarks.optimization_workloads import (
        ALGORITHM,
        DEFAULT_TRIALS,
        SEED,
        WALK_FORWARD_METHOD,
        search_space,
        walk_forward_spans,
    )
    from rustybt.optimization import walk_forward

    start, end, _ = zero_benchmark(manifest)
    sessions = pd.DatetimeIndex(manifest["sessions"])
    train, test = walk_forward_spans(int(((sessions >= start) & (sessions <= end)).sum()))
    trials = int(os.environ.get("PEERS_WF_TRIALS", DEFAULT_TRIALS))
    result = walk_forward(ALGORITHM, search_space(GRID), bundle=bundle, start=start, end=end,
                          train=train, test=test, method=WALK_FORWARD_METHOD, trials=trials,
                          jobs=GRID_JOBS, storage=":memory:", seed=SEED,
                          capital_base=CAPITAL)  # fmt: skip
    windows = result.windows
    return {
        "train_sessions": train,
        "test_sessions": test,
        "windows": [
            {
                "window": int(w.window),
                "test_start": str(w.test_start.date()),
                "fast": int(w.fast),
                "slow": int(w.slow),
                "is_sharpe": float(w.is_sharpe),
                "oos_sharpe": float(w.oos_sharpe),
            }
            for w in windows.itertuples()
        ],
        "trials": int(sum(len(s.trials) for s in result.searches)),
        "efficiency": float(result.efficiency),
        "final_value": float(result.oos_perf["equity"].iloc[-1]),
        "backtest_seconds": float(sum(s.trials["duration"].sum() for s in result.searches)),
    }


def main() -> None:
    framework, job, data_dir, result_path = sys.argv[1:5]
    quiet()
    manifest = load_manifest(data_dir)
    frequency = manifest["frequency"]
    sessions = pd.DatetimeIndex(manifest["sessions"])
    names = manifest["symbols"]
    fw, api, run_algorithm, bundles, csvdir_equities, commission, slippage = framework_modules(
        framework
    )
    bundle = f"peers-{Path(data_dir).name}"
    tframes = [frequency]
    bundles.register(
        bundle,
        csvdir_equities(tframes, str(data_dir)),
        calendar_name=CALENDAR,
        start_session=sessions[0],
        end_session=sessions[-1],
    )
    common = {
        "framework": framework,
        "version": fw.__version__,
        "module": fw.__file__,
        "job": job,
        "frequency": frequency,
        "assets": len(names),
        "bars_per_asset": manifest["sim_bars"],
    }

    if job == "ingest":
        with Timer() as t:
            bundles.ingest(bundle, os.environ, show_progress=False)
        write_result(result_path, seconds=t.seconds, timed="bundles.ingest call", **common)
        return

    if job == "open":
        if framework == "rustybt":
            from rustybt.data.portal import DataPortal
        else:
            from zipline.data.data_portal import DataPortal
        end_dt = sessions[SLOW - 1]
        with Timer() as t:
            data = bundles.load(bundle)
            reader = data.equity_daily_bar_reader
            if framework == "rustybt":
                calendar = data.calendar
            else:
                from zipline.utils.calendar_utils import get_calendar

                calendar = get_calendar(CALENDAR)
            portal = DataPortal(
                data.asset_finder,
                calendar,
                reader.first_trading_day,
                equity_daily_reader=reader,
                adjustment_reader=data.adjustment_reader,
            )
            assets = data.asset_finder.retrieve_all(data.asset_finder.sids)
            window = portal.get_history_window(assets, end_dt, SLOW, "1d", "close", "daily")
        assert window.shape == (SLOW, len(names)), window.shape
        write_result(
            result_path,
            seconds=t.seconds,
            timed="bundles.load + DataPortal + first 50-session close window, all assets",
            window_checksum=float(window.to_numpy().sum()),
            **common,
        )
        return

    if job == "grid":
        with Timer() as t:
            if framework == "zipline":
                trials, worker_rss = zipline_grid(str(data_dir), bundle), []
            else:
                trials, worker_rss = rustybt_grid(manifest, bundle)
        best = best_trial(trials)
        write_result(
            result_path,
            seconds=t.seconds,
            timed=f"the whole grid search of {len(trials)} backtests, {GRID_JOBS} processes",
            final_value=best["final_value"],
            fills=best["fills"],
            best_params={"fast": best["fast"], "slow": best["slow"]},
            best_sharpe=best["sharpe"],
            trials=sorted(trials, key=lambda x: (x["fast"], x["slow"])),
            worker_rss_mb=worker_rss,
            **common,
        )
        return
    if job == "wf":
        if framework != "rustybt":
            raise SystemExit("the wf job runs on rustybt only")
        with Timer() as t:
            found = rustybt_walk_forward(manifest, bundle)
        write_result(
            result_path,
            seconds=t.seconds,
            timed="the whole walk-forward: 5 window searches and 5 out-of-sample runs",
            **found,
            **common,
        )
        return
    if job not in ("run", "crossover"):
        raise SystemExit(f"unknown job {job!r}")
    from zlapi_strategy import make_crossover_strategy, make_strategy

    make = make_strategy if job == "run" else make_crossover_strategy
    initialize, handle_data = make(
        api, slippage, commission, names, "1d" if frequency == "daily" else "1m"
    )
    # Zero benchmark returns, built before the clock starts (neither framework
    # then looks for a benchmark asset).
    sim_sessions = sessions[sessions >= pd.Timestamp(manifest["sim_start"])]
    benchmark = pd.Series(0.0, index=sim_sessions.tz_localize("UTC"))
    profile_path = os.environ.get("PEERS_PROFILE")
    profiler = cProfile.Profile() if profile_path else None
    with Timer() as t:
        if profiler is not None:
            profiler.enable()
        perf = run_algorithm(
            start=sim_sessions[0],
            end=sessions[-1],
            initialize=initialize,
            handle_data=handle_data,
            capital_base=CAPITAL,
            data_frequency=frequency,
            bundle=bundle,
            benchmark_returns=benchmark,
        )
        if profiler is not None:
            profiler.disable()
    if profiler is not None and profile_path:
        write_profile(profiler, profile_path, f"{framework} {job} {Path(data_dir).name}")
    fills = int(sum(len(x) for x in perf["transactions"]))
    if os.environ.get("PEERS_DUMP_FILLS"):
        dump_fills(perf, os.environ["PEERS_DUMP_FILLS"])
    write_result(
        result_path,
        seconds=t.seconds,
        timed="run_algorithm call (bundle load, portal, simulation, perf frame)"
        + (" under cProfile" if profiler is not None else ""),
        final_value=float(perf["portfolio_value"].iloc[-1]),
        final_cash=float(perf["ending_cash"].iloc[-1]),
        fills=fills,
        **common,
    )


if __name__ == "__main__":
    main()
