"""The position tracker against the real DataPortal of the ``_bundle_kit`` bundle."""

from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd

from rustybt.data.portal import DataPortal
from rustybt.finance.ledger import PositionTracker
from rustybt.finance.orders.transaction import Transaction
from rustybt.finance.precision import AssetClassPrecision, PrecisionConfig
from tests.unit.data._bundle_kit import Bundle

D = Decimal


def test_marks_every_position_from_the_portals_spot_row(bundle: Bundle, portal: DataPortal) -> None:
    aaa, bbb, ccc = bundle.asset(1), bundle.asset(2), bundle.asset(3)
    tracker = PositionTracker("daily")
    for asset in (aaa, bbb, ccc):
        tracker.execute_transaction(Transaction(asset, D(5), None, D(1), "o"))
    dt = bundle.session_close(6)
    tracker.sync_last_sale_prices(dt, portal)
    row, perspective = portal.resolve(dt, "daily")
    prices = portal.spot_row("price", row, "daily", perspective)
    for asset in (aaa, bbb, ccc):
        position = tracker.positions[asset]
        assert position.last_sale_price == D(repr(prices[portal.column(asset)]))
        assert position.last_sale_date == dt
    assert tracker.positions[aaa].last_sale_price == D(106)


def test_a_second_mark_at_a_bar_restores_what_a_fill_replaced(
    bundle: Bundle, portal: DataPortal
) -> None:
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    tracker = PositionTracker("daily")
    for asset in (aaa, bbb):
        tracker.execute_transaction(Transaction(asset, D(5), None, D(1), "o"))
    dt, later = bundle.session_close(6), bundle.session_close(6) + pd.Timedelta(minutes=1)
    tracker.sync_last_sale_prices(dt, portal)
    marked = tracker.positions[aaa].last_sale_price
    assert tracker.stats.long_value == 5 * marked + 5 * tracker.positions[bbb].last_sale_price
    # A fill at the same bar replaces the mark; marking the bar again restores it.
    fill_dt = dt + pd.Timedelta(seconds=30)
    tracker.execute_transaction(Transaction(aaa, D(1), fill_dt, D(500), "o"))
    assert tracker.positions[aaa].last_sale_price == D(500)
    tracker.sync_last_sale_prices(later, portal)
    assert tracker.positions[aaa].last_sale_price == marked
    assert tracker.positions[bbb].last_sale_date == later
    assert tracker.stats.long_value == 6 * marked + 5 * tracker.positions[bbb].last_sale_price
    # Marking the same prices again moves only the dates.
    last = later + pd.Timedelta(minutes=1)
    tracker.sync_last_sale_prices(last, portal)
    assert [p.last_sale_date for p in tracker.positions.values()] == [last, last]
    assert tracker.positions[aaa].last_sale_price == marked


def test_a_missing_price_keeps_the_previous_mark(bundle: Bundle, portal: DataPortal) -> None:
    ddd = bundle.asset(4)  # never trades: its column reads NaN
    tracker = PositionTracker("daily")
    tracker.execute_transaction(Transaction(ddd, D(5), None, D("7.5"), "o"))
    row, perspective = portal.resolve(bundle.session_close(3), "daily")
    assert math.isnan(portal.spot_row("price", row, "daily", perspective)[portal.column(ddd)])
    tracker.sync_last_sale_prices(bundle.session_close(3), portal)
    assert tracker.positions[ddd].last_sale_price == D("7.5")
    assert tracker.positions[ddd].last_sale_date is None


def test_marks_apply_the_configured_price_places(bundle: Bundle, portal: DataPortal) -> None:
    rounded = AssetClassPrecision(cash_places=2, quantity_places=0, price_places=0)
    tracker = PositionTracker("daily", PrecisionConfig(equity=rounded))
    bbb = bundle.asset(2)
    tracker.execute_transaction(Transaction(bbb, D(1), None, D(1), "o"))
    tracker.sync_last_sale_prices(bundle.session_close(1), portal)
    assert tracker.positions[bbb].last_sale_price == D(42)


def test_every_change_to_zero_closes_the_position(bundle: Bundle) -> None:
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    tracker = PositionTracker("daily")
    tracker.execute_transaction(Transaction(aaa, D(5), None, D(10), "o"))
    tracker.execute_transaction(Transaction(aaa, D(-5), None, D(11), "o"))
    assert aaa not in tracker.positions
    tracker.update_position(bbb, last_sale_price=12.0)  # a price alone opens nothing
    assert bbb not in tracker.positions
    tracker.update_position(bbb, amount=3, cost_basis=9.5)
    assert tracker.positions[bbb].amount == D(3)
    tracker.update_position(bbb, amount=0.4)  # rounds toward zero to no shares
    assert bbb not in tracker.positions
    assert tracker.get_position_list() == [] and len(tracker.get_positions()) == 0
