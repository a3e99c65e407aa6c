"""The holdings and trades panels of a real demo backtest: what they draw and list."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from rustybt.analytics.exposure import exposures, pnl_by_asset, top_positions
from rustybt.analytics.tearsheet.header import TRADE_LABELS, trade_figure_text
from rustybt.analytics.tearsheet.trade_panels import (
    MAX_SCATTER_TRIPS,
    MAX_TABLE_TRIPS,
    excursions_panel,
    exposure_panel,
    pnl_by_asset_panel,
    round_trips_panel,
    top_positions_panel,
)
from rustybt.analytics.trades import round_trip_table, trade_statistics

Run = tuple[pd.DataFrame, dict[str, Any]]


@pytest.fixture(scope="module")
def trips(demo_run: Run) -> pd.DataFrame:
    return round_trip_table(*demo_run)


def test_round_trip_table_lists_the_most_recent_first(trips: pd.DataFrame) -> None:
    panel = round_trips_panel(trips, trade_statistics(trips))
    assert panel.table is not None
    assert len(trips) > MAX_TABLE_TRIPS  # OLMAR trades enough to cut the table
    assert len(panel.table.cells) == MAX_TABLE_TRIPS
    assert f"the {MAX_TABLE_TRIPS} most recent of {len(trips):,} round trips" in panel.note
    last = trips.iloc[-1]
    first_row = dict(zip(panel.table.columns, panel.table.cells[0], strict=True))
    assert first_row["asset"] == last["asset"].symbol
    assert first_row["closed"] == last["close_dt"].strftime("%Y-%m-%d")
    assert first_row["P&L"] == f"{float(last['pnl']):,.2f}"
    assert first_row["MAE"] == f"{last['mae']:.2%}"
    pnl_keys = [row[panel.table.columns.index("P&L")] for row in panel.table.keys]
    assert pnl_keys == [float(p) for p in trips["pnl"].iloc[::-1].iloc[:MAX_TABLE_TRIPS]]


def test_trade_statistics_figures(trips: pd.DataFrame) -> None:
    statistics = trade_statistics(trips)
    panel = round_trips_panel(trips, statistics)
    shown = {figure.key: figure.text for figure in panel.figures}
    assert list(shown) == [key for key in TRADE_LABELS if key in statistics]
    for key, text in shown.items():
        assert text == trade_figure_text(key, statistics[key])
    assert shown["win_rate"] == f"{statistics['win_rate']:.2%}"
    assert shown["count"] == f"{len(trips):,}"


def test_no_trades() -> None:
    empty = pd.DataFrame(columns=["asset", "open_dt", "close_dt", "pnl", "mae", "mfe"])
    panel = round_trips_panel(empty, {"count": 0.0})
    assert panel.table is None and panel.note == "The run closed no trade."


def test_excursions_split_winners_and_losers(trips: pd.DataFrame) -> None:
    figure = excursions_panel(trips).figure
    winners, losers = figure.data
    assert len(winners.x) == (trips["pnl"] > 0).sum() and len(losers.x) == (trips["pnl"] <= 0).sum()
    np.testing.assert_allclose(
        np.sort(np.concatenate([winners.x, losers.x])), np.sort(trips["mae"] * 100)
    )
    many = pd.concat([trips] * (MAX_SCATTER_TRIPS // len(trips) + 1), ignore_index=True)
    panel = excursions_panel(many)
    assert sum(len(trace.x) for trace in panel.figure.data) == MAX_SCATTER_TRIPS
    assert f"{MAX_SCATTER_TRIPS:,} most recent of {len(many):,}" in panel.note


def test_exposure_lines(demo_run: Run) -> None:
    exposure = exposures(demo_run[0])
    figure = exposure_panel(exposure).figure
    assert [trace.name for trace in figure.data] == ["long", "short", "net", "gross (leverage)"]
    assert figure.data[3].y[-1] == pytest.approx(exposure["gross"].iloc[-1] * 100)


def test_top_positions_named_by_symbol(demo_run: Run) -> None:
    weights = top_positions(demo_run[0], top=10)
    figure = top_positions_panel(weights).figure
    assert [trace.name for trace in figure.data] == [asset.symbol for asset in weights.columns]
    assert figure.data[0].y[-1] == pytest.approx(weights.iloc[-1, 0] * 100)


def test_pnl_bars(demo_run: Run) -> None:
    pnl = pnl_by_asset(*demo_run)
    bars = pnl_by_asset_panel(pnl).figure.data[0]
    assert sum(bars.x) == pytest.approx(pnl.sum())
    assert bars.y[-1] == pnl.index[0].symbol  # the best at the top
    many = pd.Series(np.arange(50.0)[::-1], index=[f"S{i}" for i in range(50)])
    panel = pnl_by_asset_panel(many)
    assert len(panel.figure.data[0].x) == 30 and "15 best and 15 worst of 50" in panel.note
