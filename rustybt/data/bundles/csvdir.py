"""The ``csvdir`` bundle: a folder of per-symbol CSV files, zipline's layout.

::

    <csvdir>/daily/AAPL.csv
    <csvdir>/daily/MSFT.csv
    <csvdir>/minute/AAPL.csv

Each file has the columns ``date,open,high,low,close,volume`` and optionally
``dividend`` and ``split``, exactly as zipline's csvdir bundle reads them, so
a zipline user's folder ingests unchanged. Daily dates are session dates;
minute dates are UTC bar labels (``2024-01-02 14:31:00``, or with an offset).
The symbol is the file name without ``.csv``, upper-cased; sids are assigned
``0..N-1`` in sorted symbol order, the same sid for a symbol in every
timeframe.

A ``split`` value of 2.0 is a 2-for-1 split effective on that row's date
(prices before it are multiplied by 0.5); a non-zero ``dividend`` is a cash
dividend going ex on that row's date.

Examples
--------
>>> from rustybt.data import bundles
>>> from rustybt.data.bundles.csvdir import csvdir_equities
>>> bundles.register(
...     "my-csvs", csvdir_equities(["daily"], "/path/to/csvs"), calendar_name="XNYS"
... )  # doctest: +ELLIPSIS
<bound method CSVDIRBundle.ingest of CSVDIRBundle(tframes=['daily'], csvdir='/path/to/csvs')>
>>> bundles.unregister("my-csvs")
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from rustybt.calendars import ExchangeCalendar
from rustybt.data.validation import OHLCV_COLUMNS, invalid_rows_error
from rustybt.exceptions import ConfigValidationError, DataNotFoundError, DataValidationError

__all__ = ["CSVDIRBundle", "csvdir_equities"]

TFrame = Literal["daily", "minute"]
TFRAMES: Final[tuple[TFrame, ...]] = ("daily", "minute")
ENV_VAR: Final[str] = "CSVDIR"
EXCHANGE: Final[str] = "CSVDIR"
# The file line of the first data row: line 1 is the header.
FIRST_LINE: Final[int] = 2

SPLIT_COLUMNS: Final[list[str]] = ["sid", "ratio", "effective_date"]
DIVIDEND_COLUMNS: Final[list[str]] = [
    "sid",
    "amount",
    "ex_date",
    "record_date",
    "declared_date",
    "pay_date",
]
EQUITY_COLUMNS: Final[list[str]] = [
    "symbol",
    "asset_name",
    "start_date",
    "end_date",
    "first_traded",
    "auto_close_date",
    "exchange",
]

IngestFunction = Callable[..., None]
Advance = Callable[[str], None]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass
class _Collected:
    """What the bar pass learns about each sid, for the asset db and adjustments."""

    spans: dict[int, tuple[pd.Timestamp, pd.Timestamp]] = field(default_factory=dict)
    splits: list[pd.DataFrame] = field(default_factory=list)
    dividends: list[pd.DataFrame] = field(default_factory=list)

    def add_span(self, sid: int, first: pd.Timestamp, last: pd.Timestamp) -> None:
        if sid in self.spans:
            old_first, old_last = self.spans[sid]
            first, last = min(first, old_first), max(last, old_last)
        self.spans[sid] = (first, last)


class CSVDIRBundle:
    """Ingest function of a csvdir bundle (zipline's class of the same name).

    Parameters
    ----------
    tframes
        Timeframes to ingest, from ``"daily"`` and ``"minute"``; default: those
        whose subfolder exists.
    csvdir
        The folder; default: ``environ["CSVDIR"]`` at ingest time.
    """

    def __init__(self, tframes: Sequence[str] | None = None, csvdir: str | None = None) -> None:
        if tframes is not None:
            unknown = [t for t in tframes if t not in TFRAMES]
            if unknown:
                raise ConfigValidationError(
                    f"csvdir: unknown timeframe(s) {unknown}; use 'daily' and/or 'minute'",
                    context={"tframes": list(tframes)},
                )
        self.tframes = None if tframes is None else list(tframes)
        self.csvdir = csvdir

    def __repr__(self) -> str:
        return f"CSVDIRBundle(tframes={self.tframes!r}, csvdir={self.csvdir!r})"

    def __call__(
        self,
        environ: Mapping[str, str],
        asset_db_writer: Any,
        minute_bar_writer: Any,
        daily_bar_writer: Any,
        adjustment_writer: Any,
        calendar: ExchangeCalendar,
        start_session: pd.Timestamp | None,
        end_session: pd.Timestamp | None,
        cache: Any,
        show_progress: bool,
        output_dir: str,
    ) -> None:
        """Same as :meth:`ingest`."""
        self.ingest(
            environ,
            asset_db_writer,
            minute_bar_writer,
            daily_bar_writer,
            adjustment_writer,
            calendar,
            start_session,
            end_session,
            cache,
            show_progress,
            output_dir,
        )

    def ingest(
        self,
        environ: Mapping[str, str],
        asset_db_writer: Any,
        minute_bar_writer: Any,
        daily_bar_writer: Any,
        adjustment_writer: Any,
        calendar: ExchangeCalendar,
        start_session: pd.Timestamp | None,
        end_session: pd.Timestamp | None,
        cache: Any,
        show_progress: bool,
        output_dir: str,
    ) -> None:
        """Write the folder's bars, assets and adjustments (zipline's ingest signature).

        Raises
        ------
        DataNotFoundError
            If the folder (or ``$CSVDIR``) is unset or missing, or holds no CSV.
        DataValidationError
            If a file has a bad row; the message names the file and row.
        """
        root = self._root(environ)
        files = _find_files(root, self._tframes(root))
        symbols = sorted({symbol for by_symbol in files.values() for symbol in by_symbol})
        sids = {symbol: sid for sid, symbol in enumerate(symbols)}
        collected = _Collected()
        writers = {"daily": daily_bar_writer, "minute": minute_bar_writer}
        for tframe, by_symbol in files.items():
            reader = _FrameReader(tframe, calendar, start_session, end_session)
            with progress_bar(show_progress, len(by_symbol), f"csvdir {tframe}") as advance:
                writer = writers[tframe]
                if _write_in_bulk(by_symbol, sids, reader, collected, writer, show_progress):
                    for symbol in by_symbol:
                        advance(symbol)
                else:
                    pairs = _pairs(by_symbol, sids, reader, collected, advance)
                    writer.write(pairs, show_progress=show_progress)
            # Every bar of the timeframe is in: the writer may encode its file
            # on the other core while the rest of the ingest goes on.
            start_finalize = getattr(writer, "start_finalize", None)
            if start_finalize is not None:
                start_finalize()
        asset_db_writer.write(
            equities=_equities(collected.spans, symbols, calendar),
            exchanges=_exchanges(calendar),
        )
        splits = _concat(collected.splits, SPLIT_COLUMNS, ["sid", "effective_date"])
        dividends = _concat(collected.dividends, DIVIDEND_COLUMNS, ["sid", "ex_date"])
        adjustment_writer.write(splits=splits, dividends=dividends)

    def _root(self, environ: Mapping[str, str]) -> Path:
        if self.csvdir is None:
            value = environ.get(ENV_VAR)
            if not value:
                raise DataNotFoundError(
                    f"csvdir bundle: no folder given and ${ENV_VAR} is not set; set {ENV_VAR} "
                    "to a folder holding daily/ and/or minute/ subfolders of <SYMBOL>.csv files",
                    context={"env_var": ENV_VAR},
                )
            where = f"${ENV_VAR}={value}"
        else:
            value, where = self.csvdir, self.csvdir
        root = Path(value).expanduser()
        if not root.is_dir():
            raise DataNotFoundError(
                f"csvdir bundle: folder {where} does not exist",
                context={"csvdir": str(root), "env_var": ENV_VAR},
            )
        return root

    def _tframes(self, root: Path) -> list[TFrame]:
        if self.tframes is None:
            present = [t for t in TFRAMES if (root / t).is_dir()]
            if not present:
                raise DataNotFoundError(
                    f"csvdir bundle: {root} has no 'daily' or 'minute' subfolder",
                    context={"csvdir": str(root)},
                )
            return present
        wanted = [t for t in TFRAMES if t in self.tframes]
        for tframe in wanted:
            if not (root / tframe).is_dir():
                raise DataNotFoundError(
                    f"csvdir bundle: {root / tframe} does not exist",
                    context={"csvdir": str(root), "tframe": tframe},
                )
        return wanted


def csvdir_equities(
    tframes: Sequence[str] | None = None, csvdir: str | None = None
) -> IngestFunction:
    """Return the ingest function of a csvdir bundle (zipline's signature).

    Parameters
    ----------
    tframes
        Timeframes to ingest, from ``["daily", "minute"]``; default: those
        whose subfolder exists.
    csvdir
        The folder; default: ``environ["CSVDIR"]`` at ingest time.

    Returns
    -------
    callable
        ``ingest(environ, asset_db_writer, minute_bar_writer, daily_bar_writer,
        adjustment_writer, calendar, start_session, end_session, cache,
        show_progress, output_dir)``, for :func:`rustybt.data.bundles.register`.
    """
    return CSVDIRBundle(tframes, csvdir).ingest


# --- files ------------------------------------------------------------------


def _find_files(root: Path, tframes: Sequence[TFrame]) -> dict[TFrame, dict[str, Path]]:
    files: dict[TFrame, dict[str, Path]] = {}
    for tframe in tframes:
        by_symbol: dict[str, Path] = {}
        for path in sorted((root / tframe).iterdir()):
            if not path.is_file() or path.suffix.lower() != ".csv":
                continue
            symbol = path.stem.upper()
            if symbol in by_symbol:
                raise DataValidationError(
                    f"csvdir bundle: {by_symbol[symbol]} and {path} both give symbol {symbol}",
                    context={"source": str(path), "symbol": symbol},
                )
            by_symbol[symbol] = path
        files[tframe] = dict(sorted(by_symbol.items()))
    if not any(files.values()):
        folders = ", ".join(str(root / t) for t in tframes)
        raise DataNotFoundError(
            f"csvdir bundle: no .csv files in {folders}", context={"csvdir": str(root)}
        )
    return files


@dataclass(frozen=True)
class _FrameReader:
    """Reads one timeframe's CSVs and clips them to the bundle's range."""

    tframe: TFrame
    calendar: ExchangeCalendar
    start_session: pd.Timestamp | None
    end_session: pd.Timestamp | None

    def read(self, path: Path) -> pd.DataFrame:
        """The file's rows in file order, indexed by ``date`` and clipped to the range.

        Dates that do not parse become NaT and are kept, so that validation
        reports them with their row number.
        """
        frame = _read_csv(path)
        date_column = "date" if "date" in frame.columns else frame.columns[0]
        dates = self._dates(frame.pop(date_column))
        keep = self._in_range(dates)
        frame.index = dates
        frame.index.name = "date"
        if not keep.all():
            frame = frame[keep]
            # Keep the file's row numbers for error messages after the clip.
            frame.attrs["row_numbers"] = (np.flatnonzero(keep) + 1).tolist()
        frame.attrs["source"] = str(path)
        frame.attrs["first_line"] = FIRST_LINE
        return frame

    def _dates(self, column: pd.Series) -> pd.DatetimeIndex:
        dates = _parse_dates(column)
        if self.tframe == "daily":
            return dates.tz_localize(None)
        return dates

    def _in_range(self, dates: pd.DatetimeIndex) -> np.ndarray:
        keep = np.ones(len(dates), dtype=bool)
        if self.tframe == "daily":
            # Midnight-flooring in NumPy: DatetimeIndex.normalize also infers a
            # frequency, which costs more than the whole comparison.
            days = pd.DatetimeIndex(dates.to_numpy().astype("datetime64[D]").astype("M8[ns]"))
            lower, upper = self.start_session, self.end_session
        else:
            days = dates
            lower = None if self.start_session is None else self._open(self.start_session)
            upper = None if self.end_session is None else self._close(self.end_session)
        # NaT compares False both ways, so a missing date is kept for validation.
        if lower is not None:
            keep &= ~np.asarray(days < lower)
        if upper is not None:
            keep &= ~np.asarray(days > upper)
        return keep

    def _open(self, session: pd.Timestamp) -> pd.Timestamp:
        # The session's open itself (one minute before the first bar label) is
        # kept, so a bar mislabelled by its start is reported, not dropped.
        return pd.Timestamp(self.calendar.session_open(session)).tz_convert("UTC")

    def _close(self, session: pd.Timestamp) -> pd.Timestamp:
        return pd.Timestamp(self.calendar.session_close(session)).tz_convert("UTC")

    def sessions(self, dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
        """The session (tz-naive date) each row belongs to."""
        if self.tframe == "daily":
            return dates.normalize()
        # A minute's session is its date on the exchange's clock.
        return dates.tz_convert(self.calendar.tz).tz_localize(None).normalize()


def _read_csv(path: Path) -> pd.DataFrame:
    """A csvdir file as a DataFrame, in file order, with lower-cased headers.

    Arrow's CSV reader parses a file about ten times faster than pandas'
    (ISO dates included), which is most of an ingest's time; pandas reads
    the files Arrow refuses, so that their problem is reported the same way.
    """
    try:
        table = pacsv.read_csv(path)
        raw = table.to_pandas(date_as_object=False)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        raw = _read_csv_with_pandas(path)
    if raw.shape[1] == 0:
        raise DataValidationError(f"{path}: the file has no columns", context={"source": str(path)})
    # zipline reads the first column as the date whatever its name; headers
    # are matched without regard to case or stray spaces.
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    return raw


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


def _pairs(
    by_symbol: Mapping[str, Path],
    sids: Mapping[str, int],
    reader: _FrameReader,
    collected: _Collected,
    advance: Advance,
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Yield ``(sid, bars)`` per file, recording spans and adjustments on the way."""
    for symbol, path in by_symbol.items():
        sid = sids[symbol]
        frame = reader.read(path)
        advance(symbol)
        dates = cast(pd.DatetimeIndex, frame.index)
        dated = dates.notna()
        if not dated.any():
            if len(frame):
                yield sid, frame  # all dates bad: let validation say which rows
            continue
        sessions = reader.sessions(dates[dated])
        collected.add_span(sid, sessions.min(), sessions.max())
        _collect_adjustments(frame, sid, reader, collected)
        yield sid, frame.drop(columns=["dividend", "split"], errors="ignore")


def _collect_adjustments(
    frame: pd.DataFrame, sid: int, reader: _FrameReader, collected: _Collected
) -> None:
    source = str(frame.attrs["source"])
    dates = cast(pd.DatetimeIndex, frame.index)
    rows = np.asarray(frame.attrs.get("row_numbers", np.arange(1, len(frame) + 1)))
    if "split" in frame.columns:
        split = _adjustment_values(frame, "split", rows, source, positive=True)
        hit = np.flatnonzero((np.nan_to_num(split, nan=1.0) != 1.0) & dates.notna())
        if hit.size:
            collected.splits.append(
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
            collected.dividends.append(
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


# --- the bulk path -----------------------------------------------------------
#
# Reading, clipping and checking 500 files one DataFrame at a time costs far
# more in pandas overhead than in parsing. The bulk path reads every file of a
# timeframe as one Arrow table (the files of one header are parsed as a single
# CSV, on all cores), clips and checks the whole table in a few array passes,
# and hands it to the bar writer's ``write_arrays``. It covers clean folders of
# plain CSV files (no quoted values, no blank lines, ISO dates); anything else - a
# bad row, an odd file, a check that fails - makes it give up before anything
# is kept, and the per-file path below reads the folder instead, so every
# error is reported exactly as that path reports it.

_NEWLINE: Final[int] = ord("\n")
# How the bulk path parses the files' rows: a row per line, always. Without
# quoting a quoted value is not a number (the per-file path then reads the
# folder), and a blank line is an error rather than skipped: so no row is ever
# lost, and the rows of a file are its newlines, which is how they are counted.
_PARSE_OPTIONS: Final[pacsv.ParseOptions] = pacsv.ParseOptions(
    quote_char=False, ignore_empty_lines=False
)
_DAY_NS: Final[int] = 86_400 * 10**9
_FLOAT_COLUMNS: Final[tuple[str, ...]] = (*OHLCV_COLUMNS, "dividend", "split")


@dataclass(frozen=True)
class _Table:
    """Every file of a timeframe as flat arrays, the files' rows end to end."""

    counts: IntArray  # rows of each file, in file order
    times: IntArray  # int64 ns, tz-naive (UTC wall clock)
    columns: dict[str, FloatArray]  # the OHLCV columns, and dividend/split (NaN where absent)


def _write_in_bulk(
    by_symbol: Mapping[str, Path],
    sids: Mapping[str, int],
    reader: _FrameReader,
    collected: _Collected,
    writer: Any,
    show_progress: bool,
) -> bool:
    """Write a timeframe's files through the bulk path; False if it does not apply.

    On False nothing was written or collected: the per-file path takes over.
    """
    write_arrays = getattr(writer, "write_arrays", None)
    if reader.tframe != "daily" or write_arrays is None or not by_symbol:
        return False
    paths = list(by_symbol.values())
    table = _read_table(paths)
    if table is None:
        return False
    file_sids = np.array([sids[symbol] for symbol in by_symbol], dtype=np.int64)
    table = _clip_days(table, reader)
    row_sids = np.repeat(file_sids, table.counts)
    adjustments = _bulk_adjustments(table, row_sids)
    if adjustments is None:
        return False
    written = np.flatnonzero(table.counts)
    try:
        write_arrays(
            file_sids[written],
            table.counts[written],
            table.times,
            table.columns,
            sources=[str(paths[k]) for k in written.tolist()],
            show_progress=show_progress,
        )
    except DataValidationError:
        return False
    # Validated: each file's sessions increase, so a span is its first and last row.
    ends = np.cumsum(table.counts)
    for k in written.tolist():
        first, last = table.times[ends[k] - table.counts[k]], table.times[ends[k] - 1]
        collected.add_span(int(file_sids[k]), pd.Timestamp(first), pd.Timestamp(last))
    splits, dividends = adjustments
    if len(splits):
        collected.splits.append(splits)
    if len(dividends):
        collected.dividends.append(dividends)
    return True


def _read_table(paths: Sequence[Path]) -> _Table | None:
    """The files' rows as one table; None if a file needs the per-file reader.

    The files' bodies (all but the header line) are read end to end into one
    buffer, and the files of each header are parsed as a single CSV.
    """
    sizes = [path.stat().st_size for path in paths]
    # One byte more per file, for a closing newline a file may lack. A NumPy
    # buffer is neither zero-filled nor paged in small pages, as a bytearray is.
    buffer = np.empty(sum(sizes) + len(paths), dtype=np.uint8)
    view = buffer.data
    headers: list[bytes] = []
    spans: list[tuple[int, int]] = []
    counts = np.zeros(len(paths), dtype=np.int64)
    pos = 0
    for k, path in enumerate(paths):
        with path.open("rb") as fh:
            header = fh.readline()
            size = sizes[k] - len(header)
            if not header or size < 0 or fh.readinto(view[pos : pos + size]) != size:
                return None  # empty, or changed since it was listed
            if fh.read(1):
                return None
        line = header.removesuffix(b"\n").removesuffix(b"\r")
        if b"\r" in line or b'"' in line:
            return None  # the header may not be the first line the CSV reader sees
        if size and buffer[pos + size - 1] != _NEWLINE:
            buffer[pos + size] = _NEWLINE
            size += 1
        counts[k] = np.count_nonzero(buffer[pos : pos + size] == _NEWLINE)
        headers.append(header.rstrip(b"\n"))
        spans.append((pos, pos + size))
        pos += size
    groups: dict[bytes, list[int]] = {}
    for k, header in enumerate(headers):
        groups.setdefault(header, []).append(k)
    parts: list[tuple[list[int], _Table]] = []
    for header, members in groups.items():
        body = (
            view[:pos]
            if len(groups) == 1
            else b"".join(view[spans[k][0] : spans[k][1]] for k in members)
        )
        part = _parse_group(header, body, counts[members])
        if part is None:
            return None
        parts.append((members, part))
    if len(parts) == 1:
        return parts[0][1]
    return _interleave(parts, counts)


def _parse_group(header: bytes, body: bytes | memoryview, counts: IntArray) -> _Table | None:
    """Parse the rows of the files of one header, end to end in ``body``."""
    try:
        names = pacsv.read_csv(pa.py_buffer(header + b"\n")).column_names
    except (pa.ArrowException, UnicodeDecodeError):
        return None
    lowered = [name.strip().lower() for name in names]
    if not names or len(set(lowered)) != len(lowered):
        return None
    date = lowered.index("date") if "date" in lowered else 0
    where = {low: i for i, low in enumerate(lowered) if i != date}
    if any(column not in where for column in OHLCV_COLUMNS):
        return None  # missing (or the date column): the per-file path says so
    n_rows = int(counts.sum())
    if n_rows == 0:
        empty = np.empty(0, dtype=np.float64)
        return _Table(counts, np.empty(0, dtype=np.int64), dict.fromkeys(_FLOAT_COLUMNS, empty))
    floats = {names[where[c]]: pa.float64() for c in _FLOAT_COLUMNS if c in where}
    try:
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=_PARSE_OPTIONS,
            convert_options=pacsv.ConvertOptions(
                column_types=floats, include_columns=[names[date], *floats]
            ),
        )
    except (pa.ArrowException, UnicodeDecodeError):
        return None
    if table.num_rows != n_rows:
        return None  # a lone carriage return: a line break to the CSV reader
    times = _time_column(table.column(names[date]))
    if times is None:
        return None
    columns = {
        name: _float_column(table.column(names[where[name]]))
        if name in where
        else np.full(n_rows, np.nan)
        for name in _FLOAT_COLUMNS
    }
    # Integer volumes read as floats: "-0" would be -0.0 rather than 0.0.
    if np.signbit(columns["volume"]).any():
        return None
    return _Table(counts, times, columns)


def _time_column(column: pa.ChunkedArray) -> IntArray | None:
    """A parsed date column as int64 ns (UTC wall clock); None unless all are dates."""
    if column.null_count:
        return None
    kind = column.type
    try:
        if pa.types.is_date32(kind):
            days = column.cast(pa.int32()).to_numpy().astype(np.int64)
            return days * _DAY_NS
        if pa.types.is_timestamp(kind):
            as_ns = column.cast(pa.timestamp("ns", tz=kind.tz)).cast(pa.int64())
            return np.asarray(as_ns.to_numpy(), dtype=np.int64)
    except pa.ArrowException:
        return None  # out of the nanosecond range
    return None


def _float_column(column: pa.ChunkedArray) -> FloatArray:
    """A float64 column as NumPy, NaN where the cell was empty."""
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def _interleave(parts: Sequence[tuple[list[int], _Table]], counts: IntArray) -> _Table:
    """Put the rows of several header groups back in file order."""
    slices: list[tuple[_Table, int, int]] = [(parts[0][1], 0, 0)] * len(counts)
    for members, part in parts:
        offset = 0
        for k in members:
            slices[k] = (part, offset, offset + int(counts[k]))
            offset += int(counts[k])
    times = np.concatenate([part.times[a:b] for part, a, b in slices])
    columns = {
        name: np.concatenate([part.columns[name][a:b] for part, a, b in slices])
        for name in _FLOAT_COLUMNS
    }
    return _Table(counts, times, columns)


def _clip_days(table: _Table, reader: _FrameReader) -> _Table:
    """The rows of sessions in the bundle's range, their times floored to the session."""
    days = table.times - table.times % _DAY_NS
    keep = np.ones(days.size, dtype=bool)
    if reader.start_session is not None:
        keep &= days >= pd.Timestamp(reader.start_session).as_unit("ns").value
    if reader.end_session is not None:
        keep &= days <= pd.Timestamp(reader.end_session).as_unit("ns").value
    if keep.all():
        return _Table(table.counts, days, table.columns)
    files = np.repeat(np.arange(table.counts.size), table.counts)
    counts = np.bincount(files[keep], minlength=table.counts.size).astype(np.int64)
    columns = {name: values[keep] for name, values in table.columns.items()}
    return _Table(counts, days[keep], columns)


def _bulk_adjustments(
    table: _Table, row_sids: IntArray
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The splits and dividends of the table (times are sessions); None if a value is invalid.

    An empty cell (NaN) is no adjustment, as in the per-file path.
    """
    days = table.times
    split = table.columns["split"]
    amount = table.columns["dividend"]
    with np.errstate(invalid="ignore"):
        bad = np.isinf(split) | (split <= 0.0) | np.isinf(amount) | (amount < 0.0)
    if bad.any():
        return None
    # NaN != 1.0 is true: "== itself" leaves the empty cells out.
    hit = np.flatnonzero((split != 1.0) & (split == split))
    splits = pd.DataFrame(
        {
            "sid": row_sids[hit],
            "ratio": 1.0 / split[hit],
            "effective_date": pd.DatetimeIndex(days[hit].view("M8[ns]")),
        }
    )
    hit = np.flatnonzero((amount != 0.0) & (amount == amount))
    ex_dates = pd.DatetimeIndex(days[hit].view("M8[ns]"))
    dividends = pd.DataFrame(
        {
            "sid": row_sids[hit],
            "amount": amount[hit],
            "ex_date": ex_dates,
            "record_date": ex_dates,
            "declared_date": ex_dates,
            "pay_date": ex_dates,
        }
    )
    return splits, dividends


# --- assets and adjustments -------------------------------------------------


def _equities(
    spans: Mapping[int, tuple[pd.Timestamp, pd.Timestamp]],
    symbols: Sequence[str],
    calendar: ExchangeCalendar,
) -> pd.DataFrame:
    # Most assets end on the same day: look each last day up once.
    next_sessions = {last: _next_session(calendar, last) for last in {s[1] for s in spans.values()}}
    records = {
        sid: {
            "symbol": symbols[sid],
            "asset_name": symbols[sid],
            "start_date": first,
            "end_date": last,
            "first_traded": first,
            "auto_close_date": next_sessions[last],
            "exchange": EXCHANGE,
        }
        for sid, (first, last) in sorted(spans.items())
    }
    frame = pd.DataFrame.from_dict(records, orient="index", columns=EQUITY_COLUMNS)
    frame.index = pd.Index(frame.index, dtype=np.int64, name="sid")
    return frame


def _next_session(calendar: ExchangeCalendar, session: pd.Timestamp) -> pd.Timestamp:
    try:
        return pd.Timestamp(calendar.date_to_session(session + pd.Timedelta(days=1), "next"))
    except (ValueError, KeyError, IndexError):
        # Past the calendar's last session: the next calendar day will do.
        return session + pd.Timedelta(days=1)


def _exchanges(calendar: ExchangeCalendar) -> pd.DataFrame:
    return pd.DataFrame(
        {"exchange": [EXCHANGE], "canonical_name": [calendar.name], "country_code": ["US"]}
    )


def _concat(frames: list[pd.DataFrame], columns: list[str], key: list[str]) -> pd.DataFrame:
    """One frame from the per-file pieces; a daily row wins over a minute one."""
    if not frames:
        empty = {c: pd.Series(dtype=_dtype(c)) for c in columns}
        return pd.DataFrame(empty, columns=columns)
    out = pd.concat(frames, ignore_index=True)
    out = out.drop_duplicates(subset=key, keep="first").sort_values(key, kind="stable")
    return out.reset_index(drop=True)[columns]


def _dtype(column: str) -> str:
    if column == "sid":
        return "int64"
    if column in ("ratio", "amount"):
        return "float64"
    return "datetime64[ns]"


@contextlib.contextmanager
def progress_bar(show: bool, total: int, description: str) -> Iterator[Advance]:
    """A rich progress bar over the files when ``show``; a no-op otherwise."""
    if not show:
        yield lambda _symbol: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[symbol]}"),
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=total, symbol="")

        def advance(symbol: str) -> None:
            progress.update(task, advance=1, symbol=symbol)

        yield advance
