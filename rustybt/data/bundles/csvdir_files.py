"""The csvdir bundle's per-file reader: one CSV at a time, every bad row named.

Each file is read into a DataFrame in file order, clipped to the bundle's
range and handed to the bar writer's ``write``, which validates it; the
``dividend`` and ``split`` columns become adjustments on the way. This path
reads any folder zipline reads, and it is the one that reports errors: the
bulk path (:mod:`rustybt.data.bundles.csvdir_bulk`) leaves a folder it cannot
read cleanly to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from rustybt.calendars import ExchangeCalendar
from rustybt.data.bundles.progress import Advance
from rustybt.data.validation import invalid_rows_error
from rustybt.exceptions import DataValidationError

__all__ = ["FIRST_LINE", "TFRAMES", "Collected", "FrameReader", "TFrame", "sid_frames"]

TFrame = Literal["daily", "minute"]
TFRAMES: Final[tuple[TFrame, ...]] = ("daily", "minute")
# The file line of the first data row: line 1 is the header.
FIRST_LINE: Final[int] = 2


@dataclass
class Collected:
    """What the bar pass learns about each sid, for the asset db and adjustments.

    Attributes
    ----------
    spans
        Each sid's first and last session, over every timeframe.
    splits, dividends
        The adjustment rows found, one frame per file (or per bulk table).
    """

    spans: dict[int, tuple[pd.Timestamp, pd.Timestamp]] = field(default_factory=dict)
    splits: list[pd.DataFrame] = field(default_factory=list)
    dividends: list[pd.DataFrame] = field(default_factory=list)

    def add_span(self, sid: int, first: pd.Timestamp, last: pd.Timestamp) -> None:
        """Widen ``sid``'s span to cover ``first`` .. ``last``."""
        if sid in self.spans:
            old_first, old_last = self.spans[sid]
            first, last = min(first, old_first), max(last, old_last)
        self.spans[sid] = (first, last)


@dataclass(frozen=True)
class FrameReader:
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


def sid_frames(
    by_symbol: Mapping[str, Path],
    sids: Mapping[str, int],
    reader: FrameReader,
    collected: Collected,
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
    frame: pd.DataFrame, sid: int, reader: FrameReader, collected: Collected
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
