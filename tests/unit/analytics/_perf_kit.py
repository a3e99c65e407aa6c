"""Hand-made performance frames for the trade and exposure tests.

``hand_perf`` is the frame every hand computation in test_trades.py and
test_exposure.py reads; its table below is the whole story of the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SESSIONS = pd.date_range("2024-01-02 21:00", periods=5, freq="D", tz="UTC")

# Each asset's (amount, last sale price) at each session's close; absent when not held.
#   A: a long round trip.         B: closed in two parts.      C: a short.
#   D: a long reversed into a short.   E: split 2-for-1 at the open of session 2.
HELD: dict[str, list[tuple[int, float] | None]] = {
    "A": [(10, 100.0), (10, 90.0), (10, 120.0), None, None],
    "B": [(10, 50.0), (10, 55.0), (6, 60.0), (6, 40.0), None],
    "C": [None, (-5, 20.0), (-5, 22.0), (-5, 18.0), None],
    "D": [(10, 10.0), (10, 12.0), (-5, 11.0), (-5, 9.0), None],
    "E": [(10, 100.0), (10, 120.0), (20, 52.0), (20, 45.0), None],
}

# (session, asset, amount, price) of every fill, in order.
FILLS = [
    (0, "A", 10, 100.0),
    (0, "B", 10, 50.0),
    (0, "D", 10, 10.0),
    (0, "E", 10, 100.0),
    (1, "C", -5, 20.0),
    (2, "B", -4, 60.0),
    (2, "D", -15, 11.0),
    (3, "A", -10, 110.0),
    (4, "B", -6, 45.0),
    (4, "C", 5, 19.0),
    (4, "D", 5, 10.0),
    (4, "E", -20, 55.0),
]

PORTFOLIO_VALUE = [1000.0, 1100.0, 1200.0, 1000.0, 900.0]


def perf_from(
    held: dict[str, list[tuple[int, float] | None]],
    fills: list[tuple[int, str, float, float]],
    portfolio_value: list[float],
    sessions: pd.DatetimeIndex = SESSIONS,
) -> pd.DataFrame:
    """A performance-frame-like table: positions, fills (no commission) and portfolio value."""
    positions = [
        [
            {"sid": sid, "amount": row[0], "cost_basis": 0.0, "last_sale_price": row[1]}
            for sid, rows in held.items()
            if (row := rows[day]) is not None
        ]
        for day in range(len(sessions))
    ]
    transactions: list[list[dict[str, object]]] = [[] for _ in sessions]
    for day, sid, amount, price in fills:
        transactions[day].append(
            {"sid": sid, "dt": sessions[day], "amount": amount, "price": price,
             "order_id": None, "commission": None}
        )  # fmt: skip
    return pd.DataFrame(
        {
            "positions": positions,
            "transactions": transactions,
            "portfolio_value": np.asarray(portfolio_value, dtype=float),
        },
        index=sessions,
    )


def hand_perf() -> pd.DataFrame:
    return perf_from(HELD, FILLS, PORTFOLIO_VALUE)


def synthetic_perf(
    sessions: int = 2520, fills: int = 50_000, assets: int = 100, seed: int = 0
) -> pd.DataFrame:
    """A long run's performance frame: random fills of random-walk stocks, held long and short.

    Each fill is its own order, charged $0.001 a share on the order (as the
    simulator books commissions); positions are the running sums of the fills,
    marked at each session's price.
    """
    rng = np.random.default_rng(seed)
    index = pd.date_range("2014-01-02 21:00", periods=sessions, freq="B", tz="UTC")
    prices = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, (sessions, assets)), axis=0))
    day = np.sort(rng.integers(0, sessions, fills))
    asset = rng.integers(0, assets, fills)
    amount = rng.integers(-100, 101, fills)
    amount[amount == 0] = 1
    names = [f"S{k:03d}" for k in range(assets)]
    held = np.zeros(assets, dtype=np.int64)
    bounds = np.searchsorted(day, np.arange(sessions + 1))
    transactions, orders, positions = [], [], []
    for d in range(sessions):
        filled = range(bounds[d], bounds[d + 1])
        transactions.append(
            [
                {"sid": names[asset[i]], "amount": int(amount[i]), "dt": index[d],
                 "price": float(prices[d, asset[i]]), "order_id": i, "commission": None}
                for i in filled
            ]
        )  # fmt: skip
        orders.append(
            [{"id": i, "commission": abs(int(amount[i])) * 0.001, "filled": int(amount[i])}
             for i in filled]
        )  # fmt: skip
        np.add.at(held, asset[bounds[d] : bounds[d + 1]], amount[bounds[d] : bounds[d + 1]])
        positions.append(
            [
                {"sid": names[a], "amount": int(held[a]), "cost_basis": 0.0,
                 "last_sale_price": float(prices[d, a])}
                for a in np.flatnonzero(held)
            ]
        )  # fmt: skip
    return pd.DataFrame(
        {
            "transactions": transactions,
            "orders": orders,
            "positions": positions,
            "portfolio_value": np.full(sessions, 1e6),
        },
        index=index,
    )
