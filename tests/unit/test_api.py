"""rustybt.api's zipline names beyond the order functions: restrictions, math_utils, events."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import rustybt
from rustybt.api import (
    RESTRICTION_STATES,
    HistoricalRestrictions,
    Restriction,
    events,
    math_utils,
    order,
    record,
    schedule_function,
    set_asset_restrictions,
    symbol,
)
from rustybt.finance.risk import restrictions


def test_the_names_are_the_engine_objects() -> None:
    from rustybt.utils import events as zipline_path_events
    from rustybt.utils import math_utils as zipline_path_math_utils

    assert Restriction is restrictions.Restriction
    assert RESTRICTION_STATES is restrictions.RESTRICTION_STATES
    assert events is zipline_path_events and math_utils is zipline_path_math_utils
    assert [s.name for s in RESTRICTION_STATES] == ["ALLOWED", "FROZEN"]
    assert all(name in rustybt.api.__all__ for name in ("Restriction", "events", "math_utils"))


@pytest.mark.usefixtures("demo")
def test_a_zipline_algorithm_using_restrictions_events_and_math_utils() -> None:
    # AAPL is frozen from 2016-01-08 and allowed again from 2016-01-13.
    frozen_from = pd.Timestamp("2016-01-08", tz="UTC")
    allowed_from = pd.Timestamp("2016-01-13", tz="UTC")

    def initialize(context: Any) -> None:
        context.asset = symbol("AAPL")
        set_asset_restrictions(
            HistoricalRestrictions(
                [
                    Restriction(context.asset, frozen_from, RESTRICTION_STATES.FROZEN),
                    Restriction(context.asset, allowed_from, RESTRICTION_STATES.ALLOWED),
                ]
            ),
        )
        schedule_function(buy, events.date_rules.every_day(), events.time_rules.market_open())

    def buy(context: Any, data: Any) -> None:
        prices = data.history(context.asset, "price", 3, "1d").to_numpy()
        record(mean=math_utils.nanmean(prices))
        if data.can_trade(context.asset):  # False while the asset is frozen
            order(context.asset, math_utils.round_if_near_integer(9.99999))

    perf = rustybt.run_algorithm("2016-01-04", "2016-01-15", initialize, 100_000)
    filled = {
        day.strftime("%m-%d"): sum(t["amount"] for t in txns)
        for day, txns in perf["transactions"].items()
    }
    # No order on the 8th..12th (frozen); each other order fills at the next
    # session's close, for 10 shares.
    assert filled == {
        "01-04": 0,
        "01-05": 10,
        "01-06": 10,
        "01-07": 10,
        "01-08": 10,
        "01-11": 0,
        "01-12": 0,
        "01-13": 0,
        "01-14": 10,
        "01-15": 10,
    }
    assert perf["mean"].notna().all()
