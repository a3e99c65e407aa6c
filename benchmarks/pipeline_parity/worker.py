"""One framework's side of the pipeline parity run (zipline-reloaded or rustybt).

    python worker.py FRAMEWORK JOB DATA_DIR RESULT_JSON [--frame OUT.npz]

FRAMEWORK is ``rustybt`` (rustybt's venv, PYTHONPATH the tree under test,
RUSTYBT_ROOT set) or ``zipline`` (benchmarks/peers/.venv-zipline, ZIPLINE_ROOT
set). DATA_DIR is a csvdir written by gen_csvdir.py. JOB:

  ingest    ``bundles.ingest`` of the csvdir into the framework's root
  pipeline  ``run_pipeline`` of the parity pipeline (pipeline_def.py) from the
            session ``WARMUP`` to the last one; timed: bundle load, engine and
            the call (imports excluded). ``--frame`` saves the output.
  backtest  ``run_algorithm`` over the same sessions with the parity pipeline
            attached; ``before_trading_start`` keeps what ``pipeline_output``
            returns each day (saved with ``--frame``); timed: the call.
  rank      the ranking backtest: the ranking pipeline every day, the
            ``HOLDINGS`` best held in equal weights, rebalanced at each month's
            first session; timed: the call. ``--frame`` saves each day's
            pipeline output (then the time includes keeping it).

zipline's csvdir writes its exchange with country code "??", which no built-in
domain covers: there, run_pipeline's engine is built here (an
EquityPricingLoader over the bundle's readers, default domain
``EquityCalendarDomain("??", "XNYS")``) and the backtests' pipelines are given
that domain (run_algorithm's own loader serves EquityPricing on any domain).
rustybt's csvdir writes "US": its pipelines run on their default domain.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "peers"))

from frameio import save_frame  # noqa: E402
from peers_common import CALENDAR, Timer, load_manifest, quiet, write_result  # noqa: E402
from pipeline_def import (  # noqa: E402
    HOLDINGS,
    TARGET_SYMBOL,
    framework_modules,
    parity_pipeline,
    ranking_pipeline,
)
from zipline_like import framework_modules as engine_modules  # noqa: E402

# The first session the pipelines and backtests cover: after the longest window
# (AnnualizedVolatility's default: 252 daily returns, so 253 closes) fills.
WARMUP = 260
CAPITAL = 10_000_000.0
ZIPLINE_COUNTRY = "??"


def zipline_domain() -> Any:
    from zipline.pipeline.domain import EquityCalendarDomain

    return EquityCalendarDomain(country_code=ZIPLINE_COUNTRY, calendar_name=CALENDAR)


def run_zipline_pipeline(bundles: Any, bundle: str, fw: Any, n_assets: int, start: Any, end: Any):
    """zipline: load the bundle, build the engine on the csvdir's domain, run the pipeline."""
    from zipline.pipeline.engine import SimplePipelineEngine
    from zipline.pipeline.loaders import EquityPricingLoader

    data = bundles.load(bundle)
    loader = EquityPricingLoader.without_fx(data.equity_daily_bar_reader, data.adjustment_reader)
    engine = SimplePipelineEngine(lambda column: loader, data.asset_finder, zipline_domain())
    target = data.asset_finder.lookup_symbol(TARGET_SYMBOL, as_of_date=None)
    return engine.run_pipeline(parity_pipeline(fw, target, n_assets), start, end)


def run_rustybt_pipeline(bundles: Any, bundle: str, fw: Any, n_assets: int, start: Any, end: Any):
    """rustybt: the convenience ``run_pipeline(..., bundle=)`` (it loads the bundle)."""
    target = bundles.load(bundle).asset_finder.lookup_symbol(TARGET_SYMBOL, None)
    return fw.pipeline.run_pipeline(
        parity_pipeline(fw, target, n_assets), start, end, bundle=bundle
    )


def dated(output: pd.DataFrame, now: Any) -> pd.DataFrame:
    """A copy of one day's ``pipeline_output`` indexed by (session, asset)."""
    day = pd.Timestamp(now).tz_convert(None).normalize()
    output = output.copy()
    output.index = pd.MultiIndex.from_product([[day], list(output.index)])
    return output


def capture_algorithm(api: Any, fw: Any, n_assets: int, domain: Any, frames: list) -> dict:
    """initialize / before_trading_start keeping each day's ``pipeline_output``."""

    def initialize(context: Any) -> None:
        target = api.symbol(TARGET_SYMBOL)
        api.attach_pipeline(parity_pipeline(fw, target, n_assets, domain), "parity")

    def before_trading_start(context: Any, data: Any) -> None:
        frames.append(dated(api.pipeline_output("parity"), api.get_datetime()))

    return {"initialize": initialize, "before_trading_start": before_trading_start}


def ranking_algorithm(api: Any, fw: Any, domain: Any, frames: list | None) -> dict:
    """Hold the ranking pipeline's ``HOLDINGS`` best in equal weights, rebalanced monthly.

    With ``frames`` (a list), each day's pipeline output is kept there too.
    """
    weight = 0.98 / HOLDINGS

    def initialize(context: Any) -> None:
        context.best = []
        api.attach_pipeline(ranking_pipeline(fw, domain), "ranking")
        api.schedule_function(rebalance, api.date_rules.month_start(), api.time_rules.market_open())

    def before_trading_start(context: Any, data: Any) -> None:
        output = api.pipeline_output("ranking")
        context.best = list(output.index)
        if frames is not None:
            frames.append(dated(output, api.get_datetime()))

    def rebalance(context: Any, data: Any) -> None:
        best = set(context.best)
        for asset in list(context.portfolio.positions):
            if asset not in best and data.can_trade(asset):
                api.order_target_percent(asset, 0.0)
        for asset in context.best:
            if data.can_trade(asset):
                api.order_target_percent(asset, weight)

    return {"initialize": initialize, "before_trading_start": before_trading_start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=["zipline", "rustybt"])
    parser.add_argument("job", choices=["ingest", "pipeline", "backtest", "rank"])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("result", type=Path)
    parser.add_argument("--frame", type=Path, help="save the pipeline output here (.npz)")
    args = parser.parse_args()
    quiet()
    manifest = load_manifest(args.data_dir)
    sessions = pd.DatetimeIndex(manifest["sessions"])
    n_assets = len(manifest["symbols"])
    package, api, run_algorithm, bundles, csvdir_equities, _, _ = engine_modules(args.framework)
    bundle = f"pipeline-parity-{args.data_dir.name}"
    bundles.register(
        bundle,
        csvdir_equities(["daily"], str(args.data_dir)),
        calendar_name=CALENDAR,
        start_session=sessions[0],
        end_session=sessions[-1],
    )
    common = {
        "framework": args.framework,
        "version": package.__version__,
        "module": package.__file__,
        "job": args.job,
        "assets": n_assets,
        "sessions": len(sessions),
    }
    if args.job == "ingest":
        with Timer() as t:
            bundles.ingest(bundle, os.environ, show_progress=False)
        write_result(str(args.result), seconds=t.seconds, timed="bundles.ingest", **common)
        return

    fw = framework_modules(args.framework)
    domain = zipline_domain() if args.framework == "zipline" else None
    start, end = sessions[WARMUP], sessions[-1]
    common |= {"start": str(start.date()), "end": str(end.date())}
    if args.job == "pipeline":
        run = run_zipline_pipeline if args.framework == "zipline" else run_rustybt_pipeline
        with Timer() as t:
            frame = run(bundles, bundle, fw, n_assets, start, end)
        if args.frame:
            save_frame(frame, args.frame)
        write_result(
            str(args.result),
            seconds=t.seconds,
            rows=len(frame),
            columns=len(frame.columns),
            timed="bundle load + engine + run_pipeline call",
            **common,
        )
        return

    frames: list[pd.DataFrame] = []
    if args.job == "backtest":
        functions = capture_algorithm(api, fw, n_assets, domain, frames)
    else:
        functions = ranking_algorithm(api, fw, domain, frames if args.frame else None)
    benchmark = pd.Series(0.0, index=sessions[WARMUP:].tz_localize("UTC"))
    with Timer() as t:
        perf = run_algorithm(
            start=start,
            end=end,
            capital_base=CAPITAL,
            data_frequency="daily",
            bundle=bundle,
            benchmark_returns=benchmark,
            **functions,
        )
    extra: dict[str, Any] = {}
    if frames:
        frame = pd.concat(frames)
        extra |= {"rows": len(frame), "columns": len(frame.columns)}
        if args.frame:
            save_frame(frame, args.frame)
    write_result(
        str(args.result),
        seconds=t.seconds,
        timed="run_algorithm call",
        final_value=float(perf["portfolio_value"].iloc[-1]),
        fills=int(sum(len(x) for x in perf["transactions"])),
        **extra,
        **common,
    )


if __name__ == "__main__":
    main()
