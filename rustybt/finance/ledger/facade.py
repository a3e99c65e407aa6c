"""The one ledger: Decimal cash, positions, cost basis, dividends and returns.

Every money movement -- fills, commissions, split cash, dividends, futures
settlement, capital changes -- goes through the cash journal
(:mod:`rustybt.finance.ledger.journal`), rounded to the asset class's cash
places, so that ``cash == capital_base + sum(journal)`` and
``portfolio_value == cash + sum(position values)`` hold exactly, in Decimal.
The algorithm sees float views of this state (:mod:`rustybt.protocol`); the
metrics read the same state and convert to float only when writing a packet.

Semantics follow zipline's ``Ledger``/``PositionTracker``: cash leaves at the
fill price, commissions arrive separately and fold into the cost basis,
dividends are earned by positions held at the open of the ex-date and paid on
the pay-date, splits act at the open of their effective session, futures
settle price changes in cash. Two deliberate differences: the fractional unit
a split cuts off is paid at the (split-adjusted) last sale price rather than
at the cost basis, and the last sale price is split-adjusted at once, so the
portfolio value does not jump between the split and the next mark.

Examples
--------
>>> from decimal import Decimal
>>> import pandas as pd
>>> from rustybt.assets import Equity
>>> from rustybt.assets.asset_types import exchange_info_for
>>> from rustybt.finance.orders.transaction import Transaction
>>> aaa = Equity(1, exchange_info_for("NYSE"), symbol="AAA")
>>> day = pd.Timestamp("2024-01-02")
>>> ledger = Ledger(pd.DatetimeIndex([day]), 10_000, "daily")
>>> ledger.start_of_session(day)
>>> ledger.process_transaction(Transaction(aaa, Decimal(100), day, Decimal("10.015"), "o1"))
>>> ledger.process_commission({"asset": aaa, "order": None, "cost": Decimal("1")})
>>> ledger.cash, ledger.positions[aaa].cost_basis
(Decimal('8997.50'), Decimal('10.025'))
>>> ledger.portfolio_value, ledger.portfolio.portfolio_value
(Decimal('9999.000'), 9999.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from rustybt.finance.ledger.export import LedgerExport, ledger_frames
from rustybt.finance.ledger.journal import CashJournal
from rustybt.finance.ledger.position import Position, is_future, price_multiplier
from rustybt.finance.ledger.records import (
    Records,
    order_records,
    position_records,
    transaction_records,
)
from rustybt.finance.ledger.tracker import PositionTracker, session_key
from rustybt.finance.orders.transaction import Transaction
from rustybt.finance.precision import (
    DEFAULT_PRECISION,
    ZERO,
    AssetClassPrecision,
    PrecisionConfig,
    to_decimal,
)
from rustybt.protocol import ACCOUNT_DEFAULTS, Account, Portfolio

__all__ = ["Ledger"]

_ONE = Decimal(1)
# Not a bar's dt (None is one: fills without a time).
_NO_DT = object()


class Ledger:
    """Cash, positions, orders, transactions and returns of one simulation, in Decimal.

    Parameters
    ----------
    trading_sessions
        The simulation's sessions (index of the daily returns).
    capital_base
        Starting cash.
    data_frequency
        ``"daily"`` or ``"minute"``.
    precision
        Per-asset-class rounding of cash and quantities.

    Attributes
    ----------
    position_tracker : PositionTracker
        The open positions.
    positions : dict
        The open Decimal positions by asset: the tracker's own dict (the
        ledger's objects: do not mutate).
    daily_returns_array : numpy.ndarray
        float64 returns per session; NaN until a session has been recorded,
        the partial day's return while it runs (see :meth:`end_of_bar`).

    Notes
    -----
    ``portfolio_value == cash + positions_value`` exactly, where
    ``positions_value`` is the sum of ``amount * last_sale_price`` over
    non-futures positions; ``cash == capital_base + sum(cash journal)``.

    Examples
    --------
    A 2:1 reverse split (ratio 2) of 101 shares pays the half share in cash
    at the adjusted last sale price:

    >>> from decimal import Decimal
    >>> import pandas as pd
    >>> from rustybt.assets import Equity
    >>> from rustybt.assets.asset_types import exchange_info_for
    >>> from rustybt.finance.orders.transaction import Transaction
    >>> aaa = Equity(1, exchange_info_for("NYSE"), symbol="AAA")
    >>> days = pd.DatetimeIndex(["2024-01-02", "2024-01-03"])
    >>> ledger = Ledger(days, 1000, "daily")
    >>> ledger.process_transaction(Transaction(aaa, Decimal(101), days[0], Decimal("5"), "o"))
    >>> ledger.process_splits([(aaa, 2.0)])
    >>> ledger.positions[aaa].amount, ledger.positions[aaa].cost_basis, ledger.cash
    (Decimal('50'), Decimal('10.00'), Decimal('500.00'))
    """

    def __init__(
        self,
        trading_sessions: Any,
        capital_base: Any,
        data_frequency: str,
        precision: PrecisionConfig = DEFAULT_PRECISION,
    ) -> None:
        self.trading_sessions = pd.DatetimeIndex(trading_sessions)
        self.data_frequency = data_frequency
        self.precision = precision
        self.capital_base = to_decimal(capital_base)
        self.start_date = self.trading_sessions[0] if len(self.trading_sessions) else None

        self.position_tracker = PositionTracker(data_frequency, precision)
        # The tracker's dict itself (it is never rebound): order routing reads
        # it for every order, and an attribute costs less than a property.
        self.positions: dict[Any, Position] = self.position_tracker.positions
        self.daily_returns_array = np.full(len(self.trading_sessions), np.nan)

        self._journal = CashJournal(self.capital_base)
        # capital_base plus capital changes: pnl is what the portfolio made beyond it.
        self._capital_in = self.capital_base
        # Returns compound across capital changes: growth up to the last change
        # times the value's growth since then.
        self._growth = _ONE
        self._growth_base = self.capital_base
        self._previous_total_returns = ZERO

        # Decimal aggregates (valid while not self._dirty)
        self._dirty = True
        self._positions_value = ZERO
        self._positions_exposure = ZERO
        self._portfolio_value = self.capital_base
        # Caches of the returns, computed on first read after a change (None: not yet).
        self._returns: Decimal | None = None
        self._todays_returns: float | None = None

        self._portfolio = Portfolio(self.start_date, float(self.capital_base))
        self._portfolio_stale = True
        self._account = Account()
        self._account_stale = True
        self._account_overrides: dict[str, Any] = {}

        self._all_transactions: list[Transaction] = []
        self._processed_transactions: dict[Any, list[Transaction]] = {}
        self._orders_by_modified: dict[Any, dict[str, Any]] = {}
        self._orders_by_id: dict[str, Any] = {}
        # futures: the price their open position last settled at
        self._settlement_prices: dict[Any, Decimal] = {}

    # --- bookkeeping helpers ------------------------------------------------------

    def _mark_dirty(self) -> None:
        self._dirty = True
        self._portfolio_stale = True
        self._account_stale = True

    def _move_cash(
        self,
        amount: Decimal,
        kind: str,
        asset: Any = None,
        reference: str | None = None,
        counts_as_flow: bool = True,
    ) -> None:
        """Add ``amount`` (already rounded to cash) to cash and journal it."""
        self._mark_dirty()
        self._journal.move(amount, kind, asset, reference, counts_as_flow)

    def _settle_future(
        self, asset: Any, price: Decimal, held: Decimal, reference: str | None = None
    ) -> None:
        """Futures: pay ``held`` contracts' price change since their last settlement, in cash.

        ``price`` becomes the price the position last settled at.
        """
        payout = self.precision.cash(
            asset, (price - self._settlement_prices[asset]) * price_multiplier(asset) * held
        )
        self._settlement_prices[asset] = price
        if payout:
            self._move_cash(payout, "futures_settlement", asset, reference)

    def _refresh(self) -> None:
        """Recompute the Decimal aggregates after a change (settling futures first)."""
        if not self._dirty:
            return
        positions = self.position_tracker.positions
        for asset in list(self._settlement_prices):
            position = positions.get(asset)
            if position is not None:
                self._settle_future(asset, position.last_sale_price, position.amount)
        stats = self.position_tracker.stats
        self._positions_value = stats.net_value
        self._positions_exposure = stats.net_exposure
        self._portfolio_value = self._journal.cash + stats.net_value
        self._returns = None
        self._todays_returns = None
        self._dirty = False

    # --- exact state ------------------------------------------------------------------

    @property
    def cash(self) -> Decimal:
        """Cash on hand."""
        self._refresh()
        return self._journal.cash

    @property
    def cash_flow(self) -> Decimal:
        """Net cash from fills, commissions, dividends and split cash (zipline's capital_used)."""
        self._refresh()
        return self._journal.cash_flow

    @property
    def positions_value(self) -> Decimal:
        """Sum of ``amount * last_sale_price`` over non-futures positions."""
        self._refresh()
        return self._positions_value

    @property
    def positions_exposure(self) -> Decimal:
        """Net exposure (futures at their multiplier)."""
        self._refresh()
        return self._positions_exposure

    @property
    def portfolio_value(self) -> Decimal:
        """``cash + positions_value``."""
        if self._dirty:  # checked here too: order sizing asks once per asset
            self._refresh()
        return self._portfolio_value

    @property
    def pnl(self) -> Decimal:
        """Profit since the start, excluding capital changes."""
        return self.portfolio_value - self._capital_in

    @property
    def returns(self) -> Decimal:
        """Cumulative time-weighted return since the start."""
        value = self.portfolio_value
        returns = self._returns
        if returns is None:
            growth = self._growth
            if self._growth_base != 0:
                growth *= value / self._growth_base
            returns = self._returns = growth - _ONE
        return returns

    @property
    def unrealized_pnl(self) -> Decimal:
        """Gain of the open positions against their cost basis at the last sale prices."""
        return sum((p.unrealized_pnl for p in self.position_tracker.positions.values()), ZERO)

    @property
    def realized_pnl(self) -> Decimal:
        """``pnl - unrealized_pnl``: closed trades, dividends, split cash, net of commissions."""
        return self.pnl - self.unrealized_pnl

    @property
    def todays_returns(self) -> float:
        """The return since the end of the previous session (the partial day's while it runs)."""
        returns = self.returns  # refreshes the caches after a change
        today = self._todays_returns
        if today is None:
            previous = _ONE + self._previous_total_returns
            today = math.nan if previous == 0 else float((_ONE + returns) / previous - _ONE)
            self._todays_returns = today
        return today

    def position_list(self) -> list[dict[str, Any]]:
        """zipline's list of position dicts for the performance packet."""
        return self.position_tracker.get_position_list()

    @property
    def daily_returns_series(self) -> pd.Series:
        """A copy of the daily returns, indexed by session."""
        return pd.Series(self.daily_returns_array.copy(), index=self.trading_sessions)

    # --- events ---------------------------------------------------------------------

    def process_transaction(self, transaction: Transaction) -> None:
        """Book a fill: cash moves at the fill price, the position updates."""
        self.process_fills((transaction,))

    def process_fills(
        self, transactions: Iterable[Transaction], orders: Iterable[Any] = ()
    ) -> None:
        """Book a bar's fills in order, then record the ``orders`` they changed.

        The one path that books a fill: cash moves at the fill price (futures
        settle their price change instead), the position updates, and the
        fill joins the session's records. :meth:`process_transaction` is this
        for one fill.
        """
        precision = self.precision
        book_cash = self._journal.book_fill
        execute = self.position_tracker.execute_transaction
        every = self._all_transactions
        processed = self._processed_transactions
        # A cache of each asset class's rules and whether it is a future.
        classes: dict[type, tuple[AssetClassPrecision, bool]] = {}
        bar_dt: Any = _NO_DT
        on_bar: list[Transaction] = []
        # Stale before the first change: a fill that raises leaves no cached
        # aggregate of the fills booked before it.
        self._mark_dirty()
        for transaction in transactions:
            asset = transaction.asset
            known = classes.get(type(asset))
            if known is None:
                known = classes[type(asset)] = (precision.for_asset(asset), is_future(asset))
            rules, future = known
            if future:
                self._settle_future_fill(transaction)
            else:
                book_cash(transaction, rules)
            execute(transaction)
            every.append(transaction)
            # A bar's fills share one dt object: hash it (a Timestamp's hash
            # is slow) only when it changes.
            if transaction.dt is not bar_dt:
                bar_dt = transaction.dt
                on_bar = processed.setdefault(bar_dt, [])
            on_bar.append(transaction)
        self.record_orders(orders)

    def _settle_future_fill(self, transaction: Transaction) -> None:
        """Futures: settle the open position from its last settlement price to the fill."""
        asset = transaction.asset
        if asset not in self._settlement_prices:
            self._settlement_prices[asset] = transaction.price
            return
        position = self.position_tracker.positions.get(asset)
        held = position.amount if position is not None else ZERO
        self._settle_future(asset, transaction.price, held, transaction.order_id)
        if held + transaction.amount == 0:
            del self._settlement_prices[asset]

    def process_commission(self, commission: Mapping[str, Any]) -> None:
        """Pay a commission ``{"asset", "order", "cost"}`` and fold it into the cost basis."""
        asset = commission["asset"]
        cost = self.precision.cash(asset, commission["cost"])
        order = commission.get("order")
        self.position_tracker.handle_commission(asset, cost)
        self._move_cash(-cost, "commission", asset, getattr(order, "id", None))

    def process_order(self, order: Any) -> None:
        """Record an order placed or modified in the current session."""
        self.record_orders((order,))

    def record_orders(self, orders: Iterable[Any]) -> None:
        """:meth:`process_order` for each of ``orders``, in one pass."""
        by_modified = self._orders_by_modified
        by_id = self._orders_by_id
        dt: Any = _NO_DT
        by_dt: dict[str, Any] = {}
        for order in orders:
            order_id = order.id
            # Orders recorded together mostly share one dt object (see process_fills).
            if order.dt is not dt:
                dt = order.dt
                by_dt = by_modified.setdefault(dt, {})
            # Re-inserting moves the order to the end: the latest change comes last.
            by_dt.pop(order_id, None)
            by_dt[order_id] = order
            by_id.pop(order_id, None)
            by_id[order_id] = order

    def process_splits(self, splits: Iterable[tuple[Any, Any]]) -> None:
        """Apply ``(asset, ratio)`` splits; fractional units come back as cash."""
        for asset, cash in self.position_tracker.handle_splits(splits):
            self._move_cash(cash, "split_cash", asset)
        self._mark_dirty()

    def process_dividends(self, session: Any, asset_finder: Any, adjustment_reader: Any) -> None:
        """Earn dividends going ex on ``session``; receive those paid on it.

        Positions held at the open of the ex-date earn; the cash (or stock)
        arrives at the open of the pay date. Call at each session's open,
        before any fill of that session.
        """
        tracker = self.position_tracker
        if tracker.positions and adjustment_reader is not None:
            cash, stock = adjustment_reader.ex_dividends(tracker.positions, session)
        else:
            cash, stock = [], []
        if cash or stock:
            held = {int(asset): asset for asset in tracker.positions}
            tracker.earn_dividends(
                [(held[sid], amount, pay) for sid, amount, pay in cash],
                [
                    (held[sid], asset_finder.retrieve_asset(psid), ratio, pay)
                    for sid, psid, ratio, pay in stock
                ],
            )
        payments, positions_changed = tracker.pay_dividends(session)
        for asset, amount in payments:
            if amount:
                self._move_cash(amount, "dividend", asset)
        if positions_changed:
            self._mark_dirty()

    def close_position(self, asset: Any, dt: Any, data_portal: Any) -> None:
        """Close ``asset``'s position at ``dt``'s price (auto-close date reached)."""
        txn = self.position_tracker.maybe_create_close_position_transaction(asset, dt, data_portal)
        if txn is not None:
            self.process_transaction(txn)

    def sync_last_sale_prices(
        self, dt: Any, data_portal: Any, handle_non_market_minutes: bool = False
    ) -> None:
        """Mark all positions to market at ``dt`` (one array read through the portal)."""
        # Without positions, or at the prices of the last mark, a mark changes nothing.
        if self.position_tracker.sync_last_sale_prices(dt, data_portal, handle_non_market_minutes):
            self._mark_dirty()

    def capital_change(self, change_amount: Any) -> None:
        """Add (or withdraw) capital: cash and value move, pnl and returns do not."""
        amount = to_decimal(change_amount)
        value = self.portfolio_value
        if self._growth_base != 0:
            self._growth *= value / self._growth_base
        self._move_cash(amount, "capital_change", counts_as_flow=False)
        self._capital_in += amount
        self._growth_base = value + amount

    def update_position(
        self,
        asset: Any,
        amount: Any = None,
        last_sale_price: Any = None,
        last_sale_date: Any = None,
        cost_basis: Any = None,
    ) -> None:
        """Overwrite a position's fields (live trading reconciliation)."""
        self.position_tracker.update_position(
            asset, amount, last_sale_price, last_sale_date, cost_basis
        )
        self._mark_dirty()

    # --- session boundaries ---------------------------------------------------------

    def start_of_session(self, session_label: Any) -> None:
        """Start a session: forget the previous session's orders and fills, fix its returns."""
        self._journal.session = session_key(session_label)
        self._processed_transactions.clear()
        self._orders_by_modified.clear()
        self._orders_by_id.clear()
        # Saved here rather than at the session's end so that metrics reading
        # ``todays_returns`` at the end still see today's return.
        self._previous_total_returns = self.returns
        self._todays_returns = None

    def end_of_bar(self, session_ix: int) -> None:
        """Store the partial day's return (minute emission), so metrics need no concat."""
        self.daily_returns_array[session_ix] = self.todays_returns

    def end_of_session(self, session_ix: int) -> None:
        """Store the session's return."""
        self.daily_returns_array[session_ix] = self.todays_returns

    # --- queries --------------------------------------------------------------------

    def transactions(self, dt: Any = None) -> list[dict[str, Any]]:
        """zipline's transaction dicts of the bar ``dt``, or of the whole current session."""
        if dt is None:
            return [t.to_dict() for day in self._processed_transactions.values() for t in day]
        return [t.to_dict() for t in self._processed_transactions.get(dt, [])]

    def transaction_records(self, dt: Any = None) -> Records:
        """:meth:`transactions` stored compactly (what the performance frame keeps)."""
        if dt is None:
            return transaction_records(
                t for day in self._processed_transactions.values() for t in day
            )
        return transaction_records(self._processed_transactions.get(dt, []))

    def order_records(self, dt: Any = None) -> Records:
        """:meth:`orders` stored compactly (what the performance frame keeps)."""
        if dt is None:
            return order_records(self._orders_by_id.values())
        return order_records(self._orders_by_modified.get(dt, {}).values())

    def position_records(self) -> Records:
        """:meth:`position_list` stored compactly (what the performance frame keeps)."""
        return position_records(self.position_tracker.positions.values())

    def orders(self, dt: Any = None) -> list[dict[str, Any]]:
        """zipline's order dicts modified at ``dt``, or in the whole current session."""
        if dt is None:
            return [o.to_dict() for o in self._orders_by_id.values()]
        return [o.to_dict() for o in self._orders_by_modified.get(dt, {}).values()]

    @property
    def portfolio(self) -> Portfolio:
        """The algorithm's float view of the portfolio (refreshed on access after changes)."""
        if self._portfolio_stale:
            self._refresh()
            self._portfolio._set(
                cash=float(self._journal.cash),
                cash_flow=float(self._journal.cash_flow),
                portfolio_value=float(self._portfolio_value),
                positions_value=float(self._positions_value),
                positions_exposure=float(self._positions_exposure),
                pnl=float(self.pnl),
                returns=float(self.returns),
                positions=self.position_tracker.get_positions(),
            )
            self._portfolio_stale = False
        return self._portfolio

    def calculate_period_stats(self) -> tuple[float, float, float]:
        """``(net_liquidation, gross_leverage, net_leverage)``; leverage is inf at zero value."""
        value = self.portfolio_value
        stats = self.position_tracker.stats
        if value == 0:
            return 0.0, math.inf, math.inf
        return (
            float(value),
            float(stats.gross_exposure / value),
            float(stats.net_exposure / value),
        )

    def override_account_fields(self, **fields: Any) -> None:
        """Let a broker override fields of :attr:`account` (kept until replaced)."""
        unknown = set(fields) - set(Account.__slots__)
        if unknown:
            raise AttributeError(f"Account has no field(s) {sorted(unknown)}")
        self._account_overrides = dict(fields)
        # Back to the defaults: a field no longer overridden shows its default again.
        self._account._set(**ACCOUNT_DEFAULTS)
        self._account_stale = True

    @property
    def account(self) -> Account:
        """The algorithm's float view of the account (zipline's defaults, then overrides)."""
        if self._account_stale:
            # From the Decimals, as the portfolio view's: the view is not refreshed for this.
            self._refresh()
            cash = float(self._journal.cash)
            value = float(self._portfolio_value)
            net_liquidation, gross_leverage, net_leverage = self.calculate_period_stats()
            # Only the fields the ledger computes: the others keep their
            # defaults (protocol.ACCOUNT_DEFAULTS) or a broker's overrides.
            account = self._account
            account._set(
                settled_cash=cash,
                equity_with_loan=value,
                total_positions_value=float(self._positions_value),
                total_positions_exposure=float(self._positions_exposure),
                regt_equity=cash,
                available_funds=cash,
                excess_liquidity=cash,
                cushion=float(self._journal.cash / self._portfolio_value) if value else math.nan,
                net_liquidation=net_liquidation,
                gross_leverage=gross_leverage,
                net_leverage=net_leverage,
                leverage=gross_leverage,
            )
            if self._account_overrides:
                account._set(**self._account_overrides)
            self._account_stale = False
        return self._account

    def export(self) -> LedgerExport:
        """The exact ledger state, every amount a Decimal.

        Returns
        -------
        LedgerExport
            A dict with Decimal scalars ``capital_base``, ``cash``,
            ``cash_flow``, ``positions_value``, ``portfolio_value``, ``pnl``,
            ``returns`` and four DataFrames (Decimal columns have object dtype):

            ``positions``
                index ``sid``; ``asset``, ``amount``, ``cost_basis``,
                ``last_sale_price``, ``last_sale_date``, ``unrealized_pnl``.
            ``transactions``
                every fill of the simulation in order: ``dt``, ``asset``,
                ``sid``, ``amount``, ``price``, ``commission`` (Decimal or
                None), ``order_id``.
            ``cash_journal``
                every cash movement: ``session``, ``kind`` (transaction,
                commission, dividend, split_cash, futures_settlement,
                capital_change), ``asset``, ``amount``, ``reference`` (order
                id). ``capital_base + amount.sum() == cash``.
            ``unpaid_dividends``
                dividends earned but not yet paid: ``pay_date``, ``asset``,
                ``amount``.
        """
        frames = ledger_frames(
            list(self.position_tracker.positions.values()),
            self._all_transactions,
            self._journal.lines(self.precision),
            self.position_tracker.unpaid_dividends(),
        )
        return LedgerExport(
            capital_base=self.capital_base,
            cash=self.cash,
            cash_flow=self.cash_flow,
            positions_value=self.positions_value,
            portfolio_value=self.portfolio_value,
            pnl=self.pnl,
            returns=self.returns,
            positions=frames["positions"],
            transactions=frames["transactions"],
            cash_journal=frames["cash_journal"],
            unpaid_dividends=frames["unpaid_dividends"],
        )
