"""Write the parity data set: a zipline-layout csvdir exported from rustybt's demo data.

``<out>/daily/<SYMBOL>.csv`` with ``date,open,high,low,close,volume,dividend,split``
for the symbols in ``cases.SYMBOLS``, 2014-01-02 .. 2024-12-31 on XNYS. The demo
data is deterministic (fixed seed), so every run writes the same bytes. It has
real splits (AAPL 7:1 on 2014-06-09 and 4:1 on 2020-08-31, AMZN 20:1 on
2022-06-06). With ``--dividends`` the demo's quarterly cash dividends go in the
``dividend`` column on their ex dates; without it that column is all zero (the
prices are the same either way: the demo's prices already drop on ex dates).

Run with rustybt's venv:  python make_csvdir.py OUT [--dividends]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import BUNDLE_END, BUNDLE_START, SYMBOLS

from rustybt.calendars import get_calendar
from rustybt.data.bundles.demo import generate_demo_data


def write_csvdir(out: Path, *, dividends: bool) -> None:
    data = generate_demo_data(get_calendar("XNYS"))
    sid_of = {sym: int(sid) for sid, sym in data.equities["symbol"].items()}
    daily_dir = out / "daily"
    daily_dir.mkdir(parents=True, exist_ok=True)
    start, end = pd.Timestamp(BUNDLE_START), pd.Timestamp(BUNDLE_END)
    for symbol in SYMBOLS:
        sid = sid_of[symbol]
        frame = data.daily[sid]
        frame = frame[(frame.index >= start) & (frame.index <= end)].copy()
        frame["dividend"] = 0.0
        frame["split"] = 1.0
        splits = data.splits[data.splits["sid"] == sid]
        for ratio, day in zip(splits["ratio"], splits["effective_date"], strict=True):
            # The demo's ratio is old/new price (0.25 for 4:1); csvdir's split is
            # new shares per old share (4.0).
            frame.loc[pd.Timestamp(day), "split"] = float(round(1.0 / ratio, 10))
        if dividends:
            divs = data.dividends[data.dividends["sid"] == sid]
            for amount, day in zip(divs["amount"], divs["ex_date"], strict=True):
                if start <= day <= end:
                    frame.loc[pd.Timestamp(day), "dividend"] = float(amount)
        if frame[["open", "high", "low", "close", "volume"]].isna().any().any():
            raise SystemExit(f"{symbol}: a split or dividend fell on a day without a bar")
        frame["volume"] = frame["volume"].astype(np.int64)
        frame.index = frame.index.strftime("%Y-%m-%d")
        frame.index.name = "date"
        frame.to_csv(
            daily_dir / f"{symbol}.csv",
            columns=["open", "high", "low", "close", "volume", "dividend", "split"],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--dividends", action="store_true")
    args = parser.parse_args()
    write_csvdir(args.out, dividends=args.dividends)


if __name__ == "__main__":
    main()
