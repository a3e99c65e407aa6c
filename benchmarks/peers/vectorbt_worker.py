"""vectorbt worker: the W1/W2 strategy as one vectorized simulation (run with .venv-vectorbt).

    python vectorbt_worker.py DATA_DIR RESULT_JSON

The close matrix (bars x assets) is read from the csvdir before the clock starts.
Timed: the signals (running sums for the two means, the 1/N targets, the one-bar shift)
plus ``Portfolio.from_orders(..., size_type="targetpercent")`` plus
``final_value()``; numba compiles (or loads from its cache) vectorbt's kernels
in a warm-up call on a small slice first, reported apart as ``warmup_seconds``.

How it mirrors the zipline-API version (a decision on bar t's close, filled at
bar t+1's close):
- fast > slow is decided exactly on sums of whole cents, as in zlapi_strategy.py
  (running sums of integers: exact in float64);
- the target decided on bar t is placed on row t+1 (``size`` shifted one bar),
  filled at row t+1's close (``price``);
- ``val_price`` is the previous close, so the target share count is computed
  from the portfolio value and the price at bar t's close, exactly as zipline's
  ``order_target_percent`` does on bar t;
- ``size_granularity=1``: whole shares, the change rounded toward zero;
- one group sharing cash (``cash_sharing=True``), sells before buys
  (``call_seq="auto"``), no fees, no slippage.
Where it cannot mirror zipline: vectorbt never lets cash go negative, so a buy
the remaining cash cannot cover fills partially.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import vectorbt as vbt

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


def simulate(close: pd.DataFrame, freq: str) -> vbt.Portfolio:
    weight = 1.0 / close.shape[1]
    # fast > slow decided exactly, on sums of whole cents (see zlapi_strategy.py).
    cents = np.rint(close.to_numpy() * 100.0)
    csum = np.vstack([np.zeros((1, cents.shape[1])), np.cumsum(cents, axis=0)])
    fast_sum = np.full(cents.shape, np.nan)
    slow_sum = np.full(cents.shape, np.nan)
    fast_sum[FAST - 1 :] = csum[FAST:] - csum[:-FAST]
    slow_sum[SLOW - 1 :] = csum[SLOW:] - csum[:-SLOW]
    target = pd.DataFrame(
        np.where(fast_sum * SLOW > slow_sum * FAST, weight, 0.0),
        index=close.index,
        columns=close.columns,
    )
    target.iloc[: SLOW - 1] = np.nan  # no decision before SLOW bars exist
    return vbt.Portfolio.from_orders(
        close,
        size=target.shift(1),  # decided on bar t, sent to fill on bar t+1
        size_type="targetpercent",
        price=close,
        val_price=close.shift(1),  # sized with bar t's value and price
        size_granularity=1.0,
        init_cash=CAPITAL,
        cash_sharing=True,
        group_by=True,
        call_seq="auto",
        freq=freq,
    )


def main() -> None:
    data_dir, result_path = sys.argv[1:3]
    quiet()
    manifest = load_manifest(data_dir)
    frequency = manifest["frequency"]
    freq = "1D" if frequency == "daily" else "1min"
    with Timer() as load:
        close = read_panels(data_dir, ["close"])["close"]
    with Timer() as warm:
        simulate(close.iloc[: SLOW + 30, :3].copy(), freq).final_value()
    with Timer() as t:
        pf = simulate(close, freq)
        final_value = float(pf.final_value())
    write_result(
        result_path,
        framework="vectorbt",
        version=vbt.__version__,
        job="run",
        frequency=frequency,
        assets=close.shape[1],
        bars_per_asset=close.shape[0],
        seconds=t.seconds,
        timed="signals + Portfolio.from_orders(size_type='targetpercent') + final_value()",
        warmup_seconds=warm.seconds,
        untimed_load_seconds=load.seconds,
        final_value=final_value,
        final_cash=float(pf.cash().iloc[-1]),
        fills=int(pf.orders.count().sum()),
    )


if __name__ == "__main__":
    main()
