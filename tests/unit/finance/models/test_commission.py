"""Commission models, with hand-computed Decimal values.

Each helper ``fill`` applies a transaction the way the blotter does: commission
first (seeing the order's previous ``filled`` and ``commission``), then the order
is updated.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from rustybt.assets import Equity
from rustybt.assets.asset_types import exchange_info_for
from rustybt.exceptions import ParameterValidationError
from rustybt.finance.models.commission import (
    CommissionModel,
    MakerTakerCommission,
    NoCommission,
    PercentageCommission,
    PerDollar,
    PerShare,
    PerTrade,
    TieredCommission,
)
from rustybt.finance.orders.order import Order
from rustybt.finance.orders.transaction import Transaction

AAA = Equity(1, exchange_info_for("NYSE"), symbol="AAA")
DT = pd.Timestamp("2024-01-02 21:00", tz="UTC")
D = Decimal


def fill(
    model: CommissionModel, order: Order, amount: int, price: str, dt: pd.Timestamp = DT
) -> Decimal:
    txn = Transaction(AAA, D(amount), dt, D(price), order.id)
    cost = model.calculate(order, txn)
    assert isinstance(cost, Decimal)
    order.filled += txn.amount
    order.commission += cost
    return cost


def test_per_share_minimum_on_first_fill_then_nothing_until_passed() -> None:
    model = PerShare(cost=0.001, min_trade_cost=1.0)
    order = Order(DT, AAA, 2000)
    assert fill(model, order, 100, "10.00") == D("1.00")  # 0.10 -> the 1.00 minimum
    assert fill(model, order, 500, "10.00") == 0  # total 0.600 < 1.00
    assert fill(model, order, 400, "10.00") == 0  # total 1.000: nothing new owed
    assert fill(model, order, 1000, "10.00") == D("1.000")  # total 2.000 - 1.000 paid
    assert order.commission == D("2.000")


def test_per_share_without_minimum_and_sells() -> None:
    model = PerShare()  # zipline default: 0.001 per share, no minimum
    order = Order(DT, AAA, -390)
    assert fill(model, order, -390, "101.0505") == D("0.390")
    assert repr(model) == "PerShare(cost_per_share=0.001, min_trade_cost=0)"


def test_per_trade_charged_once_on_first_fill() -> None:
    model = PerTrade(cost=5.0)
    order = Order(DT, AAA, 300)
    assert [fill(model, order, 100, "10") for _ in range(3)] == [D("5.0"), 0, 0]
    assert order.commission == D("5.0")


def test_per_dollar() -> None:
    model = PerDollar(cost=0.0015)
    order = Order(DT, AAA, -200)
    assert fill(model, order, -100, "10.005") == D("1.5007500")
    assert fill(model, order, -100, "20") == D("3.0000")


def test_no_commission() -> None:
    assert fill(NoCommission(), Order(DT, AAA, 5), 5, "10") == 0


def test_percentage_commission_with_minimum_across_fills() -> None:
    model = PercentageCommission(rate=0.001, min_commission=1.0)
    order = Order(DT, AAA, 300)
    # value 500 -> 0.5, min 1.0; value 600 -> accrued 1.1 -> owes 0.1 more; value 700 -> 0.7
    assert fill(model, order, 100, "5") == D("1.0")
    assert fill(model, order, 100, "6") == D("0.1")
    assert fill(model, order, 100, "7") == D("0.7")
    assert order.commission == D("1.8")
    assert model._accrued == {}  # closed orders are forgotten


def test_tiered_commission_on_trade_value() -> None:
    model = TieredCommission([(10_000, 0.0005), (0, 0.001), (100_000, 0.0002)])
    assert model.tiers[0] == (D(0), D("0.001"))
    assert fill(model, Order(DT, AAA, 10), 10, "100") == D("1.000")  # 1,000 @ 10 bp
    assert fill(model, Order(DT, AAA, 100), 100, "100") == D("5.0000")  # 10,000 @ 5 bp
    assert fill(model, Order(DT, AAA, -2000), -2000, "100") == D("40.0000")  # 200,000 @ 2 bp


def test_tiered_commission_on_monthly_volume_resets_each_month() -> None:
    model = TieredCommission([(0, 0.002), (10_000, 0.001)], basis="monthly_volume")
    jan2, jan3 = pd.Timestamp("2024-01-02", tz="UTC"), pd.Timestamp("2024-01-31", tz="UTC")
    feb1 = pd.Timestamp("2024-02-01", tz="UTC")
    # 8,000 at 20 bp; then the month is at 8,000 < 10,000: still 20 bp on 4,000
    assert fill(model, Order(jan2, AAA, 80), 80, "100", jan2) == D("16.000")
    assert fill(model, Order(jan2, AAA, 40), 40, "100", jan2) == D("8.000")
    assert model.month_volume == D(12_000)
    assert fill(model, Order(jan3, AAA, -10), -10, "100", jan3) == D("1.000")  # 10 bp tier
    assert fill(model, Order(feb1, AAA, 10), 10, "100", feb1) == D("2.000")  # reset
    assert model.month_volume == D(1_000)


def test_tiered_commission_validation() -> None:
    with pytest.raises(ParameterValidationError, match="threshold 0"):
        TieredCommission([(100, 0.001)])
    with pytest.raises(ParameterValidationError, match="basis"):
        TieredCommission([(0, 0.001)], basis="weekly")  # type: ignore[arg-type]
    with pytest.raises(ParameterValidationError, match="rate"):
        TieredCommission([(0, -0.001)])


def test_maker_taker() -> None:
    model = MakerTakerCommission(maker_rate=0.0002, taker_rate=0.0007)
    resting = Order(DT, AAA, 100, limit=10.0)
    resting.check_triggers(10.5, DT)  # not marketable: rests in the book
    resting.check_triggers(9.9, DT)
    assert fill(model, resting, 100, "10") == D("0.2000")
    marketable = Order(DT, AAA, 100, limit=10.0)
    marketable.check_triggers(9.9, DT)
    assert fill(model, marketable, 100, "10") == D("0.7000")
    market = Order(DT, AAA, -100)
    market.check_triggers(10.0, DT)
    assert fill(model, market, -100, "10") == D("0.7000")


def test_maker_rebate_is_negative() -> None:
    model = MakerTakerCommission(maker_rate=-0.0001, taker_rate=0.0003, min_commission=1.0)
    order = Order(DT, AAA, 100, limit=10.0)
    order.check_triggers(11.0, DT)
    assert fill(model, order, 100, "10") == D("-0.1000")
    taker = Order(DT, AAA, 100)
    assert fill(model, taker, 100, "10") == D("1.0")  # 0.30 -> 1.00 minimum
    with pytest.raises(ParameterValidationError, match="maker_rate"):
        MakerTakerCommission(maker_rate=-1.0, taker_rate=0.0)


@pytest.mark.parametrize(
    "build",
    [
        lambda: PerShare(cost=-1),
        lambda: PerShare(min_trade_cost=float("nan")),
        lambda: PerTrade(cost=-5),
        lambda: PerDollar(cost="x"),  # type: ignore[arg-type]
        lambda: PercentageCommission(rate=-0.1),
        lambda: MakerTakerCommission(maker_rate=0.0, taker_rate=-0.1),
    ],
)
def test_invalid_parameters(build: object) -> None:
    with pytest.raises(ParameterValidationError):
        build()  # type: ignore[operator]
