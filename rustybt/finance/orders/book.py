"""The order book: every order a broker took, by id.

Live orders are :class:`~rustybt.finance.orders.order.Order` objects; completely
filled plain market orders move, a batch at a time, into columns (a backtest
places millions and rarely looks one up again) and come back as a new Order
when asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from operator import attrgetter
from typing import Any

from rustybt.exceptions import InvalidOrderError
from rustybt.finance.ledger.records import one_object
from rustybt.finance.orders.execution import MarketOrder
from rustybt.finance.orders.order import Order

__all__ = ["OrderBook"]


class _Filled:
    """One batch of archived orders: their fields by column (one value if uniform)."""

    __slots__ = ("amount", "asset", "commission", "created", "dt", "ids")

    def __init__(self, orders: list[Order]) -> None:
        self.ids = tuple(map(_ID, orders))
        self.asset = tuple(map(_ASSET, orders))
        self.amount = tuple(map(_AMOUNT, orders))
        self.dt = _column(list(map(_DT, orders)))
        self.created = _column(list(map(_CREATED, orders)))
        self.commission = _column(list(map(_COMMISSION, orders)))

    def rebuild(self, order_id: str) -> Order:
        i = self.ids.index(order_id)
        amount = self.amount[i]
        order = Order(
            _at(self.dt, i),
            self.asset[i],
            amount,
            filled=amount,
            commission=_at(self.commission, i),
            id=order_id,
            style=MarketOrder(),
        )
        order.created = _at(self.created, i)
        return order


class _Same:
    """A column whose rows all hold ``value``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _column(values: list[Any]) -> tuple[Any, ...] | _Same:
    if one_object(values):
        return _Same(values[0])
    return tuple(values)


_ID, _ASSET, _AMOUNT, _DT, _CREATED, _COMMISSION = map(
    attrgetter, ("id", "asset", "amount", "dt", "created", "commission")
)


def _at(column: tuple[Any, ...] | _Same, i: int) -> Any:
    return column.value if isinstance(column, _Same) else column[i]


class OrderBook(MutableMapping[str, Order]):
    """Every order by id: live ones as :class:`Order` objects, old fills by column.

    A backtest places an order or two per asset and bar, and zipline's API
    keeps them all reachable by id. Plain market orders that filled
    completely are moved by :meth:`archive`, a batch at a time, into columns
    (their Decimals and timestamps are shared with the fills, so an order
    costs a few references) and rebuilt as a new :class:`Order` when asked for.
    The index from an archived id to its batch is built on the first such
    request, and kept from then on.
    """

    def __init__(self) -> None:
        self._live: dict[str, Order] = {}
        self._batches: list[_Filled] = []
        self._archived_count = 0
        # id -> batch of the archived orders, built when first asked for: a
        # backtest archives millions of orders and rarely looks one up.
        self._index: dict[str, _Filled] | None = None

    def _archived(self) -> dict[str, _Filled]:
        if self._index is None:
            self._index = {i: batch for batch in self._batches for i in batch.ids}
        return self._index

    def __getitem__(self, order_id: str) -> Order:
        order = self._live.get(order_id)
        if order is not None:
            return order
        if not self._batches:
            raise KeyError(order_id)
        return self._archived()[order_id].rebuild(order_id)

    def __setitem__(self, order_id: str, order: Order) -> None:
        if order_id in self:
            raise InvalidOrderError(
                f"order id {order_id!r} is already used", context={"order_id": order_id}
            )
        self._live[order_id] = order

    def add(self, order: Order) -> None:
        """File a new order whose id is fresh (one the broker drew, never used before)."""
        self._live[order.id] = order

    def live(self, order_id: str) -> Order | None:
        """The order with ``order_id`` if it is not archived (else None)."""
        return self._live.get(order_id)

    def __delitem__(self, order_id: str) -> None:
        if order_id in self._live:
            del self._live[order_id]
            return
        raise KeyError(order_id)

    def __contains__(self, order_id: object) -> bool:
        if order_id in self._live:
            return True
        return bool(self._batches) and order_id in self._archived()

    def __iter__(self) -> Iterator[str]:
        for batch in self._batches:
            yield from batch.ids
        yield from self._live

    def __len__(self) -> int:
        return len(self._live) + self._archived_count

    @staticmethod
    def archivable(order: Order) -> bool:
        """Whether ``order`` is a completely filled plain market order."""
        return (
            order.fully_filled
            and type(order.style) is MarketOrder
            and order.reason is None
            and order.broker_order_id is None
            and order.parent_id is None
            and not order.linked_ids
        )

    def archive(self, orders: Iterable[Order]) -> None:
        """Move the archivable ``orders`` from the live dict into one column batch."""
        live = self._live
        batch = [o for o in orders if live.get(o.id) is o and self.archivable(o)]
        if not batch:
            return
        filled = _Filled(batch)
        self._batches.append(filled)
        self._archived_count += len(batch)
        for order in batch:
            del live[order.id]
        if self._index is not None:
            self._index.update(dict.fromkeys(filled.ids, filled))
