"""Render the HTML report of a 10-year daily backtest with 50,000 fills: time and file size.

The backtest is synthetic but shaped as a run's performance frame: 2,520
sessions, 100 assets on random walks, 20 fills a session (50,400) that open,
add to, reduce, close and reverse long and short positions, each session's
positions marked at its close. The target (issue 19): the report renders in
at most 3 s and its file stays under 10 MB.

Run: ``.venv/bin/python benchmarks/report_render.py [--runs 3] [--fills-per-session 20]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SESSIONS = 2520
ASSETS = 100
CAPITAL = 10_000_000.0


def synthetic_perf(fills_per_session: int, seed: int = 19) -> pd.DataFrame:
    """A run's performance frame: returns, values, exposures, positions and fills per session."""
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2014-01-02", periods=SESSIONS, tz="UTC") + pd.Timedelta(hours=21)
    prices = 50 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, (SESSIONS, ASSETS)), axis=0))
    symbols = [f"S{i:03d}" for i in range(ASSETS)]
    held = np.zeros(ASSETS, dtype=np.int64)
    cost = np.zeros(ASSETS)
    cash = CAPITAL
    rows: list[dict[str, Any]] = []
    previous_value = CAPITAL
    for day, close in enumerate(index):
        fills = []
        for number, asset in enumerate(rng.integers(0, ASSETS, fills_per_session)):
            price = float(prices[day, asset])
            amount = int(rng.integers(-400, 401)) or 100
            commission = max(1.0, 0.001 * abs(amount))
            if held[asset] == 0 or np.sign(held[asset]) == np.sign(amount):
                cost[asset] = (cost[asset] * held[asset] + price * amount) / (held[asset] + amount)
            elif abs(amount) > abs(held[asset]):  # a reversal: the rest opens at this price
                cost[asset] = price
            held[asset] += amount
            cash -= price * amount + commission
            fills.append(
                {
                    "sid": symbols[asset],
                    "amount": amount,
                    "price": price,
                    "dt": close,
                    "order_id": f"{day}-{number}",
                    "commission": commission,
                }
            )
        values = held * prices[day]
        positions = [
            {
                "sid": symbols[a],
                "amount": int(held[a]),
                "cost_basis": float(cost[a]),
                "last_sale_price": float(prices[day, a]),
            }
            for a in np.flatnonzero(held)
        ]
        long_value = float(values[values > 0].sum())
        short_value = float(values[values < 0].sum())
        value = cash + long_value + short_value
        rows.append(
            {
                "returns": value / previous_value - 1.0,
                "portfolio_value": value,
                "ending_cash": cash,
                "long_value": long_value,
                "short_value": short_value,
                "long_exposure": long_value,
                "short_exposure": short_value,
                "gross_leverage": (long_value - short_value) / value,
                "net_leverage": (long_value + short_value) / value,
                "pnl": value - previous_value,
                "positions": positions,
                "transactions": fills,
                "orders": [],
                "period_close": close,
            }
        )
        previous_value = value
    perf = pd.DataFrame(rows, index=index)
    perf["algorithm_period_return"] = perf["portfolio_value"] / CAPITAL - 1.0
    benchmark = rng.normal(0.0004, 0.011, SESSIONS)
    perf["benchmark_period_return"] = np.cumprod(1.0 + benchmark) - 1.0
    perf["starting_cash"] = perf["ending_cash"].shift(1, fill_value=CAPITAL)
    perf["starting_value"] = (perf["long_value"] + perf["short_value"]).shift(1, fill_value=0.0)
    return perf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fills-per-session", type=int, default=20)
    args = parser.parse_args()

    from rustybt.analytics.tearsheet import report

    perf = synthetic_perf(args.fills_per_session)
    fills = int(perf["transactions"].map(len).sum())
    seconds, size = [], 0
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "report.html"
        for _ in range(args.runs):
            start = time.perf_counter()
            report(perf, title="10-year synthetic backtest").write(target)
            seconds.append(time.perf_counter() - start)
            size = target.stat().st_size
    result = {
        "sessions": len(perf),
        "fills": fills,
        "render_seconds_median": round(statistics.median(seconds), 3),
        # The first includes loading plotly and reading plotly.js: a cold `rustybt report`.
        "render_seconds_first": round(seconds[0], 3),
        "render_seconds_all": [round(s, 3) for s in seconds],
        "file_megabytes": round(size / 1e6, 2),
        "target": "<= 3 s, < 10 MB",
        "met": max(seconds) <= 3.0 and size < 10_000_000,
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
