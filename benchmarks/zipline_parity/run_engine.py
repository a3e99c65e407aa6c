"""Ingest the csvdir into one engine and run every parity case in it.

Run with the engine's own python (the zipline venv, or rustybt's), its root
(``ZIPLINE_ROOT`` / ``RUSTYBT_ROOT``) set to a scratch directory:

    python run_engine.py zipline CSVDIR OUT [--case NAME ...]
    python run_engine.py rustybt CSVDIR OUT [--cash-places N] [--no-ingest] [--case NAME ...]

Both engines run with their defaults (the same: PerShare(0.001) commission,
FixedBasisPointsSlippage(5 bps, 10% volume limit)) and a benchmark of zero
daily returns. ``--cash-places`` (rustybt only) replaces the default equity
cash precision (2 places: cents) by a finer one.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import BUNDLE_END, BUNDLE_START
from perfio import run_cases

BUNDLE = "parity-csvdir"
ROOT_VARIABLES = {"zipline": "ZIPLINE_ROOT", "rustybt": "RUSTYBT_ROOT"}


def engine_modules(engine: str) -> tuple[ModuleType, ModuleType, Any, Any]:
    """The engine package, its bundles module, csvdir ingest and calendar getter."""
    package = importlib.import_module(engine)
    bundles = importlib.import_module(f"{engine}.data.bundles")
    csvdir = importlib.import_module(f"{engine}.data.bundles.csvdir")
    if engine == "zipline":
        get_calendar = importlib.import_module("zipline.utils.calendar_utils").get_calendar
    else:
        get_calendar = importlib.import_module("rustybt.calendars").get_calendar
    return package, bundles, csvdir.csvdir_equities, get_calendar


def rustybt_precision(cash_places: int | None) -> Any:
    """A PrecisionConfig with ``cash_places`` for equities, or None for the default."""
    if cash_places is None:
        return None
    from rustybt.finance.precision import AssetClassPrecision, PrecisionConfig

    fine = AssetClassPrecision(cash_places=cash_places, quantity_places=0)
    return PrecisionConfig(equity=fine, default=fine)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("engine", choices=sorted(ROOT_VARIABLES))
    parser.add_argument("csvdir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--cash-places", type=int, help="rustybt only")
    parser.add_argument("--no-ingest", action="store_true")
    parser.add_argument("--case", action="append")
    args = parser.parse_args()
    root = ROOT_VARIABLES[args.engine]
    if root not in os.environ:
        raise SystemExit(f"set {root} to a scratch directory")
    if args.cash_places is not None and args.engine != "rustybt":
        raise SystemExit("--cash-places is a rustybt option")
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.WARNING)
    package, bundles, csvdir_equities, get_calendar = engine_modules(args.engine)

    bundles.register(
        BUNDLE,
        csvdir_equities(["daily"], str(args.csvdir)),
        calendar_name="XNYS",
        start_session=pd.Timestamp(BUNDLE_START),
        end_session=pd.Timestamp(BUNDLE_END),
    )
    if not args.no_ingest:
        bundles.ingest(BUNDLE, os.environ, show_progress=False)

    extra: dict[str, Any] = {}
    label = f"zipline-reloaded {package.__version__}"
    if args.engine == "rustybt":
        extra["precision"] = rustybt_precision(args.cash_places)
        label = "rustybt (default precision)"
        if args.cash_places is not None:
            label = f"rustybt (cash_places={args.cash_places})"

    def zero_benchmark(start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
        sessions = get_calendar("XNYS").sessions_in_range(start, end)
        return pd.Series(0.0, index=pd.DatetimeIndex(sessions).tz_localize("UTC"))

    def run_one(ns: dict[str, Any], start: Any, end: Any, capital: float) -> Any:
        return package.run_algorithm(
            start=start,
            end=end,
            initialize=ns["initialize"],
            handle_data=ns.get("handle_data"),
            before_trading_start=ns.get("before_trading_start"),
            capital_base=capital,
            data_frequency="daily",
            bundle=BUNDLE,
            benchmark_returns=zero_benchmark(start, end),
            **extra,
        )

    print(f"{label}: {args.out}", flush=True)
    run_cases(args.engine, run_one, args.out, args.case)


if __name__ == "__main__":
    main()
