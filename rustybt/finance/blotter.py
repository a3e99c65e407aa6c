"""The simulation blotter: open orders, and the fills they get bar by bar.

The blotter keeps every order by id and the open ones by asset. On each bar
the simulation loop calls :meth:`SimulationBlotter.get_transactions`, which
runs each asset's open orders through its slippage model, prices the fills'
commissions, updates the orders and reports transactions, commissions and
the orders that closed. Orders placed during a bar are first looked at by the
next ``get_transactions`` call (that is the loop's timing), and orders the
blotter itself creates inside ``get_transactions`` (bracket children) never
fill in that same call.

Beyond zipline: one-cancels-the-other pairs (a fill on one leg cancels the
other) and brackets (an entry whose fills place linked take-profit and
stop-loss exits for the filled amount).

Examples
--------
>>> from decimal import Decimal
>>> from rustybt.assets import Equity
>>> from rustybt.assets._assets import exchange_info_for
>>> from rustybt.finance.execution import LimitOrder
>>> blotter = SimulationBlotter()
>>> aapl = Equity(1, exchange_info_for("NYSE"), symbol="AAPL")
>>> oid = blotter.order(aapl, 100, LimitOrder(10.0))
>>> blotter.orders[oid].limit, blotter.open_orders[aapl][0].amount
(10.0, Decimal('100'))
>>> blotter.cancel(oid); blotter.orders[oid].status.name
'CANCELLED'
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, MutableMapping
from decimal import Decimal
from operator import attrgetter
from typing import Any

from rustybt.assets import Asset, Equity
from rustybt.exceptions import InvalidOrderError, OrderNotFoundError
from rustybt.finance.cancel_policy import CancelPolicy, NeverCancel
from rustybt.finance.commission import CommissionModel, NoCommission, PerShare
from rustybt.finance.execution import (
    BracketOrder,
    ExecutionStyle,
    MarketOrder,
    OCOOrder,
)
from rustybt.finance.order import _LIVE, _MARKET, Order, OrderStatus, as_order_amount
from rustybt.finance.precision import DEFAULT_PRECISION, PrecisionConfig
from rustybt.finance.records import _one_object
from rustybt.finance.slippage import FixedBasisPointsSlippage, SlippageModel
from rustybt.finance.transaction import Transaction

__all__ = ["OrderBook", "SimulationBlotter"]

log = logging.getLogger("rustybt.finance.blotter")
warning_logger = logging.getLogger("rustybt.AlgoWarning")

ZERO = Decimal(0)
_BASE_SIMULATE = SlippageModel.simulate


def _model_for(models: dict[type, Any], asset: Any) -> Any:
    """The model registered for ``asset``'s class or its nearest base class."""
    for cls in type(asset).__mro__:
        model = models.get(cls)
        if model is not None:
            return model
    # Asset types without a model of their own use the equity one.
    return models[Equity]


def _book_fill(
    order: Order,
    txn: Transaction,
    cost: Decimal,
    transactions: list[Transaction],
    commissions: list[dict[str, Any]],
) -> bool:
    """Apply ``txn`` and its commission ``cost`` to ``order``; whether it closed it."""
    # No new Decimal where the sum is one of its terms (an order keeps them
    # for the whole run).
    order.filled = order.filled + txn.amount if order.filled else txn.amount
    if cost:
        commissions.append({"asset": order.asset, "order": order, "cost": cost})
        order.commission += cost
    order.dt = txn.dt
    transactions.append(txn)
    return not order.open


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
        order = Order.market(_at(self.dt, i), self.asset[i], amount)
        order.id = order_id
        order.created = _at(self.created, i)
        order.filled = amount
        order.commission = _at(self.commission, i)
        return order


class _Same:
    """A column whose rows all hold ``value``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _column(values: list[Any]) -> tuple[Any, ...] | _Same:
    if _one_object(values):
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
        if self._batches and order_id in self._archived():
            raise InvalidOrderError(
                f"order id {order_id!r} is already used by a filled order",
                context={"order_id": order_id},
            )
        self._live[order_id] = order

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
            order.filled == order.amount
            and type(order.style) is MarketOrder
            and order._status == OrderStatus.OPEN
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


class SimulationBlotter:
    """Order book and fill engine of a backtest.

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
    orders : dict[str, Order]
        Every order placed, by id.
    new_orders : list[Order]
        Orders placed or changed (cancelled, rejected, held, created as
        bracket children) since the loop last collected them.
    slippage_models, commission_models : dict[type, model]
        Models by asset class.
    archive_batch : int
        How many closed plain market orders wait, live, before they move
        together into the order book's columns (default 512).

    Examples
    --------
    >>> from rustybt.finance.slippage import VolumeShareSlippage
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
        # Orders closed by earlier get_transactions calls, not yet archived:
        # archived together once at least archive_batch of them wait and the
        # loop has recorded them (a batch costs about as much as an order).
        self._closed: list[Order] = []
        self.archive_batch = 512
        # The closed list of the last get_transactions call if the plain lane
        # made it: its orders have left open_orders already.
        self._left_open: list[Order] | None = None
        self.new_orders: list[Order] = []
        self.current_dt: Any = None
        self.max_shares = int(1e11)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(slippage_models={self.slippage_models}, "
            f"commission_models={self.commission_models}, open_orders={dict(self.open_orders)}, "
            f"current_dt={self.current_dt})"
        )

    def set_date(self, dt: Any) -> None:
        """Set the simulation time stamped on orders placed or changed from now on."""
        self.current_dt = dt

    # --- placing orders -----------------------------------------------------

    def order(
        self,
        asset: Asset,
        amount: Any,
        style: ExecutionStyle | None = None,
        order_id: str | None = None,
        dt: Any = None,
        reference_price: float | None = None,
    ) -> str | None:
        """Place an order; return its id, or None when nothing is to be traded.

        Parameters
        ----------
        asset
            What to trade.
        amount
            Signed quantity; rounded toward zero to the asset class's
            quantity places. Zero after rounding places nothing (None).
        style
            How to execute (default :class:`~rustybt.finance.execution.MarketOrder`).
            An :class:`~rustybt.finance.execution.OCOOrder` places two linked
            orders and returns the first one's id (the second is in its
            ``linked_ids``). A :class:`~rustybt.finance.execution.BracketOrder`
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
            For a non-Asset, NaN/infinite amounts, a style that is not an
            ExecutionStyle, or a bracket whose exits are on the wrong sides.
        OverflowError
            For more than ``max_shares`` units (zipline's guard).
        """
        if not isinstance(asset, Asset):
            raise InvalidOrderError(
                f"can only order Assets, got {asset!r}", context={"asset": asset, "amount": amount}
            )
        qty = self.precision.quantity(asset, as_order_amount(amount, asset))
        if qty == 0:
            return None
        if abs(qty) > self.max_shares:
            raise OverflowError(f"Can't order more than {self.max_shares} shares of {asset!r}")
        style = MarketOrder() if style is None else _validate_style(style, asset)
        when = self.current_dt if dt is None else dt
        is_buy = qty > 0
        if isinstance(style, OCOOrder):
            first_id = order_id or Order.make_id()
            second_id = Order.make_id()
            self._place(asset, qty, style.first, first_id, when, reference_price, (second_id,))
            self._place(asset, qty, style.second, second_id, when, reference_price, (first_id,))
            return first_id
        if isinstance(style, BracketOrder):
            style.validate_direction(is_buy, asset)
        return self._place(asset, qty, style, order_id, when, reference_price).id

    def order_market(self, asset: Asset, qty: Decimal) -> str:
        """Place a market order for a validated ``asset`` and quantized, non-zero ``qty``.

        The engine's fast path for plain orders (the algorithm has already
        checked the asset and rounded the amount); the same as
        ``order(asset, qty)``.

        Raises
        ------
        OverflowError
            For more than ``max_shares`` units.
        """
        if abs(qty) > self.max_shares:
            raise OverflowError(f"Can't order more than {self.max_shares} shares of {asset!r}")
        order = Order.market(self.current_dt, asset, qty)
        self.open_orders[asset].append(order)
        # Straight into the live orders: a fresh id is no archived order's (the
        # book's check would look it up in a dict of every filled order).
        self.orders._live[order.id] = order
        self.new_orders.append(order)
        return order.id

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
        is_buy = qty > 0
        order = Order(
            dt=dt,
            asset=asset,
            amount=qty,
            stop=style.get_stop_price(is_buy),
            limit=style.get_limit_price(is_buy),
            id=order_id,
            style=style,
            parent_id=parent_id,
            linked_ids=linked_ids,
        )
        if reference_price is not None:
            order.init_trailing(float(reference_price))
        self.open_orders[asset].append(order)
        self.orders[order.id] = order
        self.new_orders.append(order)
        return order

    # --- cancelling, rejecting, holding ----------------------------------------

    def _get(self, order_id: str) -> Order | None:
        return self.orders.get(order_id)

    def _remove_open(self, order: Order) -> None:
        orders = self.open_orders.get(order.asset)
        if orders is not None and order in orders:
            orders.remove(order)
            if not orders:
                del self.open_orders[order.asset]

    def cancel(self, order_id: str, relay_status: bool = True) -> None:
        """Cancel an open order (unknown ids and closed orders are ignored, as zipline).

        ``relay_status`` puts the cancelled order in :attr:`new_orders` so the
        ledger records it.
        """
        order = self._get(order_id)
        if order is None or not order.open:
            return
        self._remove_open(order)
        if order in self.new_orders:
            self.new_orders.remove(order)
        order.cancel()
        order.dt = self.current_dt
        if relay_status:
            self.new_orders.append(order)

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
        self._remove_open(order)
        if order in self.new_orders:
            self.new_orders.remove(order)
        order.reject(reason)
        order.dt = self.current_dt
        self.new_orders.append(order)

    def hold(self, order_id: str, reason: str = "") -> None:
        """Mark an open order held; it still fills and reopens on a fill."""
        order = self._get(order_id)
        if order is None or not order.open:
            return
        if order in self.new_orders:
            self.new_orders.remove(order)
        order.hold(reason)
        order.dt = self.current_dt
        self.new_orders.append(order)

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

    # --- fills ----------------------------------------------------------------------

    def get_transactions(
        self, bar_data: Any
    ) -> tuple[list[Transaction], list[dict[str, Any]], list[Order]]:
        """Fill what can be filled on the current bar.

        A bar whose open orders are each their asset's only one, a plain
        market order, all through one slippage model that does not override
        ``simulate``, is filled in one call of the model's
        :meth:`~rustybt.finance.slippage.SlippageModel.fill_market_orders`
        (a rebalancing strategy's commonest bar); any other bar walks the
        assets one by one. Both give the same fills.

        Returns
        -------
        transactions
            The fills, in order.
        commissions
            ``{"asset", "order", "cost"}`` for each fill with a non-zero
            Decimal commission.
        closed_orders
            Orders that are no longer open after their fills (pass them to
            :meth:`prune_orders`).
        """
        transactions: list[Transaction] = []
        commissions: list[dict[str, Any]] = []
        closed: list[Order] = []
        if not self.open_orders:
            return transactions, commissions, closed
        dt = bar_data.current_dt
        # Children placed by fills here join the book after the walk, so they
        # cannot fill in the call that created them.
        pending: list[Order] = []
        precision = self.precision
        # The models of each asset class, looked up once per call.
        models: dict[type, tuple[SlippageModel, CommissionModel]] = {}
        plain = self._plain_orders(models)
        if plain is not None:
            self._fill_plain(bar_data, plain, models, transactions, commissions, closed)
            self._left_open = closed
            return transactions, commissions, closed
        for asset, asset_orders in list(self.open_orders.items()):
            pair = models.get(type(asset))
            if pair is None:
                pair = models[type(asset)] = self._models_for(asset)
            slippage, commission_model = pair
            snapshot = list(asset_orders)
            for order, txn in slippage.simulate(bar_data, asset, snapshot, precision):
                cost = commission_model.calculate(order, txn)
                if _book_fill(order, txn, cost, transactions, commissions):
                    closed.append(order)
                if order.linked_ids or isinstance(order.style, BracketOrder):
                    self._after_fill(order, txn, dt, pending)
        for child in pending:
            self.open_orders[child.asset].append(child)
            self.orders[child.id] = child
            self.new_orders.append(child)
        return transactions, commissions, closed

    def _models_for(self, asset: Asset) -> tuple[SlippageModel, CommissionModel]:
        return _model_for(self.slippage_models, asset), _model_for(self.commission_models, asset)

    def _plain_orders(
        self, models: dict[type, tuple[SlippageModel, CommissionModel]]
    ) -> list[Order] | None:
        """The open orders, if each is its asset's only one, a plain open market order,
        and all go through one slippage model that simulates as the base class does;
        else None. (``models`` gets the models of the asset classes seen.)
        """
        orders: list[Order] = []
        pair = None
        for asset, asset_orders in self.open_orders.items():
            if len(asset_orders) != 1:
                return None
            order = asset_orders[0]
            if (
                order.style is not _MARKET
                or order.linked_ids
                or order.amount == order.filled  # Order.open, inlined
                or order._status not in _LIVE
            ):
                return None
            seen = models.get(type(asset))
            if seen is None:
                seen = models[type(asset)] = self._models_for(asset)
            if seen is not pair:
                if pair is not None and seen != pair:
                    return None
                pair = seen
            orders.append(order)
        if pair is None or type(pair[0]).simulate is not _BASE_SIMULATE:
            return None
        return orders

    def _fill_plain(
        self,
        bar_data: Any,
        orders: list[Order],
        models: dict[type, tuple[SlippageModel, CommissionModel]],
        transactions: list[Transaction],
        commissions: list[dict[str, Any]],
        closed: list[Order],
    ) -> None:
        """get_transactions for the orders :meth:`_plain_orders` found: the commonest
        bar of a rebalancing strategy, in one model call and one flat loop.

        The same fills, commissions and order changes as the general walk (a
        plain order has no triggers, siblings or exits), and an asset whose
        order closed leaves :attr:`open_orders` here rather than in
        :meth:`prune_orders`.
        """
        slippage, commission_model = models[type(orders[0].asset)]
        fills = slippage.fill_market_orders(bar_data, orders, self.precision)
        # NoCommission's cost is zero whatever the fill: no call per fill.
        free = type(commission_model).calculate is NoCommission.calculate
        open_orders = self.open_orders
        for order, txn in zip(orders, fills, strict=True):
            if txn is None:
                continue
            if free:
                # _book_fill without a commission: a plain open order closes
                # when it has filled its amount (its status stays open).
                filled = order.filled
                order.filled = filled = filled + txn.amount if filled else txn.amount
                order.dt = txn.dt
                transactions.append(txn)
                closes = filled == order.amount
            else:
                cost = commission_model.calculate(order, txn)
                closes = _book_fill(order, txn, cost, transactions, commissions)
            if closes:
                closed.append(order)
                del open_orders[order.asset]

    def _after_fill(self, order: Order, txn: Transaction, dt: Any, pending: list[Order]) -> None:
        """OCO cancellation and bracket exits after ``order`` got ``txn``."""
        for linked_id in order.linked_ids:
            sibling = self.orders.get(linked_id)
            if sibling is None:
                sibling = next((p for p in pending if p.id == linked_id), None)
            # A bracket entry links to its children; those are not siblings.
            if sibling is not None and sibling.parent_id != order.id and sibling.open:
                self._cancel_at(sibling, dt)
        if isinstance(order.style, BracketOrder):
            self._bracket_exits(order, order.style, txn.amount, dt, pending)

    def _cancel_at(self, order: Order, dt: Any) -> None:
        self._remove_open(order)
        if order in self.new_orders:
            self.new_orders.remove(order)
        order.cancel()
        order.dt = dt
        self.new_orders.append(order)

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

    def prune_orders(self, closed_orders: Iterable[Order]) -> None:
        """Drop closed orders from :attr:`open_orders` (and assets left without orders).

        Plain market orders closed by earlier calls move into the order book's
        columns (:meth:`OrderBook.archive`), at least :attr:`archive_batch` at
        a time; this call's orders stay live until the next call at least, so
        the caller can still record them.
        """
        pending = self._closed
        if len(pending) >= self.archive_batch:
            self.orders.archive(pending)
            pending = self._closed = []
        left_open = closed_orders is self._left_open
        self._left_open = None
        closed_orders = list(closed_orders)
        pending.extend(closed_orders)
        if left_open:
            return
        for order in closed_orders:
            orders = self.open_orders.get(order.asset)
            if orders is not None and order in orders:
                orders.remove(order)
        for asset in [a for a, orders in self.open_orders.items() if not orders]:
            del self.open_orders[asset]

    def orders_of(self, transactions: Iterable[Transaction]) -> list[Order]:
        """The order of each of ``transactions`` (a bar's fills: their orders are live)."""
        book = self.orders
        live = book._live
        return [live.get(t.order_id) or book[t.order_id] for t in transactions]

    # --- helpers for callers --------------------------------------------------------

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
