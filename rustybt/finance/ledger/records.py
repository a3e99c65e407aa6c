"""Compact, read-only lists of zipline's order, transaction and position dicts.

The performance DataFrame holds, for every session, the orders, fills and
positions of that session as lists of dicts (zipline's format). Kept as
dicts, a ten-year backtest of hundreds of assets holds millions of them:
most of its memory and much of the garbage collector's work. A
:class:`Records` stores the same values by column (object references in
tuples, numbers in float64 arrays, a column of one repeated value once, a
few values repeated as one-byte codes) and builds each dict when it is read.
Fills need no columns: the ledger keeps every fill, unchanged, for the whole
run, so their records hold the fill objects themselves.
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

import math
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from rustybt.finance.ledger.position import Position
from rustybt.finance.orders.order import Order, OrderStatus
from rustybt.finance.orders.transaction import Transaction
from rustybt.finance.precision import plain_number

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
        ``decoder``, ``("decimals", tuple, decoder)`` for Decimals held by
        reference, turned into the dict's value by ``decoder`` when read.
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
            elif kind == "decimals":
                out[key] = column[2](column[1][i])
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
    if len(values) == 1:
        return ("same", values[0])
    # By identity, through C-level maps: a session's column has thousands of rows.
    ids = list(map(id, values))
    if ids.count(ids[0]) == len(ids):
        return ("same", values[0])
    if not codable:
        return ("objects", values)
    distinct = dict(zip(ids, values, strict=True))
    if len(distinct) <= 255 and len(distinct) * 4 < len(values):
        # A few objects repeated (a bar's timestamp): one byte per row.
        position = {key: i for i, key in enumerate(distinct)}
        codes = np.fromiter(map(position.__getitem__, ids), np.uint8, len(values))
        return ("coded", codes, tuple(distinct.values()))
    return ("objects", values)


def _number_column(
    values: npt.NDArray[np.float64] | list[float], decoder: Callable[[float], Any], codable: bool
) -> tuple[Any, ...]:
    if len(values) == 1:  # one row holds one value (without NumPy's per-call cost)
        return ("same", decoder(float(values[0])))
    array = np.asarray(values, dtype=np.float64)
    first = array[0]
    if (array == first).all() or (first != first and np.isnan(array).all()):
        return ("same", decoder(float(first)))
    # Coded only when few values repeat: counted first in a set (cheaper than
    # np.unique, which most columns, all different, would not use).
    if not codable or len(set(array.tolist())) * 4 >= len(array):
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
    kinds: dict[str, str],
    objects: dict[str, tuple[Any, ...]],
    numbers: dict[str, Any],
    n: int,
) -> Records:
    """Records of ``n`` rows given by column: ``objects`` (tuples of references)
    and ``numbers`` (float64 arrays, or a column already stored as ``("same",
    value)``); columns where every row has the same value keep one."""
    if not n:
        return _empty(keys)
    columns = []
    for k in keys:
        if k in objects:
            columns.append(_object_column(objects[k], k in _CODABLE))
            continue
        values = numbers[k]
        if type(values) is tuple:  # a column known to hold one value
            columns.append(values)
        else:
            columns.append(_number_column(values, _DECODE[kinds[k]], k in _CODABLE))
    return Records(keys, tuple(columns), n)


# keys -> the empty Records with those keys. Records never change, so most
# sessions (no orders, no fills) share one instead of building their own.
_EMPTY: dict[tuple[str, ...], Records] = {}


def _empty(keys: tuple[str, ...]) -> Records:
    """The empty :class:`Records` with ``keys`` (one shared object per key tuple)."""
    empty = _EMPTY.get(keys)
    if empty is None:
        empty = _EMPTY[keys] = Records(keys, tuple(("same", None) for _ in keys), 0)
    return empty


def one_object(values: Sequence[Any]) -> bool:
    """Whether every item of non-empty ``values`` is the same object (by identity, in C)."""
    return list(map(id, values)).count(id(values[0])) == len(values)


def _optional_column(values: list[Any], n: int) -> Any:
    """Optional numbers as floats (None as NaN; NumPy converts Decimals):
    ``("same", None)`` when all are None."""
    if values.count(None) == n:
        return ("same", None)
    return np.array([_NAN if v is None else v for v in values], dtype=np.float64)


def _flag_column(values: list[bool], n: int) -> Any:
    """Flags: ``("same", False)`` when none is set."""
    if values.count(False) == n:
        return ("same", False)
    return np.array(values, dtype=np.float64)


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
_ORDER_KINDS = {
    "commission": "float",
    "amount": "number",
    "filled": "number",
    "stop": "optional",
    "limit": "optional",
    "stop_reached": "flag",
    "limit_reached": "flag",
    "status": "status",
}
_NAN = math.nan
_FILLED = float(OrderStatus.FILLED)  # the status of an order with nothing left to fill
_ID, _DT, _REASON, _CREATED, _ASSET = map(
    operator.attrgetter, ("id", "dt", "reason", "created", "asset")
)
_AMOUNT, _FILLED_AMOUNT, _COMMISSION = map(operator.attrgetter, ("amount", "filled", "commission"))
_STOP, _LIMIT, _STOP_REACHED, _LIMIT_REACHED, _BROKER_ID = map(
    operator.attrgetter, ("stop", "limit", "stop_reached", "limit_reached", "broker_order_id")
)


def order_records(orders: Iterable[Order]) -> Records | list[dict[str, Any]]:
    """zipline's order dicts of ``orders`` (as :meth:`Order.to_dict`), stored compactly.

    Orders carrying a broker order id (live trading) have one more key; a
    list with any of them is returned as plain dicts.
    """
    orders = list(orders)
    n = len(orders)
    if not n:  # most sessions of a typical strategy
        return _empty(_ORDER_KEYS)
    if list(map(_BROKER_ID, orders)).count(None) != n:
        return [o.to_dict() for o in orders]
    # Column by column, through C-level getters: a session records thousands
    # of orders, most filled whole (with the order's own Decimal).
    # Quantities stay the orders' own Decimals (the order book keeps them
    # anyway) and become numbers when read: no conversion at the session's end.
    amounts = tuple(map(_AMOUNT, orders))
    filleds = tuple(map(_FILLED_AMOUNT, orders))
    numbers: dict[str, Any] = {"amount": ("decimals", amounts, plain_number)}
    # An order filled whole in one fill holds its amount's own Decimal as
    # filled; the few others (open at the session's end) are compared.
    partial = [
        i
        for i, (filled, amount) in enumerate(zip(filleds, amounts, strict=True))
        if filled is not amount and filled != amount
    ]
    if partial:
        statuses = np.full(n, _FILLED)
        statuses[partial] = [float(orders[i].status) for i in partial]
        numbers["filled"] = ("decimals", filleds, plain_number)
        numbers["status"] = statuses
    else:
        numbers["filled"] = numbers["amount"]
        numbers["status"] = ("same", OrderStatus.FILLED)
    numbers["commission"] = np.fromiter(map(float, map(_COMMISSION, orders)), np.float64, n)
    numbers["stop"] = _optional_column(list(map(_STOP, orders)), n)
    numbers["limit"] = _optional_column(list(map(_LIMIT, orders)), n)
    numbers["stop_reached"] = _flag_column(list(map(_STOP_REACHED, orders)), n)
    numbers["limit_reached"] = _flag_column(list(map(_LIMIT_REACHED, orders)), n)
    objects = {
        "id": tuple(map(_ID, orders)),
        "dt": tuple(map(_DT, orders)),
        "reason": tuple(map(_REASON, orders)),
        "created": tuple(map(_CREATED, orders)),
        "sid": tuple(map(_ASSET, orders)),
    }
    return _build(_ORDER_KEYS, _ORDER_KINDS, objects, numbers, n)


class _FillRecords(Records):
    """Records of fills kept as the :class:`Transaction` objects themselves.

    The ledger keeps every fill for the whole run and a fill never changes,
    so the session's records need only the references: no column is built
    when the session closes, and each dict is built by
    :meth:`Transaction.to_dict` when it is read.
    """

    __slots__ = ("_fills",)

    def __init__(self, fills: tuple[Transaction, ...]) -> None:
        super().__init__(_TXN_KEYS, (), len(fills))
        self._fills = fills

    def _row(self, i: int) -> dict[str, Any]:
        return self._fills[i].to_dict()


_TXN_KEYS = ("amount", "dt", "price", "order_id", "sid", "commission")
# The records of a session without fills (most of them), shared: records never change.
_NO_FILLS = _FillRecords(())


def transaction_records(transactions: Iterable[Transaction]) -> Records:
    """zipline's transaction dicts (as :meth:`Transaction.to_dict`), built when read.

    The fills must not change afterwards (the ledger's never do).
    """
    fills = tuple(transactions)
    return _FillRecords(fills) if fills else _NO_FILLS


_POSITION_KEYS = ("sid", "amount", "cost_basis", "last_sale_price")
_POSITION_KINDS = {"amount": "number", "cost_basis": "float", "last_sale_price": "float"}


def position_records(positions: Iterable[Position]) -> Records:
    """zipline's position dicts (as :meth:`Position.to_dict`) of ``positions``.

    Stored as floats (a run keeps one record per position and session), each
    column converted in one C loop over the positions' Decimals.
    """
    held = list(positions)
    n = len(held)
    if not n:
        return _empty(_POSITION_KEYS)
    objects = {"sid": tuple(map(_ASSET, held))}
    numbers = {
        key: np.fromiter(map(float, map(operator.attrgetter(key), held)), np.float64, n)
        for key in _POSITION_KINDS
    }
    return _build(_POSITION_KEYS, _POSITION_KINDS, objects, numbers, n)
