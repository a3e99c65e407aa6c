"""TradingAlgorithm: a user's strategy wired to a clock, data, a broker and a ledger.

The class holds the zipline API methods; each is thin and delegates to the
component that owns the work (the blotter orders, the ledger accounts, the
metrics tracker reports, the event manager schedules). The simulation loop
lives in :mod:`rustybt.sim.loop`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_DOWN, Decimal
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from rustybt.assets import Asset, Equity
from rustybt.data.bar_data import BarData
from rustybt.data.portal import DataPortal
from rustybt.exceptions import (
    ConfigValidationError,
    InvalidOrderError,
    OrderNotFoundError,
    OrderRejectedError,
    ParameterValidationError,
    StrategyError,
)
from rustybt.finance import controls as _controls
from rustybt.finance.asset_restrictions import Restrictions, StaticRestrictions
from rustybt.finance.blotter import SimulationBlotter
from rustybt.finance.cancel_policy import CancelPolicy
from rustybt.finance.controls import OnError
from rustybt.finance.execution import (
    ExecutionStyle,
    LimitOrder,
    MarketOrder,
    StopLimitOrder,
    StopOrder,
)
from rustybt.finance.order import Order
from rustybt.finance.precision import (
    DEFAULT_PRECISION,
    ZERO,
    AssetClassPrecision,
    PrecisionConfig,
    to_decimal,
)
from rustybt.sim.events import Event, EventManager, scheduled_event
from rustybt.sim.params import SimulationParameters
from rustybt.sim.rules import Always

log = logging.getLogger("rustybt.algorithm")

F = TypeVar("F", bound=Callable[..., Any])

_current: ContextVar[TradingAlgorithm | None] = ContextVar("rustybt_algorithm", default=None)

#: Names of the methods that :mod:`rustybt.api` exposes as functions.
API_METHODS: list[str] = []


def api_method(f: F) -> F:
    """Mark a TradingAlgorithm method as part of the ``rustybt.api`` surface."""
    API_METHODS.append(f.__name__)
    return f


_MINUTE_NS = 60_000_000_000


def _session_span(
    calendar: Any, ns: int | None, session: pd.Timestamp
) -> tuple[int, int, pd.Timestamp] | None:
    """The minutes (ns, exclusive and inclusive bounds) that ``minute_to_session``
    maps to ``session``, when ``ns``, a whole minute, is one of them; else None."""
    last_minutes = getattr(calendar, "last_minutes_nanos", None)  # exchange_calendars' arrays
    first_minutes = getattr(calendar, "minutes_nanos", None)
    if last_minutes is None or first_minutes is None or ns is None or ns % _MINUTE_NS:
        return None  # another calendar: asked at every new time, as before
    if not first_minutes[0] <= ns <= last_minutes[-1]:
        return None
    idx = int(np.searchsorted(last_minutes, ns))
    if calendar.schedule.index[idx] != session:
        return None
    low = int(last_minutes[idx - 1]) if idx else -(2**63)
    return low, int(last_minutes[idx]), session


def _fraction_of(worth: list[Any], value: Decimal, fraction: Any) -> Decimal:
    """``value * fraction``, remembered in ``worth`` (``[value, {fraction: product}]``).

    A rebalancing bar asks for the same fraction of the same portfolio value
    for every asset it holds (1/N); the product is taken once per value. A new
    value (the ledger changed) starts a new table.
    """
    if worth[0] is not value:
        worth[0] = value
        worth[1] = {}
    table = worth[1]
    try:
        product = table.get(fraction)
    except TypeError:  # unhashable, so not a number: to_decimal names the problem
        return value * to_decimal(fraction)
    if product is None:
        product = table[fraction] = value * to_decimal(fraction)
    return product


def current_algorithm() -> TradingAlgorithm:
    """The algorithm running in this context.

    Raises
    ------
    StrategyError
        If no algorithm is running (an ``api`` function called outside one).
    """
    algo = _current.get()
    if algo is None:
        raise StrategyError(
            "rustybt.api functions can only be called while an algorithm runs "
            "(from initialize, handle_data, before_trading_start, a scheduled function or analyze)"
        )
    return algo


@contextmanager
def algorithm_context(algo: TradingAlgorithm) -> Iterator[None]:
    """Make ``algo`` the target of ``rustybt.api`` calls within the block."""
    token = _current.set(algo)
    try:
        yield
    finally:
        _current.reset(token)


#: zipline's rule: order amounts within 1e-4 of a whole number are that number.
_NEAR_INTEGER = Decimal("1e-4")
# Amount types whose truth value is "not zero" (anything else goes through rounding's checks).
_PLAIN_NUMBERS = frozenset({Decimal, float, int})
# "Take the checked path" (None is a result: nothing to order).
_CHECK = object()


def _snap_near_integer(value: Decimal) -> Decimal:
    """zipline's rule: an amount within 1e-4 of a whole number is that number."""
    nearest = value.to_integral_value()
    return nearest if abs(value - nearest) <= _NEAR_INTEGER else value


class TradingAlgorithm:
    """A trading strategy and everything it runs on.

    Write a strategy either as functions (``initialize(context)``,
    ``handle_data(context, data)``, ``before_trading_start(context, data)``,
    ``analyze(context, perf)``), passed here or defined in ``script``, or as a
    subclass overriding ``initialize(self)``, ``handle_data(self, data)``, ... .
    ``context`` is the algorithm itself: set any attribute on it.

    Parameters
    ----------
    sim_params
        What to simulate (sessions, capital, frequency).
    data_portal
        Market data; required to run.
    asset_finder
        Defaults to the portal's.
    namespace, script, algo_filename
        Source of a strategy given as text, its globals and its file name.
    initialize, handle_data, before_trading_start, analyze
        The strategy's functions.
    trading_calendar
        Defaults to ``sim_params``'s.
    metrics_set
        Name of a registered metrics set (``"default"``, ``"none"``) or a set of metrics.
    blotter
        The order book and fill simulator (default: a SimulationBlotter).
    cancel_policy
        Policy for open orders at the end of a session.
    benchmark_sid, benchmark_returns
        The benchmark asset's sid, or a returns Series; default no benchmark (zero returns).
    precision
        Decimal precision and rounding per asset class.
    platform
        Reported by ``get_environment("platform")``.
    **initialize_kwargs
        Passed to ``initialize``.

    Examples
    --------
    >>> from rustybt import run_algorithm
    >>> def initialize(context):
    ...     context.asset = symbol("AAPL")
    >>> def handle_data(context, data):
    ...     order_target_percent(context.asset, 1.0)
    >>> perf = run_algorithm("2024-01-02", "2024-01-31", initialize, 10_000,
    ...                      handle_data=handle_data, bundle="demo")  # doctest: +SKIP
    """

    def __init__(
        self,
        sim_params: SimulationParameters,
        data_portal: DataPortal | None = None,
        asset_finder: Any = None,
        namespace: dict[str, Any] | None = None,
        script: str | None = None,
        algo_filename: str | None = None,
        initialize: Callable[..., Any] | None = None,
        handle_data: Callable[..., Any] | None = None,
        before_trading_start: Callable[..., Any] | None = None,
        analyze: Callable[..., Any] | None = None,
        trading_calendar: Any = None,
        metrics_set: Any = None,
        blotter: SimulationBlotter | None = None,
        cancel_policy: CancelPolicy | None = None,
        benchmark_sid: int | None = None,
        benchmark_returns: pd.Series | None = None,
        precision: PrecisionConfig | None = None,
        platform: str = "rustybt",
        **initialize_kwargs: Any,
    ) -> None:
        self.sim_params = sim_params
        self.trading_calendar = trading_calendar or sim_params.calendar
        self.data_portal = data_portal
        self.asset_finder: Any = asset_finder or (data_portal.asset_finder if data_portal else None)
        self.precision = precision or DEFAULT_PRECISION
        self.blotter = blotter or SimulationBlotter(self.precision, cancel_policy=cancel_policy)
        self.metrics_set = metrics_set if metrics_set is not None else "default"
        self.benchmark_sid = benchmark_sid
        self.benchmark_returns = benchmark_returns
        self._platform = platform
        self._initialize_kwargs = initialize_kwargs
        self.namespace = namespace if namespace is not None else {}
        self.algo_filename = algo_filename or "<algorithm>"
        self._user_functions(script, initialize, handle_data, before_trading_start, analyze)

        self.event_manager = EventManager()
        # handle_data runs before scheduled functions, every bar (zipline's order).
        self.event_manager.add_event(Event(Always(), _run_handle_data), prepend=True)
        self.trading_controls: list[Any] = []
        self.account_controls: list[Any] = []
        self.restrictions: Restrictions = StaticRestrictions([])
        self._recorded_vars: dict[str, Any] = {}
        self._symbol_lookup_date: pd.Timestamp | None = None
        self.datetime: pd.Timestamp = pd.Timestamp(sim_params.first_session, tz="UTC")
        self.initialized = False
        self._in_before_trading_start = False
        self.metrics_tracker: Any = None
        self.current_data: BarData | None = None
        self._last_sync: pd.Timestamp | None = None
        # (datetime, its session, the session in ns)
        self._session_cache: tuple[pd.Timestamp, pd.Timestamp, int] | None = None
        # (previous session's last minute, this session's last minute, in ns;
        # the session): the minutes _current_session maps to it
        self._session_span: tuple[int, int, pd.Timestamp] | None = None
        # sid -> (asset, first and last tradeable session in ns, precision rules)
        # once the asset passed _check_new_asset
        self._tradeable: dict[Any, tuple[Asset, int, int, AssetClassPrecision]] = {}
        # _plain_order_to_target's state: this bar's (_order_lane), and the
        # assets it has checked in this session (session ns, {sid: ...}).
        self._lane: tuple[Any, ...] | None = None
        self._ready_session: tuple[int, dict[Any, tuple[Asset, Decimal]]] = (-1, {})

    # --- user functions -----------------------------------------------------

    def _user_functions(
        self,
        script: str | None,
        initialize: Callable[..., Any] | None,
        handle_data: Callable[..., Any] | None,
        before_trading_start: Callable[..., Any] | None,
        analyze: Callable[..., Any] | None,
    ) -> None:
        if script is not None:
            if any(f is not None for f in (initialize, handle_data, before_trading_start, analyze)):
                raise ConfigValidationError(
                    "pass the algorithm either as script text or as functions, not both"
                )
            code = compile(script, self.algo_filename, "exec")
            exec(code, self.namespace)
            initialize = self.namespace.get("initialize")
            handle_data = self.namespace.get("handle_data")
            before_trading_start = self.namespace.get("before_trading_start")
            analyze = self.namespace.get("analyze")
        self._initialize = initialize
        self._handle_data = handle_data
        self._before_trading_start = before_trading_start
        self._analyze = analyze
        files = {self.algo_filename}
        for fn in (initialize, handle_data, before_trading_start, analyze):
            code_obj = getattr(fn, "__code__", None)
            if code_obj is not None:
                files.add(code_obj.co_filename)
        if type(self) is not TradingAlgorithm:
            try:
                import inspect

                files.add(inspect.getfile(type(self)))
            except (TypeError, OSError):
                pass
        self.user_files = files

    def initialize(self, *args: Any, **kwargs: Any) -> None:
        """Called once before the first session; override or pass ``initialize``."""
        if self._initialize is not None:
            self._initialize(self, *args, **kwargs)

    def handle_data(self, data: BarData) -> None:
        """Called every bar; override or pass ``handle_data``."""
        if self._handle_data is not None:
            self._handle_data(self, data)

    def before_trading_start(self, data: BarData) -> None:
        """Called before each session opens; override or pass ``before_trading_start``."""
        if self._before_trading_start is not None:
            self._before_trading_start(self, data)

    def analyze(self, perf: pd.DataFrame) -> None:
        """Called once with the performance DataFrame; override or pass ``analyze``."""
        if self._analyze is not None:
            self._analyze(self, perf)

    # --- running ------------------------------------------------------------

    def run(
        self,
        data_portal: DataPortal | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> pd.DataFrame:
        """Run the simulation and return the daily performance DataFrame.

        ``progress(sessions_done, sessions_total)`` is called after each session.
        """
        from rustybt.sim.loop import run_simulation

        if data_portal is not None:
            self.data_portal = data_portal
            self.asset_finder = self.asset_finder or data_portal.asset_finder
        if self.data_portal is None:
            raise ConfigValidationError("TradingAlgorithm.run needs a data_portal")
        return run_simulation(self, progress)

    def on_dt_changed(self, dt: pd.Timestamp) -> None:
        """Advance the algorithm's clock (the loop calls this)."""
        self.datetime = dt
        set_date = getattr(self.blotter, "set_date", None)
        if set_date is not None:
            set_date(dt)

    @property
    def recorded_vars(self) -> dict[str, Any]:
        """The variables recorded so far (their latest values)."""
        return dict(self._recorded_vars)

    @property
    def data_frequency(self) -> str:
        """``"daily"`` or ``"minute"``."""
        return self.sim_params.data_frequency

    # --- portfolio ----------------------------------------------------------

    def _sync_last_sale_prices(self) -> None:
        if self.metrics_tracker is None or self.data_portal is None:
            return
        dt = self.datetime
        # Identity first: orders ask for the portfolio once per asset per bar.
        if self._last_sync is not dt and self._last_sync != dt:
            self.metrics_tracker.sync_last_sale_prices(dt, self.data_portal)
            self._last_sync = dt

    @property
    def ledger(self) -> Any:
        """The exact Decimal ledger (``ledger.cash``, ``ledger.positions``, ``ledger.export()``)."""
        if self.metrics_tracker is None:
            raise StrategyError("the ledger exists once the simulation has started")
        self._sync_last_sale_prices()
        return self.metrics_tracker.ledger

    @property
    def portfolio(self) -> Any:
        """The current portfolio: zipline's fields as floats (``context.ledger`` is exact)."""
        self._sync_last_sale_prices()
        return self.metrics_tracker.portfolio

    @property
    def account(self) -> Any:
        """The current account: zipline's fields as floats."""
        self._sync_last_sale_prices()
        return self.metrics_tracker.account

    # --- environment and lookups ---------------------------------------------

    @api_method
    def get_environment(self, field: str = "platform") -> Any:
        """Query the environment: arena, data_frequency, start, end, capital_base, platform, '*'."""
        env = {
            "arena": self.sim_params.arena,
            "data_frequency": self.sim_params.data_frequency,
            "start": self.sim_params.first_open,
            "end": self.sim_params.last_close,
            "capital_base": float(self.sim_params.capital_base),
            "platform": self._platform,
        }
        if field == "*":
            return env
        try:
            return env[field]
        except KeyError:
            raise ParameterValidationError(
                f"get_environment: unknown field {field!r}; one of {sorted(env)} or '*'",
                context={"field": field},
            ) from None

    @api_method
    def get_datetime(self, tz: Any = None) -> pd.Timestamp:
        """The current simulation time (UTC, or converted to ``tz``)."""
        return self.datetime if tz is None else self.datetime.tz_convert(tz)

    @api_method
    def symbol(self, symbol_str: str, country_code: str | None = None) -> Asset:
        """The asset with ``symbol_str`` as of the symbol lookup date (default: the end)."""
        when = self._symbol_lookup_date or self.sim_params.last_session
        return self.asset_finder.lookup_symbol(
            symbol_str, as_of_date=when, country_code=country_code
        )

    @api_method
    def symbols(self, *args: str, **kwargs: Any) -> list[Asset]:
        """``symbol`` for each argument."""
        return [self.symbol(s, **kwargs) for s in args]

    @api_method
    def sid(self, sid: int) -> Asset:
        """The asset with integer id ``sid``."""
        return self.asset_finder.retrieve_asset(sid)

    @api_method
    def set_symbol_lookup_date(self, dt: Any) -> None:
        """Resolve later ``symbol`` calls as of ``dt``."""
        try:
            ts = pd.Timestamp(dt)
        except (TypeError, ValueError) as exc:
            raise ParameterValidationError(
                f"set_symbol_lookup_date: cannot read {dt!r} as a date", context={"dt": str(dt)}
            ) from exc
        self._symbol_lookup_date = ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts

    @api_method
    def record(self, *args: Any, **kwargs: Any) -> None:
        """Record variables: ``record(name, value, ...)`` or ``record(name=value)``."""
        if len(args) % 2:
            raise ParameterValidationError(
                "record takes name, value pairs or keyword arguments", context={"args": args}
            )
        for name, value in zip(args[::2], args[1::2], strict=True):
            self._recorded_vars[name] = value
        self._recorded_vars.update(kwargs)

    # --- scheduling ------------------------------------------------------------

    @api_method
    def schedule_function(
        self,
        func: Callable[..., Any],
        date_rule: Any = None,
        time_rule: Any = None,
        half_days: bool = True,
        calendar: Any = None,
    ) -> None:
        """Run ``func(context, data)`` when ``date_rule`` and ``time_rule`` fire.

        In daily mode the time rule is ignored: functions run at the session's bar.
        """
        self.event_manager.add_event(
            scheduled_event(
                func,
                date_rule,
                time_rule,
                half_days,
                calendar,
                trading_calendar=self.trading_calendar,
                data_frequency=self.data_frequency,
            )
        )

    # --- configuration (initialize only) ---------------------------------------

    def _only_in_initialize(self, what: str) -> None:
        if self.initialized:
            raise ConfigValidationError(
                f"{what} can only be called in initialize", context={"call": what}
            )

    @api_method
    def set_benchmark(self, benchmark: Asset | int) -> None:
        """Use ``benchmark``'s daily returns as the benchmark."""
        self._only_in_initialize("set_benchmark")
        self.benchmark_sid = int(benchmark)
        self.benchmark_returns = None

    @api_method
    def set_commission(self, us_equities: Any = None, us_futures: Any = None) -> None:
        """Set the commission model for equities (and futures)."""
        self._only_in_initialize("set_commission")
        if us_futures is not None:
            raise ConfigValidationError("futures are not supported yet: no us_futures model")
        if us_equities is not None:
            self.blotter.commission_models[Equity] = us_equities

    @api_method
    def set_slippage(self, us_equities: Any = None, us_futures: Any = None) -> None:
        """Set the slippage model for equities (and futures)."""
        self._only_in_initialize("set_slippage")
        if us_futures is not None:
            raise ConfigValidationError("futures are not supported yet: no us_futures model")
        if us_equities is not None:
            self.blotter.slippage_models[Equity] = us_equities

    @api_method
    def set_cancel_policy(self, cancel_policy: CancelPolicy) -> None:
        """Set what happens to open orders at the end of a session."""
        if not isinstance(cancel_policy, CancelPolicy):
            raise ConfigValidationError(
                f"set_cancel_policy needs EODCancel() or NeverCancel(), got {cancel_policy!r}"
            )
        self._only_in_initialize("set_cancel_policy")
        self.blotter.cancel_policy = cancel_policy

    # --- controls ----------------------------------------------------------------

    def register_trading_control(self, control: Any) -> None:
        """Add a control that checks every order."""
        self._only_in_initialize("a trading control")
        self.trading_controls.append(control)

    def register_account_control(self, control: Any) -> None:
        """Add a control that checks the account at the end of each session."""
        self._only_in_initialize("an account control")
        self.account_controls.append(control)

    def validate_account_controls(self) -> None:
        """Check the account controls (the loop calls this at each session end)."""
        for control in self.account_controls:
            control.validate(self.portfolio, self.account, self.datetime, self.current_data)

    @api_method
    def set_max_leverage(self, max_leverage: float) -> None:
        """Fail if the account's leverage exceeds ``max_leverage``."""
        self.register_account_control(_controls.MaxLeverage(max_leverage))

    @api_method
    def set_min_leverage(self, min_leverage: float, grace_period: pd.Timedelta) -> None:
        """Fail if leverage is below ``min_leverage`` after ``grace_period``."""
        self.register_account_control(
            _controls.MinLeverage(
                min_leverage, self.sim_params.first_session + pd.Timedelta(grace_period)
            )
        )

    @api_method
    def set_max_position_size(
        self,
        asset: Asset | None = None,
        max_shares: float | None = None,
        max_notional: float | None = None,
        on_error: OnError = "fail",
    ) -> None:
        """Limit the absolute size of positions (shares and/or notional)."""
        self.register_trading_control(
            _controls.MaxPositionSize(on_error, asset, max_shares, max_notional)
        )

    @api_method
    def set_max_order_size(
        self,
        asset: Asset | None = None,
        max_shares: float | None = None,
        max_notional: float | None = None,
        on_error: OnError = "fail",
    ) -> None:
        """Limit the absolute size of single orders (shares and/or notional)."""
        self.register_trading_control(
            _controls.MaxOrderSize(on_error, asset, max_shares, max_notional)
        )

    @api_method
    def set_max_order_count(self, max_count: int, on_error: OnError = "fail") -> None:
        """Limit the number of orders placed in one session."""
        self.register_trading_control(_controls.MaxOrderCount(on_error, max_count))

    @api_method
    def set_do_not_order_list(
        self, restricted_list: Iterable[Asset], on_error: OnError = "fail"
    ) -> None:
        """Refuse orders for the assets in ``restricted_list``."""
        self.set_asset_restrictions(StaticRestrictions(list(restricted_list)), on_error)

    @api_method
    def set_asset_restrictions(
        self, restrictions: Restrictions, on_error: OnError = "fail"
    ) -> None:
        """Refuse orders for assets that ``restrictions`` marks as restricted."""
        self.register_trading_control(_controls.RestrictedListOrder(on_error, restrictions))
        self.restrictions = restrictions

    @api_method
    def set_long_only(self, on_error: OnError = "fail") -> None:
        """Refuse orders that would leave a short position."""
        self.register_trading_control(_controls.LongOnly(on_error))

    # --- ordering ------------------------------------------------------------------

    def _where(self) -> str:
        return f"at {self.datetime}"

    def _check_can_order(self, call: str) -> None:
        if not self.initialized:
            raise OrderRejectedError(
                f"{call}() cannot be called from initialize; order from handle_data "
                "or a scheduled function",
                context={"call": call},
            )
        if self._in_before_trading_start:
            raise OrderRejectedError(
                f"{call}() cannot be called from before_trading_start "
                f"({self._where()}); order from handle_data or a scheduled function",
                context={"call": call, "dt": str(self.datetime)},
            )

    def _ready(self, asset: Any, call: str) -> AssetClassPrecision:
        """Check that ``call`` may order ``asset`` now; return its class's precision rules.

        Orders check one asset per call, many calls a bar: an asset seen before
        is checked against its cached tradeable span of sessions.
        """
        if not self.initialized or self._in_before_trading_start:
            self._check_can_order(call)
        known = self._tradeable.get(getattr(asset, "sid", None))
        if known is not None and known[0] is asset:
            dt = self.datetime
            cached = self._session_cache
            ns = cached[2] if cached is not None and cached[0] is dt else self._session_ns()
            if known[1] <= ns <= known[2]:
                return known[3]
        return self._check_new_asset(asset, call)[3]

    def _check_new_asset(
        self, asset: Any, call: str
    ) -> tuple[Asset, int, int, AssetClassPrecision]:
        if not isinstance(asset, Asset):
            raise InvalidOrderError(
                f"{call}(): {asset!r} is not an Asset; look one up with symbol() or sid() "
                f"({self._where()})",
                context={"asset": repr(asset), "dt": str(self.datetime)},
            )
        if self.asset_finder.retrieve_asset(asset.sid, default_none=True) is None:
            raise InvalidOrderError(
                f"{call}(): unknown asset {asset!r} (not in the bundle) {self._where()}",
                context={"asset": repr(asset), "dt": str(self.datetime)},
            )
        session = self._current_session()
        if asset.start_date is not None and session < asset.start_date:
            raise OrderRejectedError(
                f"{call}(): cannot order {asset!r} {self._where()}: it starts trading on "
                f"{asset.start_date.date()}",
                context={"asset": repr(asset), "dt": str(self.datetime)},
            )
        end = asset.end_date
        if asset.auto_close_date is not None and end is not None:
            end = min(end, asset.auto_close_date)
        if end is not None and session > end:
            raise OrderRejectedError(
                f"{call}(): cannot order {asset!r} {self._where()}: it was delisted "
                f"(last traded {asset.end_date.date() if asset.end_date else '?'})",
                context={"asset": repr(asset), "dt": str(self.datetime)},
            )
        first = -(2**63) if asset.start_date is None else asset.start_date.value
        last = 2**63 if end is None else end.value
        known = self._tradeable[asset.sid] = (asset, first, last, self.precision.for_asset(asset))
        return known

    def _current_session(self) -> pd.Timestamp:
        """The session of the current time (cached: orders ask for it per asset).

        ``minute_to_session(direction="next")`` gives a minute the first session
        whose last minute is at or after it, so every whole minute after the
        previous session's last one, up to this session's last, has this
        session. The calendar is asked once a session, not once a bar (its
        call costs about 45 us).
        """
        dt = self.datetime
        cached = self._session_cache
        if cached is not None and cached[0] is dt:
            return cached[1]
        ns = getattr(dt, "value", None)
        span = self._session_span
        if span is not None and ns is not None and span[0] < ns <= span[1] and not ns % _MINUTE_NS:
            session = span[2]
        else:
            calendar = self.trading_calendar
            session = calendar.minute_to_session(dt, direction="next")
            self._session_span = _session_span(calendar, ns, session)
        self._session_cache = (dt, session, session.value)
        return session

    def _session_ns(self) -> int:
        self._current_session()
        assert self._session_cache is not None
        return self._session_cache[2]

    def _round_order(self, asset: Asset, amount: Any, rules: AssetClassPrecision) -> Decimal:
        """zipline's near-integer rule, then the asset's quantity rounding (toward zero)."""
        if type(amount) is Decimal and amount.is_finite():
            value = amount
        else:
            try:
                value = to_decimal(amount)
            except Exception as exc:
                raise InvalidOrderError(
                    f"invalid order amount {amount!r} for {asset!r} {self._where()}: "
                    "must be a finite number",
                    context={
                        "asset": repr(asset),
                        "amount": repr(amount),
                        "dt": str(self.datetime),
                    },
                ) from exc
        return rules.quantity(_snap_near_integer(value))

    def _style(
        self, asset: Asset, limit_price: Any, stop_price: Any, style: ExecutionStyle | None
    ) -> ExecutionStyle:
        if style is not None:
            if limit_price is not None or stop_price is not None:
                raise InvalidOrderError(
                    f"order for {asset!r}: pass either style or limit_price/stop_price, not both",
                    context={"asset": repr(asset)},
                )
            return style
        if limit_price is not None and stop_price is not None:
            return StopLimitOrder(limit_price, stop_price, asset=asset)
        if limit_price is not None:
            return LimitOrder(limit_price, asset=asset)
        if stop_price is not None:
            return StopOrder(stop_price, asset=asset)
        return MarketOrder()

    def _place(
        self,
        call: str,
        asset: Any,
        amount: Any,
        limit_price: Any,
        stop_price: Any,
        style: ExecutionStyle | None,
        rules: AssetClassPrecision,
    ) -> str | None:
        plain = style is None and limit_price is None and stop_price is None
        unchecked = plain and not self.trading_controls
        if unchecked and type(amount) in _PLAIN_NUMBERS and not amount:
            # A zero amount (a flat position's zero target) needs no rounding.
            return None
        quantity = self._round_order(asset, amount, rules)
        if unchecked:
            # Nothing to trade, nothing to validate (controls count zero orders,
            # as zipline's do, so they still see them): the blotter would
            # place nothing. order_target_* on a flat position ends here.
            if not quantity:
                return None
            blotter = self.blotter
            # A simulation blotter that rounds as we do needs no second validation.
            if isinstance(blotter, SimulationBlotter) and blotter.precision is self.precision:
                return blotter.order_market(asset, quantity)
        execution = self._style(asset, limit_price, stop_price, style)
        for control in self.trading_controls:
            control.validate(asset, quantity, self.portfolio, self.datetime, self.current_data)
        return self.blotter.order(asset, quantity, execution)

    def _checked_price(self, asset: Asset, call: str) -> float:
        """The asset's current price; raises if there is none (zipline's check)."""
        assert self.current_data is not None
        price = self.current_data.spot(asset, "price")
        if price is None or not math.isfinite(price):
            raise OrderRejectedError(
                f"{call}(): no price for {asset!r} {self._where()}; cannot size the order",
                context={"asset": repr(asset), "dt": str(self.datetime)},
            )
        return float(price)

    def _value_to_amount(self, asset: Asset, value: Decimal, call: str) -> Decimal:
        price = to_decimal(self._checked_price(asset, call))
        if not price:
            return ZERO
        multiplier = asset.multiplier
        if multiplier == 1:
            return value / price
        return value / (price * to_decimal(multiplier))

    def _held(self, asset: Asset) -> Decimal:
        position = self.metrics_tracker.positions.get(asset)
        return ZERO if position is None else position.amount

    @api_method
    def order(
        self,
        asset: Asset,
        amount: float,
        limit_price: float | None = None,
        stop_price: float | None = None,
        style: ExecutionStyle | None = None,
    ) -> str | None:
        """Place an order for ``amount`` shares (negative to sell); returns the order id."""
        rules = self._ready(asset, "order")
        return self._place("order", asset, amount, limit_price, stop_price, style, rules)

    @api_method
    def order_value(
        self,
        asset: Asset,
        value: float,
        limit_price: float | None = None,
        stop_price: float | None = None,
        style: ExecutionStyle | None = None,
    ) -> str | None:
        """Order ``value`` worth of ``asset`` at its current price."""
        rules = self._ready(asset, "order_value")
        amount = self._value_to_amount(asset, to_decimal(value), "order_value")
        return self._place("order_value", asset, amount, limit_price, stop_price, style, rules)

    @api_method
    def order_percent(
        self,
        asset: Asset,
        percent: float,
        limit_price: float | None = None,
        stop_price: float | None = None,
        style: ExecutionStyle | None = None,
    ) -> str | None:
        """Order ``percent`` (a fraction) of the portfolio value in ``asset``."""
        rules = self._ready(asset, "order_percent")
        value = self.ledger.portfolio_value * to_decimal(percent)
        amount = self._value_to_amount(asset, value, "order_percent")
        return self._place("order_percent", asset, amount, limit_price, stop_price, style, rules)

    @api_method
    def order_target(
        self,
        asset: Asset,
        target: float,
        limit_price: float | None = None,
        stop_price: float | None = None,
        style: ExecutionStyle | None = None,
    ) -> str | None:
        """Order so the position in ``asset`` becomes ``target`` shares."""
        rules = self._ready(asset, "order_target")
        amount = to_decimal(target) - self._held(asset)
        return self._place("order_target", asset, amount, limit_price, stop_price, style, rules)

    @api_method
    def order_target_value(
        self,
        asset: Asset,
        target: float,
        limit_price: float | None = None,
        stop_price: float | None = None,
        style: ExecutionStyle | None = None,
    ) -> str | None:
        """Order so the position in ``asset`` is worth ``target``."""
        if style is None and limit_price is None and stop_price is None:
            placed = self._plain_order_to_target(asset, target, False)
            if placed is not _CHECK:
                return placed
        return self._order_to_target(
            "order_target_value", asset, target, False, limit_price, stop_price, style
        )

    @api_method
    def order_target_percent(
        self,
        asset: Asset,
        target: float,
        limit_price: float | None = None,
        stop_price: float | None = None,
        style: ExecutionStyle | None = None,
    ) -> str | None:
        """Order so ``asset`` is ``target`` (a fraction) of the portfolio value."""
        if style is None and limit_price is None and stop_price is None:
            placed = self._plain_order_to_target(asset, target, True)
            if placed is not _CHECK:
                return placed
        return self._order_to_target(
            "order_target_percent", asset, target, True, limit_price, stop_price, style
        )

    def _order_to_target(
        self,
        call: str,
        asset: Any,
        target: Any,
        percent: bool,
        limit_price: Any,
        stop_price: Any,
        style: ExecutionStyle | None,
    ) -> str | None:
        """Size and place ``call``: ``target`` is a value, or a fraction of the portfolio's.

        The checked path of both target calls (they try
        :meth:`_plain_order_to_target` first). A zero target closes the
        position without a value or a division (0 / price is 0, and rounding
        leaves a whole amount as it is), but the price is still checked, as
        zipline checks it.
        """
        rules = self._ready(asset, call)
        if target == 0:
            self._checked_price(asset, call)
            amount = -self._held(asset)
        else:
            value = to_decimal(target)
            if percent:
                value = self.ledger.portfolio_value * value
            amount = self._value_to_amount(asset, value, call) - self._held(asset)
        return self._place(call, asset, amount, limit_price, stop_price, style, rules)

    def _plain_order_to_target(self, asset: Any, target: Any, percent: bool) -> Any:
        """:meth:`_order_to_target` for a market order, in one function, or ``_CHECK``.

        Rebalancing strategies make one target call per asset and bar, and
        nearly all are market orders for an asset already known to trade in
        this session, with a price, and no trading controls. This is that case
        with every step inlined and what it needs looked up once a bar
        (:meth:`_order_lane`); it gives the same amount and order as the
        checked path. Anything else (an asset not yet checked this session, no
        price, controls, another blotter, a contract multiplier) returns
        ``_CHECK``, and the checked path then places the order or raises its
        error.
        """
        lane = self._lane
        if lane is None or lane[0] is not self.datetime:
            lane = self._order_lane()
            if lane is None:
                return _CHECK
        _, session_ns, ready, spot, positions, ledger, order_market, worth, prices = lane
        try:
            sid = asset.sid
        except AttributeError:  # not an asset: the checked path names the problem
            return _CHECK
        entry = ready.get(sid)
        if entry is None or entry[0] is not asset:
            # First order for the asset this session: its cached tradeable span.
            known = self._tradeable.get(sid)
            if known is None or known[0] is not asset or not known[1] <= session_ns <= known[2]:
                return _CHECK
            entry = ready[sid] = (asset, known[3].quantity_quantum)
        row = prices[0]
        if row is None:
            price = spot(asset, "price")
            # Once BarData reads whole rows (many assets a bar), read the row.
            prices[0] = self.current_data.held_row("price")  # type: ignore[union-attr]
        else:
            price = row[prices[1].get(sid, prices[2])]
        if type(price) is not float or price - price != 0.0:  # NaN, inf or not a float
            return _CHECK
        position = positions.get(asset)
        if target == 0:
            if position is None:
                return None
            amount = -position.amount
        else:
            if asset.multiplier != 1:
                return _CHECK
            if percent:
                if self._last_sync is not self.datetime:
                    self._sync_last_sale_prices()
                value = ledger.portfolio_value
                # _fraction_of's memo, read inline: one fraction, one value a bar.
                product = (
                    worth[1].get(target) if worth[0] is value and type(target) is float else None
                )
                value = product or _fraction_of(worth, value, target)
            else:
                value = to_decimal(target)
            dprice = to_decimal(price)
            amount = value / dprice if dprice else ZERO
            if position is not None:
                amount -= position.amount
        if not amount:
            return None
        # _round_order's rule, inlined: near-integers snap, then toward zero by
        # the quantity step (AssetClassPrecision.quantity of a finite Decimal).
        nearest = amount.to_integral_value()
        if abs(amount - nearest) <= _NEAR_INTEGER:
            amount = nearest
        quantity = amount.quantize(entry[1], rounding=ROUND_DOWN)
        if not quantity:
            return None
        return order_market(asset, quantity)

    def _order_lane(self) -> tuple[Any, ...] | None:
        """What :meth:`_plain_order_to_target` needs at this bar, or None when it cannot run.

        ``(datetime, session in ns, {sid: (asset, quantity step)} of the assets
        checked this session, BarData.spot, positions, ledger,
        blotter.order_market, [portfolio value, {fraction: its value}], [the
        bar's price row once BarData holds it, the portal's column by sid, its
        column without data])``. Controls are set in initialize only, so what
        holds at a bar's first order holds for the bar.
        """
        blotter = self.blotter
        if (
            not self.initialized
            or self._in_before_trading_start
            or self.trading_controls
            or type(blotter) is not SimulationBlotter
            or blotter.precision is not self.precision
            or self.current_data is None
            or self.metrics_tracker is None
        ):
            return None
        session_ns = self._session_ns()
        if self._ready_session[0] != session_ns:
            self._ready_session = (session_ns, {})
        ledger = self.metrics_tracker.ledger
        portal = self.current_data.data_portal
        self._lane = (
            self.datetime,
            session_ns,
            self._ready_session[1],
            self.current_data.spot,
            ledger.positions,
            ledger,
            blotter.order_market,
            [None, {}],
            [None, portal.sid_columns, portal.no_data_column],
        )
        return self._lane

    @api_method
    def batch_market_order(self, share_counts: Mapping[Asset, float]) -> list[str | None]:
        """Place a market order for each ``asset: amount`` of ``share_counts``."""
        self._check_can_order("batch_market_order")
        ids = []
        for asset, amount in share_counts.items():
            if amount:
                rules = self._ready(asset, "batch_market_order")
                ids.append(
                    self._place("batch_market_order", asset, amount, None, None, None, rules)
                )
        return ids

    @api_method
    def get_open_orders(self, asset: Asset | None = None) -> Any:
        """Open orders: a dict asset -> list of orders, or the list for ``asset``."""
        if asset is None:
            return {a: list(orders) for a, orders in self.blotter.open_orders.items() if orders}
        return list(self.blotter.open_orders.get(asset, []))

    @api_method
    def get_order(self, order_id: str) -> Order | None:
        """The order with ``order_id`` (None if unknown)."""
        return self.blotter.orders.get(order_id)

    @api_method
    def cancel_order(self, order_param: str | Order) -> None:
        """Cancel an open order (by id or Order)."""
        order_id = order_param.id if isinstance(order_param, Order) else order_param
        if order_id not in self.blotter.orders:
            raise OrderNotFoundError(
                f"cancel_order: no order with id {order_id!r} {self._where()}",
                context={"order_id": order_id},
            )
        self.blotter.cancel(order_id)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(capital_base={self.sim_params.capital_base}, "
            f"sessions={self.sim_params.first_session.date()}.."
            f"{self.sim_params.last_session.date()}, "
            f"data_frequency={self.data_frequency!r})"
        )


def _run_handle_data(context: TradingAlgorithm, data: BarData) -> None:
    """The first event of every bar: the algorithm's own handle_data."""
    context.handle_data(data)
