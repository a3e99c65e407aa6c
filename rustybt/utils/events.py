"""Scheduling rules at zipline's import path (``zipline.utils.events``).

``date_rules``, ``time_rules``, ``calendars``, the rule classes and the event
manager live in :mod:`rustybt.sim.events` and :mod:`rustybt.sim.rules`; this
module names them where a zipline project imports them from.

Examples
--------
>>> from rustybt.utils.events import AfterOpen, date_rules, time_rules
>>> isinstance(time_rules.market_open(minutes=30), AfterOpen)
True
"""

from rustybt.sim.events import (
    MAX_MONTH_RANGE,
    MAX_WEEK_RANGE,
    AfterOpen,
    Always,
    BeforeClose,
    ComposedRule,
    Event,
    EventManager,
    EventRule,
    NDaysBeforeLastTradingDayOfMonth,
    NDaysBeforeLastTradingDayOfWeek,
    Never,
    NotHalfDay,
    NthTradingDayOfMonth,
    NthTradingDayOfWeek,
    OncePerDay,
    StatefulRule,
    StatelessRule,
    TradingDayOfMonthRule,
    TradingDayOfWeekRule,
    calendars,
    date_rules,
    make_eventrule,
    time_rules,
)

__all__ = [
    "MAX_MONTH_RANGE",
    "MAX_WEEK_RANGE",
    "AfterOpen",
    "Always",
    "BeforeClose",
    "ComposedRule",
    "Event",
    "EventManager",
    "EventRule",
    "NDaysBeforeLastTradingDayOfMonth",
    "NDaysBeforeLastTradingDayOfWeek",
    "Never",
    "NotHalfDay",
    "NthTradingDayOfMonth",
    "NthTradingDayOfWeek",
    "OncePerDay",
    "StatefulRule",
    "StatelessRule",
    "TradingDayOfMonthRule",
    "TradingDayOfWeekRule",
    "calendars",
    "date_rules",
    "make_eventrule",
    "time_rules",
]
