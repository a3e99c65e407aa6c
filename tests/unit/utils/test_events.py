"""rustybt.utils.events: zipline's scheduling names, used as zipline code uses them."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import rustybt
from rustybt.api import record, schedule_function
from rustybt.utils import events
from rustybt.utils.calendar_utils import get_calendar
from rustybt.utils.events import (
    AfterOpen,
    BeforeClose,
    ComposedRule,
    Event,
    EventManager,
    NDaysBeforeLastTradingDayOfMonth,
    NthTradingDayOfWeek,
    OncePerDay,
    calendars,
    date_rules,
    make_eventrule,
    time_rules,
)


def test_the_rule_classes_zipline_exposes_are_ours() -> None:
    from rustybt.sim import events as sim_events

    for name in events.__all__:
        assert getattr(events, name) is getattr(sim_events, name), name
    assert isinstance(date_rules.week_start(days_offset=1), NthTradingDayOfWeek)
    assert isinstance(date_rules.month_end(), NDaysBeforeLastTradingDayOfMonth)
    assert isinstance(time_rules.market_close(minutes=5), BeforeClose)


def test_an_event_manager_built_by_hand_fires_where_zipline_fires() -> None:
    # zipline's own composition: a date rule & a time rule, once per day.
    cal = get_calendar("XNYS")
    rule = make_eventrule(date_rules.week_start(), time_rules.market_open(minutes=30), cal)
    assert isinstance(rule, OncePerDay | ComposedRule)
    manager = EventManager()
    fired: list[pd.Timestamp] = []
    manager.add_event(Event(rule, lambda context, data: fired.append(context)))
    for session in cal.sessions_in_range("2024-01-08", "2024-01-19"):
        for minute in cal.session_minutes(session):
            manager.handle_data(minute, None, minute)
    # 10:00 New York (the bar ending 30 minutes after the open) on each week's
    # first session: Monday the 8th, then Tuesday the 16th (the 15th is a holiday).
    assert [m.tz_convert("America/New_York").strftime("%a %d %H:%M") for m in fired] == [
        "Mon 08 10:00",
        "Tue 16 10:00",
    ]
    assert isinstance(AfterOpen(minutes=30), AfterOpen)


@pytest.mark.usefixtures("demo")
def test_schedule_function_with_the_zipline_import_path() -> None:
    def initialize(context: Any) -> None:
        schedule_function(
            rebalance,
            events.date_rules.month_start(),
            events.time_rules.market_open(),
            calendar=calendars.US_EQUITIES,
        )

    def rebalance(context: Any, data: Any) -> None:
        days.append(data.current_session.strftime("%Y-%m-%d"))
        record(rebalances=len(days))

    days: list[str] = []
    perf = rustybt.run_algorithm("2016-01-04", "2016-03-31", initialize, 100_000)
    assert days == ["2016-01-04", "2016-02-01", "2016-03-01"]
    assert perf["rebalances"].iloc[-1] == 3
