"""Slippage models on real BarData over a tiny real bundle.

Bundle (daily, XNYS sessions 2024-01-02 .. 2024-01-10, index ``s``):
TEN (sid 1) closes 10.00 with volume 1000 every session; TWY (sid 2) closes
20.00 with volume 500, except volume 0 on s=2 and no bar at all on s=3.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rustybt.assets import Asset
from rustybt.calendars import get_calendar
from rustybt.data.bar_data import BarData
from rustybt.exceptions import ParameterValidationError
from rustybt.finance.models.slippage import (
    FixedBasisPointsSlippage,
    FixedSlippage,
    NoSlippage,
    SlippageModel,
    VolumeShareSlippage,
)
from rustybt.finance.orders.order import Order
from rustybt.finance.orders.transaction import Transaction
from tests.unit.data._bundle_kit import AssetSpec, Bundle, BundleSpec, daily_frame, write_bundle

D = Decimal


def spec() -> BundleSpec:
    cal = get_calendar("XNYS")
    sessions = pd.DatetimeIndex(cal.sessions_in_range("2024-01-02", "2024-01-10"))
    n = len(sessions)
    ten = daily_frame(sessions, np.full(n, 10.0), np.full(n, 1000.0))
    twy = daily_frame(sessions, np.full(n, 20.0), np.where(np.arange(n) == 2, 0.0, 500.0))
    assets = [AssetSpec(1, "TEN", 0, n - 1), AssetSpec(2, "TWY", 0, n - 1)]
    return BundleSpec("XNYS", sessions, assets, {1: ten, 2: twy.drop(sessions[3])})


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    written = write_bundle(tmp_path_factory.mktemp("slippage"), spec())
    yield written
    written.close()


class Bars:
    """Daily BarData at the close of session ``s`` of the bundle."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.portal = bundle.portal()
        self.dt = bundle.minutes(0)[-1]
        self.data = BarData(self.portal, lambda: self.dt, "daily", bundle.calendar)

    def at(self, session: int) -> BarData:
        self.dt = self.bundle.minutes(session)[-1]
        return self.data


@pytest.fixture
def bars(bundle: Bundle) -> Bars:
    return Bars(bundle)


def run(
    model: SlippageModel, data: BarData, asset: Asset, orders: list[Order]
) -> list[tuple[Order, Transaction]]:
    """Simulate and apply each fill to its order, as the blotter does."""
    out = []
    for order, txn in model.simulate(data, asset, orders):
        order.filled += txn.amount
        out.append((order, txn))
    return out


def test_fixed_basis_points_price(bars: Bars, bundle: Bundle) -> None:
    ten = bundle.asset(1)
    buy, sell = Order(None, ten, 100), Order(None, ten, -100)
    model = FixedBasisPointsSlippage()  # 10 % of 1000: 100 shares per bar
    fills = run(model, bars.at(1), ten, [buy, sell]) + run(model, bars.at(2), ten, [sell])
    assert [(t.amount, t.price) for _, t in fills] == [(D(100), D("10.005")), (D(-100), D("9.995"))]
    txn = fills[0][1]
    assert txn.dt == bundle.minutes(1)[-1] and txn.order_id == buy.id and txn.asset == ten
    assert isinstance(txn.price, Decimal) and isinstance(txn.amount, Decimal)


def test_fixed_basis_points_volume_cap_across_orders_and_bars(bars: Bars, bundle: Bundle) -> None:
    ten = bundle.asset(1)
    model = FixedBasisPointsSlippage(basis_points=10, volume_limit=0.1)  # 100 shares per bar
    first, second = Order(None, ten, 80), Order(None, ten, 50)
    day1 = run(model, bars.at(1), ten, [first, second])
    assert [(o is first, t.amount) for o, t in day1] == [(True, D(80)), (False, D(20))]
    assert day1[0][1].price == D("10.01") and model.volume_for_bar == D(100)
    day2 = run(model, bars.at(2), ten, [first, second])
    assert [(o is second, t.amount) for o, t in day2] == [(True, D(30))]
    assert first.open_amount == 0 and second.open_amount == 0


def test_fixed_basis_points_partial_fills_of_one_big_order(bars: Bars, bundle: Bundle) -> None:
    ten = bundle.asset(1)
    order = Order(None, ten, -250)
    sizes = [[t.amount for _, t in run(FixedBasisPointsSlippage(), bars.at(s), ten, [order])]
             for s in (1, 2, 4)]  # fmt: skip
    assert sizes == [[D(-100)], [D(-100)], [D(-50)]]


def test_volume_share_price_impact_and_cap(bars: Bars, bundle: Bundle) -> None:
    ten = bundle.asset(1)
    model = VolumeShareSlippage()  # 2.5 % of 1000 = 25 per bar, impact 0.1
    order = Order(None, ten, 60)
    day1 = run(model, bars.at(1), ten, [order])
    # share 25/1000 = 0.025 -> 10 * (1 + 0.1 * 0.025**2)
    assert [(t.amount, t.price) for _, t in day1] == [(D(25), D("10.000625"))]
    sells = run(model, bars.at(1), ten, [Order(None, ten, -10), Order(None, ten, -30)])
    # 10 -> share 0.01 -> 9.9999; then 15 left of the cap -> share 0.025 -> 9.999375
    assert [(t.amount, t.price) for _, t in sells] == [
        (D(-10), D("9.9999")),
        (D(-15), D("9.999375")),
    ]


def test_volume_share_two_orders_share_the_bar(bars: Bars, bundle: Bundle) -> None:
    ten = bundle.asset(1)
    model = VolumeShareSlippage(volume_limit=0.05, price_impact=0.1)  # 50 per bar
    a, b, c = Order(None, ten, 20), Order(None, ten, 40), Order(None, ten, 5)
    fills = run(model, bars.at(1), ten, [a, b, c])
    assert [(o.id, t.amount, t.price) for o, t in fills] == [
        (a.id, D(20), D("10.0004")),  # share 0.02
        (b.id, D(30), D("10.0025")),  # share (20 + 30) / 1000 = 0.05
    ]
    assert c.filled == 0  # liquidity exceeded: the bar is used up


def test_volume_share_respects_limit_price(bars: Bars, bundle: Bundle) -> None:
    ten = bundle.asset(1)
    order = Order(None, ten, 20, limit=10.0002)
    assert run(VolumeShareSlippage(volume_limit=0.05), bars.at(1), ten, [order]) == []
    assert order.limit_reached and order.filled == 0


def test_fixed_basis_points_does_not_check_the_limit_like_zipline(
    bars: Bars, bundle: Bundle
) -> None:
    ten = bundle.asset(1)
    order = Order(None, ten, 10, limit=10.0)
    (fill,) = run(FixedBasisPointsSlippage(), bars.at(1), ten, [order])
    assert fill[1].price == D("10.005")


def test_fixed_slippage_half_spread_no_volume_cap(bars: Bars, bundle: Bundle) -> None:
    ten = bundle.asset(1)
    model = FixedSlippage(spread=0.02)
    fills = run(model, bars.at(1), ten, [Order(None, ten, 5000), Order(None, ten, -7)])
    assert [(t.amount, t.price) for _, t in fills] == [(D(5000), D("10.01")), (D(-7), D("9.99"))]


def test_no_slippage_fills_at_close(bars: Bars, bundle: Bundle) -> None:
    twy = bundle.asset(2)
    fills = run(NoSlippage(), bars.at(1), twy, [Order(None, twy, -12345)])
    assert [(t.amount, t.price) for _, t in fills] == [(D(-12345), D(20))]


@pytest.mark.parametrize("session", [2, 3])  # zero volume; no bar at all
def test_no_fill_without_volume_or_close(bars: Bars, bundle: Bundle, session: int) -> None:
    twy = bundle.asset(2)
    order = Order(None, twy, 10, limit=25.0)
    for model in (NoSlippage(), FixedSlippage(), FixedBasisPointsSlippage(), VolumeShareSlippage()):
        assert run(model, bars.at(session), twy, [order]) == []
    assert not order.limit_reached  # triggers are not even looked at


def test_untriggered_and_closed_orders_are_skipped(bars: Bars, bundle: Bundle) -> None:
    ten = bundle.asset(1)
    below = Order(None, ten, 10, limit=9.0)
    cancelled = Order(None, ten, 10)
    cancelled.cancel()
    stop = Order(None, ten, -10, stop=9.5)
    assert run(NoSlippage(), bars.at(1), ten, [below, cancelled, stop]) == []


def test_user_model_only_needs_process_order(bars: Bars, bundle: Bundle) -> None:
    class HalfAtOpen(SlippageModel):
        def process_order(self, data: Any, order: Order) -> tuple[float | None, Any]:
            return data.current(order.asset, "open"), order.open_amount / 2

    ten = bundle.asset(1)
    order = Order(None, ten, 7)
    (fill,) = run(HalfAtOpen(), bars.at(1), ten, [order])
    assert (fill[1].amount, fill[1].price) == (D(3), D("9.5"))  # 3.5 rounds toward zero


@pytest.mark.parametrize(
    "build",
    [
        lambda: FixedBasisPointsSlippage(basis_points=-1),
        lambda: FixedBasisPointsSlippage(volume_limit=0),
        lambda: VolumeShareSlippage(volume_limit=float("nan")),
        lambda: VolumeShareSlippage(price_impact=-0.1),
        lambda: FixedSlippage(spread="wide"),  # type: ignore[arg-type]
    ],
)
def test_invalid_parameters(build: Any) -> None:
    with pytest.raises(ParameterValidationError):
        build()
