"""The per-session facts of a calendar that the scheduling rules read, as NumPy arrays.

A rule's plan is computed once per calendar, vectorized over every session,
from a :class:`SessionIndex`; :func:`session_index` builds it once per
calendar object.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.calendars import ExchangeCalendar

__all__ = ["DAY_NS", "MINUTE_NS", "SessionIndex", "session_index", "utc_nanos"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MINUTE_NS: Final = 60_000_000_000
DAY_NS: Final = 86_400_000_000_000


def utc_nanos(dt: Any) -> int:
    """Nanoseconds UTC of ``dt`` (a tz-naive dt is read as UTC, as the simulation's are)."""
    try:
        return int(dt.value)
    except AttributeError:
        return int(pd.Timestamp(dt).value)


def _ns_array(values: Any) -> IntArray:
    index = pd.DatetimeIndex(values)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.as_unit("ns").asi8


def _positions(keys: IntArray) -> tuple[IntArray, IntArray]:
    """Position of each element within its run of equal ``keys``, from the start and the end."""
    n = len(keys)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    new_group = np.empty(n, dtype=bool)
    new_group[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new_group[1:])
    group = np.cumsum(new_group) - 1
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], n) - 1
    at = np.arange(n, dtype=np.int64)
    return at - starts[group], ends[group] - at


@dataclass(frozen=True, eq=False)
class SessionIndex:
    """Per-session facts of a calendar that the rules need, as arrays over ``calendar.sessions``.

    Weeks run Monday to Sunday (the grouping of zipline's ISO ``(year, week)``),
    months are calendar months.

    Examples
    --------
    >>> import pandas as pd
    >>> from rustybt.calendars import get_calendar
    >>> idx = session_index(get_calendar("XNYS"))
    >>> i = idx.locate(pd.Timestamp("2024-01-16 15:00", tz="UTC").value)
    >>> str(idx.sessions[i].date()), int(idx.week_position[i]), int(idx.month_position[i])
    ('2024-01-16', 0, 9)
    """

    sessions: pd.DatetimeIndex
    first_minutes_ns: IntArray
    closes_ns: IntArray
    early_close: BoolArray
    week_position: IntArray
    week_position_from_end: IntArray
    month_position: IntArray
    month_position_from_end: IntArray
    _firsts: list[int] = field(repr=False)
    _closes: list[int] = field(repr=False)

    @classmethod
    def from_calendar(cls, cal: ExchangeCalendar) -> SessionIndex:
        """Compute the index of ``cal`` (prefer the cached :func:`session_index`)."""
        sessions = pd.DatetimeIndex(cal.sessions)
        days = _ns_array(sessions) // DAY_NS
        # 1970-01-01 was a Thursday: shifting by 3 days makes weeks start on Monday.
        weeks = (days + 3) // 7
        months = sessions.year.to_numpy(np.int64) * 12 + sessions.month.to_numpy(np.int64)
        week_pos, week_rev = _positions(weeks)
        month_pos, month_rev = _positions(months)
        firsts = _ns_array(cal.first_minutes)
        closes = _ns_array(cal.closes)
        early = np.isin(sessions.as_unit("ns").asi8, _ns_array(cal.early_closes))
        return cls(
            sessions=sessions,
            first_minutes_ns=firsts,
            closes_ns=closes,
            early_close=early,
            week_position=week_pos,
            week_position_from_end=week_rev,
            month_position=month_pos,
            month_position_from_end=month_rev,
            _firsts=firsts.tolist(),
            _closes=closes.tolist(),
        )

    def __len__(self) -> int:
        return len(self._closes)

    def locate(self, ns: int) -> int:
        """Index of the session whose first minute <= ``ns`` <= close, or -1 if there is none."""
        i = bisect_left(self._closes, ns)
        if i < len(self._closes) and self._firsts[i] <= ns:
            return i
        return -1

    def bounds(self, i: int) -> tuple[int, int]:
        """First minute and close of session ``i``, int64 ns UTC."""
        return self._firsts[i], self._closes[i]


@lru_cache(maxsize=16)
def session_index(cal: ExchangeCalendar) -> SessionIndex:
    """The :class:`SessionIndex` of ``cal``, computed once per calendar object."""
    return SessionIndex.from_calendar(cal)
