"""rustybt.data.data_portal: a DataPortal built from a loaded bundle, as zipline notebooks do."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rustybt.data import bundles
from rustybt.data.data_portal import OHLCV_FIELDS, DataPortal
from rustybt.data.portal import DataPortal as PortalClass
from rustybt.utils.calendar_utils import get_calendar


@pytest.mark.usefixtures("demo")
def test_a_portal_over_the_demo_bundle_answers_spot_and_history(demo: Path) -> None:
    assert DataPortal is PortalClass
    with bundles.load("demo", os.environ) as bundle_data:
        calendar = get_calendar("XNYS")
        portal = DataPortal(
            bundle_data.asset_finder,
            trading_calendar=calendar,
            first_trading_day=bundle_data.equity_daily_bar_reader.first_trading_day,
            equity_minute_reader=bundle_data.equity_minute_bar_reader,
            equity_daily_reader=bundle_data.equity_daily_bar_reader,
            adjustment_reader=bundle_data.adjustment_reader,
        )
        aapl = bundle_data.asset_finder.lookup_symbol("AAPL", as_of_date=None)
        day = pd.Timestamp("2016-03-01")
        close = portal.get_spot_value(aapl, "close", day, "daily")
        window = portal.get_history_window([aapl], day, 5, "1d", "close", "daily")
        assert np.isfinite(close) and close > 0
        assert list(window.columns) == [aapl] and len(window) == 5
        assert window[aapl].iloc[-1] == close
        bars = {field: portal.get_spot_value(aapl, field, day, "daily") for field in OHLCV_FIELDS}
        assert bars["low"] <= bars["close"] <= bars["high"] and bars["volume"] > 0
