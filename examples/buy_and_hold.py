"""Put equal parts of the capital into a handful of stocks on day one and hold them.

Run it:  rustybt run -f examples/buy_and_hold.py -b demo -s 2015-01-02 -e 2024-12-31
"""

from rustybt.api import order_target_percent, record, symbols

TICKERS = ("AAPL", "MSFT", "JPM", "KO", "XOM")


def initialize(context):
    context.stocks = symbols(*TICKERS)
    context.invested = False


def handle_data(context, data):
    if not context.invested:
        weight = 1.0 / len(context.stocks)
        for stock in context.stocks:
            if data.can_trade(stock):
                order_target_percent(stock, weight)
        context.invested = True
    record(cash=context.portfolio.cash, positions=len(context.portfolio.positions))


def _test_args():
    import pandas as pd

    return {
        "start": pd.Timestamp("2015-01-02"),
        "end": pd.Timestamp("2024-12-31"),
        "capital_base": 100_000,
    }
