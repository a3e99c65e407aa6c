"""Buy 10 shares of AAPL every session and record its price.

Run it:  rustybt run -f examples/buyapple.py -b demo -s 2016-01-04 -e 2016-12-30
"""

from rustybt.api import order, record, symbol


def initialize(context):
    context.asset = symbol("AAPL")


def handle_data(context, data):
    order(context.asset, 10)
    record(AAPL=data.current(context.asset, "price"))


def _test_args():
    """Arguments the examples' tests (and the README) run this algorithm with."""
    import pandas as pd

    return {
        "start": pd.Timestamp("2016-01-04"),
        "end": pd.Timestamp("2016-12-30"),
        "capital_base": 10_000,
    }
