"""The calendar rules of ``date_rules`` and ``time_rules``: n-th session of a week or month,
minutes after the open or before the close, and not on half days.

Each is a planned rule (:class:`~rustybt.sim.rule_base.PlannedRule`): its plan
is a few array operations over the calendar's :class:`SessionIndex`.
"""

from __future__ import annotations

import datetime

import numpy as np

from rustybt.sim.rule_arguments import (
    MAX_MONTH_RANGE,
    MAX_WEEK_RANGE,
    MIN_OFFSET,
    build_offset,
    check_days_offset,
)
from rustybt.sim.rule_base import ANY_MINUTE, Plan, PlannedRule
from rustybt.sim.session_index import MINUTE_NS, SessionIndex

__all__ = [
    "AfterOpen",
    "BeforeClose",
    "NDaysBeforeLastTradingDayOfMonth",
    "NDaysBeforeLastTradingDayOfWeek",
    "NotHalfDay",
    "NthTradingDayOfMonth",
    "NthTradingDayOfWeek",
    "TradingDayOfMonthRule",
    "TradingDayOfWeekRule",
]


class NotHalfDay(PlannedRule):
    """Fires at every bar of sessions that do not close early."""

    def _plan(self, index: SessionIndex) -> Plan:
        return ~index.early_close, np.full(len(index), ANY_MINUTE, dtype=np.int64)


class OffsetRule(PlannedRule):
    """A rule that fires a number of whole minutes from a session's open or close.

    Parameters
    ----------
    offset
        A ``datetime.timedelta`` of 1 minute to 12 hours, whole minutes.
    hours, minutes
        Instead of ``offset``.
    """

    def __init__(
        self,
        offset: datetime.timedelta | None = None,
        *,
        hours: float | None = None,
        minutes: float | None = None,
    ) -> None:
        self.offset = build_offset(offset, hours, minutes, type(self).__name__)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(minutes={self.offset // MIN_OFFSET})"


class AfterOpen(OffsetRule):
    """Fires ``offset`` after the open: at the bar ending ``offset`` after it.

    The first bar (9:31 on XNYS) is 1 minute after the open, so the rule fires
    at ``first minute + offset - 1 minute``; never in a session too short for it.

    Parameters
    ----------
    offset
        A ``datetime.timedelta`` of 1 minute to 12 hours, whole minutes.
    hours, minutes
        Instead of ``offset``.

    Examples
    --------
    >>> import pandas as pd
    >>> from rustybt.calendars import get_calendar
    >>> rule = AfterOpen(minutes=30)
    >>> rule.cal = get_calendar("XNYS")
    >>> rule.should_trigger(pd.Timestamp("2024-01-02 15:00", tz="UTC"))  # 10:00 New York
    True
    """

    def _plan(self, index: SessionIndex) -> Plan:
        target = index.first_minutes_ns + (self.offset // MIN_OFFSET - 1) * MINUTE_NS
        return target <= index.closes_ns, target


class BeforeClose(OffsetRule):
    """Fires ``offset`` before the close: at the bar ending then (15:59 NY by default).

    Parameters
    ----------
    offset
        A ``datetime.timedelta`` of 1 minute to 12 hours, whole minutes.
    hours, minutes
        Instead of ``offset``.

    Examples
    --------
    >>> import pandas as pd
    >>> from rustybt.calendars import get_calendar
    >>> rule = BeforeClose(hours=1)
    >>> rule.cal = get_calendar("XNYS")
    >>> rule.should_trigger(pd.Timestamp("2024-01-02 20:00", tz="UTC"))  # 15:00 New York
    True
    """

    def _plan(self, index: SessionIndex) -> Plan:
        target = index.closes_ns - (self.offset // MIN_OFFSET) * MINUTE_NS
        return target >= index.first_minutes_ns, target


class TradingDayOfWeekRule(PlannedRule):
    """Fires on the ``n``-th trading session of each week, from its start or (``invert``) end."""

    def __init__(self, n: int, invert: bool) -> None:
        self.n = check_days_offset(n, MAX_WEEK_RANGE, type(self).__name__)
        self.invert = invert

    def _plan(self, index: SessionIndex) -> Plan:
        pos = index.week_position_from_end if self.invert else index.week_position
        return pos == self.n, np.full(len(index), ANY_MINUTE, dtype=np.int64)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.n})"


class NthTradingDayOfWeek(TradingDayOfWeekRule):
    """Fires on the ``n``-th (0 = first) trading session of each week.

    Examples
    --------
    >>> import pandas as pd
    >>> from rustybt.calendars import get_calendar
    >>> rule = NthTradingDayOfWeek(0)
    >>> rule.cal = get_calendar("XNYS")
    >>> rule.should_trigger(pd.Timestamp("2024-01-16 21:00", tz="UTC"))  # Monday was a holiday
    True
    """

    def __init__(self, n: int) -> None:
        super().__init__(n, invert=False)


class NDaysBeforeLastTradingDayOfWeek(TradingDayOfWeekRule):
    """Fires ``n`` trading sessions before the last trading session of each week."""

    def __init__(self, n: int) -> None:
        super().__init__(n, invert=True)


class TradingDayOfMonthRule(PlannedRule):
    """Fires on the ``n``-th trading session of each month, from its start or (``invert``) end."""

    def __init__(self, n: int, invert: bool) -> None:
        self.n = check_days_offset(n, MAX_MONTH_RANGE, type(self).__name__)
        self.invert = invert

    def _plan(self, index: SessionIndex) -> Plan:
        pos = index.month_position_from_end if self.invert else index.month_position
        return pos == self.n, np.full(len(index), ANY_MINUTE, dtype=np.int64)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.n})"


class NthTradingDayOfMonth(TradingDayOfMonthRule):
    """Fires on the ``n``-th (0 = first) trading session of each month."""

    def __init__(self, n: int) -> None:
        super().__init__(n, invert=False)


class NDaysBeforeLastTradingDayOfMonth(TradingDayOfMonthRule):
    """Fires ``n`` trading sessions before the last trading session of each month.

    Examples
    --------
    >>> import pandas as pd
    >>> from rustybt.calendars import get_calendar
    >>> rule = NDaysBeforeLastTradingDayOfMonth(1)
    >>> rule.cal = get_calendar("XNYS")
    >>> rule.should_trigger(pd.Timestamp("2024-01-30 21:00", tz="UTC"))  # Jan 31 is the last
    True
    """

    def __init__(self, n: int) -> None:
        super().__init__(n, invert=True)
