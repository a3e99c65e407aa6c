"""Orders: what the algorithm asked for, and how much of it has filled.

An :class:`Order` carries a signed Decimal ``amount`` (positive buys,
negative sells), the Decimal ``filled`` so far, its accumulated Decimal
``commission``, and float ``limit``/``stop`` trigger levels compared against
float market prices. Trigger rules follow zipline: a buy stop is reached when
the price rises to the stop, a sell stop when it falls to it; a buy limit when
the price is at or below the limit, a sell limit at or above; a stop-limit
whose stop is reached turns into a plain limit order.

Examples
--------
>>> from decimal import Decimal
>>> from rustybt.assets import Equity
>>> from rustybt.assets.asset_types import exchange_info_for
>>> aapl = Equity(1, exchange_info_for("NYSE"), symbol="AAPL")
>>> o = Order(dt=None, asset=aapl, amount=100, limit=10.0)
>>> o.check_triggers(10.5, None); o.triggered
False
>>> o.check_triggers(9.9, None); o.triggered
True
>>> o.status, o.open_amount
(<OrderStatus.OPEN: 0>, Decimal('100'))
"""

from __future__ import annotations

import math
import os
import random
from decimal import ROUND_DOWN, Decimal
from enum import IntEnum
from typing import Any

from rustybt.exceptions import InvalidOrderError
from rustybt.finance.orders.execution import ExecutionStyle, TrailingStopOrder
from rustybt.finance.precision import ZERO, plain_number

__all__ = ["ORDER_STATUS", "Order", "OrderStatus", "as_order_amount"]


class OrderStatus(IntEnum):
    """Life-cycle states of an order (values as zipline's ``ORDER_STATUS``)."""

    OPEN = 0
    FILLED = 1
    CANCELLED = 2
    REJECTED = 3
    HELD = 4
    #: Reported by live brokers for a stop that has fired; the simulator keeps OPEN.
    TRIGGERED = 5


ORDER_STATUS = OrderStatus


def as_order_amount(amount: Any, asset: Any = None) -> Decimal:
    """``amount`` as a Decimal, refusing NaN, infinities and non-numbers.

    Raises
    ------
    InvalidOrderError
        Naming the asset and the offending amount.

    Examples
    --------
    >>> as_order_amount(10), as_order_amount(2.5)
    (Decimal('10'), Decimal('2.5'))
    """
    if isinstance(amount, Decimal):
        value = amount
    elif isinstance(amount, bool):
        value = Decimal(int(amount))
    elif isinstance(amount, int):
        value = Decimal(amount)
    else:
        try:
            f = float(amount)
        except (TypeError, ValueError) as exc:
            raise InvalidOrderError(
                f"invalid order amount {amount!r} for {asset!r}: not a number",
                context={"asset": asset, "amount": amount},
            ) from exc
        if not math.isfinite(f):
            raise InvalidOrderError(
                f"invalid order amount {amount!r} for {asset!r}: must be finite",
                context={"asset": asset, "amount": amount},
            )
        value = Decimal(repr(f))
    if not value.is_finite():
        raise InvalidOrderError(
            f"invalid order amount {amount!r} for {asset!r}: must be finite",
            context={"asset": asset, "amount": amount},
        )
    return value


# Order ids: 128 random bits as 32 hex digits, the shape of zipline's uuid4().hex,
# from a generator seeded by the OS (uuid4 reads os.urandom on every call).
_ids = random.Random(os.urandom(32))
# Drawn and formatted 1,024 at a time: one id at a time cost 1.5 us of an
# order's 5 (a minute-bar backtest places over a million).
_ID_BATCH = 1024
_spare_ids: list[str] = []


def _new_id() -> str:
    # pop, then refill on IndexError: between a check and a pop, a simulation
    # in another thread could take the last id.
    while True:
        try:
            return _spare_ids.pop()
        except IndexError:
            digits = _ids.getrandbits(128 * _ID_BATCH).to_bytes(16 * _ID_BATCH, "big").hex()
            _spare_ids.extend([digits[i : i + 32] for i in range(0, len(digits), 32)])


# Module constants: an enum member read through its class costs a Python call,
# and an IntEnum's hash another (orders are built and asked "open?" millions of times).
_OPEN = OrderStatus.OPEN
_HELD = OrderStatus.HELD


class Order:
    """An order for ``amount`` units of ``asset``.

    Parameters
    ----------
    dt
        Simulation time the order was placed (also its ``created``).
    asset
        What to trade.
    amount
        Signed quantity: > 0 buys, < 0 sells. Stored as Decimal.
    stop, limit
        Trigger levels (already tick-rounded by the execution style), or None.
    filled, commission
        Initial filled quantity and commission (for restoring state).
    id
        The order id; a fresh uuid4 hex string by default.
    style
        The :class:`~rustybt.finance.orders.execution.ExecutionStyle` it came from.
        A :class:`~rustybt.finance.orders.execution.TrailingStopOrder` makes the stop
        level trail the best price seen by :meth:`check_triggers`.
    parent_id
        The bracket entry this order protects, if it is a bracket child.
    linked_ids
        Ids of OCO siblings (cancelled when this order fills) and, for a
        bracket entry, of its children.

    Examples
    --------
    >>> from rustybt.assets import Equity
    >>> from rustybt.assets.asset_types import exchange_info_for
    >>> o = Order(None, Equity(1, exchange_info_for("NYSE")), -50, stop=9.5)
    >>> o.direction, o.triggered
    (-1, False)
    >>> o.check_triggers(9.4, None); o.triggered
    True
    """

    __slots__ = (
        "_status",
        "amount",
        "asset",
        "broker_order_id",
        "commission",
        "created",
        "direction",
        "dt",
        "filled",
        "id",
        "is_trailing",
        "limit",
        "limit_reached",
        "linked_ids",
        "parent_id",
        "reason",
        "rested",
        "stop",
        "stop_reached",
        "style",
        "trail_extreme",
    )

    def __init__(
        self,
        dt: Any,
        asset: Any,
        amount: Any,
        stop: float | None = None,
        limit: float | None = None,
        filled: Any = ZERO,
        commission: Any = ZERO,
        id: str | None = None,
        style: ExecutionStyle | None = None,
        parent_id: str | None = None,
        linked_ids: tuple[str, ...] = (),
    ) -> None:
        self.id: str = _new_id() if id is None else id
        self.dt = dt
        self.created = dt
        self.asset = asset
        # A finite Decimal is a quantity as the broker was given it (sized and
        # rounded by sizing.size_order); anything else is converted or refused here.
        if type(amount) is not Decimal or not amount.is_finite():
            amount = as_order_amount(amount, asset)
        self.amount: Decimal = amount
        # A new order's zeros (precision.ZERO, the defaults) need no check.
        self.filled: Decimal = filled if filled is ZERO else as_order_amount(filled, asset)
        self.commission: Decimal = (
            commission if commission is ZERO else as_order_amount(commission, asset)
        )
        self.reason: str | None = None
        self._status = _OPEN
        self.stop = stop
        self.limit = limit
        self.stop_reached = False
        self.limit_reached = False
        self.direction: int = 1 if amount >= ZERO else -1
        self.style = style
        #: Whether the stop level trails the price (a TrailingStopOrder's order).
        self.is_trailing = style is not None and style.trails
        self.parent_id = parent_id
        self.linked_ids: tuple[str, ...] = (
            linked_ids if type(linked_ids) is tuple else tuple(linked_ids)
        )
        self.broker_order_id: str | None = None
        # Best price seen since placement (highest for a trailing sell, lowest
        # for a trailing buy); None until the first price arrives.
        self.trail_extreme: float | None = None
        # True once a live limit order was checked against a bar without being
        # marketable -- it rested in the book (maker/taker commissions use it).
        self.rested = False

    # --- identity and zipline compatibility ------------------------------

    @staticmethod
    def make_id() -> str:
        """A fresh order id."""
        return _new_id()

    @property
    def sid(self) -> Any:
        """The asset (zipline's name for it in custom slippage models)."""
        return self.asset

    # --- state ------------------------------------------------------------

    @property
    def open_amount(self) -> Decimal:
        """Signed quantity still to fill."""
        return self.amount - self.filled

    @property
    def status(self) -> OrderStatus:
        """FILLED once nothing is left; a HELD order with fills reads as OPEN."""
        if not self.open_amount:
            return OrderStatus.FILLED
        if self._status == OrderStatus.HELD and self.filled:
            return OrderStatus.OPEN
        return self._status

    @status.setter
    def status(self, status: OrderStatus) -> None:
        self._status = status

    @property
    def open(self) -> bool:
        """Whether the order can still fill (OPEN or HELD)."""
        # status in (OPEN, HELD), spelled out: asked for every order at every bar.
        return self.amount != self.filled and (self._status == _OPEN or self._status == _HELD)

    @property
    def fully_filled(self) -> bool:
        """Whether the order filled its whole amount, never cancelled, rejected or held."""
        return self.amount == self.filled and self._status == _OPEN

    @property
    def triggered(self) -> bool:
        """Whether every trigger the order has was reached (market orders: always)."""
        if self.is_trailing and not self.stop_reached:
            return False
        if self.stop is not None and not self.stop_reached:
            return False
        return not (self.limit is not None and not self.limit_reached)

    def cancel(self) -> None:
        """Mark the order cancelled."""
        self.status = OrderStatus.CANCELLED

    def reject(self, reason: str = "") -> None:
        """Mark the order rejected, keeping the reason."""
        self.status = OrderStatus.REJECTED
        self.reason = reason

    def hold(self, reason: str = "") -> None:
        """Mark the order held, keeping the reason."""
        self.status = OrderStatus.HELD
        self.reason = reason

    def book_fill(self, amount: Decimal, dt: Any, commission: Decimal) -> bool:
        """Book a fill of ``amount`` at ``dt`` costing ``commission``; whether it closed the order.

        The one place an order's filled amount and commission grow.
        """
        # No new Decimal where the sum is one of its terms (an order keeps them all run).
        self.filled = self.filled + amount if self.filled else amount
        if commission:
            self.commission += commission
        self.dt = dt
        return not self.open

    # --- triggers -----------------------------------------------------------

    def init_trailing(self, price: float) -> None:
        """Seed a trailing stop with the price at placement (optional)."""
        if self.is_trailing and self.trail_extreme is None and math.isfinite(price):
            self._ratchet(price)

    def _ratchet(self, price: float) -> None:
        style = self.style
        assert isinstance(style, TrailingStopOrder)
        is_buy = self.amount > 0
        best = self.trail_extreme
        if best is None or (price < best if is_buy else price > best):
            self.trail_extreme = price
            self.stop = style.stop_level(price, is_buy)

    def check_triggers(self, price: float, dt: Any) -> None:
        """Update ``stop_reached``/``limit_reached`` against ``price``.

        ``dt`` becomes the order's ``dt`` when a trigger state changes. A
        stop-limit whose stop is reached loses its stop and becomes a limit
        order. A trailing stop first ratchets its level with ``price``.
        """
        if self.is_trailing and not self.stop_reached and not math.isnan(price):
            # Ratcheting never moves the level past the price, so ratchet-then-check
            # is the same as check-then-ratchet.
            self._ratchet(price)
        stop_reached, limit_reached, sl_stop_reached = self.check_order_triggers(price)
        if (stop_reached, limit_reached) != (self.stop_reached, self.limit_reached):
            self.dt = dt
        self.stop_reached = stop_reached
        self.limit_reached = limit_reached
        if sl_stop_reached:
            self.stop = None
        if self.limit is not None and self.stop is None and not self.limit_reached:
            self.rested = True

    def check_order_triggers(self, price: float) -> tuple[bool, bool, bool]:
        """``(stop_reached, limit_reached, stop_limit_stop_reached)`` at ``price``.

        Already triggered orders report their current state; NaN reaches nothing.
        """
        if self.triggered:
            return self.stop_reached, self.limit_reached, False
        stop, limit = self.stop, self.limit
        is_buy = self.amount > 0
        if stop is not None and limit is not None:
            stop_hit = price >= stop if is_buy else price <= stop
            if not stop_hit:
                return False, False, False
            return False, (price <= limit if is_buy else price >= limit), True
        if stop is not None:
            return (price >= stop if is_buy else price <= stop), False, False
        if limit is not None:
            return False, (price <= limit if is_buy else price >= limit), False
        return False, False, False

    # --- corporate actions --------------------------------------------------

    def handle_split(self, ratio: float, quantum: Decimal = Decimal(1)) -> None:
        """Adjust for a split: quantities divide by ``ratio``, prices multiply.

        Filled and open quantities are truncated separately (toward zero, to
        ``quantum``) so a reverse split cannot conjure an extra unit out of a
        fractional prior fill. Limit and stop levels round to cents, as zipline.
        """
        r = Decimal(repr(float(ratio)))
        remaining = (self.open_amount / r).quantize(quantum, ROUND_DOWN)
        self.filled = (self.filled / r).quantize(quantum, ROUND_DOWN) + 0
        self.amount = self.filled + remaining
        if self.limit is not None:
            self.limit = round(self.limit * ratio, 2)
        if self.is_trailing:
            style = self.style
            assert isinstance(style, TrailingStopOrder)
            if style.trail_amount is not None:
                # A fresh style: the user's instance may be shared by other orders.
                style = TrailingStopOrder(trail_amount=style.trail_amount * ratio)
                self.style = style
            if self.trail_extreme is not None:
                self.trail_extreme *= ratio
                self.stop = style.stop_level(self.trail_extreme, self.amount > 0)
        elif self.stop is not None:
            self.stop = round(self.stop * ratio, 2)

    # --- export -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The order as zipline's order dict (numbers as int/float, ``sid`` the asset)."""
        d: dict[str, Any] = {
            "id": self.id,
            "dt": self.dt,
            "reason": self.reason,
            "created": self.created,
            "amount": plain_number(self.amount),
            "filled": plain_number(self.filled),
            "commission": float(self.commission),
            "stop": self.stop,
            "limit": self.limit,
            "stop_reached": self.stop_reached,
            "limit_reached": self.limit_reached,
        }
        if self.broker_order_id is not None:
            d["broker_order_id"] = self.broker_order_id
        d["sid"] = self.asset
        d["status"] = self.status
        return d

    def __repr__(self) -> str:
        return f"Order({self.to_dict()!r})"
