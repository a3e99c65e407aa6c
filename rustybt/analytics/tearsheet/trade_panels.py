"""The panels of what a run held and traded: exposure, top positions, round trips, P&L by asset.

Their series come from :mod:`rustybt.analytics.exposure` and
:mod:`rustybt.analytics.trades`; these functions only draw them. A table or a
scatter of tens of thousands of trips would make the page slow and large and
show nothing more, so they keep the most recent trips and say so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rustybt.analytics.tearsheet.decimate import decimate_frame
from rustybt.analytics.tearsheet.header import TRADE_LABELS, trade_figure_text
from rustybt.analytics.tearsheet.panels import (
    BENCHMARK_COLOR,
    GAIN_COLOR,
    LOSS_COLOR,
    STRATEGY_COLOR,
    KeyFigure,
    Panel,
    Table,
    date_key,
    date_text,
    figure_layout,
    line,
    new_figure,
    session_dates,
)

__all__ = [
    "MAX_SCATTER_TRIPS",
    "MAX_TABLE_TRIPS",
    "asset_label",
    "excursions_panel",
    "exposure_panel",
    "long_short_panel",
    "pnl_by_asset_panel",
    "round_trips_panel",
    "top_positions_panel",
]

#: The most round trips the table lists (the most recent).
MAX_TABLE_TRIPS = 500
#: The most round trips the MAE/MFE scatter draws (the most recent).
MAX_SCATTER_TRIPS = 5000
#: The most assets the P&L bars show: the best and the worst half each.
MAX_PNL_ASSETS = 30
PALETTE = (
    "#1f5fa8", "#e67e22", "#2e8b57", "#c0392b", "#8e44ad",
    "#16a085", "#d35400", "#7f8c8d", "#2c3e50", "#b7950b",
)  # fmt: skip


def asset_label(asset: Any) -> str:
    """An asset as the page names it: its symbol, else its text."""
    symbol = getattr(asset, "symbol", None)
    return str(symbol) if symbol else str(asset)


def exposure_panel(exposure: pd.DataFrame) -> Panel:
    """Long, short, net and gross exposure (the leverage) over time, in percent of value.

    Parameters
    ----------
    exposure
        :func:`rustybt.analytics.exposure.exposures` of the run.
    """
    styles = {
        "long": ("long", GAIN_COLOR),
        "short": ("short", LOSS_COLOR),
        "net": ("net", STRATEGY_COLOR),
        "gross": ("gross (leverage)", "#2c3e50"),
    }
    figure = new_figure(
        [line(exposure[column] * 100, name, color) for column, (name, color) in styles.items()]
    )
    figure_layout(figure, yaxis={"title": "of portfolio value (%)", "ticksuffix": "%"})
    note = "Gross exposure over portfolio value is the leverage: 100% = 1.0x."
    return Panel("exposure", "Exposure and leverage", figure, note=note)


def top_positions_panel(weights: pd.DataFrame) -> Panel:
    """The weights over time of the assets held most (negative for shorts), in percent.

    Parameters
    ----------
    weights
        :func:`rustybt.analytics.exposure.top_positions` of the run.
    """
    thin = decimate_frame(weights * 100)
    dates = session_dates(thin.index)
    figure = new_figure(
        [
            go.Scatter(
                x=dates,
                y=thin[asset].to_numpy(dtype=np.float64),
                name=asset_label(asset),
                mode="lines",
                line={"width": 1.2, "color": PALETTE[number % len(PALETTE)]},
            )
            for number, asset in enumerate(thin.columns)
        ]
    )
    # The legend names the assets, even when there is one.
    figure_layout(figure, yaxis={"title": "weight (%)", "ticksuffix": "%"}, showlegend=True)
    note = "" if len(weights.columns) else "The run held no position."
    return Panel("top-positions", "Top positions over time", figure, note=note)


def number_text(value: float) -> str:
    """A quantity or price for a table: two decimals, or six figures below 1."""
    if math.isnan(value):
        return ""
    if value == int(value) and abs(value) >= 1:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.6g}"


def trip_rows(trips: pd.DataFrame) -> tuple[list[list[str]], list[list[float | str]]]:
    """The round-trip table's cells and sort keys, one row per trip."""
    cells: list[list[str]] = []
    keys: list[list[float | str]] = []
    for row in trips.to_dict("records"):
        amount, entry, exit_ = (float(row[k]) for k in ("amount", "entry_price", "exit_price"))
        pnl, held = float(row["pnl"]), float(row["holding_period"])
        fractions = [float(row[k]) for k in ("return", "mae", "mfe")]
        cells.append(
            [
                asset_label(row["asset"]),
                str(row["side"]),
                date_text(row["open_dt"]),
                date_text(row["close_dt"]),
                number_text(amount),
                number_text(entry),
                number_text(exit_),
                f"{pnl:,.2f}",
                *(f"{x:.2%}" if math.isfinite(x) else "" for x in fractions[:1]),
                f"{held:,.0f}",
                *(f"{x:.2%}" if math.isfinite(x) else "" for x in fractions[1:]),
            ]
        )
        sortable = [x if math.isfinite(x) else -1e300 for x in fractions]
        keys.append(
            [
                asset_label(row["asset"]),
                str(row["side"]),
                date_key(row["open_dt"]),
                date_key(row["close_dt"]),
                amount,
                entry,
                exit_,
                pnl,
                sortable[0],
                held,
                *sortable[1:],
            ]
        )
    return cells, keys


TRIP_COLUMNS = (
    "asset", "side", "opened", "closed", "amount", "entry", "exit",
    "P&L", "return", "sessions", "MAE", "MFE",
)  # fmt: skip


def round_trips_panel(trips: pd.DataFrame, statistics: Mapping[str, float]) -> Panel:
    """The trade statistics and a sortable table of the most recent round trips.

    Parameters
    ----------
    trips
        :func:`rustybt.analytics.trades.round_trip_table` of the run, in closing order.
    statistics
        :func:`rustybt.analytics.trades.trade_statistics` of ``trips``.
    """
    shown = trips.iloc[-MAX_TABLE_TRIPS:].iloc[::-1]  # the most recent first
    cells, keys = trip_rows(shown)
    figures = tuple(
        KeyFigure(key, label, trade_figure_text(key, float(statistics[key])))
        for key, label in TRADE_LABELS.items()
        if key in statistics
    )
    if len(trips) > MAX_TABLE_TRIPS:
        note = (
            f"The table lists the {MAX_TABLE_TRIPS:,} most recent of {len(trips):,} round trips; "
            "the statistics above count them all. Click a column's title to sort."
        )
    elif len(trips):
        note = "Click a column's title to sort."
    else:
        note = "The run closed no trade."
    table = Table(TRIP_COLUMNS, cells, keys) if cells else None
    return Panel("round-trips", "Round trips", table=table, note=note, figures=figures)


def excursions_panel(trips: pd.DataFrame) -> Panel:
    """Each trip's maximum adverse against its maximum favorable excursion, winners and losers.

    A winner that went far against its entry first, or a loser that was well
    ahead before it closed, shows where stops and exits could have been.
    """
    shown = trips.iloc[-MAX_SCATTER_TRIPS:]
    pnl = shown["pnl"].to_numpy(dtype=np.float64)
    figure = new_figure()
    for name, mask, color in (("winners", pnl > 0, GAIN_COLOR), ("losers", pnl <= 0, LOSS_COLOR)):
        part = shown[mask]
        figure.add_trace(
            go.Scatter(
                x=part["mae"].to_numpy(dtype=np.float64) * 100,
                y=part["mfe"].to_numpy(dtype=np.float64) * 100,
                mode="markers",
                name=name,
                marker={"color": color, "size": 5, "opacity": 0.6},
                text=np.asarray(
                    [
                        f"{asset_label(asset)} {date_text(closed)}"
                        for asset, closed in zip(part["asset"], part["close_dt"], strict=True)
                    ],
                    dtype=object,
                ),
                hovertemplate="%{text}<br>MAE %{x:.2f}%<br>MFE %{y:.2f}%<extra></extra>",
            )
        )
    figure_layout(
        figure,
        xaxis={"title": "MAE: worst while held (%)", "ticksuffix": "%"},
        yaxis={"title": "MFE: best while held (%)", "ticksuffix": "%"},
        hovermode="closest",
    )
    note = (
        f"The {MAX_SCATTER_TRIPS:,} most recent of {len(trips):,} round trips."
        if len(trips) > MAX_SCATTER_TRIPS
        else ""
    )
    return Panel("excursions", "MAE / MFE of round trips", figure, note=note)


def pnl_by_asset_panel(pnl: pd.Series) -> Panel:
    """A bar per asset: its P&L over the run, best at the top.

    Parameters
    ----------
    pnl
        :func:`rustybt.analytics.exposure.pnl_by_asset` of the run, largest first.
    """
    shown = pnl
    note = ""
    if len(pnl) > MAX_PNL_ASSETS:
        half = MAX_PNL_ASSETS // 2
        shown = pd.concat([pnl.iloc[:half], pnl.iloc[-half:]])
        note = f"The {half} best and {half} worst of {len(pnl):,} assets."
    values = shown.to_numpy(dtype=np.float64)[::-1]
    figure = new_figure(
        go.Bar(
            x=values,
            y=[asset_label(asset) for asset in shown.index][::-1],
            orientation="h",
            marker_color=[GAIN_COLOR if value >= 0 else LOSS_COLOR for value in values],
            hovertemplate="%{y}: %{x:,.2f}<extra></extra>",
            name="P&L",
        )
    )
    figure_layout(
        figure,
        height=max(260, 60 + 20 * len(shown)),
        xaxis={"title": "P&L"},
        yaxis={"type": "category"},
        hovermode="closest",
    )
    return Panel("pnl-by-asset", "P&L by asset", figure, note=note, wide=False)


def long_short_panel(contribution: pd.DataFrame) -> Panel:
    """The P&L of the long and of the short positions, summed since the start.

    Parameters
    ----------
    contribution
        :func:`rustybt.analytics.exposure.long_short_contribution` of the run (daily P&L).
    """
    summed = contribution.cumsum()
    figure = new_figure(
        [
            line(summed["long"], "long", GAIN_COLOR),
            line(summed["short"], "short", LOSS_COLOR),
            line(summed["long"] + summed["short"], "both", BENCHMARK_COLOR),
        ]
    )
    figure_layout(figure, yaxis={"title": "P&L since the start"})
    note = "Dividends and other cash with no fill are not included."
    return Panel("long-short", "Long and short contribution", figure, note=note, wide=False)
