"""Momentum through a pipeline: each month, hold the recent winners of the most traded stocks.

Every session the pipeline screens the 20 stocks with the largest 20-day average
dollar volume and ranks them by their return over the last 60 sessions. On the
first session of each month the algorithm holds the top 5 in equal weights and
sells whatever else it holds.

    rustybt run -f examples/pipeline_momentum.py -b demo -s 2015-01-02 -e 2024-12-31
"""

from rustybt.api import (
    attach_pipeline,
    date_rules,
    order_target_percent,
    pipeline_output,
    record,
    schedule_function,
    time_rules,
)
from rustybt.pipeline import Pipeline
from rustybt.pipeline.factors import AverageDollarVolume, Returns

UNIVERSE = 20
HOLD = 5
LOOKBACK = 60


def make_pipeline():
    liquid = AverageDollarVolume(window_length=20).top(UNIVERSE)
    momentum = Returns(window_length=LOOKBACK, mask=liquid)
    return Pipeline(
        columns={"momentum": momentum, "winner": momentum.top(HOLD, mask=liquid)},
        screen=liquid,
    )


def initialize(context):
    attach_pipeline(make_pipeline(), "momentum")
    schedule_function(rebalance, date_rules.month_start(), time_rules.market_open())


def before_trading_start(context, data):
    context.output = pipeline_output("momentum")


def rebalance(context, data):
    winners = context.output.index[context.output["winner"]]
    for asset in context.portfolio.positions:
        if asset not in winners and data.can_trade(asset):
            order_target_percent(asset, 0)
    for asset in winners:
        if data.can_trade(asset):
            order_target_percent(asset, 1.0 / len(winners))
    record(universe=len(context.output), winners=len(winners))
