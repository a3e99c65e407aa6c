"""The Decimal ledger against hand-computed numbers and the ``_bundle_kit`` bundle.

Bundle facts used here (see ``tests/unit/data/_bundle_kit.py``): AAA (sid 1)
closes 100 + i before session 8 and 50 + i from it, after a 2:1 split
(ratio 0.5) effective session 8; BBB (sid 2) closes 41 + i, has no bar on
session 5 and pays a 1.00 dividend, ex session 10, paid session 12; CCC
(sid 3) lives sessions 4..12, auto-closes on 13; DDD (sid 4) never trades.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rustybt.assets import Asset
from rustybt.assets.asset_types import exchange_info_for
from rustybt.data.portal import DataPortal
from rustybt.finance.ledger import Ledger
from rustybt.finance.ledger.position import Position, split_quantity
from rustybt.finance.orders.transaction import Transaction
from rustybt.finance.precision import AssetClassPrecision
from tests.unit.data._bundle_kit import Bundle

D = Decimal


def fill(
    asset: Asset, amount: int | str, price: str, dt: Any = None, oid: str = "o"
) -> Transaction:
    return Transaction(asset, D(amount), dt, D(price), oid)


def commission(ledger: Ledger, asset: Asset, cost: str) -> None:
    ledger.process_commission({"asset": asset, "order": None, "cost": D(cost)})


def new_ledger(bundle: Bundle, capital: int | str = 10_000) -> Ledger:
    return Ledger(bundle.sessions, D(capital), "daily")


# --- fills, commissions, cost basis ------------------------------------------------------


def test_buys_and_sells_move_cash_and_cost_basis(bundle: Bundle) -> None:
    aaa = bundle.asset(1)
    ledger = new_ledger(bundle)
    ledger.start_of_session(bundle.sessions[0])

    ledger.process_transaction(fill(aaa, 100, "10.015"))
    assert ledger.cash == D("8998.50")  # 1001.50 paid
    commission(ledger, aaa, "1.00")
    assert ledger.cash == D("8997.50")
    assert ledger.positions[aaa].cost_basis == D("10.025")  # 10.015 + 1.00 / 100

    ledger.process_transaction(fill(aaa, 50, "11"))
    commission(ledger, aaa, "0.50")
    pos = ledger.positions[aaa]
    assert pos.amount == D(150)
    # (100 * 10.025 + 50 * 11) / 150 = 10.35, then + 0.50 / 150
    assert pos.cost_basis == D(1553) / D(150)
    assert ledger.cash == D("8447.00")

    # A partial close keeps the basis; its commission spreads over what is left.
    ledger.process_transaction(fill(aaa, -60, "12"))
    assert ledger.positions[aaa].cost_basis == D(1553) / D(150)
    commission(ledger, aaa, "0.60")
    assert ledger.positions[aaa].amount == D(90)
    assert ledger.positions[aaa].cost_basis == (D(1553) / D(150) * 90 + D("0.60")) / 90
    assert ledger.cash == D("9166.40")

    # Selling through zero: the short's basis is the fill price.
    ledger.process_transaction(fill(aaa, -190, "9.5"))
    assert ledger.positions[aaa].amount == D(-100)
    assert ledger.positions[aaa].cost_basis == D("9.5")
    assert ledger.cash == D("10971.40")

    ledger.process_transaction(fill(aaa, 100, "9"))
    assert aaa not in ledger.positions
    assert ledger.cash == D("10071.40")
    assert ledger.portfolio_value == D("10071.40")
    assert ledger.pnl == D("71.40")
    assert ledger.realized_pnl == D("71.40")
    assert ledger.unrealized_pnl == 0
    # capital_used: every flow except the starting capital
    assert ledger.cash_flow == D("71.40")
    assert len(ledger.transactions()) == 5


def test_trade_value_rounds_to_cents_half_even(bundle: Bundle) -> None:
    aaa = bundle.asset(1)
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(aaa, 3, "0.3335"))  # 1.0005 -> 1.00
    assert ledger.cash == D("9999.00")
    ledger.process_transaction(fill(aaa, 3, "0.3355"))  # 1.0065 -> 1.01
    assert ledger.cash == D("9997.99")
    assert ledger.positions[aaa].cost_basis == D("0.3345")


def test_short_commission_lowers_the_break_even(bundle: Bundle) -> None:
    bbb = bundle.asset(2)
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(bbb, -100, "20"))
    commission(ledger, bbb, "1.00")
    assert ledger.positions[bbb].cost_basis == D("19.99")
    assert ledger.cash == D("11999.00")


def test_commission_after_full_close_only_costs_cash(bundle: Bundle) -> None:
    aaa = bundle.asset(1)
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(aaa, 10, "10"))
    ledger.process_transaction(fill(aaa, -10, "11"))
    commission(ledger, aaa, "2.00")
    assert ledger.positions == {}
    assert ledger.cash == D("10008.00")


def test_last_sale_price_follows_newer_fills_only(bundle: Bundle) -> None:
    aaa = bundle.asset(1)
    ledger = new_ledger(bundle)
    t0, t1 = bundle.session_close(0), bundle.session_close(1)
    ledger.process_transaction(fill(aaa, 10, "10", t1))
    ledger.process_transaction(fill(aaa, 10, "12", t0))  # older: no new mark
    pos = ledger.positions[aaa]
    assert (pos.last_sale_price, pos.last_sale_date) == (D(10), t1)
    assert pos.cost_basis == D(11)


# --- splits --------------------------------------------------------------------------------


def test_two_for_one_split_from_the_bundle(bundle: Bundle, portal: DataPortal) -> None:
    aaa = bundle.asset(1)
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(aaa, 101, "107", bundle.session_close(7)))
    value_before = ledger.portfolio_value
    splits = portal.get_splits([aaa], bundle.sessions[8])
    assert splits == [(aaa, 0.5)]
    ledger.process_splits(splits)
    pos = ledger.positions[aaa]
    assert (pos.amount, pos.cost_basis, pos.last_sale_price) == (D(202), D("53.50"), D("53.5"))
    assert ledger.cash == D(10_000) - D(101 * 107)  # no fraction, no cash
    assert ledger.portfolio_value == value_before


def test_one_for_two_reverse_split_pays_the_half_share(bundle: Bundle) -> None:
    aaa = bundle.asset(1)
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(aaa, 101, "10.03"))  # cash 10000 - 1013.03
    ledger.process_splits([(aaa, 2.0)])
    pos = ledger.positions[aaa]
    assert (pos.amount, pos.cost_basis, pos.last_sale_price) == (D(50), D("20.06"), D("20.06"))
    # 0.5 share at 20.06 = 10.03
    assert ledger.cash == D("8986.97") + D("10.03")
    assert ledger.export()["cash_journal"]["kind"].tolist() == ["transaction", "split_cash"]


def test_one_for_three_reverse_split_rounds_the_fraction_to_cents(bundle: Bundle) -> None:
    aaa = bundle.asset(1)
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(aaa, 100, "10"))
    ledger.process_splits([(aaa, 3.0)])
    pos = ledger.positions[aaa]
    assert (pos.amount, pos.cost_basis, pos.last_sale_price) == (D(33), D("30.00"), D(30))
    # 1/3 share at 30.00 = 9.999... -> 10.00
    assert ledger.cash == D("9010.00")
    assert ledger.portfolio_value == D("10000.00")


def test_three_for_one_split_with_an_inexact_float_ratio(bundle: Bundle) -> None:
    aaa = bundle.asset(1)
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(aaa, 100, "30"))
    ledger.process_splits([(aaa, 1 / 3)])
    pos = ledger.positions[aaa]
    assert pos.amount == D(300)  # not 299 from 299.99999999999997
    assert pos.cost_basis == D("10.00")
    assert ledger.cash == D(7000)


def test_short_reverse_split_pays_for_its_fraction(bundle: Bundle) -> None:
    bbb = bundle.asset(2)
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(bbb, -101, "5"))  # cash 10505
    ledger.process_splits([(bbb, 2.0)])
    assert ledger.positions[bbb].amount == D(-50)
    assert ledger.cash == D("10500.00")  # -0.5 share at 10 = -5.00
    assert ledger.portfolio_value == D("10000.00")


def test_split_to_less_than_one_share_closes_the_position(bundle: Bundle) -> None:
    aaa = bundle.asset(1)
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(aaa, 2, "10"))
    ledger.process_splits([(aaa, 3.0)])
    assert aaa not in ledger.positions
    assert ledger.cash == D("10000.00")  # 2/3 share at 30 = 20.00


def test_split_quantity_snaps_float_noise() -> None:
    shares = AssetClassPrecision(cash_places=2, quantity_places=0)
    assert split_quantity(D(100), D(repr(0.30000000000000004)), shares) == (
        D(333),
        D(100) / D(repr(0.30000000000000004)) - 333,
    )
    assert split_quantity(D(-7), D(2), shares) == (D(-3), D("-0.5"))


# --- dividends ------------------------------------------------------------------------------


def test_dividend_is_earned_on_ex_date_and_paid_on_pay_date(bundle: Bundle) -> None:
    bbb = bundle.asset(2)
    finder, reader, sessions = bundle.asset_finder, bundle.adjustment_reader, bundle.sessions
    ledger = new_ledger(bundle)
    for i in range(9, 14):
        ledger.start_of_session(sessions[i])
        ledger.process_dividends(sessions[i], finder, reader)
        if i == 9:
            ledger.process_transaction(fill(bbb, 150, "50", bundle.session_close(9)))
            assert ledger.cash == D(2500)
        if i == 10:  # earned, not paid
            assert ledger.cash == D(2500)
            unpaid = ledger.export()["unpaid_dividends"]
            assert unpaid["amount"].tolist() == [D("150.00")]
            assert unpaid["pay_date"].tolist() == [sessions[12]]
        if i == 11:  # selling after the ex-date keeps the claim
            ledger.process_transaction(fill(bbb, -150, "52", bundle.session_close(11)))
            assert ledger.cash == D(10300)
        if i == 12:
            assert ledger.cash == D("10450.00")
    assert ledger.export()["unpaid_dividends"].empty
    assert ledger.cash_flow == D("450.00")


def test_buying_on_the_ex_date_earns_nothing_and_shorts_pay(bundle: Bundle) -> None:
    bbb = bundle.asset(2)
    finder, reader, sessions = bundle.asset_finder, bundle.adjustment_reader, bundle.sessions
    long_late, short = new_ledger(bundle), new_ledger(bundle)
    short.process_transaction(fill(bbb, -30, "50", bundle.session_close(9)))
    for i in range(10, 13):
        for ledger in (long_late, short):
            ledger.start_of_session(sessions[i])
            ledger.process_dividends(sessions[i], finder, reader)
        if i == 10:
            long_late.process_transaction(fill(bbb, 100, "51", bundle.session_close(10)))
    assert long_late.cash == D(10_000 - 5100)
    assert short.cash == D(10_000 + 1500 - 30)


def test_stock_dividend_adds_units_on_the_pay_date(bundle: Bundle) -> None:
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    sessions = bundle.sessions
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(aaa, 103, "10"))
    # 0.25 BBB per AAA: 25.75 -> 25 units, at zero cost, as zipline
    ledger.position_tracker.earn_dividends([], [(aaa, bbb, 0.25, sessions[3])])
    ledger.process_dividends(sessions[2], bundle.asset_finder, None)
    assert bbb not in ledger.positions
    ledger.process_dividends(sessions[3], bundle.asset_finder, None)
    pos = ledger.positions[bbb]
    assert (pos.amount, pos.cost_basis) == (D(25), D(0))
    assert ledger.cash == D(10_000 - 1030)


class _Future(Asset):
    """A contract whose price changes settle in cash (zipline's Future accounting)."""

    __slots__ = ()
    asset_type: ClassVar[str] = "future"


def test_stats_of_equities_and_futures_together(bundle: Bundle) -> None:
    """A future among equities: its exposure counts with the multiplier, its value not."""
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    es = _Future(100, exchange_info_for("CME", "XNYS"), symbol="ES", multiplier=50.0)
    ledger = new_ledger(bundle, 100_000)
    t = bundle.session_close(0)
    ledger.process_transaction(fill(aaa, 10, "100", t))
    ledger.process_transaction(fill(bbb, -5, "41", t))
    tracker = ledger.position_tracker
    equities_only = tracker.stats
    assert (equities_only.long_value, equities_only.long_exposure) == (D(1000), D(1000))
    assert (equities_only.short_value, equities_only.short_exposure) == (D(-205), D(-205))
    ledger.process_transaction(fill(es, -2, "20", t))
    stats = tracker.stats
    assert (stats.long_value, stats.short_value) == (D(1000), D(-205))
    assert (stats.long_exposure, stats.short_exposure) == (D(1000), D(-205) - D(2000))
    assert (stats.longs_count, stats.shorts_count) == (1, 2)


def test_futures_settle_price_changes_in_cash() -> None:
    es = _Future(100, exchange_info_for("CME", "XNYS"), symbol="ES", multiplier=50.0)
    ledger = Ledger(pd.DatetimeIndex(["2024-01-02"]), D(10_000), "daily")
    ledger.process_transaction(fill(es, 2, "100", pd.Timestamp("2024-01-02 15:00", tz="UTC")))
    assert ledger.cash == D(10_000)  # no premium changes hands
    commission(ledger, es, "5")
    assert ledger.positions[es].cost_basis == D("100.05")  # 5 / 50 per contract, over 2
    stats = ledger.position_tracker.stats
    assert (stats.net_value, stats.net_exposure) == (D(0), D(10_000))
    assert ledger.portfolio_value == D(9995)
    assert ledger.account.gross_leverage == pytest.approx(10_000 / 9995)
    ledger.update_position(es, last_sale_price=101.0)
    assert ledger.cash == D(10_095)  # (101 - 100) x 50 x 2
    assert ledger.positions[es].unrealized_pnl == D(2 * 50) * (D(101) - D("100.05"))
    ledger.process_transaction(fill(es, -2, "102", pd.Timestamp("2024-01-02 16:00", tz="UTC")))
    assert es not in ledger.positions
    assert ledger.cash == ledger.portfolio_value == D(10_195)
    kinds = ledger.export()["cash_journal"]["kind"].tolist()
    assert kinds == ["commission", "futures_settlement", "futures_settlement"]


def test_cash_journal_lines_in_order_with_their_sessions(bundle: Bundle) -> None:
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    ledger = new_ledger(bundle)
    day0, day1 = bundle.sessions[0], bundle.sessions[1]
    ledger.start_of_session(day0)
    ledger.process_transaction(fill(aaa, 10, "100.005", bundle.session_close(0), "o1"))
    commission(ledger, aaa, "1.25")
    ledger.process_transaction(fill(bbb, -3, "41.5", bundle.session_close(0), "o2"))
    ledger.start_of_session(day1)
    ledger.process_transaction(fill(aaa, -4, "101", bundle.session_close(1), "o3"))
    journal = ledger.export()["cash_journal"]
    assert journal["kind"].tolist() == ["transaction", "commission", "transaction", "transaction"]
    assert journal["session"].tolist() == [day0, day0, day0, day1]
    # A fill's line is its trade value rounded to cents (half even), sign of cash.
    assert journal["amount"].tolist() == [D("-1000.05"), D("-1.25"), D("124.50"), D("404.00")]
    assert journal["reference"].tolist() == ["o1", None, "o2", "o3"]
    assert D(10_000) + sum(journal["amount"], D(0)) == ledger.cash


# --- marks, returns, leverage ---------------------------------------------------------------


def test_returns_and_pnl_per_session(bundle: Bundle, portal: DataPortal) -> None:
    aaa = bundle.asset(1)
    ledger = new_ledger(bundle)
    sessions = bundle.sessions
    values = []
    for i in range(3):
        ledger.start_of_session(sessions[i])
        if i == 0:
            ledger.process_transaction(fill(aaa, 10, "100", bundle.session_close(0)))
            commission(ledger, aaa, "1")
        ledger.sync_last_sale_prices(bundle.session_close(i), portal)
        ledger.end_of_session(i)
        values.append(ledger.portfolio_value)
    # closes 100, 101, 102
    assert values == [D(9999), D(10009), D(10019)]
    assert ledger.pnl == D(19)
    assert ledger.returns == D(10019) / D(10_000) - 1
    expected = [float(D(a) / D(b) - 1) for a, b in [(9999, 10_000), (10009, 9999), (10019, 10009)]]
    np.testing.assert_allclose(ledger.daily_returns_array[:3], expected, rtol=1e-14)
    assert np.isnan(ledger.daily_returns_array[3:]).all()
    assert ledger.unrealized_pnl == D(10) * (D(102) - D("100.1"))
    assert ledger.realized_pnl == D(0)
    assert ledger.portfolio.returns == float(ledger.returns)


def test_mark_keeps_the_previous_price_when_the_portal_has_none(
    bundle: Bundle, portal: DataPortal
) -> None:
    ddd = bundle.asset(4)  # never traded: price NaN
    aaa = bundle.asset(1)
    ledger = new_ledger(bundle)
    t = bundle.session_close(2)
    ledger.process_transaction(fill(ddd, 10, "5", bundle.session_close(1)))
    ledger.process_transaction(fill(aaa, 1, "90", bundle.session_close(1)))
    ledger.sync_last_sale_prices(t, portal)
    assert ledger.positions[ddd].last_sale_price == D(5)
    assert ledger.positions[ddd].last_sale_date == bundle.session_close(1)
    assert (ledger.positions[aaa].last_sale_price, ledger.positions[aaa].last_sale_date) == (
        D(102),
        t,
    )


def test_leverage_and_account(bundle: Bundle, portal: DataPortal) -> None:
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(aaa, 10, "100", bundle.session_close(0)))
    ledger.process_transaction(fill(bbb, -5, "41", bundle.session_close(0)))
    ledger.sync_last_sale_prices(bundle.session_close(0), portal)
    stats = ledger.position_tracker.stats
    assert (stats.long_exposure, stats.short_exposure) == (D(1000), D(-205))
    assert (stats.longs_count, stats.shorts_count) == (1, 1)
    assert ledger.cash == D(9205)
    assert ledger.portfolio_value == D(10_000)
    account = ledger.account
    assert account.gross_leverage == account.leverage == pytest.approx(0.1205, abs=1e-15)
    assert account.net_leverage == pytest.approx(0.0795, abs=1e-15)
    assert account.net_liquidation == 10_000.0
    assert account.settled_cash == 9205.0
    assert account.total_positions_value == 795.0
    assert account.buying_power == math.inf
    ledger.override_account_fields(buying_power=5000.0)
    assert ledger.account.buying_power == 5000.0
    # Replaced overrides: the field no longer overridden shows its default again.
    ledger.override_account_fields(regt_margin=1.0)
    assert (ledger.account.buying_power, ledger.account.regt_margin) == (math.inf, 1.0)
    assert ledger.account.settled_cash == 9205.0


def test_zero_value_means_infinite_leverage(bundle: Bundle) -> None:
    ledger = new_ledger(bundle, 0)
    assert ledger.calculate_period_stats() == (0.0, math.inf, math.inf)
    assert ledger.account.leverage == math.inf
    assert math.isnan(ledger.account.cushion)


def test_close_position_at_auto_close_uses_last_price_when_none(
    bundle: Bundle, portal: DataPortal
) -> None:
    ccc = bundle.asset(3)
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(ccc, 40, "26", bundle.session_close(6)))
    ledger.sync_last_sale_prices(bundle.session_close(12), portal)  # 32
    ledger.close_position(ccc, bundle.session_close(13), portal)  # no price after its end
    assert ccc not in ledger.positions
    assert ledger.cash == D(10_000 - 40 * 26 + 40 * 32)
    last = ledger.transactions()[-1]
    assert (last["amount"], last["price"], last["order_id"]) == (-40, 32.0, None)
    ledger.close_position(ccc, bundle.session_close(13), portal)  # nothing left: no-op
    assert len(ledger.transactions()) == 2


def test_capital_change_leaves_pnl_and_returns(bundle: Bundle, portal: DataPortal) -> None:
    aaa = bundle.asset(1)
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(aaa, 10, "100", bundle.session_close(0)))
    ledger.sync_last_sale_prices(bundle.session_close(1), portal)  # +10
    ledger.capital_change(5000)
    assert (ledger.cash, ledger.portfolio_value, ledger.pnl) == (D(14000), D(15010), D(10))
    assert ledger.returns == D(10010) / D(10_000) - 1
    ledger.sync_last_sale_prices(bundle.session_close(2), portal)  # +10 more
    assert ledger.pnl == D(20)
    assert ledger.returns == (D(10010) / D(10_000)) * (D(15020) / D(15010)) - 1
    assert ledger.cash_flow == D(-1000)


def test_orders_and_transactions_reset_each_session(bundle: Bundle) -> None:
    from rustybt.finance.orders.order import Order

    aaa = bundle.asset(1)
    ledger = new_ledger(bundle)
    t0 = bundle.session_close(0)
    ledger.start_of_session(bundle.sessions[0])
    order = Order(dt=t0, asset=aaa, amount=10)
    ledger.process_order(order)
    ledger.process_transaction(Transaction(aaa, D(10), t0, D(100), order.id))
    ledger.process_order(order)
    assert [o["id"] for o in ledger.orders()] == [order.id]
    assert [o["id"] for o in ledger.orders(t0)] == [order.id]
    assert ledger.transactions(t0)[0]["amount"] == 10
    ledger.start_of_session(bundle.sessions[1])
    assert ledger.orders() == [] and ledger.transactions() == []
    assert len(ledger.export()["transactions"]) == 1


def test_export_is_exact_decimal(bundle: Bundle, portal: DataPortal) -> None:
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    ledger = new_ledger(bundle)
    ledger.process_transaction(fill(aaa, 7, "100.01", bundle.session_close(0)))
    commission(ledger, aaa, "0.35")
    ledger.process_transaction(fill(bbb, -3, "41.5", bundle.session_close(0)))
    ledger.sync_last_sale_prices(bundle.session_close(0), portal)
    out = ledger.export()
    positions = out["positions"]
    assert positions.index.tolist() == [1, 2]
    assert positions["amount"].dtype == object
    assert positions.loc[1, "cost_basis"] == D("100.06")
    assert positions.loc[2, "last_sale_price"] == D(41)
    txns = out["transactions"]
    assert txns["price"].tolist() == [D("100.01"), D("41.5")]
    assert all(isinstance(x, Decimal) for x in txns["amount"])
    journal = out["cash_journal"]
    assert out["capital_base"] + sum(journal["amount"], D(0)) == out["cash"]
    assert out["cash"] == D("9424.08")
    assert out["portfolio_value"] == out["cash"] + D(7 * 100) - D(3 * 41)


# --- the invariant -------------------------------------------------------------------------

_PRICES = st.decimals(min_value=D("0.01"), max_value=D("500"), places=4)
_OPS = st.one_of(
    st.tuples(st.just("trade"), st.sampled_from([1, 2, 3]), st.integers(-60, 60), _PRICES),
    st.tuples(st.just("commission"), st.sampled_from([1, 2, 3]), st.integers(0, 500)),
    st.tuples(
        st.just("split"), st.sampled_from([1, 2, 3]), st.sampled_from([0.5, 2.0, 3.0, 1 / 3, 1.5])
    ),
    st.tuples(
        st.just("dividend"), st.sampled_from([1, 2, 3]), st.decimals(D("0.01"), D("3"), places=3)
    ),
    st.tuples(st.just("mark"), st.integers(4, 12)),
    st.tuples(st.just("end_session")),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(_OPS, min_size=1, max_size=40))
def test_portfolio_value_is_cash_plus_positions_exactly(
    bundle: Bundle, portal: DataPortal, ops: list[tuple[Any, ...]]
) -> None:
    assets = {s: bundle.asset(s) for s in (1, 2, 3)}
    sessions = bundle.sessions
    capital = D("25000")
    ledger = Ledger(sessions, capital, "daily")
    session = 4
    ledger.start_of_session(sessions[session])

    def check() -> None:
        positions = ledger.export()["positions"]
        held = sum(
            (a * p for a, p in zip(positions["amount"], positions["last_sale_price"], strict=True)),
            D(0),
        )
        assert ledger.portfolio_value == ledger.cash + held
        journal = ledger.export()["cash_journal"]["amount"]
        assert ledger.cash == capital + sum(journal, D(0))
        assert ledger.pnl == ledger.portfolio_value - capital
        # realized is pnl - unrealized, but unrealized uses cost bases of up to
        # 28 digits, so adding it back may round in the last digit.
        split = ledger.realized_pnl + ledger.unrealized_pnl
        assert abs(ledger.pnl - split) <= abs(ledger.unrealized_pnl).scaleb(-25) + D("1e-25")
        assert ledger.returns == ledger.portfolio_value / capital - 1
        assert ledger.portfolio.portfolio_value == float(ledger.portfolio_value)
        assert all(x != 0 for x in positions["amount"])
        for amount in positions["amount"]:
            assert amount == amount.to_integral_value()

    dt = bundle.session_close(session)
    for op in ops:
        kind = op[0]
        if kind == "trade" and op[2] != 0:
            ledger.process_transaction(fill(assets[op[1]], op[2], str(op[3]), dt))
        elif kind == "commission":
            commission(ledger, assets[op[1]], str(D(op[2]) / 100))
        elif kind == "split":
            ledger.process_splits([(assets[op[1]], op[2])])
        elif kind == "dividend" and assets[op[1]] in ledger.positions:
            ledger.position_tracker.earn_dividends([(assets[op[1]], op[2], sessions[session])])
            ledger.process_dividends(sessions[session], bundle.asset_finder, None)
        elif kind == "mark":
            dt = bundle.session_close(op[1])
            ledger.sync_last_sale_prices(dt, portal)
        elif kind == "end_session":
            ledger.end_of_session(session - 4)
            check()
            session = min(session + 1, 12)
            ledger.start_of_session(sessions[session])
    ledger.end_of_session(session - 4)
    check()


def test_position_repr_and_dict() -> None:
    p = Position(None, D(3), D("1.5"), D("2"))
    assert p.to_dict() == {"sid": None, "amount": 3, "cost_basis": 1.5, "last_sale_price": 2.0}
    assert "amount=3" in repr(p)


_FILLS = st.lists(
    st.tuples(st.sampled_from([1, 2, 3]), st.integers(-60, 60).filter(bool), _PRICES),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fills=_FILLS)
def test_a_bar_of_fills_books_as_one_fill_at_a_time(
    bundle: Bundle, fills: list[tuple[int, int, Decimal]]
) -> None:
    """process_fills(transactions, orders) = process_transaction each, then process_order each."""
    from rustybt.finance.orders.order import Order

    sessions = bundle.sessions
    dt = bundle.session_close(1)
    assets = {sid: bundle.asset(sid) for sid in (1, 2, 3)}
    orders = [Order(dt=dt, asset=assets[sid], amount=amount) for sid, amount, _ in fills]
    txns = [
        Transaction(o.asset, o.amount, dt, price, o.id)
        for o, (_, _, price) in zip(orders, fills, strict=True)
    ]
    one, batch = (Ledger(sessions, D(100_000), "daily") for _ in range(2))
    for ledger in (one, batch):
        ledger.start_of_session(sessions[1])
    for txn, order in zip(txns, orders, strict=True):
        one.process_transaction(txn)
        one.process_order(order)
    batch.process_fills(txns, orders)
    a, b = one.export(), batch.export()
    assert a["cash"] == b["cash"] and a["portfolio_value"] == b["portfolio_value"]
    assert a["positions"].equals(b["positions"])
    assert a["cash_journal"].equals(b["cash_journal"])
    assert a["transactions"].equals(b["transactions"])
    assert one.orders(dt) == batch.orders(dt) and len(batch.orders(dt)) == len(orders)
    assert one.transactions(dt) == batch.transactions(dt)
