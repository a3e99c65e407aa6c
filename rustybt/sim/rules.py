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

from __future__ import annotations

import datetime
import warnings
from abc import ABC, abstractmethod
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from numbers import Real
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.calendars import ExchangeCalendar
from rustybt.exceptions import ParameterValidationError

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
    "session_index",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Plan = tuple[BoolArray, IntArray]

# A month has at most 23 trading sessions and a week 5 (zipline's bounds, kept
# even for 24/7 calendars so that scheduling code ports unchanged).
MAX_MONTH_RANGE: Final = 23
MAX_WEEK_RANGE: Final = 5

#: ``target`` value meaning "any bar of the session".
ANY_MINUTE: Final = int(np.iinfo(np.int64).min)

_MINUTE_NS: Final = 60_000_000_000
_DAY_NS: Final = 86_400_000_000_000
_MIN_OFFSET: Final = datetime.timedelta(minutes=1)
_MAX_OFFSET: Final = datetime.timedelta(hours=12)


def _nanos(dt: Any) -> int:
    """Nanoseconds UTC of ``dt`` (a tz-naive dt is read as UTC, as the simulation's are)."""
    try:
        return int(dt.value)
    except AttributeError:
        return int(pd.Timestamp(dt).value)


def _ns_array(values: Any) -> IntArray:
    index = pd.DatetimeIndex(values)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.as_unit("ns").asi8


def _positions(keys: IntArray) -> tuple[IntArray, IntArray]:
    """Position of each element within its run of equal ``keys``, from the start and the end."""
    n = len(keys)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    new_group = np.empty(n, dtype=bool)
    new_group[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new_group[1:])
    group = np.cumsum(new_group) - 1
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], n) - 1
    at = np.arange(n, dtype=np.int64)
    return at - starts[group], ends[group] - at


@dataclass(frozen=True, eq=False)
class SessionIndex:
    """Per-session facts of a calendar that the rules need, as arrays over ``calendar.sessions``.

    Weeks run Monday to Sunday (the grouping of zipline's ISO ``(year, week)``),
    months are calendar months.

    Examples
    --------
    >>> import pandas as pd
    >>> from rustybt.calendars import get_calendar
    >>> idx = session_index(get_calendar("XNYS"))
    >>> i = idx.locate(pd.Timestamp("2024-01-16 15:00", tz="UTC").value)
    >>> str(idx.sessions[i].date()), int(idx.week_position[i]), int(idx.month_position[i])
    ('2024-01-16', 0, 9)
    """

    sessions: pd.DatetimeIndex
    first_minutes_ns: IntArray
    closes_ns: IntArray
    early_close: BoolArray
    week_position: IntArray
    week_position_from_end: IntArray
    month_position: IntArray
    month_position_from_end: IntArray
    _firsts: list[int] = field(repr=False)
    _closes: list[int] = field(repr=False)

    @classmethod
    def from_calendar(cls, cal: ExchangeCalendar) -> SessionIndex:
        """Compute the index of ``cal`` (prefer the cached :func:`session_index`)."""
        sessions = pd.DatetimeIndex(cal.sessions)
        days = _ns_array(sessions) // _DAY_NS
        # 1970-01-01 was a Thursday: shifting by 3 days makes weeks start on Monday.
        weeks = (days + 3) // 7
        months = sessions.year.to_numpy(np.int64) * 12 + sessions.month.to_numpy(np.int64)
        week_pos, week_rev = _positions(weeks)
        month_pos, month_rev = _positions(months)
        firsts = _ns_array(cal.first_minutes)
        closes = _ns_array(cal.closes)
        early = np.isin(sessions.as_unit("ns").asi8, _ns_array(cal.early_closes))
        return cls(
            sessions=sessions,
            first_minutes_ns=firsts,
            closes_ns=closes,
            early_close=early,
            week_position=week_pos,
            week_position_from_end=week_rev,
            month_position=month_pos,
            month_position_from_end=month_rev,
            _firsts=firsts.tolist(),
            _closes=closes.tolist(),
        )

    def __len__(self) -> int:
        return len(self._closes)

    def locate(self, ns: int) -> int:
        """Index of the session whose first minute <= ``ns`` <= close, or -1 if there is none."""
        i = bisect_left(self._closes, ns)
        if i < len(self._closes) and self._firsts[i] <= ns:
            return i
        return -1

    def bounds(self, i: int) -> tuple[int, int]:
        """First minute and close of session ``i``, int64 ns UTC."""
        return self._firsts[i], self._closes[i]


@lru_cache(maxsize=16)
def session_index(cal: ExchangeCalendar) -> SessionIndex:
    """The :class:`SessionIndex` of ``cal``, computed once per calendar object."""
    return SessionIndex.from_calendar(cal)


def _no_calendar(rule: EventRule) -> ParameterValidationError:
    return ParameterValidationError(
        f"{rule!r} has no trading calendar: set rule.cal, or build the rule with make_eventrule",
        context={"rule": repr(rule)},
    )


def plan_of(rule: EventRule, index: SessionIndex) -> Plan | None:
    """``rule``'s plan over ``index``, or None when ``should_trigger`` must be asked instead.

    A subclass that overrides ``should_trigger`` has its own idea of when to
    fire, so a plan inherited from a built-in parent would be wrong for it.
    """
    if type(rule).should_trigger not in _PLANNED_IMPLEMENTATIONS:
        return None
    return rule._plan(index)


# --- validation ----------------------------------------------------------------


def check_days_offset(value: Any, limit: int, where: str) -> int:
    """Validate a ``days_offset``: an int in ``[0, limit)``; integral floats pass with a warning.

    Parameters
    ----------
    value
        The offset given.
    limit
        One past the largest allowed offset.
    where
        The call to name in the message, e.g. ``"date_rules.week_start"``.

    Raises
    ------
    ParameterValidationError
        Naming ``days_offset``, the call and the allowed range.

    Examples
    --------
    >>> check_days_offset(2, MAX_WEEK_RANGE, "date_rules.week_start")
    2
    >>> check_days_offset(5, MAX_WEEK_RANGE, "date_rules.week_start")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rustybt.exceptions.ParameterValidationError: ...: days_offset must be between 0 and 4 inclusive
    """
    context = {"argument": "days_offset", "value": value, "rule": where}
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise ParameterValidationError(
            f"{where}(days_offset={value!r}): days_offset must be an int", context=context
        )
    if not isinstance(value, (int, np.integer)):
        if not float(value).is_integer():
            raise ParameterValidationError(
                f"{where}(days_offset={value!r}): days_offset must be a whole number of days",
                context=context,
            )
        warnings.warn(
            f"{where} expected an int for days_offset, got {value!r}; using {int(value)}",
            UserWarning,
            stacklevel=3,
        )
    n = int(value)
    if not 0 <= n < limit:
        raise ParameterValidationError(
            f"{where}(days_offset={value!r}): days_offset must be between 0 and {limit - 1} "
            "inclusive",
            context=context,
        )
    return n


def build_offset(
    offset: Any,
    hours: Any,
    minutes: Any,
    where: str,
    default: datetime.timedelta = _MIN_OFFSET,
) -> datetime.timedelta:
    """Validate a time rule's offset: a timedelta *or* hours/minutes, 1 minute to 12 hours.

    Whole minutes only: the clock ticks on minutes, so an offset with seconds
    would never fire (zipline accepts it and then never runs the function).

    Raises
    ------
    ParameterValidationError
        Naming the argument at fault and the call.

    Examples
    --------
    >>> build_offset(None, 1, 30, "time_rules.market_open")
    datetime.timedelta(seconds=5400)
    >>> build_offset(None, None, None, "time_rules.market_open")
    datetime.timedelta(seconds=60)
    >>> build_offset(30, None, None, "time_rules.market_open")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rustybt.exceptions.ParameterValidationError: ...; for a number of minutes pass minutes=30
    """
    if offset is None:
        if hours is None and minutes is None:
            return default
        for name, v in (("hours", hours), ("minutes", minutes)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, Real)):
                raise ParameterValidationError(
                    f"{where}({name}={v!r}): {name} must be a number",
                    context={"argument": name, "value": v, "rule": where},
                )
        td = datetime.timedelta(hours=float(hours or 0), minutes=float(minutes or 0))
        shown = ", ".join(
            f"{k}={v!r}" for k, v in (("hours", hours), ("minutes", minutes)) if v is not None
        )
        argument = "hours" if minutes is None else "minutes" if hours is None else "hours/minutes"
    elif hours is not None or minutes is not None:
        raise ParameterValidationError(
            f"{where}: pass either offset or hours/minutes, not both",
            context={"argument": "offset", "value": offset, "rule": where},
        )
    elif isinstance(offset, datetime.timedelta):
        td, shown, argument = offset, f"offset={offset!r}", "offset"
    else:
        hint = f"; for a number of minutes pass minutes={offset!r}"
        if not isinstance(offset, Real):
            hint = ""
        raise ParameterValidationError(
            f"{where}(offset={offset!r}): offset must be a datetime.timedelta{hint}",
            context={"argument": "offset", "value": offset, "rule": where},
        )
    if not _MIN_OFFSET <= td <= _MAX_OFFSET:
        raise ParameterValidationError(
            f"{where}({shown}): the offset must be between 1 minute and 12 hours inclusive, "
            f"got {td}",
            context={"argument": argument, "value": td, "rule": where},
        )
    if td % _MIN_OFFSET:
        raise ParameterValidationError(
            f"{where}({shown}): the offset must be a whole number of minutes, got {td}",
            context={"argument": argument, "value": td, "rule": where},
        )
    return datetime.timedelta(minutes=td // _MIN_OFFSET)


# --- the rule classes ----------------------------------------------------------


class EventRule(ABC):
    """When a scheduled function runs: ``should_trigger(dt)`` for each bar time ``dt``.

    Subclasses implement :meth:`should_trigger`; the built-ins also give a
    vectorized plan (see the module docstring) that makes it O(1).
    """

    _cal: ExchangeCalendar | None = None

    @property
    def cal(self) -> ExchangeCalendar | None:
        """The trading calendar the rule reads sessions, opens and closes from."""
        return self._cal

    @cal.setter
    def cal(self, value: ExchangeCalendar | None) -> None:
        self._cal = value
        self._forget()

    def _forget(self) -> None:  # noqa: B027 - a hook: most rules keep nothing per calendar
        """Drop whatever was computed for the previous calendar."""

    def _plan(self, index: SessionIndex) -> Plan | None:
        """The rule as per-session ``(mask, target)`` arrays, or None if it has no such form."""
        return None

    @abstractmethod
    def should_trigger(self, dt: pd.Timestamp) -> bool:
        """Whether the rule fires at ``dt`` (a bar time, UTC)."""


class StatelessRule(EventRule):
    """A rule whose answer depends on ``dt`` only; such rules combine with ``&``."""

    def and_(self, rule: StatelessRule) -> ComposedRule:
        """The rule that fires when both fire (``rule`` is asked only if ``self`` fires)."""
        return ComposedRule(self, rule, ComposedRule.lazy_and)

    __and__ = and_


class _PlannedRule(StatelessRule):
    """A stateless rule answered from its plan; subclasses implement :meth:`_plan`."""

    _lo: int = 1
    _hi: int = 0
    _ok: bool = False
    _target: int = ANY_MINUTE
    _compiled: tuple[SessionIndex, list[bool], list[int]] | None = None

    def _forget(self) -> None:
        # An empty [lo, hi] range makes the next call look its session up.
        self._lo, self._hi = 1, 0
        self._compiled = None

    def _compile(self) -> tuple[SessionIndex, list[bool], list[int]] | None:
        if self._compiled is None:
            cal = self.cal
            if cal is None:
                raise _no_calendar(self)
            index = session_index(cal)
            plan = self._plan(index)
            if plan is None:
                return None
            self._compiled = (index, plan[0].tolist(), plan[1].tolist())
        return self._compiled

    def _seek(self, ns: int) -> None:
        compiled = self._compile()
        assert compiled is not None  # only ComposedRule can lack a plan; it checks first
        index, mask, target = compiled
        i = index.locate(ns)
        if i < 0:
            self._lo = self._hi = ns
            self._ok = False
        else:
            self._lo, self._hi = index.bounds(i)
            self._ok, self._target = mask[i], target[i]

    def should_trigger(self, dt: pd.Timestamp) -> bool:
        """Whether the rule fires at ``dt``: O(1) after the first bar of a session."""
        ns = _nanos(dt)
        if ns < self._lo or ns > self._hi:
            self._seek(ns)
        return self._ok and (self._target == ANY_MINUTE or ns == self._target)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ComposedRule(_PlannedRule):
    """Two stateless rules combined by a ``composer(first_trigger, second_trigger, dt)``.

    With :meth:`lazy_and` (what ``&`` builds) and two built-in rules the
    combination is planned like any built-in; otherwise both rules are asked.

    Examples
    --------
    >>> rule = Always() & NotHalfDay()
    >>> type(rule).__name__, type(rule.first).__name__
    ('ComposedRule', 'Always')
    """

    def __init__(
        self,
        first: StatelessRule,
        second: StatelessRule,
        composer: Callable[
            [Callable[[pd.Timestamp], bool], Callable[[pd.Timestamp], bool], pd.Timestamp], bool
        ],
    ) -> None:
        for name, rule in (("first", first), ("second", second)):
            if not isinstance(rule, StatelessRule):
                raise ParameterValidationError(
                    f"only stateless rules can be combined; {name} is {rule!r}",
                    context={"argument": name, "value": rule},
                )
        self.first = first
        self.second = second
        self.composer = composer
        self._generic = composer is not ComposedRule.lazy_and

    @staticmethod
    def lazy_and(
        first_should_trigger: Callable[[pd.Timestamp], bool],
        second_should_trigger: Callable[[pd.Timestamp], bool],
        dt: pd.Timestamp,
    ) -> bool:
        """``first(dt) and second(dt)``, asking ``second`` only when ``first`` fires."""
        return bool(first_should_trigger(dt)) and bool(second_should_trigger(dt))

    @property
    def cal(self) -> ExchangeCalendar | None:
        """The calendar of the parts (setting it sets both)."""
        return self.first.cal

    @cal.setter
    def cal(self, value: ExchangeCalendar | None) -> None:
        self.first.cal = self.second.cal = value
        self._forget()

    def _forget(self) -> None:
        super()._forget()
        self._generic = self.composer is not ComposedRule.lazy_and

    def _plan(self, index: SessionIndex) -> Plan | None:
        if self.composer is not ComposedRule.lazy_and:
            return None
        a = plan_of(self.first, index)
        b = plan_of(self.second, index)
        if a is None or b is None:
            return None
        (mask_a, t_a), (mask_b, t_b) = a, b
        # Both must fire in the same minute: "any" yields to the other's
        # minute, and two different minutes never coincide.
        target = np.where(t_a == ANY_MINUTE, t_b, t_a)
        agree = (t_a == ANY_MINUTE) | (t_b == ANY_MINUTE) | (t_a == t_b)
        return mask_a & mask_b & agree, target

    def should_trigger(self, dt: pd.Timestamp) -> bool:
        """Whether both parts fire at ``dt``."""
        if not self._generic:
            if self._compiled is not None:
                return super().should_trigger(dt)
            # A user rule may need no calendar; then only the generic path works.
            if self.cal is not None and self._compile() is not None:
                return super().should_trigger(dt)
            self._generic = True
        return bool(self.composer(self.first.should_trigger, self.second.should_trigger, dt))

    def __repr__(self) -> str:
        return f"({self.first!r} & {self.second!r})"


class Always(_PlannedRule):
    """Fires at every bar (``date_rules.every_day()``, ``time_rules.every_minute()``)."""

    def should_trigger(self, dt: pd.Timestamp) -> bool:
        """Always True, with or without a calendar."""
        return True

    def _plan(self, index: SessionIndex) -> Plan:
        n = len(index)
        return np.ones(n, dtype=bool), np.full(n, ANY_MINUTE, dtype=np.int64)


class Never(_PlannedRule):
    """Never fires."""

    def should_trigger(self, dt: pd.Timestamp) -> bool:
        """Always False."""
        return False

    def _plan(self, index: SessionIndex) -> Plan:
        n = len(index)
        return np.zeros(n, dtype=bool), np.full(n, ANY_MINUTE, dtype=np.int64)


class NotHalfDay(_PlannedRule):
    """Fires at every bar of sessions that do not close early."""

    def _plan(self, index: SessionIndex) -> Plan:
        return ~index.early_close, np.full(len(index), ANY_MINUTE, dtype=np.int64)


class AfterOpen(_PlannedRule):
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

    def __init__(
        self,
        offset: datetime.timedelta | None = None,
        *,
        hours: float | None = None,
        minutes: float | None = None,
    ) -> None:
        self.offset = build_offset(offset, hours, minutes, type(self).__name__)

    def _plan(self, index: SessionIndex) -> Plan:
        target = index.first_minutes_ns + (self.offset // _MIN_OFFSET - 1) * _MINUTE_NS
        return target <= index.closes_ns, target

    def __repr__(self) -> str:
        return f"{type(self).__name__}(minutes={self.offset // _MIN_OFFSET})"


class BeforeClose(_PlannedRule):
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

    def __init__(
        self,
        offset: datetime.timedelta | None = None,
        *,
        hours: float | None = None,
        minutes: float | None = None,
    ) -> None:
        self.offset = build_offset(offset, hours, minutes, type(self).__name__)

    def _plan(self, index: SessionIndex) -> Plan:
        target = index.closes_ns - (self.offset // _MIN_OFFSET) * _MINUTE_NS
        return target >= index.first_minutes_ns, target

    def __repr__(self) -> str:
        return f"{type(self).__name__}(minutes={self.offset // _MIN_OFFSET})"


class TradingDayOfWeekRule(_PlannedRule):
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


class TradingDayOfMonthRule(_PlannedRule):
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


_PLANNED_IMPLEMENTATIONS: Final = (
    _PlannedRule.should_trigger,
    ComposedRule.should_trigger,
    Always.should_trigger,
    Never.should_trigger,
)


class StatefulRule(EventRule):
    """A rule that wraps another and keeps state between calls (default inner rule: Always)."""

    def __init__(self, rule: EventRule | None = None) -> None:
        self.rule: EventRule = rule if rule is not None else Always()

    @property
    def cal(self) -> ExchangeCalendar | None:
        """The calendar of the inner rule (setting it sets the inner rule's)."""
        return self.rule.cal

    @cal.setter
    def cal(self, value: ExchangeCalendar | None) -> None:
        self.rule.cal = value
        self._forget()


class OncePerDay(StatefulRule):
    """Fires at the first bar of each day at which the inner rule fires, then not again that day.

    Parameters
    ----------
    rule
        The inner rule (default: :class:`Always`).
    period
        What a "day" is. ``"session"`` (default): a session of the calendar.
        ``"24h"``: zipline's definition, 24 hours from the first bar seen in
        the day. They differ in one case: with daily data, zipline's window
        from one close still covers the next session's close when that session
        closes early (a 13:00 close after a 16:00 one), so zipline never runs
        scheduled functions on such half days (2024-07-03, 2024-12-24).
        ``"24h"`` reproduces that, for like-for-like comparisons with zipline.
        Without a calendar, ``"24h"`` is used.

    Examples
    --------
    >>> import pandas as pd
    >>> from rustybt.calendars import get_calendar
    >>> rule = OncePerDay(Always())
    >>> rule.cal = get_calendar("XNYS")
    >>> minutes = pd.date_range("2024-01-02 14:31", periods=3, freq="min", tz="UTC")
    >>> [rule.should_trigger(m) for m in minutes]
    [True, False, False]
    """

    def __init__(self, rule: EventRule | None = None, *, period: str = "session") -> None:
        if period not in ("session", "24h"):
            raise ParameterValidationError(
                f"period must be 'session' or '24h', got {period!r}",
                context={"argument": "period", "value": period},
            )
        super().__init__(rule)
        self.period = period
        self.triggered = False
        self._forget()

    def _forget(self) -> None:
        self.triggered = False
        self._lo, self._hi = 1, 0
        self._ok, self._target = False, ANY_MINUTE
        self._compiled: tuple[SessionIndex, list[bool], list[int]] | None = None
        self._generic = False
        self._checked = False

    def _new_period(self, ns: int) -> None:
        self.triggered = False
        if self.cal is None or self.period == "24h":
            # zipline's day; the inner rule is asked (built-ins answer in O(1)).
            self._generic = True
            self._lo, self._hi = ns, ns + _DAY_NS - 1
            return
        if not self._checked:
            self._checked = True
            index = session_index(self.cal)
            plan = plan_of(self.rule, index)
            if plan is None:
                self._generic = True
            self._compiled = (
                index,
                [] if plan is None else plan[0].tolist(),
                [] if plan is None else plan[1].tolist(),
            )
        assert self._compiled is not None
        index, mask, target = self._compiled
        i = index.locate(ns)
        if i < 0:
            self._lo = self._hi = ns
            self._ok = False
        else:
            self._lo, self._hi = index.bounds(i)
            if not self._generic:
                self._ok, self._target = mask[i], target[i]

    def should_trigger(self, dt: pd.Timestamp) -> bool:
        """Whether the inner rule fires at ``dt`` for the first time this session."""
        ns = _nanos(dt)
        if ns < self._lo or ns > self._hi:
            self._new_period(ns)
        if self.triggered:
            return False
        if self._generic:
            fire = bool(self.rule.should_trigger(dt))
        else:
            fire = self._ok and (self._target == ANY_MINUTE or ns == self._target)
        if fire:
            self.triggered = True
        return fire

    def __repr__(self) -> str:
        extra = "" if self.period == "session" else f", period={self.period!r}"
        return f"OncePerDay({self.rule!r}{extra})"
