"""OLMAR: On-Line Moving Average Reversion portfolio selection.

Li and Hoi (2012): each session, predict each stock's next price relative as
its moving average over the last ``WINDOW`` sessions divided by today's price,
and move the portfolio weights toward the stocks predicted to rise, just far
enough that the predicted portfolio return reaches ``EPSILON`` (a projection
onto the simplex keeps the weights long-only and summing to one).

Run it:  rustybt run -f examples/olmar.py -b demo -s 2020-01-02 -e 2020-12-31
"""

import numpy as np

from rustybt.api import order_target_percent, record, symbols

TICKERS = ("AAPL", "MSFT", "AMZN", "JPM", "XOM", "KO", "PG", "IBM")
EPSILON = 1.0
WINDOW = 5


def initialize(context):
    context.stocks = symbols(*TICKERS)
    n = len(context.stocks)
    context.weights = np.full(n, 1.0 / n)
    context.sessions_seen = 0


def handle_data(context, data):
    context.sessions_seen += 1
    if context.sessions_seen < WINDOW:
        return
    prices = data.history(context.stocks, "price", WINDOW, "1d")
    today = prices.iloc[-1].to_numpy()
    predicted = prices.mean().to_numpy() / today
    new_weights = _olmar_step(context.weights, predicted, EPSILON)
    for stock, weight in zip(context.stocks, new_weights, strict=True):
        if data.can_trade(stock):
            order_target_percent(stock, weight)
    context.weights = new_weights
    record(max_weight=float(new_weights.max()))


def _olmar_step(weights, predicted, epsilon):
    """Move ``weights`` toward the predicted winners (the OLMAR update)."""
    mean_pred = predicted.mean()
    excess = predicted - mean_pred
    norm = float(excess @ excess)
    step = 0.0 if norm == 0 else max(0.0, (epsilon - float(weights @ predicted)) / norm)
    return _project_to_simplex(weights + step * excess)


def _project_to_simplex(v):
    """Euclidean projection of ``v`` onto {w >= 0, sum(w) = 1} (Duchi et al. 2008)."""
    u = np.sort(v)[::-1]
    cumulative = np.cumsum(u) - 1.0
    ranks = np.arange(1, len(v) + 1)
    rho = np.nonzero(u - cumulative / ranks > 0)[0][-1]
    theta = cumulative[rho] / (rho + 1.0)
    return np.maximum(v - theta, 0.0)


def _test_args():
    import pandas as pd

    return {
        "start": pd.Timestamp("2020-01-02"),
        "end": pd.Timestamp("2020-12-31"),
        "capital_base": 100_000,
    }
