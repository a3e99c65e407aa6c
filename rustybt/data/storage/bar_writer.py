"""The Parquet bar writer shared by the daily and minute writers.

A writer accumulates validated bars per sid (frame by frame, or many sids at
once from flat arrays) and writes one file, row-sorted by (sid, timestamp),
atomically; the write may run on a background thread while the caller goes
on. Validation is where every bundle's bars pass, whoever wrote the ingest
function: besides well-formed bars it refuses implausible prices (a price
above a ceiling, a one-bar spike), with limits an ingest function may set::

    daily_bar_writer.write(pairs, price_limits=PriceLimits(price_ceiling=1e12))
 The daily and minute writers differ only in their time column and in
which calendar times bars may fall on (:meth:`BarWriter._calendar_index`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rustybt.data.plausibility import DEFAULT_PRICE_LIMITS, PriceLimits
from rustybt.data.storage.bar_format import (
    FIELDS,
    SIDS_METADATA_KEY,
    FloatArray,
    Frequency,
    IntArray,
    as_sid,
    session_label,
)
from rustybt.data.validation import screen_bar_arrays, validate_bars
from rustybt.exceptions import DataError, DataValidationError, ParameterValidationError

if TYPE_CHECKING:
    from rustybt.calendars import ExchangeCalendar

__all__ = ["INVALID_DATA_BEHAVIORS", "BarWriter"]

INVALID_DATA_BEHAVIORS: Final[frozenset[str]] = frozenset({"raise", "warn", "ignore"})

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Chunk:
    """One sid's validated bars: int64 ns timestamps and the five columns."""

    times: IntArray
    columns: tuple[FloatArray, ...]


class BarWriter(ABC):
    """Accumulate validated per-sid frames; write one sorted Parquet file.

    Parameters
    ----------
    path
        The ``.parquet`` file to write.
    calendar
        The trading calendar the bars must follow.
    start_session, end_session
        The range of sessions the bars may fall in.
    """

    frequency: ClassVar[Frequency]
    time_column: ClassVar[str]
    time_type: ClassVar[pa.DataType]

    def __init__(
        self,
        path: Path | str,
        calendar: ExchangeCalendar,
        start_session: pd.Timestamp,
        end_session: pd.Timestamp,
    ) -> None:
        self.path = Path(path)
        self.calendar = calendar
        self.start_session = session_label(start_session)
        self.end_session = session_label(end_session)
        self._chunks: dict[int, _Chunk] = {}
        self._valid: pd.DatetimeIndex | None = None
        self._background: _Background | None = None

    @abstractmethod
    def _calendar_index(self) -> pd.DatetimeIndex:
        """The sessions or minutes bars may fall on (built once, then cached)."""

    @property
    def valid_index(self) -> pd.DatetimeIndex:
        """The calendar sessions (daily) or minutes (minute) of the range."""
        if self._valid is None:
            self._valid = self._calendar_index()
        return self._valid

    @property
    def sids_written(self) -> list[int]:
        """The sids accumulated so far, sorted."""
        return sorted(self._chunks)

    def write(
        self,
        data: Iterable[tuple[int, pd.DataFrame]],
        assets: Iterable[Any] | None = None,
        show_progress: bool = False,
        invalid_data_behavior: str = "raise",
        price_limits: PriceLimits = DEFAULT_PRICE_LIMITS,
    ) -> None:
        """Validate and accumulate ``(sid, frame)`` pairs.

        Parameters
        ----------
        data
            ``(sid, frame)`` pairs; each frame is indexed by session (daily)
            or UTC minute and has columns ``open, high, low, close, volume``.
            ``frame.attrs["source"]`` names the frame in errors (default
            ``"sid N"``).
        assets
            If given, the sids that may be written; any other sid is an error.
        show_progress
            Log one line per frame at INFO level.
        invalid_data_behavior
            ``"raise"`` (default): invalid bars raise. ``"warn"``: the
            invalid rows are dropped with a warning naming them. ``"ignore"``:
            they are dropped silently.
        price_limits
            The price ceiling and the one-bar spike factor the bars must keep
            to (:class:`~rustybt.data.plausibility.PriceLimits`; by default a
            ceiling of 1e9 and a factor of 5). An ingest function that needs
            others passes its own, e.g. ``PriceLimits(spike_factor=None)`` to
            turn the spike rule off.

        Raises
        ------
        DataValidationError
            If a frame has invalid bars (and ``invalid_data_behavior`` is
            ``"raise"``), lacks a column, or its sid was already written or
            is not among ``assets``.
        ParameterValidationError
            If ``invalid_data_behavior`` is not one of the three values.
        DataError
            If :meth:`start_finalize` was called.
        """
        self._check_behavior(invalid_data_behavior)
        self._check_open()
        allowed = None if assets is None else {as_sid(a) for a in assets}
        for raw_sid, frame in data:
            sid = as_sid(raw_sid)
            self._check_sid(sid, allowed)
            clean = self._validated(sid, frame, invalid_data_behavior, price_limits)
            self._chunks[sid] = _Chunk(
                pd.DatetimeIndex(clean.index).asi8.astype(np.int64, copy=False),
                tuple(clean[name].to_numpy(dtype=np.float64) for name in FIELDS),
            )
            if show_progress:
                logger.info("%s: sid %d, %d bars", self.path.name, sid, len(clean))

    def write_arrays(
        self,
        sids: Sequence[int] | IntArray,
        counts: Sequence[int] | IntArray,
        times: IntArray,
        columns: Mapping[str, FloatArray],
        sources: Sequence[str] | None = None,
        show_progress: bool = False,
        invalid_data_behavior: str = "raise",
        price_limits: PriceLimits = DEFAULT_PRICE_LIMITS,
    ) -> None:
        """Validate and accumulate the bars of many sids, given end to end in flat arrays.

        The bulk form of :meth:`write`, for a reader that holds every bar in
        one table: clean bars are checked in a few vectorized passes over the
        whole arrays (:func:`~rustybt.data.validation.screen_bar_arrays`)
        rather than one frame at a time. If any row breaks a rule, every sid
        goes through :meth:`write` frame by frame instead, so errors, warnings
        and dropped rows are exactly those of :meth:`write`. Clean columns are
        kept as given, not copied: leave the arrays unchanged until
        :meth:`finalize`.

        Parameters
        ----------
        sids
            The sids, one per block of rows.
        counts
            How many rows each sid has; block ``k`` is the ``counts[k]`` rows
            after those of the earlier blocks.
        times
            int64 nanosecond timestamps of every row: session dates (daily,
            tz-naive) or UTC minutes (minute).
        columns
            float64 arrays ``open, high, low, close, volume``, as long as
            ``times``; other keys are ignored.
        sources
            What each block came from, named in errors (default ``"sid N"``).
        show_progress
            Log one line at INFO level.
        invalid_data_behavior, price_limits
            As for :meth:`write`.

        Raises
        ------
        DataValidationError
            If a column is missing, or as :meth:`write` would for the same
            frames; on error no sid of the call is kept.
        ParameterValidationError
            If ``invalid_data_behavior`` is not one of the three values, or
            the array lengths disagree.
        DataError
            If :meth:`start_finalize` was called.
        """
        self._check_behavior(invalid_data_behavior)
        self._check_open()
        sid_array = np.asarray(sids, dtype=np.int64)
        count_array = np.asarray(counts, dtype=np.int64)
        stamps = np.asarray(times, dtype=np.int64)
        missing = [name for name in FIELDS if name not in columns]
        if missing:
            raise DataValidationError(
                f"{self.path}: write_arrays lacks column(s) {', '.join(missing)}",
                context={"file": str(self.path), "missing_columns": missing},
            )
        values = tuple(np.asarray(columns[name], dtype=np.float64) for name in FIELDS)
        lengths = {stamps.size, *(v.size for v in values)}
        if (
            sid_array.size != count_array.size
            or (sources is not None and len(sources) != sid_array.size)
            or (count_array < 0).any()
            or lengths != {int(count_array.sum())}
        ):
            raise ParameterValidationError(
                f"{self.path}: write_arrays got {sid_array.size} sids, {count_array.size} counts "
                f"adding up to {int(count_array.sum())} and arrays of {sorted(lengths)} rows",
                context={"file": str(self.path)},
            )
        seen: set[int] = set()
        for sid in sid_array.tolist():
            self._check_sid(sid, None, seen)
            seen.add(sid)
        ends = np.cumsum(count_array)
        starts = ends - count_array
        clean_times, bad = screen_bar_arrays(
            stamps,
            values,
            starts,
            frequency=self.frequency,
            valid_index=self.valid_index,
            limits=price_limits,
        )
        if bad.any():
            frames = self._frames(sid_array, starts, ends, stamps, values, sources)
            before = dict(self._chunks)
            try:
                self.write(
                    frames,
                    show_progress=show_progress,
                    invalid_data_behavior=invalid_data_behavior,
                    price_limits=price_limits,
                )
            except BaseException:
                self._chunks = before
                raise
            return
        for sid, start, end in zip(sid_array.tolist(), starts.tolist(), ends.tolist(), strict=True):
            self._chunks[sid] = _Chunk(
                clean_times[start:end], tuple(column[start:end] for column in values)
            )
        if show_progress:
            logger.info("%s: %d sids, %d bars", self.path.name, sid_array.size, stamps.size)

    def _frames(
        self,
        sids: IntArray,
        starts: IntArray,
        ends: IntArray,
        times: IntArray,
        values: tuple[FloatArray, ...],
        sources: Sequence[str] | None,
    ) -> Iterator[tuple[int, pd.DataFrame]]:
        """The blocks of :meth:`write_arrays` as :meth:`write`'s ``(sid, frame)`` pairs."""
        for k, (sid, start, end) in enumerate(
            zip(sids.tolist(), starts.tolist(), ends.tolist(), strict=True)
        ):
            index = pd.DatetimeIndex(times[start:end].view("M8[ns]"))
            if self.frequency == "minute":
                index = index.tz_localize("UTC")
            frame = pd.DataFrame(
                {name: column[start:end] for name, column in zip(FIELDS, values, strict=True)},
                index=index,
            )
            frame.attrs["source"] = f"sid {sid}" if sources is None else str(sources[k])
            yield sid, frame

    def time_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The earliest and latest timestamp accumulated, None if there is no bar.

        Daily values are tz-naive sessions, minute values UTC.
        """
        firsts = [chunk.times.min() for chunk in self._chunks.values() if chunk.times.size]
        if not firsts:
            return None
        lasts = [chunk.times.max() for chunk in self._chunks.values() if chunk.times.size]
        tz = "UTC" if self.frequency == "minute" else None
        return pd.Timestamp(int(min(firsts)), tz=tz), pd.Timestamp(int(max(lasts)), tz=tz)

    def _check_open(self) -> None:
        if self._background is not None:
            raise DataError(
                f"{self.path}: bars written after start_finalize; write every bar first",
                context={"file": str(self.path)},
            )

    @staticmethod
    def _check_behavior(invalid_data_behavior: str) -> None:
        if invalid_data_behavior not in INVALID_DATA_BEHAVIORS:
            raise ParameterValidationError(
                f"invalid_data_behavior must be 'raise', 'warn' or 'ignore', "
                f"not {invalid_data_behavior!r}",
                context={"invalid_data_behavior": invalid_data_behavior},
            )

    def _check_sid(
        self, sid: int, allowed: set[int] | None, pending: set[int] | frozenset[int] = frozenset()
    ) -> None:
        if sid in self._chunks or sid in pending:
            raise DataValidationError(
                f"{self.path}: sid {sid} was already written; each sid's bars must "
                "come in one frame",
                context={"file": str(self.path), "sid": sid},
            )
        if allowed is not None and sid not in allowed:
            raise DataValidationError(
                f"{self.path}: sid {sid} is not among the assets being written",
                context={"file": str(self.path), "sid": sid},
            )

    def _validated(
        self, sid: int, frame: pd.DataFrame, behavior: str, limits: PriceLimits
    ) -> pd.DataFrame:
        source = str(frame.attrs.get("source", f"sid {sid}"))
        try:
            return self._validate(frame, source, limits)
        except DataValidationError as exc:
            # No rows to drop (a missing column): nothing can be salvaged.
            if behavior == "raise" or exc.invalid_rows.empty:
                raise
            if behavior == "warn":
                warnings.warn(f"{exc.message}; dropping the invalid rows", stacklevel=3)
            return self._drop_invalid_rows(frame, source, limits)

    def _validate(self, frame: pd.DataFrame, source: str, limits: PriceLimits) -> pd.DataFrame:
        return validate_bars(
            frame,
            frequency=self.frequency,
            valid_index=self.valid_index,
            source=source,
            limits=limits,
        )

    def _drop_invalid_rows(
        self, frame: pd.DataFrame, source: str, limits: PriceLimits
    ) -> pd.DataFrame:
        """Drop offending rows until what is left validates.

        Dropping a row can expose another (an out-of-order row hidden behind
        the one reported), hence the loop; each pass drops at least one row.
        """
        keep = np.ones(len(frame), dtype=bool)
        while True:
            positions = np.flatnonzero(keep)
            subset = frame.iloc[positions]
            # 1-based positions in ``frame``, so "row" maps back to it.
            subset.attrs = {**frame.attrs, "row_numbers": positions + 1}
            try:
                return self._validate(subset, source, limits)
            except DataValidationError as exc:
                bad = exc.invalid_rows["row"].to_numpy(dtype=np.int64) - 1
                if not keep[bad].any():
                    raise  # nothing new to drop: give up rather than loop
                keep[bad] = False

    def finalize(self) -> None:
        """Write every accumulated bar to ``path`` atomically.

        The rows are sorted by (sid, timestamp); the file is written to
        ``<path>.tmp`` and renamed into place, so no half file is ever
        visible. With nothing written, the file is empty but has the schema.
        After :meth:`start_finalize`, wait for that write instead (and raise
        its error, if it failed).
        """
        if self._background is not None:
            error = self._background.wait()
            if error is not None:
                raise error
            return
        self._write_file()

    def start_finalize(self) -> None:
        """Start :meth:`finalize`'s write in a background thread and return at once.

        For a caller that has written every bar and has other work to do
        meanwhile: the Parquet encoder releases the GIL, so the file is
        written on another core. :meth:`finalize` then waits for it. Writing
        bars after this raises :class:`~rustybt.exceptions.DataError`.
        Whoever calls this must call :meth:`finalize` or :meth:`wait` before
        removing the file's folder.
        """
        if self._background is None:
            self._background = _Background(self._write_file)

    def wait(self) -> BaseException | None:
        """Wait for a write started by :meth:`start_finalize`; return its error, if any.

        Returns None at once if none was started. For a caller that is
        failing anyway and must not leave a thread writing into a folder it
        removes.
        """
        return None if self._background is None else self._background.wait()

    def _write_file(self) -> None:
        table = self._table()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            pq.write_table(
                table,
                tmp,
                compression="zstd",
                # Prices repeat (cents), volumes mostly do not: for volumes a
                # dictionary costs time and space, byte-stream-split saves both.
                use_dictionary=[name for name in table.column_names if name != "volume"],
                column_encoding={"volume": "BYTE_STREAM_SPLIT"},
                # A CRC per page, verified by the reader on every page it reads.
                write_page_checksum=True,
            )
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    def _table(self) -> pa.Table:
        sids = np.array(self.sids_written, dtype=np.int64)
        chunks = [self._chunks[sid] for sid in sids.tolist()]
        lengths = np.array([chunk.times.size for chunk in chunks], dtype=np.int64)
        times = _concat([chunk.times for chunk in chunks], np.int64)
        arrays: dict[str, pa.Array] = {
            "sid": pa.array(np.repeat(sids, lengths), type=pa.int64()),
            self.time_column: pa.array(times.view("datetime64[ns]"), type=self.time_type),
        }
        for k, name in enumerate(FIELDS):
            values = _concat([chunk.columns[k] for chunk in chunks], np.float64)
            arrays[name] = pa.array(values, type=pa.float64())
        metadata = {SIDS_METADATA_KEY: json.dumps(sids.tolist()).encode()}
        return pa.table(arrays).replace_schema_metadata(metadata)


class _Background:
    """A function run in a thread of its own, its error kept for whoever waits."""

    def __init__(self, target: Callable[[], None]) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(target,), name="rustybt-bar-writer")
        self._thread.start()

    def _run(self, target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # re-raised by the thread that waits
            self._error = exc

    def wait(self) -> BaseException | None:
        """Block until the function has returned; its error, or None."""
        self._thread.join()
        return self._error


def _concat(parts: list[Any], dtype: type[np.generic]) -> Any:
    if not parts:
        return np.empty(0, dtype=dtype)
    joined = _adjacent_view(parts)
    if joined is None:
        joined = np.concatenate(parts)
    return joined.astype(dtype, copy=False)


def _adjacent_view(parts: list[Any]) -> npt.NDArray[Any] | None:
    """``parts`` joined without a copy, if they lie end to end in one array.

    Such are the chunks of one :meth:`BarWriter.write_arrays` call, stored in
    sid order: slices of the arrays it was given.
    """
    base = parts[0].base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    itemsize = base.itemsize
    origin = base.__array_interface__["data"][0]
    start = parts[0].__array_interface__["data"][0]
    expected = start
    for part in parts:
        if (
            not isinstance(part, np.ndarray)
            or part.base is not base
            or part.ndim != 1
            or not part.flags.c_contiguous
            or part.dtype != base.dtype
            or part.__array_interface__["data"][0] != expected
        ):
            return None
        expected += part.size * itemsize
    offset = (start - origin) // itemsize
    if (
        (start - origin) % itemsize
        or offset < 0
        or offset + (expected - start) // itemsize > base.size
    ):
        return None
    return base[offset : offset + (expected - start) // itemsize]
