"""The Broker protocol: the simulated blotter implements it, and the algorithm and the
loop work with any implementation (they know no broker class)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

import rustybt
from rustybt.api import order_target_percent, symbol
from rustybt.assets import Asset
from rustybt.brokers import BarFills, Broker
from rustybt.brokers.simulated import SimulationBlotter
from rustybt.finance.models.cancel_policy import CancelPolicy
from rustybt.finance.orders.execution import ExecutionStyle
from rustybt.finance.orders.order import Order


class JournalingBroker:
    """A broker of its own class: every call journaled, the work done by a blotter it owns.

    Not a SimulationBlotter (nor a subclass): the algorithm and the loop reach it only
    through the protocol's members.
    """

    def __init__(self) -> None:
        self.inner = SimulationBlotter()
        self.journal: list[str] = []

    @property
    def orders(self) -> Mapping[str, Order]:
        return self.inner.orders

    @property
    def open_orders(self) -> Mapping[Asset, list[Order]]:
        return self.inner.open_orders

    def set_date(self, dt: Any) -> None:
        self.inner.set_date(dt)

    def order(self, asset: Asset, amount: Any, style: ExecutionStyle | None = None) -> str | None:
        self.journal.append("order")
        return self.inner.order(asset, amount, style)

    def cancel(self, order_id: str, relay_status: bool = True) -> None:
        self.journal.append("cancel")
        self.inner.cancel(order_id, relay_status)

    def cancel_all_orders_for_asset(
        self, asset: Asset, warn: bool = False, relay_status: bool = True
    ) -> None:
        self.inner.cancel_all_orders_for_asset(asset, warn, relay_status)

    def get_order(self, order_id: str) -> Order:
        return self.inner.get_order(order_id)

    def process_bar(self, bar_data: Any) -> BarFills:
        fills = self.inner.process_bar(bar_data)
        self.journal.extend("fill" for _ in fills.transactions)
        return fills

    def take_order_updates(self) -> list[Order]:
        return self.inner.take_order_updates()

    def end_session(self, daily: bool) -> None:
        self.journal.append("end_session")
        self.inner.end_session(daily)

    def process_splits(self, splits: Iterable[tuple[Asset, float]]) -> None:
        self.inner.process_splits(splits)

    def set_cancel_policy(self, policy: CancelPolicy) -> None:
        self.inner.set_cancel_policy(policy)

    def set_slippage(self, asset_type: type, model: Any) -> None:
        self.journal.append("set_slippage")
        self.inner.set_slippage(asset_type, model)

    def set_commission(self, asset_type: type, model: Any) -> None:
        self.journal.append("set_commission")
        self.inner.set_commission(asset_type, model)


def test_the_blotter_and_a_broker_of_another_class_are_brokers() -> None:
    assert isinstance(SimulationBlotter(), Broker)
    assert isinstance(JournalingBroker(), Broker)
    assert not isinstance(object(), Broker)


def _run(blotter: Any) -> pd.DataFrame:
    def initialize(context: Any) -> None:
        context.assets = [symbol("AAPL"), symbol("MSFT")]

    def handle_data(context: Any, data: Any) -> None:
        for asset in context.assets:
            order_target_percent(asset, 0.4 if data.current(asset, "price") > 0 else 0.0)

    return rustybt.run_algorithm(
        "2018-01-02", "2018-01-31", initialize, 100_000, handle_data=handle_data, blotter=blotter
    )


def test_a_run_through_another_broker_gives_the_same_results(demo: Path) -> None:
    """The algorithm and the loop drive any Broker the same way: same orders, same fills."""
    broker = JournalingBroker()
    through = _run(broker)
    default = _run("default")
    pd.testing.assert_series_equal(through["portfolio_value"], default["portfolio_value"])
    fills = [(t["sid"], t["amount"], t["price"]) for day in through["transactions"] for t in day]
    assert fills == [
        (t["sid"], t["amount"], t["price"]) for day in default["transactions"] for t in day
    ]
    assert broker.journal.count("fill") == len(fills) > 0
    assert broker.journal.count("end_session") == len(through)
    assert broker.journal.count("order") >= len(fills)
