"""rustybt.finance.trading: SimulationParameters built and run as zipline code does."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from rustybt.algorithm import TradingAlgorithm
from rustybt.api import order, symbol
from rustybt.data import bundles
from rustybt.data.data_portal import DataPortal
from rustybt.finance.trading import SimulationParameters
from rustybt.utils.calendar_utils import get_calendar


def test_keywords_as_zipline_passes_them() -> None:
    params = SimulationParameters(
        start_session=pd.Timestamp("2016-01-04"),
        end_session=pd.Timestamp("2016-01-29"),
        trading_calendar=get_calendar("XNYS"),
        capital_base=50_000,
        emission_rate="daily",
        data_frequency="minute",
    )
    assert (params.start_session, params.end_session) == (
        pd.Timestamp("2016-01-04"),
        pd.Timestamp("2016-01-29"),
    )
    assert len(params.sessions) == 19  # January 2016 less New Year and MLK day
    assert params.capital_base == Decimal(50_000)
    assert (params.data_frequency, params.emission_rate, params.arena) == (
        "minute",
        "daily",
        "backtest",
    )
    assert params.first_open == pd.Timestamp("2016-01-04 14:31", tz="UTC")
    assert params.last_close == pd.Timestamp("2016-01-29 21:00", tz="UTC")


@pytest.mark.usefixtures("demo")
def test_a_trading_algorithm_run_on_hand_built_parameters_and_portal() -> None:
    def initialize(context: Any) -> None:
        context.asset = symbol("AAPL")

    def handle_data(context: Any, data: Any) -> None:
        order(context.asset, 10)

    calendar = get_calendar("XNYS")
    params = SimulationParameters(
        start_session=pd.Timestamp("2016-01-04"),
        end_session=pd.Timestamp("2016-01-15"),
        trading_calendar=calendar,
        capital_base=100_000,
    )
    with bundles.load("demo", os.environ) as bundle_data:
        portal = DataPortal(
            bundle_data.asset_finder,
            trading_calendar=calendar,
            first_trading_day=bundle_data.equity_daily_bar_reader.first_trading_day,
            equity_daily_reader=bundle_data.equity_daily_bar_reader,
            adjustment_reader=bundle_data.adjustment_reader,
        )
        algo = TradingAlgorithm(
            sim_params=params, data_portal=portal, initialize=initialize, handle_data=handle_data
        )
        perf = algo.run()
    assert len(perf) == 10
    # Daily fills at the next bar: an order a session from the second session on.
    assert int(perf["transactions"].map(len).sum()) == 9
    assert perf["positions"].iloc[-1][0]["amount"] == 90
