"""Tests of rustybt.data.validation: every OHLCV and adjustment rule, and the error format."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rustybt.calendars import get_calendar
from rustybt.data.plausibility import PriceLimits
from rustybt.data.validation import (
    OHLCV_COLUMNS,
    invalid_rows_error,
    screen_bar_arrays,
    validate_adjustments,
    validate_bars,
)
from rustybt.exceptions import DataValidationError

CAL = get_calendar("XNYS")
SESSIONS = CAL.sessions_in_range("2020-01-02", "2020-03-31")


def daily_bars(n: int = 10, start: int = 0) -> pd.DataFrame:
    """Valid daily bars on XNYS sessions, volume as int like a CSV gives it."""
    close = np.round(10.0 + np.arange(n, dtype=float) * 0.1, 2)
    return pd.DataFrame(
        {
            "open": np.round(close - 0.05, 2),
            "high": np.round(close + 0.5, 2),
            "low": np.round(close - 0.5, 2),
            "close": close,
            "volume": np.arange(1, n + 1) * 100,
        },
        index=SESSIONS[start : start + n],
    )


def minute_bars(n: int = 30) -> pd.DataFrame:
    minutes = CAL.session_minutes("2020-01-02")[:n]
    return pd.DataFrame(
        {"open": 1.0, "high": 1.2, "low": 0.9, "close": 1.1, "volume": 5.0}, index=minutes
    )


def check(frame: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    options: dict[str, object] = {
        "frequency": "daily",
        "valid_index": SESSIONS,
        "source": "/x/daily/AAPL.csv",
    }
    options.update(kwargs)
    return validate_bars(frame, **options)  # type: ignore[arg-type]


def failure(frame: pd.DataFrame, **kwargs: object) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        check(frame, **kwargs)
    return info.value


# --- clean data -------------------------------------------------------------


def test_valid_daily_bars_pass_and_come_back_normalised() -> None:
    frame = daily_bars()
    frame["dividend"] = 0.0  # extra columns are ignored, and dropped
    before = frame.copy()
    out = check(frame)
    pd.testing.assert_frame_equal(frame, before)  # the input is untouched
    assert list(out.columns) == ["open", "high", "low", "close", "volume"]
    assert (out.dtypes == np.float64).all()
    assert isinstance(out.index, pd.DatetimeIndex)
    assert out.index.tz is None
    assert out.index.equals(SESSIONS[:10])
    np.testing.assert_array_equal(out["volume"], np.arange(1, 11) * 100.0)
    put(out, 0, "open", -1.0)
    assert frame["open"].to_numpy()[0] > 0  # the output does not share memory with the input


def test_utc_midnight_daily_index_is_treated_as_naive_sessions() -> None:
    frame = daily_bars()
    frame.index = SESSIONS[:10].tz_localize("UTC")
    out = check(frame)
    assert isinstance(out.index, pd.DatetimeIndex)
    assert out.index.tz is None
    assert out.index.equals(SESSIONS[:10])


def test_daily_times_of_day_are_floored_to_the_session() -> None:
    frame = daily_bars(3)
    frame.index = SESSIONS[:3] + pd.Timedelta(hours=16)
    assert check(frame).index.equals(SESSIONS[:3])


def test_minute_bars_pass_naive_values_are_utc() -> None:
    frame = minute_bars()
    minutes = CAL.sessions_minutes("2020-01-02", "2020-01-03")
    out = check(frame, frequency="minute", valid_index=minutes)
    assert isinstance(out.index, pd.DatetimeIndex)
    assert str(out.index.tz) == "UTC"
    naive = frame.set_axis(out.index.tz_localize(None))
    assert check(naive, frequency="minute", valid_index=minutes).index.equals(out.index)


def test_valid_index_none_skips_the_calendar_check() -> None:
    frame = daily_bars(3)
    frame.index = pd.DatetimeIndex(["2020-01-04", "2020-01-05", "2020-01-11"])  # weekend days
    assert len(check(frame, valid_index=None)) == 3


def test_empty_frame_is_valid() -> None:
    out = check(daily_bars(0))
    assert out.empty and list(out.columns) == ["open", "high", "low", "close", "volume"]


# --- each rule --------------------------------------------------------------


def put(frame: pd.DataFrame, row: int, column: str, value: float | str) -> None:
    """Set one cell by row position and column name."""
    frame.iloc[row, list(frame.columns).index(column)] = value


def _set(row: int, column: str, value: float | str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        if isinstance(value, str):
            frame = frame.astype({column: object})
        put(frame, row, column, value)
        return frame

    return mutate


def _reindex(positions: list[int]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.iloc[positions]

    return mutate


def _move_to(row: int, stamp: str | None) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        index = frame.index.tolist()
        index[row] = pd.NaT if stamp is None else pd.Timestamp(stamp)
        return frame.set_axis(pd.DatetimeIndex(index))

    return mutate


RULES = [
    ("nan close", _set(3, "close", np.nan), 4, "close is missing (NaN)"),
    ("nan volume", _set(2, "volume", np.nan), 3, "volume is missing (NaN)"),
    ("inf high", _set(6, "high", np.inf), 7, "high is inf"),
    ("text open", _set(1, "open", "n/a"), 2, "open 'n/a' is not a number"),
    ("zero low", _set(4, "low", 0.0), 5, "low 0.0 <= 0"),
    ("negative open", _set(0, "open", -1.0), 1, "open -1.0 <= 0"),
    ("negative volume", _set(5, "volume", -5), 6, "volume -5.0 < 0"),
    ("high below low", _set(4, "high", 9.5), 5, "high 9.5 < low 9.9"),
    ("high below close", _set(2, "high", 10.15), 3, "high 10.15 < close 10.2"),
    ("high below open", _set(2, "open", 10.8), 3, "high 10.7 < open 10.8"),
    ("low above open", _set(2, "low", 10.16), 3, "low 10.16 > open 10.15"),
    ("duplicate date", _reindex([0, 1, 2, 2, 3]), 4, "duplicate date (same as row 3)"),
    ("unsorted", _reindex([0, 2, 1, 3]), 3, "date is earlier than the previous row's 2020-01-06"),
    ("weekend", _move_to(2, "2020-01-04"), 3, "not a trading session of the calendar"),
    ("holiday", _move_to(0, "2020-01-01"), 1, "not a trading session"),
    ("missing date", _move_to(3, None), 4, "date is missing or could not be parsed"),
]


@pytest.mark.parametrize(
    ("mutate", "row", "reason"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
def test_each_rule_reports_its_row_and_reason(
    mutate: Callable[[pd.DataFrame], pd.DataFrame], row: int, reason: str
) -> None:
    err = failure(mutate(daily_bars()))
    assert err.message.startswith("/x/daily/AAPL.csv: 1 invalid row: ")
    assert f"row {row} (" in err.message
    assert reason in err.message
    assert err.invalid_rows["row"].tolist() == [row]
    assert reason in err.invalid_rows["reason"].iloc[0]
    assert err.context == {"source": "/x/daily/AAPL.csv", "n_invalid": 1, "n_offences": 1}


def test_low_above_close_reason_is_exact() -> None:
    frame = daily_bars()
    put(frame, 2, "low", 10.19)
    put(frame, 2, "open", 10.25)
    put(frame, 2, "close", 10.18)
    err = failure(frame)
    assert err.invalid_rows["reason"].tolist() == ["low 10.19 > close 10.18"]


def test_message_matches_the_documented_format_with_file_lines() -> None:
    frame = daily_bars()
    put(frame, 4, "high", 9.5)
    put(frame, 4, "low", 10.0)
    frame = frame.iloc[[0, 1, 2, 3, 4, 5, 6, 7, 8, 8]]
    frame.attrs["first_line"] = 2
    err = failure(frame)
    assert err.message == (
        "/x/daily/AAPL.csv: 2 invalid rows: "
        "row 5 (line 6, 2020-01-08): high 9.5 < low 10.0; "
        "row 10 (line 11, 2020-01-14): duplicate date (same as row 9)"
    )
    assert list(err.invalid_rows.columns) == [
        "row",
        "dt",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "reason",
    ]
    assert err.invalid_rows["dt"].tolist() == [
        pd.Timestamp("2020-01-08"),
        pd.Timestamp("2020-01-14"),
    ]
    assert err.invalid_rows["high"].tolist() == [9.5, 11.3]
    assert err.context["n_invalid"] == 2


def test_several_offences_on_one_row_share_its_entry() -> None:
    frame = daily_bars()
    put(frame, 1, "open", -2.0)
    put(frame, 1, "volume", -1)
    err = failure(frame)
    assert "1 invalid row: row 2 (2020-01-03): open -2.0 <= 0, volume -1.0 < 0" in err.message
    assert err.invalid_rows["row"].tolist() == [2, 2]
    assert err.context["n_offences"] == 2


def test_many_bad_rows_are_summarised_and_all_listed() -> None:
    frame = daily_bars(40)
    frame["volume"] = -1
    err = failure(frame)
    assert err.message.count("volume -1.0 < 0") == 10
    assert err.message.endswith("; and 30 more invalid rows")
    assert len(err.invalid_rows) == 40
    assert err.context["n_invalid"] == 40


def test_row_numbers_attribute_maps_rows_back_to_the_file() -> None:
    frame = daily_bars(3)
    put(frame, 1, "close", np.nan)
    frame.attrs["row_numbers"] = [8, 9, 10]
    frame.attrs["first_line"] = 2
    err = failure(frame)
    assert "row 9 (line 10, 2020-01-03): close is missing (NaN)" in err.message
    assert err.invalid_rows["row"].tolist() == [9]


def test_missing_columns_name_them_and_the_source() -> None:
    frame = daily_bars().drop(columns=["low", "volume"])
    err = failure(frame, source="sid 3")
    assert err.message.startswith("sid 3: missing required column(s) low, volume")
    assert err.context["missing_columns"] == ["low", "volume"]


def test_minute_bar_off_the_calendar_is_reported_with_its_timestamp() -> None:
    frame = minute_bars(3)
    frame.index = pd.DatetimeIndex(
        ["2020-01-02 14:30", "2020-01-02 14:31", "2020-01-02 14:32"], tz="UTC"
    )
    minutes = CAL.sessions_minutes("2020-01-02", "2020-01-03")
    err = failure(frame, frequency="minute", valid_index=minutes, source="m.csv")
    assert "row 1 (2020-01-02 14:30:00+00:00): not a trading minute" in err.message
    assert err.invalid_rows["row"].tolist() == [1]


def test_minute_duplicates_say_timestamp() -> None:
    frame = minute_bars(3).iloc[[0, 1, 1, 2]]
    err = failure(frame, frequency="minute", valid_index=None)
    assert "row 3 (2020-01-02 14:32:00+00:00): duplicate timestamp (same as row 2)" in err.message


def test_non_datetime_index_is_parsed_and_bad_labels_reported() -> None:
    frame = daily_bars(3)
    frame.index = pd.Index(["2020-01-02", "not a date", "2020-01-06"])
    err = failure(frame)
    assert "row 2 (NaT): date is missing or could not be parsed" in err.message


def test_validating_500_assets_of_2500_sessions_is_fast() -> None:
    sessions = CAL.sessions_in_range("2010-01-04", "2020-12-31")
    frame = daily_bars(1)
    frame = pd.DataFrame(
        {name: np.full(2500, frame[name].iloc[0], dtype=float) for name in frame.columns},
        index=sessions[:2500],
    )
    check(frame, valid_index=sessions)  # warm up
    began = time.perf_counter()
    for sid in range(500):
        check(frame, valid_index=sessions, source=f"sid {sid}")
    # ~0.3 s on a laptop; the margin absorbs a busy test machine.
    assert time.perf_counter() - began < 2.5


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.01, 1e6),
            st.floats(0.01, 1e6),
            st.floats(0.0, 0.5),
            st.floats(0.0, 0.5),
            st.integers(0, 10**9),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_any_consistent_bars_pass_unchanged(
    rows: list[tuple[float, float, float, float, int]],
) -> None:
    # Well formed is not plausible: these closes jump anywhere in 0.01 .. 1e6,
    # so the spike rule is off here (its own tests are below).
    open_ = np.array([r[0] for r in rows])
    close = np.array([r[1] for r in rows])
    high = np.maximum(open_, close) * (1.0 + np.array([r[2] for r in rows]))
    low = np.minimum(open_, close) * (1.0 - np.array([r[3] for r in rows]) * 0.99)
    frame = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": [r[4] for r in rows]},
        index=SESSIONS[: len(rows)],
    )
    out = check(frame, limits=PriceLimits(spike_factor=None))
    np.testing.assert_array_equal(out.to_numpy(), frame.to_numpy(dtype=float))


# --- implausible prices: the ceiling and the spike rule are validation rules -------


def test_a_spike_and_a_price_above_the_ceiling_are_invalid_rows() -> None:
    frame = daily_bars(5).astype(float)
    frame.iloc[1, :4] = 2e9
    frame.iloc[3, :4] = 1.0  # a tenth of both its neighbours
    error = failure(frame)
    assert error.message == (
        "/x/daily/AAPL.csv: 2 invalid rows: row 2 (2020-01-03): open 2000000000.0, "
        "high 2000000000.0, low 2000000000.0, close 2000000000.0 above the price ceiling 1e+09; "
        "row 4 (2020-01-07): close 1.0 is 1/10.2x the previous close 10.2 and reverts to 10.4 on "
        "the next bar (a one-bar spike beyond the factor 5)"
    )
    assert error.invalid_rows.columns.tolist() == ["row", "dt", *OHLCV_COLUMNS, "reason"]
    assert error.invalid_rows["row"].tolist() == [2, 4]
    lenient = PriceLimits(price_ceiling=1e10, spike_factor=None)
    np.testing.assert_array_equal(check(frame, limits=lenient).to_numpy(), frame.to_numpy())


@pytest.mark.parametrize("column", ["close", "volume"])
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_a_non_finite_value_is_reported_once_as_such(column: str, value: float) -> None:
    """Not also as a spike, above the ceiling, or below zero."""
    frame = daily_bars(5).astype(float)
    frame.iloc[2, frame.columns.get_loc(column)] = value
    error = failure(frame)
    assert error.invalid_rows["row"].tolist() == [3]
    reason = f"{column} is missing (NaN)" if np.isnan(value) else f"{column} is {value!r}"
    assert error.invalid_rows["reason"].tolist() == [reason]
    assert error.message == f"/x/daily/AAPL.csv: 1 invalid row: row 3 (2020-01-06): {reason}"


def test_the_ceiling_names_only_the_finite_prices_above_it() -> None:
    frame = daily_bars(3).astype(float)
    frame.iloc[1, :4] = [2e9, np.inf, 2e9, 3e9]
    error = failure(frame)
    assert error.invalid_rows["reason"].tolist() == [
        "high is inf",
        "open 2000000000.0, low 2000000000.0, close 3000000000.0 above the price ceiling 1e+09",
    ]


# --- screen_bar_arrays: validate_bars over many sources at once ------------------

# Values that break (or nearly break) a rule: each stands in for one cell.
# 1e-9 and 200.0 as a close are one-bar spikes among closes near 10; 1e12 is
# above the price ceiling.
ODD_VALUES = [np.nan, np.inf, -np.inf, 0.0, -0.0, -1.0, 1e-9, 5.0, 200.0, 1e9, 1e12]
DAY = 86_400 * 10**9
ON_CALENDAR = SESSIONS.asi8
OFF_CALENDAR = pd.DatetimeIndex(["2020-01-04", "2019-06-03", "2020-06-01"]).asi8  # sat, out, out
NAT = np.iinfo(np.int64).min


def _sources(draw: st.DrawFn) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Flat bars of a few sources: mostly valid, with odd cells, times and orders."""
    counts = draw(st.lists(st.integers(0, 8), min_size=1, max_size=6))
    rows = sum(counts)
    times_list: list[int] = []
    for count in counts:
        first = draw(st.integers(0, len(ON_CALENDAR) - count - 1))
        times_list += ON_CALENDAR[first : first + count].tolist()
    times = np.array(times_list, dtype=np.int64)
    close = 10.0 + np.arange(rows, dtype=np.float64)
    columns = [close - 0.5, close + 1.0, close - 1.0, close, np.full(rows, 100.0)]
    for _ in range(draw(st.integers(0, 3)) if rows else 0):
        row = draw(st.integers(0, rows - 1))
        kind = draw(st.sampled_from(["cell", "time", "swap", "hour"]))
        if kind == "cell":
            column = draw(st.integers(0, 4))
            columns[column][row] = draw(st.sampled_from(ODD_VALUES))
        elif kind == "time":
            times[row] = draw(st.sampled_from([*OFF_CALENDAR.tolist(), NAT, int(times[0])]))
        elif kind == "swap":
            other = draw(st.integers(0, rows - 1))
            times[[row, other]] = times[[other, row]]
        else:
            times[row] += 15 * 3_600 * 10**9  # a time of day: floored, still valid
    starts = np.cumsum([0, *counts[:-1]]).astype(np.int64)
    return times, columns, starts


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_screen_flags_exactly_the_sources_validate_bars_rejects(data: st.DataObject) -> None:
    times, columns, starts = _sources(data.draw)
    stamps, bad = screen_bar_arrays(times, columns, starts, frequency="daily", valid_index=SESSIONS)
    ends = [*starts[1:].tolist(), times.size]
    for start, end in zip(starts.tolist(), ends, strict=True):
        frame = pd.DataFrame(
            {name: columns[k][start:end] for k, name in enumerate(OHLCV_COLUMNS)},
            index=pd.DatetimeIndex(times[start:end].view("M8[ns]")),
        )
        try:
            out = check(frame)
        except DataValidationError:
            assert bad[start:end].any()
        else:
            assert not bad[start:end].any()
            np.testing.assert_array_equal(stamps[start:end], out.index.asi8)


@pytest.mark.parametrize("value", ODD_VALUES)
@pytest.mark.parametrize("column", OHLCV_COLUMNS)
def test_screen_agrees_with_validate_bars_on_each_odd_cell(column: str, value: float) -> None:
    frame = daily_bars(4).astype(float)
    frame.iloc[2, frame.columns.get_loc(column)] = value
    columns = [frame[name].to_numpy() for name in OHLCV_COLUMNS]
    starts = np.array([0, 1], dtype=np.int64)  # two sources: rows 0 and 1-3
    _, bad = screen_bar_arrays(
        frame.index.asi8, columns, starts, frequency="daily", valid_index=SESSIONS
    )
    try:
        check(frame.iloc[1:])
    except DataValidationError:
        assert bad.tolist() == [False, False, True, False]
    else:
        assert not bad.any()


def test_screen_minute_bars_and_no_calendar() -> None:
    minutes = CAL.session_minutes("2020-01-02")[:4].asi8
    columns = [np.full(4, 1.0), np.full(4, 1.2), np.full(4, 0.9), np.full(4, 1.1), np.zeros(4)]
    starts = np.array([0, 2], dtype=np.int64)
    valid = CAL.session_minutes("2020-01-02")
    stamps, bad = screen_bar_arrays(minutes, columns, starts, frequency="minute", valid_index=valid)
    assert not bad.any()
    np.testing.assert_array_equal(stamps, minutes)
    shifted = minutes + 30 * 10**9  # half a minute off
    _, bad = screen_bar_arrays(shifted, columns, starts, frequency="minute", valid_index=valid)
    assert bad.all()
    _, bad = screen_bar_arrays(shifted, columns, starts, frequency="minute", valid_index=None)
    assert not bad.any()
    # A source restarting in time is fine; going back within a source is not.
    times = np.array([minutes[1], minutes[2], minutes[0], minutes[0]])
    _, bad = screen_bar_arrays(times, columns, starts, frequency="minute", valid_index=None)
    assert bad.tolist() == [False, False, False, True]
    empty = pd.DatetimeIndex([])
    _, bad = screen_bar_arrays(minutes, columns, starts, frequency="minute", valid_index=empty)
    assert bad.all()


def test_invalid_rows_error_reads_like_bar_errors() -> None:
    err = invalid_rows_error(
        "/x/a.csv",
        [4],
        [pd.Timestamp("2020-01-07")],
        ["abc"],
        ["split 'abc' is not a number"],
        first_line=2,
    )
    assert err.message == (
        "/x/a.csv: 1 invalid row: row 4 (line 5, 2020-01-07): split 'abc' is not a number"
    )
    assert err.invalid_rows["value"].tolist() == ["abc"]


# --- adjustments --------------------------------------------------------------


def splits_frame(**overrides: list[Any]) -> pd.DataFrame:
    data: dict[str, list[Any]] = {
        "sid": [0, 1],
        "ratio": [0.5, 0.25],
        "effective_date": [pd.Timestamp("2020-01-06"), pd.Timestamp("2020-02-03")],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def dividends_frame(**overrides: list[Any]) -> pd.DataFrame:
    ex = [pd.Timestamp("2020-01-08"), pd.Timestamp("2020-02-10")]
    data: dict[str, list[Any]] = {
        "sid": [0, 1],
        "amount": [0.5, 0.0],
        "ex_date": ex,
        "record_date": [pd.NaT, pd.NaT],
        "declared_date": ex,
        "pay_date": ex,
    }
    data.update(overrides)
    return pd.DataFrame(data)


def test_valid_adjustments_pass() -> None:
    validate_adjustments(splits_frame(), dividends_frame(), {0, 1}, "demo")
    validate_adjustments(None, None, set(), "demo")


ADJUSTMENT_RULES = [
    ("zero ratio", {"ratio": [0.5, 0.0]}, None, "splits row 2 (sid 1, 2020-02-03): ratio 0.0 <= 0"),
    ("negative ratio", {"ratio": [-2.0, 0.5]}, None, "splits row 1 (sid 0, 2020-01-06): ratio -2"),
    ("nan ratio", {"ratio": [np.nan, 0.5]}, None, "ratio is nan"),
    ("inf ratio", {"ratio": [0.5, np.inf]}, None, "ratio is inf"),
    ("unknown split sid", {"sid": [0, 7]}, None, "splits row 2 (sid 7, 2020-02-03): unknown sid 7"),
    ("missing split date", {"effective_date": [pd.NaT, pd.Timestamp("2020-01-02")]}, None,
     "splits row 1 (sid 0, NaT): effective_date is missing"),
    ("negative dividend", None, {"amount": [0.5, -0.1]}, "dividends row 2 (sid 1, 2020-02-10): "
     "amount -0.1 < 0"),
    ("nan dividend", None, {"amount": [np.nan, 0.1]}, "amount is nan"),
    ("unknown dividend sid", None, {"sid": [9, 1]}, "unknown sid 9"),
    ("missing ex date", None, {"ex_date": [pd.Timestamp("2020-01-08"), pd.NaT]},
     "ex_date is missing"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("split_changes", "dividend_changes", "expected"),
    [r[1:] for r in ADJUSTMENT_RULES],
    ids=[r[0] for r in ADJUSTMENT_RULES],
)
def test_each_adjustment_rule_reports_table_row_and_reason(
    split_changes: dict[str, list[Any]] | None,
    dividend_changes: dict[str, list[Any]] | None,
    expected: str,
) -> None:
    splits = splits_frame(**(split_changes or {}))
    dividends = dividends_frame(**(dividend_changes or {}))
    with pytest.raises(DataValidationError) as info:
        validate_adjustments(splits, dividends, {0, 1}, "/x/csvdir")
    err = info.value
    assert err.message.startswith("/x/csvdir: 1 invalid adjustment row: ")
    assert expected in err.message
    assert len(err.invalid_rows) == 1
    assert err.context["source"] == "/x/csvdir"
    assert err.context["n_invalid"] == 1


def test_adjustment_frames_must_have_their_columns() -> None:
    with pytest.raises(DataValidationError, match=r"dividends missing required column\(s\) amount"):
        validate_adjustments(None, dividends_frame().drop(columns="amount"), {0, 1}, "src")
