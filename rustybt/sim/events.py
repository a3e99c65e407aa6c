"""Scheduled functions: ``date_rules``, ``time_rules``, events and the manager that runs them.

This is the machinery behind ``schedule_function``::

    schedule_function(rebalance, date_rules.week_start(), time_rules.market_open(minutes=30))

runs ``rebalance(context, data)`` on the first trading session of each week,
at the bar ending 30 minutes after the open (10:00 New York). The semantics
are zipline's (``zipline.utils.events``); the rules themselves live in
:mod:`rustybt.sim.rules` and are re-exported here.

Examples
--------
>>> import pandas as pd
>>> from rustybt.calendars import get_calendar
>>> cal = get_calendar("XNYS")
>>> manager = EventManager()
>>> calls = []
>>> rule = make_eventrule(date_rules.month_end(days_offset=1), time_rules.market_close(), cal)
>>> manager.add_event(Event(rule, lambda context, data: calls.append(context)))
>>> for minute in cal.session_minutes("2024-01-30"):
...     manager.handle_data("ctx", None, minute)
>>> calls  # once, at 15:59 New York on the second-to-last session of January
['ctx']
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from rustybt.calendars import ExchangeCalendar, get_calendar
from rustybt.exceptions import ParameterValidationError
from rustybt.sim.rules import (
    ANY_MINUTE,
    MAX_MONTH_RANGE,
    MAX_WEEK_RANGE,
    AfterOpen,
    Always,
    BeforeClose,
    ComposedRule,
    EventRule,
    NDaysBeforeLastTradingDayOfMonth,
    NDaysBeforeLastTradingDayOfWeek,
    Never,
    NotHalfDay,
    NthTradingDayOfMonth,
    NthTradingDayOfWeek,
    OncePerDay,
    SessionIndex,
    StatefulRule,
    StatelessRule,
    TradingDayOfMonthRule,
    TradingDayOfWeekRule,
    build_offset,
    check_days_offset,
    plan_of,
    session_index,
)
from rustybt.sim.session_index import MINUTE_NS

__all__ = [
    "ANY_MINUTE",
    "MAX_MONTH_RANGE",
    "MAX_WEEK_RANGE",
    "AfterOpen",
    "Always",
    "BeforeClose",
    "CalendarSentinel",
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
    "SessionIndex",
    "StatefulRule",
    "StatelessRule",
    "TradingDayOfMonthRule",
    "TradingDayOfWeekRule",
    "calendars",
    "date_rules",
    "make_eventrule",
    "resolve_calendar",
    "scheduled_event",
    "session_index",
    "time_rules",
]

Callback = Callable[[Any, Any], Any]


def _do_nothing(context: Any, data: Any) -> None:
    """The callback of an event created without one."""


@dataclass(frozen=True, slots=True)
class Event:
    """A rule and the function it runs: ``callback(context, data)`` whenever the rule fires.

    Parameters
    ----------
    rule
        When to run (usually from :func:`make_eventrule`).
    callback
        What to run; None runs nothing.

    Examples
    --------
    >>> import pandas as pd
    >>> from rustybt.calendars import get_calendar
    >>> rule = make_eventrule(date_rules.every_day(), time_rules.market_open(), get_calendar())
    >>> event = Event(rule, lambda context, data: print("ran for", context))
    >>> event.handle_data("algo", None, pd.Timestamp("2024-01-02 14:31", tz="UTC"))
    ran for algo
    """

    rule: EventRule
    callback: Callback = field(default=_do_nothing)

    def __post_init__(self) -> None:
        if self.callback is None:
            object.__setattr__(self, "callback", _do_nothing)

    def handle_data(self, context: Any, data: Any, dt: pd.Timestamp) -> None:
        """Run the callback if the rule fires at ``dt``."""
        if self.rule.should_trigger(dt):
            self.callback(context, data)


class EventManager:
    """The scheduled events of an algorithm, run in the order they were added.

    Parameters
    ----------
    create_context
        Optional ``create_context(data)`` returning a context manager that
        wraps each round of calls (zipline's ``create_event_context``).

    Examples
    --------
    >>> import pandas as pd
    >>> from rustybt.calendars import get_calendar
    >>> cal = get_calendar("XNYS")
    >>> order = []
    >>> manager = EventManager()
    >>> def make(name):
    ...     rule = make_eventrule(date_rules.every_day(), time_rules.every_minute(), cal)
    ...     return Event(rule, lambda context, data: order.append(name))
    >>> manager.add_event(make("b"))
    >>> manager.add_event(make("a"), prepend=True)
    >>> manager.handle_data(None, None, pd.Timestamp("2024-01-02 14:31", tz="UTC"))
    >>> order
    ['a', 'b']
    """

    def __init__(
        self, create_context: Callable[[Any], AbstractContextManager[Any]] | None = None
    ) -> None:
        self._events: list[Event] = []
        self._create_context = create_context

    @property
    def events(self) -> tuple[Event, ...]:
        """The events, in the order they run."""
        return tuple(self._events)

    def add_event(self, event: Event, prepend: bool = False) -> None:
        """Add ``event`` last (or first, with ``prepend``)."""
        if prepend:
            self._events.insert(0, event)
        else:
            self._events.append(event)

    def handle_data(self, context: Any, data: Any, dt: pd.Timestamp) -> None:
        """Run, in order, every event whose rule fires at ``dt``."""
        if self._create_context is None:
            for event in self._events:
                if event.rule.should_trigger(dt):
                    event.callback(context, data)
            return
        with self._create_context(data):
            for event in self._events:
                if event.rule.should_trigger(dt):
                    event.callback(context, data)

    def __len__(self) -> int:
        return len(self._events)


# --- the factory API ------------------------------------------------------------


class date_rules:
    """Factories of date rules for ``schedule_function``.

    Examples
    --------
    >>> date_rules.week_start(days_offset=1)
    NthTradingDayOfWeek(1)
    """

    @staticmethod
    def every_day() -> StatelessRule:
        """Every trading session."""
        return Always()

    @staticmethod
    def month_start(days_offset: int = 0) -> StatelessRule:
        """The trading session ``days_offset`` sessions after the first of each month.

        Parameters
        ----------
        days_offset
            0 (default) is the first trading session of the month; at most 22.
        """
        return NthTradingDayOfMonth(
            check_days_offset(days_offset, MAX_MONTH_RANGE, "date_rules.month_start")
        )

    @staticmethod
    def month_end(days_offset: int = 0) -> StatelessRule:
        """The trading session ``days_offset`` sessions before the last of each month.

        Parameters
        ----------
        days_offset
            0 (default) is the last trading session of the month; at most 22.
        """
        return NDaysBeforeLastTradingDayOfMonth(
            check_days_offset(days_offset, MAX_MONTH_RANGE, "date_rules.month_end")
        )

    @staticmethod
    def week_start(days_offset: int = 0) -> StatelessRule:
        """The trading session ``days_offset`` sessions after the first of each week.

        Parameters
        ----------
        days_offset
            0 (default) is the first trading session of the week (Tuesday
            after a Monday holiday); at most 4.
        """
        return NthTradingDayOfWeek(
            check_days_offset(days_offset, MAX_WEEK_RANGE, "date_rules.week_start")
        )

    @staticmethod
    def week_end(days_offset: int = 0) -> StatelessRule:
        """The trading session ``days_offset`` sessions before the last of each week.

        Parameters
        ----------
        days_offset
            0 (default) is the last trading session of the week; at most 4.
        """
        return NDaysBeforeLastTradingDayOfWeek(
            check_days_offset(days_offset, MAX_WEEK_RANGE, "date_rules.week_end")
        )


class time_rules:
    """Factories of time rules for ``schedule_function`` (ignored with daily data).

    Examples
    --------
    >>> time_rules.market_open(minutes=30)
    AfterOpen(minutes=30)
    >>> time_rules.market_close()
    BeforeClose(minutes=1)
    """

    @staticmethod
    def market_open(
        offset: Any = None, hours: float | None = None, minutes: float | None = None
    ) -> StatelessRule:
        """The bar ending ``offset`` after the open; default 1 minute (the first bar).

        Parameters
        ----------
        offset
            A ``datetime.timedelta``, 1 minute to 12 hours, whole minutes.
        hours, minutes
            Instead of ``offset``: ``minutes=30`` is 10:00 New York.
        """
        return AfterOpen(build_offset(offset, hours, minutes, "time_rules.market_open"))

    @staticmethod
    def market_close(
        offset: Any = None, hours: float | None = None, minutes: float | None = None
    ) -> StatelessRule:
        """The bar ending ``offset`` before the close; default 1 minute (15:59 New York).

        Parameters
        ----------
        offset
            A ``datetime.timedelta``, 1 minute to 12 hours, whole minutes.
        hours, minutes
            Instead of ``offset``: ``hours=1`` is 15:00 New York.
        """
        return BeforeClose(build_offset(offset, hours, minutes, "time_rules.market_close"))

    @staticmethod
    def every_minute() -> StatelessRule:
        """Every bar."""
        return Always()


class CalendarSentinel:
    """A named stand-in for a trading calendar (``calendars.US_EQUITIES``)."""

    __slots__ = ("calendar_name", "name")

    def __init__(self, name: str, calendar_name: str) -> None:
        self.name = name
        self.calendar_name = calendar_name

    def __repr__(self) -> str:
        return self.name


class calendars:
    """Calendars ``schedule_function(calendar=...)`` accepts, as in zipline.

    Examples
    --------
    >>> calendars.US_EQUITIES
    US_EQUITIES
    >>> resolve_calendar(calendars.US_EQUITIES, None).name
    'XNYS'
    """

    US_EQUITIES: Final = CalendarSentinel("US_EQUITIES", "XNYS")
    US_FUTURES: Final = CalendarSentinel("US_FUTURES", "us_futures")


def resolve_calendar(
    calendar: CalendarSentinel | ExchangeCalendar | None,
    default: ExchangeCalendar | None,
) -> ExchangeCalendar:
    """The calendar a scheduled function uses: ``default`` (the algorithm's) when None.

    Raises
    ------
    ParameterValidationError
        For anything but None, a :class:`calendars` member or a calendar.
    """
    if calendar is None:
        if default is None:
            raise ParameterValidationError(
                "no trading calendar to schedule on", context={"argument": "calendar"}
            )
        return default
    if calendar is calendars.US_EQUITIES or calendar is calendars.US_FUTURES:
        return get_calendar(calendar.calendar_name)
    if isinstance(calendar, ExchangeCalendar):
        return calendar
    raise ParameterValidationError(
        f"calendar must be calendars.US_EQUITIES or calendars.US_FUTURES, got {calendar!r}",
        context={"argument": "calendar", "value": calendar},
    )


def _factory_names() -> dict[int, str]:
    names: dict[int, str] = {}
    for namespace in (date_rules, time_rules):
        for attr, value in vars(namespace).items():
            if isinstance(value, staticmethod):
                names[id(value.__func__)] = f"{namespace.__name__}.{attr}"
    return names


_FACTORY_NAMES: Final = _factory_names()


def _check_rule(rule: Any, argument: str) -> None:
    """Reject what is not a rule instance, with a hint when a factory was not called."""
    if isinstance(rule, EventRule):
        return
    name = _FACTORY_NAMES.get(id(rule))
    if name is None and inspect.isclass(rule) and issubclass(rule, EventRule):
        name = rule.__name__
    if name is not None:
        message = f"invalid {argument} {name}: did you mean {name}()?"
    else:
        message = f"invalid {argument} {rule!r}: expected a rule such as " + (
            "date_rules.every_day()" if argument == "date_rule" else "time_rules.market_open()"
        )
    raise ParameterValidationError(message, context={"argument": argument, "value": rule})


def make_eventrule(
    date_rule: EventRule,
    time_rule: EventRule,
    cal: ExchangeCalendar,
    half_days: bool = True,
    *,
    day_period: str = "session",
) -> OncePerDay:
    """Combine a date rule and a time rule into a rule that fires at most once per session.

    Parameters
    ----------
    date_rule, time_rule
        Called factories, e.g. ``date_rules.every_day()``, ``time_rules.market_open()``.
        With daily data pass ``time_rules.every_minute()`` (or use
        :func:`scheduled_event`, which does).
    cal
        The trading calendar whose sessions the rules follow.
    half_days
        False skips sessions that close early.
    day_period
        ``"session"`` or ``"24h"`` (zipline's day, which with daily data skips
        half days that follow a full day); see :class:`OncePerDay`.

    Raises
    ------
    ParameterValidationError
        If a rule is not a rule instance (e.g. ``date_rules.every_day`` without
        parentheses), naming the argument.

    Examples
    --------
    >>> import pandas as pd
    >>> from rustybt.calendars import get_calendar
    >>> cal = get_calendar("XNYS")
    >>> rule = make_eventrule(date_rules.every_day(), time_rules.market_close(), cal, False)
    >>> rule.should_trigger(pd.Timestamp("2024-11-29 17:59", tz="UTC"))  # half day
    False
    >>> make_eventrule(date_rules.every_day, time_rules.market_open(), cal)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rustybt.exceptions.ParameterValidationError: ...: did you mean date_rules.every_day()?
    """
    _check_rule(date_rule, "date_rule")
    _check_rule(time_rule, "time_rule")
    for name, rule in (("date_rule", date_rule), ("time_rule", time_rule)):
        if not isinstance(rule, StatelessRule):
            raise ParameterValidationError(
                f"{name} must be a stateless rule, got {rule!r}",
                context={"argument": name, "value": rule},
            )
    assert isinstance(date_rule, StatelessRule) and isinstance(time_rule, StatelessRule)
    inner: StatelessRule = date_rule & time_rule
    if not half_days:
        inner = inner & NotHalfDay()
    rule = OncePerDay(inner, period=day_period)
    # Setting the calendar threads it down to every part.
    rule.cal = cal
    return rule


def scheduled_event(
    func: Callback,
    date_rule: EventRule | None = None,
    time_rule: EventRule | None = None,
    half_days: bool = True,
    calendar: CalendarSentinel | ExchangeCalendar | None = None,
    *,
    trading_calendar: ExchangeCalendar,
    data_frequency: str,
    day_period: str = "session",
) -> Event:
    """The :class:`Event` that ``schedule_function`` adds, with zipline's defaults.

    * no date rule: every day; no time rule: every minute (so the first bar);
    * daily data: the time rule is checked as in minute mode, then ignored
      (every day's single bar);
    * a built-in rule that can fire in no session of the calendar (an offset
      longer than the session, ``time_rules.market_close(hours=9)`` on XNYS) is
      refused;
    * a time rule passed as ``date_rule`` without a ``time_rule`` is taken as
      the time rule, with a warning (zipline warns and, with daily data, never
      runs the function; here it runs daily);
    * ``calendar``: None (``trading_calendar``) or a :class:`calendars` member.

    Parameters
    ----------
    func
        ``func(context, data)``.
    date_rule, time_rule, half_days, calendar
        As ``schedule_function``.
    trading_calendar
        The algorithm's calendar.
    data_frequency
        ``"daily"`` or ``"minute"``.
    day_period
        See :func:`make_eventrule`.

    Examples
    --------
    >>> from rustybt.calendars import get_calendar
    >>> event = scheduled_event(
    ...     print, date_rules.week_start(), time_rules.market_open(minutes=30),
    ...     trading_calendar=get_calendar("XNYS"), data_frequency="daily",
    ... )
    >>> event.rule
    OncePerDay((NthTradingDayOfWeek(0) & Always()))
    """
    if not callable(func):
        raise ParameterValidationError(
            f"schedule_function needs a function, got {func!r}",
            context={"argument": "func", "value": func},
        )
    if data_frequency not in ("daily", "minute"):
        raise ParameterValidationError(
            f"data_frequency must be 'daily' or 'minute', got {data_frequency!r}",
            context={"argument": "data_frequency", "value": data_frequency},
        )
    if isinstance(date_rule, (AfterOpen, BeforeClose)) and time_rule is None:
        warnings.warn(
            "schedule_function got a time rule as date_rule; pass it as time_rule= "
            "when no date rule is given",
            UserWarning,
            stacklevel=3,
        )
        date_rule, time_rule = None, date_rule
    date_rule = date_rules.every_day() if date_rule is None else date_rule
    time_rule = time_rules.every_minute() if time_rule is None else time_rule
    cal = resolve_calendar(calendar, trading_calendar)
    # Both rules are checked in either mode, so that a script scheduled in daily
    # mode does not fail only when run on minutes.
    for name, rule in (("date_rule", date_rule), ("time_rule", time_rule)):
        _check_rule(rule, name)
        _check_can_fire(rule, name, cal)
    if data_frequency == "daily":
        time_rule = time_rules.every_minute()  # one bar a day: the time of day is moot
    return Event(make_eventrule(date_rule, time_rule, cal, half_days, day_period=day_period), func)


def _check_can_fire(rule: EventRule, argument: str, cal: ExchangeCalendar) -> None:
    """Refuse a built-in rule that fires in no session of ``cal`` (an offset past the session).

    Rules without a plan (user-written ones) are not judged.

    Raises
    ------
    ParameterValidationError
        Naming the argument, the rule, the calendar and its longest session.
    """
    index = session_index(cal)
    plan = plan_of(rule, index)
    if plan is None or len(index) == 0 or plan[0].any():
        return
    longest = int((index.closes_ns - index.first_minutes_ns).max()) // MINUTE_NS + 1
    raise ParameterValidationError(
        f"{argument} {rule!r} can never fire on calendar {cal.name}: its sessions have at "
        f"most {longest} one-minute bars ({longest // 60}h{longest % 60:02d}); use a "
        "smaller offset",
        context={"argument": argument, "rule": repr(rule), "calendar": cal.name},
    )
