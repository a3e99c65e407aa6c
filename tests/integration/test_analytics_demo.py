"""Trades and exposure of real demo backtests, checked against the run's own ledger and frame."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rustybt import run_algorithm
from rustybt.analytics.exposure import (
    exposures,
    long_short_contribution,
    pnl_by_asset,
    positions_panel,
    turnover,
)
from rustybt.analytics.trades import round_trip_table, trade_statistics, trade_statistics_by_asset

CAPITAL = 100_000
CENT = Decimal("0.01")

# Four demo stocks cycled long, short and small long over 2016, flat from mid-December.
# No slippage and a commission of a cent a share: every fill's cash and commission are
# whole cents, so the run's float and Decimal books agree to the cent.
CYCLE = """
import pandas as pd
from rustybt.api import get_datetime, order_target_percent, set_commission, set_slippage, symbol
from rustybt.finance import commission, slippage


def initialize(context):
    context.assets = [symbol(s) for s in ("AAPL", "MSFT", "AMZN", "TSLA")]
    context.session = 0
    set_slippage(slippage.FixedSlippage(spread=0))
    set_commission(commission.PerShare(cost=0.01, min_trade_cost=0))


def handle_data(context, data):
    context.session += 1
    today = get_datetime().tz_convert(None).normalize()
    for k, asset in enumerate(context.assets):
        if today >= pd.Timestamp("2016-12-20"):
            order_target_percent(asset, 0.0)
            continue
        phase = (context.session // (5 + 2 * k)) % 3
        order_target_percent(asset, (0.25, -0.15, 0.05)[phase])
"""


def run(script: str, start: str, end: str, tmp_path: Path) -> tuple[pd.DataFrame, Any]:
    path = tmp_path / "algorithm.py"
    path.write_text(script)
    perf, algorithm = run_algorithm(
        start,
        end,
        capital_base=CAPITAL,
        bundle="demo",
        script=script,
        algo_filename=str(path),
        return_algorithm=True,
    )
    return perf, algorithm


@pytest.fixture
def cycle(demo: Path, tmp_path: Path) -> tuple[pd.DataFrame, Any]:
    return run(CYCLE, "2016-01-04", "2016-12-30", tmp_path)


def journaled(ledger: dict[str, Any], *kinds: str) -> Decimal:
    journal = ledger["cash_journal"]
    return sum(journal[journal["kind"].isin(kinds)]["amount"], Decimal(0))


def test_round_trips_of_a_flat_run_sum_to_the_ledgers_realized_pnl(
    cycle: tuple[pd.DataFrame, Any],
) -> None:
    perf, algorithm = cycle
    ledger = algorithm.ledger.export()
    assert perf["positions"].iloc[-1] == []  # flat: every P&L is realized
    trips = round_trip_table(perf, ledger)
    assert len(trips) > 100
    assert set(trips["side"]) == {"long", "short"}
    assert all(isinstance(pnl, Decimal) for pnl in trips["pnl"])
    # Realized P&L is the closed trades plus the cash no trade made (dividends; shorts pay them).
    income = journaled(ledger, "dividend", "split_cash")
    assert income != 0
    realized = algorithm.ledger.realized_pnl
    assert sum(trips["pnl"], Decimal(0)).quantize(CENT) == realized - income
    # The commissions charged to the trips are the ones the ledger journaled.
    assert sum(trips["commission"], Decimal(0)).quantize(CENT) == -journaled(ledger, "commission")
    # From the frame alone (float fills, the orders' commissions): the same trips.
    floats = round_trip_table(perf)
    assert len(floats) == len(trips)
    assert floats["pnl"].sum() == pytest.approx(float(realized - income), abs=1e-6)
    pd.testing.assert_frame_equal(
        floats[["holding_period", "mae", "mfe"]], trips[["holding_period", "mae", "mfe"]]
    )


def test_trips_are_coherent_and_their_statistics_add_up(cycle: tuple[pd.DataFrame, Any]) -> None:
    perf, algorithm = cycle
    trips = round_trip_table(perf, algorithm.ledger.export())
    assert (trips["holding_period"] >= 0).all()
    assert (trips["mae"] <= 0).all() and (trips["mfe"] >= 0).all()
    # Excursions are gross of commissions: the return before commission lies inside them.
    side = np.where(trips["side"] == "long", 1.0, -1.0)
    gross = side * (trips["exit_price"].astype(float) / trips["entry_price"].astype(float) - 1)
    assert (trips["mae"] <= gross + 1e-12).all() and (gross <= trips["mfe"] + 1e-12).all()
    stats = trade_statistics(trips)
    pnl = trips["pnl"].astype(float)
    assert stats["count"] == len(trips)
    assert stats["win_rate"] == pytest.approx((pnl > 0).mean())
    assert stats["expectancy"] == pytest.approx(pnl.mean())
    assert stats["profit_factor"] == pytest.approx(pnl[pnl > 0].sum() / -pnl[pnl < 0].sum())
    by_asset = trade_statistics_by_asset(trips)
    assert by_asset["count"].sum() == len(trips)
    # A flat run: each asset's round trips realize exactly what the asset earned.
    attributed = pnl_by_asset(perf)
    assert by_asset["total_pnl"].to_dict() == pytest.approx(attributed.to_dict(), abs=1e-6)


def test_exposures_are_the_frames_leverage_every_session(cycle: tuple[pd.DataFrame, Any]) -> None:
    perf, _ = cycle
    frame = exposures(perf)
    assert frame["gross"].max() > 0.4
    np.testing.assert_allclose(frame["gross"], perf["gross_leverage"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(frame["net"], perf["net_leverage"], rtol=0, atol=1e-9)
    value = perf["portfolio_value"]
    np.testing.assert_allclose(frame["long"] * value, perf["long_exposure"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(frame["short"] * value, perf["short_exposure"], rtol=0, atol=1e-6)


def test_pnl_by_asset_sums_to_the_runs_pnl(cycle: tuple[pd.DataFrame, Any]) -> None:
    perf, algorithm = cycle
    ledger = algorithm.ledger.export()
    total = perf["portfolio_value"].iloc[-1] - CAPITAL
    assert pnl_by_asset(perf, ledger).sum() == pytest.approx(total, abs=1e-6)
    assert float(ledger["pnl"]) == pytest.approx(total, abs=1e-6)
    # Without the ledger the dividends are not attributed, and nothing else is missing.
    income = float(journaled(ledger, "dividend", "split_cash"))
    assert pnl_by_asset(perf).sum() == pytest.approx(total - income, abs=1e-6)
    contribution = long_short_contribution(perf)
    assert contribution["long"].abs().sum() > 0 and contribution["short"].abs().sum() > 0
    assert contribution.to_numpy().sum() == pytest.approx(total - income, abs=1e-6)


def test_turnover_is_the_cash_the_ledger_moved_for_fills(cycle: tuple[pd.DataFrame, Any]) -> None:
    perf, algorithm = cycle
    journal = algorithm.ledger.export()["cash_journal"]
    fills = journal[journal["kind"] == "transaction"]
    traded = fills.groupby("session")["amount"].apply(lambda cash: sum(map(abs, cash)))
    sessions = perf.index.tz_convert(None).normalize()
    expected = traded.reindex(sessions, fill_value=Decimal(0)).astype(float).to_numpy()
    measured = (turnover(perf) * perf["portfolio_value"]).to_numpy()
    np.testing.assert_allclose(measured, expected, rtol=0, atol=1e-6)


SPLIT = """
import pandas as pd
from rustybt.api import get_datetime, order_target, set_slippage, symbol
from rustybt.finance import slippage


def initialize(context):
    set_slippage(slippage.NoSlippage())


def handle_data(context, data):
    today = get_datetime().tz_convert(None).normalize()
    if today < pd.Timestamp("2020-08-20"):
        order_target(symbol("TSLA"), 101)
    elif today >= pd.Timestamp("2020-09-10"):
        order_target(symbol("TSLA"), 0)
"""


def test_excursions_across_a_real_split_use_split_adjusted_marks(
    demo: Path, tmp_path: Path
) -> None:
    perf, algorithm = run(SPLIT, "2020-08-03", "2020-09-30", tmp_path)
    trips = round_trip_table(perf, algorithm.ledger.export())
    assert trips["amount"].tolist() == [Decimal(505)]  # 101 shares split 5-for-1 on 2020-08-31
    trip = trips.iloc[0]
    held = positions_panel(perf)
    tsla = held.amounts.columns[0]
    opened = perf.index.searchsorted(trip["open_dt"])
    closed = perf.index.searchsorted(trip["close_dt"])
    # Marks before the split are of one fifth as many shares: five times the price.
    marks = held.prices[tsla].iloc[opened:closed]
    marks = marks.where(marks.index >= pd.Timestamp("2020-08-31", tz="UTC"), marks / 5)
    prices = np.append(marks.to_numpy(), float(trip["exit_price"]))
    entry = float(trip["entry_price"])
    assert trip["mae"] == pytest.approx(min(0.0, prices.min() / entry - 1))
    assert trip["mfe"] == pytest.approx(max(0.0, prices.max() / entry - 1))
    assert 0.3 < trip["mfe"] < 1.0  # TSLA ran up; its unadjusted marks would say over 400%
    assert trip["holding_period"] == closed - opened
