"""Simulation time: the clock that drives a backtest and the scheduler of ``schedule_function``.

Examples
--------
>>> from rustybt.calendars import get_calendar
>>> from rustybt.sim import make_clock, SESSION_END
>>> cal = get_calendar("XNYS")
>>> clock = make_clock(cal, cal.sessions_in_range("2024-01-02", "2024-01-05"), "daily")
>>> sum(1 for _, event in clock if event == SESSION_END)
4
"""

from rustybt.sim.clock import (
    BAR,
    BEFORE_TRADING_START_BAR,
    MINUTE_END,
    SESSION_END,
    SESSION_START,
    SimulationClock,
    SimulationEvent,
    before_trading_start_minutes,
    make_clock,
)
from rustybt.sim.events import (
    Event,
    EventManager,
    EventRule,
    calendars,
    date_rules,
    make_eventrule,
    resolve_calendar,
    scheduled_event,
    time_rules,
)

__all__ = [
    "BAR",
    "BEFORE_TRADING_START_BAR",
    "MINUTE_END",
    "SESSION_END",
    "SESSION_START",
    "Event",
    "EventManager",
    "EventRule",
    "SimulationClock",
    "SimulationEvent",
    "before_trading_start_minutes",
    "calendars",
    "date_rules",
    "make_clock",
    "make_eventrule",
    "resolve_calendar",
    "scheduled_event",
    "time_rules",
]
