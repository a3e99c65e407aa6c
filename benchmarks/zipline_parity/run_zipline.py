"""Ingest the csvdir into zipline-reloaded and run every parity case in it.

Run with the zipline venv's python, ZIPLINE_ROOT set to a scratch directory:
    python run_zipline.py CSVDIR OUT [--case NAME ...]

zipline-reloaded's defaults apply: PerShare(0.001) commission,
FixedBasisPointsSlippage(5 bps, 10% volume limit). The benchmark is a series
of zero daily returns, passed the same way to rustybt.
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

import zipline
from cases import BUNDLE_END, BUNDLE_START
from perfio import run_cases
from zipline.data import bundles
from zipline.data.bundles.csvdir import csvdir_equities
from zipline.utils.calendar_utils import get_calendar

BUNDLE = "parity-csvdir"


def zero_benchmark(start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    sessions = get_calendar("XNYS").sessions_in_range(start, end)
    return pd.Series(0.0, index=pd.DatetimeIndex(sessions).tz_localize("UTC"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("csvdir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--case", action="append")
    args = parser.parse_args()
    if "ZIPLINE_ROOT" not in os.environ:
        raise SystemExit("set ZIPLINE_ROOT to a scratch directory")
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.WARNING)

    bundles.register(
        BUNDLE,
        csvdir_equities(["daily"], str(args.csvdir)),
        calendar_name="XNYS",
        start_session=pd.Timestamp(BUNDLE_START),
        end_session=pd.Timestamp(BUNDLE_END),
    )
    bundles.ingest(BUNDLE, os.environ, show_progress=False)

    def run_one(ns, start, end, capital):
        return zipline.run_algorithm(
            start=start,
            end=end,
            initialize=ns["initialize"],
            handle_data=ns.get("handle_data"),
            before_trading_start=ns.get("before_trading_start"),
            capital_base=capital,
            data_frequency="daily",
            bundle=BUNDLE,
            benchmark_returns=zero_benchmark(start, end),
        )

    print(f"zipline-reloaded {zipline.__version__}: {args.out}", flush=True)
    run_cases("zipline", run_one, args.out, args.case)


if __name__ == "__main__":
    main()
