"""featured worker: the lean engine plus what a usable zipline-API engine must also do.

    python featured_worker.py DATA_DIR RESULT_JSON

``lean_worker.py`` is the least exact work for the W1/W2 strategy, and nothing
else. An engine people can use also checks what it is asked, keeps orders
that can be looked up, goes through its models for every fill, journals its
fills and reports risk. This worker adds exactly those duties to the lean
loop, each in the fewest steps we know, so the difference between the two
times is what the duties cost at the least:

- **API**: the strategy calls a module-level ``order_target_percent`` that
  finds the running engine in a ``ContextVar`` (rustybt's ``api``; zipline
  uses a global) and calls its method;
- **checks per call**: ordering is allowed now (after ``initialize``, not in
  ``before_trading_start``); the asset is known and trades this session; it
  has a price to size with; the order is within the maximum size;
- **orders**: zipline's fields (a 32-digit random hex id, dt, created,
  amount, filled, commission, stop, limit, their flags, reason; status),
  every order kept by id (``get_order``) and the open ones in a list;
- **fills through models**: a slippage model's ``process_order`` gives each
  fill's price and amount and a commission model's ``calculate`` its cost
  (NoSlippage and NoCommission, as the strategy sets); an order checks its
  triggers first when it has a stop or limit;
- **journal**: every fill is appended to the ledger's journal;
- **user code**: ``handle_data`` runs under a handler that names the time of
  an error in it;
- **per session**: zipline's packet: the order dicts with all 13 keys, the
  transaction dicts with all 6, the position dicts; the day's return, pnl,
  cash, value, exposures and counts; the cumulative return, volatility,
  Sharpe, Sortino, maximum drawdown, and the benchmark's return, alpha and
  beta (against a zero benchmark, as rustybt's workloads run).

Like lean, it has no calendar, splits, dividends, cancel policies, controls
or live trading; its time is a yardstick, not a proven bound. Its final value
and fills must equal rustybt's (``tests/unit/benchmarks/test_lean_reference.py``).

Timed: the simulation loop, as lean's. Runs with rustybt's venv (numpy and
pandas only; rustybt is not imported).
"""

from __future__ import annotations

import gc
import math
import random
import sys
from contextvars import ContextVar
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lean_worker import CENT, NEAR_INTEGER, ONE, ZERO, Asset, run_reference
from peers_common import CAPITAL, FAST, SLOW

MAX_SHARES = 100_000_000_000  # zipline's blotter refuses bigger orders
ANNUAL = math.sqrt(252)
_ids = random.Random(20240611)


class OrderError(Exception):
    """An order the engine refuses (it names the asset and the time)."""


class Order:
    __slots__ = (
        "amount", "asset", "commission", "created", "dt", "filled", "id", "limit",
        "limit_reached", "reason", "stop", "stop_reached",
    )  # fmt: skip

    def __init__(self, dt: Any, asset: Asset, amount: Decimal) -> None:
        self.id = f"{_ids.getrandbits(128):032x}"
        self.dt = self.created = dt
        self.asset = asset
        self.amount = amount
        self.filled = self.commission = ZERO
        self.stop = self.limit = self.reason = None
        self.stop_reached = self.limit_reached = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "dt": self.dt, "reason": self.reason, "created": self.created,
            "amount": int(self.amount), "filled": int(self.filled),
            "commission": float(self.commission), "stop": self.stop, "limit": self.limit,
            "stop_reached": self.stop_reached, "limit_reached": self.limit_reached,
            "sid": self.asset, "status": 1 if self.filled == self.amount else 0,
        }  # fmt: skip


class Transaction:
    __slots__ = ("amount", "asset", "commission", "dt", "order_id", "price")

    def __init__(self, asset: Asset, amount: Decimal, dt: Any, price: Decimal, oid: str) -> None:
        self.asset = asset
        self.amount = amount
        self.dt = dt
        self.price = price
        self.order_id = oid
        self.commission = None


class Position:
    __slots__ = ("amount", "cost_basis", "last_sale_date", "last_sale_price")

    def __init__(self) -> None:
        self.amount = self.cost_basis = self.last_sale_price = ZERO
        self.last_sale_date = None


class NoSlippage:
    def process_order(self, price: float, volume: float, order: Order) -> tuple[float, Decimal]:
        return price, order.amount - order.filled


class NoCommission:
    def calculate(self, order: Order, txn: Transaction) -> Decimal:
        return ZERO


_current: ContextVar[Engine | None] = ContextVar("featured_engine", default=None)


def order_target_percent(asset: Asset, target: float) -> str | None:
    """The strategy's API function: the running engine's method."""
    engine = _current.get()
    if engine is None:
        raise OrderError("order_target_percent() needs a running algorithm")
    return engine.order_target_percent(asset, target)


class Engine:
    __slots__ = (
        "cash",
        "columns",
        "commission",
        "decimals",
        "dt",
        "fills",
        "in_before_trading_start",
        "initialized",
        "journal",
        "now_ns",
        "open_orders",
        "orders",
        "packets",
        "positions",
        "returns",
        "row",
        "session_fills",
        "session_orders",
        "session_start_value",
        "slippage",
        "spans",
        "value",
    )  # fmt: skip

    def __init__(self, closes: np.ndarray, index: pd.DatetimeIndex, assets: list[Asset]) -> None:
        self.columns = pd.Index(assets, dtype=object)
        # Each asset trades from its first to its last bar with a price (ns).
        seen = ~np.isnan(closes)
        stamps = index.asi8
        first = seen.argmax(axis=0)
        last = len(index) - 1 - seen[::-1].argmax(axis=0)
        self.spans = {a.sid: (int(stamps[first[a.sid]]), int(stamps[last[a.sid]])) for a in assets}
        self.decimals: dict[float, Decimal] = {}
        self.cash = Decimal(repr(CAPITAL))
        self.positions: dict[Asset, Position] = {}
        self.orders: dict[str, Order] = {}
        self.open_orders: list[Order] = []
        self.session_orders: dict[str, Order] = {}
        self.session_fills: list[Transaction] = []
        self.journal: list[Transaction] = []
        self.packets: list[dict[str, Any]] = []
        self.returns: list[float] = []
        self.slippage = NoSlippage()
        self.commission = NoCommission()
        self.session_start_value = float(self.cash)
        self.initialized = True
        self.in_before_trading_start = False
        self.fills = 0
        self.value: Decimal | None = None

    def dec(self, x: float) -> Decimal:
        d = self.decimals.get(x)
        if d is None:
            d = self.decimals[x] = Decimal(repr(x))
        return d

    def portfolio_value(self) -> Decimal:
        value = self.value
        if value is None:
            value = self.cash
            for position in self.positions.values():
                value += position.amount * position.last_sale_price
            self.value = value
        return value

    def order_target_percent(self, asset: Asset, target: float) -> str | None:
        if not self.initialized or self.in_before_trading_start:
            raise OrderError(f"cannot order {asset.symbol} outside handle_data at {self.dt}")
        span = self.spans.get(asset.sid)
        if span is None or not span[0] <= self.now_ns <= span[1]:
            raise OrderError(f"{asset.symbol} does not trade at {self.dt}")
        price = self.row[asset.sid]
        if price != price:
            raise OrderError(f"no price for {asset.symbol} at {self.dt}; cannot size the order")
        position = self.positions.get(asset)
        if not target:
            if position is None:
                return None
            amount = -position.amount
        else:
            amount = self.portfolio_value() * self.dec(target) / self.dec(price)
            if position is not None:
                amount -= position.amount
            nearest = amount.to_integral_value()
            if abs(amount - nearest) <= NEAR_INTEGER:
                amount = nearest
            amount = amount.quantize(ONE, rounding=ROUND_DOWN) + 0
            if not amount:
                return None
        if abs(amount) > MAX_SHARES:
            raise OrderError(f"order for {amount} {asset.symbol} is over {MAX_SHARES}")
        order = Order(self.dt, asset, amount)
        self.open_orders.append(order)
        self.orders[order.id] = order
        self.session_orders[order.id] = order
        return order.id

    def fill(self, row: list[float], volume: np.ndarray) -> None:
        """Fill the open orders against this bar through the models."""
        still_open = []
        slippage, commission = self.slippage, self.commission
        dt = self.dt
        for order in self.open_orders:
            asset = order.asset
            sid = asset.sid
            price = row[sid]
            if not volume[sid] or price != price:
                still_open.append(order)
                continue
            if order.stop is not None or order.limit is not None:
                raise OrderError("this engine fills market orders only")
            fill_price, amount = slippage.process_order(price, volume[sid], order)
            p = self.dec(fill_price)
            txn = Transaction(asset, amount, dt, p, order.id)
            cost = commission.calculate(order, txn)
            order.filled = order.amount
            order.dt = dt
            if cost:
                order.commission += cost
                self.cash -= cost
            self.cash += (-(p * amount)).quantize(CENT, rounding=ROUND_HALF_EVEN) + 0
            positions = self.positions
            position = positions.get(asset)
            if position is None:
                position = positions[asset] = Position()
            total = position.amount + amount
            if total == 0:
                position.cost_basis = ZERO
            elif (position.amount >= 0) == (amount >= 0):
                position.cost_basis = (position.cost_basis * position.amount + amount * p) / total
            elif abs(amount) > abs(position.amount):
                position.cost_basis = p
            position.amount = total
            if not total:
                del positions[asset]
            self.journal.append(txn)
            self.session_fills.append(txn)
            self.session_orders[order.id] = order
            self.fills += 1
        self.open_orders = still_open

    def mark(self, row: list[float]) -> None:
        dt = self.dt
        for asset, position in self.positions.items():
            price = row[asset.sid]
            if price == price:
                position.last_sale_price = self.dec(price)
                position.last_sale_date = dt

    def close_session(self) -> None:
        """zipline's daily packet: the session's records, its metrics and the risk so far."""
        value = float(self.portfolio_value())
        daily = value / self.session_start_value - 1.0
        self.returns.append(daily)
        r = np.asarray(self.returns)
        curve = np.cumprod(1.0 + r)
        std = r.std(ddof=1) if len(r) > 1 else math.nan
        downside = np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))
        benchmark = np.zeros_like(r)
        var_b = benchmark.var()
        beta = np.cov(r, benchmark)[0, 1] / var_b if var_b else math.nan
        longs = [p.amount * p.last_sale_price for p in self.positions.values() if p.amount > 0]
        shorts = [p.amount * p.last_sale_price for p in self.positions.values() if p.amount < 0]
        self.packets.append({
            "orders": [o.to_dict() for o in self.session_orders.values()],
            "transactions": [
                {"amount": int(t.amount), "dt": t.dt, "price": float(t.price),
                 "order_id": t.order_id, "sid": t.asset, "commission": t.commission}
                for t in self.session_fills],
            "positions": [
                {"sid": a, "amount": int(p.amount), "cost_basis": float(p.cost_basis),
                 "last_sale_price": float(p.last_sale_price)} for a, p in self.positions.items()],
            "portfolio_value": value, "ending_cash": float(self.cash), "returns": daily,
            "pnl": value - self.session_start_value,
            "long_value": float(sum(longs, ZERO)), "short_value": float(sum(shorts, ZERO)),
            "longs_count": len(longs), "shorts_count": len(shorts),
            "algorithm_period_return": curve[-1] - 1.0,
            "algo_volatility": std * ANNUAL,
            "sharpe": r.mean() / std * ANNUAL if std else math.nan,
            "sortino": r.mean() / downside * ANNUAL if downside else math.nan,
            "max_drawdown": float((curve / np.maximum.accumulate(curve) - 1.0).min()),
            "benchmark_period_return": 0.0, "alpha": math.nan if var_b == 0 else 0.0,
            "beta": beta,
        })  # fmt: skip
        self.session_start_value = value
        self.session_orders = {}
        self.session_fills = []
        gc.collect(1)
        gc.freeze()


def handle_data(context: dict[str, Any], window: pd.DataFrame) -> None:
    """The strategy, as the other workers run it."""
    cents = np.rint(window.to_numpy() * 100.0)
    ups = cents[-FAST:].sum(axis=0) * SLOW > cents.sum(axis=0) * FAST
    weight = context["weight"]
    for asset, up in zip(context["assets"], ups.tolist(), strict=True):
        order_target_percent(asset, weight if up else 0.0)


def simulate(
    closes: np.ndarray,
    volumes: np.ndarray,
    index: pd.DatetimeIndex,
    sessions: np.ndarray,
    names: list[str],
) -> tuple[Decimal, int]:
    """Run the strategy over the bars; return (final portfolio value, fills)."""
    assets = [Asset(sid, name) for sid, name in enumerate(names)]
    engine = Engine(closes, index, assets)
    context = {"assets": assets, "weight": 1.0 / len(assets)}
    stamps = index.asi8
    token = _current.set(engine)
    try:
        for t in range(len(index)):
            if t and sessions[t] != sessions[t - 1]:
                engine.close_session()
            engine.dt = dt = index[t]
            engine.now_ns = int(stamps[t])
            row = closes[t].tolist()
            engine.row, engine.value = row, None
            if engine.open_orders:
                engine.fill(row, volumes[t])
            engine.mark(row)
            if t + 1 < SLOW:
                continue
            window = pd.DataFrame(closes[t - SLOW + 1 : t + 1], index=index[t - SLOW + 1 : t + 1],
                                  columns=engine.columns)  # fmt: skip
            try:
                handle_data(context, window)
            except OrderError:
                raise
            except Exception as exc:
                raise RuntimeError(f"handle_data failed at {dt}: {exc!r}") from exc
        engine.close_session()
    finally:
        _current.reset(token)
    return engine.portfolio_value(), engine.fills


def main() -> None:
    timed = "the simulation loop (lean plus an engine's duties; see featured_worker.py)"
    run_reference(simulate, "featured", timed)


if __name__ == "__main__":
    main()
