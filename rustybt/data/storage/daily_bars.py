"""Daily bars: a Parquet writer and a reader that serves NumPy panels.

The file (``daily_equities.parquet``) has columns ``sid: int64``,
``date: timestamp[ns]`` (tz-naive session label) and float64 ``open, high,
low, close, volume``, row-sorted by (sid, date), zstd-compressed. The reader
loads it once into ``(len(sessions), len(sids))`` panels; a spot value is
then an index into an array.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> from rustybt.calendars import get_calendar
>>> cal = get_calendar("XNYS")
>>> start, end = pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-05")
>>> path = pathlib.Path(tempfile.mkdtemp()) / "daily_equities.parquet"
>>> bars = pd.DataFrame(
...     {"open": [10.0, 11.0], "high": [11.0, 12.0], "low": [9.0, 10.0],
...      "close": [10.5, 11.5], "volume": [100.0, 0.0]},
...     index=pd.to_datetime(["2024-01-02", "2024-01-04"]),
... )
>>> writer = ParquetDailyBarWriter(path, cal, start, end)
>>> writer.write([(1, bars)])
>>> writer.finalize()
>>> reader = ParquetDailyBarReader(path, cal, start, end)
>>> reader.get_value(1, pd.Timestamp("2024-01-04"), "close")
11.5
>>> reader.get_value(1, pd.Timestamp("2024-01-03"), "close")
nan
>>> reader.get_last_traded_dt(1, pd.Timestamp("2024-01-05"))
Timestamp('2024-01-02 00:00:00')
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd
import pyarrow as pa

from rustybt.data.storage.bar_format import Frequency, IntArray, session_label
from rustybt.data.storage.bar_reader import BarReader
from rustybt.data.storage.bar_writer import BarWriter

if TYPE_CHECKING:
    from pandas._libs import NaTType

__all__ = ["ParquetDailyBarReader", "ParquetDailyBarWriter"]

_NS_PER_DAY = 86_400 * 10**9


class ParquetDailyBarWriter(BarWriter):
    """Write daily OHLCV bars of many sids to one Parquet file.

    Parameters
    ----------
    path
        The ``.parquet`` file to write (``daily_equities.parquet``).
    calendar
        The trading calendar; every bar must fall on one of its sessions.
    start_session, end_session
        The sessions bars may fall in (both included).

    Notes
    -----
    Call :meth:`write` any number of times with ``(sid, frame)`` pairs, then
    :meth:`finalize` once to write the file atomically.
    """

    frequency: ClassVar[Frequency] = "daily"
    time_column: ClassVar[str] = "date"
    time_type: ClassVar[pa.DataType] = pa.timestamp("ns")

    def _calendar_index(self) -> pd.DatetimeIndex:
        return self.calendar.sessions_in_range(self.start_session, self.end_session)


class ParquetDailyBarReader(BarReader):
    """Daily bars as ``(sessions x sids)`` float64 panels, loaded on first use.

    Parameters
    ----------
    path
        The ``daily_equities.parquet`` file.
    calendar
        The trading calendar of the bars.
    start_session, end_session
        The sessions covered; the panels have one row per calendar session in
        that range, whether or not any sid has a bar on it.
    remedy
        What a corruption error tells the user to do (a bundle's reader is
        given the command that re-ingests the bundle).

    Notes
    -----
    ``dt`` arguments are session labels; a time of day is dropped and an
    aware timestamp keeps its wall-clock date.
    """

    frequency: ClassVar[Frequency] = "daily"
    time_column: ClassVar[str] = "date"

    @cached_property
    def sessions(self) -> pd.DatetimeIndex:
        """The calendar sessions in ``[start_session, end_session]`` (tz-naive)."""
        sessions = self._calendar.sessions_in_range(self._start_session, self._end_session)
        return pd.DatetimeIndex(sessions).as_unit("ns")

    @property
    def last_available_dt(self) -> pd.Timestamp | NaTType:
        """The last session the reader covers (NaT if it covers none)."""
        return self.sessions[-1] if len(self.sessions) else pd.NaT

    def _build_axis(self, times: IntArray) -> IntArray:
        # The daily axis is the calendar's, whatever the file holds.
        return self.sessions.asi8

    def _axis_value(self, dt: Any) -> int:
        # Fast path for what the engine passes: a naive midnight Timestamp.
        if isinstance(dt, pd.Timestamp) and dt.tzinfo is None:
            value = int(dt.value)
            if value % _NS_PER_DAY == 0:
                return value
        return int(session_label(dt).value)

    def _label(self, value: int) -> pd.Timestamp:
        return pd.Timestamp(value)
