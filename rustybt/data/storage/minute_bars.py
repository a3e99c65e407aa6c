"""Minute bars: a Parquet writer and a reader that serves NumPy panels.

The file (``minute_equities.parquet``) has columns ``sid: int64``,
``dt: timestamp[ns, UTC]`` (the minute a bar *ends*, zipline's label) and
float64 ``open, high, low, close, volume``, row-sorted by (sid, dt),
zstd-compressed. An absent file means the bundle has no minute data.

To save memory the reader's minute axis covers only the sessions from the
first to the last one that has any minute bar, not the whole bundle range:
ten years of XNYS minutes for 500 sids would be 4 GB per field.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> from rustybt.calendars import get_calendar
>>> cal = get_calendar("XNYS")
>>> day = pd.Timestamp("2024-01-03")
>>> path = pathlib.Path(tempfile.mkdtemp()) / "minute_equities.parquet"
>>> minutes = cal.session_minutes(day)[:2]
>>> bars = pd.DataFrame(
...     {"open": [10.0, 10.1], "high": [10.2, 10.3], "low": [9.9, 10.0],
...      "close": [10.1, 10.2], "volume": [500.0, 300.0]},
...     index=minutes,
... )
>>> writer = ParquetMinuteBarWriter(path, cal, pd.Timestamp("2024-01-02"), day)
>>> writer.write([(7, bars)])
>>> writer.finalize()
>>> reader = ParquetMinuteBarReader(path, cal, pd.Timestamp("2024-01-02"), day)
>>> list(reader.sessions), len(reader.minutes)
([Timestamp('2024-01-03 00:00:00')], 390)
>>> reader.get_value(7, "2024-01-03 14:32", "close")
10.2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa

from rustybt.data.storage.bar_format import Frequency, IntArray
from rustybt.data.storage.bar_reader import BarReader
from rustybt.data.storage.bar_writer import BarWriter

if TYPE_CHECKING:
    from pandas._libs import NaTType

__all__ = ["ParquetMinuteBarReader", "ParquetMinuteBarWriter"]


class ParquetMinuteBarWriter(BarWriter):
    """Write minute OHLCV bars of many sids to one Parquet file.

    Parameters
    ----------
    path
        The ``.parquet`` file to write (``minute_equities.parquet``).
    calendar
        The trading calendar; every bar must be labelled with one of its
        trading minutes (zipline's labels: the minute a bar ends).
    start_session, end_session
        The sessions whose minutes bars may fall on (both included).

    Notes
    -----
    Frame indexes are UTC minutes; naive timestamps are read as UTC.
    """

    frequency: ClassVar[Frequency] = "minute"
    time_column: ClassVar[str] = "dt"
    time_type: ClassVar[pa.DataType] = pa.timestamp("ns", tz="UTC")

    def _calendar_index(self) -> pd.DatetimeIndex:
        return self.calendar.sessions_minutes(self.start_session, self.end_session)


@dataclass(frozen=True, slots=True)
class _MinuteAxis:
    """The sessions the minute axis covers, and how minutes map to them."""

    sessions: pd.DatetimeIndex
    minutes: pd.DatetimeIndex
    minute_session: IntArray
    session_bounds: IntArray


_EMPTY_AXIS = _MinuteAxis(
    sessions=pd.DatetimeIndex([], dtype="datetime64[ns]"),
    minutes=pd.DatetimeIndex([], dtype="datetime64[ns, UTC]"),
    minute_session=np.empty(0, dtype=np.int64),
    session_bounds=np.empty((0, 2), dtype=np.int64),
)


class ParquetMinuteBarReader(BarReader):
    """Minute bars as ``(minutes x sids)`` float64 panels, loaded on first use.

    Parameters
    ----------
    path
        The ``minute_equities.parquet`` file.
    calendar
        The trading calendar of the bars.
    start_session, end_session
        The sessions the reader may cover; its axis is the part of that range
        from the first to the last session with any minute bar.
    remedy
        What a corruption error tells the user to do (a bundle's reader is
        given the command that re-ingests the bundle).

    Notes
    -----
    ``dt`` arguments are minutes; naive timestamps are read as UTC.
    """

    frequency: ClassVar[Frequency] = "minute"
    time_column: ClassVar[str] = "dt"

    _axis_info: _MinuteAxis = _EMPTY_AXIS

    # -- the axis ------------------------------------------------------------

    @property
    def sessions(self) -> pd.DatetimeIndex:
        """Sessions from the first to the last one with any minute bar (tz-naive)."""
        self._loaded()
        return self._axis_info.sessions

    @property
    def minutes(self) -> pd.DatetimeIndex:
        """Every trading minute of :attr:`sessions` (UTC): the panels' rows."""
        self._loaded()
        return self._axis_info.minutes

    @property
    def minute_session(self) -> IntArray:
        """Per minute, its session's index into :attr:`sessions`."""
        self._loaded()
        return self._axis_info.minute_session

    @property
    def session_bounds(self) -> IntArray:
        """Per session, ``[first minute index, last minute index + 1)``."""
        self._loaded()
        return self._axis_info.session_bounds

    @property
    def first_trading_day(self) -> pd.Timestamp | NaTType:
        """The first session with any minute bar (NaT if there is none)."""
        sessions = self.sessions
        return sessions[0] if len(sessions) else pd.NaT

    @property
    def last_available_dt(self) -> pd.Timestamp | NaTType:
        """The last minute of the last session with data (NaT if none)."""
        minutes = self.minutes
        return minutes[-1] if len(minutes) else pd.NaT

    def _build_axis(self, times: IntArray) -> IntArray:
        self._axis_info = self._minute_axis(times)
        return self._axis_info.minutes.asi8

    def _minute_axis(self, times: IntArray) -> _MinuteAxis:
        calendar = self._calendar
        candidates = calendar.sessions_in_range(self._start_session, self._end_session)
        if times.size == 0 or len(candidates) == 0:
            return _EMPTY_AXIS
        first = _ns(calendar.first_minutes.loc[candidates])
        last = _ns(calendar.last_minutes.loc[candidates])
        in_range = times[(times >= first[0]) & (times <= last[-1])]
        if in_range.size == 0:
            return _EMPTY_AXIS
        # Widen, never narrow: a stamp in a gap between sessions must stay
        # inside the axis span so that the load reports it as off-calendar.
        lo = max(int(np.searchsorted(first, in_range.min(), side="right")) - 1, 0)
        hi = min(int(np.searchsorted(last, in_range.max(), side="left")), len(candidates) - 1)
        sessions = pd.DatetimeIndex(candidates[lo : hi + 1]).as_unit("ns")
        minutes = calendar.sessions_minutes(sessions[0], sessions[-1]).as_unit("ns")
        values = minutes.asi8
        firsts, lasts = first[lo : hi + 1], last[lo : hi + 1]
        bounds = np.column_stack(
            (np.searchsorted(values, firsts), np.searchsorted(values, lasts, side="right"))
        ).astype(np.int64)
        owner = (np.searchsorted(firsts, values, side="right") - 1).astype(np.int64)
        return _MinuteAxis(sessions, minutes, owner, bounds)

    def _axis_value(self, dt: Any) -> int:
        ts = pd.Timestamp(dt)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return int(ts.value)

    def _label(self, value: int) -> pd.Timestamp:
        return pd.Timestamp(value, tz="UTC")


def _ns(minutes: pd.Series) -> IntArray:
    """UTC minutes as int64 nanoseconds."""
    return pd.DatetimeIndex(minutes).as_unit("ns").asi8
