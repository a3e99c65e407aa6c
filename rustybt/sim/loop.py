"""The simulation loop: walk the clock, fill orders, call the algorithm, report.

The order of work within a bar and a session is zipline's (its
``AlgorithmSimulator``), so fills land on the same bars:

* SESSION_START: the ledger opens the session (dividends earned and paid),
  splits adjust positions and open orders;
* BEFORE_TRADING_START_BAR: ``before_trading_start`` (ordering is refused);
* BAR: orders placed at earlier bars fill against this bar, then
  ``handle_data`` and the scheduled functions run (their orders fill at the
  next bar);
* SESSION_END: expired assets are closed out, the cancel policy runs, account
  controls are checked and the session's performance row is produced.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import chain
from typing import TYPE_CHECKING, Any

import pandas as pd

from rustybt.data.bar_data import BarData
from rustybt.finance.metrics.tracker import MetricsTracker, daily_stats_frame
from rustybt.finance.orders.routing import BAR as ORDERS_OPEN
from rustybt.finance.orders.routing import BEFORE_TRADING_START
from rustybt.sim.clock import (
    BAR,
    BEFORE_TRADING_START_BAR,
    MINUTE_END,
    SESSION_END,
    SESSION_START,
    make_clock,
)
from rustybt.sources.benchmark import BenchmarkSource
from rustybt.user_code import user_code

if TYPE_CHECKING:  # types only: the algorithm imports this module to run itself
    from rustybt.algorithm import TradingAlgorithm

ProgressCallback = Callable[[int, int], None]


#: A run begins with a full garbage collection once this many runs have ended in the
#: process since the last: see :func:`_sessions_out_of_scans`.
COLLECT_EVERY_RUNS = 10
_runs_since_collection = [0]


@contextmanager
def _sessions_out_of_scans() -> Iterator[Callable[[], None]]:
    """Keep what earlier sessions left behind out of the garbage collector's scans.

    A run keeps its orders, fills and records to the end, so the collector's
    passes would walk them again and again. Measured in one session, in
    process, two runs each (CPU seconds; time inside collections in
    parentheses): W1 (500 assets x 10 years, daily) 15.9 and 17.0 s (0.5 s)
    with this policy against 17.0 and 18.7 s (1.9 s) without; W2 on 63
    sessions of minute bars 11.9 and 13.4 s (0.4-0.5 s) against 12.7 and
    13.4 s (1.4-1.6 s). The objects alive before the run (the imported
    libraries) and, at each session's end, the session's survivors (after
    collecting the young generations, so garbage cycles are freed, not
    kept) move to the permanent generation with :func:`gc.freeze`; the
    collector itself stays on and keeps collecting the current session's
    cycles. At the end everything is unfrozen again, so the interpreter is as
    it was. If the caller had frozen objects already, nothing is frozen (their
    frozen set is theirs to keep).

    Unfrozen objects join the oldest generation without counting towards
    Python's own trigger of a full collection, and a run's objects (the
    algorithm, its ledger, orders and records) hold one another in reference
    cycles: once the run is dropped only a full collection frees them, and
    Python seldom starts one, so a process that runs backtest after backtest
    grew ~3.3 MB a W5-50 run without end. A full collection scans the whole
    heap (~45 ms there, against ~0.45-0.65 s a run), so every
    :data:`COLLECT_EVERY_RUNS`-th run begins with one (~1%); a single run
    never pays it.

    Yields
    ------
    callable
        Call it at each session's end.
    """
    if gc.get_freeze_count():

        def nothing() -> None:
            return None

        yield nothing
        return

    def freeze_session() -> None:
        gc.collect(1)
        gc.freeze()

    if _runs_since_collection[0] >= COLLECT_EVERY_RUNS:
        _runs_since_collection[0] = 0
        gc.collect()
    _runs_since_collection[0] += 1
    gc.freeze()
    try:
        yield freeze_session
    finally:
        gc.unfreeze()


def run_simulation(
    algo: TradingAlgorithm, progress: ProgressCallback | None = None
) -> pd.DataFrame:
    """Run ``algo`` from initialize to analyze; return the daily performance DataFrame.

    The caller makes ``algo`` the target of ``rustybt.api`` calls
    (:meth:`TradingAlgorithm.run` does). The garbage collector stays as the
    user has it (on, normally); what each session leaves behind is kept out
    of its scans (:func:`_sessions_out_of_scans`).

    Parameters
    ----------
    algo
        A TradingAlgorithm with a data portal.
    progress
        Called as ``progress(sessions_done, sessions_total)`` after each session.
    """
    simulator = AlgorithmSimulator(algo)
    simulator.initialize()
    packets = []
    recorded = []
    total = len(algo.sim_params.sessions)
    with _sessions_out_of_scans() as session_done:
        for packet in simulator.transform():
            if "daily_perf" in packet:
                packets.append(packet)
                recorded.append(algo.recorded_vars)
                session_done()
                if progress is not None:
                    progress(len(packets), total)
    perf = daily_stats_frame(packets, recorded)
    with user_code("analyze", algo.user_files, lambda: algo.datetime):
        algo.analyze(perf)
    return perf


class AlgorithmSimulator:
    """Drives one algorithm over its clock (zipline's event order)."""

    def __init__(self, algo: TradingAlgorithm) -> None:
        self.algo = algo
        params = algo.sim_params
        portal = algo.data_portal
        assert portal is not None
        self.portal = portal
        self.simulation_dt: pd.Timestamp = pd.Timestamp(params.first_session, tz="UTC")
        self.bar_data = BarData(
            portal,
            lambda: self.simulation_dt,
            params.data_frequency,
            algo.trading_calendar,
            restrictions=algo.restrictions,
        )
        tracker = MetricsTracker(
            algo.trading_calendar,
            params.first_session,
            params.last_session,
            params.capital_base,
            params.emission_rate,
            params.data_frequency,
            algo.asset_finder,
            algo.metrics_set,
            precision=algo.precision,
        )
        algo.start_simulation(self.bar_data, tracker)
        self.broker = algo.blotter
        # The guards of the user code run every session or bar: built once.
        self._handle_data_guard = user_code("handle_data", algo.user_files, self._now)
        self._before_trading_start_guard = user_code(
            "before_trading_start", algo.user_files, self._now
        )
        self.clock = make_clock(
            algo.trading_calendar, params.sessions, params.data_frequency, params.emission_rate
        )

    def _now(self) -> pd.Timestamp:
        return self.simulation_dt

    def initialize(self) -> None:
        """Call the algorithm's initialize (once, before the first session)."""
        algo = self.algo
        with user_code("initialize", algo.user_files, self._now):
            algo.initialize(**algo.initialize_kwargs)
        algo.router.phase = ORDERS_OPEN
        # Controls and restrictions set in initialize apply to the bar data too.
        self.bar_data.restrictions = algo.restrictions

    def _benchmark_source(self) -> BenchmarkSource:
        algo = self.algo
        asset = None
        if algo.benchmark_sid is not None:
            asset = algo.asset_finder.retrieve_asset(algo.benchmark_sid)
        return BenchmarkSource(
            asset,
            algo.benchmark_returns,
            algo.trading_calendar,
            algo.sim_params.sessions,
            self.portal,
            emission_rate=algo.sim_params.emission_rate,
        )

    def transform(self) -> Iterator[dict[str, Any]]:
        """Walk the clock; yield a packet at each session end (and minute end)."""
        algo = self.algo
        tracker = algo.metrics_tracker
        tracker.handle_start_of_simulation(self._benchmark_source())
        daily = algo.data_frequency == "daily"
        # The session labels (tz-naive), in the order the clock starts them.
        labels = iter(self.clock.sessions)
        for dt, action in self.clock:
            if action == BAR:
                self._every_bar(dt)
            elif action == SESSION_START:
                self._once_a_day(dt, next(labels))
            elif action == SESSION_END:
                self._cleanup_expired_assets(dt)
                self.broker.end_session(daily)
                updates = self.broker.take_order_updates()
                if updates:
                    tracker.record_orders(updates)
                algo.validate_account_controls()
                yield tracker.handle_market_close(dt, self.portal)
            elif action == BEFORE_TRADING_START_BAR:
                self._set_dt(dt)
                algo.router.phase = BEFORE_TRADING_START
                try:
                    with self._before_trading_start_guard:
                        algo.before_trading_start(self.bar_data)
                finally:
                    algo.router.phase = ORDERS_OPEN
            elif action == MINUTE_END:
                yield tracker.handle_minute_close(dt, self.portal)
        yield tracker.handle_simulation_end(self.portal)

    def _set_dt(self, dt: pd.Timestamp) -> None:
        self.simulation_dt = dt
        self.algo.on_dt_changed(dt)

    def _every_bar(self, dt: pd.Timestamp) -> None:
        algo = self.algo
        tracker = algo.metrics_tracker
        broker = self.broker
        self._set_dt(dt)
        fills = broker.process_bar(self.bar_data)
        if fills.transactions:
            tracker.process_fills(fills.transactions, fills.orders)
        for commission in fills.commissions:
            tracker.process_commission(commission)
        with self._handle_data_guard:
            algo.event_manager.handle_data(algo, self.bar_data, dt)
        updates = broker.take_order_updates()
        if updates:
            tracker.record_orders(updates)

    def _once_a_day(self, midnight: pd.Timestamp, label: pd.Timestamp) -> None:
        """Start the session of UTC ``midnight``, labelled ``label`` (tz-naive)."""
        algo = self.algo
        tracker = algo.metrics_tracker
        self._set_dt(midnight)
        algo.router.start_session(label)
        tracker.handle_market_open(label, self.portal)  # the label: converted once
        # The held and ordered assets are gathered only on a session with splits.
        splits = self.portal.get_splits(chain(tracker.positions, self.broker.open_orders), midnight)
        if splits:
            self.broker.process_splits(splits)
            tracker.handle_splits(splits)

    def _cleanup_expired_assets(self, dt: pd.Timestamp) -> None:
        """Close positions and cancel orders of assets past their auto-close date."""
        algo = self.algo
        # The session's UTC midnight, in nanoseconds: the date dt falls on in UTC.
        session = dt.value // _DAY_NS * _DAY_NS
        for asset in _expired(algo.metrics_tracker.positions, session):
            algo.metrics_tracker.process_close_position(asset, dt, self.portal)
        for asset in _expired(self.broker.open_orders, session):
            self.broker.cancel_all_orders_for_asset(asset)


_DAY_NS = 86_400_000_000_000


def _expired(assets: Iterable[Any], session: int) -> list[Any]:
    """The ``assets`` whose auto-close date has come by ``session`` (a UTC midnight in ns).

    Compared as integers: this runs every session over every held asset.
    """
    return [
        a for a in assets if a.auto_close_date is not None and a.auto_close_date.value <= session
    ]
