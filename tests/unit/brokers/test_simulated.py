"""SimulationBlotter on real BarData over tiny real bundles.

Main bundle (daily, 15 XNYS sessions 2024-01-02 .. 2024-01-23, index ``s``):

=== ===== ==========================================================================
sid sym   closes by session, volume
=== ===== ==========================================================================
1   MOV   100 102 104 103 101 99 98 100 105 110 108 104 100 96 95; volume 10000
2   THN   10.00 every session; volume 1000 (default slippage: 100 shares per bar)
=== ===== ==========================================================================

``Sim.bar(s)`` does what the loop does at the close of session ``s``: set the
time, get the transactions of orders placed earlier, prune closed orders.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rustybt.assets import Asset
from rustybt.brokers.simulated import SimulationBlotter
from rustybt.calendars import get_calendar
from rustybt.data.bar_data import BarData
from rustybt.exceptions import InvalidOrderError, OrderNotFoundError
from rustybt.finance.models.cancel_policy import EODCancel, NeverCancel
from rustybt.finance.models.commission import MakerTakerCommission, NoCommission, PerShare
from rustybt.finance.models.slippage import (
    FixedBasisPointsSlippage,
    NoSlippage,
    VolumeShareSlippage,
)
from rustybt.finance.orders.execution import (
    BracketOrder,
    LimitOrder,
    OCOOrder,
    StopLimitOrder,
    StopOrder,
    TrailingStopOrder,
)
from rustybt.finance.orders.order import Order, OrderStatus
from rustybt.finance.orders.transaction import Transaction
from rustybt.sim.clock import BAR, SESSION_END
from tests.unit.data._bundle_kit import (
    AssetSpec,
    Bundle,
    BundleSpec,
    daily_frame,
    write_bundle,
)

D = Decimal
MOV_CLOSES = [100, 102, 104, 103, 101, 99, 98, 100, 105, 110, 108, 104, 100, 96, 95]


def spec() -> BundleSpec:
    cal = get_calendar("XNYS")
    sessions = pd.DatetimeIndex(cal.sessions_in_range("2024-01-02", "2024-01-23"))
    n = len(sessions)
    mov = daily_frame(sessions, np.array(MOV_CLOSES, dtype=float), np.full(n, 10000.0))
    thn = daily_frame(sessions, np.full(n, 10.0), np.full(n, 1000.0))
    assets = [AssetSpec(1, "MOV", 0, n - 1), AssetSpec(2, "THN", 0, n - 1)]
    return BundleSpec("XNYS", sessions, assets, {1: mov, 2: thn})


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    written = write_bundle(tmp_path_factory.mktemp("blotter"), spec())
    yield written
    written.close()


@pytest.fixture(scope="module")
def default_bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    written = write_bundle(tmp_path_factory.mktemp("kit"))
    yield written
    written.close()


class Sim:
    """A blotter driven bar by bar over a bundle, the way the simulation loop does."""

    def __init__(self, bundle: Bundle, blotter: SimulationBlotter, mode: str = "daily") -> None:
        self.bundle = bundle
        self.blotter = blotter
        self.dt = bundle.minutes(0)[-1]
        self.data = BarData(bundle.portal(), lambda: self.dt, mode, bundle.calendar)

    def at(self, session: int, minute: int = -1) -> None:
        self.dt = self.bundle.minutes(session)[minute]
        self.blotter.set_date(self.dt)

    def bar(
        self, session: int, minute: int = -1
    ) -> tuple[list[Transaction], list[dict[str, Any]], list[Order]]:
        self.at(session, minute)
        fills = self.blotter.process_bar(self.data)
        assert len(fills.orders) == len(fills.transactions)
        assert all(
            o.id == t.order_id for o, t in zip(fills.orders, fills.transactions, strict=True)
        )
        return fills.transactions, fills.commissions, fills.closed

    def order(self, session: int, asset: Asset, amount: Any, style: Any = None, **kw: Any) -> str:
        self.at(session)
        oid = self.blotter.order(asset, D(amount), style, **kw)
        assert oid is not None
        return oid


@pytest.fixture
def sim(bundle: Bundle) -> Sim:
    return Sim(bundle, SimulationBlotter())


@pytest.fixture
def mov(bundle: Bundle) -> Asset:
    return bundle.asset(1)


@pytest.fixture
def thn(bundle: Bundle) -> Asset:
    return bundle.asset(2)


def fills(txns: list[Transaction]) -> list[tuple[Decimal, Decimal]]:
    return [(t.amount, t.price) for t in txns]


# --- market orders, partial fills, commissions ---------------------------------------


def test_market_order_fills_on_the_next_bar_with_default_models(sim: Sim, mov: Asset) -> None:
    oid = sim.order(0, mov, 100)
    order = sim.blotter.orders[oid]
    assert sim.blotter.new_orders == [order] and sim.blotter.open_orders[mov] == [order]
    txns, commissions, closed = sim.bar(1)
    assert fills(txns) == [(D(100), D("102.051"))]  # 102 * 1.0005
    assert txns[0].dt == sim.bundle.minutes(1)[-1] and txns[0].order_id == oid
    assert commissions == [{"asset": mov, "order": order, "cost": D("0.100")}]
    assert closed == [order] and order.status == OrderStatus.FILLED
    assert order.filled == D(100) and order.commission == D("0.100") and order.dt == txns[0].dt
    assert mov not in sim.blotter.open_orders
    assert sim.bar(2) == ([], [], [])


def test_partial_fills_across_bars_with_minimum_commission(bundle: Bundle, thn: Asset) -> None:
    sim = Sim(bundle, SimulationBlotter(equity_commission=PerShare(cost=0.001, min_trade_cost=1)))
    oid = sim.order(0, thn, 250)
    order = sim.blotter.orders[oid]
    results = [sim.bar(s) for s in (1, 2, 3)]
    assert [fills(t) for t, _, _ in results] == [
        [(D(100), D("10.005"))],
        [(D(100), D("10.005"))],
        [(D(50), D("10.005"))],
    ]
    # 1.00 minimum on the first fill; the per-share total (0.25) never passes it
    assert [[c["cost"] for c in cs] for _, cs, _ in results] == [[D(1)], [], []]
    assert [closed for _, _, closed in results] == [[], [], [order]]
    assert order.commission == D(1) and order.status == OrderStatus.FILLED


def test_orders_of_one_asset_share_the_bar_volume(sim: Sim, thn: Asset) -> None:
    a, b = sim.order(0, thn, 70), sim.order(0, thn, -70)
    txns, _, closed = sim.bar(1)
    assert [(t.order_id, t.amount) for t in txns] == [(a, D(70)), (b, D(-30))]
    assert closed == [sim.blotter.orders[a]]
    txns, _, _ = sim.bar(2)
    assert [(t.order_id, t.amount) for t in txns] == [(b, D(-40))]


def test_minute_mode_fills_one_share_per_minute(default_bundle: Bundle) -> None:
    # _bundle_kit: AAA on session 7 closes 107 with 10 shares per minute; minute j
    # closes at 107 - 0.001 * (389 - j); 10 % of 10 shares is one share a minute.
    sim = Sim(default_bundle, SimulationBlotter(), mode="minute")
    aaa = default_bundle.asset(1)
    sim.at(7, 0)
    oid = sim.blotter.order(aaa, D(3))
    assert oid is not None
    got = [fills(sim.bar(7, j)[0]) for j in (1, 2, 3, 4)]
    assert got == [
        [(D(1), D("106.665306"))],  # 106.612 * 1.0005
        [(D(1), D("106.6663065"))],  # 106.613 * 1.0005
        [(D(1), D("106.667307"))],
        [],
    ]
    assert sim.blotter.orders[oid].status == OrderStatus.FILLED


# --- limit, stop, stop-limit, trailing ---------------------------------------------------


def test_limit_order_waits_for_its_price(sim: Sim, mov: Asset) -> None:
    oid = sim.order(0, mov, -100, LimitOrder(105.0))
    for s in range(1, 8):
        assert sim.bar(s)[0] == []
    txns, _, closed = sim.bar(8)  # close 105
    assert fills(txns) == [(D(-100), D("104.9475"))]
    assert closed[0].id == oid and closed[0].limit_reached


def test_stop_order_triggers_on_the_way_down(sim: Sim, mov: Asset) -> None:
    sim.order(2, mov, -100, StopOrder(99.5))
    assert [sim.bar(s)[0] for s in (3, 4)] == [[], []]
    assert fills(sim.bar(5)[0]) == [(D(-100), D("98.9505"))]  # 99 * 0.9995


def test_stop_limit_becomes_a_limit_after_its_stop(sim: Sim, mov: Asset) -> None:
    fast = sim.order(7, mov, 100, StopLimitOrder(limit_price=107.0, stop_price=105.0))
    slow = sim.order(7, mov, 100, StopLimitOrder(limit_price=104.6, stop_price=104.5))
    txns, _, _ = sim.bar(8)  # 105: both stops hit; only the first limit is reached
    assert [(t.order_id, t.price) for t in txns] == [(fast, D("105.0525"))]
    slow_order = sim.blotter.orders[slow]
    assert slow_order.stop is None and slow_order.limit == 104.6
    assert sim.bar(9)[0] == [] and sim.bar(10)[0] == []
    assert fills(sim.bar(11)[0]) == [(D(100), D("104.052"))]  # 104 <= 104.6


@pytest.mark.parametrize(
    "style", [TrailingStopOrder(trail_amount=5.0), TrailingStopOrder(trail_percent=0.05)]
)
def test_trailing_stop_ratchets_then_fires(sim: Sim, mov: Asset, style: TrailingStopOrder) -> None:
    oid = sim.order(7, mov, -100, style, reference_price=100.0)
    order = sim.blotter.orders[oid]
    levels = []
    for s in (8, 9, 10):  # closes 105, 110, 108
        assert sim.bar(s)[0] == []
        levels.append(order.stop)
    expected = [100.0, 105.0, 105.0] if style.trail_amount else [99.75, 104.5, 104.5]
    assert levels == expected
    assert fills(sim.bar(11)[0]) == [(D(-100), D("103.948"))]  # 104 * 0.9995


# --- OCO and brackets -------------------------------------------------------------------


def test_oco_fill_on_one_leg_cancels_the_other(sim: Sim, mov: Asset) -> None:
    first = sim.order(7, mov, -100, OCOOrder(LimitOrder(109.0), StopOrder(97.0)))
    leg_a = sim.blotter.orders[first]
    (second,) = leg_a.linked_ids
    leg_b = sim.blotter.orders[second]
    assert leg_b.linked_ids == (first,) and (leg_a.limit, leg_b.stop) == (109.0, 97.0)
    assert sim.blotter.new_orders == [leg_a, leg_b]
    sim.blotter.new_orders.clear()
    assert sim.bar(8)[0] == []
    txns, _, closed = sim.bar(9)  # 110 >= 109
    assert [(t.order_id, t.price) for t in txns] == [(first, D("109.945"))]
    assert closed == [leg_a] and leg_b.status == OrderStatus.CANCELLED
    assert leg_b.dt == sim.dt and sim.blotter.new_orders == [leg_b]
    assert mov not in sim.blotter.open_orders


def test_oco_partial_fill_cancels_the_other_leg_and_keeps_filling(sim: Sim, thn: Asset) -> None:
    first = sim.order(0, thn, 250, OCOOrder(LimitOrder(10.5), StopOrder(12.0)))
    leg = sim.blotter.orders[first]
    other = sim.blotter.orders[leg.linked_ids[0]]
    assert [t.amount for t in sim.bar(1)[0]] == [D(100)]
    assert other.status == OrderStatus.CANCELLED and leg.open
    assert [t.amount for t in sim.bar(2)[0]] == [D(100)]
    assert [t.amount for t in sim.bar(3)[0]] == [D(50)]


def test_bracket_take_profit_path(sim: Sim, mov: Asset) -> None:
    # Take profit at 104.5: already marketable at the entry bar, but a child
    # never fills in the get_transactions call that created it.
    parent_id = sim.order(7, mov, 100, BracketOrder(take_profit_price=104.5, stop_loss_price=90))
    blotter = sim.blotter
    assert blotter.children_of(parent_id) == []
    blotter.new_orders.clear()
    txns, _, closed = sim.bar(8)
    assert fills(txns) == [(D(100), D("105.0525"))]
    tp, sl = blotter.children_of(parent_id)
    assert (tp.amount, tp.limit, tp.stop, tp.parent_id) == (D(-100), 104.5, None, parent_id)
    assert (sl.amount, sl.limit, sl.stop, sl.parent_id) == (D(-100), None, 90.0, parent_id)
    assert tp.linked_ids == (sl.id,) and sl.linked_ids == (tp.id,)
    assert tp.filled == 0 and blotter.new_orders == [tp, sl]
    assert blotter.open_orders[mov] == [tp, sl] and closed[0].id == parent_id
    txns, _, closed = sim.bar(9)
    assert [(t.order_id, t.amount, t.price) for t in txns] == [(tp.id, D(-100), D("109.945"))]
    assert closed == [tp] and sl.status == OrderStatus.CANCELLED
    assert mov not in blotter.open_orders


def test_bracket_stop_loss_path(sim: Sim, mov: Asset) -> None:
    parent_id = sim.order(9, mov, 100, BracketOrder(take_profit_price=120, stop_loss_price=105))
    assert fills(sim.bar(10)[0]) == [(D(100), D("108.054"))]
    tp, sl = sim.blotter.children_of(parent_id)
    txns, _, _ = sim.bar(11)  # 104 <= 105
    assert [(t.order_id, t.price) for t in txns] == [(sl.id, D("103.948"))]
    assert tp.status == OrderStatus.CANCELLED and sl.status == OrderStatus.FILLED


def test_short_bracket_with_limit_entry(sim: Sim, mov: Asset) -> None:
    style = BracketOrder(take_profit_price=95, stop_loss_price=112, limit_price=110)
    parent_id = sim.order(7, mov, -50, style)
    assert sim.blotter.orders[parent_id].limit == 110.0
    assert sim.bar(8)[0] == []
    assert fills(sim.bar(9)[0]) == [(D(-50), D("109.945"))]
    tp, sl = sim.blotter.children_of(parent_id)
    assert (tp.amount, tp.limit, sl.amount, sl.stop) == (D(50), 95.0, D(50), 112.0)
    for s in (10, 11, 12, 13):
        assert sim.bar(s)[0] == []
    assert fills(sim.bar(14)[0]) == [(D(50), D("95.0475"))]
    assert sl.status == OrderStatus.CANCELLED


def test_bracket_children_grow_with_partial_entry_fills(sim: Sim, thn: Asset) -> None:
    parent_id = sim.order(0, thn, 250, BracketOrder(take_profit_price=10.5, stop_loss_price=9))
    sim.bar(1)
    tp, sl = sim.blotter.children_of(parent_id)
    assert (tp.amount, sl.amount) == (D(-100), D(-100))
    sim.blotter.new_orders.clear()
    sim.bar(2)
    assert (tp.amount, sl.amount) == (D(-200), D(-200))
    assert sim.blotter.new_orders == [tp, sl]  # resized: relayed to the ledger
    sim.bar(3)
    assert (tp.amount, sl.amount) == (D(-250), D(-250))
    assert len(sim.blotter.children_of(parent_id)) == 2


def test_bracket_cancelled_before_any_fill_places_no_children(sim: Sim, mov: Asset) -> None:
    parent_id = sim.order(7, mov, 100, BracketOrder(take_profit_price=104.5, stop_loss_price=90))
    sim.blotter.cancel(parent_id)
    for s in (8, 9, 10, 11):
        assert sim.bar(s) == ([], [], [])
    assert sim.blotter.children_of(parent_id) == []
    assert sim.blotter.orders[parent_id].status == OrderStatus.CANCELLED


def test_bracket_cancelled_after_a_partial_fill_keeps_its_exits(sim: Sim, thn: Asset) -> None:
    parent_id = sim.order(0, thn, 250, BracketOrder(take_profit_price=10.5, stop_loss_price=9))
    sim.bar(1)
    sim.blotter.cancel(parent_id)
    tp, sl = sim.blotter.children_of(parent_id)
    assert tp.open and sl.open and tp.amount == D(-100)
    assert sim.blotter.open_orders[thn] == [tp, sl]


def test_bracket_exits_on_the_wrong_side_are_rejected(sim: Sim, mov: Asset) -> None:
    with pytest.raises(InvalidOrderError, match="MOV"):
        sim.blotter.order(mov, D(-10), BracketOrder(take_profit_price=110, stop_loss_price=90))
    assert not sim.blotter.orders


# --- cancel policies, reject, hold, splits --------------------------------------------


def test_eod_cancel_policy(
    bundle: Bundle, mov: Asset, thn: Asset, caplog: pytest.LogCaptureFixture
) -> None:
    sim = Sim(bundle, SimulationBlotter(cancel_policy=EODCancel()))
    a = sim.order(0, mov, 100, LimitOrder(50.0))
    b = sim.order(0, thn, -250)
    sim.bar(1)  # b fills 100 of 250
    sim.blotter.new_orders.clear()
    sim.blotter.execute_cancel_policy(BAR)
    assert len(sim.blotter.open_orders) == 2
    with caplog.at_level(logging.WARNING):
        sim.blotter.execute_cancel_policy(SESSION_END)
    assert not sim.blotter.open_orders and sim.blotter.new_orders == []  # not relayed
    assert sim.blotter.orders[a].status == OrderStatus.CANCELLED
    assert sim.blotter.orders[b].status == OrderStatus.CANCELLED
    assert "failed to fill by the end of day" in caplog.text
    assert "100 shares were successfully sold. 150 shares were not filled" in caplog.text


def test_never_cancel_and_zipline_daily_quirk(bundle: Bundle, mov: Asset, thn: Asset) -> None:
    sim = Sim(bundle, SimulationBlotter(cancel_policy=NeverCancel()))
    sim.order(0, mov, 100, LimitOrder(50.0))
    sim.blotter.execute_cancel_policy(SESSION_END)
    assert len(sim.blotter.open_orders[mov]) == 1
    # zipline's daily variant cancels only the oldest order of assets holding several
    quirk = Sim(bundle, SimulationBlotter(cancel_policy=EODCancel(warn_on_cancel=False)))
    one = quirk.order(0, mov, 100, LimitOrder(50.0))
    two = quirk.order(0, thn, 100, LimitOrder(5.0))
    three = quirk.order(0, thn, 100, LimitOrder(5.0))
    quirk.blotter.execute_daily_cancel_policy(SESSION_END)
    status = {k: quirk.blotter.orders[k].status for k in (one, two, three)}
    assert status == {
        one: OrderStatus.OPEN,
        two: OrderStatus.CANCELLED,
        three: OrderStatus.OPEN,
    }


def test_reject_and_hold(sim: Sim, mov: Asset, thn: Asset) -> None:
    rejected = sim.order(0, mov, 100)
    held = sim.order(0, thn, 150)
    sim.blotter.new_orders.clear()
    sim.blotter.reject(rejected, reason="no borrow")
    sim.blotter.hold(held, reason="halted")
    r, h = sim.blotter.orders[rejected], sim.blotter.orders[held]
    assert (r.status, r.reason) == (OrderStatus.REJECTED, "no borrow")
    assert h.status == OrderStatus.HELD and sim.blotter.new_orders == [r, h]
    assert mov not in sim.blotter.open_orders
    sim.bar(1)  # held orders still fill, and read open again
    assert h.filled == D(100) and h.status == OrderStatus.OPEN
    sim.blotter.reject("unknown")
    sim.blotter.hold("unknown")
    sim.blotter.cancel("unknown")
    with pytest.raises(OrderNotFoundError, match="unknown"):
        sim.blotter.get_order("unknown")


def test_process_splits_resizes_open_orders(sim: Sim, mov: Asset, thn: Asset) -> None:
    a = sim.order(0, mov, 101, LimitOrder(50.0))
    b = sim.order(0, thn, 1, LimitOrder(5.0))
    sim.blotter.process_splits([(mov, 0.5), (thn, 3.0)])
    order = sim.blotter.orders[a]
    assert (order.amount, order.limit) == (D(202), 25.0)
    assert thn not in sim.blotter.open_orders  # 1 share / 3 rounds to nothing
    assert sim.blotter.orders[b].open_amount == 0


# --- input handling -----------------------------------------------------------------


def test_the_blotter_takes_sized_quantities_and_validates_the_rest(sim: Sim, mov: Asset) -> None:
    # Quantities arrive sized and rounded (sizing.size_order): the blotter keeps them as given.
    blotter = sim.blotter
    oid = blotter.order(mov, D(10))
    assert oid is not None and blotter.orders[oid].amount == D(10)
    assert blotter.order(mov, D(-10)) is not None
    assert blotter.order(mov, D(0)) is None
    with pytest.raises(InvalidOrderError, match="ExecutionStyle"):
        blotter.order(mov, D(10), style=105.0)  # type: ignore[arg-type]
    with pytest.raises(OverflowError, match="MOV"):
        blotter.order(mov, D(10**12))
    with pytest.raises(OverflowError, match="MOV"):
        blotter.order(mov, D(-(10**12)))
    custom = blotter.order(mov, D(5), order_id="mine", dt=pd.Timestamp("2024-01-02", tz="UTC"))
    assert custom == "mine" and blotter.orders["mine"].created == pd.Timestamp(
        "2024-01-02", tz="UTC"
    )


def test_maker_taker_through_the_blotter(bundle: Bundle, mov: Asset) -> None:
    model = MakerTakerCommission(maker_rate=0.0001, taker_rate=0.0005)
    sim = Sim(bundle, SimulationBlotter(equity_commission=model))
    maker = sim.order(0, mov, -10, LimitOrder(103.0))  # rests on s1 (102)
    taker = sim.order(0, mov, 10, LimitOrder(103.0))  # marketable on s1
    _, commissions, _ = sim.bar(1)
    assert [(c["order"].id, c["cost"]) for c in commissions] == [(taker, D("0.5102550000"))]
    _, commissions, _ = sim.bar(2)  # 104 >= 103: the resting sell fills as maker
    assert [(c["order"].id, c["cost"]) for c in commissions] == [(maker, D("0.1039480000"))]


# --- the order book: filled plain orders archived by column -------------------------------


def test_filled_market_orders_are_archived_and_rebuilt(sim: Sim, mov: Asset, thn: Asset) -> None:
    sim.blotter.archive_batch = 1  # archive at every bar
    plain = sim.order(0, mov, 10)
    limit = sim.order(0, mov, 5, LimitOrder(1.0))  # never fills at these prices
    partial = sim.order(0, thn, 150)  # 100 shares a bar: two bars to fill
    sim.bar(1)
    book = sim.blotter.orders
    snapshot = book[plain].to_dict()
    assert book[plain] is book[plain]  # still live: recorded after this bar
    sim.bar(2)
    sim.bar(3)  # the third bar archives what the first and second bar filled
    assert book.live(plain) is None and book.live(partial) is None
    assert book.live(limit) is not None  # open orders stay live
    rebuilt = book[plain]
    assert rebuilt.to_dict() == snapshot and rebuilt.status == OrderStatus.FILLED
    assert book[partial].filled == D(150) and book[partial].status == OrderStatus.FILLED
    assert plain in book and "nope" not in book
    assert set(book) == {plain, limit, partial} and len(book) == 3
    # Closed orders stay closed: cancelling an archived one changes nothing.
    sim.blotter.cancel(plain)
    assert book[plain].status == OrderStatus.FILLED
    with pytest.raises(InvalidOrderError, match="already used"):
        book[plain] = rebuilt
    with pytest.raises(KeyError):
        del book[plain]


def test_closed_orders_wait_live_for_a_batch(sim: Sim, mov: Asset, thn: Asset) -> None:
    """Filled orders stay live until archive_batch of them wait, then move together."""
    sim.blotter.archive_batch = 3
    book = sim.blotter.orders
    first = sim.order(0, mov, 10)
    sim.bar(1)
    second = sim.order(1, mov, 5)
    sim.bar(2)
    sim.bar(3)  # two wait: fewer than three
    assert book.live(first) is not None and book.live(second) is not None
    third, fourth = sim.order(3, mov, -5), sim.order(3, thn, 20)
    sim.bar(4)  # four wait, but this bar's two are not recorded yet
    assert all(book.live(i) is not None for i in (first, second, third, fourth))
    sim.bar(5)
    assert all(book.live(i) is None for i in (first, second, third, fourth))
    assert [book[i].filled for i in (first, second, third, fourth)] == [10, 5, -5, 20]
    assert all(book[i].status == OrderStatus.FILLED for i in (first, second, third, fourth))


def test_only_plain_whole_fills_are_archivable(sim: Sim, mov: Asset) -> None:
    oco = sim.order(0, mov, 10, OCOOrder(LimitOrder(1000.0), StopOrder(1.0)))
    sim.bar(1)
    sim.bar(2)
    sim.bar(3)
    book = sim.blotter.orders
    first = book[oco]
    assert first.status == OrderStatus.FILLED  # the limit leg filled at once
    assert not book.archivable(first) and book.live(oco) is not None  # it has a linked leg


# --- a bar's fills in one model call -----------------------------------------------------


def _walking(model: Any) -> Any:
    """``model`` filling one asset per ``fill_bar`` call."""

    class Walking(type(model)):  # type: ignore[misc]
        def fill_bar(self, data: Any, batch: Any, precision: Any = None) -> Any:
            for item in batch:
                yield from super().fill_bar(data, [item], precision)

    walking = Walking.__new__(Walking)
    walking.__dict__.update(vars(model))
    return walking


MODELS = {
    "none": (NoSlippage, NoCommission),
    "fixed": (FixedBasisPointsSlippage, PerShare),
    "share": (VolumeShareSlippage, PerShare),
}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(sorted(MODELS)),
    plan=st.lists(
        st.tuples(
            st.integers(0, 13),
            st.integers(1, 4),
            st.integers(-900, 900).filter(bool),
        ),
        max_size=25,
    ),
)
def test_one_call_per_bar_fills_as_one_call_per_asset(
    default_bundle: Bundle, kind: str, plan: list[tuple[int, int, int]]
) -> None:
    """Market orders fill the same whether the model fills the whole bar in one
    ``fill_bar`` call or one asset per call (its per-asset state resets)."""
    slippage_cls, commission_cls = MODELS[kind]
    lane = Sim(
        default_bundle,
        SimulationBlotter(equity_slippage=slippage_cls(), equity_commission=commission_cls()),
    )
    walk = Sim(
        default_bundle,
        SimulationBlotter(
            equity_slippage=_walking(slippage_cls()), equity_commission=commission_cls()
        ),
    )
    ids: list[tuple[str, str]] = []
    for session in range(15):
        seen = []
        for sim in (lane, walk):
            txns, commissions, closed = sim.bar(session)
            seen.append(
                (
                    [(t.asset.sid, t.amount, t.dt, t.price) for t in txns],
                    [(c["asset"].sid, c["cost"]) for c in commissions],
                    [o.asset.sid for o in closed],
                    sorted(a.sid for a in sim.blotter.open_orders),
                )
            )
        assert seen[0] == seen[1]
        for when, sid, amount in plan:
            if when == session:
                asset = default_bundle.asset(sid)
                pair = tuple(sim.blotter.order(asset, D(amount)) for sim in (lane, walk))
                ids.append(pair)  # type: ignore[arg-type]
    for lane_id, walk_id in ids:
        a, b = lane.blotter.orders[lane_id], walk.blotter.orders[walk_id]
        assert (a.filled, a.commission, a.dt, a.status) == (b.filled, b.commission, b.dt, b.status)


@pytest.mark.parametrize(
    ("mode", "bars"),
    [
        ("daily", [(0, -1), (5, -1), (13, -1), (14, -1)]),
        # Session 9's first 30 minutes have no BBB bar: its price is carried forward.
        ("minute", [(7, 0), (8, 200), (9, 0), (9, 10), (9, 389), (10, 45)]),
    ],
)
def test_spot_row_reads_what_spot_reads(
    default_bundle: Bundle, mode: str, bars: list[tuple[int, int]]
) -> None:
    """The engine reads whole rows (fills, marks); they hold what spot reads per asset."""
    sim = Sim(default_bundle, SimulationBlotter(), mode)
    portal = sim.data.data_portal
    checked = 0
    for session, minute in bars:
        sim.at(session, minute)
        for field in ("close", "volume", "price", "open"):
            row = sim.data.spot_row(field)
            for sid in (1, 2, 3, 4):
                value = row[portal.column(sid)]
                expected = sim.data.spot(default_bundle.asset(sid), field)
                assert value == expected or (np.isnan(value) and np.isnan(expected))
                checked += not np.isnan(value)
            # The no-data column: no volume, no price.
            assert row[-1] == 0.0 if field == "volume" else np.isnan(row[-1])
    assert checked > 20
