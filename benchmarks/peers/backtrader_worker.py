"""backtrader worker: the W1/W2 strategy on the csvdir's bars (run with .venv-backtrader).

    python backtrader_worker.py DATA_DIR RESULT_JSON

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
"""

from __future__ import annotations

import sys
from pathlib import Path

import backtrader as bt
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers_common import CAPITAL, FAST, SLOW, Timer, load_manifest, quiet, write_result


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
            # fast mean > slow mean, exactly: sums in whole cents, cross-multiplied
            up = round(fast[0] * 100.0) * self.p.slow > round(slow[0] * 100.0) * self.p.fast
            target = self.weight if up else 0.0
            held = self.getposition(d).size * d.close[0]
            if target * value < held:
                self.order_target_percent(d, target=target, exectype=self.p.exectype)
            elif target * value > held:
                buys.append((d, target))
        for d, target in buys:
            self.order_target_percent(d, target=target, exectype=self.p.exectype)


def main() -> None:
    data_dir, result_path = sys.argv[1:3]
    quiet()
    manifest = load_manifest(data_dir)
    frequency = manifest["frequency"]
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.setcash(CAPITAL)
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
    cerebro.addstrategy(DualMovingAverage, exectype=exectype)
    with Timer() as t:
        (strategy,) = cerebro.run()
    write_result(
        result_path,
        framework="backtrader",
        version=bt.__version__,
        job="run",
        frequency=frequency,
        assets=len(manifest["symbols"]),
        bars_per_asset=manifest["sim_bars"],
        seconds=t.seconds,
        timed="cerebro.run() (preload, SumN indicators, event loop, broker)",
        untimed_load_seconds=load.seconds,
        final_value=float(cerebro.broker.getvalue()),
        final_cash=float(cerebro.broker.getcash()),
        fills=strategy.fills,
        refused_orders=strategy.refused,
    )


if __name__ == "__main__":
    main()
