"""Compact, read-only lists of zipline's order, transaction and position dicts.

The performance DataFrame holds, for every session, the orders, fills and
positions of that session as lists of dicts (zipline's format). Kept as
dicts, a ten-year backtest of hundreds of assets holds millions of them:
most of its memory and much of the garbage collector's work. A
:class:`Records` stores the same values by column (object references in
tuples, numbers in float64 arrays, a column of one repeated value once, a
few values repeated as one-byte codes) and builds each dict when it is read.
``isinstance(records, list)`` is False: ``list(records)`` gives the list.

A :class:`Records` is a :class:`~collections.abc.Sequence`: ``len``,
indexing, slicing, iteration and ``==`` against a list behave as they do on
the list of dicts, and it pickles as that plain list.

Examples
--------
>>> from decimal import Decimal
>>> from rustybt.finance.position import Position
>>> records = position_records([Position("AAA", Decimal(10), Decimal("5.5"), Decimal(6))])
>>> len(records), records[0]
(1, {'sid': 'AAA', 'amount': 10, 'cost_basis': 5.5, 'last_sale_price': 6.0})
>>> records == [{'sid': 'AAA', 'amount': 10, 'cost_basis': 5.5, 'last_sale_price': 6.0}]
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np

from rustybt.finance.order import Order, OrderStatus
from rustybt.finance.position import Position
from rustybt.finance.transaction import Transaction

__all__ = ["Records", "order_records", "position_records", "transaction_records"]


def _number(x: float) -> int | float:
    """Whole quantities as int (as the dicts hold them), others as float."""
    return int(x) if x.is_integer() else x


def _optional(x: float) -> float | None:
    return None if math.isnan(x) else x


def _flag(x: float) -> bool:
    return x != 0.0


def _status(x: float) -> OrderStatus:
    return OrderStatus(int(x))


def _float(x: float) -> float:
    return x


# How a stored float turns back into the dict's value, by the key's kind.
_DECODE: dict[str, Callable[[float], Any]] = {
    "number": _number,
    "float": _float,
    "optional": _optional,
    "flag": _flag,
    "status": _status,
}


class Records(Sequence[dict[str, Any]]):
    """A read-only list of dicts with the same keys, stored by column.

    Parameters
    ----------
    keys
        The dicts' keys, in order.
    columns
        Per key, in ``keys`` order, how its values are stored:
        ``("same", value)`` when every dict has that value, ``("coded",
        uint8 codes, values)`` for a few values repeated, ``("objects",
        tuple)`` for object references, ``("numbers", float64 array,
        decoder)`` for numbers, turned back into the dict's value by
        ``decoder``.
    length
        The number of dicts.
    """

    __slots__ = ("_columns", "_keys", "_len")

    def __init__(
        self, keys: tuple[str, ...], columns: tuple[tuple[Any, ...], ...], length: int
    ) -> None:
        self._keys = keys
        self._columns = columns
        self._len = length

    def __len__(self) -> int:
        return self._len

    def _row(self, i: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, column in zip(self._keys, self._columns, strict=True):
            kind = column[0]
            if kind == "same":
                out[key] = column[1]
            elif kind == "objects":
                out[key] = column[1][i]
            elif kind == "coded":
                out[key] = column[2][column[1][i]]
            else:
                out[key] = column[2](column[1][i].item())
        return out

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


def _object_column(values: tuple[Any, ...], codable: bool) -> tuple[Any, ...]:
    first = values[0]
    if all(v is first for v in values):
        return ("same", first)
    if not codable:
        return ("objects", values)
    distinct = {id(v): v for v in values}
    if len(distinct) <= 255 and len(distinct) * 4 < len(values):
        # A few objects repeated (a bar's timestamp): one byte per row.
        position = {key: i for i, key in enumerate(distinct)}
        codes = np.fromiter((position[id(v)] for v in values), np.uint8, len(values))
        return ("coded", codes, tuple(distinct.values()))
    return ("objects", values)


def _number_column(
    values: tuple[float, ...], decoder: Callable[[float], Any], codable: bool
) -> tuple[Any, ...]:
    array = np.array(values, dtype=np.float64)
    first = array[0]
    if (array == first).all() or (first != first and np.isnan(array).all()):
        return ("same", decoder(float(first)))
    if not codable:
        return ("numbers", array, decoder)
    distinct, codes = np.unique(array, return_inverse=True)
    if len(distinct) <= 255 and not np.isnan(distinct).any() and len(distinct) * 4 < len(array):
        decoded = tuple(decoder(v) for v in distinct.tolist())
        return ("coded", codes.astype(np.uint8), decoded)
    return ("numbers", array, decoder)


# Keys whose values repeat across a bar's records (the bar's timestamps, statuses):
# worth coding. Ids, assets and quantities mostly differ row by row.
_CODABLE = frozenset({"dt", "created", "status", "stop_reached", "limit_reached", "amount"})


def _build(
    keys: tuple[str, ...],
    object_keys: tuple[str, ...],
    kinds: dict[str, str],
    rows_objects: Sequence[tuple[Any, ...]],
    rows_numbers: Sequence[tuple[float, ...]],
) -> Records:
    """Records of the rows; columns where every row has the same value keep one."""
    n = len(rows_objects)
    if not n:
        return Records(keys, tuple(("same", None) for _ in keys), 0)
    objects = dict(zip(object_keys, zip(*rows_objects, strict=True), strict=True))
    numeric = [k for k in keys if k not in objects]
    numbers = dict(zip(numeric, zip(*rows_numbers, strict=True), strict=True))
    columns = tuple(
        _object_column(objects[k], k in _CODABLE)
        if k in objects
        else _number_column(numbers[k], _DECODE[kinds[k]], k in _CODABLE)
        for k in keys
    )
    return Records(keys, columns, n)


_ORDER_KEYS = (
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
)
_ORDER_OBJECTS = ("id", "dt", "reason", "created", "sid")
_ORDER_KINDS = {
    "amount": "number",
    "filled": "number",
    "commission": "float",
    "stop": "optional",
    "limit": "optional",
    "stop_reached": "flag",
    "limit_reached": "flag",
    "status": "status",
}
_NAN = math.nan
_FILLED = float(OrderStatus.FILLED)  # the status of an order with nothing left to fill


def order_records(orders: Iterable[Order]) -> Records | list[dict[str, Any]]:
    """zipline's order dicts of ``orders`` (as :meth:`Order.to_dict`), stored compactly.

    Orders carrying a broker order id (live trading) have one more key; a
    list with any of them is returned as plain dicts.
    """
    orders = list(orders)
    if any(o.broker_order_id is not None for o in orders):
        return [o.to_dict() for o in orders]
    objects = [(o.id, o.dt, o.reason, o.created, o.asset) for o in orders]
    numbers = []
    for o in orders:
        # A session records thousands of orders, most filled whole (with the
        # order's own Decimal): one conversion for both, and no status call.
        amount, filled = o.amount, o.filled
        whole = filled is amount or filled == amount
        as_float = float(amount)
        numbers.append(
            (
                as_float,
                as_float if whole else float(filled),
                float(o.commission),
                _NAN if o.stop is None else o.stop,
                _NAN if o.limit is None else o.limit,
                1.0 if o.stop_reached else 0.0,
                1.0 if o.limit_reached else 0.0,
                _FILLED if whole else float(o.status),
            )
        )
    return _build(_ORDER_KEYS, _ORDER_OBJECTS, _ORDER_KINDS, objects, numbers)


_TXN_KEYS = ("amount", "dt", "price", "order_id", "sid", "commission")
_TXN_OBJECTS = ("dt", "order_id", "sid")
_TXN_KINDS = {"amount": "number", "price": "float", "commission": "optional"}


def transaction_records(transactions: Iterable[Transaction]) -> Records:
    """zipline's transaction dicts (as :meth:`Transaction.to_dict`), stored compactly."""
    txns = list(transactions)
    objects = [(t.dt, t.order_id, t.asset) for t in txns]
    numbers = [
        (
            float(t.amount),
            float(t.price),
            _NAN if t.commission is None else float(t.commission),
        )
        for t in txns
    ]
    return _build(_TXN_KEYS, _TXN_OBJECTS, _TXN_KINDS, objects, numbers)


_POSITION_KEYS = ("sid", "amount", "cost_basis", "last_sale_price")
_POSITION_OBJECTS = ("sid",)
_POSITION_KINDS = {"amount": "number", "cost_basis": "float", "last_sale_price": "float"}


def position_records(positions: Iterable[Position]) -> Records:
    """zipline's position dicts (as :meth:`Position.to_dict`) of the non-flat positions."""
    held = [p for p in positions if p.amount != 0]
    objects = [(p.asset,) for p in held]
    numbers = [p.float_values() for p in held]
    return _build(_POSITION_KEYS, _POSITION_OBJECTS, _POSITION_KINDS, objects, numbers)
