"""Trade analysis: a run's round trips with their excursions, and the statistics of them.

:func:`round_trip_table` takes the round trips of
:func:`~rustybt.analytics.round_trips.round_trips` (FIFO, partial closes,
shorts, reversals, splits) and adds what a trade list shows: the side, the
holding period in sessions, and the maximum adverse and favourable
excursions (MAE, MFE) from the daily marks of the held position.
:func:`trade_statistics` summarizes any such table; :func:`trade_statistics_by_asset`
does it per asset.

Examples
--------
>>> import pandas as pd
>>> trips = pd.DataFrame({"asset": ["A", "A", "B"], "pnl": [30.0, -10.0, 20.0]})
>>> stats = trade_statistics(trips)
>>> stats["win_rate"], stats["profit_factor"], stats["expectancy"]
(0.6666666666666666, 5.0, 13.333333333333334)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rustybt.analytics.exposure import positions_panel
from rustybt.analytics.round_trips import ROUND_TRIP_COLUMNS, round_trips_with_splits
from rustybt.exceptions import ParameterValidationError

__all__ = [
    "TRADE_COLUMNS",
    "TRADE_STATISTICS",
    "round_trip_table",
    "trade_statistics",
    "trade_statistics_by_asset",
]

#: The columns of :func:`round_trip_table`'s frame, in order.
TRADE_COLUMNS = (*ROUND_TRIP_COLUMNS, "side", "holding_period", "mae", "mfe")

#: The keys of :func:`trade_statistics`' dict, in order.
TRADE_STATISTICS = (
    "count",
    "win_rate",
    "profit_factor",
    "expectancy",
    "total_pnl",
    "average_win",
    "average_loss",
    "largest_win",
    "largest_loss",
    "longest_winning_streak",
    "longest_losing_streak",
    "average_return",
    "average_holding_period",
)


def round_trip_table(perf: pd.DataFrame, ledger: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """A run's round trips with their side, holding period, MAE and MFE.

    Parameters
    ----------
    perf
        The run's performance frame (``transactions``, ``orders``,
        ``positions``), indexed by session.
    ledger
        The run's ledger export (``algorithm.ledger.export()``), optional: its
        Decimal fills and journaled commissions make the P&L exact (Decimal),
        summing to the ledger's realized P&L of closed trades.

    Returns
    -------
    pd.DataFrame
        The rows of :func:`~rustybt.analytics.round_trips.round_trips` with
        the columns of :data:`TRADE_COLUMNS`: those of ``round_trips``
        (``return`` is the P&L over the entry value), then ``side`` ("long"
        or "short"), ``holding_period`` (sessions from the oldest lot's fill
        to the closing fill; 0 within one session), ``mae`` and ``mfe``.
        ``mae`` is the worst and ``mfe`` the best unrealized return of the
        trip while held, as fractions of its entry value, before
        commissions: from the entry price, the closes it was marked at
        (split-adjusted) and the exit price; ``mae <= 0 <= mfe``.

    Raises
    ------
    ParameterValidationError
        If ``perf`` is not a performance frame, or as ``round_trips`` does.
    """
    if not isinstance(perf, pd.DataFrame) or "transactions" not in perf.columns:
        raise ParameterValidationError(
            "round_trip_table takes a performance frame with a 'transactions' column",
            context={"argument": "perf"},
        )
    trips, splits = round_trips_with_splits(perf, ledger)
    sessions = perf.index
    opened = sessions.searchsorted(pd.Index(trips["open_dt"]), side="left")
    closed = sessions.searchsorted(pd.Index(trips["close_dt"]), side="left")
    amount = trips["amount"].to_numpy(dtype=np.float64)
    trips["side"] = np.where(amount > 0, "long", "short")
    trips["holding_period"] = (closed - opened).astype(np.int64)
    if "positions" in perf.columns:
        mae, mfe = _excursions(perf, trips, splits, opened, closed)
    else:
        mae = mfe = np.full(len(trips), np.nan)
    trips["mae"] = mae
    trips["mfe"] = mfe
    return trips


def _split_adjusted_marks(
    perf: pd.DataFrame, splits: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """The closes each asset was marked at times its cumulative split ratio, and that ratio.

    A mark times the ratio at its session, divided by the ratio at a later
    session, is the mark in that later session's units.
    """
    prices = positions_panel(perf).prices
    ratios = np.ones(prices.shape)
    rows = perf.index.get_indexer(pd.Index(splits["session"]))
    columns = prices.columns.get_indexer(pd.Index(splits["asset"], dtype=object))
    known = (rows >= 0) & (columns >= 0)
    ratios[rows[known], columns[known]] = splits["ratio"].to_numpy(dtype=np.float64)[known]
    factor = np.cumprod(ratios, axis=0)
    return prices * factor, factor


def _excursions(
    perf: pd.DataFrame,
    trips: pd.DataFrame,
    splits: pd.DataFrame,
    opened: np.ndarray,
    closed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Each trip's MAE and MFE (fractions of its entry price, before commissions)."""
    marks, factor = _split_adjusted_marks(perf, splits)
    count = len(trips)
    low = np.full(count, np.nan)
    high = np.full(count, np.nan)
    column = marks.columns.get_indexer(pd.Index(trips["asset"], dtype=object))
    ranged = (column >= 0) & (closed > opened)
    if ranged.any():
        sessions = len(perf)
        # Column-major, with a NaN pad so a range may end at the very end.
        flat = np.append(marks.to_numpy().T.ravel(), np.nan)
        starts = column[ranged] * sessions + opened[ranged]
        ends = column[ranged] * sessions + closed[ranged]
        order = np.argsort(starts, kind="stable")
        bounds = np.column_stack([starts[order], ends[order]]).ravel()
        lows = np.fmin.reduceat(flat, bounds)[::2]
        highs = np.fmax.reduceat(flat, bounds)[::2]
        unit = factor[np.minimum(closed[ranged], sessions - 1), column[ranged]]
        low[np.flatnonzero(ranged)[order]] = lows / unit[order]
        high[np.flatnonzero(ranged)[order]] = highs / unit[order]
    exit_price = trips["exit_price"].to_numpy(dtype=np.float64)
    entry = trips["entry_price"].to_numpy(dtype=np.float64)
    low = np.fmin(low, exit_price) / entry - 1.0
    high = np.fmax(high, exit_price) / entry - 1.0
    is_long = trips["amount"].to_numpy(dtype=np.float64) > 0
    mae = np.minimum(np.where(is_long, low, -high), 0.0)
    mfe = np.maximum(np.where(is_long, high, -low), 0.0)
    return mae, mfe


def _longest_run(mask: np.ndarray) -> int:
    """The length of the longest run of True in ``mask``."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max()) if starts.size else 0


def trade_statistics(trips: pd.DataFrame) -> dict[str, float]:
    """Win rate, profit factor, expectancy, streaks and more of a table of round trips.

    Parameters
    ----------
    trips
        Round trips in the order they closed, with a ``pnl`` column (as from
        :func:`round_trip_table` or ``round_trips``); ``return`` and
        ``holding_period`` are used when present.

    Returns
    -------
    dict
        Keys :data:`TRADE_STATISTICS`, floats: ``count``; ``win_rate`` (trips
        with a P&L above 0 over all; a trip at exactly 0 neither wins nor
        loses); ``profit_factor`` (the winners' P&L over the losers', inf
        with no loss); ``expectancy`` (the mean P&L of a trip); ``total_pnl``;
        ``average_win`` and ``average_loss`` (the mean P&L of the winners and
        of the losers, the latter negative); ``largest_win`` and
        ``largest_loss``; ``longest_winning_streak`` and
        ``longest_losing_streak`` (consecutive trips, in row order; a trip
        at 0 ends both); ``average_return``; ``average_holding_period``
        (sessions). Figures of no trip are NaN (streaks 0).

    Examples
    --------
    >>> import pandas as pd
    >>> stats = trade_statistics(pd.DataFrame({"pnl": [5.0, 7.0, -2.0, 4.0]}))
    >>> stats["longest_winning_streak"], stats["largest_loss"], stats["average_win"]
    (2.0, -2.0, 5.333333333333333)
    """
    if not isinstance(trips, pd.DataFrame) or "pnl" not in trips.columns:
        raise ParameterValidationError(
            "trade_statistics takes a frame of round trips with a 'pnl' column",
            context={"argument": "trips"},
        )
    pnl = trips["pnl"].to_numpy(dtype=np.float64)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_loss = -losses.sum()

    def mean_of(column: str) -> float:
        if column not in trips.columns or not len(trips):
            return float("nan")
        return float(np.nanmean(trips[column].to_numpy(dtype=np.float64)))

    def of(values: np.ndarray, reduce: Any) -> float:
        return float(reduce(values)) if values.size else float("nan")

    no_loss = np.inf if wins.size else np.nan  # all winners: unbounded; no trip: undefined
    profit_factor = wins.sum() / gross_loss if gross_loss > 0 else no_loss
    statistics = {
        "count": float(pnl.size),
        "win_rate": wins.size / pnl.size if pnl.size else np.nan,
        "profit_factor": profit_factor,
        "expectancy": of(pnl, np.mean),
        "total_pnl": float(pnl.sum()),
        "average_win": of(wins, np.mean),
        "average_loss": of(losses, np.mean),
        "largest_win": of(wins, np.max),
        "largest_loss": of(losses, np.min),
        "longest_winning_streak": _longest_run(pnl > 0),
        "longest_losing_streak": _longest_run(pnl < 0),
        "average_return": mean_of("return"),
        "average_holding_period": mean_of("holding_period"),
    }
    return {name: float(statistics[name]) for name in TRADE_STATISTICS}


def trade_statistics_by_asset(trips: pd.DataFrame) -> pd.DataFrame:
    """:func:`trade_statistics` of each asset's round trips.

    Parameters
    ----------
    trips
        Round trips with ``asset`` and ``pnl`` columns, in the order they closed.

    Returns
    -------
    pd.DataFrame
        One row per asset (index ``asset``, in order of first trip), columns
        :data:`TRADE_STATISTICS`.

    Examples
    --------
    >>> import pandas as pd
    >>> trips = pd.DataFrame({"asset": ["A", "B", "A"], "pnl": [1.0, -2.0, 3.0]})
    >>> by_asset = trade_statistics_by_asset(trips)
    >>> by_asset["total_pnl"].to_dict(), by_asset["win_rate"].to_dict()
    ({'A': 4.0, 'B': -2.0}, {'A': 1.0, 'B': 0.0})
    """
    if not isinstance(trips, pd.DataFrame) or "asset" not in trips.columns:
        raise ParameterValidationError(
            "trade_statistics_by_asset takes a frame of round trips with an 'asset' column",
            context={"argument": "trips"},
        )
    rows = {
        asset: trade_statistics(group)
        for asset, group in trips.groupby("asset", sort=False, dropna=False)
    }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(TRADE_STATISTICS))
    frame.index = pd.Index(list(rows), dtype=object, name="asset")
    return frame
