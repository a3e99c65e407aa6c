"""The rules that decide when a scheduled function runs.

A rule answers ``should_trigger(dt)`` for the clock's bar times. The built-in
rules (every day, n-th trading day of the week or month, n minutes after the
open or before the close, not on half days, and their ``&`` combinations) are
zipline's, with zipline's semantics, but they do their work once: when a rule
first meets its calendar it computes, vectorized over all the calendar's
sessions, a *plan*

* ``mask[i]``: may the rule fire in session ``i`` at all;
* ``target[i]``: the one minute (int64 ns UTC) at which it fires, or
  :data:`ANY_MINUTE` when any bar of the session will do.

``should_trigger`` is then a few integer comparisons; only the first bar of a
session pays for finding that session (a binary search).

Rules with a calendar-aware state, like zipline's, are given their calendar
through the ``cal`` property, which composite rules pass down to their parts.
User-written rules only need ``should_trigger``; they compose with the
built-ins through ``&`` and are then asked minute by minute.

This module gathers the rules from where they live:
:mod:`~rustybt.sim.session_index` (the per-session arrays plans are computed
from), :mod:`~rustybt.sim.rule_arguments` (checking offsets),
:mod:`~rustybt.sim.rule_base` (the rule types, plans and ``&``),
:mod:`~rustybt.sim.calendar_rules` (the rules of ``date_rules`` and
``time_rules``) and :mod:`~rustybt.sim.once_per_day`.

Examples
--------
>>> import pandas as pd
>>> from rustybt.calendars import get_calendar
>>> rule = NthTradingDayOfWeek(0) & AfterOpen(minutes=30)
>>> rule.cal = get_calendar("XNYS")
>>> rule.should_trigger(pd.Timestamp("2024-01-16 15:00", tz="UTC"))  # Tue after MLK day
True
>>> rule.should_trigger(pd.Timestamp("2024-01-17 15:00", tz="UTC"))
False
"""

from rustybt.sim.calendar_rules import (
    AfterOpen,
    BeforeClose,
    NDaysBeforeLastTradingDayOfMonth,
    NDaysBeforeLastTradingDayOfWeek,
    NotHalfDay,
    NthTradingDayOfMonth,
    NthTradingDayOfWeek,
    TradingDayOfMonthRule,
    TradingDayOfWeekRule,
)
from rustybt.sim.once_per_day import OncePerDay
from rustybt.sim.rule_arguments import (
    MAX_MONTH_RANGE,
    MAX_WEEK_RANGE,
    build_offset,
    check_days_offset,
)
from rustybt.sim.rule_base import (
    ANY_MINUTE,
    Always,
    ComposedRule,
    EventRule,
    Never,
    StatefulRule,
    StatelessRule,
    plan_of,
)
from rustybt.sim.session_index import SessionIndex, session_index

__all__ = [
    "ANY_MINUTE",
    "MAX_MONTH_RANGE",
    "MAX_WEEK_RANGE",
    "AfterOpen",
    "Always",
    "BeforeClose",
    "ComposedRule",
    "EventRule",
    "NDaysBeforeLastTradingDayOfMonth",
    "NDaysBeforeLastTradingDayOfWeek",
    "Never",
    "NotHalfDay",
    "NthTradingDayOfMonth",
    "NthTradingDayOfWeek",
    "OncePerDay",
    "SessionIndex",
    "StatefulRule",
    "StatelessRule",
    "TradingDayOfMonthRule",
    "TradingDayOfWeekRule",
    "build_offset",
    "check_days_offset",
    "plan_of",
    "session_index",
]
