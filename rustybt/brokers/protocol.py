"""The Broker protocol: what the algorithm and the simulation loop ask of a broker.

A broker takes orders, says which are open, and reports what happened to
them as events: on each bar, the fills (transactions), their commissions and
the orders they closed (:class:`BarFills`); and, whenever asked, the orders
whose state changed since the last time (placed, cancelled, rejected, held:
:meth:`Broker.take_order_updates`). The simulated broker
(:class:`rustybt.brokers.simulated.SimulationBlotter`) makes those events from
bars; a paper or live broker makes them from its venue's messages. Order ids
are the broker's to give: ``order`` returns the id, and every later call
(``cancel``, ``get_order``) and every event names the order by it.

Examples
--------
>>> from rustybt.brokers import Broker
>>> from rustybt.brokers.simulated import SimulationBlotter
>>> isinstance(SimulationBlotter(), Broker)
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from rustybt.assets import Asset
from rustybt.finance.models.cancel_policy import CancelPolicy
from rustybt.finance.orders.execution import ExecutionStyle
from rustybt.finance.orders.order import Order
from rustybt.finance.orders.transaction import Transaction

__all__ = ["BarFills", "Broker"]


@dataclass(slots=True)
class BarFills:
    """What one bar did to the open orders.

    Attributes
    ----------
    transactions
        The fills, in the order they happened.
    orders
        The order of each fill (``orders[i]`` got ``transactions[i]``).
    commissions
        ``{"asset", "order", "cost"}`` for each fill with a non-zero commission.
    closed
        The orders that are no longer open after this bar's fills.
    """

    transactions: list[Transaction] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    commissions: list[dict[str, Any]] = field(default_factory=list)
    closed: list[Order] = field(default_factory=list)


@runtime_checkable
class Broker(Protocol):
    """Where orders go: the simulated blotter now, paper and live adapters later."""

    @property
    def orders(self) -> Mapping[str, Order]:
        """Every order the broker has taken, by id."""

    @property
    def open_orders(self) -> Mapping[Asset, list[Order]]:
        """The orders that may still fill, by asset, oldest first."""

    def set_date(self, dt: Any) -> None:
        """The time from now on: stamped on orders placed or changed."""

    def order(
        self, asset: Asset, amount: Decimal, style: ExecutionStyle | None = None
    ) -> str | None:
        """Place an order for ``amount`` (signed) units; return its id (None for zero).

        ``amount`` is already a valid quantity of the asset's class (sized and
        rounded once, by :func:`rustybt.finance.orders.sizing.size_order`, before the
        trading controls see it): the broker does not round it again.
        """

    def cancel(self, order_id: str, relay_status: bool = True) -> None:
        """Cancel an open order (unknown or closed ids are ignored)."""

    def cancel_all_orders_for_asset(
        self, asset: Asset, warn: bool = False, relay_status: bool = True
    ) -> None:
        """Cancel every open order of ``asset``."""

    def get_order(self, order_id: str) -> Order:
        """The order with ``order_id`` (raises OrderNotFoundError if unknown)."""

    def process_bar(self, bar_data: Any) -> BarFills:
        """Fill what the current bar fills; the fills as events."""

    def take_order_updates(self) -> list[Order]:
        """The orders placed or changed since the last call, oldest change first."""

    def end_session(self, daily: bool) -> None:
        """Apply the cancel policy at a session's end (``daily``: zipline's daily rule)."""

    def process_splits(self, splits: Iterable[tuple[Asset, float]]) -> None:
        """Resize open orders for ``(asset, ratio)`` splits."""

    def set_cancel_policy(self, policy: CancelPolicy) -> None:
        """What happens to open orders at a session's end."""

    def set_slippage(self, asset_type: type, model: Any) -> None:
        """The fill model of an asset type (a live broker fills at the venue and may refuse)."""

    def set_commission(self, asset_type: type, model: Any) -> None:
        """The cost model of an asset type (a live broker may refuse)."""
