"""rustybt.errors: zipline's error names catch what rustybt raises in zipline's situations.

Each test does what zipline code does: it provokes the situation on the demo
bundle and catches the error by its zipline name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import rustybt
from rustybt import errors
from rustybt.api import (
    EODCancel,
    cancel_policy,
    commission,
    order,
    order_target_percent,
    schedule_function,
    set_benchmark,
    set_cancel_policy,
    set_commission,
    set_max_leverage,
    set_max_order_size,
    set_slippage,
    sid,
    slippage,
    symbol,
)
from rustybt.assets import AssetDBWriter, AssetFinder
from rustybt.exceptions import RustyBTError
from rustybt.utils.calendar_utils import get_calendar

Fn = Callable[..., Any]


def run(
    initialize: Fn,
    handle_data: Fn | None = None,
    before_trading_start: Fn | None = None,
    start: str = "2016-01-04",
    end: str = "2016-01-08",
    capital_base: float = 100_000,
) -> pd.DataFrame:
    """A short daily run on the demo bundle."""
    return rustybt.run_algorithm(
        start,
        end,
        initialize,
        capital_base,
        handle_data=handle_data,
        before_trading_start=before_trading_start,
    )


def in_handle_data(call: Fn) -> Fn:
    """A handle_data that makes ``call`` on the first bar."""

    def handle_data(context: Any, data: Any) -> None:
        call(context)

    return handle_data


def nothing(context: Any) -> None:
    context.aapl = symbol("AAPL")


@pytest.mark.usefixtures("demo")
class TestLookups:
    def test_symbol_not_found(self) -> None:
        with pytest.raises(errors.SymbolNotFound, match="NOSUCH"):
            run(lambda context: symbol("NOSUCH"))

    def test_sids_not_found(self) -> None:
        with pytest.raises(errors.SidsNotFound, match="999999"):
            run(lambda context: sid(999_999))

    def test_every_error_is_a_zipline_error(self) -> None:
        with pytest.raises(errors.ZiplineError) as info:
            run(lambda context: symbol("NOSUCH"))
        assert isinstance(info.value, RustyBTError)


def test_multiple_symbols_found(tmp_path: Path) -> None:
    # Two companies held the ticker ABC in turn; without a date it is ambiguous.
    db = tmp_path / "assets.sqlite"
    AssetDBWriter(db).write(
        equities=pd.DataFrame(
            {
                "symbol": ["ABC", "ABC"],
                "start_date": pd.to_datetime(["2010-01-04", "2016-01-04"]),
                "end_date": pd.to_datetime(["2014-12-31", "2020-12-31"]),
                "exchange": ["NYSE", "NYSE"],
            },
            index=[1, 2],
        )
    )
    with pytest.raises(errors.MultipleSymbolsFound, match="ABC"):
        AssetFinder(db).lookup_symbol("ABC", None)


@pytest.mark.usefixtures("demo")
class TestOrders:
    def test_order_during_initialize(self) -> None:
        def initialize(context: Any) -> None:
            order(symbol("AAPL"), 10)

        with pytest.raises(errors.OrderDuringInitialize, match="initialize"):
            run(initialize)

    def test_order_in_before_trading_start(self) -> None:
        def before_trading_start(context: Any, data: Any) -> None:
            order(context.aapl, 10)

        with pytest.raises(errors.OrderInBeforeTradingStart, match="before_trading_start"):
            run(nothing, before_trading_start=before_trading_start)

    def test_cannot_order_delisted_asset(self) -> None:
        def initialize(context: Any) -> None:
            context.mon = symbol("MON")  # the demo's Monsanto stops trading 2018-06-06

        handle_data = in_handle_data(lambda context: order(context.mon, 10))
        with pytest.raises(errors.CannotOrderDelistedAsset, match="delisted"):
            run(initialize, handle_data, start="2018-06-11", end="2018-06-15")

    def test_unsupported_order_parameters(self) -> None:
        from rustybt.finance.execution import LimitOrder

        handle_data = in_handle_data(
            lambda context: order(context.aapl, 10, limit_price=5.0, style=LimitOrder(5.0))
        )
        with pytest.raises(errors.UnsupportedOrderParameters, match="not both"):
            run(nothing, handle_data)

    def test_bad_order_parameters(self) -> None:
        handle_data = in_handle_data(lambda context: order(context.aapl, 10, limit_price=-1.0))
        with pytest.raises(errors.BadOrderParameters, match="limit price"):
            run(nothing, handle_data)

    def test_trading_control_violation(self) -> None:
        def initialize(context: Any) -> None:
            nothing(context)
            set_max_order_size(max_shares=5)

        handle_data = in_handle_data(lambda context: order(context.aapl, 10))
        with pytest.raises(errors.TradingControlViolation):
            run(initialize, handle_data)

    def test_account_control_violation(self) -> None:
        def initialize(context: Any) -> None:
            nothing(context)
            set_max_leverage(0.5)

        handle_data = in_handle_data(lambda context: order_target_percent(context.aapl, 1.0))
        with pytest.raises(errors.AccountControlViolation):
            run(initialize, handle_data)


POST_INIT_CALLS: list[tuple[type[Exception], Fn]] = [
    (errors.SetBenchmarkOutsideInitialize, lambda context: set_benchmark(context.aapl)),
    (errors.SetCommissionPostInit, lambda context: set_commission(commission.PerShare())),
    (
        errors.SetSlippagePostInit,
        lambda context: set_slippage(slippage.VolumeShareSlippage()),
    ),
    (errors.SetCancelPolicyPostInit, lambda context: set_cancel_policy(EODCancel())),
    (errors.RegisterTradingControlPostInit, lambda context: set_max_order_size(max_shares=1)),
    (errors.RegisterAccountControlPostInit, lambda context: set_max_leverage(2.0)),
]


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("error", "call"), POST_INIT_CALLS, ids=[e.__name__ for e, _ in POST_INIT_CALLS]
)
def test_configuration_after_initialize(error: type[Exception], call: Fn) -> None:
    with pytest.raises(error, match="only be called in initialize"):
        run(nothing, in_handle_data(call))


@pytest.mark.usefixtures("demo")
def test_unsupported_cancel_policy() -> None:
    def initialize(context: Any) -> None:
        set_cancel_policy("end of day")

    with pytest.raises(errors.UnsupportedCancelPolicy, match="EODCancel"):
        run(initialize)
    assert isinstance(cancel_policy.NeverCancel(), cancel_policy.CancelPolicy)


@pytest.mark.usefixtures("demo")
def test_schedule_function_invalid_calendar() -> None:
    def initialize(context: Any) -> None:
        schedule_function(lambda context, data: None, calendar="the moon")

    with pytest.raises(errors.ScheduleFunctionInvalidCalendar, match=r"calendars\.US_EQUITIES"):
        run(initialize)


@pytest.mark.usefixtures("demo")
def test_zero_capital() -> None:
    with pytest.raises(errors.ZeroCapitalError, match="capital_base"):
        run(nothing, capital_base=0)


@pytest.mark.usefixtures("demo")
def test_history_window_starts_before_data() -> None:
    def handle_data(context: Any, data: Any) -> None:
        data.history(context.aapl, "price", 5000, "1d")  # the demo starts in 2014

    with pytest.raises(errors.HistoryWindowStartsBeforeData):
        run(nothing, handle_data)


def test_invalid_calendar_name() -> None:
    with pytest.raises(errors.InvalidCalendarName, match="NOSUCH"):
        get_calendar("NOSUCH")


def test_every_name_is_exported_and_is_a_rustybt_error() -> None:
    for name in errors.__all__:
        value = getattr(errors, name)
        assert issubclass(value, RustyBTError), name
