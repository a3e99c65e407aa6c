"""The open positions: fills, splits, dividends owed, and marks to market.

A position whose amount reaches zero is closed: :meth:`PositionTracker._drop_if_flat`
removes it, on every path that changes an amount, so ``positions`` holds only
open positions and nothing downstream filters flat ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

import pandas as pd

from rustybt.finance.ledger.marking import MarkingPlan
from rustybt.finance.ledger.position import Position
from rustybt.finance.ledger.stats import PositionStats, position_stats
from rustybt.finance.orders.transaction import Transaction
from rustybt.finance.precision import (
    DEFAULT_PRECISION,
    PrecisionConfig,
    to_decimal,
)
from rustybt.protocol import Position as PositionView
from rustybt.protocol import Positions

__all__ = ["PositionTracker", "session_key"]

_DAY_NS = 86_400_000_000_000


def session_key(value: Any) -> pd.Timestamp:
    """A session label as a tz-naive midnight Timestamp (dates from any source compare equal).

    Examples
    --------
    >>> session_key("2024-01-02 21:00+00:00")
    Timestamp('2024-01-02 00:00:00')
    """
    ts = value if type(value) is pd.Timestamp else pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(None)  # to UTC, then naive
    # Labels are midnights already (normalize() alone costs microseconds a session).
    return ts if ts.value % _DAY_NS == 0 else ts.normalize()


class PositionTracker:
    """The open positions and the dividends they have earned but not yet received.

    Parameters
    ----------
    data_frequency
        ``"daily"`` or ``"minute"``: how prices are read from the DataPortal.
    precision
        Rounding rules for quantities and cash.
    """

    def __init__(self, data_frequency: str, precision: PrecisionConfig = DEFAULT_PRECISION) -> None:
        self.data_frequency = data_frequency
        self.precision = precision
        # Never rebound: the ledger shares this dict as its ``positions``.
        self.positions: dict[Any, Position] = {}
        # pay session -> [(asset, cash)] and [(asset, payment_asset, units)]
        self._unpaid_dividends: dict[pd.Timestamp, list[tuple[Any, Decimal]]] = {}
        self._unpaid_stock_dividends: dict[pd.Timestamp, list[tuple[Any, Any, Decimal]]] = {}
        self._views: dict[Any, PositionView] = {}
        self._stats: PositionStats | None = None
        # How to mark the open positions from the last portal marked from: a
        # position joins it where it opens and leaves it where it closes.
        self._plan: MarkingPlan | None = None

    # --- changes -----------------------------------------------------------------

    def _position(self, asset: Any) -> Position:
        position = self.positions.get(asset)
        if position is None:
            position = self.positions[asset] = Position(asset)
            # The algorithm's live view and the marking plan, opened and closed
            # with the position.
            self._views[asset] = PositionView(position)
            if self._plan is not None:
                self._plan.add(position)
        return position

    def _drop_if_flat(self, position: Position) -> None:
        """Close ``position`` if its amount is zero (the one place positions close)."""
        if not position.amount:
            # The caller holds the open position: no lookup (an asset's hash is a
            # Python call) to find it again.
            asset = position.asset
            del self.positions[asset]
            self._views.pop(asset, None)
            if self._plan is not None:
                self._plan.remove(position)

    def update_position(
        self,
        asset: Any,
        amount: Any = None,
        last_sale_price: Any = None,
        last_sale_date: Any = None,
        cost_basis: Any = None,
    ) -> None:
        """Overwrite fields of a position (live reconciliation with a broker).

        A position left at amount zero is closed.
        """
        self._stats = None
        position = self._position(asset)
        if amount is not None:
            position.amount = self.precision.quantity(asset, amount)
        if last_sale_price is not None:
            position.last_sale_price = self.precision.price(asset, last_sale_price)
        if last_sale_date is not None:
            position.last_sale_date = last_sale_date
        if cost_basis is not None:
            position.cost_basis = to_decimal(cost_basis)
        self._drop_if_flat(position)

    def execute_transaction(self, txn: Transaction) -> None:
        """Apply a fill to its position (opening or closing it as needed)."""
        self._stats = None
        position = self._position(txn.asset)
        position.update(txn)
        self._drop_if_flat(position)

    def handle_commission(self, asset: Any, cost: Decimal) -> None:
        """Fold a commission into the cost basis of the position, if still open."""
        position = self.positions.get(asset)
        if position is not None:
            self._stats = None
            position.adjust_commission_cost_basis(asset, cost)

    def handle_splits(self, splits: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Decimal]]:
        """Apply ``(asset, ratio)`` splits to held positions.

        Returns
        -------
        list of (asset, Decimal)
            Cash in lieu of fractional units, per split asset that produced any.
        """
        cash: list[tuple[Any, Decimal]] = []
        for asset, ratio in splits:
            position = self.positions.get(asset)
            if position is None:
                continue
            self._stats = None
            leftover = position.handle_split(asset, ratio, self.precision)
            if leftover:
                cash.append((asset, leftover))
            # A split that leaves less than one unit closes the position.
            self._drop_if_flat(position)
        return cash

    def earn_dividends(
        self,
        cash_dividends: Iterable[tuple[Any, Any, Any]],
        stock_dividends: Iterable[tuple[Any, Any, Any, Any]] = (),
    ) -> None:
        """Record what held positions are owed, to be paid on each pay date.

        Parameters
        ----------
        cash_dividends
            ``(asset, amount_per_unit, pay_date)`` for dividends going ex now.
        stock_dividends
            ``(asset, payment_asset, ratio, pay_date)`` likewise.
        """
        for asset, amount, pay_date in cash_dividends:
            owed = self.positions[asset].earn_dividend(amount, self.precision)
            self._unpaid_dividends.setdefault(session_key(pay_date), []).append((asset, owed))
        for asset, payment_asset, ratio, pay_date in stock_dividends:
            units = self.positions[asset].earn_stock_dividend(ratio, payment_asset, self.precision)
            if units:
                key = session_key(pay_date)
                self._unpaid_stock_dividends.setdefault(key, []).append(
                    (asset, payment_asset, units)
                )

    def pay_dividends(self, session: Any) -> tuple[list[tuple[Any, Decimal]], bool]:
        """Settle what is due on ``session``: add stock payouts, return the cash payouts.

        Each pay date is settled once.

        Returns
        -------
        tuple
            The cash payouts ``[(asset, amount)]``, and whether stock payouts
            changed the positions.
        """
        if not self._unpaid_dividends and not self._unpaid_stock_dividends:
            return [], False  # most sessions: nothing owed at all
        key = session_key(session)
        payments = self._unpaid_dividends.pop(key, [])
        stock = self._unpaid_stock_dividends.pop(key, [])
        for _asset, payment_asset, units in stock:
            # zipline adds the units to (or opens) a position at zero cost.
            self._stats = None
            position = self._position(payment_asset)
            position.amount += units
            self._drop_if_flat(position)
        return payments, bool(stock)

    def maybe_create_close_position_transaction(
        self, asset: Any, dt: Any, data_portal: Any
    ) -> Transaction | None:
        """The fill that closes ``asset`` at ``dt``'s price (last sale if none), or None."""
        position = self.positions.get(asset)
        if position is None:
            return None
        raw = data_portal.get_spot_value(asset, "price", dt, self.data_frequency)
        price = position.last_sale_price
        if raw is not None and not math.isnan(raw):
            price = self.precision.price(asset, raw)
        # zipline's auto-close fills belong to no order.
        return Transaction(asset, -position.amount, dt, price, cast(str, None))

    def sync_last_sale_prices(
        self, dt: Any, data_portal: Any, handle_non_market_minutes: bool = False
    ) -> bool:
        """Mark every position to the DataPortal's price at ``dt`` (NaN keeps the old mark).

        Marked through the :class:`~rustybt.finance.ledger.marking.MarkingPlan`:
        one index of the bar's row of prices and one conversion per group of
        positions under the same price rules, nothing converted when the
        prices and marks are those of the last mark. Outside market hours
        the portal resolves ``dt`` to the previous bar, adjusted to the coming
        session, which is zipline's ``handle_non_market_minutes`` rule; the
        flag is accepted for compatibility.

        Returns
        -------
        bool
            Whether a mark may have changed (False: every mark stands).
        """
        if not self.positions:
            return False
        frequency = self.data_frequency
        row, perspective = data_portal.resolve(dt, frequency)
        plan = self._plan
        if plan is None or plan.portal is not data_portal:
            plan = self._plan = MarkingPlan(data_portal, self.precision, self.positions.values())
        if not plan.mark(dt, row, frequency, perspective):
            return False
        self._stats = None
        return True

    # --- views ---------------------------------------------------------------------

    @property
    def stats(self) -> PositionStats:
        """Aggregates over the open positions (a cache, until a position changes)."""
        if self._stats is None:
            self._stats = position_stats(self.positions.values())
        return self._stats

    def get_positions(self) -> Positions:
        """The algorithm's :class:`~rustybt.protocol.Positions` of live float views."""
        # _views holds one view per open position, in the positions' order.
        return Positions(self._views)

    def get_position_list(self) -> list[dict[str, Any]]:
        """zipline's position dicts (``sid``, ``amount``, ``cost_basis``, ``last_sale_price``)."""
        return [p.to_dict() for p in self.positions.values()]

    def unpaid_dividends(self) -> list[tuple[pd.Timestamp, Any, Decimal]]:
        """Cash dividends earned but not yet paid: ``(pay_date, asset, amount)``."""
        return [
            (day, asset, amount)
            for day, items in sorted(self._unpaid_dividends.items())
            for asset, amount in items
        ]
