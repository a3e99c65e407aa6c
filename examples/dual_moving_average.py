"""Dual moving-average crossover on AAPL.

Hold 100 shares while the 100-session average price is above the 300-session
average, none otherwise: the classic trend-following toy of the zipline
tutorials, written for rustybt.

Run it:  rustybt run -f examples/dual_moving_average.py -b demo -s 2015-01-02 -e 2024-12-31

The windows are parameters, ``fast`` and ``slow`` (100 and 300 unless given):
``rustybt run ... -D fast=20 -D slow=140``, or searched by ``rustybt optimize
-f examples/dual_moving_average.py --param fast=int:5:50:5 --param slow=int:20:200:20``.
"""

from rustybt.api import order_target, record, symbol


def initialize(context):
    context.sessions_seen = 0
    context.asset = symbol("AAPL")
    context.fast = context.params.get("fast", 100)
    context.slow = context.params.get("slow", 300)


def handle_data(context, data):
    context.sessions_seen += 1
    # Wait until the long window has filled up.
    if context.sessions_seen < context.slow:
        return
    prices = data.history(context.asset, "price", bar_count=context.slow, frequency="1d")
    short_mavg = prices.iloc[-context.fast :].mean()
    long_mavg = prices.mean()
    if short_mavg > long_mavg:
        order_target(context.asset, 100)
    elif short_mavg < long_mavg:
        order_target(context.asset, 0)
    record(
        AAPL=data.current(context.asset, "price"),
        short_mavg=short_mavg,
        long_mavg=long_mavg,
    )


def analyze(context, perf):
    last = perf.iloc[-1]
    print(
        f"dual moving average: {len(perf)} sessions, "
        f"total return {last.algorithm_period_return:.2%}, final value {last.portfolio_value:,.2f}"
    )


def _test_args():
    import pandas as pd

    return {
        "start": pd.Timestamp("2015-01-02"),
        "end": pd.Timestamp("2024-12-31"),
        "capital_base": 100_000,
    }
