"""The test algorithm of the optimization tests: a crossover on AAPL whose windows,
``fast`` and ``slow``, are parameters; ``fail_at`` makes a trial raise, ``pause``
makes every bar sleep (for a run to kill while a trial is in flight)."""

import time

from rustybt.api import order_target, symbol


def initialize(context):
    context.fast = context.params.get("fast", 10)
    context.slow = context.params.get("slow", 40)
    if context.params.get("fail_at") == context.fast:
        raise RuntimeError(f"planted failure at fast={context.fast}")
    context.asset = symbol("AAPL")


def handle_data(context, data):
    pause = context.params.get("pause", 0.0)
    if pause:
        time.sleep(pause)
    prices = data.history(context.asset, "price", bar_count=context.slow, frequency="1d")
    fast = prices.iloc[-context.fast :].mean()
    if fast > prices.mean():
        order_target(context.asset, 100)
    else:
        order_target(context.asset, 0)
