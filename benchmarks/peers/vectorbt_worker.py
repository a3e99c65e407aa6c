"""vectorbt worker: the W1/W2 or W5/W6 strategy as one vectorized simulation (.venv-vectorbt).

    python vectorbt_worker.py DATA_DIR [rebalance|crossover] RESULT_JSON

``rebalance`` (the default) is W1/W2, ``crossover`` W5/W6 (zlapi_strategy.py).

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

The crossover (``crossover_sizes``) turns the same signal into orders on its
changes only: the signal matrix (False before SLOW bars), compared with itself
one bar earlier (False before the first decision: every asset starts flat);
where it changed, the target is 1/N (now up) or 0 (now down), elsewhere NaN (no
order). The rest is the same ``from_orders`` call. Its buys are sized at bar
t's close and filled at bar t+1's: with one asset at a 100% target about half
of them would cost more than the cash left and fill only in part, where
zipline lets cash go slightly negative. So the crossover borrows: one more
column, ``loan``, of constant price 1, is sold short by ``LOAN_UNITS`` (the
capital again) on the first bar. The cash it brings covers any such buy; the
group's value (cash plus positions, the loan's -LOAN_UNITS included) is
unchanged, so the targets, the final value and the fills (the loan's one order
not counted) are the strategy's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import vectorbt as vbt
from vectorbt.portfolio.enums import SizeType

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


def signals(close: pd.DataFrame) -> np.ndarray:
    """fast > slow per bar and asset, False before SLOW bars exist."""
    # Decided exactly, on sums of whole cents (see zlapi_strategy.py).
    cents = np.rint(close.to_numpy() * 100.0)
    csum = np.vstack([np.zeros((1, cents.shape[1])), np.cumsum(cents, axis=0)])
    fast_sum = np.full(cents.shape, np.nan)
    slow_sum = np.full(cents.shape, np.nan)
    fast_sum[FAST - 1 :] = csum[FAST:] - csum[:-FAST]
    slow_sum[SLOW - 1 :] = csum[SLOW:] - csum[:-SLOW]
    return fast_sum * SLOW > slow_sum * FAST  # NaN (before SLOW bars) compares False


def rebalance_sizes(close: pd.DataFrame) -> pd.DataFrame:
    """W1/W2: the target of every asset on every bar once SLOW bars exist."""
    weight = 1.0 / close.shape[1]
    target = pd.DataFrame(
        np.where(signals(close), weight, 0.0), index=close.index, columns=close.columns
    )
    target.iloc[: SLOW - 1] = np.nan  # no decision before SLOW bars exist
    return target


def crossover_sizes(close: pd.DataFrame) -> pd.DataFrame:
    """W5/W6: a target only where an asset's signal changed since the previous bar."""
    weight = 1.0 / close.shape[1]
    ups = signals(close)
    before = np.vstack([np.zeros((1, ups.shape[1]), dtype=bool), ups[:-1]])
    target = np.where(ups != before, np.where(ups, weight, 0.0), np.nan)
    return pd.DataFrame(target, index=close.index, columns=close.columns)


SIZES = {"rebalance": rebalance_sizes, "crossover": crossover_sizes}


# The crossover's loan (see the module docstring): a column of constant price 1,
# shorted by as much again as the capital on the first bar.
LOAN = "loan"
LOAN_UNITS = CAPITAL


def simulate(close: pd.DataFrame, freq: str, strategy: str = "rebalance") -> vbt.Portfolio:
    size = SIZES[strategy](close).shift(1)  # decided on bar t, sent to fill on bar t+1
    size_type = np.full(close.shape[1], SizeType.TargetPercent)
    if strategy == "crossover":
        close = close.assign(**{LOAN: 1.0})
        size[LOAN] = np.nan
        size.iloc[0, -1] = -LOAN_UNITS
        size_type = np.append(size_type, SizeType.Amount)
    return vbt.Portfolio.from_orders(
        close,
        size=size,
        size_type=size_type,
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
    args = sys.argv[1:]
    data_dir, result_path = args[0], args[-1]
    strategy = args[1] if len(args) == 3 else "rebalance"
    if strategy not in SIZES:
        raise SystemExit(f"unknown strategy {strategy!r}")
    quiet()
    manifest = load_manifest(data_dir)
    frequency = manifest["frequency"]
    freq = "1D" if frequency == "daily" else "1min"
    with Timer() as load:
        close = read_panels(data_dir, ["close"])["close"]
    with Timer() as warm:
        simulate(close.iloc[: SLOW + 30, :3].copy(), freq, strategy).final_value()
    with Timer() as t:
        pf = simulate(close, freq, strategy)
        final_value = float(pf.final_value())
    write_result(
        result_path,
        framework="vectorbt",
        version=vbt.__version__,
        job="crossover" if strategy == "crossover" else "run",
        frequency=frequency,
        assets=close.shape[1],
        bars_per_asset=close.shape[0],
        seconds=t.seconds,
        timed="signals + Portfolio.from_orders(size_type='targetpercent') + final_value()",
        warmup_seconds=warm.seconds,
        untimed_load_seconds=load.seconds,
        final_value=final_value,
        # The loan: its short sale brought LOAN_UNITS of cash and is one order.
        final_cash=float(pf.cash().iloc[-1]) - (LOAN_UNITS if strategy == "crossover" else 0.0),
        fills=int(pf.orders.count().sum()) - (1 if strategy == "crossover" else 0),
    )


if __name__ == "__main__":
    main()
