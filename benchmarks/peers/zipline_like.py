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
import os
import pstats
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers_common import (
    CALENDAR,
    CAPITAL,
    SLOW,
    Timer,
    load_manifest,
    quiet,
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
