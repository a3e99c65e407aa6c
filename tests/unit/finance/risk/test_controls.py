"""Trading/account controls and restricted lists, with prices from real BarData.

Bundle: ``_bundle_kit``'s default -- AAA closes 100 + s on session s < 8;
CCC lives on sessions 4..12; DDD never trades (price NaN).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace

import pandas as pd
import pytest

from rustybt.assets import Asset
from rustybt.data.bar_data import BarData
from rustybt.exceptions import (
    AccountControlViolation,
    OrderRejectedError,
    ParameterValidationError,
    TradingControlViolation,
)
from rustybt.finance.ledger.position import Position as LedgerPosition
from rustybt.finance.risk.controls import (
    AssetDateBounds,
    LongOnly,
    MaxLeverage,
    MaxOrderCount,
    MaxOrderSize,
    MaxPositionSize,
    MinLeverage,
    RestrictedListOrder,
)
from rustybt.finance.risk.restrictions import (
    RESTRICTION_STATES,
    HistoricalRestrictions,
    NoRestrictions,
    Restriction,
    StaticRestrictions,
)
from rustybt.protocol import Portfolio
from rustybt.protocol import Position as PositionView
from tests.unit.data._bundle_kit import Bundle, write_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    written = write_bundle(tmp_path_factory.mktemp("controls"))
    yield written
    written.close()


@pytest.fixture(scope="module")
def data(bundle: Bundle) -> BarData:
    """Daily BarData at the close of session 1 (AAA at 101)."""
    close = bundle.minutes(1)[-1]
    return BarData(bundle.portal(), lambda: close, "daily", bundle.calendar)


@pytest.fixture(scope="module")
def now(bundle: Bundle) -> pd.Timestamp:
    return bundle.minutes(1)[-1]


def portfolio_with(asset: Asset, amount: int) -> Portfolio:
    portfolio = Portfolio(capital_base=100_000.0)
    portfolio.positions[asset] = PositionView(LedgerPosition(asset, Decimal(amount)))
    return portfolio


def test_max_order_size_in_shares(bundle: Bundle, data: BarData, now: pd.Timestamp) -> None:
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    control = MaxOrderSize("fail", asset=aaa, max_shares=100)
    control.validate(aaa, 100, Portfolio(), now, data)
    control.validate(aaa, Decimal(-100), Portfolio(), now, data)
    control.validate(bbb, 10_000, Portfolio(), now, data)  # another asset: not checked
    with pytest.raises(TradingControlViolation) as err:
        control.validate(aaa, -101, Portfolio(), now, data)
    message = str(err.value)
    assert "MaxOrderSize" in message and "AAA" in message and "-101" in message
    assert str(now) in message
    assert isinstance(err.value, OrderRejectedError)
    assert err.value.context["control"] == "MaxOrderSize"
    assert err.value.context["amount"] == -101 and err.value.context["asset"] == aaa


def test_max_order_size_in_notional(bundle: Bundle, data: BarData, now: pd.Timestamp) -> None:
    aaa, ddd = bundle.asset(1), bundle.asset(4)
    control = MaxOrderSize("fail", max_notional=10_000)
    control.validate(aaa, 99, Portfolio(), now, data)  # 9,999
    with pytest.raises(TradingControlViolation):
        control.validate(aaa, 100, Portfolio(), now, data)  # 10,100
    control.validate(ddd, 10**9, Portfolio(), now, data)  # no price: no notional check


def test_max_position_size(bundle: Bundle, data: BarData, now: pd.Timestamp) -> None:
    aaa = bundle.asset(1)
    held = portfolio_with(aaa, 50)
    shares = MaxPositionSize("fail", max_shares=100)
    shares.validate(aaa, 50, held, now, data)
    shares.validate(aaa, -150, held, now, data)  # -100
    with pytest.raises(TradingControlViolation, match="MaxPositionSize"):
        shares.validate(aaa, 51, held, now, data)
    notional = MaxPositionSize("fail", asset=aaa, max_notional=10_100)
    notional.validate(aaa, 50, held, now, data)  # 100 * 101
    with pytest.raises(TradingControlViolation):
        notional.validate(aaa, -151, held, now, data)  # -101 * 101


def test_long_only(bundle: Bundle, data: BarData, now: pd.Timestamp) -> None:
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    control = LongOnly("fail")
    held = portfolio_with(aaa, 50)
    control.validate(aaa, -50, held, now, data)
    with pytest.raises(TradingControlViolation, match="LongOnly"):
        control.validate(aaa, -51, held, now, data)
    with pytest.raises(TradingControlViolation):
        control.validate(bbb, -1, held, now, data)  # no position: reads as 0


def test_max_order_count_resets_each_day(bundle: Bundle, data: BarData) -> None:
    aaa = bundle.asset(1)
    control = MaxOrderCount("fail", max_count=2)
    day1, day2 = bundle.minutes(1)[-1], bundle.minutes(2)[0]
    control.validate(aaa, 1, Portfolio(), day1, data)
    control.validate(aaa, 1, Portfolio(), day1, data)
    with pytest.raises(TradingControlViolation, match="max_count=2"):
        control.validate(aaa, 1, Portfolio(), day1, data)
    control.validate(aaa, 1, Portfolio(), day2, data)


def test_restricted_list_order(bundle: Bundle, data: BarData) -> None:
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    frozen_from = bundle.sessions[2]
    restrictions = StaticRestrictions([aaa]) | HistoricalRestrictions(
        [
            Restriction(bbb, frozen_from, RESTRICTION_STATES.FROZEN),
            Restriction(bbb, bundle.sessions[4], RESTRICTION_STATES.ALLOWED),
        ]
    )
    control = RestrictedListOrder("fail", restrictions)
    with pytest.raises(TradingControlViolation, match="AAA"):
        control.validate(aaa, 1, Portfolio(), bundle.minutes(1)[-1], data)
    control.validate(bbb, 1, Portfolio(), bundle.minutes(1)[-1], data)
    with pytest.raises(TradingControlViolation, match="BBB"):
        control.validate(bbb, 1, Portfolio(), bundle.minutes(3)[-1], data)
    control.validate(bbb, 1, Portfolio(), bundle.minutes(4)[-1], data)


def test_restrictions_series(bundle: Bundle) -> None:
    aaa, bbb, ccc = bundle.assets([1, 2, 3])
    dt = bundle.minutes(1)[-1]
    series = (StaticRestrictions([bbb]) | NoRestrictions()).is_restricted([aaa, bbb, ccc], dt)
    assert series.tolist() == [False, True, False] and list(series.index) == [aaa, bbb, ccc]
    assert NoRestrictions().is_restricted(aaa, dt) is False


def test_asset_date_bounds(bundle: Bundle, data: BarData) -> None:
    ccc = bundle.asset(3)  # alive on sessions 4..12
    control = AssetDateBounds("fail")
    control.validate(ccc, 0, Portfolio(), bundle.minutes(1)[-1], data)  # nothing ordered
    control.validate(ccc, 5, Portfolio(), bundle.minutes(4)[-1], data)
    with pytest.raises(TradingControlViolation, match="asset_start_date"):
        control.validate(ccc, 5, Portfolio(), bundle.minutes(1)[-1], data)
    with pytest.raises(TradingControlViolation, match="asset_end_date"):
        control.validate(ccc, 5, Portfolio(), bundle.minutes(13)[-1], data)


def test_log_mode_warns_and_lets_the_order_through(
    bundle: Bundle, data: BarData, now: pd.Timestamp, caplog: pytest.LogCaptureFixture
) -> None:
    aaa = bundle.asset(1)
    with caplog.at_level(logging.WARNING, logger="rustybt.finance.risk.controls"):
        MaxOrderSize("log", max_shares=10).validate(aaa, 11, Portfolio(), now, data)
        LongOnly("log").validate(aaa, -1, Portfolio(), now, data)
    assert len(caplog.records) == 2
    assert all(r.levelno == logging.WARNING for r in caplog.records)
    assert "Order for 11 shares of Equity(1 [AAA])" in caplog.records[0].getMessage()
    assert "LongOnly()" in caplog.records[1].getMessage()


def test_control_parameter_validation() -> None:
    with pytest.raises(ParameterValidationError, match="on_error"):
        LongOnly("ignore")  # type: ignore[arg-type]
    with pytest.raises(ParameterValidationError, match="at least one"):
        MaxOrderSize("fail")
    with pytest.raises(ParameterValidationError, match="max_shares"):
        MaxPositionSize("fail", max_shares=-1)
    with pytest.raises(ParameterValidationError, match="max_leverage"):
        MaxLeverage(-1.0)
    with pytest.raises(ParameterValidationError, match="min_leverage"):
        MinLeverage(-1.0, pd.Timestamp("2024-01-01"))
    with pytest.raises(ParameterValidationError, match="deadline"):
        MinLeverage(1.0, "2024-01-01")  # type: ignore[arg-type]


def test_account_controls(now: pd.Timestamp, caplog: pytest.LogCaptureFixture) -> None:
    # Account controls only read ``account.leverage``.
    MaxLeverage(2.0).validate(Portfolio(), SimpleNamespace(leverage=2.0), now, None)
    with pytest.raises(AccountControlViolation, match=r"MaxLeverage\(max_leverage=2.0\)"):
        MaxLeverage(2.0).validate(Portfolio(), SimpleNamespace(leverage=2.5), now, None)
    deadline = pd.Timestamp("2024-01-03")
    low = SimpleNamespace(leverage=0.2)
    before = pd.Timestamp("2024-01-02 21:00", tz="UTC")
    after = pd.Timestamp("2024-01-03 21:00", tz="UTC")
    MinLeverage(0.5, deadline).validate(Portfolio(), low, before, None)
    with pytest.raises(AccountControlViolation, match=r"leverage=0\.2"):
        MinLeverage(0.5, deadline).validate(Portfolio(), low, after, None)
    assert issubclass(AccountControlViolation, OrderRejectedError)
    with caplog.at_level(logging.WARNING, logger="rustybt.finance.risk.controls"):
        MaxLeverage(1.0, on_error="log").validate(
            Portfolio(), SimpleNamespace(leverage=3), now, None
        )
    assert "MaxLeverage" in caplog.text
