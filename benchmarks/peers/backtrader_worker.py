"""backtrader worker: the W1/W2, W5/W6 or grid100 strategy on the csvdir's bars (.venv-backtrader).

    python backtrader_worker.py DATA_DIR [rebalance|crossover|grid] RESULT_JSON

``rebalance`` (the default) is W1/W2, ``crossover`` W5/W6 (zlapi_strategy.py),
``grid`` grid100: the crossover for every (fast, slow) pair of GRID_FAST x
GRID_SLOW, by ``cerebro.optstrategy(SignalCrossover, fast=[...], slow=[...])``
and ``cerebro.run(maxcpus=GRID_JOBS)`` (timed: that call); each run's values
are recorded by an analyzer (``ValueRecorder``: the Sharpe ratio of the
daily values, the final value and the fills), as optstrategy returns only the
analyzers and parameters of each run.

One ``PandasData`` feed per asset (the CSVs are read before the clock starts).
Timed: ``cerebro.run()`` (preload + indicator pass + the event loop).

How it mirrors the zipline-API version:
- fast/slow come from backtrader ``SumN`` indicators over each feed's close (the
  idiomatic way: backtrader has no one-call window over all feeds), compared
  exactly in whole cents as in zlapi_strategy.py (``SumN`` is ``math.fsum``, so
  rounding the sums to cents recovers the exact integer sums); ``next`` first
  runs once every feed has SLOW bars, the bar of the zipline version's first
  history call;
- fills at the next bar's close, zipline's timing. backtrader's market order
  fills at the next bar's *open*. On daily bars the orders are sent as
  ``Order.Close``, which fills at the next bar's close. On minute bars
  ``Order.Close`` waits for the session's last bar (orders pile up all day), so
  there the orders are market orders and the feeds map the ``open`` line to the
  CSV's close column: "the next bar's open" is then the next minute's close;
- ``order_target_percent`` sizes as zipline does: value at this bar's close,
  whole shares, the change truncated toward zero (``int``);
- orders that reduce a position are sent before those that grow one, so the
  cash a sale frees is there for the buys;
- no commission, no slippage (the broker's defaults), observers off
  (``stdstats=False``).
Where it cannot mirror zipline: the BackBroker refuses (``Margin``) a buy that
the cash left at fill time does not cover, where zipline lets cash go slightly
negative; the result counts those refusals.

The crossover (``SignalCrossover``) keeps its own per-asset signal and orders
only on a flip (before the first decision every asset is down): a buy of
``1/N`` of the portfolio value on an up-crossing, ``order_target_value(0)``
(closes the position) on a down-crossing, sales first. The buy's share count
is zipline's (``zipline_shares``): the target value over this bar's close,
less the shares held, truncated toward zero unless within 0.0001 of a whole
number, which it is rounded to (``order_target_value`` would truncate 7.99998
to 7 where zipline buys 8: it happened in 1 of the first 9 runs of grid100).
Its buys are sized at bar t's close and filled at bar t+1's: with one asset at
a 100% target about half of them would cost more than the cash and be refused
(and the two runs would part ways from there on), where zipline lets cash go
slightly negative. So the broker holds a credit
line, ``CROSSOVER_CREDIT`` (the capital again) of extra cash that is never
counted: the orders are sized on the value without it, and the reported value
and cash exclude it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import backtrader as bt
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers_common import (
    CAPITAL,
    FAST,
    GRID_FAST,
    GRID_JOBS,
    GRID_SLOW,
    SLOW,
    Timer,
    best_trial,
    load_manifest,
    quiet,
    sharpe,
    write_result,
)

# Extra cash the crossover's broker holds so that no buy is refused (see above):
# as much again as the capital, far more than a bar's price move can demand, and
# small enough that float cash keeps its cents.
CROSSOVER_CREDIT = CAPITAL


def is_up(fast: float, slow: float, fast_n: int = FAST, slow_n: int = SLOW) -> bool:
    """fast mean > slow mean, exactly: the sums of fast_n and slow_n closes in whole cents,
    cross-multiplied."""
    return round(fast * 100.0) * slow_n > round(slow * 100.0) * fast_n


class DualMovingAverage(bt.Strategy):
    params = (("fast", FAST), ("slow", SLOW), ("exectype", bt.Order.Close))

    def __init__(self) -> None:
        self.fast = [bt.ind.SumN(d.close, period=self.p.fast) for d in self.datas]
        self.slow = [bt.ind.SumN(d.close, period=self.p.slow) for d in self.datas]
        self.weight = 1.0 / len(self.datas)
        self.fills = 0
        self.refused = 0

    def notify_order(self, order: bt.Order) -> None:
        if order.status == order.Completed:
            self.fills += 1
        elif order.status in (order.Margin, order.Rejected):
            self.refused += 1

    def next(self) -> None:
        value = self.broker.getvalue()
        buys = []
        for d, fast, slow in zip(self.datas, self.fast, self.slow, strict=True):
            target = self.weight if is_up(fast[0], slow[0]) else 0.0
            held = self.getposition(d).size * d.close[0]
            if target * value < held:
                self.order_target_percent(d, target=target, exectype=self.p.exectype)
            elif target * value > held:
                buys.append((d, target))
        for d, target in buys:
            self.order_target_percent(d, target=target, exectype=self.p.exectype)


def zipline_shares(amount: float) -> int:
    """zipline's share count for an order of ``amount`` shares (``round_order``): a whole
    number within 0.0001 of ``amount`` if there is one, else ``amount`` truncated to zero."""
    nearest = round(amount)
    return int(nearest if abs(amount - nearest) <= 1e-4 else amount)


class SignalCrossover(bt.Strategy):
    """W5/W6: orders only where an asset's fast/slow signal flipped since the last bar."""

    params = (
        ("exectype", bt.Order.Close),
        ("credit", CROSSOVER_CREDIT),
        ("fast", FAST),
        ("slow", SLOW),
    )

    def __init__(self) -> None:
        self.fast = [bt.ind.SumN(d.close, period=self.p.fast) for d in self.datas]
        self.slow = [bt.ind.SumN(d.close, period=self.p.slow) for d in self.datas]
        self.ups = [False] * len(self.datas)
        self.weight = 1.0 / len(self.datas)
        self.fills = 0
        self.refused = 0

    notify_order = DualMovingAverage.notify_order

    def next(self) -> None:
        buys = []
        for i, (d, fast, slow) in enumerate(zip(self.datas, self.fast, self.slow, strict=True)):
            up = is_up(fast[0], slow[0], self.p.fast, self.p.slow)
            if up == self.ups[i]:
                continue
            self.ups[i] = up
            if up:
                buys.append(d)
            else:
                self.order_target_value(d, target=0.0, exectype=self.p.exectype)
        if buys:
            target = self.weight * (self.broker.getvalue() - self.p.credit)
            for d in buys:
                size = zipline_shares(target / d.close[0] - self.getposition(d).size)
                if size > 0:
                    self.buy(d, size=size, exectype=self.p.exectype)


class ValueRecorder(bt.Analyzer):
    """grid100: the run's value (credit line excluded) at every bar, and its fills."""

    def start(self) -> None:
        self.values: list[float] = []
        self.fills = 0

    def notify_order(self, order: bt.Order) -> None:
        if order.status == order.Completed:
            self.fills += 1

    def next(self) -> None:  # prenext calls it too: every bar
        self.values.append(self.strategy.broker.getvalue() - self.strategy.p.credit)

    def get_analysis(self) -> dict:
        return {"sharpe": sharpe(self.values, CAPITAL), "final_value": self.values[-1],
                "fills": self.fills, "bars": len(self.values)}  # fmt: skip


def run_grid(cerebro: bt.Cerebro, exectype: int) -> list[dict]:
    """Every (fast, slow) pair by optstrategy on GRID_JOBS processes: one dict per run."""
    cerebro.optstrategy(SignalCrossover, exectype=exectype, fast=list(GRID_FAST),
                        slow=list(GRID_SLOW))  # fmt: skip
    cerebro.addanalyzer(ValueRecorder, _name="values")
    trials = []
    for (run,) in cerebro.run(maxcpus=GRID_JOBS):
        trials.append({"fast": run.params.fast, "slow": run.params.slow,
                       **run.analyzers.values.get_analysis()})  # fmt: skip
    return trials


def main() -> None:
    args = sys.argv[1:]
    data_dir, result_path = args[0], args[-1]
    strategy_name = args[1] if len(args) == 3 else "rebalance"
    if strategy_name not in ("rebalance", "crossover", "grid"):
        raise SystemExit(f"unknown strategy {strategy_name!r}")
    crossover = strategy_name in ("crossover", "grid")
    credit = CROSSOVER_CREDIT if crossover else 0.0
    quiet()
    manifest = load_manifest(data_dir)
    frequency = manifest["frequency"]
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.setcash(CAPITAL + credit)
    if frequency == "daily":
        feed_kwargs = {"timeframe": bt.TimeFrame.Days, "compression": 1}
        exectype = bt.Order.Close
    else:
        # Market orders fill at the next bar's "open", here the next minute's close.
        feed_kwargs = {"timeframe": bt.TimeFrame.Minutes, "compression": 1, "open": "close"}
        exectype = bt.Order.Market
    first = pd.Timestamp(manifest["sim_start_label"])  # minute data: skip the warm-up session
    with Timer() as load:
        for name in manifest["symbols"]:
            frame = pd.read_csv(
                Path(data_dir) / frequency / f"{name}.csv", index_col="date", parse_dates=["date"]
            )
            frame = frame[frame.index >= first]
            cerebro.adddata(bt.feeds.PandasData(dataname=frame, **feed_kwargs), name=name)
    if strategy_name == "grid":
        with Timer() as t:
            trials = run_grid(cerebro, exectype)
        best = best_trial(trials)
        write_result(
            result_path,
            framework="backtrader",
            version=bt.__version__,
            job="grid",
            frequency=frequency,
            assets=len(manifest["symbols"]),
            bars_per_asset=manifest["sim_bars"],
            seconds=t.seconds,
            timed=f"cerebro.run(maxcpus={GRID_JOBS}) of optstrategy: {len(trials)} runs",
            credit_line=credit,
            untimed_load_seconds=load.seconds,
            final_value=best["final_value"],
            fills=best["fills"],
            best_params={"fast": best["fast"], "slow": best["slow"]},
            best_sharpe=best["sharpe"],
            trials=sorted(trials, key=lambda x: (x["fast"], x["slow"])),
        )
        return
    cerebro.addstrategy(SignalCrossover if crossover else DualMovingAverage, exectype=exectype)
    with Timer() as t:
        (strategy,) = cerebro.run()
    write_result(
        result_path,
        framework="backtrader",
        version=bt.__version__,
        job="crossover" if crossover else "run",
        frequency=frequency,
        assets=len(manifest["symbols"]),
        bars_per_asset=manifest["sim_bars"],
        seconds=t.seconds,
        timed="cerebro.run() (preload, SumN indicators, event loop, broker)",
        credit_line=credit,
        untimed_load_seconds=load.seconds,
        final_value=float(cerebro.broker.getvalue()) - credit,
        final_cash=float(cerebro.broker.getcash()) - credit,
        fills=strategy.fills,
        refused_orders=strategy.refused,
    )


if __name__ == "__main__":
    main()
