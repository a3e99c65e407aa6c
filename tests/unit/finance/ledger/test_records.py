"""Records: the performance frame's compact order/transaction/position lists."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rustybt.assets import Equity
from rustybt.assets.asset_types import exchange_info_for
from rustybt.finance.ledger.position import Position
from rustybt.finance.ledger.records import (
    Records,
    _OrderState,
    order_records,
    position_records,
    transaction_records,
)
from rustybt.finance.orders.execution import LimitOrder, StopLimitOrder
from rustybt.finance.orders.order import Order, OrderStatus
from rustybt.finance.orders.transaction import Transaction

AAA = Equity(1, exchange_info_for("NYSE"), symbol="AAA")
BBB = Equity(2, exchange_info_for("NYSE"), symbol="BBB")
T0 = pd.Timestamp("2024-01-02 21:00", tz="UTC")
T1 = pd.Timestamp("2024-01-03 21:00", tz="UTC")


def _orders() -> list[Order]:
    plain = Order(T0, AAA, 100)
    limit = Order(T0, BBB, -7, limit=LimitOrder(9.5).get_limit_price(False))
    stop_limit = Order(T0, AAA, 3, stop=11.0, limit=12.0, style=StopLimitOrder(12.0, 11.0))
    partly = Order(T0, BBB, 10)
    partly.filled = Decimal(4)
    partly.commission = Decimal("1.25")
    partly.dt = T1
    cancelled = Order(T0, AAA, 5)
    cancelled.cancel()
    rejected = Order(T0, AAA, Decimal("2.5"))
    rejected.reject("too big")
    stop_limit.check_triggers(11.5, T1)
    return [plain, limit, stop_limit, partly, cancelled, rejected]


def test_order_records_equal_to_dict() -> None:
    orders = _orders()
    records = order_records(orders)
    assert isinstance(records, Records)
    expected = [o.to_dict() for o in orders]
    assert records == expected
    assert list(records) == expected
    # Value types survive, not only equality: whole amounts are ints.
    assert [type(r["amount"]) for r in records] == [type(e["amount"]) for e in expected]
    assert records[-1]["amount"] == 2.5 and records[-1]["reason"] == "too big"
    assert [r["status"] for r in records] == [e["status"] for e in expected]


@given(
    rows=st.lists(
        st.tuples(
            st.integers(-500, 500).filter(bool),
            st.sampled_from(["none", "whole", "equal", "part"]),
            st.sampled_from([T0, T1]),
            st.none() | st.floats(1.0, 50.0),
            st.sampled_from([Decimal(0), Decimal("0.35")]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_order_records_equal_to_dict_column_by_column(
    rows: list[tuple[int, str, pd.Timestamp, float | None, Decimal]],
) -> None:
    """Columns that repeat (one dt, no stops, zero commissions, all filled) or not."""
    orders = []
    for amount, fill, dt, stop, commission in rows:
        order = Order(T0, AAA if amount % 2 else BBB, amount, stop=stop)
        if fill == "whole":
            order.filled = order.amount
        elif fill == "equal":  # filled in parts: an equal Decimal, not the amount's own
            order.filled = Decimal(int(order.amount))
        elif fill == "part":
            order.filled = Decimal(amount // 2)
        order.dt, order.commission = dt, commission
        orders.append(order)
    records = order_records(orders)
    assert isinstance(records, Records)
    expected = [o.to_dict() for o in orders]
    assert list(records) == expected
    assert [type(r["amount"]) for r in records] == [type(e["amount"]) for e in expected]


def test_order_records_with_broker_ids() -> None:
    order = Order(T0, AAA, 1)
    order.broker_order_id = "B-1"
    records = order_records([order])
    assert records == [order.to_dict()] and records[0]["broker_order_id"] == "B-1"


@given(
    amounts=st.lists(
        st.integers(-(10**9), 10**9).filter(bool).map(Decimal)
        | st.decimals(min_value=-1000, max_value=1000, places=8, allow_nan=False).filter(bool),
        max_size=20,
    ),
    prices=st.decimals(min_value="0.0001", max_value="100000", places=4),
    commission=st.none() | st.decimals(min_value=0, max_value=100, places=2),
    mixed=st.booleans(),
)
def test_transaction_records_equal_to_dict(
    amounts: list[Decimal], prices: Decimal, commission: Decimal | None, mixed: bool
) -> None:
    txns = [
        Transaction(
            AAA if i % 2 else BBB, a, T0, prices, f"o{i}", None if mixed and i % 3 else commission
        )
        for i, a in enumerate(amounts)
    ]
    records = transaction_records(txns)
    assert isinstance(records, Records)
    assert len(records) == len(txns)
    assert records == [t.to_dict() for t in txns]
    # The fills themselves are kept: a row's objects are the fill's.
    assert all(r["dt"] is t.dt and r["sid"] is t.asset for r, t in zip(records, txns, strict=True))


def test_position_records_match_to_dict() -> None:
    held = Position(AAA, Decimal(10), Decimal("5.123456789"), Decimal("6.5"))
    short = Position(BBB, Decimal("-0.5"), Decimal("7"), Decimal("8.25"))
    records = position_records([held, short])
    assert records == [held.to_dict(), short.to_dict()]
    # A changed Decimal is picked up (to_dict caches floats per Decimal object).
    held.last_sale_price = Decimal("7.75")
    assert position_records([held])[0]["last_sale_price"] == 7.75


def test_records_behave_as_a_list() -> None:
    orders = _orders()
    records = order_records(orders)
    expected = [o.to_dict() for o in orders]
    assert records[1:3] == expected[1:3]
    assert records[-1] == expected[-1]
    with pytest.raises(IndexError):
        records[len(expected)]
    assert repr(records) == repr(expected)
    # Pickles as the plain list of dicts (perf.to_pickle, multiprocessing).
    assert pickle.loads(pickle.dumps(records)) == expected
    assert type(pickle.loads(pickle.dumps(records))) is list
    empty = transaction_records([])
    assert empty == [] and len(empty) == 0 and list(empty) == []
    assert empty != [{"amount": 1}]
    assert records != expected[:-1]


def test_uniform_columns_are_kept_once_and_rows_decode_exactly() -> None:
    orders = []
    for i in range(120):
        order = Order(T0 if i % 3 else T1, AAA if i % 2 else BBB, (i % 5) + 1)
        if i % 4 == 0:
            order.filled = order.amount
        elif i % 4 == 1:
            order.cancel()
        orders.append(order)
    records = order_records(orders)
    assert isinstance(records, Records)
    fields = dict(zip(_OrderState._fields, records._columns, strict=True))
    # No stops, no limits, no reasons, no broker ids: one value each.
    for name in ("stop", "limit", "reason", "broker_order_id", "stop_reached"):
        assert len(fields[name]) == 1, name
    # Quantities are the orders' own Decimals, turned into numbers when read.
    assert all(a is o.amount for a, o in zip(fields["amount"], orders, strict=True))
    assert len(fields["dt"]) == len(fields["status"]) == 120
    assert records == [o.to_dict() for o in orders]
    assert records[7]["dt"] is orders[7].dt and records[7]["sid"] is orders[7].asset


def test_equal_values_that_differ_are_kept_per_row() -> None:
    """Equal Decimals (``1`` and ``1.0``) or timestamps are not the same value."""
    a, b = Order(T0, AAA, 1), Order(T0, AAA, 1)
    a.commission, b.commission = Decimal(0), Decimal("-0")
    b.dt = T0.tz_convert("America/New_York")
    records = order_records([a, b])
    assert [r["commission"] for r in records] == [0.0, -0.0]
    assert str(records[1]["commission"]) == "-0.0"
    assert records[1]["dt"].tzinfo is b.dt.tzinfo


def test_records_are_a_snapshot() -> None:
    """An order or a position changed after it was recorded keeps its recorded dict."""
    order = Order(T0, AAA, 10)
    held = Position(AAA, Decimal(10), Decimal("5"), Decimal("6"))
    orders, positions = order_records([order]), position_records([held])
    before = (order.to_dict(), held.to_dict())
    order.book_fill(Decimal(10), T1, Decimal("1.5"))
    held.last_sale_price = Decimal("7")
    assert orders == [before[0]] and positions == [before[1]]
    assert orders[0]["status"] == OrderStatus.OPEN and order.status == OrderStatus.FILLED
