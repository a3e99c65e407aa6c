"""The marking plan against the real DataPortal of the ``_bundle_kit`` bundle."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

import pandas as pd

from rustybt.assets import Asset
from rustybt.assets.asset_types import exchange_info_for
from rustybt.data.portal import DataPortal
from rustybt.finance.ledger import PositionTracker
from rustybt.finance.ledger.marking import MarkingPlan
from rustybt.finance.ledger.position import Position
from rustybt.finance.orders.transaction import Transaction
from rustybt.finance.precision import DEFAULT_PRECISION, AssetClassPrecision, PrecisionConfig
from tests.unit.data._bundle_kit import Bundle

D = Decimal


class _Crypto(Asset):
    """Another asset class over a bundle column (the portal finds columns by sid)."""

    __slots__ = ()
    asset_type: ClassVar[str] = "crypto"


def bar(portal: DataPortal, bundle: Bundle, i: int) -> tuple[pd.Timestamp, int, str, int]:
    """What a plan marks from at session ``i``'s close: ``(dt, row, frequency, perspective)``."""
    dt = bundle.session_close(i)
    row, perspective = portal.resolve(dt, "daily")
    return dt, row, "daily", perspective


def test_marks_the_positions_it_holds_and_only_those(bundle: Bundle, portal: DataPortal) -> None:
    aaa, bbb, ccc = (Position(bundle.asset(sid), D(1)) for sid in (1, 2, 3))
    plan = MarkingPlan(portal, DEFAULT_PRECISION, [aaa, bbb])
    plan.add(ccc)
    plan.remove(bbb)
    at = bar(portal, bundle, 6)
    assert plan.mark(*at)
    assert (aaa.last_sale_price, ccc.last_sale_price) == (D(106), D(26))
    assert bbb.last_sale_price == 0 and bbb.last_sale_date is None
    # Back in the plan, marked again.
    plan.add(bbb)
    assert plan.mark(*at)
    assert bbb.last_sale_price == D(47) and bbb.last_sale_date == at[0]


def test_each_asset_class_marks_by_its_own_price_rules(bundle: Bundle, portal: DataPortal) -> None:
    tenth = AssetClassPrecision(8, 8, price_places=-1, rounding=ROUND_HALF_UP)
    precision = PrecisionConfig(crypto=tenth)
    equity = Position(bundle.asset(1), D(1))
    crypto = Position(_Crypto(2, exchange_info_for("NYSE")), D(1))
    plan = MarkingPlan(portal, precision, [crypto, equity])
    plan.mark(*bar(portal, bundle, 6))
    assert equity.last_sale_price == D(106)
    assert crypto.last_sale_price == D("5E+1")  # 47 to tens


def test_a_nan_price_keeps_its_mark_beside_priced_ones(bundle: Bundle, portal: DataPortal) -> None:
    ddd = Position(bundle.asset(4), D(1), last_sale_price=D("7.5"))  # never trades
    aaa = Position(bundle.asset(1), D(1))
    plan = MarkingPlan(portal, DEFAULT_PRECISION, [ddd, aaa])
    dt, row, frequency, perspective = bar(portal, bundle, 3)
    assert plan.mark(dt, row, frequency, perspective)
    assert (ddd.last_sale_price, ddd.last_sale_date) == (D("7.5"), None)
    assert (aaa.last_sale_price, aaa.last_sale_date) == (D(103), dt)
    # Marked again, the position without a price keeps its date too.
    later = dt + pd.Timedelta(minutes=1)
    assert plan.mark(later, row, frequency, perspective)
    assert (ddd.last_sale_date, aaa.last_sale_date) == (None, later)


def test_a_repeated_mark_moves_only_dates_until_a_mark_is_replaced(
    bundle: Bundle, portal: DataPortal
) -> None:
    aaa = Position(bundle.asset(1), D(1))
    plan = MarkingPlan(portal, DEFAULT_PRECISION, [aaa])
    dt, row, frequency, perspective = bar(portal, bundle, 6)
    assert plan.mark(dt, row, frequency, perspective)
    marked = aaa.last_sale_price
    later = dt + pd.Timedelta(minutes=1)
    assert not plan.mark(later, row, frequency, perspective)
    assert aaa.last_sale_price is marked and aaa.last_sale_date == later
    aaa.last_sale_price = D("106.0")  # equal, but not the mark (a fill's price)
    assert plan.mark(later, row, frequency, perspective)
    assert aaa.last_sale_price == D(106) and str(aaa.last_sale_price) == "106.0"


def test_the_tracker_keeps_its_plan_in_step_with_open_positions(
    bundle: Bundle, portal: DataPortal
) -> None:
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    tracker = PositionTracker("daily")
    tracker.execute_transaction(Transaction(aaa, D(5), None, D(1), "o"))
    dt = bar(portal, bundle, 6)[0]
    tracker.sync_last_sale_prices(dt, portal)
    # Opened after the first mark, closed, opened again: marked once each time held.
    for amount in (D(2), D(-2), D(3)):
        tracker.execute_transaction(Transaction(bbb, amount, None, D(1), "o"))
    tracker.execute_transaction(Transaction(aaa, D(-5), None, D(1), "o"))
    assert tracker.sync_last_sale_prices(dt, portal)
    assert list(tracker.positions) == [bbb]
    assert tracker.positions[bbb].last_sale_price == D(47)
    # Another portal: a plan of its own.
    other = bundle.portal()
    tracker.sync_last_sale_prices(bar(other, bundle, 7)[0], other)
    assert tracker.positions[bbb].last_sale_price == D(48)
