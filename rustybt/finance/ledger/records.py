"""Compact, read-only lists of zipline's order, transaction and position dicts.

The performance DataFrame holds, for every session, the orders, fills and
positions of that session as lists of dicts (zipline's format). Kept as
dicts, a ten-year backtest of hundreds of assets holds millions of them:
most of its memory and much of the garbage collector's work. A
:class:`Records` keeps instead a snapshot of the values the dicts are made
of -- object references (Decimals, timestamps, assets), by column, a column
whose rows all hold one value kept once -- and builds each dict when it is
read, with the source's own ``to_dict`` (:meth:`Order.to_dict`,
:meth:`Position.to_dict`, :meth:`Transaction.to_dict`): the dict's rules
live there only. Taking the snapshot is a few C-level passes over the
rows (no conversion, no NumPy call), so a session of one order costs about
as little as it can and a session of thousands costs per row. Fills need no
snapshot: the ledger keeps every fill, unchanged, for the whole run, so
their records hold the fill objects themselves.
``isinstance(records, list)`` is False: ``list(records)`` gives the list.

A :class:`Records` is a :class:`~collections.abc.Sequence`: ``len``,
indexing, slicing, iteration and ``==`` against a list behave as they do on
the list of dicts, and it pickles as that plain list.

Examples
--------
>>> from decimal import Decimal
>>> from rustybt.finance.ledger.position import Position
>>> records = position_records([Position("AAA", Decimal(10), Decimal("5.5"), Decimal(6))])
>>> len(records), records[0]
(1, {'sid': 'AAA', 'amount': 10, 'cost_basis': 5.5, 'last_sale_price': 6.0})
>>> records == [{'sid': 'AAA', 'amount': 10, 'cost_basis': 5.5, 'last_sale_price': 6.0}]
True
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, NamedTuple, cast, overload

from rustybt.finance.ledger.position import Position
from rustybt.finance.orders.order import Order, OrderStatus
from rustybt.finance.orders.transaction import Transaction

__all__ = ["Records", "one_object", "order_records", "position_records", "transaction_records"]

RowDict = Callable[..., dict[str, Any]]
Columns = tuple[tuple[Any, ...], ...]


class Records(Sequence[dict[str, Any]]):
    """A read-only list of dicts, each built when read from a row of stored values.

    Parameters
    ----------
    columns
        The rows' values by column, in the order ``row_dict`` takes them; a
        column of one value holds that value for every row.
    length
        The number of rows.
    row_dict
        Builds a row's dict from its values (positional, one per column).
    """

    __slots__ = ("_columns", "_len", "_row_dict")

    def __init__(self, columns: Columns, length: int, row_dict: RowDict) -> None:
        self._columns = columns
        self._len = length
        self._row_dict = row_dict

    def __len__(self) -> int:
        return self._len

    def _row(self, i: int) -> dict[str, Any]:
        # ``i % 1`` is 0: a column kept as one value serves every row.
        return self._row_dict(*[column[i % len(column)] for column in self._columns])

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(self._len))]
        i = index.__index__()
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("Records index out of range")
        return self._row(i)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for i in range(self._len):
            yield self._row(i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Records):
            return list(self) == list(other)
        if isinstance(other, list):
            return len(other) == self._len and list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles (and unpickles) as the plain list of dicts.
        return (list, (list(self),))


def one_object(values: Sequence[Any]) -> bool:
    """Whether every item of non-empty ``values`` is the same object (by identity, in C)."""
    return list(map(id, values)).count(id(values[0])) == len(values)


# Types whose equal values are interchangeable in a dict (None, flags, texts,
# statuses): a column of them all equal to its first keeps that one. Other
# values (Decimals, timestamps, prices) are kept row by row: equal ones can
# still differ (``Decimal("1")`` and ``Decimal("1.0")``, two time zones).
_INTERCHANGEABLE = frozenset({type(None), bool, str, OrderStatus})


def _snapshot(items: Collection[Any], fields: Callable[[Any], tuple[Any, ...]]) -> Columns:
    """The ``fields`` of each of ``items`` (non-empty), by column; a column of
    one interchangeable value (see ``_INTERCHANGEABLE``) keeps it once.

    One C-level pass reads the rows, one transposes them and one counts each
    column of interchangeable values: a few calls per column whatever the
    number of rows, then C work per row.
    """
    n = len(items)
    return tuple(
        [
            column[:1]
            if type(column[0]) in _INTERCHANGEABLE and column.count(column[0]) == n
            else column
            for column in zip(*map(fields, items), strict=True)
        ]
    )


class _OrderState(NamedTuple):
    """An order's fields as :meth:`Order.to_dict` reads them, frozen when recorded."""

    id: str
    dt: Any
    reason: str | None
    created: Any
    amount: Any
    filled: Any
    commission: Any
    stop: float | None
    limit: float | None
    stop_reached: bool
    limit_reached: bool
    broker_order_id: str | None
    asset: Any
    status: OrderStatus


_ORDER_STATE = operator.attrgetter(*_OrderState._fields)


def _order_dict(*values: Any) -> dict[str, Any]:
    # The order's own rule, applied to the frozen fields (an order changes
    # after it is recorded: fills, cancels).
    return Order.to_dict(cast(Order, _OrderState(*values)))


# Records never change: the sessions without orders (most of them) share one
# empty Records, and so do those without fills or positions.
_NO_ORDERS = Records((), 0, _order_dict)


def order_records(orders: Collection[Order]) -> Records:
    """zipline's order dicts of ``orders`` (as :meth:`Order.to_dict` gives them
    now), built when read."""
    if not orders:  # most sessions of a typical strategy
        return _NO_ORDERS
    return Records(_snapshot(orders, _ORDER_STATE), len(orders), _order_dict)


_NO_FILLS = Records((), 0, Transaction.to_dict)


def transaction_records(transactions: Iterable[Transaction]) -> Records:
    """zipline's transaction dicts (as :meth:`Transaction.to_dict`), built when read.

    The fills are kept as they are (one column of references): they must not
    change afterwards (the ledger's never do).
    """
    fills = tuple(transactions)
    if not fills:
        return _NO_FILLS
    return Records((fills,), len(fills), Transaction.to_dict)


_POSITION_STATE = operator.attrgetter("asset", "amount", "cost_basis", "last_sale_price")


def _position_dict(
    asset: Any, amount: Any, cost_basis: Any, last_sale_price: Any
) -> dict[str, Any]:
    return Position(asset, amount, cost_basis, last_sale_price).to_dict()


_NO_POSITIONS = Records((), 0, _position_dict)


def position_records(positions: Collection[Position]) -> Records:
    """zipline's position dicts (as :meth:`Position.to_dict` gives them now) of
    ``positions``, built when read.

    The snapshot holds the positions' Decimals by reference: an amount or a
    cost basis is the same object session after session until a fill changes
    it, and only the marks are new.
    """
    if not positions:
        return _NO_POSITIONS
    return Records(_snapshot(positions, _POSITION_STATE), len(positions), _position_dict)
