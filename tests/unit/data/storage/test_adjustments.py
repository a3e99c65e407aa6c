"""SQLiteAdjustmentWriter / SQLiteAdjustmentReader against real SQLite files."""

from __future__ import annotations

import sqlite3
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rustybt.calendars import get_calendar
from rustybt.data.storage import (
    ParquetDailyBarReader,
    ParquetDailyBarWriter,
    SQLiteAdjustmentReader,
    SQLiteAdjustmentWriter,
)
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
TABLES = ["splits", "mergers", "dividends", "dividend_payouts", "stock_dividend_payouts"]


def daily_bars(dates: pd.DatetimeIndex, closes: list[float] | np.ndarray) -> pd.DataFrame:
    close = np.asarray(closes, dtype=float)
    return pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 100.0},
        index=dates,
    )


@pytest.fixture
def daily_reader(tmp_path: Path) -> ParquetDailyBarReader:
    """sid 1 every session (close 10, 11, ...); sid 2 on Jan 3 and 8 only; sid 3 at 5."""
    path = tmp_path / "daily_equities.parquet"
    writer = ParquetDailyBarWriter(path, CAL, START, END)
    writer.write(
        [
            (1, daily_bars(SESSIONS, 10.0 + np.arange(len(SESSIONS)))),
            (2, daily_bars(pd.DatetimeIndex(["2024-01-03", "2024-01-08"]), [40.0, 42.0])),
            (3, daily_bars(SESSIONS, np.full(len(SESSIONS), 5.0))),
        ]
    )
    writer.finalize()
    return ParquetDailyBarReader(path, CAL, START, END)


def close_on(reader: ParquetDailyBarReader, sid: int, day: str) -> float:
    return reader.get_value(sid, pd.Timestamp(day), "close")


DIVIDENDS = pd.DataFrame(
    {
        "sid": [1, 2, 1, 1, 3],
        "amount": [0.5, 1.0, 0.25, 0.3, 100.0],
        "ex_date": pd.to_datetime(
            ["2024-01-05", "2024-01-10", "2024-01-02", "2024-01-13", "2024-01-09"]
        ),
        "record_date": pd.to_datetime(
            ["2024-01-08", "2024-01-11", "2024-01-03", "2024-01-16", "2024-01-10"]
        ),
        "declared_date": pd.to_datetime(["2023-12-20"] * 5),
        "pay_date": pd.to_datetime(
            ["2024-01-20", "2024-01-20", "2024-01-10", "2024-01-25", "2024-01-20"]
        ),
    }
)
SPLITS = pd.DataFrame({"sid": [1], "ratio": [0.5], "effective_date": [pd.Timestamp("2024-01-16")]})
MERGERS = pd.DataFrame({"sid": [2], "ratio": [0.9], "effective_date": [pd.Timestamp("2024-01-17")]})
STOCK_DIVIDENDS = pd.DataFrame(
    {
        "sid": [1],
        "ex_date": [pd.Timestamp("2024-01-18")],
        "record_date": [pd.Timestamp("2024-01-19")],
        "declared_date": [pd.Timestamp("2024-01-02")],
        "pay_date": [pd.Timestamp("2024-01-25")],
        "payment_sid": [3],
        "ratio": [0.1],
    }
)


@pytest.fixture
def db(tmp_path: Path, daily_reader: ParquetDailyBarReader) -> Path:
    path = tmp_path / "adjustments.sqlite"
    writer = SQLiteAdjustmentWriter(path, CAL, SESSIONS)
    writer.write(splits=SPLITS, mergers=MERGERS, dividends=DIVIDENDS)
    writer.write(stock_dividends=STOCK_DIVIDENDS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        writer.finalize(daily_reader)
    return path


@pytest.fixture
def adj(db: Path) -> Iterator[SQLiteAdjustmentReader]:
    with SQLiteAdjustmentReader(db) as reader:
        yield reader


# --- dividend ratios ----------------------------------------------------------------


def test_dividend_ratios_use_last_close_before_ex_date(
    adj: SQLiteAdjustmentReader, daily_reader: ParquetDailyBarReader
) -> None:
    ratios = dict(
        ((sid, str(date.date())), ratio)
        for sid in (1, 2, 3)
        for date, ratio in adj.get_adjustments_for_sid("dividends", sid)
    )
    assert ratios[(1, "2024-01-05")] == pytest.approx(
        1 - 0.5 / close_on(daily_reader, 1, "2024-01-04")
    )
    # sid 2 has no bar on Jan 9: its last close before the ex_date is Jan 8's.
    assert ratios[(2, "2024-01-10")] == pytest.approx(1 - 1.0 / 42.0)
    # A Saturday ex_date uses Friday's close.
    assert ratios[(1, "2024-01-13")] == pytest.approx(
        1 - 0.3 / close_on(daily_reader, 1, "2024-01-12")
    )
    assert len(ratios) == 3


def test_uncomputable_dividends_warn_and_are_still_paid(
    tmp_path: Path, daily_reader: ParquetDailyBarReader
) -> None:
    path = tmp_path / "adj.sqlite"
    writer = SQLiteAdjustmentWriter(path, CAL, SESSIONS)
    writer.write(dividends=DIVIDENDS)
    with pytest.warns(UserWarning) as record:
        writer.finalize(daily_reader)
    messages = [str(w.message) for w in record]
    assert any("sid 1" in m and "2024-01-02" in m and "no close" in m for m in messages)
    assert any("sid 3" in m and "2024-01-09" in m and "ratio <= 0" in m for m in messages)
    assert len(messages) == 2
    with SQLiteAdjustmentReader(path) as reader:
        frames = reader.unpack_db_to_component_dfs()
    assert len(frames["dividend_payouts"]) == 5
    assert len(frames["dividends"]) == 3
    assert 3 not in frames["dividends"]["sid"].tolist()


def test_dividends_need_the_daily_reader(tmp_path: Path) -> None:
    writer = SQLiteAdjustmentWriter(tmp_path / "a.sqlite", CAL, SESSIONS, known_sids={1, 2, 3})
    writer.write(dividends=DIVIDENDS)
    with pytest.raises(DataError, match="daily bar reader"):
        writer.finalize(None)


# --- storage --------------------------------------------------------------------


def test_dates_are_iso_text_and_ratios_as_given(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        splits = conn.execute("SELECT sid, effective_date, ratio FROM splits").fetchall()
        mergers = conn.execute("SELECT sid, effective_date, ratio FROM mergers").fetchall()
        payout = conn.execute(
            "SELECT ex_date, declared_date, record_date, pay_date, amount FROM dividend_payouts "
            "WHERE sid = 2"
        ).fetchall()
        types = conn.execute("SELECT typeof(effective_date) FROM splits").fetchall()
    assert splits == [(1, "2024-01-16", 0.5)]
    assert mergers == [(2, "2024-01-17", 0.9)]
    assert payout == [("2024-01-10", "2023-12-20", "2024-01-11", "2024-01-20", 1.0)]
    assert types == [("text",)]


def test_no_tmp_file_left(db: Path) -> None:
    assert db.exists()
    assert list(db.parent.glob("*.tmp")) == []


def test_empty_database(tmp_path: Path, daily_reader: ParquetDailyBarReader) -> None:
    path = tmp_path / "empty.sqlite"
    SQLiteAdjustmentWriter(path, CAL, SESSIONS).finalize(daily_reader)
    with SQLiteAdjustmentReader(path) as reader:
        frames = reader.unpack_db_to_component_dfs()
        assert sorted(frames) == sorted(TABLES)
        assert all(frame.empty for frame in frames.values())
        assert reader.load_adjustments_frame().empty
        assert reader.get_splits([1], SESSIONS[0]) == []


def test_optional_dividend_dates_may_be_absent(
    tmp_path: Path, daily_reader: ParquetDailyBarReader
) -> None:
    path = tmp_path / "a.sqlite"
    writer = SQLiteAdjustmentWriter(path, CAL, SESSIONS)
    writer.write(dividends=DIVIDENDS[["sid", "amount", "ex_date"]].iloc[:1])
    writer.finalize(daily_reader)
    with SQLiteAdjustmentReader(path) as reader:
        frame = reader.get_dividends_with_ex_date([1], "2024-01-05")
    assert frame["pay_date"].isna().all()
    assert frame["amount"].tolist() == [0.5]


# --- validation -------------------------------------------------------------------


def test_unknown_sid_rejected_at_write_with_known_sids(tmp_path: Path) -> None:
    writer = SQLiteAdjustmentWriter(tmp_path / "a.sqlite", CAL, SESSIONS, known_sids=[1])
    bad = pd.DataFrame({"sid": [1, 8], "ratio": [0.5, 0.5], "effective_date": SESSIONS[:2]})
    with pytest.raises(DataValidationError, match="unknown sid 8") as info:
        writer.write(splits=bad)
    assert info.value.invalid_rows["row"].tolist() == [2]


def test_validation_deferred_to_finalize_uses_daily_sids(
    tmp_path: Path, daily_reader: ParquetDailyBarReader
) -> None:
    path = tmp_path / "a.sqlite"
    writer = SQLiteAdjustmentWriter(path, CAL, SESSIONS)
    writer.write(dividends=pd.DataFrame({"sid": [9], "amount": [1.0], "ex_date": [SESSIONS[3]]}))
    with pytest.raises(DataValidationError, match="unknown sid 9"):
        writer.finalize(daily_reader)
    assert not path.exists()


class _SidsUnread:
    """A daily reader stand-in whose sids must not be asked for."""

    @property
    def sids(self) -> np.ndarray:
        raise AssertionError("the reader's sids were loaded")


def test_empty_frames_do_not_load_the_daily_sids(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    writer = SQLiteAdjustmentWriter(path, CAL, SESSIONS)
    writer.write(splits=SPLITS.iloc[:0], dividends=DIVIDENDS.iloc[:0])
    writer.finalize(_SidsUnread())  # type: ignore[arg-type]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM splits").fetchone() == (0,)
    # An empty frame still needs its columns, whatever the sids.
    writer = SQLiteAdjustmentWriter(tmp_path / "b.sqlite", CAL, SESSIONS)
    writer.write(splits=SPLITS.iloc[:0].drop(columns="ratio"))
    with pytest.raises(DataValidationError, match="missing required column"):
        writer.finalize(_SidsUnread())  # type: ignore[arg-type]


def test_reads_daily_bars_says_when_finalize_needs_the_daily_file(tmp_path: Path) -> None:
    writer = SQLiteAdjustmentWriter(tmp_path / "a.sqlite", CAL, SESSIONS)
    assert not writer.reads_daily_bars
    writer.write(splits=SPLITS.iloc[:0], dividends=DIVIDENDS.iloc[:0])
    assert not writer.reads_daily_bars
    writer.write(splits=SPLITS)
    assert writer.reads_daily_bars  # its sids validate the split
    known = SQLiteAdjustmentWriter(tmp_path / "b.sqlite", CAL, SESSIONS, known_sids={1, 2, 3})
    known.write(splits=SPLITS)
    assert not known.reads_daily_bars
    known.write(dividends=DIVIDENDS)
    assert known.reads_daily_bars  # dividend ratios need closes


def test_merger_errors_name_mergers(tmp_path: Path) -> None:
    writer = SQLiteAdjustmentWriter(tmp_path / "a.sqlite", CAL, SESSIONS, known_sids={1})
    bad = pd.DataFrame({"sid": [1], "ratio": [-2.0], "effective_date": [SESSIONS[1]]})
    with pytest.raises(DataValidationError, match="mergers row 1") as info:
        writer.write(mergers=bad)
    assert info.value.invalid_rows["table"].tolist() == ["mergers"]


def test_stock_dividend_unknown_payment_sid(tmp_path: Path) -> None:
    writer = SQLiteAdjustmentWriter(tmp_path / "a.sqlite", CAL, SESSIONS, known_sids={1})
    with pytest.raises(DataValidationError, match="payment_sid 3"):
        writer.write(stock_dividends=STOCK_DIVIDENDS)


def test_negative_dividend_rejected(tmp_path: Path) -> None:
    writer = SQLiteAdjustmentWriter(tmp_path / "a.sqlite", CAL, SESSIONS, known_sids={1})
    bad = pd.DataFrame({"sid": [1], "amount": [-1.0], "ex_date": [SESSIONS[2]]})
    with pytest.raises(DataValidationError, match=r"amount -1\.0 < 0"):
        writer.write(dividends=bad)


def test_frames_are_copied_at_write(tmp_path: Path, daily_reader: ParquetDailyBarReader) -> None:
    path = tmp_path / "a.sqlite"
    writer = SQLiteAdjustmentWriter(path, CAL, SESSIONS)
    splits = SPLITS.copy()
    writer.write(splits=splits)
    splits.loc[0, "ratio"] = 0.25
    writer.finalize(daily_reader)
    with SQLiteAdjustmentReader(path) as reader:
        assert reader.get_adjustments_for_sid("splits", 1)[0][1] == 0.5


# --- reading ----------------------------------------------------------------------


def test_get_adjustments_for_sid(adj: SQLiteAdjustmentReader) -> None:
    assert adj.get_adjustments_for_sid("splits", 1) == [(pd.Timestamp("2024-01-16"), 0.5)]
    assert adj.get_adjustments_for_sid("mergers", 2) == [(pd.Timestamp("2024-01-17"), 0.9)]
    assert adj.get_adjustments_for_sid("splits", 2) == []
    with pytest.raises(ParameterValidationError, match="'splits; DROP'"):
        adj.get_adjustments_for_sid("splits; DROP", 1)


def test_load_adjustments_frame(adj: SQLiteAdjustmentReader) -> None:
    frame = adj.load_adjustments_frame()
    assert list(frame.columns) == ["sid", "effective_date", "ratio", "kind"]
    assert frame["sid"].dtype == np.int64
    assert frame["effective_date"].dtype == "datetime64[ns]"
    assert frame["ratio"].dtype == np.float64
    rows = list(frame[["sid", "kind"]].itertuples(index=False, name=None))
    assert rows == [
        (1, "dividend"),
        (1, "dividend"),
        (1, "split"),
        (2, "dividend"),
        (2, "merger"),
    ]
    assert frame["effective_date"].tolist()[:3] == list(
        pd.to_datetime(["2024-01-05", "2024-01-13", "2024-01-16"])
    )


def test_get_splits(adj: SQLiteAdjustmentReader) -> None:
    assert adj.get_splits([1, 2], pd.Timestamp("2024-01-16")) == [(1, 0.5)]
    assert adj.get_splits([2], pd.Timestamp("2024-01-16")) == []
    assert adj.get_splits([1], pd.Timestamp("2024-01-17")) == []
    # A UTC-midnight label is the same session.
    assert adj.get_splits([1], pd.Timestamp("2024-01-16", tz="UTC")) == [(1, 0.5)]


def test_dividends_by_ex_and_pay_date(adj: SQLiteAdjustmentReader) -> None:
    ex = adj.get_dividends_with_ex_date([1, 2], pd.Timestamp("2024-01-05"))
    assert list(ex.columns) == [
        "sid",
        "amount",
        "ex_date",
        "record_date",
        "declared_date",
        "pay_date",
    ]
    assert ex["sid"].tolist() == [1]
    assert ex["pay_date"].tolist() == [pd.Timestamp("2024-01-20")]
    paid = adj.get_dividends_with_pay_date([1, 2, 3], pd.Timestamp("2024-01-20"))
    # The sid 3 dividend has no ratio but is still paid.
    assert paid["sid"].tolist() == [1, 2, 3]
    assert paid["amount"].tolist() == [0.5, 1.0, 100.0]
    assert adj.get_dividends_with_pay_date([2], pd.Timestamp("2024-01-10")).empty


def test_empty_payout_frame_is_typed(adj: SQLiteAdjustmentReader) -> None:
    frame = adj.get_dividends_with_ex_date([1], pd.Timestamp("2024-01-22"))
    assert frame.empty
    assert frame["sid"].dtype == np.int64
    assert frame["amount"].dtype == np.float64
    assert frame["ex_date"].dtype == "datetime64[ns]"


def test_stock_dividends(adj: SQLiteAdjustmentReader) -> None:
    frame = adj.get_stock_dividends_with_pay_date([1], pd.Timestamp("2024-01-25"))
    assert frame[["sid", "payment_sid", "ratio"]].values.tolist() == [[1, 3, 0.1]]
    assert adj.get_stock_dividends_with_ex_date([1], "2024-01-18")["ex_date"].tolist() == [
        pd.Timestamp("2024-01-18")
    ]


def test_unpack_db_to_component_dfs(adj: SQLiteAdjustmentReader) -> None:
    frames = adj.unpack_db_to_component_dfs()
    assert sorted(frames) == sorted(TABLES)
    assert list(frames["splits"].columns) == ["sid", "effective_date", "ratio"]
    assert frames["splits"]["effective_date"].tolist() == [pd.Timestamp("2024-01-16")]
    payouts = frames["dividend_payouts"]
    assert set(payouts.columns) >= {"sid", "amount", "ex_date", "pay_date", "record_date"}
    assert payouts["declared_date"].dtype == "datetime64[ns]"
    assert frames["stock_dividend_payouts"]["payment_sid"].tolist() == [3]


def test_reader_is_lazy_and_names_missing_file(tmp_path: Path) -> None:
    reader = SQLiteAdjustmentReader(tmp_path / "none.sqlite")
    with pytest.raises(DataNotFoundError, match=r"none\.sqlite"):
        reader.load_adjustments_frame()
    assert not (tmp_path / "none.sqlite").exists()


def test_reader_shared_across_threads(db: Path) -> None:
    reader = SQLiteAdjustmentReader(db)
    results: list[list[tuple[int, float]]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                results.append(reader.get_splits([1], pd.Timestamp("2024-01-16")))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reader.close()
    assert errors == []
    assert results == [[(1, 0.5)]] * 80


def test_reader_is_read_only(db: Path) -> None:
    reader = SQLiteAdjustmentReader(db)
    reader.get_splits([1], SESSIONS[0])
    assert reader._conn is not None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader._conn.execute("DELETE FROM splits")
    reader.close()


def test_ex_dividends_are_the_frames_rows(adj: SQLiteAdjustmentReader) -> None:
    """ex_dividends gives the rows of the ex-date frames, for the sids asked only."""
    for day in ("2024-01-05", "2024-01-18", "2024-01-22"):
        cash, stock = adj.ex_dividends([1, 2, 3], pd.Timestamp(day))
        frame = adj.get_dividends_with_ex_date([1, 2, 3], day)
        assert cash == list(zip(frame["sid"], frame["amount"], frame["pay_date"], strict=True))
        frame = adj.get_stock_dividends_with_ex_date([1, 2, 3], day)
        assert stock == list(
            zip(frame["sid"], frame["payment_sid"], frame["ratio"], frame["pay_date"], strict=True)
        )
    cash, stock = adj.ex_dividends([1], "2024-01-05")
    assert cash == [(1, 0.5, pd.Timestamp("2024-01-20"))]
    assert adj.ex_dividends([2], "2024-01-05") == ([], [])
    assert adj.ex_dividends([1], "2024-01-18")[1] == [(1, 3, 0.1, pd.Timestamp("2024-01-25"))]
