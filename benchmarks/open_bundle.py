"""Open a 500-asset x 10-year daily bundle and serve the first history window.

Ingests a synthetic bundle (once) into a temporary RUSTYBT_ROOT, then, in fresh
processes, times ``bundles.load`` + ``DataPortal`` + the first
``data.history(all assets, "price", 50, "1d")``.

Run: ``.venv/bin/python benchmarks/open_bundle.py [--assets 500] [--runs 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import Any

import numpy as np
import pandas as pd

START, END = pd.Timestamp("2014-01-02"), pd.Timestamp("2023-12-29")


def synthetic_ingest(n_assets: int) -> Any:
    """An ingest function writing ``n_assets`` random-walk equities."""

    def ingest(environ: Any, asset_db_writer: Any, minute_bar_writer: Any, daily_bar_writer: Any,
               adjustment_writer: Any, calendar: Any, start_session: pd.Timestamp,
               end_session: pd.Timestamp, *_: Any) -> None:  # fmt: skip
        sessions = calendar.sessions_in_range(start_session, end_session)
        rng = np.random.default_rng(7)
        asset_db_writer.write(
            equities=pd.DataFrame(
                {
                    "symbol": [f"S{i:04d}" for i in range(n_assets)],
                    "start_date": sessions[0],
                    "end_date": sessions[-1],
                    "exchange": "NYSE",
                }
            )
        )

        def frames() -> Any:
            for sid in range(n_assets):
                close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, len(sessions))))
                yield (
                    sid,
                    pd.DataFrame(
                        {
                            "open": close,
                            "high": close * 1.01,
                            "low": close * 0.99,
                            "close": close,
                            "volume": rng.integers(1_000, 100_000, len(sessions)).astype(float),
                        },
                        index=sessions,
                    ),
                )

        daily_bar_writer.write(frames())

    return ingest


def measure() -> dict[str, float]:
    """One fresh-process measurement (printed as JSON)."""
    import time

    t0 = time.perf_counter()
    from rustybt.data import bundles
    from rustybt.data.bar_data import BarData
    from rustybt.data.portal import DataPortal

    t1 = time.perf_counter()
    data = bundles.load("bench-open")
    reader = data.equity_daily_bar_reader
    portal = DataPortal(
        data.asset_finder,
        data.calendar,
        reader.first_trading_day,
        equity_daily_reader=reader,
        adjustment_reader=data.adjustment_reader,
    )
    assets = data.asset_finder.retrieve_all(data.asset_finder.sids)
    session = reader.sessions[60]
    bar = BarData(portal, lambda: session, "daily", data.calendar)
    window = bar.history(assets, "price", 50, "1d")
    t2 = time.perf_counter()
    assert window.shape == (50, len(assets))
    return {"imports_s": t1 - t0, "open_and_first_history_s": t2 - t1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--assets", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure()))
        return
    from rustybt.data import bundles

    with tempfile.TemporaryDirectory() as root:
        env = {**os.environ, "RUSTYBT_ROOT": root}
        bundles.register("bench-open", synthetic_ingest(args.assets), start_session=START,
                         end_session=END)  # fmt: skip
        bundles.ingest("bench-open", env)
        ext = os.path.join(root, "extension.py")
        with open(ext, "w") as fh:
            here = os.path.dirname(os.path.abspath(__file__))
            fh.write(
                f"import sys\nsys.path.insert(0, {here!r})\n"
                "from open_bundle import synthetic_ingest\n"
                "from rustybt.data import bundles\n"
                f"bundles.register('bench-open', synthetic_ingest({args.assets}), "
                f"start_session={str(START)!r}, end_session={str(END)!r})\n"
            )
        runs = []
        for _ in range(args.runs):
            code = (
                "from rustybt.extensions import load_extensions; load_extensions();"
                "import open_bundle, json; print(json.dumps(open_bundle.measure()))"
            )
            out = subprocess.run(
                [sys.executable, "-c", code],
                env={**env, "PYTHONPATH": os.path.dirname(os.path.abspath(__file__))},
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    opened = [r["open_and_first_history_s"] for r in runs]
    from rustybt.calendars import get_calendar

    n_sessions = len(get_calendar("XNYS").sessions_in_range(START, END))
    print(f"{args.assets} assets x {n_sessions} XNYS sessions, {args.runs} fresh processes")
    print(
        f"  imports:                     median {np.median([r['imports_s'] for r in runs]):.3f} s"
    )
    print(
        f"  load + portal + 1st history: median {np.median(opened):.3f} s, max {max(opened):.3f} s"
    )


if __name__ == "__main__":
    main()
