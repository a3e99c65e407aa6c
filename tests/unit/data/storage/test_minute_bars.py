"""ParquetMinuteBarWriter / ParquetMinuteBarReader against real Parquet files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rustybt.calendars import get_calendar
from rustybt.data.storage import ParquetMinuteBarReader, ParquetMinuteBarWriter
from rustybt.exceptions import DataNotFoundError, DataValidationError

CAL = get_calendar("XNYS")
START = pd.Timestamp("2024-07-01")
END = pd.Timestamp("2024-07-10")
FIELDS = ("open", "high", "low", "close", "volume")
# 2024-07-03 closes early (13:00 New York): 210 minutes instead of 390.
JUL2, JUL3, JUL5 = (pd.Timestamp(d) for d in ("2024-07-02", "2024-07-03", "2024-07-05"))


def bars(index: pd.DatetimeIndex, base: float = 10.0, volume: float = 100.0) -> pd.DataFrame:
    close = base + np.arange(len(index), dtype=float) / 100
    return pd.DataFrame(
        {
            "open": close,
            "high": close + 0.1,
            "low": close - 0.1,
            "close": close,
            "volume": np.full(len(index), volume),
        },
        index=index,
    )


def write(path: Path, data: list[tuple[int, pd.DataFrame]]) -> None:
    writer = ParquetMinuteBarWriter(path, CAL, START, END)
    writer.write(data)
    writer.finalize()


def reader(path: Path) -> ParquetMinuteBarReader:
    return ParquetMinuteBarReader(path, CAL, START, END)


@pytest.fixture
def minute_reader(tmp_path: Path) -> ParquetMinuteBarReader:
    """sid 1: first 3 minutes of Jul 2 (the last with zero volume); sid 4: all of Jul 5."""
    path = tmp_path / "minute_equities.parquet"
    early = bars(CAL.session_minutes(JUL2)[:3])
    early.loc[early.index[2], "volume"] = 0.0
    write(path, [(4, bars(CAL.session_minutes(JUL5), base=100.0)), (1, early)])
    return reader(path)


def test_file_schema(minute_reader: ParquetMinuteBarReader) -> None:
    schema = pq.read_schema(minute_reader.path)
    assert schema.field("dt").type == pa.timestamp("ns", tz="UTC")
    assert schema.field("sid").type == pa.int64()
    assert all(schema.field(name).type == pa.float64() for name in FIELDS)
    assert pq.read_metadata(minute_reader.path).row_group(0).column(1).compression == "ZSTD"
    sids = pq.read_table(minute_reader.path, columns=["sid"]).column("sid").to_pylist()
    assert sids == sorted(sids)


def test_axis_covers_only_sessions_with_data(minute_reader: ParquetMinuteBarReader) -> None:
    r = minute_reader
    # Jul 1 (before the data) and Jul 8..10 (after) are left out.
    assert list(r.sessions) == [JUL2, JUL3, JUL5]
    assert r.sessions.tz is None
    assert len(r.minutes) == 390 + 210 + 390
    assert str(r.minutes.tz) == "UTC"
    assert r.minutes[0] == pd.Timestamp("2024-07-02 13:31", tz="UTC")
    assert r.session_bounds.tolist() == [[0, 390], [390, 600], [600, 990]]
    assert r.minute_session.dtype == np.int64
    assert np.array_equal(r.minute_session, np.repeat([0, 1, 2], [390, 210, 390]))
    assert r.panel("close").shape == (990, 2)
    assert r.first_trading_day == JUL2
    assert r.last_available_dt == pd.Timestamp("2024-07-05 20:00", tz="UTC")


def test_panels(minute_reader: ParquetMinuteBarReader) -> None:
    r = minute_reader
    assert r.sids.tolist() == [1, 4]
    close = r.panel("close")
    assert close[:3, 0].tolist() == [10.0, 10.01, 10.02]
    assert np.isnan(close[3:, 0]).all()
    assert np.array_equal(
        close[600:, 1], bars(CAL.session_minutes(JUL5), 100.0)["close"].to_numpy()
    )
    assert np.isnan(close[:600, 1]).all()
    assert (r.panel("volume")[:600, 1] == 0.0).all()


def test_get_value(minute_reader: ParquetMinuteBarReader) -> None:
    r = minute_reader
    assert r.get_value(1, pd.Timestamp("2024-07-02 13:32", tz="UTC"), "close") == 10.01
    # Naive minutes are UTC; other zones are converted.
    assert r.get_value(1, "2024-07-02 13:32", "close") == 10.01
    assert r.get_value(1, pd.Timestamp("2024-07-02 09:32", tz="America/New_York"), "open") == 10.01
    assert np.isnan(r.get_value(1, "2024-07-02 13:40", "close"))
    assert r.get_value(1, "2024-07-02 13:40", "volume") == 0.0


@pytest.mark.parametrize(
    "dt",
    [
        "2024-07-02 13:30",  # the open: zipline labels bars by their end
        "2024-07-03 18:00",  # after the early close
        "2024-07-01 14:00",  # a session with no minute data anywhere
        "2024-07-04 14:00",  # a holiday
    ],
)
def test_get_value_off_axis_raises(minute_reader: ParquetMinuteBarReader, dt: str) -> None:
    with pytest.raises(DataNotFoundError, match="sid 1 at"):
        minute_reader.get_value(1, dt, "close")


def test_get_value_unknown_sid(minute_reader: ParquetMinuteBarReader) -> None:
    with pytest.raises(DataNotFoundError, match="sid 3"):
        minute_reader.get_value(3, "2024-07-02 13:32", "close")


def test_last_traded(minute_reader: ParquetMinuteBarReader) -> None:
    r = minute_reader
    assert r.get_last_traded_dt(1, "2024-07-05 15:00") == pd.Timestamp("2024-07-02 13:32", tz="UTC")
    assert r.get_last_traded_dt(4, "2024-07-05 13:31") == pd.Timestamp("2024-07-05 13:31", tz="UTC")
    assert r.get_last_traded_dt(4, "2024-07-03 15:00") is pd.NaT
    assert r.get_last_traded_dt(4, "2024-07-01 15:00") is pd.NaT
    lti = r.last_traded_index()
    assert lti.shape == (990, 2)
    assert lti[:4, 0].tolist() == [0, 1, 1, 1]
    assert lti[-1, 0] == 1
    assert lti[599, 1] == -1
    assert lti[700, 1] == 700


def test_load_raw_arrays(minute_reader: ParquetMinuteBarReader) -> None:
    (close,) = minute_reader.load_raw_arrays(
        ["close"],
        pd.Timestamp("2024-07-03 17:00", tz="UTC"),
        pd.Timestamp("2024-07-05 13:32", tz="UTC"),
        [4, 1],
    )
    # Last minute of the half day, then the first two of Jul 5.
    assert close.shape == (3, 2)
    assert np.isnan(close[0]).all()
    assert close[1:, 0].tolist() == [100.0, 100.01]


def test_off_calendar_minute_is_rejected(tmp_path: Path) -> None:
    index = pd.DatetimeIndex(["2024-07-02 13:31", "2024-07-02 13:30"], tz="UTC").sort_values()
    writer = ParquetMinuteBarWriter(tmp_path / "m.parquet", CAL, START, END)
    with pytest.raises(DataValidationError, match="not a trading minute"):
        writer.write([(1, bars(index))])


def test_a_one_minute_spike_and_a_price_above_the_ceiling_are_refused(tmp_path: Path) -> None:
    frame = bars(CAL.session_minutes(JUL2)[:5])
    frame.iloc[1, :4] = 0.5  # a twentieth of its neighbours for one minute
    frame.iloc[3, :4] = 5e9
    writer = ParquetMinuteBarWriter(tmp_path / "m.parquet", CAL, START, END)
    with pytest.raises(DataValidationError) as info:
        writer.write([(1, frame)])
    assert info.value.message == (
        "sid 1: 2 invalid rows: row 2 (2024-07-02 13:32:00+00:00): close 0.5 is 1/20x the "
        "previous close 10.0 and reverts to 10.02 on the next bar (a one-bar spike beyond the "
        "factor 5); row 4 (2024-07-02 13:34:00+00:00): open 5000000000.0, high 5000000000.0, "
        "low 5000000000.0, close 5000000000.0 above the price ceiling 1e+09"
    )
    assert writer.sids_written == []


def test_naive_minutes_are_utc(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    write(path, [(1, bars(pd.DatetimeIndex(["2024-07-02 13:31", "2024-07-02 13:32"])))])
    assert reader(path).get_value(1, pd.Timestamp("2024-07-02 13:32", tz="UTC"), "close") == 10.01


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    write(path, [])
    r = reader(path)
    assert len(r.sessions) == 0
    assert len(r.minutes) == 0
    assert r.session_bounds.shape == (0, 2)
    assert r.panel("close").shape == (0, 0)
    assert r.first_trading_day is pd.NaT
    assert r.last_available_dt is pd.NaT


def test_corrupt_file_minute_between_sessions(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    stamps = pd.DatetimeIndex(
        ["2024-07-02 13:31", "2024-07-02 23:00", "2024-07-05 13:31"], tz="UTC"
    )
    table = pa.table(
        {
            "sid": pa.array([1, 1, 1], pa.int64()),
            "dt": pa.array(stamps),
            **{name: pa.array([1.0, 1.0, 1.0]) for name in FIELDS},
        }
    )
    pq.write_table(table, path)
    with pytest.raises(DataValidationError, match=r"1 row.*sid 1 at 2024-07-02 23:00"):
        reader(path).panel("close")


def test_missing_file_raises_on_first_use(tmp_path: Path) -> None:
    r = reader(tmp_path / "none.parquet")
    with pytest.raises(DataNotFoundError, match=r"none\.parquet"):
        _ = r.sessions


@st.composite
def frames(draw: st.DrawFn) -> list[tuple[int, pd.DataFrame]]:
    """Up to three sids with bars on random minutes of three sessions."""
    minutes = CAL.sessions_minutes(JUL2, JUL5)
    sids = draw(st.lists(st.integers(0, 50), min_size=1, max_size=3, unique=True))
    out = []
    for sid in sids:
        positions = draw(st.lists(st.integers(0, len(minutes) - 1), max_size=40, unique=True))
        index = minutes[np.sort(np.array(positions, dtype=np.int64))]
        price = draw(st.floats(0.5, 1000.0))
        out.append((sid, bars(index, base=price, volume=draw(st.floats(0.0, 1e6)))))
    return out


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=frames())
def test_round_trip_panels_equal_input(
    tmp_path: Path, data: list[tuple[int, pd.DataFrame]]
) -> None:
    path = tmp_path / "rt.parquet"
    write(path, data)
    r = reader(path)
    assert r.sids.tolist() == sorted(sid for sid, _ in data)
    stamps = pd.DatetimeIndex(
        np.concatenate([pd.DatetimeIndex(frame.index).asi8 for _, frame in data])
    ).tz_localize("UTC")
    if len(stamps) == 0:
        assert len(r.minutes) == 0
        return
    assert r.sessions[0] == CAL.minute_to_session(stamps.min())
    assert r.sessions[-1] == CAL.minute_to_session(stamps.max())
    for sid, frame in data:
        col = r.sid_to_col[sid]
        rows = r.minutes.get_indexer(frame.index)
        assert (rows >= 0).all()
        for name in FIELDS:
            panel = r.panel(name)[:, col]
            np.testing.assert_array_equal(panel[rows], frame[name].to_numpy())
            others = np.delete(panel, rows)
            if name == "volume":
                assert (others == 0.0).all()
            else:
                assert np.isnan(others).all()


def test_write_arrays_of_minutes_matches_write(tmp_path: Path) -> None:
    frames = [(1, bars(CAL.session_minutes(JUL2)[:5])), (4, bars(CAL.session_minutes(JUL3)))]
    write(tmp_path / "a.parquet", frames)
    writer = ParquetMinuteBarWriter(tmp_path / "b.parquet", CAL, START, END)
    whole = pd.concat([frame for _, frame in frames])
    writer.write_arrays(
        [1, 4],
        [5, len(frames[1][1])],
        pd.DatetimeIndex(whole.index).asi8,
        {name: whole[name].to_numpy() for name in FIELDS},
    )
    first, last = CAL.session_minutes(JUL2)[0], CAL.session_minutes(JUL3)[-1]
    assert writer.time_range() == (first, last)
    writer.finalize()
    assert pq.read_table(tmp_path / "b.parquet").equals(pq.read_table(tmp_path / "a.parquet"))
    off = whole.index.asi8 + 30 * 10**9  # half a minute off the calendar
    with pytest.raises(DataValidationError, match=r"sid 7.*not a trading minute"):
        ParquetMinuteBarWriter(tmp_path / "c.parquet", CAL, START, END).write_arrays(
            [7], [len(off)], off, {name: whole[name].to_numpy() for name in FIELDS}
        )
