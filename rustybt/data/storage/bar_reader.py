"""The Parquet bar reader shared by the daily and minute readers.

A reader turns its file, once, into NumPy panels of shape
``(len(axis), len(sids))`` and answers zipline's reader queries by index
arithmetic on them. The daily and minute readers differ only in their time
axis: how a user's ``dt`` maps to an axis value, how an axis value maps back
to a label, and which part of the calendar the axis covers. Subclasses supply
those three hooks; everything else lives here.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rustybt.data.storage.bar_format import (
    FIELDS,
    SIDS_METADATA_KEY,
    FloatArray,
    Frequency,
    IntArray,
    as_sid,
    check_field,
    fill_value,
    session_label,
)
from rustybt.data.storage.integrity import DEFAULT_REMEDY, corrupted_file_error, is_access_error
from rustybt.data.storage.panel_cache import cached_panel, panel_key
from rustybt.exceptions import (
    DataError,
    DataNotFoundError,
    DataValidationError,
    ParameterValidationError,
)

if TYPE_CHECKING:
    from pandas._libs import NaTType

    from rustybt.calendars import ExchangeCalendar

__all__ = ["BarReader", "PanelState", "read_bar_table"]


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
    cache_key
        The key of the file's panels in the panel cache
        (:func:`~rustybt.data.storage.panel_cache.panel_key`).
    """

    axis: IntArray
    sids: IntArray
    sid_to_col: dict[int, int]
    panels: dict[str, FloatArray]
    first_row: int
    flat: IntArray
    keep: npt.NDArray[np.bool_] | None
    cache_key: str


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
    remedy
        The end of the message of a corruption error: what the user should do.
    """

    frequency: ClassVar[Frequency]
    time_column: ClassVar[str]

    def __init__(
        self,
        path: Path | str,
        calendar: ExchangeCalendar,
        start_session: pd.Timestamp,
        end_session: pd.Timestamp,
        *,
        remedy: str = DEFAULT_REMEDY,
    ) -> None:
        self.path = Path(path)
        self.remedy = remedy
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
        table = read_bar_table(
            self.path, self.time_column, ["sid", self.time_column], remedy=self.remedy
        )
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
            cache_key=panel_key(self.path, axis, sids),
        )

    def _panel(self, state: PanelState, field: str) -> FloatArray:
        """``field``'s panel, read from the file the first time it is asked for."""
        panel = state.panels.get(field)
        if panel is not None:
            return panel
        with self._lock:
            panel = state.panels.get(field)
            if panel is None:

                def build() -> FloatArray:
                    table = read_bar_table(self.path, self.time_column, [field], remedy=self.remedy)
                    shape = (state.axis.size, state.sids.size)
                    return _scatter(
                        _column(table, field, state.keep), state.flat, shape, fill_value(field)
                    )

                panel = cached_panel(self.path, state.cache_key, field, build)
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


def read_bar_table(
    path: Path,
    time_column: str,
    columns: list[str] | None = None,
    *,
    remedy: str = DEFAULT_REMEDY,
) -> pa.Table:
    """Read ``columns`` (default: all) of a bar file, with clear errors for a bad file.

    Every expected column must exist, whichever are read. Each page read is
    checked against its checksum (files written without checksums read as before).

    Raises
    ------
    DataNotFoundError
        If the file does not exist.
    BundleCorruptedError
        If the file cannot be parsed or a page fails its checksum; the
        message ends with ``remedy``.
    DataError
        If the file cannot be read for lack of permission.
    """
    if not path.exists():
        raise DataNotFoundError(f"bar file {path} does not exist", context={"file": str(path)})
    expected = ["sid", time_column, *FIELDS]
    # One file, read as one: ParquetFile opens it once for the schema and the
    # columns (pq.read_table also imports pyarrow.dataset, ~10 ms, on first use).
    try:
        with pq.ParquetFile(path, page_checksum_verification=True) as parquet:
            names = parquet.schema_arrow.names
            missing = [name for name in expected if name not in names]
            if missing:
                raise DataValidationError(
                    f"bar file {path} lacks column(s) {', '.join(missing)}",
                    context={"file": str(path), "missing_columns": missing},
                )
            table = parquet.read(columns=expected if columns is None else columns)
            rows = parquet.metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        if is_access_error(exc):
            raise DataError(
                f"cannot read bar file {path}: {exc}", context={"file": str(path)}
            ) from exc
        # Anything else Arrow refuses (a failed page checksum, a damaged footer
        # or page header, a truncated file) is damage to the file itself.
        raise corrupted_file_error(path, f"unreadable Parquet ({exc})", remedy) from exc
    if table.num_rows != rows:
        # A damaged page header (outside the page checksums) can shorten a column.
        why = f"{table.num_rows} values read where the file holds {rows} rows"
        raise corrupted_file_error(path, f"unreadable Parquet ({why})", remedy)
    return table


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
