"""The simulation blotter: the simulated broker of a backtest.

The blotter keeps every order by id and the open ones by asset. On each bar
the simulation loop calls :meth:`SimulationBlotter.process_bar`, which runs
the open orders through their asset class's slippage model (one
:meth:`~rustybt.finance.models.slippage.SlippageModel.fill_bar` call per model for
the whole bar), prices the fills' commissions, books them on the orders and
reports the fills as events (:class:`~rustybt.brokers.BarFills`). Orders
placed during a bar are first looked at by the next ``process_bar`` call
(that is the loop's timing), and orders the blotter itself creates inside
``process_bar`` (bracket children) never fill in that same call.

Beyond zipline: one-cancels-the-other pairs (a fill on one leg cancels the
other) and brackets (an entry whose fills place linked take-profit and
stop-loss exits for the filled amount).

Examples
--------
>>> from decimal import Decimal
>>> from rustybt.assets import Equity
>>> from rustybt.assets.asset_types import exchange_info_for
>>> from rustybt.finance.orders.execution import LimitOrder
>>> blotter = SimulationBlotter()
>>> aapl = Equity(1, exchange_info_for("NYSE"), symbol="AAPL")
>>> oid = blotter.order(aapl, Decimal(100), LimitOrder(10.0))
>>> blotter.orders[oid].limit, blotter.open_orders[aapl][0].amount
(10.0, Decimal('100'))
>>> blotter.cancel(oid); blotter.orders[oid].status.name
'CANCELLED'
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from rustybt.assets import Asset, Equity
from rustybt.brokers.protocol import BarFills
from rustybt.exceptions import InvalidOrderError, OrderNotFoundError
from rustybt.finance.models.cancel_policy import CancelPolicy, NeverCancel
from rustybt.finance.models.commission import CommissionModel, PerShare
from rustybt.finance.models.slippage import FixedBasisPointsSlippage, SlippageModel
from rustybt.finance.orders.book import OrderBook
from rustybt.finance.orders.execution import (
    BracketOrder,
    ExecutionStyle,
    MarketOrder,
    OCOOrder,
)
from rustybt.finance.orders.order import Order
from rustybt.finance.orders.transaction import Transaction
from rustybt.finance.precision import DEFAULT_PRECISION, ZERO, PrecisionConfig
from rustybt.sim.clock import SESSION_END

__all__ = ["OrderBook", "SimulationBlotter"]

log = logging.getLogger("rustybt.brokers.simulated")
warning_logger = logging.getLogger("rustybt.AlgoWarning")

# Stateless: one instance serves every plain market order.
_MARKET = MarketOrder()

_Batch = list[tuple[Asset, tuple[Order, ...]]]


def _model_for(models: dict[type, Any], asset: Any) -> Any:
    """The model registered for ``asset``'s class or its nearest base class."""
    for cls in type(asset).__mro__:
        model = models.get(cls)
        if model is not None:
            return model
    # Asset types without a model of their own use the equity one.
    return models[Equity]


def _warn_cancelled(order: Order) -> None:
    symbol = getattr(order.asset, "symbol", "") or repr(order.asset)
    if order.filled > 0:
        warning_logger.warning(
            "Your order for %s shares of %s has been partially filled. %s shares were "
            "successfully purchased. %s shares were not filled by the end of day and "
            "were canceled.",
            order.amount,
            symbol,
            order.filled,
            order.amount - order.filled,
        )
    elif order.filled < 0:
        warning_logger.warning(
            "Your order for %s shares of %s has been partially filled. %s shares were "
            "successfully sold. %s shares were not filled by the end of day and "
            "were canceled.",
            order.amount,
            symbol,
            -order.filled,
            -(order.amount - order.filled),
        )
    else:
        warning_logger.warning(
            "Your order for %s shares of %s failed to fill by the end of day and was canceled.",
            order.amount,
            symbol,
        )


class SimulationBlotter:
    """The simulated broker: order book and fill engine of a backtest.

    Implements :class:`rustybt.brokers.Broker`.

    Parameters
    ----------
    precision
        Turns fill prices and quantities into Decimal.
    cancel_policy
        When open orders are cancelled automatically (default: never).
    equity_slippage, equity_commission
        Models for equities (defaults: ``FixedBasisPointsSlippage()`` and
        ``PerShare()``, as zipline).

    Attributes
    ----------
    open_orders : dict[Asset, list[Order]]
        Open orders by asset, oldest first.
    orders : OrderBook
        Every order placed, by id.
    new_orders : list[Order]
        Orders placed or changed (cancelled, rejected, held, created as
        bracket children) since the loop last collected them
        (:meth:`take_order_updates`).
    slippage_models, commission_models : dict[type, model]
        Models by asset class.
    archive_batch : int
        How many closed plain market orders wait, live, before they move
        together into the order book's columns (default 512).

    Examples
    --------
    >>> from rustybt.finance.models.slippage import VolumeShareSlippage
    >>> b = SimulationBlotter(equity_slippage=VolumeShareSlippage())
    >>> type(b.slippage_models[Equity]).__name__, type(b.commission_models[Equity]).__name__
    ('VolumeShareSlippage', 'PerShare')
    """

    def __init__(
        self,
        precision: PrecisionConfig = DEFAULT_PRECISION,
        cancel_policy: CancelPolicy | None = None,
        equity_slippage: SlippageModel | None = None,
        equity_commission: CommissionModel | None = None,
    ) -> None:
        self.precision = precision
        self.cancel_policy: CancelPolicy = cancel_policy or NeverCancel()
        self.slippage_models: dict[type, SlippageModel] = {
            Equity: equity_slippage or FixedBasisPointsSlippage()
        }
        self.commission_models: dict[type, CommissionModel] = {
            Equity: equity_commission or PerShare()
        }
        self.open_orders: dict[Asset, list[Order]] = defaultdict(list)
        self.orders: OrderBook = OrderBook()
        # Orders closed by earlier process_bar calls, not yet archived:
        # archived together once at least archive_batch of them wait and the
        # loop has recorded them (a batch costs about as much as an order).
        self._closed: list[Order] = []
        self.archive_batch = 512
        self.new_orders: list[Order] = []
        self.current_dt: Any = None
        # A Decimal: compared with every order's Decimal amount (an int costs a conversion).
        self.max_shares = Decimal(10**11)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(slippage_models={self.slippage_models}, "
            f"commission_models={self.commission_models}, open_orders={dict(self.open_orders)}, "
            f"current_dt={self.current_dt})"
        )

    def set_date(self, dt: Any) -> None:
        """Set the simulation time stamped on orders placed or changed from now on."""
        self.current_dt = dt

    # --- configuration -------------------------------------------------------

    def set_cancel_policy(self, policy: CancelPolicy) -> None:
        """What happens to open orders at a session's end."""
        self.cancel_policy = policy

    def set_slippage(self, asset_type: type, model: SlippageModel) -> None:
        """Fill orders of ``asset_type`` (and its subclasses) through ``model``."""
        self.slippage_models[asset_type] = model

    def set_commission(self, asset_type: type, model: CommissionModel) -> None:
        """Charge fills of ``asset_type`` (and its subclasses) through ``model``."""
        self.commission_models[asset_type] = model

    # --- placing orders -----------------------------------------------------

    def order(
        self,
        asset: Asset,
        amount: Decimal,
        style: ExecutionStyle | None = None,
        order_id: str | None = None,
        dt: Any = None,
        reference_price: float | None = None,
    ) -> str | None:
        """Place an order for ``amount`` units of ``asset``; return its id.

        Parameters
        ----------
        asset
            What to trade.
        amount
            A valid quantity of ``asset``'s class: a finite Decimal already
            rounded to its quantity places (:func:`rustybt.finance.orders.sizing.size_order`
            sizes and rounds every order of the API; the broker does not round
            again). Zero places nothing (None).
        style
            How to execute (default :class:`~rustybt.finance.orders.execution.MarketOrder`).
            An :class:`~rustybt.finance.orders.execution.OCOOrder` places two linked
            orders and returns the first one's id (the second is in its
            ``linked_ids``). A :class:`~rustybt.finance.orders.execution.BracketOrder`
            places the entry; its exits appear as it fills.
        order_id
            Use this id instead of a fresh one.
        dt
            Placement time (default :attr:`current_dt`).
        reference_price
            The price at placement; seeds a trailing stop's best price.

        Raises
        ------
        InvalidOrderError
            For a style that is not an ExecutionStyle, a bracket whose exits
            are on the wrong sides, or an order id already used.
        OverflowError
            For more than ``max_shares`` units (zipline's guard).
        """
        if not amount:
            return None
        if abs(amount) > self.max_shares:
            raise OverflowError(f"Can't order more than {self.max_shares} shares of {asset!r}")
        when = self.current_dt if dt is None else dt
        if order_id is not None and order_id in self.orders:
            raise InvalidOrderError(
                f"order id {order_id!r} is already used", context={"order_id": order_id}
            )
        if style is None:
            style = _MARKET
        else:
            style = _validate_style(style, asset)
            if isinstance(style, OCOOrder):
                first_id = order_id or Order.make_id()
                second_id = Order.make_id()
                self._place(
                    asset, amount, style.first, first_id, when, reference_price, (second_id,)
                )
                self._place(
                    asset, amount, style.second, second_id, when, reference_price, (first_id,)
                )
                return first_id
            if isinstance(style, BracketOrder):
                style.validate_direction(amount > 0, asset)
        return self._place(asset, amount, style, order_id, when, reference_price).id

    def _place(
        self,
        asset: Asset,
        qty: Decimal,
        style: ExecutionStyle,
        order_id: str | None,
        dt: Any,
        reference_price: float | None = None,
        linked_ids: tuple[str, ...] = (),
        parent_id: str | None = None,
    ) -> Order:
        """Build the order for ``qty`` of ``asset`` and file it as open (every order's way in)."""
        is_buy = qty > ZERO
        # Positional: keyword arguments cost a third of the Order's construction.
        order = Order(
            dt,
            asset,
            qty,
            style.get_stop_price(is_buy),
            style.get_limit_price(is_buy),
            ZERO,
            ZERO,
            order_id,
            style,
            parent_id,
            linked_ids,
        )
        if reference_price is not None:
            order.init_trailing(float(reference_price))
        self._file(order)
        return order

    def _file(self, order: Order) -> None:
        self.open_orders[order.asset].append(order)
        self.orders.add(order)
        self.new_orders.append(order)

    # --- cancelling, rejecting, holding ----------------------------------------

    def _get(self, order_id: str) -> Order | None:
        return self.orders.get(order_id)

    def _remove_open(self, orders: Iterable[Order]) -> None:
        """Take ``orders`` out of :attr:`open_orders`; an asset left without any leaves it.

        A batch (a bar closes many orders at once); one order is a 1-tuple.
        """
        open_orders = self.open_orders
        for order in orders:
            listed = open_orders.get(order.asset)
            if listed is not None and order in listed:
                listed.remove(order)
                if not listed:
                    del open_orders[order.asset]

    def _relay(self, order: Order, dt: Any) -> None:
        """Stamp ``order``'s change at ``dt`` and queue it (once) for the ledger."""
        if order in self.new_orders:
            self.new_orders.remove(order)
        order.dt = dt
        self.new_orders.append(order)

    def cancel(self, order_id: str, relay_status: bool = True) -> None:
        """Cancel an open order (unknown ids and closed orders are ignored, as zipline).

        ``relay_status`` puts the cancelled order in :attr:`new_orders` so the
        ledger records it.
        """
        order = self._get(order_id)
        if order is None or not order.open:
            return
        self._remove_open((order,))
        order.cancel()
        if relay_status:
            self._relay(order, self.current_dt)
        else:
            if order in self.new_orders:
                self.new_orders.remove(order)
            order.dt = self.current_dt

    def cancel_all_orders_for_asset(
        self, asset: Asset, warn: bool = False, relay_status: bool = True
    ) -> None:
        """Cancel every open order for ``asset``, logging a warning for each if ``warn``."""
        for order in list(self.open_orders.get(asset, ())):
            self.cancel(order.id, relay_status)
            if warn:
                _warn_cancelled(order)
        self.open_orders.pop(asset, None)

    def execute_cancel_policy(self, event: Any) -> None:
        """Cancel all open orders if the cancel policy says so at ``event``."""
        if self.cancel_policy.should_cancel(event):
            warn = self.cancel_policy.warn_on_cancel
            for asset in list(self.open_orders):
                self.cancel_all_orders_for_asset(asset, warn, relay_status=False)

    def execute_daily_cancel_policy(self, event: Any) -> None:
        """zipline's daily-mode variant, kept for result parity.

        zipline 3.2.1 cancels, per asset with *more than one* open order, only
        the oldest one (relaying the status). Use :meth:`execute_cancel_policy`
        for the plain rule.
        """
        if self.cancel_policy.should_cancel(event):
            warn = self.cancel_policy.warn_on_cancel
            for asset in list(self.open_orders):
                orders = self.open_orders.get(asset, [])
                if len(orders) > 1:
                    order = orders[0]
                    self.cancel(order.id, relay_status=True)
                    if warn:
                        _warn_cancelled(order)

    def reject(self, order_id: str, reason: str = "") -> None:
        """Mark an order rejected (involuntary, with a reason) and stop it filling."""
        order = self._get(order_id)
        if order is None:
            return
        self._remove_open((order,))
        order.reject(reason)
        self._relay(order, self.current_dt)

    def hold(self, order_id: str, reason: str = "") -> None:
        """Mark an open order held; it still fills and reopens on a fill."""
        order = self._get(order_id)
        if order is None or not order.open:
            return
        order.hold(reason)
        self._relay(order, self.current_dt)

    def get_order(self, order_id: str) -> Order:
        """The order with ``order_id``.

        Raises
        ------
        OrderNotFoundError
            If no such order was ever placed.
        """
        order = self._get(order_id)
        if order is None:
            raise OrderNotFoundError(f"no order with id {order_id!r}", {"order_id": order_id})
        return order

    # --- corporate actions --------------------------------------------------------

    def process_splits(self, splits: Iterable[tuple[Asset, float]]) -> None:
        """Resize open orders for ``(asset, ratio)`` splits; drop orders emptied by rounding."""
        for asset, ratio in splits:
            orders = self.open_orders.get(asset)
            if not orders:
                continue
            quantum = self.precision.for_asset(asset).quantity_quantum
            for order in orders:
                order.handle_split(ratio, quantum)
            for order in [o for o in orders if o.open_amount == 0]:
                orders.remove(order)
                if order in self.new_orders:
                    self.new_orders.remove(order)
            if not orders:
                del self.open_orders[asset]

    def end_session(self, daily: bool) -> None:
        """The cancel policy at a session's end (``daily``: zipline's daily-mode rule)."""
        if daily:
            self.execute_daily_cancel_policy(SESSION_END)
        else:
            self.execute_cancel_policy(SESSION_END)

    def take_order_updates(self) -> list[Order]:
        """The orders placed or changed since the last call, oldest change first."""
        updates, self.new_orders = self.new_orders, []
        return updates

    # --- fills ----------------------------------------------------------------------

    def process_bar(self, bar_data: Any) -> BarFills:
        """Fill what can be filled on the current bar; the fills as events.

        Each slippage model fills the open orders of its assets in one
        :meth:`~rustybt.finance.models.slippage.SlippageModel.fill_bar` call. Orders
        closed by this bar leave :attr:`open_orders` here; they stay live in
        the order book until the next call at least (the loop records them),
        then move, :attr:`archive_batch` at a time, into its columns.
        """
        fills = BarFills()
        if len(self._closed) >= self.archive_batch:
            self.orders.archive(self._closed)
            self._closed = []
        if not self.open_orders:
            return fills
        dt = bar_data.current_dt
        # Children placed by fills here join the book after the walk, so they
        # cannot fill in the call that created them.
        pending: list[Order] = []
        for slippage, commission_model, batch in self._batches():
            for order, txn in slippage.fill_bar(bar_data, batch, self.precision):
                cost = commission_model.calculate(order, txn)
                if cost:
                    fills.commissions.append({"asset": order.asset, "order": order, "cost": cost})
                if order.book_fill(txn.amount, txn.dt, cost):
                    fills.closed.append(order)
                fills.transactions.append(txn)
                fills.orders.append(order)
                style = order.style
                if order.linked_ids or (style is not None and style.places_exits):
                    self._after_fill(order, txn, dt, pending)
        self._remove_open(fills.closed)
        self._closed.extend(fills.closed)
        for child in pending:
            self._file(child)
        return fills

    def _batches(self) -> Iterator[tuple[SlippageModel, CommissionModel, _Batch]]:
        """The open orders (a snapshot) in runs of assets that share their models."""
        by_type: dict[type, tuple[SlippageModel, CommissionModel]] = {}
        run: _Batch = []
        models: tuple[SlippageModel, CommissionModel] | None = None
        for asset, orders in self.open_orders.items():
            pair = by_type.get(type(asset))
            if pair is None:
                pair = by_type[type(asset)] = (
                    _model_for(self.slippage_models, asset),
                    _model_for(self.commission_models, asset),
                )
            if pair is not models:
                if run:
                    assert models is not None
                    yield models[0], models[1], run
                run, models = [], pair
            run.append((asset, tuple(orders)))
        if run:
            assert models is not None
            yield models[0], models[1], run

    def _after_fill(self, order: Order, txn: Transaction, dt: Any, pending: list[Order]) -> None:
        """OCO cancellation and bracket exits after ``order`` got ``txn``."""
        for linked_id in order.linked_ids:
            sibling = self.orders.get(linked_id)
            if sibling is None:
                sibling = next((p for p in pending if p.id == linked_id), None)
            # A bracket entry links to its children; those are not siblings.
            if sibling is not None and sibling.parent_id != order.id and sibling.open:
                self._remove_open((sibling,))
                sibling.cancel()
                self._relay(sibling, dt)
        if isinstance(order.style, BracketOrder):
            self._bracket_exits(order, order.style, txn.amount, dt, pending)

    def _bracket_exits(
        self,
        parent: Order,
        style: BracketOrder,
        filled: Decimal,
        dt: Any,
        pending: list[Order],
    ) -> None:
        """Grow the open exit pair by ``filled``, or place a new pair for it."""
        by_id = {p.id: p for p in pending}
        children = [self.orders.get(i) or by_id.get(i) for i in parent.linked_ids]
        live = [c for c in children if c is not None and c.open]
        if len(live) == 2:
            for child in live:
                child.amount -= filled
                if child not in pending and child not in self.new_orders:
                    self.new_orders.append(child)
            return
        is_buy_exit = filled < 0
        tp_style = style.take_profit_style(is_buy_entry=not is_buy_exit)
        sl_style = style.stop_loss_style(is_buy_entry=not is_buy_exit)
        tp_id, sl_id = Order.make_id(), Order.make_id()
        for child_id, child_style, sibling in ((tp_id, tp_style, sl_id), (sl_id, sl_style, tp_id)):
            pending.append(
                Order(
                    dt=dt,
                    asset=parent.asset,
                    amount=-filled,
                    stop=child_style.get_stop_price(is_buy_exit),
                    limit=child_style.get_limit_price(is_buy_exit),
                    id=child_id,
                    style=child_style,
                    parent_id=parent.id,
                    linked_ids=(sibling,),
                )
            )
        parent.linked_ids = (*parent.linked_ids, tp_id, sl_id)

    def open_orders_for(self, asset: Asset | None = None) -> list[Order]:
        """Open orders of ``asset`` (all open orders if None), oldest first."""
        if asset is None:
            return [o for orders in self.open_orders.values() for o in orders]
        return list(self.open_orders.get(asset, ()))

    def children_of(self, order_id: str) -> list[Order]:
        """The bracket exits placed for the entry ``order_id`` so far."""
        order = self.get_order(order_id)
        return [
            self.orders[i]
            for i in order.linked_ids
            if i in self.orders and self.orders[i].parent_id == order_id
        ]


def _validate_style(style: Any, asset: Any) -> ExecutionStyle:
    if not isinstance(style, ExecutionStyle):
        raise InvalidOrderError(
            f"order for {asset!r}: style must be an ExecutionStyle, got {style!r}",
            context={"asset": asset, "style": style},
        )
    return style
