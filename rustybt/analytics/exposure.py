"""Exposure, turnover, concentration and P&L attribution of a run, from its performance frame.

Every function reads the performance frame a run returns (``run_algorithm``,
or ``rustybt run -o``): its ``positions`` column (per session the positions
held at the close: ``sid``, ``amount``, ``last_sale_price``), its
``transactions`` and ``orders`` (the fills and their commissions), and its
``portfolio_value``. A position's value is its exposure, ``amount *
last_sale_price * multiplier``, as the ledger measures leverage: a future
counts at its notional value although its price changes settle in cash.

The positions and fills are laid out once as session x asset panels
(:func:`positions_panel`, :func:`fills_panel`) and every figure is array
arithmetic over them.

Examples
--------
>>> import pandas as pd
>>> perf = pd.DataFrame(
...     {
...         "positions": [
...             [{"sid": "A", "amount": 10, "last_sale_price": 6.0},
...              {"sid": "B", "amount": -5, "last_sale_price": 4.0}],
...         ],
...         "transactions": [[]],
...         "portfolio_value": [100.0],
...     }
... )
>>> exposures(perf)
   long  short  net  gross  leverage
0   0.6   -0.2  0.4    0.8       0.8
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from rustybt.analytics.round_trips import fill_table, multiplier_of
from rustybt.exceptions import ParameterValidationError

__all__ = [
    "EXPOSURE_COLUMNS",
    "FillsPanel",
    "PositionsPanel",
    "concentration",
    "exposures",
    "fills_panel",
    "long_short_contribution",
    "pnl_by_asset",
    "positions_panel",
    "top_positions",
    "turnover",
]

#: The columns of :func:`exposures`' frame, in order.
EXPOSURE_COLUMNS = ("long", "short", "net", "gross", "leverage")

# Cash a ledger export journals against an asset that is P&L but no fill.
_ASSET_INCOME = ("dividend", "split_cash")


class PositionsPanel(NamedTuple):
    """The positions a run held at each session's close, one column per asset."""

    amounts: pd.DataFrame  #: units held (0 when not held)
    prices: pd.DataFrame  #: the last sale price marked (NaN when not held)
    values: pd.DataFrame  #: exposure, ``amount * price * multiplier`` (0 when not held)


class FillsPanel(NamedTuple):
    """A run's fills summed by session and asset, on the columns of a positions panel."""

    filled: pd.DataFrame  #: units filled, signed
    traded: pd.DataFrame  #: ``|amount| * price * multiplier`` traded
    cash: pd.DataFrame  #: cash the fills moved, ``-amount * price * multiplier - commission``
    first_side: pd.DataFrame  #: the sign of the session's first fill (0 with none)


def _require(perf: Any, columns: tuple[str, ...], function: str) -> pd.DataFrame:
    """``perf`` when it is a performance frame with ``columns``; else a one-line error."""
    if not isinstance(perf, pd.DataFrame):
        raise ParameterValidationError(
            f"{function} takes a performance frame (a DataFrame), not {type(perf).__name__}",
            context={"argument": "perf"},
        )
    missing = [name for name in columns if name not in perf.columns]
    if missing:
        raise ParameterValidationError(
            f"{function}: the performance frame has no column {', '.join(map(repr, missing))}",
            context={"argument": "perf", "missing": missing},
        )
    return perf


def _positive(top: Any, function: str) -> int:
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ParameterValidationError(
            f"{function}: top must be a positive integer, not {top!r}",
            context={"argument": "top"},
        )
    return int(top)


def positions_panel(perf: pd.DataFrame) -> PositionsPanel:
    """The positions of a performance frame as session x asset frames.

    Parameters
    ----------
    perf
        A performance frame with a ``positions`` column.

    Returns
    -------
    PositionsPanel
        ``amounts``, ``prices`` and ``values`` indexed like ``perf``, one
        column per asset ever held at a close, in order of first appearance.

    Examples
    --------
    >>> import pandas as pd
    >>> held = [{"sid": "A", "amount": 3, "last_sale_price": 2.5}]
    >>> perf = pd.DataFrame({"positions": [[], held]})
    >>> positions_panel(perf).values["A"].tolist()
    [0.0, 7.5]
    """
    perf = _require(perf, ("positions",), "positions_panel")
    days = [day or () for day in perf["positions"]]
    rows = np.repeat(np.arange(len(days)), [len(day) for day in days])
    held = [position for day in days for position in day]
    codes, assets = pd.factorize(pd.Series([p["sid"] for p in held], dtype=object), sort=False)
    shape = (len(days), len(assets))
    amounts = np.zeros(shape)
    prices = np.full(shape, np.nan)
    amounts[rows, codes] = [float(p["amount"]) for p in held]
    prices[rows, codes] = [float(p["last_sale_price"]) for p in held]
    multipliers = np.array([float(multiplier_of(asset)) for asset in assets])
    values = np.where(amounts != 0, amounts * np.nan_to_num(prices) * multipliers, 0.0)
    columns = pd.Index(assets, dtype=object, name="asset")

    def frame(array: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(array, index=perf.index, columns=columns)

    return PositionsPanel(frame(amounts), frame(prices), frame(values))


def fills_panel(perf: pd.DataFrame, assets: pd.Index | None = None) -> FillsPanel:
    """The fills of a performance frame summed by session and asset.

    Parameters
    ----------
    perf
        A performance frame with a ``transactions`` column (and ``orders``,
        for the commissions booked on them).
    assets
        The columns to lay them on (a positions panel's); assets traded but
        not among them are appended, in order of first fill.

    Returns
    -------
    FillsPanel
        ``filled``, ``traded``, ``cash`` and ``first_side`` indexed like ``perf``.
    """
    perf = _require(perf, ("transactions",), "fills_panel")
    fills = fill_table(perf)
    columns = pd.Index([] if assets is None else assets, dtype=object, name="asset")
    traded_assets = pd.Index(pd.unique(fills["asset"].to_numpy(dtype=object)), dtype=object)
    columns = columns.append(traded_assets.difference(columns, sort=False)).rename("asset")
    rows = perf.index.get_indexer(pd.Index(fills["session"]))
    codes = columns.get_indexer(pd.Index(fills["asset"], dtype=object))
    amount = fills["amount"].to_numpy(dtype=np.float64)
    multipliers = np.array([float(multiplier_of(asset)) for asset in columns])
    notional = amount * fills["price"].to_numpy(dtype=np.float64) * multipliers[codes]
    commission = fills["commission"].to_numpy(dtype=np.float64)
    shape = (len(perf), len(columns))

    def summed(values: np.ndarray) -> pd.DataFrame:
        array = np.zeros(shape)
        np.add.at(array, (rows, codes), values)
        return pd.DataFrame(array, index=perf.index, columns=columns)

    first_side = np.zeros(shape)
    _, firsts = np.unique(rows * len(columns) + codes, return_index=True)  # each cell's first
    first_side[rows[firsts], codes[firsts]] = np.sign(amount[firsts])
    return FillsPanel(
        filled=summed(amount),
        traded=summed(np.abs(notional)),
        cash=summed(-notional - commission),
        first_side=pd.DataFrame(first_side, index=perf.index, columns=columns),
    )


def _panels(perf: pd.DataFrame) -> tuple[PositionsPanel, FillsPanel]:
    """The positions and fills panels of ``perf`` on the same columns."""
    held = positions_panel(perf)
    fills = fills_panel(perf, held.values.columns)
    columns = fills.filled.columns
    if len(columns) > len(held.values.columns):
        held = PositionsPanel(
            held.amounts.reindex(columns=columns, fill_value=0.0),
            held.prices.reindex(columns=columns),
            held.values.reindex(columns=columns, fill_value=0.0),
        )
    return held, fills


def _portfolio_value(perf: pd.DataFrame) -> np.ndarray:
    return perf["portfolio_value"].to_numpy(dtype=np.float64)


def exposures(perf: pd.DataFrame) -> pd.DataFrame:
    """Long, short, net and gross exposure each session, as fractions of portfolio value.

    Parameters
    ----------
    perf
        A performance frame (``positions``, ``portfolio_value``).

    Returns
    -------
    pd.DataFrame
        Indexed like ``perf``, columns :data:`EXPOSURE_COLUMNS`: ``long`` (the
        long positions' value over the portfolio value), ``short`` (the short
        positions', negative), ``net`` (their sum: the frame's
        ``net_leverage``), ``gross`` (long minus short) and ``leverage`` (the
        gross exposure, as the frame's ``gross_leverage`` names it).
    """
    perf = _require(perf, ("positions", "portfolio_value"), "exposures")
    values = positions_panel(perf).values.to_numpy()
    value = _portfolio_value(perf)
    long = np.where(values > 0, values, 0.0).sum(axis=1) / value
    short = np.where(values < 0, values, 0.0).sum(axis=1) / value
    gross = long - short
    return pd.DataFrame(
        {"long": long, "short": short, "net": long + short, "gross": gross, "leverage": gross},
        index=perf.index,
    )


def turnover(perf: pd.DataFrame) -> pd.Series:
    """The value traded each session over the portfolio value at its close.

    Buys and sells both count (``sum |amount * price * multiplier|`` of the
    session's fills): selling a whole book and buying another of the same
    value turns over 2.0. The annual turnover is the mean times the sessions
    in a year.

    Parameters
    ----------
    perf
        A performance frame (``transactions``, ``portfolio_value``).

    Returns
    -------
    pd.Series
        ``turnover``, indexed like ``perf`` (0 on sessions without a fill).
    """
    perf = _require(perf, ("transactions", "portfolio_value"), "turnover")
    traded = fills_panel(perf).traded.to_numpy().sum(axis=1)
    return pd.Series(traded / _portfolio_value(perf), index=perf.index, name="turnover")


def concentration(perf: pd.DataFrame, top: int = 5) -> pd.Series:
    """The share of the gross exposure held in the ``top`` largest positions, each session.

    Parameters
    ----------
    perf
        A performance frame (``positions``).
    top
        How many of the largest positions (by absolute value) to count.

    Returns
    -------
    pd.Series
        ``concentration`` in [0, 1], indexed like ``perf``; NaN on sessions
        holding nothing.
    """
    top = _positive(top, "concentration")
    sizes = np.abs(positions_panel(perf).values.to_numpy())
    largest = -np.sort(-sizes, axis=1)[:, :top].sum(axis=1)
    gross = sizes.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(gross > 0, largest / gross, np.nan)
    return pd.Series(share, index=perf.index, name="concentration")


def top_positions(perf: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The weights over time of the ``top`` assets with the largest average absolute weight.

    Parameters
    ----------
    perf
        A performance frame (``positions``, ``portfolio_value``).
    top
        How many assets to keep.

    Returns
    -------
    pd.DataFrame
        Indexed like ``perf``, one column per asset, largest average absolute
        weight first; a weight is the position's value over the portfolio
        value (negative for a short, 0 when not held).
    """
    top = _positive(top, "top_positions")
    perf = _require(perf, ("positions", "portfolio_value"), "top_positions")
    values = positions_panel(perf).values
    weights = values.div(_portfolio_value(perf), axis=0)
    average = weights.abs().mean(axis=0)
    order = np.argsort(-average.to_numpy(), kind="stable")[:top]
    return weights.iloc[:, order]


def pnl_by_asset(perf: pd.DataFrame, ledger: Mapping[str, Any] | None = None) -> pd.Series:
    """Each asset's P&L over the run: its final value plus the cash its fills moved.

    An asset's P&L is the value held at the last close, less what its fills
    cost (``amount * price * multiplier``, sales counting as income) and
    their commissions. A run starts with no positions, so the assets' P&L
    sum to the change in portfolio value less the cash that came with no fill
    (dividends, cash paid for fractional shares at a split, interest) and
    capital changes. Given the run's ledger export, its journaled dividends and
    split cash are added to their assets, and the sum is the run's whole P&L,
    the final portfolio value less the starting cash (capital changes aside).

    Parameters
    ----------
    perf
        A performance frame (``positions``, ``transactions``, ``orders``).
    ledger
        The run's ledger export (``algorithm.ledger.export()``), optional.

    Returns
    -------
    pd.Series
        ``pnl`` by ``asset``, in currency, largest first.
    """
    perf = _require(perf, ("positions", "transactions"), "pnl_by_asset")
    held, fills = _panels(perf)
    last = held.values.iloc[-1] if len(perf) else held.values.sum(axis=0)
    pnl = last + fills.cash.sum(axis=0)
    if ledger is not None:
        pnl = pnl.add(_asset_income(ledger), fill_value=0.0)
    return pnl.sort_values(ascending=False, kind="stable").rename("pnl").rename_axis("asset")


def _asset_income(ledger: Mapping[str, Any]) -> pd.Series:
    """The dividends and split cash a ledger export journaled, summed by asset."""
    journal = ledger.get("cash_journal") if isinstance(ledger, Mapping) else None
    if not isinstance(journal, pd.DataFrame) or not {"kind", "asset", "amount"} <= set(
        journal.columns
    ):
        raise ParameterValidationError(
            "ledger must be a ledger export (algorithm.ledger.export()) with a 'cash_journal'",
            context={"argument": "ledger"},
        )
    income = journal[journal["kind"].isin(_ASSET_INCOME)]
    amounts = income["amount"].to_numpy(dtype=np.float64)
    return (
        pd.Series(amounts, index=pd.Index(income["asset"], dtype=object))
        .groupby(level=0, sort=False)
        .sum()
    )


def long_short_contribution(perf: pd.DataFrame) -> pd.DataFrame:
    """The daily P&L of the long and of the short positions.

    An asset's P&L on a session is the change in its value plus the cash its
    fills moved (commissions included). It counts as long or short by the
    side held at the previous close; a position opened on the session by the
    side held at its close; one opened and closed within it by its first
    fill's side. Dividends and other cash with no fill are not included.

    Parameters
    ----------
    perf
        A performance frame (``positions``, ``transactions``, ``orders``).

    Returns
    -------
    pd.DataFrame
        Indexed like ``perf``: ``long`` and ``short`` P&L, in currency.
    """
    perf = _require(perf, ("positions", "transactions"), "long_short_contribution")
    held, fills = _panels(perf)
    amounts = held.amounts.to_numpy()
    values = held.values.to_numpy()
    before = np.vstack([np.zeros((1, amounts.shape[1])), amounts[:-1]])
    previous_values = np.vstack([np.zeros((1, values.shape[1])), values[:-1]])
    daily = values - previous_values + fills.cash.to_numpy()
    side = np.sign(before)
    side = np.where(side == 0, np.sign(amounts), side)
    side = np.where(side == 0, fills.first_side.to_numpy(), side)
    return pd.DataFrame(
        {
            "long": np.where(side > 0, daily, 0.0).sum(axis=1),
            "short": np.where(side < 0, daily, 0.0).sum(axis=1),
        },
        index=perf.index,
    )
