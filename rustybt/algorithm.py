"""TradingAlgorithm: a user's strategy wired to a clock, data, a broker and a ledger.

The class holds the zipline API methods; each is thin and delegates to the
component that owns the work: orders go through the
:class:`~rustybt.finance.orders.routing.OrderRouter` to the broker (any
:class:`~rustybt.brokers.Broker`), the ledger accounts, the metrics tracker
reports, the event manager schedules. The simulation loop lives in
:mod:`rustybt.sim.loop`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

import pandas as pd

from rustybt.assets import Asset, Equity
from rustybt.brokers.protocol import Broker
from rustybt.brokers.simulated import SimulationBlotter
from rustybt.data.bar_data import BarData
from rustybt.data.portal import DataPortal
from rustybt.exceptions import (
    ConfigValidationError,
    OrderNotFoundError,
    ParameterValidationError,
    StrategyError,
)
from rustybt.finance.models.cancel_policy import CancelPolicy
from rustybt.finance.orders.execution import ExecutionStyle
from rustybt.finance.orders.order import Order
from rustybt.finance.orders.routing import INITIALIZE, OrderRouter
from rustybt.finance.orders.sizing import Unit
from rustybt.finance.precision import DEFAULT_PRECISION, PrecisionConfig
from rustybt.finance.risk.controls import (
    AccountControl,
    LongOnly,
    MaxLeverage,
    MaxOrderCount,
    MaxOrderSize,
    MaxPositionSize,
    MinLeverage,
    OnError,
    RestrictedListOrder,
    TradingControl,
)
from rustybt.finance.risk.restrictions import Restrictions, StaticRestrictions
from rustybt.sim.events import Event, EventManager, scheduled_event
from rustybt.sim.loop import run_simulation
from rustybt.sim.params import SimulationParameters
from rustybt.sim.pipelines import AttachedPipelines, attach_pipeline, pipeline_output
from rustybt.sim.rules import Always
from rustybt.sources.fetched import FetchedData
from rustybt.sources.fetcher import fetch_csv
from rustybt.user_code import strategy_functions, user_files

log = logging.getLogger("rustybt.algorithm")

F = TypeVar("F", bound=Callable[..., Any])

#: The algorithm running in this context (None outside a run); :func:`current_algorithm`
#: reads it with the error for that case, ``rustybt.api`` reads it on every call.
RUNNING_ALGORITHM: ContextVar[TradingAlgorithm | None] = ContextVar(
    "rustybt_algorithm", default=None
)

#: Names of the methods that :mod:`rustybt.api` exposes as functions.
API_METHODS: list[str] = []


def api_method(f: F) -> F:
    """Mark a TradingAlgorithm method as part of the ``rustybt.api`` surface."""
    API_METHODS.append(f.__name__)
    return f


def current_algorithm() -> TradingAlgorithm:
    """The algorithm running in this context.

    Raises
    ------
    StrategyError
        If no algorithm is running (an ``api`` function called outside one).
    """
    algo = RUNNING_ALGORITHM.get()
    if algo is None:
        raise StrategyError(
            "rustybt.api functions can only be called while an algorithm runs "
            "(from initialize, handle_data, before_trading_start, a scheduled function or analyze)"
        )
    return algo


@contextmanager
def algorithm_context(algo: TradingAlgorithm) -> Iterator[None]:
    """Make ``algo`` the target of ``rustybt.api`` calls within the block."""
    token = RUNNING_ALGORITHM.set(algo)
    try:
        yield
    finally:
        RUNNING_ALGORITHM.reset(token)


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
        The broker orders go to: any :class:`rustybt.brokers.Broker` (default: a
        SimulationBlotter, the simulated broker).
    cancel_policy
        Policy for open orders at the end of a session.
    benchmark_sid, benchmark_returns
        The benchmark asset's sid, or a returns Series; default no benchmark (zero returns).
    precision
        Decimal precision and rounding per asset class.
    platform
        Reported by ``get_environment("platform")``.
    params
        The strategy's parameters, read-only as ``context.params`` (a rustybt
        addition: zipline has no such attribute); empty when none are given.
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
        blotter: Broker | None = None,
        cancel_policy: CancelPolicy | None = None,
        benchmark_sid: int | None = None,
        benchmark_returns: pd.Series | None = None,
        precision: PrecisionConfig | None = None,
        platform: str = "rustybt",
        params: Mapping[str, Any] | None = None,
        custom_loader: Mapping[Any, Any] | None = None,
        **initialize_kwargs: Any,
    ) -> None:
        self.sim_params = sim_params
        #: The run's parameters (``-D name=value``, ``run_algorithm(params=...)``), read-only.
        self.params: Mapping[str, Any] = MappingProxyType(dict(params or {}))
        self.trading_calendar = trading_calendar or sim_params.calendar
        self.data_portal = data_portal
        self.asset_finder: Any = asset_finder or (data_portal.asset_finder if data_portal else None)
        self.precision = precision or DEFAULT_PRECISION
        broker = blotter or SimulationBlotter(self.precision, cancel_policy=cancel_policy)
        self.router = OrderRouter(broker, self.asset_finder, self.precision)
        self.metrics_set = metrics_set if metrics_set is not None else "default"
        self.benchmark_sid = benchmark_sid
        self.benchmark_returns = benchmark_returns
        self._platform = platform
        self.initialize_kwargs = initialize_kwargs
        self.namespace = namespace if namespace is not None else {}
        self.algo_filename = algo_filename or "<algorithm>"
        functions = (initialize, handle_data, before_trading_start, analyze)
        if script is not None:
            functions = strategy_functions(script, self.algo_filename, self.namespace, functions)
        self._initialize, self._handle_data, self._before_trading_start, self._analyze = functions
        extra = () if type(self) is TradingAlgorithm else (type(self),)
        self.user_files = user_files(self.algo_filename, functions, extra)

        self.event_manager = EventManager()
        # handle_data runs before scheduled functions, every bar (zipline's order).
        self.event_manager.add_event(Event(Always(), _run_handle_data), prepend=True)
        self.account_controls: list[AccountControl] = []
        self.restrictions: Restrictions = StaticRestrictions([])
        self._recorded_vars: dict[str, Any] = {}
        self._symbol_lookup_date: pd.Timestamp | None = None
        self.datetime: pd.Timestamp = pd.Timestamp(sim_params.first_session, tz="UTC")
        self.metrics_tracker: Any = None
        self.current_data: BarData | None = None
        self.fetched: FetchedData | None = None  # what fetch_csv read, once it has run
        self._last_sync: pd.Timestamp | None = None
        self.pipelines = AttachedPipelines(self, custom_loader)

    @property
    def blotter(self) -> Broker:
        """The broker orders go to (zipline's name: the simulated one is a blotter)."""
        return self.router.broker

    @blotter.setter
    def blotter(self, broker: Broker) -> None:
        self.router.broker = broker

    @property
    def initialized(self) -> bool:
        """Whether ``initialize`` has run."""
        return self.router.phase != INITIALIZE

    # --- user functions -----------------------------------------------------

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
        self.pipelines.compute_eager(self.datetime)
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
        if data_portal is not None:
            self.data_portal = data_portal
            self.asset_finder = self.asset_finder or data_portal.asset_finder
            self.router.asset_finder = self.asset_finder
        if self.data_portal is None:
            raise ConfigValidationError("TradingAlgorithm.run needs a data_portal")
        with algorithm_context(self):
            return run_simulation(self, progress)

    def start_simulation(self, data: BarData, metrics_tracker: Any) -> None:
        """Attach the bar data and the metrics tracker (the loop calls this first)."""
        self.current_data = data
        data.fetched = self.fetched
        self.metrics_tracker = metrics_tracker
        self.router.bind(
            data,
            metrics_tracker.ledger,
            portfolio_value=self._portfolio_value,
            portfolio=lambda: self.portfolio,
        )

    def on_dt_changed(self, dt: pd.Timestamp) -> None:
        """Advance the algorithm's clock (the loop calls this)."""
        self.datetime = dt
        self.router.set_date(dt)

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
        """Mark the positions to the current time (once per time)."""
        if self.metrics_tracker is None or self.data_portal is None:
            return
        dt = self.datetime
        if self._last_sync is not dt and self._last_sync != dt:
            self.metrics_tracker.sync_last_sale_prices(dt, self.data_portal)
            self._last_sync = dt

    def _portfolio_value(self) -> Decimal:
        """The ledger's portfolio value, marked to the current time (order sizing's)."""
        if self._last_sync is not self.datetime:
            self._sync_last_sale_prices()
        # The router's ledger: the tracker's, bound once (its property is a call per order).
        return self.router.ledger.portfolio_value

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

    # The zipline method, its signature and docs: rustybt.sources.fetcher.fetch_csv.
    fetch_csv = api_method(fetch_csv)
    # zipline's pipeline methods: rustybt.sim.pipelines.
    attach_pipeline = api_method(attach_pipeline)
    pipeline_output = api_method(pipeline_output)

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
            self.blotter.set_commission(Equity, us_equities)

    @api_method
    def set_slippage(self, us_equities: Any = None, us_futures: Any = None) -> None:
        """Set the slippage model for equities (and futures)."""
        self._only_in_initialize("set_slippage")
        if us_futures is not None:
            raise ConfigValidationError("futures are not supported yet: no us_futures model")
        if us_equities is not None:
            self.blotter.set_slippage(Equity, us_equities)

    @api_method
    def set_cancel_policy(self, cancel_policy: CancelPolicy) -> None:
        """Set what happens to open orders at the end of a session."""
        if not isinstance(cancel_policy, CancelPolicy):
            raise ConfigValidationError(
                f"set_cancel_policy needs EODCancel() or NeverCancel(), got {cancel_policy!r}"
            )
        self._only_in_initialize("set_cancel_policy")
        self.blotter.set_cancel_policy(cancel_policy)

    # --- controls ----------------------------------------------------------------

    @property
    def trading_controls(self) -> list[TradingControl]:
        """The controls every order must pass."""
        return self.router.trading_controls

    def register_trading_control(self, control: TradingControl) -> None:
        """Add a control that checks every order."""
        self._only_in_initialize("a trading control")
        self.router.trading_controls.append(control)

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
        self.register_account_control(MaxLeverage(max_leverage))

    @api_method
    def set_min_leverage(self, min_leverage: float, grace_period: pd.Timedelta) -> None:
        """Fail if leverage is below ``min_leverage`` after ``grace_period``."""
        self.register_account_control(
            MinLeverage(min_leverage, self.sim_params.first_session + pd.Timedelta(grace_period))
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
        self.register_trading_control(MaxPositionSize(on_error, asset, max_shares, max_notional))

    @api_method
    def set_max_order_size(
        self,
        asset: Asset | None = None,
        max_shares: float | None = None,
        max_notional: float | None = None,
        on_error: OnError = "fail",
    ) -> None:
        """Limit the absolute size of single orders (shares and/or notional)."""
        self.register_trading_control(MaxOrderSize(on_error, asset, max_shares, max_notional))

    @api_method
    def set_max_order_count(self, max_count: int, on_error: OnError = "fail") -> None:
        """Limit the number of orders placed in one session."""
        self.register_trading_control(MaxOrderCount(on_error, max_count))

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
        self.register_trading_control(RestrictedListOrder(on_error, restrictions))
        self.restrictions = restrictions

    @api_method
    def set_long_only(self, on_error: OnError = "fail") -> None:
        """Refuse orders that would leave a short position."""
        self.register_trading_control(LongOnly(on_error))

    # --- ordering: every order function goes through the router ----------------------

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
        return self.router.place(
            "order", asset, amount, Unit.SHARES, False, limit_price, stop_price, style
        )

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
        return self.router.place(
            "order_value", asset, value, Unit.VALUE, False, limit_price, stop_price, style
        )

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
        return self.router.place(
            "order_percent", asset, percent, Unit.PERCENT, False, limit_price, stop_price, style
        )

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
        return self.router.place(
            "order_target", asset, target, Unit.SHARES, True, limit_price, stop_price, style
        )

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
        return self.router.place(
            "order_target_value", asset, target, Unit.VALUE, True, limit_price, stop_price, style
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
        return self.router.place(
            "order_target_percent",
            asset,
            target,
            Unit.PERCENT,
            True,
            limit_price,
            stop_price,
            style,
        )

    @api_method
    def batch_market_order(self, share_counts: Mapping[Asset, float]) -> list[str | None]:
        """Place a market order for each ``asset: amount`` of ``share_counts``."""
        self.router.check_can_order("batch_market_order")
        return [
            self.router.place("batch_market_order", asset, amount, Unit.SHARES, False)
            for asset, amount in share_counts.items()
            if amount
        ]

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
                f"cancel_order: no order with id {order_id!r} at {self.datetime}",
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
