"""lean worker: the leanest exact engine for the W1/W2 strategy (a reference, not a peer).

    python lean_worker.py DATA_DIR RESULT_JSON

What is the least an event-driven, exact (Decimal), zipline-API engine must do
for this strategy? This worker does only that, inlined into one loop:

- per bar: fill the previous bar's orders at this close (NoSlippage: the open
  amount, when the bar has a price and volume), book cash to the cent and the
  position's amount and cost basis; mark the held positions to this close;
  then the strategy: a ``data.history``-shaped DataFrame (bar times x assets)
  of the last ``SLOW`` closes and one ``order_target_percent(asset, weight)``
  call per asset;
- per call: portfolio value (cash + amount x last price, summed once a bar)
  x weight / price - held, zipline's near-integer rule, truncated to whole
  shares (a zero target just closes what is held); a non-zero amount makes
  an order object with an id, kept by id;
- per fill: a transaction object;
- per session: zipline's perf packet lists, one dict per order touched, per
  fill and per position; then what survived the session is frozen out of
  the garbage collector's passes, as rustybt's loop does.

It has none of what makes an engine usable: no asset, price or order checks,
no slippage, commission or cancel models, no controls, no splits or
dividends, no journal, no metrics or risk, no calendar (sessions are read from
the bar times), no live trading. Its time is therefore a yardstick, not a
proven bound, for an engine that keeps zipline's API and exact accounting in
Python: a target it barely meets leaves such an engine almost nothing for all
it leaves out. Its final value and fills must equal rustybt's and
zipline-reloaded's (the table shows them).

Timed: the simulation loop. Reading the CSV files is not timed (vectorbt's
worker does the same).

Runs with rustybt's venv (numpy and pandas only; rustybt is not imported).
"""

from __future__ import annotations

import gc
import itertools
import sys
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers_common import (
    CAPITAL,
    FAST,
    SLOW,
    Timer,
    load_manifest,
    quiet,
    read_panels,
    write_result,
)

ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")
NEAR_INTEGER = Decimal("1e-4")  # zipline rounds amounts this close to a whole share


class Asset:
    __slots__ = ("sid", "symbol")

    def __init__(self, sid: int, symbol: str) -> None:
        self.sid = sid
        self.symbol = symbol

    def __hash__(self) -> int:
        return self.sid


class Order:
    __slots__ = ("amount", "asset", "created", "dt", "filled", "id")

    def __init__(self, order_id: int, dt: Any, asset: Asset, amount: Decimal) -> None:
        self.id = order_id
        self.dt = self.created = dt
        self.asset = asset
        self.amount = amount
        self.filled = ZERO


class Transaction:
    __slots__ = ("amount", "asset", "dt", "order_id", "price")

    def __init__(self, asset: Asset, amount: Decimal, dt: Any, price: Decimal, oid: int) -> None:
        self.asset = asset
        self.amount = amount
        self.dt = dt
        self.price = price
        self.order_id = oid


class Position:
    __slots__ = ("amount", "cost_basis", "last_sale_price")

    def __init__(self) -> None:
        self.amount = ZERO
        self.cost_basis = ZERO
        self.last_sale_price = ZERO


# simulate(closes, volumes, bar times, session labels, symbols) -> (final value, fills)
Simulate = Callable[
    [np.ndarray, np.ndarray, pd.DatetimeIndex, np.ndarray, list[str]], tuple[Decimal, int]
]


def session_labels(index: pd.DatetimeIndex, frequency: str) -> np.ndarray:
    """One label per bar, equal within a session: the bar itself (daily) or its New York day."""
    if frequency == "daily":
        return np.arange(len(index))
    local = index.tz_localize("UTC") if index.tz is None else index
    return local.tz_convert("America/New_York").normalize().asi8


def simulate(
    closes: np.ndarray,
    volumes: np.ndarray,
    index: pd.DatetimeIndex,
    sessions: np.ndarray,
    names: list[str],
) -> tuple[Decimal, int]:
    """Run the strategy over the bars; return (final portfolio value, fills)."""
    assets = [Asset(sid, name) for sid, name in enumerate(names)]
    columns = pd.Index(assets, dtype=object)
    decimals: dict[float, Decimal] = {}

    def dec(x: float) -> Decimal:
        # A close is a sizing price, a fill price and a mark: convert it once.
        d = decimals.get(x)
        if d is None:
            d = decimals[x] = Decimal(repr(x))
        return d

    cash = Decimal(repr(CAPITAL))
    positions: dict[Asset, Position] = {}
    orders: dict[int, Order] = {}
    open_orders: list[Order] = []
    session_orders: dict[int, Order] = {}
    session_fills: list[Transaction] = []
    packets: list[tuple[list[dict[str, Any]], ...]] = []
    ids = itertools.count()
    state: dict[str, Any] = {}

    def order_target_percent(asset: Asset, target: float) -> int | None:
        if not target:  # a zero target closes what is held: nothing to size
            position = positions.get(asset)
            if position is None:
                return None
            return place(asset, -position.amount)
        value = state["value"]
        if value is None:
            value = cash
            for position in positions.values():
                value += position.amount * position.last_sale_price
            state["value"] = value
        position = positions.get(asset)
        amount = value * dec(target) / dec(state["row"][asset.sid])
        if position is not None:
            amount -= position.amount
        nearest = amount.to_integral_value()
        if abs(amount - nearest) <= NEAR_INTEGER:
            amount = nearest
        amount = amount.quantize(ONE, rounding=ROUND_DOWN) + 0
        if not amount:
            return None
        return place(asset, amount)

    def place(asset: Asset, amount: Decimal) -> int:
        order = Order(next(ids), state["dt"], asset, amount)
        open_orders.append(order)
        orders[order.id] = order
        session_orders[order.id] = order
        return order.id

    def close_session() -> None:
        packets.append((
            [{"id": o.id, "dt": o.dt, "created": o.created, "sid": o.asset,
              "amount": int(o.amount), "filled": int(o.filled)} for o in session_orders.values()],
            [{"sid": t.asset, "amount": int(t.amount), "price": float(t.price), "dt": t.dt,
              "order_id": t.order_id} for t in session_fills],
            [{"sid": a, "amount": int(p.amount), "cost_basis": float(p.cost_basis),
              "last_sale_price": float(p.last_sale_price)} for a, p in positions.items()],
        ))  # fmt: skip
        session_orders.clear()
        session_fills.clear()
        # What survives a session lives to the end: keep the collector's full
        # passes off it (rustybt's loop does the same).
        gc.collect(1)
        gc.freeze()

    weight = 1.0 / len(assets)
    bars_seen = 0
    fills = 0
    for t in range(len(index)):
        if t and sessions[t] != sessions[t - 1]:
            close_session()
        dt = index[t]
        row = closes[t].tolist()
        volume = volumes[t]
        state["dt"], state["row"], state["value"] = dt, row, None
        if open_orders:
            still_open = []
            for order in open_orders:
                sid = order.asset.sid
                price = row[sid]
                if not volume[sid] or price != price:
                    still_open.append(order)
                    continue
                p = dec(price)
                amount = order.amount - order.filled
                order.filled = order.amount
                order.dt = dt
                cash += (-(p * amount)).quantize(CENT, rounding=ROUND_HALF_EVEN) + 0
                position = positions.get(order.asset)
                if position is None:
                    position = positions[order.asset] = Position()
                total = position.amount + amount
                if total == 0:
                    position.cost_basis = ZERO
                elif (position.amount >= 0) == (amount >= 0):
                    position.cost_basis = (
                        position.cost_basis * position.amount + amount * p
                    ) / total
                elif abs(amount) > abs(position.amount):
                    position.cost_basis = p
                position.amount = total
                if not total:
                    del positions[order.asset]
                session_fills.append(Transaction(order.asset, amount, dt, p, order.id))
                session_orders[order.id] = order
                fills += 1
            open_orders[:] = still_open
        for asset, position in positions.items():
            price = row[asset.sid]
            if price == price:
                position.last_sale_price = dec(price)
        bars_seen += 1
        if bars_seen < SLOW:
            continue
        window = pd.DataFrame(closes[t - SLOW + 1 : t + 1], index=index[t - SLOW + 1 : t + 1],
                              columns=columns)  # fmt: skip
        cents = np.rint(window.to_numpy() * 100.0)
        ups = cents[-FAST:].sum(axis=0) * SLOW > cents.sum(axis=0) * FAST
        for asset, up in zip(assets, ups.tolist(), strict=True):
            order_target_percent(asset, weight if up else 0.0)
    close_session()
    value = cash + sum((p.amount * p.last_sale_price for p in positions.values()), ZERO)
    return value, fills


def run_reference(simulate: Simulate, framework: str, timed: str) -> None:
    """``python WORKER DATA_DIR RESULT_JSON``: time ``simulate`` on a csvdir, write the result.

    The main of every reference engine (lean, featured): the CSV reading is
    not timed, the simulation loop is.
    """
    data_dir, result_path = sys.argv[1:3]
    quiet()
    manifest = load_manifest(data_dir)
    frequency = manifest["frequency"]
    with Timer() as load:
        panels = read_panels(data_dir, ["close", "volume"])
        index = pd.DatetimeIndex(panels["close"].index)
        closes = panels["close"].to_numpy(np.float64)
        volumes = panels["volume"].to_numpy(np.float64)
        sessions = session_labels(index, frequency)
    gc.freeze()  # the libraries' objects never become garbage
    with Timer() as t:
        value, fills = simulate(closes, volumes, index, sessions, list(manifest["symbols"]))
    gc.unfreeze()
    write_result(
        result_path,
        framework=framework,
        version="reference",
        job="run",
        frequency=frequency,
        assets=closes.shape[1],
        bars_per_asset=closes.shape[0],
        seconds=t.seconds,
        timed=timed,
        untimed_load_seconds=load.seconds,
        final_value=float(value),
        fills=fills,
    )


def main() -> None:
    timed = "the simulation loop (the leanest exact engine; see lean_worker.py)"
    run_reference(simulate, "lean", timed)


if __name__ == "__main__":
    main()
