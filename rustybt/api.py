"""The zipline-style API: ``from rustybt.api import order, symbol, record, ...``.

Each function delegates to the algorithm running in the current context (a
``contextvars.ContextVar``, not a module global), so two simulations in two
threads never see each other's state. Calling one outside a running algorithm
raises :class:`rustybt.exceptions.StrategyError`.

Examples
--------
>>> from rustybt.api import order_target_percent, symbol, record
>>> def initialize(context):
...     context.asset = symbol("AAPL")
>>> def handle_data(context, data):
...     order_target_percent(context.asset, 0.5)
...     record(price=data.current(context.asset, "price"))
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from rustybt.algorithm import (
    API_METHODS,
    RUNNING_ALGORITHM,
    TradingAlgorithm,
    current_algorithm,
)
from rustybt.finance.models import cancel_policy, commission, slippage
from rustybt.finance.models.cancel_policy import EODCancel, NeverCancel
from rustybt.finance.models.slippage import (
    FixedBasisPointsSlippage,
    FixedSlippage,
    NoSlippage,
    VolumeShareSlippage,
)
from rustybt.finance.orders import execution
from rustybt.finance.risk.restrictions import (
    RESTRICTION_STATES,
    HistoricalRestrictions,
    Restriction,
    StaticRestrictions,
)
from rustybt.sim.events import calendars, date_rules, time_rules
from rustybt.utils import events, math_utils


def _delegate(name: str) -> Callable[..., Any]:
    """The API function ``name``: the running algorithm's method of that name."""
    method = getattr(TradingAlgorithm, name)

    running = RUNNING_ALGORITHM.get

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        # current_algorithm() only when none runs, for its error (an order
        # function is called a million times in a minute backtest).
        return getattr(running() or current_algorithm(), name)(*args, **kwargs)

    params = list(inspect.signature(method).parameters.values())[1:]  # drop self
    call.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return call


attach_pipeline = _delegate("attach_pipeline")
batch_market_order = _delegate("batch_market_order")
cancel_order = _delegate("cancel_order")
fetch_csv = _delegate("fetch_csv")
get_datetime = _delegate("get_datetime")
get_environment = _delegate("get_environment")
get_open_orders = _delegate("get_open_orders")
get_order = _delegate("get_order")
order = _delegate("order")
order_percent = _delegate("order_percent")
order_target = _delegate("order_target")
order_target_percent = _delegate("order_target_percent")
order_target_value = _delegate("order_target_value")
order_value = _delegate("order_value")
pipeline_output = _delegate("pipeline_output")
record = _delegate("record")
schedule_function = _delegate("schedule_function")
set_asset_restrictions = _delegate("set_asset_restrictions")
set_benchmark = _delegate("set_benchmark")
set_cancel_policy = _delegate("set_cancel_policy")
set_commission = _delegate("set_commission")
set_do_not_order_list = _delegate("set_do_not_order_list")
set_long_only = _delegate("set_long_only")
set_max_leverage = _delegate("set_max_leverage")
set_max_order_count = _delegate("set_max_order_count")
set_max_order_size = _delegate("set_max_order_size")
set_max_position_size = _delegate("set_max_position_size")
set_min_leverage = _delegate("set_min_leverage")
set_slippage = _delegate("set_slippage")
set_symbol_lookup_date = _delegate("set_symbol_lookup_date")
sid = _delegate("sid")
symbol = _delegate("symbol")
symbols = _delegate("symbols")

_FUNCTIONS = sorted(name for name in API_METHODS)

__all__ = [
    *_FUNCTIONS,
    "EODCancel",
    "FixedBasisPointsSlippage",
    "FixedSlippage",
    "HistoricalRestrictions",
    "NeverCancel",
    "NoSlippage",
    "RESTRICTION_STATES",
    "Restriction",
    "StaticRestrictions",
    "VolumeShareSlippage",
    "calendars",
    "cancel_policy",
    "commission",
    "date_rules",
    "events",
    "execution",
    "math_utils",
    "slippage",
    "time_rules",
]
