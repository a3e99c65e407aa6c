"""Order triggers, state, splits and exports; Transaction exports."""

from __future__ import annotations

import math
import threading
from decimal import Decimal

import pandas as pd
import pytest

from rustybt.assets import Equity
from rustybt.assets.asset_types import exchange_info_for
from rustybt.exceptions import InvalidOrderError
from rustybt.finance.orders.execution import TrailingStopOrder
from rustybt.finance.orders.order import ORDER_STATUS, Order, OrderStatus
from rustybt.finance.orders.transaction import Transaction, create_transaction

AAA = Equity(1, exchange_info_for("NYSE"), symbol="AAA")
DT = pd.Timestamp("2024-01-02 21:00", tz="UTC")
LATER = pd.Timestamp("2024-01-03 21:00", tz="UTC")


def make(amount: int, stop: float | None = None, limit: float | None = None) -> Order:
    return Order(dt=DT, asset=AAA, amount=amount, stop=stop, limit=limit)


# (amount, stop, limit, price, stop_reached, limit_reached, becomes a plain limit)
TRIGGER_TABLE = [
    # market orders never "reach" anything but are always triggered
    (100, None, None, 10.0, False, False, False),
    (-100, None, None, 10.0, False, False, False),
    # buy limit: reached at or below the limit
    (100, None, 10.0, 10.01, False, False, False),
    (100, None, 10.0, 10.0, False, True, False),
    (100, None, 10.0, 9.5, False, True, False),
    # sell limit: reached at or above
    (-100, None, 10.0, 9.99, False, False, False),
    (-100, None, 10.0, 10.0, False, True, False),
    (-100, None, 10.0, 11.0, False, True, False),
    # buy stop: reached at or above
    (100, 10.0, None, 9.99, False, False, False),
    (100, 10.0, None, 10.0, True, False, False),
    (100, 10.0, None, 12.0, True, False, False),
    # sell stop: reached at or below
    (-100, 10.0, None, 10.01, False, False, False),
    (-100, 10.0, None, 10.0, True, False, False),
    (-100, 10.0, None, 8.0, True, False, False),
    # buy stop-limit (stop 10, limit 10.5): stop first, then the limit
    (100, 10.0, 10.5, 9.9, False, False, False),
    (100, 10.0, 10.5, 10.2, False, True, True),
    (100, 10.0, 10.5, 10.6, False, False, True),
    # sell stop-limit (stop 10, limit 9.5)
    (-100, 10.0, 9.5, 10.1, False, False, False),
    (-100, 10.0, 9.5, 9.8, False, True, True),
    (-100, 10.0, 9.5, 9.4, False, False, True),
    # NaN reaches nothing
    (100, 10.0, None, math.nan, False, False, False),
    (-100, None, 10.0, math.nan, False, False, False),
]


@pytest.mark.parametrize(
    ("amount", "stop", "limit", "price", "stop_hit", "limit_hit", "to_limit"), TRIGGER_TABLE
)
def test_trigger_table(
    amount: int,
    stop: float | None,
    limit: float | None,
    price: float,
    stop_hit: bool,
    limit_hit: bool,
    to_limit: bool,
) -> None:
    order = make(amount, stop, limit)
    order.check_triggers(price, LATER)
    assert (order.stop_reached, order.limit_reached) == (stop_hit, limit_hit)
    if to_limit:
        assert order.stop is None and order.limit == limit
    else:
        assert order.stop == stop
    expected_triggered = (stop is None or stop_hit) and (limit is None or limit_hit)
    if to_limit:
        expected_triggered = limit_hit
    assert order.triggered is expected_triggered
    # dt moves only when a trigger state changes
    assert order.dt == (LATER if (stop_hit or limit_hit) else DT)


def test_stop_limit_turns_into_a_limit_then_fills_on_a_later_bar() -> None:
    order = make(100, stop=10.0, limit=10.5)
    order.check_triggers(10.8, LATER)  # stop hit, price above the limit
    assert order.stop is None and not order.triggered and order.rested
    order.check_triggers(10.4, LATER)
    assert order.limit_reached and order.triggered


def test_triggered_orders_stay_triggered() -> None:
    order = make(100, limit=10.0)
    order.check_triggers(9.0, LATER)
    order.check_triggers(11.0, LATER)
    assert order.limit_reached and order.triggered


def test_rested_marks_limit_orders_that_were_not_marketable() -> None:
    marketable = make(100, limit=10.0)
    marketable.check_triggers(9.0, LATER)
    assert not marketable.rested
    resting = make(100, limit=10.0)
    resting.check_triggers(10.5, LATER)
    resting.check_triggers(9.0, LATER)
    assert resting.rested and resting.triggered
    stop = make(-100, stop=9.0)
    stop.check_triggers(9.5, LATER)
    assert not stop.rested


def test_trailing_sell_stop_ratchets_up_and_triggers_on_a_drop() -> None:
    order = Order(DT, AAA, -100, style=TrailingStopOrder(trail_amount=2.0))
    assert order.stop is None and not order.triggered
    for price, level in [(100.0, 98.0), (103.0, 101.0), (102.0, 101.0), (106.5, 104.5)]:
        order.check_triggers(price, LATER)
        assert order.stop == level and not order.triggered
    assert order.trail_extreme == 106.5
    order.check_triggers(math.nan, LATER)  # no data: nothing moves
    assert order.stop == 104.5 and not order.triggered
    order.check_triggers(104.5, LATER)
    assert order.stop_reached and order.triggered
    order.check_triggers(120.0, LATER)  # once fired, the level is frozen
    assert order.stop == 104.5


def test_trailing_buy_stop_by_percent_ratchets_down() -> None:
    order = Order(DT, AAA, 50, style=TrailingStopOrder(trail_percent=0.1))
    order.init_trailing(50.0)
    assert order.stop == 55.0
    order.check_triggers(40.0, LATER)
    assert order.stop == 44.0 and not order.triggered
    order.check_triggers(43.0, LATER)
    assert order.stop == 44.0 and not order.triggered
    order.check_triggers(44.1, LATER)
    assert order.triggered and order.stop_reached


def test_amount_validation_names_the_asset() -> None:
    for bad in (math.nan, math.inf, -math.inf, "ten", None, Decimal("NaN")):
        with pytest.raises(InvalidOrderError, match=r"AAA"):
            Order(DT, AAA, bad)


def test_amounts_are_decimal_and_direction_is_signed() -> None:
    order = make(-25)
    assert order.amount == Decimal(-25) and isinstance(order.amount, Decimal)
    assert order.filled == 0 and order.commission == 0 and order.direction == -1
    assert make(3).direction == 1
    assert Order(DT, AAA, 2.5).amount == Decimal("2.5")


def test_status_life_cycle() -> None:
    assert ORDER_STATUS is OrderStatus
    order = make(100)
    assert order.status == OrderStatus.OPEN and order.open
    order.hold("broker busy")
    assert order.status == OrderStatus.HELD and order.open and order.reason == "broker busy"
    order.filled = Decimal(40)
    assert order.status == OrderStatus.OPEN  # a held order with fills reads open
    assert order.open_amount == Decimal(60)
    order.filled = Decimal(100)
    assert order.status == OrderStatus.FILLED and not order.open
    cancelled = make(10)
    cancelled.cancel()
    assert cancelled.status == OrderStatus.CANCELLED and not cancelled.open
    rejected = make(10)
    rejected.reject("no shorting")
    assert rejected.status == OrderStatus.REJECTED and rejected.reason == "no shorting"
    assert [s.value for s in OrderStatus][:5] == [0, 1, 2, 3, 4]


def test_split_divides_quantities_and_multiplies_prices() -> None:
    order = Order(DT, AAA, 101, limit=10.123, stop=9.0)
    order.filled = Decimal(51)
    order.handle_split(0.5)  # 2:1 split
    assert (order.filled, order.amount) == (Decimal(102), Decimal(202))
    assert (order.limit, order.stop) == (5.06, 4.5)
    reverse = Order(DT, AAA, 7)
    reverse.filled = Decimal(3)
    reverse.handle_split(3.0)  # 1:3 reverse split: 3 -> 1 filled, 4 open -> 1
    assert (reverse.filled, reverse.amount) == (Decimal(1), Decimal(2))


def test_split_rescales_a_trailing_stop() -> None:
    style = TrailingStopOrder(trail_amount=2.0)
    order = Order(DT, AAA, -100, style=style)
    order.check_triggers(100.0, LATER)
    order.handle_split(0.5)
    assert order.amount == Decimal(-200)
    assert (order.trail_extreme, order.stop) == (50.0, 49.0)
    assert style.trail_amount == 2.0  # the user's style object is left alone


def test_to_dict_has_zipline_keys_and_plain_numbers() -> None:
    order = make(100, limit=10.0)
    order.filled = Decimal(40)
    order.commission = Decimal("1.25")
    d = order.to_dict()
    assert list(d) == [
        "id",
        "dt",
        "reason",
        "created",
        "amount",
        "filled",
        "commission",
        "stop",
        "limit",
        "stop_reached",
        "limit_reached",
        "sid",
        "status",
    ]
    assert d["amount"] == 100 and isinstance(d["amount"], int)
    assert d["filled"] == 40 and isinstance(d["filled"], int)
    assert d["commission"] == 1.25 and isinstance(d["commission"], float)
    assert d["sid"] is AAA and d["status"] == OrderStatus.OPEN
    assert Order(DT, AAA, 0.5).to_dict()["amount"] == 0.5
    assert len(order.id) == 32 and order.id != make(1).id
    assert "Order(" in repr(order)


def test_transaction_and_its_dict() -> None:
    order = make(100)
    txn = create_transaction(order, LATER, Decimal("10.005"), Decimal(100))
    assert (txn.asset, txn.amount, txn.price, txn.order_id) == (
        AAA,
        Decimal(100),
        Decimal("10.005"),
        order.id,
    )
    assert txn["price"] == Decimal("10.005") and txn["sid"] is AAA
    with pytest.raises(KeyError):
        txn["nope"]
    d = txn.to_dict()
    assert d == {
        "amount": 100,
        "dt": LATER,
        "price": 10.005,
        "order_id": order.id,
        "sid": AAA,
        "commission": None,
    }
    assert Transaction(AAA, Decimal("-0.5"), LATER, Decimal(1), "x").to_dict()["amount"] == -0.5
    assert txn == create_transaction(order, LATER, Decimal("10.005"), Decimal(100))
    with pytest.raises(InvalidOrderError, match="zero quantity"):
        create_transaction(order, LATER, Decimal(10), Decimal(0))


def test_order_ids_are_unique_random_hex_across_batches() -> None:
    """Ids are drawn 1,024 at a time: across batches they stay 32 hex digits, all distinct."""
    ids = [Order.make_id() for _ in range(3 * 1024 + 7)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    # Random, not counted: the digits vary in every position.
    assert all(len({i[k] for i in ids[:200]}) > 8 for k in range(32))


def test_order_ids_from_several_threads_stay_unique() -> None:
    """Simulations in several threads draw from one batch: no id twice, none lost."""
    drawn: list[list[str]] = [[] for _ in range(4)]

    def draw(out: list[str]) -> None:
        for _ in range(2500):
            out.append(Order.make_id())

    threads = [threading.Thread(target=draw, args=(out,)) for out in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [i for out in drawn for i in out]
    assert len(ids) == 10_000 and len(set(ids)) == 10_000
