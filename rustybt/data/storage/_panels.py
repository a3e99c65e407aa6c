"""Shared machinery of the Parquet bar writers and readers (daily and minute).

A bar file holds one row per (sid, timestamp) with float64 OHLCV columns,
row-sorted by (sid, timestamp). A reader turns it, once, into five NumPy
panels of shape ``(len(axis), len(sids))``: the time axis is the sessions
(daily) or the trading minutes (minute), the columns are the sorted sids.
Everything after that first load is index arithmetic on those arrays.

The daily and minute classes differ only in their time axis: how a user's
``dt`` maps to an axis value, how an axis value maps back to a label, and
(for minutes) which part of the calendar the axis covers. Subclasses supply
those three hooks; everything else lives here.
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
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rustybt.data.validation import screen_bar_arrays, validate_bars
from rustybt.exceptions import (
    DataError,
    DataNotFoundError,
    DataValidationError,
    ParameterValidationError,
)

if TYPE_CHECKING:
    from pandas._libs import NaTType

    from rustybt.calendars import ExchangeCalendar

__all__ = [
    "FIELDS",
    "PRICE_FIELDS",
    "BarReader",
    "BarWriter",
    "Frequency",
    "as_sid",
    "session_label",
]

Frequency = Literal["daily", "minute"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PRICE_FIELDS: Final[tuple[str, ...]] = ("open", "high", "low", "close")
FIELDS: Final[tuple[str, ...]] = (*PRICE_FIELDS, "volume")
INVALID_DATA_BEHAVIORS: Final[frozenset[str]] = frozenset({"raise", "warn", "ignore"})

# Parquet key-value metadata listing every sid written, so a sid whose frame
# was empty (no rows in the file) is still a column of the reader's panels.
SIDS_METADATA_KEY: Final[bytes] = b"rustybt.sids"

logger = logging.getLogger(__name__)


def as_sid(asset: Any) -> int:
    """Return the integer sid of an ``Asset`` or an int-like."""
    return int(asset)


def session_label(value: Any) -> pd.Timestamp:
    """Return ``value`` as a tz-naive midnight session label.

    Aware values keep their wall-clock date (a UTC-midnight zipline session
    label stays the same date), as :func:`rustybt.data.validation.validate_bars`
    does for daily bars.
    """
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize().as_unit("ns")


def fill_value(field: str) -> float:
    """What a panel holds where there is no bar: NaN for prices, 0 for volume."""
    return 0.0 if field == "volume" else np.nan


def check_field(field: str) -> None:
    """Raise ParameterValidationError unless ``field`` is an OHLCV column."""
    if field not in FIELDS:
        raise ParameterValidationError(
            f"unknown bar field {field!r}; expected one of {', '.join(FIELDS)}",
            context={"field": field},
        )


# --- writing ----------------------------------------------------------------


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
            clean = self._validated(sid, frame, invalid_data_behavior)
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
        invalid_data_behavior
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
            stamps, values, starts, frequency=self.frequency, valid_index=self.valid_index
        )
        if bad.any():
            frames = self._frames(sid_array, starts, ends, stamps, values, sources)
            before = dict(self._chunks)
            try:
                self.write(
                    frames,
                    show_progress=show_progress,
                    invalid_data_behavior=invalid_data_behavior,
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

    def _validated(self, sid: int, frame: pd.DataFrame, behavior: str) -> pd.DataFrame:
        source = str(frame.attrs.get("source", f"sid {sid}"))
        try:
            return self._validate(frame, source)
        except DataValidationError as exc:
            # No rows to drop (a missing column): nothing can be salvaged.
            if behavior == "raise" or exc.invalid_rows.empty:
                raise
            if behavior == "warn":
                warnings.warn(f"{exc.message}; dropping the invalid rows", stacklevel=3)
            return self._drop_invalid_rows(frame, source)

    def _validate(self, frame: pd.DataFrame, source: str) -> pd.DataFrame:
        return validate_bars(
            frame, frequency=self.frequency, valid_index=self.valid_index, source=source
        )

    def _drop_invalid_rows(self, frame: pd.DataFrame, source: str) -> pd.DataFrame:
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
                return self._validate(subset, source)
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


# --- reading ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PanelState:
    """Everything a reader loads from its file, built once and never mutated.

    Attributes
    ----------
    axis
        The time axis as int64 nanoseconds (UTC for minutes), increasing.
    sids
        The sorted sids: column ``i`` of every panel is ``sids[i]``.
    sid_to_col
        ``sids`` inverted.
    panels
        Read-only float64 ``(len(axis), len(sids))`` arrays per field, each
        read from the file on first use (most simulations need only close
        and volume).
    first_row
        Axis index of the earliest bar, -1 if there is none.
    flat, keep
        Where each kept file row lands in a flattened panel, and which file
        rows are kept (None: all).
    """

    axis: IntArray
    sids: IntArray
    sid_to_col: dict[int, int]
    panels: dict[str, FloatArray]
    first_row: int
    flat: IntArray
    keep: npt.NDArray[np.bool_] | None


class BarReader(ABC):
    """Lazily load a bar file into NumPy panels and answer zipline's queries.

    Construction reads nothing; the first use reads the layout (sids and
    times), and each field's panel is read on its first use, under a lock, so
    one reader may be shared between threads.

    Parameters
    ----------
    path
        The ``.parquet`` bar file.
    calendar
        The trading calendar of the bars.
    start_session, end_session
        The range of sessions the reader covers; rows outside it are ignored.
    """

    frequency: ClassVar[Frequency]
    time_column: ClassVar[str]

    def __init__(
        self,
        path: Path | str,
        calendar: ExchangeCalendar,
        start_session: pd.Timestamp,
        end_session: pd.Timestamp,
    ) -> None:
        self.path = Path(path)
        self._calendar = calendar
        self._start_session = session_label(start_session)
        self._end_session = session_label(end_session)
        self._lock = threading.RLock()
        self._state: PanelState | None = None
        self._last_traded: IntArray | None = None

    # -- hooks ---------------------------------------------------------------

    @abstractmethod
    def _build_axis(self, times: IntArray) -> IntArray:
        """Return the time axis given the file's timestamps (int64 ns).

        Called once, under the lock, before any panel exists.
        """

    @abstractmethod
    def _axis_value(self, dt: Any) -> int:
        """Return ``dt`` as an int64 ns value comparable with the axis."""

    @abstractmethod
    def _label(self, value: int) -> pd.Timestamp:
        """Return the timestamp label of the axis value ``value``."""

    # -- loading -------------------------------------------------------------

    @property
    def trading_calendar(self) -> ExchangeCalendar:
        """The calendar the bars follow."""
        return self._calendar

    def _loaded(self) -> PanelState:
        state = self._state
        if state is not None:
            return state
        with self._lock:
            if self._state is None:
                self._state = self._load()
            return self._state

    def _load(self) -> PanelState:
        table = read_bar_table(self.path, self.time_column, ["sid", self.time_column])
        file_sids = table.column("sid").to_numpy().astype(np.int64, copy=False)
        times = _time_values(table.column(self.time_column))
        axis = self._build_axis(times)
        rows, keep = self._rows_on_axis(axis, times, file_sids)
        sids, cols = _sid_columns(file_sids, table.schema.metadata)
        return PanelState(
            axis=axis,
            sids=sids,
            sid_to_col={sid: col for col, sid in enumerate(sids.tolist())},
            panels={},
            first_row=int(rows.min()) if rows.size else -1,
            flat=rows * sids.size + (cols if keep is None else cols[keep]),
            keep=keep,
        )

    def _panel(self, state: PanelState, field: str) -> FloatArray:
        """``field``'s panel, read from the file the first time it is asked for."""
        panel = state.panels.get(field)
        if panel is not None:
            return panel
        with self._lock:
            panel = state.panels.get(field)
            if panel is None:
                table = read_bar_table(self.path, self.time_column, [field])
                shape = (state.axis.size, state.sids.size)
                panel = _scatter(
                    _column(table, field, state.keep), state.flat, shape, fill_value(field)
                )
                state.panels[field] = panel
            return panel

    def _rows_on_axis(
        self, axis: IntArray, times: IntArray, file_sids: IntArray
    ) -> tuple[IntArray, npt.NDArray[np.bool_] | None]:
        """Axis row of every in-range timestamp, and which rows are in range.

        Rows outside the axis span belong to sessions this reader does not
        cover and are skipped; a row inside the span that is not on the axis
        means the file does not follow the calendar, which is an error.
        """
        if axis.size == 0:
            return np.empty(0, dtype=np.int64), np.zeros(times.size, dtype=bool)
        rows = np.searchsorted(axis, times).astype(np.int64, copy=False)
        inside = (times >= axis[0]) & (times <= axis[-1])
        off_axis = inside & (axis[np.minimum(rows, axis.size - 1)] != times)
        if off_axis.any():
            raise self._off_axis_error(np.flatnonzero(off_axis), times, file_sids)
        if inside.all():
            return rows, None
        return rows[inside], inside

    def _off_axis_error(
        self, bad: IntArray, times: IntArray, file_sids: IntArray
    ) -> DataValidationError:
        what = "session" if self.frequency == "daily" else "trading minute"
        labels = [self._label(int(t)) for t in times[bad[:10]].tolist()]
        shown = ", ".join(
            f"sid {s} at {t}" for s, t in zip(file_sids[bad[:10]], labels, strict=True)
        )
        invalid = pd.DataFrame(
            {"row": bad + 1, "sid": file_sids[bad], "dt": [self._label(int(t)) for t in times[bad]]}
        )
        return DataValidationError(
            f"{self.path}: {bad.size} row(s) are not on a {what} of calendar "
            f"{self._calendar.name}: {shown}",
            invalid_rows=invalid,
            context={"file": str(self.path), "n_invalid": int(bad.size)},
        )

    # -- the panels ----------------------------------------------------------

    @property
    def sids(self) -> IntArray:
        """Every sid of the file, sorted; column ``i`` of a panel is ``sids[i]``."""
        return self._loaded().sids

    @property
    def sid_to_col(self) -> dict[int, int]:
        """Panel column of each sid."""
        return self._loaded().sid_to_col

    def panel(self, field: str) -> FloatArray:
        """The read-only ``(len(axis), len(sids))`` float64 array of ``field``.

        NaN where there is no bar for open/high/low/close, 0.0 for volume.
        """
        check_field(field)
        return self._panel(self._loaded(), field)

    def last_traded_index(self) -> IntArray:
        """Per (row, sid): the last row <= it with non-zero volume, -1 if none."""
        result = self._last_traded
        if result is not None:
            return result
        with self._lock:
            if self._last_traded is None:
                self._last_traded = _last_traded_index(self.panel("volume"))
            return self._last_traded

    @property
    def first_trading_day(self) -> pd.Timestamp | NaTType:
        """The first session with any bar (NaT if there is none)."""
        state = self._loaded()
        if state.first_row < 0:
            return pd.NaT
        return session_label(self._label(int(state.axis[state.first_row])))

    # -- zipline's reader API --------------------------------------------------

    def load_raw_arrays(
        self,
        columns: Iterable[str],
        start_date: Any,
        end_date: Any,
        assets: Iterable[Any],
    ) -> list[FloatArray]:
        """Return one ``(rows, len(assets))`` array per column for a date range.

        Parameters
        ----------
        columns
            Field names (``"open"`` ... ``"volume"``).
        start_date, end_date
            The range, both ends included; it must lie within the reader's
            axis.
        assets
            Sids or Assets; a sid without bars gives a column of NaN (0.0 for
            volume).

        Returns
        -------
        list of numpy.ndarray
            Fresh float64 arrays, in the order of ``columns``.

        Raises
        ------
        DataNotFoundError
            If the range reaches outside the reader's axis.
        """
        state = self._loaded()
        start, stop = self._slice_bounds(state.axis, start_date, end_date)
        cols, known = _columns_of(state.sids, assets)
        out: list[FloatArray] = []
        for name in columns:
            check_field(name)
            if state.sids.size:
                block = self._panel(state, name)[start:stop, cols]
            else:
                block = np.empty((stop - start, cols.size), dtype=np.float64)
            block[:, ~known] = fill_value(name)
            out.append(block)
        return out

    def _slice_bounds(self, axis: IntArray, start_date: Any, end_date: Any) -> tuple[int, int]:
        start, end = self._axis_value(start_date), self._axis_value(end_date)
        if axis.size == 0 or start < axis[0] or end > axis[-1]:
            span = "nothing" if axis.size == 0 else f"{self._label(int(axis[0]))} .. "
            span += "" if axis.size == 0 else str(self._label(int(axis[-1])))
            raise DataNotFoundError(
                f"{self.path}: no {self.frequency} bars for {start_date} .. {end_date}; "
                f"the reader covers {span}",
                context={"file": str(self.path), "start": start_date, "end": end_date},
            )
        if end < start:
            raise ParameterValidationError(
                f"end {end_date} is before start {start_date}",
                context={"start": start_date, "end": end_date},
            )
        lo = int(np.searchsorted(axis, start, side="left"))
        return lo, int(np.searchsorted(axis, end, side="right"))

    def get_value(self, sid: Any, dt: Any, field: str) -> float:
        """The ``field`` of ``sid``'s bar at ``dt``.

        NaN if there is no bar then (0.0 for volume).

        Raises
        ------
        DataNotFoundError
            If ``sid`` has no bars in the file, or ``dt`` is not on the
            reader's axis (not a session / trading minute it covers).
        """
        check_field(field)
        state = self._loaded()
        col = self._column_of(state, sid, dt)
        value = self._axis_value(dt)
        row = int(state.axis.searchsorted(value))
        if row == state.axis.size or state.axis[row] != value:
            raise self._no_row_error(state, sid, dt)
        return float(self._panel(state, field)[row, col])

    def get_last_traded_dt(self, asset: Any, dt: Any) -> pd.Timestamp | NaTType:
        """The last session / minute at or before ``dt`` with volume, else NaT.

        Raises
        ------
        DataNotFoundError
            If the asset has no bars in the file.
        """
        state = self._loaded()
        col = self._column_of(state, asset, dt)
        row = int(state.axis.searchsorted(self._axis_value(dt), side="right")) - 1
        if row < 0:
            return pd.NaT
        last = int(self.last_traded_index()[row, col])
        return pd.NaT if last < 0 else self._label(int(state.axis[last]))

    def _column_of(self, state: PanelState, sid: Any, dt: Any) -> int:
        col = state.sid_to_col.get(as_sid(sid))
        if col is None:
            raise DataNotFoundError(
                f"{self.path}: no {self.frequency} bars for sid {as_sid(sid)} (asked at {dt})",
                context={"file": str(self.path), "sid": as_sid(sid), "dt": dt},
            )
        return col

    def _no_row_error(self, state: PanelState, sid: Any, dt: Any) -> DataNotFoundError:
        what = "session" if self.frequency == "daily" else "trading minute"
        if state.axis.size:
            span = f"{self._label(int(state.axis[0]))} .. {self._label(int(state.axis[-1]))}"
        else:
            span = "no data"
        return DataNotFoundError(
            f"{self.path}: no {self.frequency} bar for sid {as_sid(sid)} at {dt}: "
            f"not a {what} of the reader ({span})",
            context={"file": str(self.path), "sid": as_sid(sid), "dt": dt},
        )


def read_bar_table(path: Path, time_column: str, columns: list[str] | None = None) -> pa.Table:
    """Read ``columns`` (default: all) of a bar file, with clear errors for a bad file.

    Every expected column must exist, whichever are read.
    """
    if not path.exists():
        raise DataNotFoundError(f"bar file {path} does not exist", context={"file": str(path)})
    expected = ["sid", time_column, *FIELDS]
    try:
        names = pq.read_schema(path).names
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"cannot read bar file {path}: {exc}", context={"file": str(path)}) from exc
    missing = [name for name in expected if name not in names]
    if missing:
        raise DataValidationError(
            f"bar file {path} lacks column(s) {', '.join(missing)}",
            context={"file": str(path), "missing_columns": missing},
        )
    try:
        return pq.read_table(path, columns=expected if columns is None else columns)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"cannot read bar file {path}: {exc}", context={"file": str(path)}) from exc


def _time_values(column: pa.ChunkedArray) -> IntArray:
    """A timestamp column as int64 nanoseconds (UTC for aware columns)."""
    as_ns = column.cast(pa.timestamp("ns", tz=getattr(column.type, "tz", None)))
    return np.asarray(as_ns.cast(pa.int64()).to_numpy(), dtype=np.int64)


def _sid_columns(
    file_sids: IntArray, metadata: dict[bytes, bytes] | None
) -> tuple[IntArray, IntArray]:
    """The sorted sids (the file's and those its metadata lists) and each row's column."""
    if file_sids.size and bool((file_sids[1:] >= file_sids[:-1]).all()):
        # Row-sorted by sid, as written: groups by a running count, no sort.
        change = np.empty(file_sids.size, dtype=bool)
        change[0] = True
        np.not_equal(file_sids[1:], file_sids[:-1], out=change[1:])
        unique = file_sids[change]
        group = np.cumsum(change, dtype=np.int64) - 1
    else:
        unique, inverse = np.unique(file_sids, return_inverse=True)
        group = inverse.astype(np.int64, copy=False)
    listed = (metadata or {}).get(SIDS_METADATA_KEY)
    if not listed:
        return unique.astype(np.int64, copy=False), group
    sids = np.union1d(unique, np.array(json.loads(listed), dtype=np.int64)).astype(np.int64)
    if sids.size == unique.size:
        return sids, group
    return sids, np.searchsorted(sids, unique).astype(np.int64)[group]


def _column(table: pa.Table, name: str, keep: npt.NDArray[np.bool_] | None) -> FloatArray:
    values = np.asarray(table.column(name).to_numpy(), dtype=np.float64)
    return values if keep is None else values[keep]


def _scatter(values: FloatArray, flat: IntArray, shape: tuple[int, int], fill: float) -> FloatArray:
    """Place ``values`` at flat positions of a ``shape`` panel filled with ``fill``."""
    panel = np.full(shape[0] * shape[1], fill, dtype=np.float64)
    panel[flat] = values
    panel = panel.reshape(shape)
    # Shared between every user of the reader: nobody may write to it.
    panel.flags.writeable = False
    return panel


def _last_traded_index(volume: FloatArray) -> IntArray:
    rows = np.arange(volume.shape[0], dtype=np.int64)[:, None]
    index = np.where(volume != 0.0, rows, np.int64(-1))
    np.maximum.accumulate(index, axis=0, out=index)
    index.flags.writeable = False
    return index


def _columns_of(sids: IntArray, assets: Iterable[Any]) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Panel column of each asset (0 if unknown) and whether it is known."""
    asked = np.fromiter((as_sid(a) for a in assets), dtype=np.int64)
    if sids.size == 0:
        return np.zeros(asked.size, dtype=np.int64), np.zeros(asked.size, dtype=bool)
    cols = np.minimum(np.searchsorted(sids, asked), sids.size - 1).astype(np.int64)
    return cols, sids[cols] == asked
