"""The test algorithm of the optimization tests: a crossover on AAPL whose windows,
``fast`` and ``slow``, are parameters; ``fail_at`` makes a trial raise, and the
environment's ``CROSSOVER_PAUSE`` seconds of sleep a bar make a search slow enough
to kill while a trial is in flight (the environment is no part of the search, so
the search resumed without it is the same search)."""

import os
import time

from rustybt.api import order_target, symbol


def initialize(context):
    context.fast = context.params.get("fast", 10)
    context.slow = context.params.get("slow", 40)
    if context.params.get("fail_at") == context.fast:
        raise RuntimeError(f"planted failure at fast={context.fast}")
    context.asset = symbol("AAPL")
    context.pause = float(os.environ.get("CROSSOVER_PAUSE", 0))


def handle_data(context, data):
    if context.pause:
        time.sleep(context.pause)
    prices = data.history(context.asset, "price", bar_count=context.slow, frequency="1d")
    fast = prices.iloc[-context.fast :].mean()
    if fast > prices.mean():
        order_target(context.asset, 100)
    else:
        order_target(context.asset, 0)
