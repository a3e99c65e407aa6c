"""The csvdir bundle's bulk reader: a timeframe's files as one table, checked in array passes.

Reading, clipping and checking 500 files one DataFrame at a time costs far
more in pandas overhead than in parsing. The bulk path reads every file of a
timeframe as one Arrow table (the files of one header are parsed as a single
CSV, on all cores), clips and checks the whole table in a few array passes,
and hands it to the bar writer's ``write_arrays``, whose screen applies
validation's rules and the bundle's price limits. It covers clean folders of
plain CSV files (no quoted values, no blank lines, ISO dates without UTC
offsets, at least one row each, every row within the calendar, plausible
prices); anything else - a bad row, an odd file, a check that fails - makes
it give up before anything is kept, and the per-file path (:mod:`rustybt.data.bundles.csvdir_files`)
reads the folder instead, so every error is reported exactly as that path
reports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from rustybt.data.bundles.csvdir_files import Collected, FrameReader
from rustybt.data.plausibility import PriceLimits, SessionPrices
from rustybt.data.validation import OHLCV_COLUMNS
from rustybt.exceptions import DataValidationError

__all__ = ["write_in_bulk"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

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


def write_in_bulk(
    by_symbol: Mapping[str, Path],
    sids: Mapping[str, int],
    reader: FrameReader,
    collected: Collected,
    writer: Any,
    limits: PriceLimits,
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
    if table is None or not table.counts.all():
        return False  # an empty file is refused by the per-file path
    beyond, left_out = reader.range_masks(table.times)
    if beyond.any():
        return False
    table, dropped = _drop_rows(table, left_out)
    file_sids = np.array([sids[symbol] for symbol in by_symbol], dtype=np.int64)
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
            price_limits=limits,
        )
    except DataValidationError:
        return False
    _collect(table, file_sids, paths, written, collected)
    for k in np.flatnonzero(dropped).tolist():
        collected.left_out[str(paths[k])] = int(dropped[k])
    splits, dividends = adjustments
    if len(splits):
        collected.splits.append(splits)
    if len(dividends):
        collected.dividends.append(dividends)
    return True


def _collect(
    table: _Table,
    file_sids: IntArray,
    paths: Sequence[Path],
    written: IntArray,
    collected: Collected,
) -> None:
    """Record each written file's span and session prices (views of the table)."""
    # Validated: each file's sessions increase, so a span is its first and last row.
    ends = np.cumsum(table.counts)
    prices = collected.prices["daily"]
    for k in written.tolist():
        start, end = int(ends[k] - table.counts[k]), int(ends[k])
        sid = int(file_sids[k])
        first, last = table.times[start], table.times[end - 1]
        collected.add_span(sid, pd.Timestamp(first), pd.Timestamp(last))
        prices[sid] = SessionPrices(
            str(paths[k]),
            table.times[start:end],
            table.columns["close"][start:end],
            table.columns["high"][start:end],
            table.columns["low"][start:end],
        )


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
            if kind.tz is not None:
                return None  # UTC offsets: the per-file path keeps the dates written
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


def _drop_rows(table: _Table, drop: npt.NDArray[np.bool_]) -> tuple[_Table, IntArray]:
    """The table without the ``drop`` rows, times floored to sessions; and rows dropped per file."""
    days = table.times - table.times % _DAY_NS
    if not drop.any():
        return _Table(table.counts, days, table.columns), np.zeros_like(table.counts)
    files = np.repeat(np.arange(table.counts.size), table.counts)
    dropped = np.bincount(files[drop], minlength=table.counts.size).astype(np.int64)
    keep = ~drop
    columns = {name: values[keep] for name, values in table.columns.items()}
    return _Table(table.counts - dropped, days[keep], columns), dropped


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
