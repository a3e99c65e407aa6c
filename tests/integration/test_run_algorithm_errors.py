"""run_algorithm's checks at start and the errors a user meets, on real bundles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rustybt import run_algorithm
from rustybt.api import (
    date_rules,
    order,
    schedule_function,
    symbol,
    time_rules,
)
from rustybt.data import bundles
from rustybt.exceptions import (
    HistoryWindowStartsBeforeData,
    ParameterValidationError,
)


def _buy_one(context: Any) -> None:
    context.asset = symbol("AAPL")


def _order_one(context: Any, data: Any) -> None:
    order(context.asset, 1)


@pytest.mark.parametrize(
    ("start", "first"),
    [
        (pd.Timestamp("2014"), "2014-01-02"),  # New Year's Day, before the calendar's first
        (pd.Timestamp("2013-06-03"), "2014-01-02"),  # before the bundle's calendar
        ("2019-01-05", "2019-01-07"),  # a Saturday
    ],
)
def test_a_start_that_is_not_a_session_rolls_forward(demo: Path, start: Any, first: str) -> None:
    end = pd.Timestamp(first) + pd.Timedelta(days=7)
    perf = run_algorithm(start, end, _buy_one, 10_000, handle_data=_order_one)
    assert perf.index[0].date() == pd.Timestamp(first).date()


def test_an_end_past_the_bundle_is_refused_before_the_run(demo: Path) -> None:
    started = []

    def initialize(context: Any) -> None:
        started.append(True)

    with pytest.raises(ParameterValidationError) as raised:
        run_algorithm("2024-12-02", "2025-02-03", initialize, 10_000)
    assert str(raised.value) == (
        "end 2025-02-03 is after the last session of bundle 'demo' (2024-12-31, the end of "
        "its data); end on or before 2024-12-31"
    )
    assert raised.value.context["last_session"] == "2024-12-31"
    assert not started


def test_a_history_longer_than_the_data_names_what_the_data_allows(demo: Path) -> None:
    def handle_data(context: Any, data: Any) -> None:
        data.history(context.asset, "close", 10**7, "1d")

    with pytest.raises(HistoryWindowStartsBeforeData) as raised:
        run_algorithm("2019-01-02", "2019-01-04", _buy_one, 10_000, handle_data=handle_data)
    with bundles.load("demo") as data:
        n = len(data.calendar.sessions_in_range("2014-01-02", "2024-12-31"))
    assert str(raised.value).startswith(
        "a 10000000-session history window ending at 2019-01-02 reaches back before the "
        f"first session of the data (2014-01-02): the data holds {n} sessions "
        f"(2014-01-02..2024-12-31), so request at most {n} bars"
    )

    # A window the data can serve later still names the first session that allows it.
    def handle_data_500(context: Any, data: Any) -> None:
        data.history(context.asset, "close", 500, "1d")

    with pytest.raises(HistoryWindowStartsBeforeData) as raised:
        run_algorithm("2014-01-02", "2014-01-06", _buy_one, 10_000, handle_data=handle_data_500)
    assert str(raised.value).startswith(
        "a 500-session history window ending at 2014-01-02 reaches back before the first "
        "session of the data (2014-01-02): request fewer bars or start the simulation on or "
        f"after {raised.value.context['suggested_start_day']}"
    )
    assert raised.value.context["suggested_start_day"].startswith("2015-12-")


@pytest.mark.parametrize("frequency", ["daily", "minute"])
def test_a_time_rule_that_never_fires_is_refused_in_both_modes(demo: Path, frequency: str) -> None:
    def initialize(context: Any) -> None:
        schedule_function(lambda c, d: None, time_rule=time_rules.market_close(hours=9))

    with pytest.raises(ParameterValidationError, match=r"time_rule BeforeClose\(minutes=540\) can"):
        run_algorithm("2024-01-02", "2024-01-03", initialize, 10_000, data_frequency=frequency)


@pytest.mark.parametrize("frequency", ["daily", "minute"])
@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (lambda: date_rules.week_start(days_offset=7), r"days_offset must be between 0 and 4"),
        (lambda: date_rules.month_end(days_offset=-1), r"days_offset"),
        (lambda: time_rules.market_open(minutes=-5), r"market_open"),
    ],
)
def test_bad_rule_values_are_refused_alike_in_both_modes(
    demo: Path, frequency: str, rule: Any, message: str
) -> None:
    # A date or time rule's values are checked when it is made or scheduled,
    # whatever the run's data frequency (zipline ignored time rules in daily mode).
    def initialize(context: Any) -> None:
        schedule_function(lambda c, d: None, rule())

    with pytest.raises(ParameterValidationError, match=message):
        run_algorithm("2024-01-02", "2024-01-03", initialize, 10_000, data_frequency=frequency)
