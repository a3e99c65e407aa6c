"""The floor: the least time ANY exact, zipline-API engine needs for W1 and W2.

The peer strategy (``benchmarks/peers/zlapi_strategy.py``) calls
``order_target_percent(asset, weight)`` once per asset and bar, and every
order fills at the next bar. Whatever the engine, a zipline-compatible one
runs that Python call per asset, and an exact one (Decimal cash and
quantities, as rustybt promises) then does at least:

- per call: portfolio value x weight / price - held, truncated to whole
  shares (one Decimal multiply, divide, subtract and quantize);
- per fill: cash -= price x shares, rounded to the cent; held += shares.

This script times exactly that and nothing more: prices and weights are
already Decimals, there are no order objects, no checks, no data access, no
marks, no metrics. Its per-call and per-fill times, times the call and fill
counts of a side-by-side run (``benchmarks/peers/results/latest.json``), give
a lower bound for the run. A target below the bound cannot be met by an exact
engine behind the zipline API, however it is built.

The table also has a ``lean`` row (``benchmarks/peers/lean_worker.py``): a
whole, exact engine for the strategy in one loop, with order and transaction
objects, marks, the history DataFrame and zipline's per-session lists, but no
checks, models, journal or metrics. Where the floor is a bound, the lean
engine is a yardstick: a target it barely meets leaves a full engine almost
nothing for everything the lean one leaves out. The ``featured`` row
(``featured_worker.py``) is the lean loop plus an engine's duties (API
dispatch, checks, models, journal, zipline's full records and risk metrics),
each in the fewest steps: a target it meets is within reach of an engine
that does all that.

Usage::

    python benchmarks/floor/floor.py [--results benchmarks/peers/results/latest.json]

Standard library only; run it on the machine that made the results.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

SLOW = 50  # the strategy orders from its 50th bar on
ONE = Decimal(1)
CENT = Decimal("0.01")
ZERO = Decimal(0)
YARDSTICKS = ("lean", "featured")  # the table's reference engines, no peers
DEFAULT_RESULTS = Path(__file__).resolve().parents[1] / "peers" / "results" / "latest.json"


def time_calls(assets: int, bars: int, seed: int = 1) -> tuple[float, list[tuple[int, Decimal]]]:
    """Seconds per sizing call, and the orders the calls produced."""
    rng = random.Random(seed)
    prices = [Decimal(f"{rng.uniform(5, 500):.2f}") for _ in range(assets)]
    weight = Decimal(1) / Decimal(assets)
    weights = [weight if rng.random() < 0.5 else ZERO for _ in range(assets)]
    held = [Decimal(rng.randrange(0, 400)) for _ in range(assets)]
    portfolio_value = Decimal("10000000.00")
    orders: list[tuple[int, Decimal]] = []

    def order_target_percent(asset: int, target: Decimal) -> None:
        shares = portfolio_value * target / prices[asset] - held[asset]
        amount = shares.quantize(ONE, rounding=ROUND_DOWN)
        if amount:
            orders.append((asset, amount))

    pairs = list(zip(range(assets), weights, strict=True))
    start = time.perf_counter()
    for _ in range(bars):
        for asset, target in pairs:
            order_target_percent(asset, target)
    return (time.perf_counter() - start) / (assets * bars), orders


def time_fills(orders: list[tuple[int, Decimal]], assets: int, seed: int = 2) -> float:
    """Seconds per fill booked into Decimal cash and holdings."""
    rng = random.Random(seed)
    prices = [Decimal(f"{rng.uniform(5, 500):.2f}") for _ in range(assets)]
    held = [ZERO] * assets
    cash = Decimal("10000000.00")
    fills = []
    start = time.perf_counter()
    for asset, amount in orders:
        price = prices[asset]
        cash -= (price * amount).quantize(CENT)
        held[asset] += amount
        fills.append((asset, amount, price))
    return (time.perf_counter() - start) / max(len(orders), 1)


def best_of(runs: int) -> tuple[float, float]:
    """The fastest per-call and per-fill times of ``runs`` tries."""
    per_call, per_fill = [], []
    for k in range(runs):
        seconds, orders = time_calls(500, 200, seed=k)
        per_call.append(seconds)
        per_fill.append(time_fills(orders, 500, seed=k))
    return min(per_call), min(per_fill)


def rows_by_job(results: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["workload"], r["size"], r["framework"]): r for r in results["rows"]}


def floor_seconds(row: dict[str, Any], per_call: float, per_fill: float) -> tuple[int, float]:
    """(sizing calls, floor seconds) of a rustybt backtest row."""
    detail = row["detail"]
    calls = (int(detail["bars_per_asset"]) - SLOW + 1) * int(detail["assets"])
    return calls, calls * per_call + int(row["fills"]) * per_fill


def report(results: dict[str, Any], per_call: float, per_fill: float) -> list[str]:
    jobs = rows_by_job(results)
    lines = [
        f"floor per order_target_percent call: {per_call * 1e6:.2f} us; "
        f"per fill: {per_fill * 1e6:.2f} us",
        "",
        "| workload | size | calls | fills | floor s | lean s | featured s | rustybt s | target "
        "| target s | floor vs target | lean vs target | featured vs target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    targets = {"vectorbt": 1.5, "zipline": 1 / 20}
    for (workload, size, framework), row in jobs.items():
        if framework != "rustybt" or not workload.startswith(("W1", "W2")):
            continue
        calls, floor = floor_seconds(row, per_call, per_fill)
        yardsticks = [jobs.get((workload, size, name), {}).get("seconds") for name in YARDSTICKS]
        for peer, factor in targets.items():
            peer_row = jobs.get((workload, size, peer))
            if peer_row is None or not peer_row.get("seconds"):
                continue
            if peer == "vectorbt" and not workload.startswith("W1"):
                continue  # the issue's vectorbt target is W1's
            target = peer_row["seconds"] * factor
            what = f"<= {factor:g} x {peer}" if factor >= 1 else f"{1 / factor:g}x {peer}"
            seconds = " | ".join("" if y is None else f"{y:.2f}" for y in yardsticks)
            ratios = " | ".join("" if y is None else f"{y / target:.2f}" for y in yardsticks)
            lines.append(
                f"| {workload} | {size} | {calls:,} | {row['fills']:,} | {floor:.2f} "
                f"| {seconds} | {row['seconds']:.2f} | {what} | {target:.2f} "
                f"| {floor / target:.2f} | {ratios} |"
            )
    lines += [
        "",
        "floor vs target above 1: no exact engine behind the zipline API can meet the target.",
        "lean = the table's `lean` row (benchmarks/peers/lean_worker.py): the leanest exact",
        "engine, with none of an engine's checks, models or records beyond zipline's perf lists.",
        "lean vs target near or above 1: only an engine as bare as that one could meet it.",
        "featured = the `featured` row (featured_worker.py): lean plus an engine's duties.",
        "featured vs target below 1: an engine with those duties can meet the target.",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = json.loads(args.results.read_text())
    per_call, per_fill = best_of(args.runs)
    print(f"results: {args.results}")
    print("\n".join(report(results, per_call, per_fill)))


if __name__ == "__main__":
    main()
