"""The simulation clock against hand-written event sequences.

XNYS facts used below (UTC): in winter a session's bars run 14:31 .. 21:00
(390), 2024-11-29 is a half day closing 13:00 New York = 18:00 UTC (210
bars), before_trading_start is 8:45 New York = 13:45 UTC (12:45 in summer),
and 2024-11-28 (Thanksgiving) is not a session.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

from rustybt.calendars import get_calendar
from rustybt.exceptions import ParameterValidationError
from rustybt.sim import (
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

CAL = get_calendar("XNYS")
TWO_SESSIONS = pd.DatetimeIndex(["2024-11-27", "2024-11-29"])


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def minutes(first: str, last: str) -> list[pd.Timestamp]:
    return list(pd.date_range(ts(first), ts(last), freq="min"))


def test_event_values_are_ziplines() -> None:
    assert [int(e) for e in (BAR, SESSION_START, SESSION_END, MINUTE_END)] == [0, 1, 2, 3]
    assert BEFORE_TRADING_START_BAR == 4
    assert SimulationEvent(2) is SESSION_END


def test_daily_two_sessions_with_half_day() -> None:
    events = list(make_clock(CAL, TWO_SESSIONS, "daily", "daily"))
    assert events == [
        (ts("2024-11-27 00:00"), SESSION_START),
        (ts("2024-11-27 13:45"), BEFORE_TRADING_START_BAR),
        (ts("2024-11-27 21:00"), BAR),
        (ts("2024-11-27 21:00"), SESSION_END),
        (ts("2024-11-29 00:00"), SESSION_START),
        (ts("2024-11-29 13:45"), BEFORE_TRADING_START_BAR),
        (ts("2024-11-29 18:00"), BAR),
        (ts("2024-11-29 18:00"), SESSION_END),
    ]
    assert all(isinstance(e, SimulationEvent) for _, e in events)
    assert all(dt.tz is not None and dt.utcoffset() == datetime.timedelta(0) for dt, _ in events)


def test_daily_ignores_minute_emission() -> None:
    events = list(make_clock(CAL, TWO_SESSIONS, "daily", "minute"))
    assert MINUTE_END not in {e for _, e in events}
    assert len(events) == 8


def test_minute_two_sessions_with_half_day() -> None:
    events = list(make_clock(CAL, TWO_SESSIONS, "minute", "daily"))
    expected = (
        [
            (ts("2024-11-27 00:00"), SESSION_START),
            (ts("2024-11-27 13:45"), BEFORE_TRADING_START_BAR),
        ]
        + [(m, BAR) for m in minutes("2024-11-27 14:31", "2024-11-27 21:00")]
        + [(ts("2024-11-27 21:00"), SESSION_END)]
        + [
            (ts("2024-11-29 00:00"), SESSION_START),
            (ts("2024-11-29 13:45"), BEFORE_TRADING_START_BAR),
        ]
        + [(m, BAR) for m in minutes("2024-11-29 14:31", "2024-11-29 18:00")]
        + [(ts("2024-11-29 18:00"), SESSION_END)]
    )
    assert events == expected
    assert sum(1 for _, e in events if e == BAR) == 390 + 210


def test_minute_emission_pairs_bar_and_minute_end() -> None:
    events = list(make_clock(CAL, TWO_SESSIONS, "minute", "minute"))
    assert len(events) == 2 * 3 + 2 * (390 + 210)
    assert events[:6] == [
        (ts("2024-11-27 00:00"), SESSION_START),
        (ts("2024-11-27 13:45"), BEFORE_TRADING_START_BAR),
        (ts("2024-11-27 14:31"), BAR),
        (ts("2024-11-27 14:31"), MINUTE_END),
        (ts("2024-11-27 14:32"), BAR),
        (ts("2024-11-27 14:32"), MINUTE_END),
    ]
    assert events[-3:] == [
        (ts("2024-11-29 18:00"), BAR),
        (ts("2024-11-29 18:00"), MINUTE_END),
        (ts("2024-11-29 18:00"), SESSION_END),
    ]


def test_summer_session_shifts_with_dst() -> None:
    events = list(make_clock(CAL, ["2024-07-01"], "minute"))
    assert events[1] == (ts("2024-07-01 12:45"), BEFORE_TRADING_START_BAR)
    assert events[2] == (ts("2024-07-01 13:31"), BAR)
    assert events[-1] == (ts("2024-07-01 20:00"), SESSION_END)


def _manual_clock(bts: str, **kwargs: object) -> list[tuple[str, str]]:
    clock = SimulationClock(
        pd.DatetimeIndex(["2024-01-02"]),
        pd.DatetimeIndex(["2024-01-02 14:31"], tz="UTC"),
        pd.DatetimeIndex(["2024-01-02 14:34"], tz="UTC"),
        pd.DatetimeIndex([bts], tz="UTC"),
        **kwargs,  # type: ignore[arg-type]
    )
    return [(dt.strftime("%H:%M:%S"), e.name) for dt, e in clock]


def test_before_trading_start_among_the_minutes() -> None:
    # Between two bars: after the earlier one.
    assert _manual_clock("2024-01-02 14:32:30") == [
        ("00:00:00", "SESSION_START"),
        ("14:31:00", "BAR"),
        ("14:32:00", "BAR"),
        ("14:32:30", "BEFORE_TRADING_START_BAR"),
        ("14:33:00", "BAR"),
        ("14:34:00", "BAR"),
        ("14:34:00", "SESSION_END"),
    ]
    # On a bar: before it.
    assert _manual_clock("2024-01-02 14:33", minute_emission=True)[3:6] == [
        ("14:32:00", "BAR"),
        ("14:32:00", "MINUTE_END"),
        ("14:33:00", "BEFORE_TRADING_START_BAR"),
    ]
    # At the close: before the last bar.
    assert _manual_clock("2024-01-02 14:34")[-3:] == [
        ("14:34:00", "BEFORE_TRADING_START_BAR"),
        ("14:34:00", "BAR"),
        ("14:34:00", "SESSION_END"),
    ]


def test_before_trading_start_after_close_is_not_emitted() -> None:
    names = [name for _, name in _manual_clock("2024-01-02 14:35")]
    assert names == ["SESSION_START", "BAR", "BAR", "BAR", "BAR", "SESSION_END"]


def test_daily_mode_ignores_given_opens() -> None:
    clock = SimulationClock(
        ["2024-01-02"],
        ["2024-01-02 14:31"],
        ["2024-01-02 21:00"],
        ["2024-01-02 13:45"],
        minute_emission=True,
        data_frequency="daily",
    )
    assert [e for _, e in clock] == [SESSION_START, BEFORE_TRADING_START_BAR, BAR, SESSION_END]
    assert not clock.minute_emission


def test_before_trading_start_never_after_the_open() -> None:
    # 8:45 New York is mid-session on 24/7 (13:45 UTC): it moves to the open.
    cal = get_calendar("24/7")
    assert before_trading_start_minutes(cal, ["2024-01-02"])[0] == ts("2024-01-02 00:00")
    events = list(make_clock(cal, ["2024-01-02"], "minute"))
    assert events[:3] == [
        (ts("2024-01-02 00:00"), SESSION_START),
        (ts("2024-01-02 00:00"), BEFORE_TRADING_START_BAR),
        (ts("2024-01-02 00:01"), BAR),
    ]
    assert events[-2:] == [(ts("2024-01-03 00:00"), BAR), (ts("2024-01-03 00:00"), SESSION_END)]
    assert len(events) == 1440 + 3
    # On XNYS it stays at 8:45 New York, a custom time is honoured.
    got = before_trading_start_minutes(CAL, ["2024-01-02"], datetime.time(9, 0))
    assert got[0] == ts("2024-01-02 14:00")


def test_accepts_utc_sessions_and_helpers() -> None:
    clock = make_clock(CAL, pd.DatetimeIndex(["2024-11-27", "2024-11-29"], tz="UTC"), "minute")
    assert len(clock) == 2
    assert list(clock.sessions) == list(TWO_SESSIONS)
    bars = clock.bar_minutes_ns(1)
    assert len(bars) == 210
    assert bars[0] == ts("2024-11-29 14:31").value and bars[-1] == ts("2024-11-29 18:00").value
    assert not clock.sessions_ns.flags.writeable
    assert "2 sessions" in repr(clock)
    assert list(make_clock(CAL, [], "daily")) == []


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"data_frequency": "hourly"}, "data_frequency"),
        ({"emission_rate": "second"}, "emission_rate"),
        ({"sessions": ["2024-11-27", "2024-11-28"]}, "sessions"),
    ],
)
def test_make_clock_validation(kwargs: dict[str, object], argument: str) -> None:
    call: dict[str, object] = {"sessions": TWO_SESSIONS, **kwargs}
    with pytest.raises(ParameterValidationError) as info:
        make_clock(CAL, **call)  # type: ignore[arg-type]
    assert info.value.context["argument"] == argument
    if argument == "sessions":
        assert "2024-11-28 is not a session" in str(info.value)


def test_clock_validation() -> None:
    one = ["2024-01-02"]
    with pytest.raises(ParameterValidationError, match="market_closes has 2 entries"):
        SimulationClock(one, one, ["2024-01-02 21:00", "2024-01-03 21:00"], one)
    with pytest.raises(ParameterValidationError, match="strictly increasing"):
        two = ["2024-01-03", "2024-01-02"]
        SimulationClock(two, two, two, two)
    with pytest.raises(ParameterValidationError, match="opens after it closes"):
        SimulationClock(one, ["2024-01-02 21:00"], ["2024-01-02 14:31"], one)
    with pytest.raises(ParameterValidationError, match="data_frequency"):
        SimulationClock(one, one, one, one, data_frequency="weekly")
    with pytest.raises(ParameterValidationError, match="NaT"):
        SimulationClock(one, [pd.NaT], one, one)


def test_int64_inputs_are_nanoseconds() -> None:
    ns = np.array([ts("2024-01-02 14:31").value], dtype=np.int64)
    clock = SimulationClock(np.array([ts("2024-01-02").value]), ns, ns, ns)
    assert [e for _, e in clock] == [SESSION_START, BEFORE_TRADING_START_BAR, BAR, SESSION_END]
