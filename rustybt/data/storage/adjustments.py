"""The adjustments database: splits, mergers and dividends, in SQLite.

Tables (dates are ISO ``YYYY-MM-DD`` text, so they sort and compare as text):

``splits``, ``mergers``, ``dividends`` (sid, effective_date, ratio)
    Price adjustments. Prices of a sid before ``effective_date`` are
    multiplied by ``ratio`` (volumes divided by it): a 2:1 split has ratio
    0.5. A dividend's ratio is ``1 - amount / close`` of the last session
    before its ex_date that has a bar.
``dividend_payouts`` (sid, ex_date, declared_date, record_date, pay_date, amount)
    Every cash dividend as given, for the ledger to pay on ``pay_date``.
``stock_dividend_payouts`` (sid, ex_date, declared_date, record_date, pay_date, payment_sid, ratio)
    Stock dividends: ``ratio`` shares of ``payment_sid`` per share held.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "adjustments.sqlite"
>>> splits = pd.DataFrame(
...     {"sid": [1], "ratio": [0.5], "effective_date": [pd.Timestamp("2024-01-04")]}
... )
>>> writer = SQLiteAdjustmentWriter(path, calendar=None, sessions=pd.DatetimeIndex([]),
...                                 known_sids={1})
>>> writer.write(splits=splits)
>>> writer.finalize(daily_bar_reader=None)
>>> with SQLiteAdjustmentReader(path) as reader:
...     reader.get_splits([1], pd.Timestamp("2024-01-04"))
[(1, 0.5)]
"""

from __future__ import annotations

import os
import sqlite3
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.data.storage.bar_format import as_sid
from rustybt.data.storage.integrity import DEFAULT_REMEDY, database_error
from rustybt.data.validation import validate_adjustments
from rustybt.exceptions import (
    DataError,
    DataNotFoundError,
    DataValidationError,
    ParameterValidationError,
)

if TYPE_CHECKING:
    from rustybt.calendars import ExchangeCalendar
    from rustybt.data.storage.daily_bars import ParquetDailyBarReader

__all__ = ["SQLiteAdjustmentReader", "SQLiteAdjustmentWriter"]

RATIO_TABLES: Final[tuple[str, ...]] = ("splits", "mergers", "dividends")
KINDS: Final[dict[str, str]] = {"splits": "split", "mergers": "merger", "dividends": "dividend"}
RATIO_COLUMNS: Final[tuple[str, ...]] = ("sid", "effective_date", "ratio")
DATE_COLUMNS: Final[tuple[str, ...]] = ("ex_date", "declared_date", "record_date", "pay_date")
DIVIDEND_COLUMNS: Final[tuple[str, ...]] = (
    "sid",
    "amount",
    "ex_date",
    "record_date",
    "declared_date",
    "pay_date",
)
STOCK_DIVIDEND_COLUMNS: Final[tuple[str, ...]] = (
    "sid",
    "payment_sid",
    "ratio",
    "ex_date",
    "record_date",
    "declared_date",
    "pay_date",
)
#: The columns each table's rows are read with (a payout's pay date is last).
_TABLE_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "splits": RATIO_COLUMNS,
    "dividend_payouts": DIVIDEND_COLUMNS,
    "stock_dividend_payouts": STOCK_DIVIDEND_COLUMNS,
}

_SCHEMA: Final[str] = """
CREATE TABLE splits (sid INTEGER NOT NULL, effective_date TEXT NOT NULL, ratio REAL NOT NULL);
CREATE TABLE mergers (sid INTEGER NOT NULL, effective_date TEXT NOT NULL, ratio REAL NOT NULL);
CREATE TABLE dividends (sid INTEGER NOT NULL, effective_date TEXT NOT NULL, ratio REAL NOT NULL);
CREATE TABLE dividend_payouts (
    sid INTEGER NOT NULL, ex_date TEXT NOT NULL, declared_date TEXT, record_date TEXT,
    pay_date TEXT, amount REAL NOT NULL
);
CREATE TABLE stock_dividend_payouts (
    sid INTEGER NOT NULL, ex_date TEXT NOT NULL, declared_date TEXT, record_date TEXT,
    pay_date TEXT, payment_sid INTEGER NOT NULL, ratio REAL NOT NULL
);
CREATE INDEX splits_sid ON splits (sid);
CREATE INDEX splits_effective_date ON splits (effective_date);
CREATE INDEX mergers_sid ON mergers (sid);
CREATE INDEX mergers_effective_date ON mergers (effective_date);
CREATE INDEX dividends_sid ON dividends (sid);
CREATE INDEX dividends_effective_date ON dividends (effective_date);
CREATE INDEX dividend_payouts_ex_date ON dividend_payouts (ex_date);
CREATE INDEX dividend_payouts_pay_date ON dividend_payouts (pay_date);
CREATE INDEX stock_dividend_payouts_ex_date ON stock_dividend_payouts (ex_date);
CREATE INDEX stock_dividend_payouts_pay_date ON stock_dividend_payouts (pay_date);
"""

ObjectArray = npt.NDArray[np.object_]


def iso_date(value: Any) -> str:
    """Return ``value`` as an ISO session date; aware values keep their wall date."""
    ts = value if type(value) is pd.Timestamp else pd.Timestamp(value)
    # The wall date's fields (strftime costs several microseconds; runs ask every session).
    return f"{ts.year:04d}-{ts.month:02d}-{ts.day:02d}"


def _iso_dates(values: Any) -> ObjectArray:
    """ISO date strings of a column of dates; None where a date is missing."""
    index = pd.DatetimeIndex(pd.to_datetime(pd.Series(values), errors="coerce"))
    if index.tz is not None:
        index = index.tz_localize(None)
    out = np.asarray(index.strftime("%Y-%m-%d"), dtype=object)
    out[np.asarray(index.isna(), dtype=bool)] = None
    return out


# --- writing ----------------------------------------------------------------


@dataclass(frozen=True)
class _Batch:
    """The frames of one ``write`` call, copied as given."""

    splits: pd.DataFrame | None
    mergers: pd.DataFrame | None
    dividends: pd.DataFrame | None
    stock_dividends: pd.DataFrame | None


class SQLiteAdjustmentWriter:
    """Collect splits, mergers and dividends; write the adjustments database.

    Parameters
    ----------
    path
        The SQLite file to write (``adjustments.sqlite``).
    calendar
        The bundle's trading calendar (kept for reference).
    sessions
        The bundle's sessions (kept for reference; dividend ratios use the
        daily bar reader's sessions).
    known_sids
        The sids of the bundle's assets. Given, every :meth:`write` is
        validated at once; otherwise validation waits for :meth:`finalize`
        and uses the daily bar reader's sids.

    Notes
    -----
    Frames are in zipline's formats: splits and mergers ``sid, ratio,
    effective_date``; dividends ``sid, amount, ex_date, record_date,
    declared_date, pay_date``; stock dividends ``sid, ex_date, record_date,
    declared_date, pay_date, payment_sid, ratio``.
    """

    def __init__(
        self,
        path: Path | str,
        calendar: ExchangeCalendar | None,
        sessions: pd.DatetimeIndex,
        *,
        known_sids: Iterable[int] | None = None,
    ) -> None:
        self.path = Path(path)
        self.calendar = calendar
        self.sessions = sessions
        self._known_sids = None if known_sids is None else {int(s) for s in known_sids}
        self._batches: list[_Batch] = []
        self._n_validated = 0

    def write(
        self,
        splits: pd.DataFrame | None = None,
        mergers: pd.DataFrame | None = None,
        dividends: pd.DataFrame | None = None,
        stock_dividends: pd.DataFrame | None = None,
    ) -> None:
        """Accumulate adjustments; may be called several times.

        Raises
        ------
        DataValidationError
            If ``known_sids`` was given and a frame lacks a column, names an
            unknown sid, has a non-positive ratio, a negative dividend or a
            missing date (``invalid_rows`` lists the rows).
        """
        # Copies: a caller mutating its frame before finalize changes nothing.
        batch = _Batch(
            *(
                None if f is None else f.copy()
                for f in (splits, mergers, dividends, stock_dividends)
            )
        )
        if self._known_sids is not None:
            self._validate(batch, self._known_sids)
        self._batches.append(batch)
        if self._known_sids is not None:
            self._n_validated = len(self._batches)

    def _validate(self, batch: _Batch, known: set[int]) -> None:
        if batch.splits is not None:
            validate_adjustments(batch.splits, None, known, self._source(batch.splits, "splits"))
        if batch.mergers is not None:
            source = self._source(batch.mergers, "mergers")
            _validate_like_splits(batch.mergers, "mergers", known, source)
        if batch.dividends is not None:
            source = self._source(batch.dividends, "dividends")
            validate_adjustments(None, batch.dividends, known, source)
        if batch.stock_dividends is not None:
            source = self._source(batch.stock_dividends, "stock_dividends")
            _validate_stock_dividends(batch.stock_dividends, known, source)

    def _source(self, frame: pd.DataFrame, table: str) -> str:
        return str(frame.attrs.get("source", f"{table} for {self.path.name}"))

    @property
    def reads_daily_bars(self) -> bool:
        """Whether :meth:`finalize` will read its daily bar reader's file.

        It does for cash dividends (their ratios need closes) and, without
        ``known_sids``, to validate any adjustment row not yet validated.
        When it does not, :meth:`finalize` may run before the daily bar file
        is written.
        """
        pending = self._batches[self._n_validated :]
        if self._known_sids is None and any(_has_rows(batch) for batch in pending):
            return True
        return any(batch.dividends is not None and len(batch.dividends) for batch in self._batches)

    def finalize(self, daily_bar_reader: ParquetDailyBarReader | None) -> None:
        """Compute dividend ratios and write the database atomically.

        Parameters
        ----------
        daily_bar_reader
            The bundle's daily bars: dividend ratios use its closes, and,
            without ``known_sids``, its sids validate the adjustments. May be
            None only if there are no cash dividends and ``known_sids`` was
            given.

        Raises
        ------
        DataValidationError
            If validation was deferred to here and a frame is invalid.

        Warns
        -----
        UserWarning
            For each dividend left out of the ratio table (no close before
            its ex_date, or a ratio <= 0). It stays in ``dividend_payouts``:
            the cash is still paid.
        """
        pending = self._batches[self._n_validated :]
        known = self._known_sids
        if known is None:
            # Loading the reader's sids reads its file: only when a row needs them
            # (an empty frame validates the same against any set of sids).
            known = set()
            if daily_bar_reader is not None and any(_has_rows(batch) for batch in pending):
                known = set(daily_bar_reader.sids.tolist())
        for batch in pending:
            self._validate(batch, known)
        self._n_validated = len(self._batches)
        tables = self._tables()
        tables["dividends"] = _dividend_ratios(tables["dividend_payouts"], daily_bar_reader)
        self._write_database(tables)

    def _tables(self) -> dict[str, pd.DataFrame]:
        """Every stored table but the dividend ratios, from the validated frames."""

        def rows(attr: str, convert: Callable[[pd.DataFrame], pd.DataFrame]) -> list[pd.DataFrame]:
            frames = (getattr(batch, attr) for batch in self._batches)
            return [convert(frame) for frame in frames if frame is not None]

        return {
            "splits": _concat(rows("splits", _ratio_rows), RATIO_COLUMNS),
            "mergers": _concat(rows("mergers", _ratio_rows), RATIO_COLUMNS),
            "dividend_payouts": _concat(rows("dividends", _dividend_rows), DIVIDEND_COLUMNS),
            "stock_dividend_payouts": _concat(
                rows("stock_dividends", _stock_dividend_rows), STOCK_DIVIDEND_COLUMNS
            ),
        }

    def _write_database(self, tables: dict[str, pd.DataFrame]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        try:
            with closing(sqlite3.connect(tmp)) as conn:
                _fast_new_file(conn)
                conn.executescript(_SCHEMA)
                for table, frame in tables.items():
                    _insert(conn, table, frame)
                conn.commit()
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


def _fast_new_file(conn: sqlite3.Connection) -> None:
    """No disk syncs and no journal file while a new database file is written.

    The file only becomes visible by a rename once complete, like the bar
    files (which are never synced either); syncing each of its statements
    to disk (every CREATE of the schema commits) would only cost time.
    """
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA journal_mode = MEMORY")


def _has_rows(batch: _Batch) -> bool:
    frames = (batch.splits, batch.mergers, batch.dividends, batch.stock_dividends)
    return any(frame is not None and len(frame) > 0 for frame in frames)


def _ratio_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sid": frame["sid"].to_numpy(dtype=np.int64),
            "effective_date": _iso_dates(frame["effective_date"]),
            "ratio": frame["ratio"].to_numpy(dtype=np.float64),
        }
    )


def _dividend_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return _payout_rows(frame, {"amount": np.float64})


def _stock_dividend_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return _payout_rows(frame, {"payment_sid": np.int64, "ratio": np.float64})


def _payout_rows(frame: pd.DataFrame, values: dict[str, type[np.generic]]) -> pd.DataFrame:
    """Payout rows with their value columns; absent optional dates become NULL."""
    rows: dict[str, Any] = {"sid": frame["sid"].to_numpy(dtype=np.int64)}
    for name, dtype in values.items():
        rows[name] = frame[name].to_numpy(dtype=dtype)
    for name in DATE_COLUMNS:
        rows[name] = _iso_dates(frame[name]) if name in frame.columns else np.full(len(frame), None)
    return pd.DataFrame(rows)


def _concat(parts: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """All parts as one frame, sorted by sid then date, in ``columns`` order."""
    if not parts:
        return pd.DataFrame({name: [] for name in columns})
    frame = pd.concat(parts, ignore_index=True)
    date = "effective_date" if "effective_date" in frame.columns else "ex_date"
    return frame.sort_values(["sid", date], kind="stable").loc[:, list(columns)]


def _insert(conn: sqlite3.Connection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    names = list(frame.columns)
    columns = [frame[name].to_numpy(dtype=object).tolist() for name in names]
    placeholders = ", ".join("?" for _ in names)
    conn.executemany(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})",
        zip(*columns, strict=True),
    )


def _validate_like_splits(frame: pd.DataFrame, table: str, known: set[int], source: str) -> None:
    """Validate a frame in the splits format, naming ``table`` in any error."""
    try:
        validate_adjustments(frame, None, known, source)
    except DataValidationError as exc:
        invalid = exc.invalid_rows.copy()
        if "table" in invalid.columns:
            invalid["table"] = table
        raise DataValidationError(
            exc.message.replace("splits", table), invalid_rows=invalid, context=exc.context
        ) from None


def _validate_stock_dividends(frame: pd.DataFrame, known: set[int], source: str) -> None:
    """Stock dividends: a split-like check of (sid, ratio, ex_date), then payment_sid."""
    missing = [name for name in STOCK_DIVIDEND_COLUMNS[:4] if name not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{source}: stock_dividends missing required column(s) {', '.join(missing)}",
            context={"source": source, "table": "stock_dividends", "missing_columns": missing},
        )
    as_splits = pd.DataFrame(
        {"sid": frame["sid"], "ratio": frame["ratio"], "effective_date": frame["ex_date"]}
    )
    _validate_like_splits(as_splits, "stock_dividends", known, source)
    payment = pd.to_numeric(frame["payment_sid"], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isin(payment, np.fromiter(known, dtype=np.float64)))
    if bad.size:
        rows = ", ".join(f"row {i + 1} (payment_sid {payment[i]:g})" for i in bad[:10].tolist())
        raise DataValidationError(
            f"{source}: {bad.size} stock dividend row(s) pay an unknown sid: {rows}",
            invalid_rows=frame.iloc[bad].assign(row=bad + 1, reason="unknown payment_sid"),
            context={"source": source, "table": "stock_dividends", "n_invalid": int(bad.size)},
        )


def _dividend_ratios(payouts: pd.DataFrame, reader: ParquetDailyBarReader | None) -> pd.DataFrame:
    """Price ratios of cash dividends: ``1 - amount / previous close``.

    The previous close is the close of the last session before the ex_date
    on which the sid has a bar. Dividends without one, or whose ratio would
    be <= 0, are left out with a warning (zipline drops them too).
    """
    if payouts.empty:
        return pd.DataFrame({name: [] for name in RATIO_COLUMNS})
    if reader is None:
        raise DataError(
            "dividend ratios need the daily bar reader's closes; finalize got None",
            context={"n_dividends": len(payouts)},
        )
    sids = payouts["sid"].to_numpy(dtype=np.int64)
    amounts = payouts["amount"].to_numpy(dtype=np.float64)
    ex_dates = payouts["ex_date"].to_numpy(dtype=object)
    ex_values = pd.DatetimeIndex(pd.to_datetime(ex_dates, format="%Y-%m-%d")).as_unit("ns").asi8
    prev_close = _previous_closes(reader, sids, ex_values)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = 1.0 - amounts / prev_close
    keep = np.isfinite(ratios) & (ratios > 0.0)
    for i in np.flatnonzero(~keep).tolist():
        warnings.warn(
            _dropped_reason(sids[i], ex_dates[i], amounts[i], prev_close[i]), stacklevel=3
        )
    return pd.DataFrame(
        {"sid": sids[keep], "effective_date": ex_dates[keep], "ratio": ratios[keep]}
    )


def _previous_closes(
    reader: ParquetDailyBarReader, sids: npt.NDArray[np.int64], ex_dates: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Close of the last session before each ex_date with a bar; NaN if none."""
    out = np.full(sids.size, np.nan)
    close = reader.panel("close")
    known_sids = reader.sids
    if known_sids.size == 0 or close.shape[0] == 0:
        return out
    # Row of the last session strictly before each ex_date.
    rows = np.searchsorted(reader.sessions.asi8, ex_dates, side="left") - 1
    cols = np.minimum(np.searchsorted(known_sids, sids), known_sids.size - 1)
    ok = (rows >= 0) & (known_sids[cols] == sids)
    # Per (session, sid): the last row at or before it with a close.
    index = np.arange(close.shape[0], dtype=np.int64)[:, None]
    last_bar = np.maximum.accumulate(np.where(np.isnan(close), -1, index), axis=0)
    bar_rows = np.full(sids.size, -1, dtype=np.int64)
    bar_rows[ok] = last_bar[rows[ok], cols[ok]]
    has_bar = bar_rows >= 0
    out[has_bar] = close[bar_rows[has_bar], cols[has_bar]]
    return out


def _dropped_reason(sid: int, ex_date: str, amount: float, prev_close: float) -> str:
    why = (
        "no close before the ex_date"
        if np.isnan(prev_close)
        else f"amount {amount:g} >= previous close {prev_close:g} (ratio <= 0)"
    )
    return (
        f"dividend of sid {sid} with ex_date {ex_date} left out of the price adjustments: "
        f"{why}; it is still paid"
    )


# --- reading ----------------------------------------------------------------


class SQLiteAdjustmentReader:
    """Read the adjustments database written by :class:`SQLiteAdjustmentWriter`.

    Parameters
    ----------
    path
        The ``adjustments.sqlite`` file. Nothing is opened until first use;
        the file is opened read-only and may be shared between threads.
    remedy
        The end of the message of a corruption error: what the user should do.
    """

    def __init__(self, path: Path | str, *, remedy: str = DEFAULT_REMEDY) -> None:
        self.path = Path(path)
        self.remedy = remedy
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._indexes: dict[tuple[str, str], dict[str, list[tuple[Any, ...]]]] = {}
        self._empty_frames: dict[str, pd.DataFrame] = {}

    # -- connection ------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._conn is None:
                self._conn = self._connect()
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise database_error(self.path, exc, self.remedy) from exc

    def _connect(self) -> sqlite3.Connection:
        if not self.path.exists():
            raise DataNotFoundError(
                f"adjustments database {self.path} does not exist",
                context={"file": str(self.path)},
            )
        uri = self.path.resolve().as_uri() + "?mode=ro"
        # One connection shared by threads, every use under self._lock.
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    def close(self) -> None:
        """Close the connection (a later query reopens it)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SQLiteAdjustmentReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _rows_on(self, table: str, date_column: str, date: Any) -> list[tuple[Any, ...]]:
        """The rows of ``table`` whose ``date_column`` is ``date``'s :func:`iso_date`, by sid.

        Each table is read once, on first use, into an index by date: a run
        asks at every session, and most sessions have no event (and most
        tables no rows: then the date is not even converted).
        """
        key = (table, date_column)
        index = self._indexes.get(key)
        if index is None:
            columns = _TABLE_COLUMNS[table]
            rows = self._query(
                f"SELECT {', '.join(columns)}, {date_column} FROM {table} ORDER BY sid, rowid"
            )
            index = {}
            for row in rows:
                index.setdefault(row[-1], []).append(row[:-1])
            self._indexes[key] = index
        return index.get(iso_date(date), []) if index else []

    # -- price adjustments -------------------------------------------------------

    def get_adjustments_for_sid(
        self, table_name: str, sid: int
    ) -> list[tuple[pd.Timestamp, float]]:
        """``(effective_date, ratio)`` of one sid in ``splits``, ``mergers`` or ``dividends``."""
        _check_ratio_table(table_name)
        rows = self._query(
            f"SELECT effective_date, ratio FROM {table_name} WHERE sid = ? ORDER BY effective_date",
            (as_sid(sid),),
        )
        return [(pd.Timestamp(date), float(ratio)) for date, ratio in rows]

    def load_adjustments_frame(self) -> pd.DataFrame:
        """Every price adjustment: columns ``sid, effective_date, ratio, kind``.

        ``kind`` is ``"split"``, ``"merger"`` or ``"dividend"``; rows are
        sorted by sid then effective_date.
        """
        union = " UNION ALL ".join(
            f"SELECT sid, effective_date, ratio, '{KINDS[t]}' FROM {t}" for t in RATIO_TABLES
        )
        rows = self._query(f"{union} ORDER BY sid, effective_date")
        names = ["sid", "effective_date", "ratio", "kind"]
        return _typed_frame(pd.DataFrame.from_records(rows, columns=names))

    def get_splits(self, sids: Iterable[Any], dt: Any) -> list[tuple[int, float]]:
        """``(sid, ratio)`` of the splits of ``sids`` effective on session ``dt``."""
        wanted = {as_sid(s) for s in sids}
        rows = self._rows_on("splits", "effective_date", dt) if wanted else []
        return [(int(sid), float(ratio)) for sid, _, ratio in rows if sid in wanted]

    # -- payouts ---------------------------------------------------------------

    def ex_dividends(
        self, sids: Iterable[Any], date: Any
    ) -> tuple[list[tuple[int, float, pd.Timestamp]], list[tuple[int, int, float, pd.Timestamp]]]:
        """The cash and stock dividends of ``sids`` going ex on ``date``, as plain rows.

        What a ledger earns at a session's open: ``(sid, amount, pay_date)``
        and ``(sid, payment_sid, ratio, pay_date)``, by sid.
        """
        cash_rows = self._rows_on("dividend_payouts", "ex_date", date)
        stock_rows = self._rows_on("stock_dividend_payouts", "ex_date", date)
        if not cash_rows and not stock_rows:  # most sessions: nothing goes ex
            return [], []
        wanted = {as_sid(s) for s in sids}
        cash = [
            (int(row[0]), float(row[1]), pd.Timestamp(row[-1]))
            for row in cash_rows
            if row[0] in wanted
        ]
        stock = [
            (int(row[0]), int(row[1]), float(row[2]), pd.Timestamp(row[-1]))
            for row in stock_rows
            if row[0] in wanted
        ]
        return cash, stock

    def get_dividends_with_ex_date(self, sids: Iterable[Any], date: Any) -> pd.DataFrame:
        """Cash dividends of ``sids`` going ex on ``date``.

        Columns ``sid, amount, ex_date, record_date, declared_date, pay_date``.
        """
        return self._payouts("dividend_payouts", DIVIDEND_COLUMNS, "ex_date", sids, date)

    def get_dividends_with_pay_date(self, sids: Iterable[Any], date: Any) -> pd.DataFrame:
        """Cash dividends of ``sids`` paid on ``date`` (same columns)."""
        return self._payouts("dividend_payouts", DIVIDEND_COLUMNS, "pay_date", sids, date)

    def get_stock_dividends_with_ex_date(self, sids: Iterable[Any], date: Any) -> pd.DataFrame:
        """Stock dividends of ``sids`` going ex on ``date``.

        Columns ``sid, payment_sid, ratio, ex_date, record_date,
        declared_date, pay_date``.
        """
        return self._payouts(
            "stock_dividend_payouts", STOCK_DIVIDEND_COLUMNS, "ex_date", sids, date
        )

    def get_stock_dividends_with_pay_date(self, sids: Iterable[Any], date: Any) -> pd.DataFrame:
        """Stock dividends of ``sids`` paid on ``date`` (same columns)."""
        return self._payouts(
            "stock_dividend_payouts", STOCK_DIVIDEND_COLUMNS, "pay_date", sids, date
        )

    def _payouts(
        self,
        table: str,
        columns: Sequence[str],
        date_column: str,
        sids: Iterable[Any],
        date: Any,
    ) -> pd.DataFrame:
        wanted = {as_sid(s) for s in sids}
        rows = [row for row in self._rows_on(table, date_column, date) if row[0] in wanted]
        if not rows:
            # The common case, asked every session: building a typed frame costs
            # milliseconds, copying a ready empty one microseconds.
            empty = self._empty_frames.get(table)
            if empty is None:
                empty = _typed_frame(pd.DataFrame.from_records([], columns=list(columns)))
                self._empty_frames[table] = empty
            return empty.copy()
        return _typed_frame(pd.DataFrame.from_records(rows, columns=list(columns)))

    def unpack_db_to_component_dfs(self) -> dict[str, pd.DataFrame]:
        """Every table as a DataFrame (dates as tz-naive timestamps)."""
        tables = (*RATIO_TABLES, "dividend_payouts", "stock_dividend_payouts")
        out: dict[str, pd.DataFrame] = {}
        for table in tables:
            names = [row[1] for row in self._query(f"PRAGMA table_info({table})")]
            rows = self._query(f"SELECT * FROM {table} ORDER BY rowid")
            out[table] = _typed_frame(pd.DataFrame.from_records(rows, columns=names))
        return out


def _check_ratio_table(table_name: str) -> None:
    if table_name not in RATIO_TABLES:
        raise ParameterValidationError(
            f"unknown adjustment table {table_name!r}; expected one of {', '.join(RATIO_TABLES)}",
            context={"table_name": table_name},
        )


def _to_datetimes(values: Sequence[Any]) -> pd.DatetimeIndex:
    """ISO date texts (or None) as tz-naive nanosecond timestamps."""
    return pd.DatetimeIndex(
        pd.to_datetime(pd.Series(values, dtype=object), format="%Y-%m-%d")
    ).as_unit("ns")


def _typed_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a table's columns their dtypes, even when it has no rows."""
    for name in frame.columns:
        if name in ("sid", "payment_sid"):
            frame[name] = frame[name].to_numpy(dtype=np.int64)
        elif name in ("ratio", "amount"):
            frame[name] = frame[name].to_numpy(dtype=np.float64)
        elif name != "kind":  # a date column
            frame[name] = _to_datetimes(frame[name].tolist())
    return frame
