"""The order path: from an order function's call to an order at the broker.

Every order function of the API (``order``, ``order_value``,
``order_percent``, ``order_target``, ``order_target_value``,
``order_target_percent``, ``batch_market_order``) goes through
:meth:`OrderRouter.place`: is ordering allowed now, is the asset tradeable
in this session, what quantity is asked for (:mod:`rustybt.finance.orders.sizing`),
do the trading controls allow it, then the broker takes it.

Examples
--------
>>> from rustybt.brokers.simulated import SimulationBlotter
>>> router = OrderRouter(SimulationBlotter(), asset_finder=None)
>>> router.phase
'initialize'
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, getcontext
from typing import Any, Final, NamedTuple

import pandas as pd

from rustybt.assets import Asset
from rustybt.brokers.protocol import Broker
from rustybt.exceptions import InvalidOrderError, OrderRejectedError, ValidationError
from rustybt.finance.orders.execution import ExecutionStyle, execution_style
from rustybt.finance.orders.sizing import Unit, size_order
from rustybt.finance.precision import (
    DEFAULT_PRECISION,
    ZERO,
    AssetClassPrecision,
    PrecisionConfig,
    to_decimal,
)
from rustybt.finance.risk.controls import TradingControl

__all__ = ["BAR", "BEFORE_TRADING_START", "INITIALIZE", "OrderRouter", "Tradeable"]

#: The phases of a run, as far as ordering goes: only bars may order.
INITIALIZE: Final = "initialize"
BEFORE_TRADING_START: Final = "before_trading_start"
BAR: Final = "bar"

_NEVER = -(2**63)
_ALWAYS = 2**63


class Tradeable(NamedTuple):
    """What the router knows of an asset, found once per asset (:meth:`OrderRouter.tradeable`)."""

    #: The asset.
    asset: Asset
    #: Its first and last tradeable session (ns; the last is its auto-close date if earlier).
    first_ns: int
    last_ns: int
    #: Its asset class's quantity rules.
    rules: AssetClassPrecision
    #: Its portal column (the bar's price row is indexed by it).
    column: int


class OrderRouter:
    """Checks, sizes and places the algorithm's orders at its broker.

    Parameters
    ----------
    broker
        Where orders go.
    asset_finder
        Knows which assets exist (an order for an unknown one is refused).
    precision
        The quantity rules of each asset class.

    Attributes
    ----------
    phase
        ``"initialize"``, ``"before_trading_start"`` or ``"bar"``: set by the
        simulation loop; orders are refused outside bars.
    session
        The current session (set by the loop at each session's start).
    trading_controls
        The controls every order must pass (set in initialize).
    """

    def __init__(
        self,
        broker: Broker,
        asset_finder: Any,
        precision: PrecisionConfig = DEFAULT_PRECISION,
    ) -> None:
        self.broker = broker
        self.asset_finder = asset_finder
        self.precision = precision
        self.phase: str = INITIALIZE
        self.session: pd.Timestamp | None = None
        self._session_ns = _NEVER
        self.dt: Any = None
        self.trading_controls: list[TradingControl] = []
        # Bound by the loop when the simulation starts.
        self._data: Any = None
        self.ledger: Any = None
        self._portfolio_value: Callable[[], Decimal] | None = None
        self._portfolio: Callable[[], Any] | None = None
        # Per asset, found once (a cache: an asset's span, class and column never
        # change in a run): the asset, its first and last tradeable session (ns),
        # its class's quantity rules and its portal column.
        self._spans: dict[int, Tradeable] = {}
        # The assets found tradeable in the current session, by id(): a cache of
        # tradeable()'s answer, kept from session to session until the earliest of
        # their last sessions has passed (sessions only move forward; a step back or
        # bind forgets them all). Each entry holds its asset, so its id is not reused.
        self._tradeable_now: dict[int, Tradeable] = {}
        self._tradeable_until = _ALWAYS
        # The bar's prices by portal column, read once per bar (set_date clears it).
        self._prices: list[float] | None = None

    def bind(
        self,
        data: Any,
        ledger: Any,
        portfolio_value: Callable[[], Decimal],
        portfolio: Callable[[], Any],
    ) -> None:
        """What sizing and controls read: the bar data, the ledger (its positions),
        and the portfolio value and portfolio marked to the current time."""
        self._data = data
        self._spans.clear()
        self._forget_tradeable()
        self.ledger = ledger
        self._portfolio_value = portfolio_value
        self._portfolio = portfolio

    def start_session(self, session: pd.Timestamp) -> None:
        """The session the next orders are checked against."""
        ns = session.value
        if ns < self._session_ns or ns > self._tradeable_until:
            self._forget_tradeable()
        self.session = session
        self._session_ns = ns

    def _forget_tradeable(self) -> None:
        self._tradeable_now.clear()
        self._tradeable_until = _ALWAYS

    def set_date(self, dt: Any) -> None:
        """The current time: orders are stamped with it."""
        self.dt = dt
        self._prices = None
        self.broker.set_date(dt)

    # --- the order path -----------------------------------------------------------

    def place(
        self,
        call: str,
        asset: Any,
        number: Any,
        unit: str,
        target: bool,
        limit_price: Any = None,
        stop_price: Any = None,
        style: ExecutionStyle | None = None,
    ) -> str | None:
        """Place the order ``call`` asks for; its id, or None when there is nothing to trade.

        Parameters
        ----------
        call
            The API function's name (for messages).
        asset
            What to trade.
        number, unit, target
            The function's number, what it counts, and whether it is the
            position to reach (see :func:`rustybt.finance.orders.sizing.size_order`).
        limit_price, stop_price, style
            How to execute (default: a market order).

        Raises
        ------
        OrderRejectedError
            Outside a bar, for an asset not trading in this session, or
            without a price to size a value or a fraction.
        InvalidOrderError
            For something that is not a known asset, a number that is not finite
            or too large for exact Decimal sizing, or a number of units that is not a
            whole number of the asset's quantity steps (see
            :func:`~rustybt.finance.orders.sizing.size_order`).
        TradingControlViolation
            When a control with ``on_error="fail"`` refuses the order.
        """
        if self.phase != BAR:
            self.check_can_order(call)
        span = self._tradeable_now.get(id(asset))
        if span is None or span.asset is not asset:
            span = self.tradeable(asset, call)
        try:
            if isinstance(number, str):
                # to_decimal reads numeric text; an order amount is a number (zipline's rule).
                raise ValidationError(f"{number!r} is text")
            number = to_decimal(number)
        except ValidationError as exc:
            raise InvalidOrderError(
                f"invalid order amount {number!r} for {asset!r} at {self.dt}: "
                "must be a finite number",
                context={"asset": repr(asset), "amount": repr(number), "dt": str(self.dt)},
            ) from exc
        price = None
        if unit != Unit.SHARES:
            # zipline's check: a value or a fraction needs the current price.
            prices = self._prices
            if prices is None:
                # BarData.spot is this row at the asset's column; one read a bar.
                prices = self._prices = self._data.spot_row("price")
            price = prices[span.column]
            if price is None or price - price != 0.0:  # None, NaN or infinite
                raise OrderRejectedError(
                    f"{call}(): no price for {asset!r} at {self.dt}; cannot size the order",
                    context={"asset": repr(asset), "dt": str(self.dt)},
                )
        held = ZERO
        if target:
            position = self.ledger.positions.get(asset)
            if position is not None:
                held = position.amount
        try:
            quantity = size_order(
                number,
                unit,
                target,
                held,
                price,
                asset.multiplier,
                self._portfolio_value,
                span.rules,
                asset,
                call,
            )
        except ArithmeticError as exc:  # decimal.InvalidOperation / Overflow: too many digits
            raise InvalidOrderError(
                f"{call}({asset!r}, {number}) at {self.dt}: the order is too large to size "
                f"in exact Decimal arithmetic ({getcontext().prec} significant digits)",
                context={"asset": repr(asset), "amount": str(number), "dt": str(self.dt)},
            ) from exc
        execution = execution_style(asset, limit_price, stop_price, style)
        if self.trading_controls:
            assert self._portfolio is not None
            portfolio = self._portfolio()
            for control in self.trading_controls:
                # zipline's controls see zero orders too.
                control.validate(asset, quantity, portfolio, self.dt, self._data)
        if not quantity:
            return None
        return self.broker.order(asset, quantity, execution)

    # --- the rules it applies -------------------------------------------------------

    def check_can_order(self, call: str) -> None:
        """Refuse ``call`` outside a bar (in initialize or before_trading_start).

        Raises
        ------
        OrderRejectedError
            Naming the phase.
        """
        if self.phase == BAR:
            return
        if self.phase == INITIALIZE:
            raise OrderRejectedError(
                f"{call}() cannot be called from initialize; order from handle_data "
                "or a scheduled function",
                context={"call": call},
            )
        raise OrderRejectedError(
            f"{call}() cannot be called from before_trading_start "
            f"(at {self.dt}); order from handle_data or a scheduled function",
            context={"call": call, "dt": str(self.dt)},
        )

    def tradeable(self, asset: Any, call: str) -> Tradeable:
        """Check that ``asset`` trades in the current session; what the router knows of it.

        Raises
        ------
        InvalidOrderError
            If ``asset`` is not an Asset of the bundle.
        OrderRejectedError
            If the session is before its first or after its last trading
            session (its auto-close date, if earlier).
        """
        if not isinstance(asset, Asset):
            raise InvalidOrderError(
                f"{call}(): {asset!r} is not an Asset; look one up with symbol() or sid() "
                f"(at {self.dt})",
                context={"asset": repr(asset), "dt": str(self.dt)},
            )
        # By sid: an int hashes in C (an Asset's hash is a Python call).
        span = self._spans.get(asset.sid)
        if span is None or span.asset is not asset:
            span = self._spans[asset.sid] = self._span(asset, call)
        if span.first_ns <= self._session_ns <= span.last_ns:
            self._tradeable_now[id(asset)] = span
            if span.last_ns < self._tradeable_until:
                self._tradeable_until = span.last_ns
            return span
        where = {"asset": repr(asset), "dt": str(self.dt)}
        if self._session_ns < span.first_ns:
            assert asset.start_date is not None
            raise OrderRejectedError(
                f"{call}(): cannot order {asset!r} at {self.dt}: it starts trading on "
                f"{asset.start_date.date()}",
                context=where,
            )
        raise OrderRejectedError(
            f"{call}(): cannot order {asset!r} at {self.dt}: it was delisted "
            f"(last traded {asset.end_date.date() if asset.end_date else '?'})",
            context=where,
        )

    def _span(self, asset: Asset, call: str) -> Tradeable:
        """What :meth:`tradeable` returns, once ``asset`` is known to the bundle."""
        if self.asset_finder.retrieve_asset(asset.sid, default_none=True) is None:
            raise InvalidOrderError(
                f"{call}(): unknown asset {asset!r} (not in the bundle) at {self.dt}",
                context={"asset": repr(asset), "dt": str(self.dt)},
            )
        end = asset.end_date
        if asset.auto_close_date is not None and end is not None:
            end = min(end, asset.auto_close_date)
        first = _NEVER if asset.start_date is None else asset.start_date.value
        last = _ALWAYS if end is None else end.value
        # Before bind there is no data: the last column (the portal's no-data one) has
        # no price. bind forgets the spans found before it.
        column = -1 if self._data is None else self._data.data_portal.column(asset)
        return Tradeable(asset, first, last, self.precision.for_asset(asset), column)
