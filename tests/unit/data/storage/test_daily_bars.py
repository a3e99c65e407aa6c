"""ParquetDailyBarWriter / ParquetDailyBarReader against real Parquet files."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rustybt.assets import Equity, ExchangeInfo
from rustybt.calendars import get_calendar
from rustybt.data.plausibility import PriceLimits
from rustybt.data.storage import ParquetDailyBarReader, ParquetDailyBarWriter
from rustybt.exceptions import (
    DataError,
    DataNotFoundError,
    DataValidationError,
    ParameterValidationError,
)

CAL = get_calendar("XNYS")
START = pd.Timestamp("2024-01-02")
END = pd.Timestamp("2024-01-31")
SESSIONS = CAL.sessions_in_range(START, END)
FIELDS = ("open", "high", "low", "close", "volume")


def bars(
    dates: pd.DatetimeIndex | list[str], base: float = 10.0, volume: float = 100.0
) -> pd.DataFrame:
    """Valid OHLCV bars on ``dates``: close = base + i, volume constant."""
    index = pd.DatetimeIndex(pd.to_datetime(dates))
    close = base + np.arange(len(index), dtype=float)
    return pd.DataFrame(
        {
            "open": close - 0.5,
            "high": close + 1.0,
            "low": close - 1.0,
            "close": close,
            "volume": np.full(len(index), volume),
        },
        index=index,
    )


def write(path: Path, data: list[tuple[int, pd.DataFrame]], **kwargs: object) -> None:
    writer = ParquetDailyBarWriter(path, CAL, START, END)
    writer.write(data, **kwargs)  # type: ignore[arg-type]
    writer.finalize()


def reader(
    path: Path, start: pd.Timestamp = START, end: pd.Timestamp = END
) -> ParquetDailyBarReader:
    return ParquetDailyBarReader(path, CAL, start, end)


@pytest.fixture
def two_sids(tmp_path: Path) -> ParquetDailyBarReader:
    """sid 5 trades every session; sid 2 on three sessions, one with zero volume."""
    path = tmp_path / "daily_equities.parquet"
    sparse = bars(["2024-01-03", "2024-01-05", "2024-01-10"], base=50.0)
    sparse.loc[pd.Timestamp("2024-01-10"), "volume"] = 0.0
    # sid 5 first: the file must still come out sorted by sid.
    write(path, [(5, bars(SESSIONS)), (2, sparse)])
    return reader(path)


# --- writing ------------------------------------------------------------------


def test_file_schema_is_the_contract(two_sids: ParquetDailyBarReader) -> None:
    schema = pq.read_schema(two_sids.path)
    assert schema.field("sid").type == pa.int64()
    assert schema.field("date").type == pa.timestamp("ns")
    for name in FIELDS:
        assert schema.field(name).type == pa.float64()
    meta = pq.read_metadata(two_sids.path)
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_file_rows_sorted_by_sid_then_date(two_sids: ParquetDailyBarReader) -> None:
    table = pq.read_table(two_sids.path).to_pandas()
    assert table["sid"].tolist() == [2] * 3 + [5] * len(SESSIONS)
    assert table["date"].is_monotonic_increasing is False  # two sids: restarts
    for _, group in table.groupby("sid"):
        assert group["date"].is_monotonic_increasing


def test_no_tmp_file_left(two_sids: ParquetDailyBarReader) -> None:
    assert two_sids.path.exists()
    assert list(two_sids.path.parent.glob("*.tmp")) == []


def test_failed_finalize_leaves_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "daily_equities.parquet"
    write(path, [(1, bars(SESSIONS[:2]))])
    before = path.read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        Path(str(args[1])).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    writer = ParquetDailyBarWriter(path, CAL, START, END)
    writer.write([(1, bars(SESSIONS[:5]))])
    with pytest.raises(OSError, match="disk full"):
        writer.finalize()
    assert path.read_bytes() == before
    assert not (tmp_path / "daily_equities.parquet.tmp").exists()


def test_empty_finalize_writes_schema(tmp_path: Path) -> None:
    path = tmp_path / "daily_equities.parquet"
    write(path, [])
    assert pq.read_schema(path).names == ["sid", "date", *FIELDS]
    r = reader(path)
    assert r.sids.size == 0
    assert r.panel("close").shape == (len(SESSIONS), 0)
    assert r.first_trading_day is pd.NaT
    with pytest.raises(DataNotFoundError, match="sid 1"):
        r.get_value(1, SESSIONS[0], "close")


def test_write_accumulates_across_calls(tmp_path: Path) -> None:
    path = tmp_path / "daily_equities.parquet"
    writer = ParquetDailyBarWriter(path, CAL, START, END)
    writer.write([(3, bars(SESSIONS[:2]))])
    writer.write(iter([(1, bars(SESSIONS[2:4]))]))
    writer.finalize()
    assert reader(path).sids.tolist() == [1, 3]


def test_sid_written_twice_is_rejected(tmp_path: Path) -> None:
    writer = ParquetDailyBarWriter(tmp_path / "d.parquet", CAL, START, END)
    writer.write([(1, bars(SESSIONS[:2]))])
    with pytest.raises(DataValidationError, match="sid 1 was already written"):
        writer.write([(1, bars(SESSIONS[2:4]))])


def test_sid_not_in_assets_is_rejected(tmp_path: Path) -> None:
    writer = ParquetDailyBarWriter(tmp_path / "d.parquet", CAL, START, END)
    writer.write([(1, bars(SESSIONS[:2]))], assets=[1, 2])
    with pytest.raises(DataValidationError, match="sid 9 is not among the assets"):
        writer.write([(9, bars(SESSIONS[:2]))], assets=[1, 2])


def test_invalid_bar_raises_naming_source_and_row(tmp_path: Path) -> None:
    frame = bars(SESSIONS[:3])
    frame.loc[frame.index[1], "high"] = 1.0  # below low
    frame.attrs["source"] = "AAPL.csv"
    writer = ParquetDailyBarWriter(tmp_path / "d.parquet", CAL, START, END)
    with pytest.raises(DataValidationError, match=r"AAPL\.csv.*row 2") as info:
        writer.write([(1, frame)])
    assert info.value.invalid_rows["row"].tolist() == [2]
    assert writer.sids_written == []


def test_weekend_date_is_rejected(tmp_path: Path) -> None:
    writer = ParquetDailyBarWriter(tmp_path / "d.parquet", CAL, START, END)
    with pytest.raises(DataValidationError, match=r"sid 4.*not a trading session"):
        writer.write([(4, bars(["2024-01-05", "2024-01-06"]))])


def test_warn_drops_invalid_rows(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    frame = bars(SESSIONS[:4])
    frame.loc[frame.index[2], "close"] = -1.0
    with pytest.warns(UserWarning, match="row 3"):
        write(path, [(1, frame)], invalid_data_behavior="warn")
    close = reader(path).panel("close")[:4, 0]
    assert np.isnan(close[2])
    assert close[[0, 1, 3]].tolist() == frame["close"].iloc[[0, 1, 3]].tolist()


def test_ignore_drops_rows_exposed_by_earlier_drops(tmp_path: Path) -> None:
    # Rows 2 and 3 are both before row 1; dropping row 2 exposes row 3.
    frame = bars([SESSIONS[5], SESSIONS[1], SESSIONS[2], SESSIONS[6]])
    path = tmp_path / "d.parquet"
    write(path, [(1, frame)], invalid_data_behavior="ignore")
    volume = reader(path).panel("volume")[:, 0]
    assert np.flatnonzero(volume).tolist() == [5, 6]


def test_unknown_invalid_data_behavior(tmp_path: Path) -> None:
    writer = ParquetDailyBarWriter(tmp_path / "d.parquet", CAL, START, END)
    with pytest.raises(ParameterValidationError, match="invalid_data_behavior"):
        writer.write([], invalid_data_behavior="skip")


# --- implausible prices: the writer is where every bundle's bars pass ----------------


def with_close(frame: pd.DataFrame, row: int, close: float) -> pd.DataFrame:
    """``frame`` with row ``row``'s bar moved to ``close`` (its open, high and low with it)."""
    out = frame.copy()
    out.iloc[row, :4] = [close, close, close, close]
    return out


def test_a_price_above_the_ceiling_and_a_spike_are_refused_in_one_error(tmp_path: Path) -> None:
    frame = with_close(with_close(bars(SESSIONS[:6]), 1, 1e308), 4, 130.0)
    writer = ParquetDailyBarWriter(tmp_path / "d.parquet", CAL, START, END)
    with pytest.raises(DataValidationError) as info:
        writer.write([(3, frame)])
    assert info.value.message == (
        "sid 3: 2 invalid rows: row 2 (2024-01-03): open 1e+308, high 1e+308, low 1e+308, "
        "close 1e+308 above the price ceiling 1e+09; row 5 (2024-01-08): close 130.0 is 10x the "
        "previous close 13.0 and reverts to 15.0 on the next bar (a one-bar spike beyond the "
        "factor 5)"
    )
    assert info.value.invalid_rows["row"].tolist() == [2, 5]
    assert info.value.invalid_rows["close"].tolist() == [1e308, 130.0]
    assert writer.sids_written == []


def test_an_infinite_close_is_reported_once_as_not_finite(tmp_path: Path) -> None:
    frame = bars(SESSIONS[:4])
    frame.loc[frame.index[1], ["high", "close"]] = np.inf
    writer = ParquetDailyBarWriter(tmp_path / "d.parquet", CAL, START, END)
    with pytest.raises(DataValidationError) as info:
        writer.write([(3, frame)])
    assert (
        info.value.message == "sid 3: 1 invalid row: row 2 (2024-01-03): high is inf, close is inf"
    )
    assert info.value.invalid_rows["reason"].tolist() == ["high is inf", "close is inf"]


def test_an_ingest_function_sets_its_own_price_limits(tmp_path: Path) -> None:
    spike = with_close(bars(SESSIONS[:4]), 1, 100.0)
    pricey = bars(SESSIONS[:4], base=2e9)
    writer = ParquetDailyBarWriter(tmp_path / "d.parquet", CAL, START, END)
    with pytest.raises(DataValidationError, match="one-bar spike"):
        writer.write([(1, spike)])
    with pytest.raises(DataValidationError, match=r"above the price ceiling 1e\+09"):
        writer.write([(2, pricey)])
    writer.write([(1, spike)], price_limits=PriceLimits(spike_factor=20.0))
    writer.write([(2, pricey)], price_limits=PriceLimits(price_ceiling=1e12))
    writer.finalize()
    assert reader(tmp_path / "d.parquet").panel("close")[1, :].tolist() == [100.0, 2e9 + 1]


def test_warn_drops_a_spike_like_any_invalid_row(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    with pytest.warns(UserWarning, match="row 3 .*one-bar spike"):
        write(path, [(1, with_close(bars(SESSIONS[:4]), 2, 0.5))], invalid_data_behavior="warn")
    assert np.isnan(reader(path).panel("close")[2, 0])


def test_write_arrays_refuses_implausible_prices_as_write_does(tmp_path: Path) -> None:
    frames = [(1, bars(SESSIONS[:4])), (4, with_close(bars(SESSIONS[:4]), 2, 1e16))]
    writer = ParquetDailyBarWriter(tmp_path / "d.parquet", CAL, START, END)
    with pytest.raises(DataValidationError) as info:
        writer.write_arrays(**flat(frames), sources=["one.csv", "four.csv"])  # type: ignore[arg-type]
    assert info.value.message.startswith("four.csv: 1 invalid row: row 3 (2024-01-04): open 1e+16")
    assert writer.sids_written == []
    # Each source is checked on its own: sid 4's first close is no spike after sid 1's last.
    jump = [(1, bars(SESSIONS[:4])), (4, bars(SESSIONS[:4], base=200.0))]
    writer.write_arrays(**flat(jump))  # type: ignore[arg-type]
    writer.write_arrays(
        **flat([(5, frames[1][1])]),  # type: ignore[arg-type]
        price_limits=PriceLimits(price_ceiling=1e17, spike_factor=None),
    )
    assert writer.sids_written == [1, 4, 5]


# --- bulk writing (write_arrays) and background finalize -------------------------


def flat(frames: list[tuple[int, pd.DataFrame]]) -> dict[str, object]:
    """``frames`` as write_arrays' arguments: the rows end to end."""
    whole = pd.concat([frame for _, frame in frames]) if frames else bars([])
    return {
        "sids": [sid for sid, _ in frames],
        "counts": [len(frame) for _, frame in frames],
        "times": pd.DatetimeIndex(whole.index).asi8,
        "columns": {name: whole[name].to_numpy(dtype=float) for name in FIELDS},
    }


@pytest.mark.parametrize("order", [[2, 5, 7], [7, 5, 2]])
def test_write_arrays_writes_the_file_write_does(tmp_path: Path, order: list[int]) -> None:
    given = {2: bars(SESSIONS[3:9], base=50.0), 5: bars(SESSIONS), 7: bars([])}
    # In sid order the file's columns are slices of the arrays given; else copies.
    frames = [(sid, given[sid]) for sid in order]
    write(tmp_path / "a.parquet", frames)
    writer = ParquetDailyBarWriter(tmp_path / "b.parquet", CAL, START, END)
    # Sessions given with a time of day are floored, as write does.
    arrays = flat(frames)
    arrays["times"] = np.asarray(arrays["times"]) + 3_600 * 10**9
    writer.write_arrays(**arrays)  # type: ignore[arg-type]
    assert writer.time_range() == (SESSIONS[0], SESSIONS[-1])
    writer.finalize()
    expected, got = pq.read_table(tmp_path / "a.parquet"), pq.read_table(tmp_path / "b.parquet")
    assert got.equals(expected)
    assert got.schema.metadata == expected.schema.metadata


def test_write_arrays_reports_and_keeps_nothing_like_write(tmp_path: Path) -> None:
    bad = bars(SESSIONS[:3])
    bad.loc[bad.index[1], "high"] = 1.0  # below low
    frames = [(1, bars(SESSIONS[:4])), (4, bad)]
    writer = ParquetDailyBarWriter(tmp_path / "d.parquet", CAL, START, END)
    with pytest.raises(DataValidationError) as expected:
        writer.write(frames)
    writer = ParquetDailyBarWriter(tmp_path / "d.parquet", CAL, START, END)
    with pytest.raises(DataValidationError) as info:
        writer.write_arrays(**flat(frames), sources=["one.csv", "sid 4"])  # type: ignore[arg-type]
    assert info.value.message == expected.value.message
    assert writer.sids_written == []  # sid 1 was valid, but the call failed
    writer.write_arrays(**flat(frames), invalid_data_behavior="ignore")  # type: ignore[arg-type]
    assert writer.sids_written == [1, 4]
    writer.finalize()
    assert np.isnan(reader(tmp_path / "d.parquet").panel("close")[1, 1])


def test_write_arrays_checks_its_arguments(tmp_path: Path) -> None:
    writer = ParquetDailyBarWriter(tmp_path / "d.parquet", CAL, START, END)
    writer.write([(1, bars(SESSIONS[:2]))])
    arrays = flat([(1, bars(SESSIONS[:2]))])
    with pytest.raises(DataValidationError, match="sid 1 was already written"):
        writer.write_arrays(**arrays)  # type: ignore[arg-type]
    twice = flat([(3, bars(SESSIONS[:2])), (3, bars(SESSIONS[2:4]))])
    with pytest.raises(DataValidationError, match="sid 3 was already written"):
        writer.write_arrays(**twice)  # type: ignore[arg-type]
    with pytest.raises(ParameterValidationError, match="2 sids, 1 counts"):
        writer.write_arrays([2, 3], [2], arrays["times"], arrays["columns"])  # type: ignore[arg-type]
    with pytest.raises(ParameterValidationError, match="adding up to 3"):
        writer.write_arrays([2], [3], arrays["times"], arrays["columns"])  # type: ignore[arg-type]
    columns = dict(arrays["columns"])  # type: ignore[call-overload]
    del columns["volume"]
    with pytest.raises(DataValidationError, match="lacks column"):
        writer.write_arrays([2], [2], arrays["times"], columns)  # type: ignore[arg-type]
    with pytest.raises(ParameterValidationError, match="invalid_data_behavior"):
        writer.write_arrays([], [], np.empty(0, np.int64), {}, invalid_data_behavior="skip")
    assert writer.sids_written == [1]


def test_start_finalize_writes_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    writer = ParquetDailyBarWriter(path, CAL, START, END)
    assert writer.wait() is None  # nothing started
    writer.write([(1, bars(SESSIONS[:2]))])
    writer.start_finalize()
    writer.start_finalize()  # once is enough
    with pytest.raises(DataError, match="after start_finalize"):
        writer.write([(2, bars(SESSIONS[:2]))])
    with pytest.raises(DataError, match="after start_finalize"):
        writer.write_arrays(**flat([(2, bars(SESSIONS[:2]))]))  # type: ignore[arg-type]
    writer.finalize()
    assert reader(path).sids.tolist() == [1]
    assert writer.wait() is None


def test_a_background_failure_is_raised_by_finalize(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    writer = ParquetDailyBarWriter(tmp_path / "file" / "d.parquet", CAL, START, END)
    writer.write([(1, bars(SESSIONS[:2]))])
    writer.start_finalize()
    assert isinstance(writer.wait(), OSError)  # its folder is a file
    with pytest.raises(OSError):
        writer.finalize()


def test_time_range_of_nothing(tmp_path: Path) -> None:
    writer = ParquetDailyBarWriter(tmp_path / "d.parquet", CAL, START, END)
    assert writer.time_range() is None
    writer.write([(7, bars([]))])
    assert writer.time_range() is None


def test_sid_with_empty_frame_is_a_column(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    write(path, [(1, bars(SESSIONS[:2])), (7, bars([]))])
    r = reader(path)
    assert r.sids.tolist() == [1, 7]
    assert np.isnan(r.panel("close")[:, 1]).all()
    assert np.isnan(r.get_value(7, SESSIONS[0], "close"))
    assert r.get_last_traded_dt(7, SESSIONS[-1]) is pd.NaT


# --- reading: panels ------------------------------------------------------------


def test_panels_hold_bars_and_fill_gaps(two_sids: ParquetDailyBarReader) -> None:
    r = two_sids
    assert r.sids.dtype == np.int64
    assert r.sids.tolist() == [2, 5]
    assert r.sid_to_col == {2: 0, 5: 1}
    assert list(r.sessions) == list(SESSIONS)
    close = r.panel("close")
    assert close.shape == (len(SESSIONS), 2)
    assert close.dtype == np.float64
    assert np.array_equal(close[:, 1], bars(SESSIONS)["close"].to_numpy())
    rows = [SESSIONS.get_loc(pd.Timestamp(d)) for d in ("2024-01-03", "2024-01-05", "2024-01-10")]
    assert close[rows, 0].tolist() == [50.0, 51.0, 52.0]
    gaps = np.setdiff1d(np.arange(len(SESSIONS)), rows)
    assert np.isnan(close[gaps, 0]).all()
    assert (r.panel("volume")[gaps, 0] == 0.0).all()


def test_panels_are_cached_and_read_only(two_sids: ParquetDailyBarReader) -> None:
    first = two_sids.panel("open")
    assert two_sids.panel("open") is first
    with pytest.raises(ValueError, match="read-only"):
        first[0, 0] = 1.0


def test_unknown_field(two_sids: ParquetDailyBarReader) -> None:
    with pytest.raises(ParameterValidationError, match="'price'"):
        two_sids.panel("price")


def test_last_traded_index_matches_a_loop(two_sids: ParquetDailyBarReader) -> None:
    volume = two_sids.panel("volume")
    expected = np.full(volume.shape, -1, dtype=np.int64)
    for col in range(volume.shape[1]):
        last = -1
        for row in range(volume.shape[0]):
            if volume[row, col] != 0:
                last = row
            expected[row, col] = last
    got = two_sids.last_traded_index()
    assert got.dtype == np.int64
    assert np.array_equal(got, expected)
    assert two_sids.last_traded_index() is got


def test_reader_is_lazy(tmp_path: Path) -> None:
    r = reader(tmp_path / "missing.parquet")  # constructing reads nothing
    with pytest.raises(DataNotFoundError, match=r"missing\.parquet"):
        r.panel("close")


def test_file_lacking_a_column(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"sid": [1], "date": [pd.Timestamp("2024-01-02")]}), path)
    with pytest.raises(DataValidationError, match="lacks column"):
        reader(path).panel("close")


def test_narrower_reader_ignores_rows_outside(two_sids: ParquetDailyBarReader) -> None:
    r = reader(two_sids.path, pd.Timestamp("2024-01-05"), pd.Timestamp("2024-01-09"))
    assert len(r.sessions) == 3
    assert r.panel("close")[:, 0].tolist()[0] == 51.0
    assert r.first_trading_day == pd.Timestamp("2024-01-05")


def test_concurrent_first_use_loads_once(two_sids: ParquetDailyBarReader) -> None:
    r = reader(two_sids.path)
    seen: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: seen.append(r.panel("close"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    assert all(panel is seen[0] for panel in seen)


def test_first_and_last_days(two_sids: ParquetDailyBarReader) -> None:
    assert two_sids.first_trading_day == SESSIONS[0]
    assert two_sids.last_available_dt == SESSIONS[-1]
    assert two_sids.trading_calendar is CAL


# --- reading: zipline API ---------------------------------------------------------


def test_get_value(two_sids: ParquetDailyBarReader) -> None:
    r = two_sids
    assert r.get_value(2, pd.Timestamp("2024-01-05"), "close") == 51.0
    assert r.get_value(2, pd.Timestamp("2024-01-05"), "high") == 52.0
    assert np.isnan(r.get_value(2, pd.Timestamp("2024-01-04"), "close"))
    assert r.get_value(2, pd.Timestamp("2024-01-04"), "volume") == 0.0
    # A UTC-midnight label (zipline's old convention) is the same session.
    assert r.get_value(2, pd.Timestamp("2024-01-05", tz="UTC"), "close") == 51.0
    equity = Equity(2, ExchangeInfo("NYSE", "XNYS", "US"))
    assert r.get_value(equity, pd.Timestamp("2024-01-05"), "open") == 50.5


@pytest.mark.parametrize("dt", ["2024-01-06", "2023-12-29", "2024-02-01"])
def test_get_value_off_session_raises(two_sids: ParquetDailyBarReader, dt: str) -> None:
    with pytest.raises(DataNotFoundError, match=rf"sid 2 at {dt}"):
        two_sids.get_value(2, pd.Timestamp(dt), "close")


def test_get_value_unknown_sid_raises(two_sids: ParquetDailyBarReader) -> None:
    with pytest.raises(DataNotFoundError, match="sid 99") as info:
        two_sids.get_value(99, SESSIONS[0], "close")
    assert info.value.context["sid"] == 99


def test_get_last_traded_dt(two_sids: ParquetDailyBarReader) -> None:
    r = two_sids
    assert r.get_last_traded_dt(2, pd.Timestamp("2024-01-02")) is pd.NaT
    assert r.get_last_traded_dt(2, pd.Timestamp("2024-01-04")) == pd.Timestamp("2024-01-03")
    # The 01-10 bar has zero volume: it does not count as a trade.
    assert r.get_last_traded_dt(2, pd.Timestamp("2024-01-12")) == pd.Timestamp("2024-01-05")
    assert r.get_last_traded_dt(5, pd.Timestamp("2024-01-13")) == pd.Timestamp("2024-01-12")
    assert r.get_last_traded_dt(5, pd.Timestamp("2024-03-01")) == SESSIONS[-1]
    assert r.get_last_traded_dt(5, pd.Timestamp("2023-06-01")) is pd.NaT
    with pytest.raises(DataNotFoundError, match="sid 42"):
        r.get_last_traded_dt(42, SESSIONS[0])


def test_load_raw_arrays(two_sids: ParquetDailyBarReader) -> None:
    r = two_sids
    close, volume = r.load_raw_arrays(
        ["close", "volume"], pd.Timestamp("2024-01-03"), pd.Timestamp("2024-01-05"), [5, 77, 2]
    )
    assert close.shape == (3, 3)
    assert close[:, 0].tolist() == [11.0, 12.0, 13.0]
    assert np.isnan(close[:, 1]).all()
    assert (volume[:, 1] == 0.0).all()
    assert close[[0, 2], 2].tolist() == [50.0, 51.0]
    assert np.isnan(close[1, 2])
    close[:] = 0.0  # a fresh array: the panel is untouched
    assert r.get_value(5, pd.Timestamp("2024-01-03"), "close") == 11.0


def test_load_raw_arrays_outside_range_raises(two_sids: ParquetDailyBarReader) -> None:
    with pytest.raises(DataNotFoundError, match="2023-12-01"):
        two_sids.load_raw_arrays(["close"], pd.Timestamp("2023-12-01"), SESSIONS[3], [2])


# --- round trip -------------------------------------------------------------------


@st.composite
def frames(draw: st.DrawFn) -> list[tuple[int, pd.DataFrame]]:
    """A few sids, each with bars on a random subset of the sessions."""
    sids = draw(st.lists(st.integers(0, 10_000), min_size=1, max_size=5, unique=True))
    out = []
    for sid in sids:
        mask = draw(st.lists(st.booleans(), min_size=len(SESSIONS), max_size=len(SESSIONS)))
        index = SESSIONS[np.array(mask, dtype=bool)]
        n = len(index)
        price = st.floats(0.01, 1e6, allow_nan=False, allow_infinity=False)
        opens = np.array(draw(st.lists(price, min_size=n, max_size=n)))
        closes = np.array(draw(st.lists(price, min_size=n, max_size=n)))
        volume = np.array(
            draw(st.lists(st.floats(0, 1e9, allow_nan=False), min_size=n, max_size=n))
        )
        frame = pd.DataFrame(
            {
                "open": opens,
                "high": np.maximum(opens, closes) * 1.5,
                "low": np.minimum(opens, closes) * 0.5,
                "close": closes,
                "volume": volume,
            },
            index=index,
        )
        out.append((sid, frame))
    return out


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=frames())
def test_round_trip_panels_equal_input(
    tmp_path: Path, data: list[tuple[int, pd.DataFrame]]
) -> None:
    path = tmp_path / "rt.parquet"
    # Any well-formed prices, however they jump from bar to bar.
    write(path, data, price_limits=PriceLimits(spike_factor=None))
    r = reader(path)
    assert r.sids.tolist() == sorted(sid for sid, _ in data)
    for sid, frame in data:
        col = r.sid_to_col[sid]
        for name in FIELDS:
            expected = pd.Series(
                0.0 if name == "volume" else np.nan, index=SESSIONS, dtype=np.float64
            )
            expected.loc[frame.index] = frame[name].to_numpy()
            np.testing.assert_array_equal(r.panel(name)[:, col], expected.to_numpy())
