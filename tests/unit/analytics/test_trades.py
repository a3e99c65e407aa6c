"""The round-trip table and trade statistics, checked by hand on a small performance frame."""

from __future__ import annotations

import math
import time
from decimal import Decimal

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from rustybt.analytics.exposure import (
    concentration,
    exposures,
    long_short_contribution,
    pnl_by_asset,
    top_positions,
    turnover,
)
from rustybt.analytics.round_trips import (
    FILL_COLUMNS,
    SPLIT_COLUMNS,
    fill_table,
    round_trips,
    round_trips_with_splits,
)
from rustybt.analytics.trades import (
    TRADE_COLUMNS,
    TRADE_STATISTICS,
    round_trip_table,
    trade_statistics,
    trade_statistics_by_asset,
)
from rustybt.exceptions import ParameterValidationError
from tests.unit.analytics._perf_kit import SESSIONS, hand_perf, perf_from, synthetic_perf

# The round trips of hand_perf, worked out from its table by hand, in closing order:
# (asset, amount, entry, exit, pnl, return, holding period, mae, mfe).
EXPECTED = [
    # B's first part: marks 50, 55, exit 60.
    ("B", 4, 50.0, 60.0, 40.0, 0.2, 2, 0.0, 0.2),
    # D's long, closed by the reversal: marks 10, 12, exit 11.
    ("D", 10, 10.0, 11.0, 10.0, 0.1, 2, 0.0, 0.2),
    # A: marks 100, 90, 120, exit 110.
    ("A", 10, 100.0, 110.0, 100.0, 0.1, 3, -0.1, 0.2),
    # B's rest: marks 50, 55, 60, 40, exit 45.
    ("B", 6, 50.0, 45.0, -30.0, -0.1, 4, -0.2, 0.2),
    # C's short: marks 20, 22, 18, exit 19 -- a short gains as the price falls.
    ("C", -5, 20.0, 19.0, 5.0, 0.05, 3, -0.1, 0.1),
    # D's short, opened by the reversal at 11: marks 11, 9, exit 10.
    ("D", -5, 11.0, 10.0, 5.0, 5 / 55, 2, 0.0, 2 / 11),
    # E across its 2-for-1 split: 20 shares at 50; marks 100/2, 120/2, 52, 45, exit 55.
    ("E", 20, 50.0, 55.0, 100.0, 0.1, 4, -0.1, 0.2),
]


def test_round_trip_table_by_hand() -> None:
    trips = round_trip_table(hand_perf())
    assert list(trips.columns) == list(TRADE_COLUMNS)
    got = trips[
        ["asset", "amount", "entry_price", "exit_price", "pnl", "return", "holding_period",
         "mae", "mfe"]
    ].to_numpy().tolist()  # fmt: skip
    assert [row[0] for row in got] == [row[0] for row in EXPECTED]
    np.testing.assert_allclose(
        np.array([row[1:] for row in got], dtype=float),
        np.array([row[1:] for row in EXPECTED], dtype=float),
        rtol=0,
        atol=1e-12,
    )
    assert trips["side"].tolist() == ["long", "long", "long", "long", "short", "short", "long"]
    assert trips["open_dt"].tolist() == [SESSIONS[i] for i in (0, 0, 0, 0, 1, 2, 0)]
    assert trips["close_dt"].tolist() == [SESSIONS[i] for i in (2, 2, 3, 4, 4, 4, 4)]
    assert trips["holding_period"].dtype == np.int64


def test_a_trip_within_one_session_holds_zero_sessions_and_excursions_from_its_exit() -> None:
    perf = perf_from(
        {"A": [None, None]},
        [(1, "A", 3, 7.0), (1, "A", -3, 8.0)],
        [100.0, 100.0],
        SESSIONS[:2],
    )
    trips = round_trip_table(perf)
    assert trips["holding_period"].tolist() == [0]
    assert trips["mae"].tolist() == [0.0]
    assert trips["mfe"].tolist() == pytest.approx([8 / 7 - 1])


def test_a_position_closed_out_without_a_fill_is_a_trip_to_its_last_mark() -> None:
    perf = perf_from(
        {"A": [(4, 25.0), (4, 20.0), None]}, [(0, "A", 4, 25.0)], [100.0] * 3, SESSIONS[:3]
    )
    trips = round_trip_table(perf)
    assert trips[["exit_price", "pnl", "holding_period"]].to_numpy().tolist() == [[20.0, -20.0, 2]]
    assert trips["mae"].tolist() == pytest.approx([-0.2])


def test_round_trip_table_refuses_what_is_not_a_performance_frame() -> None:
    with pytest.raises(ParameterValidationError, match="'transactions' column"):
        round_trip_table(pd.DataFrame({"returns": [0.0]}))
    with pytest.raises(ParameterValidationError, match="ledger export"):
        round_trip_table(hand_perf(), {"transactions": pd.DataFrame()})


def test_trade_statistics_by_hand() -> None:
    stats = trade_statistics(round_trip_table(hand_perf()))
    assert list(stats) == list(TRADE_STATISTICS)
    pnl = [row[4] for row in EXPECTED]  # 40, 10, 100, -30, 5, 5, 100
    assert stats["count"] == 7.0
    assert stats["win_rate"] == pytest.approx(6 / 7)
    assert stats["profit_factor"] == pytest.approx(260 / 30)
    assert stats["expectancy"] == pytest.approx(230 / 7)
    assert stats["total_pnl"] == pytest.approx(sum(pnl))
    assert stats["average_win"] == pytest.approx(260 / 6)
    assert stats["average_loss"] == pytest.approx(-30.0)
    assert stats["largest_win"] == pytest.approx(100.0)
    assert stats["largest_loss"] == pytest.approx(-30.0)
    assert stats["longest_winning_streak"] == 3.0  # 40, 10, 100 and 5, 5, 100
    assert stats["longest_losing_streak"] == 1.0
    assert stats["average_holding_period"] == pytest.approx((2 + 2 + 3 + 4 + 3 + 2 + 4) / 7)
    assert stats["average_return"] == pytest.approx(
        np.mean([0.2, 0.1, 0.1, -0.1, 0.05, 5 / 55, 0.1])
    )


def test_streaks_count_consecutive_trips_and_a_flat_trip_ends_both() -> None:
    pnl = [1.0, 2.0, -1.0, -1.0, -1.0, 0.0, -4.0, 3.0, 4.0, 5.0, 6.0, -2.0, 0.0, 7.0]
    stats = trade_statistics(pd.DataFrame({"pnl": pnl}))
    assert stats["longest_winning_streak"] == 4.0
    assert stats["longest_losing_streak"] == 3.0
    assert stats["win_rate"] == pytest.approx(7 / 14)  # the two trips at 0 neither win nor lose
    assert stats["profit_factor"] == pytest.approx(28 / 9)


def test_trade_statistics_of_no_trips_and_of_no_losses() -> None:
    empty = trade_statistics(pd.DataFrame({"pnl": []}))
    assert empty["count"] == 0.0
    assert empty["longest_winning_streak"] == 0.0
    assert all(math.isnan(empty[key]) for key in ("win_rate", "profit_factor", "expectancy"))
    winners = trade_statistics(pd.DataFrame({"pnl": [Decimal("1.50"), Decimal("2.25")]}))
    assert winners["profit_factor"] == math.inf
    assert math.isnan(winners["average_loss"]) and math.isnan(winners["largest_loss"])
    assert winners["expectancy"] == pytest.approx(1.875)


def test_trade_statistics_by_asset_is_trade_statistics_of_each_assets_trips() -> None:
    trips = round_trip_table(hand_perf())
    by_asset = trade_statistics_by_asset(trips)
    assert by_asset.index.tolist() == ["B", "D", "A", "C", "E"]  # order of first trip
    assert list(by_asset.columns) == list(TRADE_STATISTICS)
    for asset in by_asset.index:
        expected = trade_statistics(trips[trips["asset"] == asset])
        assert by_asset.loc[asset].to_dict() == pytest.approx(expected, nan_ok=True)
    assert by_asset.loc["B", "win_rate"] == 0.5
    assert by_asset.loc["D", "count"] == 2.0


def test_trade_statistics_refuse_a_frame_without_pnl() -> None:
    with pytest.raises(ParameterValidationError, match="'pnl' column"):
        trade_statistics(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ParameterValidationError, match="'asset' column"):
        trade_statistics_by_asset(pd.DataFrame({"pnl": [1.0]}))


@st.composite
def runs(draw: st.DrawFn) -> pd.DataFrame:
    """A flat run of two assets: random fills at random marks, every fill at the session's mark."""
    days = draw(st.integers(2, 12))
    sessions = pd.date_range("2024-01-02 21:00", periods=days + 1, freq="D", tz="UTC")
    held: dict[str, list[tuple[int, float] | None]] = {}
    fills: list[tuple[int, str, float, float]] = []
    for sid in ("X", "Y"):
        amount, rows = 0, []
        for day in range(days + 1):
            mark = draw(st.integers(500, 1500)) / 10
            change = -amount if day == days else draw(st.integers(-20, 20))
            if change:
                fills.append((day, sid, change, mark))
            amount += change
            rows.append((amount, mark) if amount else None)
        held[sid] = rows
    fills.sort(key=lambda fill: fill[0])
    return perf_from(held, fills, [1000.0] * (days + 1), sessions)


@settings(max_examples=60, deadline=None)
@given(runs())
def test_excursions_bound_each_trips_return_and_trips_add_up_per_asset(perf: pd.DataFrame) -> None:
    trips = round_trip_table(perf)
    # Without commissions a trip's return is its excursion at the exit, inside [mae, mfe].
    assert (trips["mae"] <= 0).all() and (trips["mfe"] >= 0).all()
    assert (trips["mae"] <= trips["return"] + 1e-12).all()
    assert (trips["return"] <= trips["mfe"] + 1e-12).all()
    # A flat run: each asset's round trips realize all of its P&L.
    by_asset = trips.groupby("asset")["pnl"].sum()
    attributed = pnl_by_asset(perf)
    for asset, pnl in attributed.items():
        assert by_asset.get(asset, 0.0) == pytest.approx(pnl, abs=1e-9)


def ledger_export(
    fills: list[tuple[int, str, str, str, str]], commissions: list[tuple[str, str]]
) -> dict[str, pd.DataFrame]:
    """A ledger-export-like dict: Decimal fills ``(session, asset, amount, price, order)``
    and journaled commissions ``(order, paid)``."""
    return {
        "transactions": pd.DataFrame(
            {
                "dt": [SESSIONS[day] for day, *_ in fills],
                "asset": [asset for _, asset, *_ in fills],
                "amount": [Decimal(amount) for _, _, amount, _, _ in fills],
                "price": [Decimal(price) for *_, price, _ in fills],
                "commission": [None] * len(fills),
                "order_id": [order for *_, order in fills],
            }
        ),
        "cash_journal": pd.DataFrame(
            {
                "session": [None] * len(commissions),
                "kind": ["commission"] * len(commissions),
                "asset": [None] * len(commissions),
                "amount": [-Decimal(paid) for _, paid in commissions],
                "reference": [order for order, _ in commissions],
            }
        ),
    }


def split_perf() -> pd.DataFrame:
    """6 shares of E bought in two lots, split 3-for-2 at the open of session 2, sold."""
    return perf_from(
        {"E": [(3, 10.0), (6, 11.0), (9, 7.0), None]},
        [(0, "E", 3, 10.0), (1, "E", 3, 11.0), (3, "E", -9, 8.0)],
        [100.0] * 4,
        SESSIONS[:4],
    )


def test_a_ledgers_decimal_fills_and_journaled_commissions_across_a_split() -> None:
    ledger = ledger_export(
        [(0, "E", "3", "10.00", "o1"), (1, "E", "3", "11.00", "o2"), (3, "E", "-9", "8.00", "o3")],
        [("o1", "0.03"), ("o2", "0.03"), ("o3", "0.05"), ("o3", "0.04")],
    )
    trips = round_trip_table(split_perf(), ledger)
    assert trips["amount"].tolist() == [Decimal(9)]  # exactly: the last lot takes the rest
    assert isinstance(trips["pnl"].iloc[0], Decimal)
    # 9 * 8 - (30 + 33) less 0.15 of commissions.
    assert trips["pnl"].iloc[0].quantize(Decimal("0.01")) == Decimal("8.85")
    assert trips["commission"].iloc[0] == Decimal("0.15")
    # Marks in post-split units: 10 * 2/3, 11 * 2/3, 7, exit 8, on an entry of 63 / 9 = 7.
    assert trips["mae"].tolist() == pytest.approx([(20 / 3) / 7 - 1])  # -1/21
    assert trips["mfe"].tolist() == pytest.approx([8 / 7 - 1])  # the exit, above 22/3
    floats = round_trip_table(split_perf())
    assert floats["pnl"].tolist() == pytest.approx([9.0])  # no commissions in the frame


def test_round_trips_with_splits_reports_each_split_once() -> None:
    trips, splits = round_trips_with_splits(split_perf())
    assert trips["amount"].tolist() == [9.0]
    assert splits.values.tolist() == [[SESSIONS[2], "E", 1.5]]
    assert list(splits.columns) == list(SPLIT_COLUMNS)
    assert round_trips_with_splits([])[1].empty


def test_a_ledger_export_alone_gives_its_trips_with_their_commissions() -> None:
    ledger = ledger_export(
        [(0, "A", "4", "2.50", "o1"), (1, "A", "-4", "3.00", "o2")], [("o1", "0.40")]
    )
    trips = round_trips(ledger)
    assert trips["pnl"].tolist() == [Decimal("1.60")]
    assert trips["commission"].tolist() == [Decimal("0.40")]


def test_fill_table_lists_every_fill_with_its_session_and_commission() -> None:
    ledger = ledger_export(
        [(0, "A", "4", "2.50", "o1"), (0, "A", "6", "2.50", "o1")], [("o1", "1.00")]
    )
    table = fill_table(hand_perf().iloc[:1], ledger)
    assert list(table.columns) == list(FILL_COLUMNS)
    assert table["session"].tolist() == [SESSIONS[0]] * 2
    assert table["commission"].tolist() == [Decimal("0.40"), Decimal("0.60")]
    assert len(fill_table(hand_perf())) == 12


def test_a_ledger_goes_with_a_performance_frame_of_the_same_run() -> None:
    late = ledger_export([(4, "A", "1", "1.00", "o1")], [])
    with pytest.raises(ParameterValidationError, match="after the performance frame's last"):
        round_trips(hand_perf().iloc[:2], late)
    with pytest.raises(ParameterValidationError, match="only beside a performance frame"):
        round_trips([], late)


def test_a_ten_year_run_with_50000_fills_is_analysed_in_seconds() -> None:
    perf = synthetic_perf()
    assert sum(map(len, perf["transactions"])) == 50_000
    started = time.process_time()
    trips = round_trip_table(perf)
    trade_statistics(trips)
    trade_statistics_by_asset(trips)
    for analysis in (exposures, turnover, concentration, top_positions, pnl_by_asset):
        analysis(perf)
    long_short_contribution(perf)
    elapsed = time.process_time() - started
    # About 1.5 s of CPU on the development machine; the bound leaves room for slower ones.
    assert elapsed < 6.0, f"{elapsed:.2f} s"
    assert len(trips) > 20_000
