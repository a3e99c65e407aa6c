"""Ingest the csvdir into rustybt and run every parity case in it.

Run with rustybt's venv, RUSTYBT_ROOT set to a scratch directory:
    python run_rustybt.py CSVDIR OUT [--cash-places N] [--no-ingest] [--case NAME ...]

rustybt's defaults apply (the same as zipline-reloaded's). ``--cash-places``
replaces the default equity cash precision (2 places: cents) by a finer one.
The benchmark is a series of zero daily returns, as given to zipline.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import BUNDLE_END, BUNDLE_START
from perfio import run_cases

import rustybt
from rustybt.calendars import get_calendar
from rustybt.data import bundles
from rustybt.data.bundles.csvdir import csvdir_equities
from rustybt.finance.precision import AssetClassPrecision, PrecisionConfig

BUNDLE = "parity-csvdir"


def zero_benchmark(start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    sessions = get_calendar("XNYS").sessions_in_range(start, end)
    return pd.Series(0.0, index=pd.DatetimeIndex(sessions).tz_localize("UTC"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("csvdir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--cash-places", type=int)
    parser.add_argument("--no-ingest", action="store_true")
    parser.add_argument("--case", action="append")
    args = parser.parse_args()
    if "RUSTYBT_ROOT" not in os.environ:
        raise SystemExit("set RUSTYBT_ROOT to a scratch directory")
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.WARNING)

    bundles.register(
        BUNDLE,
        csvdir_equities(["daily"], str(args.csvdir)),
        calendar_name="XNYS",
        start_session=pd.Timestamp(BUNDLE_START),
        end_session=pd.Timestamp(BUNDLE_END),
    )
    if not args.no_ingest:
        bundles.ingest(BUNDLE, os.environ, show_progress=False)

    precision = None
    if args.cash_places is not None:
        fine = AssetClassPrecision(cash_places=args.cash_places, quantity_places=0)
        precision = PrecisionConfig(equity=fine, default=fine)

    def run_one(ns, start, end, capital):
        return rustybt.run_algorithm(
            start=start,
            end=end,
            initialize=ns["initialize"],
            handle_data=ns.get("handle_data"),
            before_trading_start=ns.get("before_trading_start"),
            capital_base=capital,
            data_frequency="daily",
            bundle=BUNDLE,
            benchmark_returns=zero_benchmark(start, end),
            precision=precision,
        )

    label = "default precision" if precision is None else f"cash_places={args.cash_places}"
    print(f"rustybt ({label}): {args.out}", flush=True)
    run_cases("rustybt", run_one, args.out, args.case)


if __name__ == "__main__":
    main()
