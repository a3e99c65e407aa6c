"""Scheduling rules against hand-checked XNYS dates and times.

January 2024: Jan 1 (Monday) and Jan 15 (MLK day, Monday) are holidays, so
the weeks start on Tuesdays Jan 2 and Jan 16; the month's last sessions are
Jan 30 and Jan 31. In winter 9:30 New York = 14:30 UTC, the first bar is
14:31 UTC and the close 21:00 UTC; in summer everything is an hour earlier.
2024-11-29 and 2024-07-03 close at 13:00 New York (18:00 / 17:00 UTC).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rustybt.calendars import get_calendar
from rustybt.exceptions import ParameterValidationError
from rustybt.sim.events import (
    AfterOpen,
    Always,
    BeforeClose,
    Event,
    EventManager,
    EventRule,
    NthTradingDayOfWeek,
    OncePerDay,
    StatelessRule,
    calendars,
    date_rules,
    make_eventrule,
    resolve_calendar,
    scheduled_event,
    session_index,
    time_rules,
)

CAL = get_calendar("XNYS")
JANUARY = CAL.sessions_in_range("2024-01-01", "2024-01-31")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def daily_firings(date_rule: EventRule, sessions: pd.DatetimeIndex, **kwargs: object) -> list[str]:
    """Sessions on which the rule fires in daily mode (one bar, at the close)."""
    rule = make_eventrule(date_rule, time_rules.every_minute(), CAL, **kwargs)  # type: ignore[arg-type]
    closes = CAL.closes.reindex(sessions)
    return [
        str(s.date())
        for s, close in zip(sessions, closes, strict=True)
        if rule.should_trigger(close)
    ]


def minute_firings(rule: EventRule, sessions: list[str]) -> list[pd.Timestamp]:
    return [m for s in sessions for m in CAL.session_minutes(s) if rule.should_trigger(m)]


@pytest.mark.parametrize(
    ("date_rule", "expected"),
    [
        (date_rules.every_day(), [str(s.date()) for s in JANUARY]),
        (
            date_rules.week_start(),
            ["2024-01-02", "2024-01-08", "2024-01-16", "2024-01-22", "2024-01-29"],
        ),
        (
            date_rules.week_start(days_offset=1),
            ["2024-01-03", "2024-01-09", "2024-01-17", "2024-01-23", "2024-01-30"],
        ),
        (date_rules.week_start(days_offset=4), ["2024-01-12", "2024-01-26"]),
        (date_rules.week_end(), ["2024-01-05", "2024-01-12", "2024-01-19", "2024-01-26"]),
        (
            date_rules.week_end(days_offset=3),
            ["2024-01-02", "2024-01-09", "2024-01-16", "2024-01-23", "2024-01-30"],
        ),
        (date_rules.month_start(), ["2024-01-02"]),
        (date_rules.month_start(days_offset=3), ["2024-01-05"]),
        (date_rules.month_end(), ["2024-01-31"]),
        (date_rules.month_end(days_offset=1), ["2024-01-30"]),
        (date_rules.month_end(days_offset=20), ["2024-01-02"]),
    ],
)
def test_date_rules_in_january_2024(date_rule: EventRule, expected: list[str]) -> None:
    # week_end fires on Friday Feb 2 for the last week, outside January; the
    # week of MLK day has 4 sessions, so week_start(4) skips it.
    assert daily_firings(date_rule, JANUARY) == expected


def test_minute_rules_fire_once_at_their_minute() -> None:
    sessions = ["2024-01-12", "2024-01-16", "2024-07-01"]
    cases = [
        (time_rules.market_open(), ["2024-01-16 14:31", "2024-07-01 13:31"]),
        (time_rules.market_open(minutes=30), ["2024-01-16 15:00", "2024-07-01 14:00"]),
        (time_rules.market_open(hours=1, minutes=15), ["2024-01-16 15:45", "2024-07-01 14:45"]),
        (time_rules.market_close(), ["2024-01-16 20:59", "2024-07-01 19:59"]),
        (time_rules.market_close(hours=1), ["2024-01-16 20:00", "2024-07-01 19:00"]),
        (
            time_rules.market_close(offset=datetime.timedelta(minutes=389)),
            ["2024-01-16 14:31", "2024-07-01 13:31"],
        ),
        (time_rules.every_minute(), ["2024-01-16 14:31", "2024-07-01 13:31"]),
    ]
    for time_rule, expected in cases:
        rule = make_eventrule(date_rules.week_start(), time_rule, CAL)
        assert minute_firings(rule, sessions) == [ts(t) for t in expected], time_rule
    # 390 minutes before the close is 9:30 New York, before the first bar.
    rule = make_eventrule(date_rules.every_day(), time_rules.market_close(minutes=390), CAL)
    assert minute_firings(rule, ["2024-01-16"]) == []


def test_half_days() -> None:
    sessions = ["2024-11-27", "2024-11-29"]
    close = make_eventrule(date_rules.every_day(), time_rules.market_close(), CAL)
    assert minute_firings(close, sessions) == [ts("2024-11-27 20:59"), ts("2024-11-29 17:59")]
    skip = make_eventrule(date_rules.every_day(), time_rules.market_close(), CAL, half_days=False)
    assert minute_firings(skip, sessions) == [ts("2024-11-27 20:59")]
    days = CAL.sessions_in_range("2024-11-25", "2024-11-29")
    assert daily_firings(date_rules.every_day(), days, half_days=False) == [
        "2024-11-25",
        "2024-11-26",
        "2024-11-27",
    ]
    # Offsets longer than the 210-minute session never fire in it.
    late = make_eventrule(date_rules.every_day(), time_rules.market_open(hours=4), CAL)
    assert minute_firings(late, sessions) == [ts("2024-11-27 18:30")]
    early = make_eventrule(date_rules.every_day(), time_rules.market_close(hours=4), CAL)
    assert minute_firings(early, sessions) == [ts("2024-11-27 17:00")]


def test_day_period_24h_reproduces_ziplines_daily_half_day_skip() -> None:
    days = CAL.sessions_in_range("2024-07-01", "2024-07-05")
    every = date_rules.every_day()
    assert daily_firings(every, days) == ["2024-07-01", "2024-07-02", "2024-07-03", "2024-07-05"]
    zipline_like = daily_firings(date_rules.every_day(), days, day_period="24h")
    assert zipline_like == ["2024-07-01", "2024-07-02", "2024-07-05"]
    # In minute mode both agree.
    for period in ("session", "24h"):
        rule = make_eventrule(every, time_rules.market_open(), CAL, day_period=period)
        assert len(minute_firings(rule, ["2024-07-02", "2024-07-03", "2024-07-05"])) == 3


def test_once_per_day_resets_each_session() -> None:
    rule = OncePerDay(Always())
    rule.cal = CAL
    assert minute_firings(rule, ["2024-01-02", "2024-01-03"]) == [
        ts("2024-01-02 14:31"),
        ts("2024-01-03 14:31"),
    ]
    assert not rule.should_trigger(ts("2024-01-06 12:00"))  # a Saturday: no session
    with pytest.raises(ParameterValidationError, match="period"):
        OncePerDay(period="week")


def test_rule_without_calendar_is_a_clear_error() -> None:
    with pytest.raises(ParameterValidationError, match="no trading calendar"):
        AfterOpen().should_trigger(ts("2024-01-02 14:31"))


def test_stateless_rules_directly_and_composed() -> None:
    rule = date_rules.week_start() & time_rules.market_open(minutes=30)
    rule.cal = CAL
    assert rule.should_trigger(ts("2024-01-16 15:00"))
    assert not rule.should_trigger(ts("2024-01-16 15:01"))
    assert not rule.should_trigger(ts("2024-01-17 15:00"))
    assert not rule.should_trigger(ts("2024-01-13 15:00"))  # Saturday
    plain = datetime.datetime(2024, 1, 22, 15, 0, tzinfo=datetime.UTC)
    assert rule.should_trigger(plain)  # type: ignore[arg-type]


class EvenMinutes(StatelessRule):
    """A user rule with no plan: only its should_trigger knows."""

    def should_trigger(self, dt: pd.Timestamp) -> bool:
        return dt.minute % 2 == 0


class LateAfterOpen(AfterOpen):
    """A user override of a built-in: its own should_trigger must win over the plan."""

    def should_trigger(self, dt: pd.Timestamp) -> bool:
        return dt.hour == 16 and dt.minute == 5


def test_user_rules_compose_with_builtins() -> None:
    rule = make_eventrule(date_rules.week_start(), EvenMinutes(), CAL)
    assert minute_firings(rule, ["2024-01-16", "2024-01-17"]) == [ts("2024-01-16 14:32")]
    inner = date_rules.every_day() & EvenMinutes()
    assert isinstance(inner, StatelessRule)
    override = make_eventrule(date_rules.every_day(), LateAfterOpen(), CAL)
    assert minute_firings(override, ["2024-01-16"]) == [ts("2024-01-16 16:05")]
    # A rule of user rules only needs no calendar at all.
    both = EvenMinutes() & EvenMinutes()
    assert both.should_trigger(ts("2024-01-16 14:32"))


def test_event_manager_runs_events_in_order() -> None:
    calls: list[tuple[str, object, object]] = []

    def callback(name: str) -> object:
        return lambda context, data: calls.append((name, context, data))

    manager = EventManager()
    opening = make_eventrule(date_rules.every_day(), time_rules.market_open(), CAL)
    closing = make_eventrule(date_rules.every_day(), time_rules.market_close(), CAL)
    manager.add_event(Event(opening, callback("open")))  # type: ignore[arg-type]
    manager.add_event(Event(closing, callback("close")))  # type: ignore[arg-type]
    first = make_eventrule(date_rules.every_day(), time_rules.every_minute(), CAL)
    manager.add_event(Event(first, callback("first")), prepend=True)  # type: ignore[arg-type]
    manager.add_event(Event(Always()))  # no callback: does nothing
    assert len(manager) == 4 and manager.events[0].rule is first
    for minute in CAL.session_minutes("2024-01-02"):
        manager.handle_data("ctx", "data", minute)
    assert calls == [("first", "ctx", "data"), ("open", "ctx", "data"), ("close", "ctx", "data")]


def test_event_manager_context() -> None:
    entered: list[object] = []

    @contextmanager
    def create_context(data: object) -> Iterator[None]:
        entered.append(data)
        yield

    manager = EventManager(create_context)
    manager.add_event(Event(make_eventrule(date_rules.every_day(), Always(), CAL)))
    manager.handle_data(None, "bar-data", ts("2024-01-02 14:31"))
    assert entered == ["bar-data"]


@pytest.mark.parametrize(
    ("factory", "value", "message"),
    [
        (date_rules.week_start, 5, r"date_rules.week_start\(days_offset=5\): .* between 0 and 4"),
        (date_rules.week_end, -1, r"date_rules.week_end\(days_offset=-1\): .* between 0 and 4"),
        (date_rules.month_start, 23, r"between 0 and 22"),
        (date_rules.month_end, 1.5, r"whole number of days"),
        (date_rules.month_end, "1", r"must be an int"),
        (date_rules.month_end, True, r"must be an int"),
    ],
)
def test_days_offset_validation(factory: object, value: object, message: str) -> None:
    with pytest.raises(ParameterValidationError, match=message) as info:
        factory(days_offset=value)  # type: ignore[operator]
    assert info.value.context["argument"] == "days_offset"


def test_integral_float_days_offset_warns() -> None:
    with pytest.warns(UserWarning, match="expected an int"):
        rule = date_rules.month_end(days_offset=1.0)  # type: ignore[arg-type]
    assert daily_firings(rule, JANUARY) == ["2024-01-30"]


@pytest.mark.parametrize(
    ("kwargs", "argument", "message"),
    [
        ({"minutes": 0}, "minutes", "between 1 minute and 12 hours"),
        ({"hours": 13}, "hours", "between 1 minute and 12 hours"),
        ({"hours": 1, "minutes": 700}, "hours/minutes", "between 1 minute and 12 hours"),
        ({"offset": datetime.timedelta(seconds=90)}, "offset", "whole number of minutes"),
        ({"offset": 30}, "offset", "pass minutes=30"),
        ({"offset": datetime.timedelta(minutes=5), "minutes": 5}, "offset", "not both"),
        ({"minutes": "5"}, "minutes", "must be a number"),
    ],
)
def test_time_offset_validation(kwargs: dict[str, object], argument: str, message: str) -> None:
    for factory in (time_rules.market_open, time_rules.market_close):
        with pytest.raises(ParameterValidationError, match=message) as info:
            factory(**kwargs)  # type: ignore[arg-type]
        assert info.value.context["argument"] == argument
        assert factory.__name__ in str(info.value)


def test_offsets_at_the_bounds() -> None:
    assert time_rules.market_open(hours=12).offset == datetime.timedelta(hours=12)  # type: ignore[attr-defined]
    assert time_rules.market_close(hours=0.5).offset == datetime.timedelta(minutes=30)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("date_rule", "time_rule", "argument", "hint"),
    [
        (date_rules.every_day, Always(), "date_rule", "did you mean date_rules.every_day()?"),
        (date_rules.week_start, Always(), "date_rule", "did you mean date_rules.week_start()?"),
        (Always(), time_rules.market_open, "time_rule", "did you mean time_rules.market_open()?"),
        (Always(), time_rules.every_minute, "time_rule", "did you mean time_rules.every_minute()?"),
        (Always(), AfterOpen, "time_rule", "did you mean AfterOpen()?"),
        ("daily", Always(), "date_rule", "expected a rule such as date_rules.every_day()"),
        (Always(), OncePerDay(), "time_rule", "must be a stateless rule"),
    ],
)
def test_uncalled_or_wrong_rules(
    date_rule: object, time_rule: object, argument: str, hint: str
) -> None:
    with pytest.raises(ParameterValidationError) as info:
        make_eventrule(date_rule, time_rule, CAL)  # type: ignore[arg-type]
    assert hint in str(info.value)
    assert argument in str(info.value)
    assert info.value.context["argument"] == argument


def test_scheduled_event_defaults_and_daily_mode() -> None:
    def fire(event: Event, dts: list[pd.Timestamp]) -> list[pd.Timestamp]:
        return [dt for dt in dts if event.rule.should_trigger(dt)]

    closes = [CAL.session_close(s) for s in JANUARY[:3]]
    # Daily: the time rule is checked, then ignored (one bar a day).
    daily = scheduled_event(
        print,
        date_rules.every_day(),
        time_rules.market_open(minutes=30),
        trading_calendar=CAL,
        data_frequency="daily",
    )
    assert fire(daily, closes) == closes
    # Minute: no time rule means every minute, i.e. the first bar.
    minute = scheduled_event(print, trading_calendar=CAL, data_frequency="minute")
    bars = list(CAL.session_minutes("2024-01-02"))
    assert fire(minute, bars) == [ts("2024-01-02 14:31")]
    # A time rule given as the date rule is taken as the time rule.
    with pytest.warns(UserWarning, match="time_rule="):
        swapped = scheduled_event(
            print, time_rules.market_close(), trading_calendar=CAL, data_frequency="daily"
        )
    assert fire(swapped, closes) == closes
    with pytest.warns(UserWarning):
        swapped = scheduled_event(
            print, time_rules.market_close(), trading_calendar=CAL, data_frequency="minute"
        )
    assert fire(swapped, bars) == [ts("2024-01-02 20:59")]


def test_scheduled_event_validation_and_calendars() -> None:
    assert resolve_calendar(calendars.US_EQUITIES, None).name == "XNYS"
    assert resolve_calendar(None, CAL) is CAL
    assert resolve_calendar(CAL, None) is CAL
    with pytest.raises(ParameterValidationError, match="calendar must be"):
        scheduled_event(print, calendar="XNYS", trading_calendar=CAL, data_frequency="daily")
    with pytest.raises(ParameterValidationError, match="needs a function"):
        scheduled_event(None, trading_calendar=CAL, data_frequency="daily")  # type: ignore[arg-type]
    with pytest.raises(ParameterValidationError, match="data_frequency"):
        scheduled_event(print, trading_calendar=CAL, data_frequency="tick")


def test_session_index_weeks_start_on_monday() -> None:
    index = session_index(get_calendar("24/7"))
    i = index.locate(ts("2024-01-07 12:00").value)  # Sunday
    assert str(index.sessions[i].date()) == "2024-01-07"
    assert index.week_position[i] == 6 and index.week_position_from_end[i] == 0
    assert index.week_position[i + 1] == 0  # Monday
    rule = make_eventrule(date_rules.week_start(), time_rules.every_minute(), get_calendar("24/7"))
    assert rule.should_trigger(ts("2024-01-08 00:01")) and not rule.should_trigger(
        ts("2024-01-08 00:02")
    )
    assert index.locate(ts("1900-01-01").value) == -1


# --- the vectorized plan against a pandas reference --------------------------------

REFERENCE = CAL.sessions_in_range("2019-01-01", "2024-12-31")


@functools.cache
def _reference(kind: str, n: int) -> frozenset[str]:
    """Sessions a date rule picks, by grouping calendar sessions with pandas.

    Groups are computed over all calendar sessions, as the rules do, then
    restricted to the reference range.
    """
    sessions = pd.Series(CAL.sessions)
    iso = CAL.sessions.isocalendar()
    if kind.startswith("week"):
        keys = [iso["year"].to_numpy(), iso["week"].to_numpy()]
    else:
        keys = [CAL.sessions.year, CAL.sessions.month]
    nth = sessions.groupby(keys).nth(n if kind.endswith("start") else -n - 1)
    picked = pd.DatetimeIndex(nth.to_numpy().ravel())
    return frozenset(str(s.date()) for s in picked if REFERENCE[0] <= s <= REFERENCE[-1])


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["week_start", "week_end", "month_start", "month_end"]),
    n=st.integers(0, 4),
    half_days=st.booleans(),
)
def test_date_rules_match_a_pandas_reference(kind: str, n: int, half_days: bool) -> None:
    expected = set(_reference(kind, n))
    if not half_days:
        expected -= {str(s.date()) for s in CAL.early_closes}
    got = daily_firings(getattr(date_rules, kind)(days_offset=n), REFERENCE, half_days=half_days)
    assert set(got) == expected
    assert got == sorted(got)


@settings(max_examples=20, deadline=None)
@given(
    opening=st.booleans(),
    offset=st.integers(1, 12 * 60),
    day=st.sampled_from(["2024-01-16", "2024-07-03", "2024-11-29", "2024-03-11"]),
)
def test_time_rules_match_arithmetic(opening: bool, offset: int, day: str) -> None:
    factory = time_rules.market_open if opening else time_rules.market_close
    rule = make_eventrule(date_rules.every_day(), factory(minutes=offset), CAL)
    bars = CAL.session_minutes(day)
    if opening:
        target = bars[0] + pd.Timedelta(minutes=offset - 1)
    else:
        target = bars[-1] - pd.Timedelta(minutes=offset)
    expected = [target] if bars[0] <= target <= bars[-1] else []
    assert minute_firings(rule, [day]) == expected


def test_nth_trading_day_of_week_class_validates() -> None:
    with pytest.raises(ParameterValidationError, match="NthTradingDayOfWeek"):
        NthTradingDayOfWeek(7)
    with pytest.raises(ParameterValidationError, match="not both"):
        BeforeClose(datetime.timedelta(minutes=1), minutes=1)


@pytest.mark.parametrize("frequency", ["daily", "minute"])
def test_rules_are_checked_the_same_way_in_daily_and_minute_mode(frequency: str) -> None:
    # zipline ignores the time rule with daily data, even an uncalled factory.
    with pytest.raises(ParameterValidationError, match=r"did you mean time_rules.market_open\(\)"):
        scheduled_event(
            print,
            date_rules.every_day(),
            time_rules.market_open,  # type: ignore[arg-type]
            trading_calendar=CAL,
            data_frequency=frequency,
        )
    with pytest.raises(ParameterValidationError, match="invalid date_rule 'monthly'"):
        scheduled_event(print, "monthly", trading_calendar=CAL, data_frequency=frequency)  # type: ignore[arg-type]


@pytest.mark.parametrize("frequency", ["daily", "minute"])
@pytest.mark.parametrize(
    ("rule", "shown"),
    [
        (time_rules.market_close(hours=9), "BeforeClose(minutes=540)"),
        (time_rules.market_open(hours=7), "AfterOpen(minutes=420)"),
        (time_rules.market_close(minutes=390), "BeforeClose(minutes=390)"),
    ],
)
def test_a_time_rule_that_can_never_fire_is_refused_when_scheduled(
    frequency: str, rule: EventRule, shown: str
) -> None:
    with pytest.raises(ParameterValidationError) as raised:
        scheduled_event(print, None, rule, trading_calendar=CAL, data_frequency=frequency)
    assert str(raised.value) == (
        f"time_rule {shown} can never fire on calendar XNYS: its sessions have at most 390 "
        "one-minute bars (6h30); use a smaller offset"
    )
    assert raised.value.context["argument"] == "time_rule"


def test_the_longest_offsets_that_fire_are_accepted() -> None:
    bars = list(CAL.session_minutes("2024-01-02"))
    for rule, expected in (
        (time_rules.market_open(minutes=390), "2024-01-02 21:00"),
        (time_rules.market_close(minutes=389), "2024-01-02 14:31"),
    ):
        event = scheduled_event(print, None, rule, trading_calendar=CAL, data_frequency="minute")
        assert [dt for dt in bars if event.rule.should_trigger(dt)] == [ts(expected)]
