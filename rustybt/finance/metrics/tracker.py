"""MetricsTracker: owns the ledger, runs the metric hooks, emits performance packets.

The simulation loop calls, per session::

    tracker.handle_market_open(session, data_portal)        # SESSION_START
    tracker.handle_splits(splits)                           # splits of held/ordered assets
    ... per bar: process_transaction / process_order / process_commission
    tracker.handle_minute_close(dt, data_portal)            # MINUTE_END, minute emission only
    tracker.process_close_position(asset, dt, data_portal)  # auto-close dates reached
    packet = tracker.handle_market_close(dt, data_portal)   # SESSION_END

after ``handle_start_of_simulation(benchmark_source)`` and before
``handle_simulation_end(data_portal)``. A daily packet is zipline's: sections
``daily_perf`` and ``cumulative_risk_metrics`` (merged into one row of the
performance DataFrame by :func:`daily_stats_frame`), ``cumulative_perf``,
``period_start``, ``period_end``, ``capital_base`` and ``progress``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import pandas as pd

from rustybt.finance.ledger import Ledger, session_key
from rustybt.finance.ledger.position import Position
from rustybt.finance.precision import DEFAULT_PRECISION, PrecisionConfig
from rustybt.protocol import Account, Portfolio

__all__ = ["MetricsTracker", "daily_stats_frame"]

log = logging.getLogger(__name__)

_HOOKS = (
    "start_of_simulation",
    "end_of_simulation",
    "start_of_session",
    "end_of_session",
    "end_of_bar",
)


class MetricsTracker:
    """The algorithm's interface to its ledger and its performance metrics.

    Parameters
    ----------
    trading_calendar
        The simulation's exchange calendar.
    first_session, last_session
        The simulation's first and last session labels.
    capital_base
        Starting cash.
    emission_rate
        ``"daily"`` or ``"minute"``: how often packets are produced.
    data_frequency
        ``"daily"`` or ``"minute"``: the data the ledger marks prices from.
    asset_finder
        Resolves sids (stock dividends pay in other assets).
    metrics
        Metric objects (e.g. ``metrics.load("default")``) or a registered set's name.
    ledger
        A ledger to use; default a new one over the simulation's sessions.
    precision
        Rounding rules for a new ledger.

    Examples
    --------
    >>> from rustybt.calendars import get_calendar
    >>> from rustybt.finance.metrics import MetricsTracker
    >>> t = MetricsTracker(get_calendar("XNYS"), "2024-01-02", "2024-01-05", 1000.0,
    ...                    "daily", "daily", None, "none")
    >>> t.portfolio.portfolio_value, len(t.sessions)
    (1000.0, 4)
    """

    def __init__(
        self,
        trading_calendar: Any,
        first_session: Any,
        last_session: Any,
        capital_base: Any,
        emission_rate: str,
        data_frequency: str,
        asset_finder: Any,
        metrics: Iterable[Any] | str,
        ledger: Ledger | None = None,
        precision: PrecisionConfig = DEFAULT_PRECISION,
    ) -> None:
        if isinstance(metrics, str):
            from rustybt.finance.metrics import load

            metrics = load(metrics)
        self.emission_rate = emission_rate
        self._trading_calendar = trading_calendar
        self._first_session = session_key(first_session)
        self._last_session = session_key(last_session)
        self._capital_base = float(capital_base)
        self._asset_finder = asset_finder
        self._session_bounds: dict[pd.Timestamp, tuple[pd.Timestamp, pd.Timestamp]] | None = None
        self.sessions = pd.DatetimeIndex(
            trading_calendar.sessions_in_range(self._first_session, self._last_session)
        )
        self._total_session_count = len(self.sessions)
        self._session_count = 0
        self._current_session = self._first_session
        self._market_open, self._market_close = self._open_and_close(self._first_session)
        self._ledger = (
            ledger
            if ledger is not None
            else Ledger(self.sessions, capital_base, data_frequency, precision)
        )
        self._benchmark_source: Any = None
        metrics = list(metrics)
        self._hooks: dict[str, tuple[Any, ...]] = {
            hook: tuple(getattr(m, hook) for m in metrics if hasattr(m, hook)) for hook in _HOOKS
        }
        # The per-session hooks, bound once: the session's calls loop over them directly.
        self._on_session_start = self._hooks["start_of_session"]
        self._on_session_end = self._hooks["end_of_session"]
        self._on_bar_end = self._hooks["end_of_bar"]

    def _open_and_close(self, session: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
        bounds = self._session_bounds
        if bounds is None:
            # One vectorized read for the whole simulation instead of two
            # calendar lookups per session.
            cal = self._trading_calendar
            sessions = self.sessions
            bounds = self._session_bounds = dict(
                zip(
                    sessions,
                    zip(cal.first_minutes.loc[sessions], cal.closes.loc[sessions], strict=True),
                    strict=True,
                )
            )
        found = bounds.get(session)
        if found is not None:
            return found
        cal = self._trading_calendar
        return cal.session_first_minute(session), cal.session_close(session)

    def _run(self, hook: str, *args: Any) -> None:
        for implementation in self._hooks[hook]:
            implementation(*args)

    def _progress(self) -> float:
        if self.emission_rate == "minute":
            return 1.0  # zipline reports no progress in minute emission
        return self._session_count / self._total_session_count

    def _packet(self, section: str, period_open: Any, period_close: Any) -> dict[str, Any]:
        return {
            "period_start": self._first_session,
            "period_end": self._last_session,
            "capital_base": self._capital_base,
            section: {"period_open": period_open, "period_close": period_close},
            "cumulative_perf": {
                "period_open": self._first_session,
                "period_close": self._last_session,
            },
            "progress": self._progress(),
            "cumulative_risk_metrics": {},
        }

    # --- state ------------------------------------------------------------------------

    @property
    def ledger(self) -> Ledger:
        """The Decimal ledger."""
        return self._ledger

    @property
    def portfolio(self) -> Portfolio:
        """The algorithm's float view of the portfolio."""
        return self._ledger.portfolio

    @property
    def account(self) -> Account:
        """The algorithm's float view of the account."""
        return self._ledger.account

    @property
    def positions(self) -> dict[Any, Position]:
        """The open Decimal positions by asset."""
        return self._ledger.positions

    # --- forwarding to the ledger ------------------------------------------------------

    def update_position(
        self,
        asset: Any,
        amount: Any = None,
        last_sale_price: Any = None,
        last_sale_date: Any = None,
        cost_basis: Any = None,
    ) -> None:
        """Overwrite a position's fields (live reconciliation)."""
        self._ledger.update_position(asset, amount, last_sale_price, last_sale_date, cost_basis)

    def override_account_fields(self, **kwargs: Any) -> None:
        """Let a broker override account fields."""
        self._ledger.override_account_fields(**kwargs)

    def process_transaction(self, transaction: Any) -> None:
        """Book a fill."""
        self._ledger.process_transaction(transaction)

    def process_fills(self, transactions: Any, orders: Any = ()) -> None:
        """Book a bar's fills, then record the orders they changed."""
        self._ledger.process_fills(transactions, orders)

    def handle_splits(self, splits: Any) -> None:
        """Apply ``(asset, ratio)`` splits."""
        self._ledger.process_splits(splits)

    # The contract's name for the same thing.
    process_splits = handle_splits

    def process_order(self, event: Any) -> None:
        """Record a new or changed order."""
        self._ledger.process_order(event)

    def record_orders(self, orders: Any) -> None:
        """Record new or changed orders, in order."""
        self._ledger.record_orders(orders)

    def process_commission(self, commission: Any) -> None:
        """Pay a commission ``{"asset", "order", "cost"}``."""
        self._ledger.process_commission(commission)

    def process_close_position(self, asset: Any, dt: Any, data_portal: Any) -> None:
        """Close a position whose auto-close date has come."""
        self._ledger.close_position(asset, dt, data_portal)

    def capital_change(self, amount: Any) -> None:
        """Add or withdraw capital."""
        self._ledger.capital_change(amount)

    def sync_last_sale_prices(
        self, dt: Any, data_portal: Any, handle_non_market_minutes: bool = False
    ) -> None:
        """Mark positions to market at ``dt``."""
        self._ledger.sync_last_sale_prices(dt, data_portal, handle_non_market_minutes)

    # --- the simulation's clock -----------------------------------------------------

    def handle_start_of_simulation(self, benchmark_source: Any) -> None:
        """Start the simulation: metrics read the benchmark's returns once, here."""
        self._benchmark_source = benchmark_source
        self._run(
            "start_of_simulation",
            self._ledger,
            self.emission_rate,
            self._trading_calendar,
            self.sessions,
            benchmark_source,
        )

    def handle_market_open(self, session_label: Any, data_portal: Any) -> None:
        """Start a session: ledger bookkeeping, dividends of the day, metric hooks."""
        session = session_key(session_label)
        ledger = self._ledger
        ledger.start_of_session(session)
        adjustment_reader = getattr(data_portal, "adjustment_reader", None)
        ledger.process_dividends(session, self._asset_finder, adjustment_reader)
        self._current_session = session
        self._market_open, self._market_close = self._open_and_close(session)
        for hook in self._on_session_start:
            hook(ledger, session, data_portal)

    def handle_minute_close(self, dt: pd.Timestamp, data_portal: Any) -> dict[str, Any]:
        """End a minute (minute emission): mark to market, return a minute packet."""
        self.sync_last_sale_prices(dt, data_portal)
        packet = self._packet("minute_perf", self._market_open, dt)
        ledger = self._ledger
        session_ix = self._session_count
        ledger.end_of_bar(session_ix)
        for hook in self._on_bar_end:
            hook(packet, ledger, dt, session_ix, data_portal)
        return packet

    def handle_market_close(self, dt: pd.Timestamp, data_portal: Any) -> dict[str, Any]:
        """End the session: mark to market (daily emission), return the daily packet."""
        completed = self._current_session
        if self.emission_rate == "daily":
            # In minute emission the last minute's close already marked the positions.
            self.sync_last_sale_prices(dt, data_portal)
        session_ix = self._session_count
        self._session_count += 1
        packet = self._packet("daily_perf", self._market_open, dt)
        ledger = self._ledger
        ledger.end_of_session(session_ix)
        for hook in self._on_session_end:
            hook(packet, ledger, completed, session_ix, data_portal)
        return packet

    def handle_simulation_end(self, data_portal: Any) -> dict[str, Any]:
        """End the simulation: the end-of-simulation metrics' packet (may be empty)."""
        log.info(
            "Simulated %d trading days; first open %s, last close %s",
            self._session_count,
            self._trading_calendar.session_open(self._first_session),
            self._trading_calendar.session_close(self._last_session),
        )
        packet: dict[str, Any] = {}
        self._run(
            "end_of_simulation",
            packet,
            self._ledger,
            self._trading_calendar,
            self.sessions,
            data_portal,
            self._benchmark_source,
        )
        return packet


def daily_stats_frame(
    packets: Iterable[dict[str, Any]], recorded_vars: Iterable[dict[str, Any]] | None = None
) -> pd.DataFrame:
    """zipline's performance DataFrame from daily packets: one row per session.

    Each row is the packet's ``daily_perf`` with its ``recorded_vars`` (a
    ``daily_perf["recorded_vars"]`` dict, as zipline's loop stores them, or
    the matching item of ``recorded_vars``) and its
    ``cumulative_risk_metrics`` merged in, indexed by the UTC
    ``period_close``, its columns in name order. Packets without
    ``daily_perf`` (the end-of-simulation one) are skipped; the packets are
    not modified.
    """
    rows: list[dict[str, Any]] = []
    recorded = iter(recorded_vars) if recorded_vars is not None else None
    for packet in packets:
        if "daily_perf" not in packet:
            continue
        row = dict(packet["daily_perf"])
        row.update(row.pop("recorded_vars", None) or {})
        if recorded is not None:
            row.update(next(recorded))
        row.update(packet["cumulative_risk_metrics"])
        rows.append(row)
    index = pd.DatetimeIndex([row["period_close"] for row in rows])
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    # Columns in name order: metrics sets are sets (as zipline's), whose order
    # differs from process to process, and a written frame should not.
    columns = sorted(set().union(*rows)) if rows else None
    return pd.DataFrame(rows, index=index, columns=columns)
