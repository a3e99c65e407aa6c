"""The csvdir bundle's per-file reader: one CSV at a time, every bad row named.

Each file is read into a DataFrame in file order, its rows sorted by the
bundle's range (rows the calendar cannot hold are refused, rows outside a
registered ``start_session``/``end_session`` left out and counted), then
handed to the bar writer's ``write``, which validates it (with the bundle's
price limits, :mod:`rustybt.data.plausibility`); the ``dividend``
and ``split`` columns become adjustments on the way. A bad file does not stop
the pass: every file's errors are collected, so that the ingest refuses them
all at once. This path reads any folder zipline reads, and it is the one that
reports errors: the bulk path (:mod:`rustybt.data.bundles.csvdir_bulk`) leaves
a folder it cannot read cleanly to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Final, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from rustybt.calendars import ExchangeCalendar
from rustybt.data.bundles.progress import Advance
from rustybt.data.plausibility import PRICE_COLUMNS, PriceLimits, SessionPrices
from rustybt.data.validation import invalid_rows_error
from rustybt.exceptions import DataValidationError

__all__ = [
    "FIRST_LINE",
    "TFRAMES",
    "Collected",
    "FileRows",
    "FrameReader",
    "TFrame",
    "combine_errors",
    "write_files",
]

TFrame = Literal["daily", "minute"]
TFRAMES: Final[tuple[TFrame, ...]] = ("daily", "minute")
# The file line of the first data row: line 1 is the header.
FIRST_LINE: Final[int] = 2
# How many sources an error of many spells out; the rest are counted.
MAX_SOURCES_IN_MESSAGE: Final[int] = 20
# Field separators a header may use instead of commas, named when they are found.
SEPARATORS: Final[tuple[str, ...]] = (";", "\t", "|")
# A UTC offset after a time of day: "+01:00", "-0500".
_OFFSET: Final[re.Pattern[str]] = re.compile(
    r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*([+-])(\d{2}):?(\d{2})$"
)
_DAY_NS: Final[int] = 86_400 * 10**9
_NAT: Final[int] = np.iinfo(np.int64).min

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass
class Collected:
    """What the bar pass learns about each sid and file, for the rest of the ingest.

    Attributes
    ----------
    spans
        Each sid's first and last session, over every timeframe.
    splits, dividends
        The adjustment rows found, one frame per file (or per bulk table).
    errors
        Every file's invalid rows, one error per file and rule: the ingest
        refuses them all in one error at the end.
    left_out
        How many rows of each file fell outside the range the bundle was
        registered with (``start_session``/``end_session``), by file.
    prices
        Each sid's session prices per timeframe, to compare minute bars with
        daily bars.
    """

    spans: dict[int, tuple[pd.Timestamp, pd.Timestamp]] = field(default_factory=dict)
    splits: list[pd.DataFrame] = field(default_factory=list)
    dividends: list[pd.DataFrame] = field(default_factory=list)
    errors: list[DataValidationError] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)
    prices: dict[TFrame, dict[int, SessionPrices]] = field(
        default_factory=lambda: {tframe: {} for tframe in TFRAMES}
    )

    def add_span(self, sid: int, first: pd.Timestamp, last: pd.Timestamp) -> None:
        """Widen ``sid``'s span to cover ``first`` .. ``last``."""
        if sid in self.spans:
            old_first, old_last = self.spans[sid]
            first, last = min(first, old_first), max(last, old_last)
        self.spans[sid] = (first, last)


def combine_errors(errors: Sequence[DataValidationError]) -> DataValidationError:
    """One error for the invalid rows of many sources, so a user fixes them all in one pass.

    Parameters
    ----------
    errors
        One or more errors, each of one source (its ``context["source"]``).

    Returns
    -------
    DataValidationError
        The error itself if there is one; else one whose message names every
        source (up to :data:`MAX_SOURCES_IN_MESSAGE`, the rest counted) and
        repeats the first error's message (a few rows), and whose
        ``invalid_rows`` holds every error's rows with a ``source`` column in
        front (a source-wide error, such as an unreadable file, is one row
        whose ``reason`` is its message).
    """
    if len(errors) == 1:
        return errors[0]
    tables = []
    rows: dict[str, int] = {}
    whole: dict[str, list[str]] = {}
    for error in errors:
        source = str(error.context.get("source", "?"))
        if error.invalid_rows.empty:
            # A source-wide fault (an unreadable file): its message minus the source.
            why = error.message.removeprefix(f"{source}: ")
            whole.setdefault(source, []).append(why)
            tables.append(pd.DataFrame({"source": [source], "reason": [why]}))
        else:
            rows[source] = rows.get(source, 0) + int(error.context.get("n_invalid", 0))
            tables.append(error.invalid_rows.assign(source=source))
    invalid = pd.concat(tables, ignore_index=True)
    invalid = invalid[["source", *(c for c in invalid.columns if c != "source")]]
    sources = list(dict.fromkeys(str(e.context.get("source", "?")) for e in errors))
    names = []
    for source in sources:
        faults = [_count(rows[source], "invalid row")] if source in rows else []
        names.append(f"{source} ({', '.join(faults + whole.get(source, []))})")
    shown = ", ".join(names[:MAX_SOURCES_IN_MESSAGE])
    if len(names) > MAX_SOURCES_IN_MESSAGE:
        shown += f" and {len(names) - MAX_SOURCES_IN_MESSAGE} more"
    message = f"invalid data in {_count(len(sources), 'file')}: {shown}"
    first_rows = next((e for e in errors if not e.invalid_rows.empty), None)
    if first_rows is not None:
        message += f"; first: {first_rows.message}"
    total = sum(rows.values())
    return DataValidationError(
        message,
        invalid_rows=invalid,
        context={"sources": sources, "n_files": len(sources), "n_invalid": total},
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(frozen=True)
class FileRows:
    """A file's rows within the calendar, and what was taken out of them.

    Attributes
    ----------
    frame
        The rows kept, in file order, indexed by ``date``.
    beyond_calendar
        The error naming the rows dated outside the calendar's sessions (None
        if there are none); they are not in ``frame``.
    left_out
        How many rows, inside the calendar, fell outside the bundle's
        registered range and were left out of ``frame``.
    """

    frame: pd.DataFrame
    beyond_calendar: DataValidationError | None
    left_out: int


@dataclass(frozen=True)
class FrameReader:
    """Reads one timeframe's CSVs and sorts their rows by the bundle's range.

    Rows the calendar cannot hold (before its first session or after its
    last) are refused; rows inside the calendar but outside the
    ``start_session`` .. ``end_session`` the bundle was registered with are
    left out, as zipline's csvdir does, and counted.
    """

    tframe: TFrame
    calendar: ExchangeCalendar
    start_session: pd.Timestamp | None
    end_session: pd.Timestamp | None

    def read(self, path: Path) -> FileRows:
        """The file's rows in file order, indexed by ``date``.

        Dates that do not parse become NaT and are kept, so that validation
        reports them with their row number.

        Raises
        ------
        DataValidationError
            If the file is not a readable CSV, or has a header but no row.
        """
        frame = _read_csv(path, wall_clock_dates=self.tframe == "daily")
        if len(frame) == 0:
            raise DataValidationError(
                f"{path}: the file has a header but no rows", context={"source": str(path)}
            )
        date_column = "date" if "date" in frame.columns else frame.columns[0]
        dates = self._dates(frame.pop(date_column))
        beyond, left_out = self.range_masks(dates.asi8)
        frame.index = dates
        frame.index.name = "date"
        error = None if not beyond.any() else self._beyond_error(path, dates, beyond)
        keep = ~(beyond | left_out)
        if not keep.all():
            frame = frame[keep]
            # Keep the file's row numbers for error messages after the cut.
            frame.attrs["row_numbers"] = (np.flatnonzero(keep) + 1).tolist()
        frame.attrs["source"] = str(path)
        frame.attrs["first_line"] = FIRST_LINE
        return FileRows(frame, error, int(np.count_nonzero(left_out)))

    def _dates(self, column: pd.Series) -> pd.DatetimeIndex:
        if self.tframe == "daily":
            # A session is the date written in the file, whatever its UTC offset.
            return _wall_clock_dates(column)
        return _parse_dates(column)

    @cached_property
    def bounds(self) -> tuple[int, int, int, int]:
        """int64 ns: the calendar's first and last, then the range's first and last.

        Daily values are session midnights; minute values the UTC open of the
        first session and close of the last.
        """
        calendar = self.calendar
        first, last = calendar.first_session, calendar.last_session
        start = first if self.start_session is None else max(self.start_session, first)
        end = last if self.end_session is None else min(self.end_session, last)
        if self.tframe == "daily":
            stamps = [pd.Timestamp(day) for day in (first, last, start, end)]
        else:
            # The session's open itself (one minute before the first bar label)
            # is kept, so a bar mislabelled by its start is reported, not dropped.
            stamps = [
                self._open(first),
                self._close(last),
                self._open(start),
                self._close(end),
            ]
        lo, hi, start_ns, end_ns = (stamp.as_unit("ns").value for stamp in stamps)
        return lo, hi, start_ns, end_ns

    def range_masks(self, times: IntArray) -> tuple[BoolArray, BoolArray]:
        """Which rows are outside the calendar, and which outside the registered range only.

        Parameters
        ----------
        times
            int64 ns of each row: daily values tz-naive (any time of the day),
            minute values UTC; NaT (``iinfo(int64).min``) is in neither mask,
            so validation reports it.
        """
        lo, hi, start, end = self.bounds
        if self.tframe == "daily":
            # Any time of a day belongs to its session: compare with the next midnight.
            hi, end = hi + _DAY_NS - 1, end + _DAY_NS - 1
        outside = np.zeros(times.size, dtype=bool)
        # Clean data: two cheap reductions (NaT is the smallest int64: full pass).
        if times.size == 0 or (int(times.min()) >= start and int(times.max()) <= end):
            return outside, outside.copy()
        present = times != _NAT
        beyond = present & ((times < lo) | (times > hi))
        left_out = present & ~beyond & ((times < start) | (times > end))
        return beyond, left_out

    def _beyond_error(
        self, path: Path, dates: pd.DatetimeIndex, beyond: BoolArray
    ) -> DataValidationError:
        lo, hi, _, _ = self.bounds
        positions = np.flatnonzero(beyond)
        what = "session" if self.tframe == "daily" else "trading minute"
        held = f"{self.calendar.name} holds {_day(lo)} .. {_day(hi)}"
        before = f"before the calendar's first {what} ({held})"
        after = f"after the calendar's last {what} ({held})"
        early = dates.asi8[positions] < lo
        stamps = list(dates[positions])
        return invalid_rows_error(
            str(path),
            (positions + 1).tolist(),
            stamps,
            stamps,
            [before if e else after for e in early.tolist()],
            first_line=FIRST_LINE,
            frequency=self.tframe,
        )

    def _open(self, session: pd.Timestamp) -> pd.Timestamp:
        return pd.Timestamp(self.calendar.session_open(session)).tz_convert("UTC")

    def _close(self, session: pd.Timestamp) -> pd.Timestamp:
        return pd.Timestamp(self.calendar.session_close(session)).tz_convert("UTC")

    def sessions(self, dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
        """The session (tz-naive date) each row belongs to."""
        if self.tframe == "daily":
            return dates.normalize()
        # A minute's session is its date on the exchange's clock.
        return dates.tz_convert(self.calendar.tz).tz_localize(None).normalize()


def _day(stamp_ns: int) -> str:
    return f"{pd.Timestamp(stamp_ns):%Y-%m-%d}"


def _read_csv(path: Path, *, wall_clock_dates: bool) -> pd.DataFrame:
    """A csvdir file as a DataFrame, in file order, with lower-cased headers.

    Arrow's CSV reader parses a file about ten times faster than pandas'
    (ISO dates included), which is most of an ingest's time; pandas reads
    the files Arrow refuses, so that their problem is reported the same way.
    With ``wall_clock_dates`` a date column with UTC offsets is kept as text
    (Arrow would turn it into UTC instants, losing the date written).
    """
    try:
        table = pacsv.read_csv(path)
        names = [str(c).strip().lower() for c in table.column_names]
        date = names.index("date") if "date" in names else 0
        if wall_clock_dates and table.num_columns and _has_offset(table.schema.field(date).type):
            name = table.column_names[date]
            text = pacsv.read_csv(
                path,
                convert_options=pacsv.ConvertOptions(
                    include_columns=[name], column_types={name: pa.string()}
                ),
            )
            table = table.set_column(date, name, text.column(0))
        raw = table.to_pandas(date_as_object=False)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        raw = _read_csv_with_pandas(path)
    if raw.shape[1] == 0:
        raise DataValidationError(f"{path}: the file has no columns", context={"source": str(path)})
    if raw.shape[1] == 1:
        _check_separator(path, str(raw.columns[0]))
    # zipline reads the first column as the date whatever its name; headers
    # are matched without regard to case or stray spaces.
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    return raw


def _has_offset(kind: pa.DataType) -> bool:
    return bool(pa.types.is_timestamp(kind) and kind.tz is not None)


def _check_separator(path: Path, header: str) -> None:
    """Refuse a file whose one column is a header of fields joined by another separator."""
    for separator in SEPARATORS:
        if separator in header:
            raise DataValidationError(
                f"{path}: the header {header!r} is a single column: its fields are separated "
                f"by {separator!r}; csvdir files separate fields with commas (',')",
                context={"source": str(path), "separator": separator},
            )


def _read_csv_with_pandas(path: Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(
            f"{path}: not a readable CSV file ({exc})", context={"source": str(path)}
        ) from exc
    if not isinstance(raw.index, pd.RangeIndex):
        # pandas turns the leading fields into an index when rows are longer than the header.
        raise DataValidationError(
            f"{path}: rows have more fields than the header ({', '.join(map(str, raw.columns))})",
            context={"source": str(path)},
        )
    return raw


def _parse_dates(column: pd.Series) -> pd.DatetimeIndex:
    """Parse dates as UTC (naive values are UTC); unparseable ones become NaT."""
    parsed = pd.to_datetime(column, utc=True, errors="coerce", format="ISO8601")
    failed = parsed.isna() & column.notna()
    if failed.any():
        # Not ISO 8601 (e.g. 01/02/2020): let pandas guess each value.
        guessed = pd.to_datetime(column, utc=True, errors="coerce", format="mixed")
        parsed = parsed.where(~failed, guessed)
    return pd.DatetimeIndex(parsed).as_unit("ns")


def _wall_clock_dates(column: pd.Series) -> pd.DatetimeIndex:
    """Parse dates as written, tz-naive: ``2020-01-02T00:00+01:00`` is 2020-01-02 00:00."""
    utc = _parse_dates(column).tz_localize(None)
    if column.dtype != object and not pd.api.types.is_string_dtype(column.dtype):
        return utc  # parsed by Arrow, without an offset
    offsets = column.astype("string").str.strip().str.extract(_OFFSET)
    if offsets[0].isna().all():
        return utc
    sign = np.where(offsets[0] == "-", -1, 1)
    hours = pd.to_numeric(offsets[1]).fillna(0).to_numpy(dtype=np.int64)
    minutes = pd.to_numeric(offsets[2]).fillna(0).to_numpy(dtype=np.int64)
    shift = pd.to_timedelta(sign * (hours * 60 + minutes), unit="min")
    return pd.DatetimeIndex(utc + shift).as_unit("ns")


def write_files(
    by_symbol: Mapping[str, Path],
    sids: Mapping[str, int],
    reader: FrameReader,
    collected: Collected,
    writer: Any,
    limits: PriceLimits,
    advance: Advance,
    show_progress: bool,
) -> None:
    """Check and write each file's bars, one file at a time.

    Every file is read and checked even after a bad one: each file's errors
    go to ``collected.errors``, and its spans, adjustments and session prices
    are recorded only if it has none.
    """
    for symbol, path in by_symbol.items():
        sid = sids[symbol]
        advance(symbol)
        errors = _write_file(path, sid, reader, collected, writer, limits, show_progress)
        collected.errors += errors


def _write_file(
    path: Path,
    sid: int,
    reader: FrameReader,
    collected: Collected,
    writer: Any,
    limits: PriceLimits,
    show_progress: bool,
) -> list[DataValidationError]:
    try:
        rows = reader.read(path)
    except DataValidationError as exc:
        return [exc]
    errors = [] if rows.beyond_calendar is None else [rows.beyond_calendar]
    if rows.left_out:
        collected.left_out[str(path)] = rows.left_out
    frame = rows.frame
    if len(frame) == 0:
        return errors  # every row outside the range: nothing to check or write
    try:
        splits, dividends = _adjustments(frame, sid, reader)
    except DataValidationError as exc:
        errors.append(exc)
    try:
        # The writer's validation applies the price ceiling and the spike rule.
        writer.write(
            [(sid, frame.drop(columns=["dividend", "split"], errors="ignore"))],
            show_progress=show_progress,
            price_limits=limits,
        )
    except DataValidationError as exc:
        errors.append(exc)
    if errors:
        return errors
    prices = {name: _floats(frame, name) for name in PRICE_COLUMNS}
    sessions = reader.sessions(cast(pd.DatetimeIndex, frame.index))
    collected.add_span(sid, sessions[0], sessions[-1])
    collected.splits += splits
    collected.dividends += dividends
    collected.prices[reader.tframe][sid] = SessionPrices.of_bars(str(path), sessions.asi8, prices)
    return errors


def _floats(frame: pd.DataFrame, column: str) -> FloatArray:
    values = frame[column]
    if not pd.api.types.is_numeric_dtype(values.dtype):
        values = pd.to_numeric(values, errors="coerce")
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _adjustments(
    frame: pd.DataFrame, sid: int, reader: FrameReader
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """The file's split and dividend rows (empty lists if none); raise naming bad values."""
    splits: list[pd.DataFrame] = []
    dividends: list[pd.DataFrame] = []
    source = str(frame.attrs["source"])
    dates = cast(pd.DatetimeIndex, frame.index)
    rows = np.asarray(frame.attrs.get("row_numbers", np.arange(1, len(frame) + 1)))
    if "split" in frame.columns:
        split = _adjustment_values(frame, "split", rows, source, positive=True)
        hit = np.flatnonzero((np.nan_to_num(split, nan=1.0) != 1.0) & dates.notna())
        if hit.size:
            splits.append(
                pd.DataFrame(
                    {
                        "sid": sid,
                        "ratio": 1.0 / split[hit],
                        "effective_date": reader.sessions(dates[hit]),
                    }
                )
            )
    if "dividend" in frame.columns:
        amount = _adjustment_values(frame, "dividend", rows, source, positive=False)
        hit = np.flatnonzero((np.nan_to_num(amount, nan=0.0) != 0.0) & dates.notna())
        if hit.size:
            ex_dates = reader.sessions(dates[hit])
            # zipline leaves these NaT; the ex date keeps a dividend payable.
            dividends.append(
                pd.DataFrame(
                    {
                        "sid": sid,
                        "amount": amount[hit],
                        "ex_date": ex_dates,
                        "record_date": ex_dates,
                        "declared_date": ex_dates,
                        "pay_date": ex_dates,
                    }
                )
            )
    return splits, dividends


def _adjustment_values(
    frame: pd.DataFrame, column: str, rows: np.ndarray, source: str, *, positive: bool
) -> np.ndarray:
    """The column as floats; raise naming the file rows that are not valid values."""
    cells = frame[column]
    values = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    text = cells.notna().to_numpy() & np.isnan(values)
    nonfinite = np.isinf(values)
    out_of_range = (values <= 0.0) if positive else (values < 0.0)
    bad = np.flatnonzero(text | nonfinite | out_of_range)
    if bad.size == 0:
        return values
    bound = "<= 0" if positive else "< 0"
    reasons = [
        f"{column} {cells.iloc[i]!r} is not a number"
        if text[i]
        else f"{column} {float(values[i])!r} {bound}"
        if out_of_range[i]
        else f"{column} is {float(values[i])!r}"
        for i in bad.tolist()
    ]
    raise invalid_rows_error(
        source,
        rows[bad].tolist(),
        list(frame.index[bad]),
        cells.iloc[bad].tolist(),
        reasons,
        first_line=FIRST_LINE,
    )
