"""The portal's axes: sessions and minutes in time, portal columns across assets.

* The *master session axis* is the daily bars' sessions (the minute bars'
  when there are no daily bars); each reader row is placed on it.
* A dt is resolved to a *data row* (the last bar at or before dt: a session
  in daily mode, a minute in minute mode) and a *perspective session* (the
  session dt belongs to, or the next one when dt falls between sessions).
  Values come from the data row, adjusted as seen from the perspective
  session, so nothing from after dt is ever read.
* *Portal columns* are every sid the asset finder and the readers know,
  sorted, plus one last column that reads as no data for any other sid.
  Each column carries its asset's life span in master session indices.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.assets import Asset
from rustybt.calendars import ExchangeCalendar
from rustybt.data.portal.fields import DATA_FREQUENCIES, IntArray
from rustybt.data.portal.frames import WindowLabels
from rustybt.data.portal.readers import AssetLookup, BarReader, Bars, MinuteBarReader, usable
from rustybt.exceptions import (
    DataError,
    DataNotFoundError,
    HistoryWindowStartsBeforeData,
    ParameterValidationError,
)

__all__ = ["Axes"]

_DAY_NS: Final = 86_400_000_000_000
# Life-span bounds of sids the asset finder does not know: alive throughout.
_NEVER: Final = np.iinfo(np.int64).max // 2
# Resolve's key: (UTC ns, tz-naive, data_frequency); its answer: (data row, perspective).
_Resolved = tuple[tuple[int, bool, str], tuple[int, int]]


class Axes:
    """Sessions, minutes and portal columns of one portal's bars.

    Parameters
    ----------
    asset_finder
        Resolves sids to assets (their life spans bound what is alive).
    trading_calendar
        The simulation's calendar (session closes).
    first_trading_day
        The first session a history window may reach back to; ``None`` or
        NaT: the first session of the data.
    daily_reader, minute_reader
        The bar readers (either may be absent). Minute panels can be
        gigabytes: they load on the first minute request, unless there are
        no daily bars to take the sessions from.
    last_available_session, last_available_minute
        Refuse dts after these; default: the data's end.
    """

    def __init__(
        self,
        asset_finder: AssetLookup,
        trading_calendar: ExchangeCalendar,
        first_trading_day: pd.Timestamp | None,
        daily_reader: BarReader | None,
        minute_reader: MinuteBarReader | None,
        last_available_session: pd.Timestamp | None = None,
        last_available_minute: pd.Timestamp | None = None,
    ) -> None:
        self._finder = asset_finder
        self._minute_reader = minute_reader
        daily_reader = usable(daily_reader)
        eager_minute = usable(minute_reader) if daily_reader is None else None
        self._build_sessions(trading_calendar, daily_reader or eager_minute)
        self._build_columns(daily_reader, eager_minute)
        self.daily: Bars | None = None
        if daily_reader is not None:
            labels = pd.DatetimeIndex(daily_reader.sessions).as_unit("ns")
            rows = np.arange(len(labels), dtype=np.int64) + self._session_offset(labels)
            self.daily = Bars(daily_reader, self.sids, labels, rows)
        self._build_bounds(first_trading_day, last_available_session)
        self._last_available_minute = last_available_minute
        self._minute: Bars | None = None
        self._minute_checked = False
        self._build_lifetimes()
        # One entry, replaced as a whole so concurrent readers never see a
        # key paired with another key's answer.
        self._resolved: _Resolved | None = None
        self._columns_cache: dict[tuple[int, ...], tuple[IntArray, pd.Index]] = {}
        self._last_columns: tuple[tuple[Any, ...], tuple[IntArray, pd.Index]] | None = None
        self._last_plain_columns: tuple[tuple[Any, ...], IntArray] | None = None
        self.all_columns: IntArray = np.arange(self.no_data_column + 1, dtype=np.int64)
        self.all_columns.setflags(write=False)

    # --- construction ------------------------------------------------------------

    def _build_sessions(self, calendar: ExchangeCalendar, reader: BarReader | None) -> None:
        """The master session axis: the sessions of the daily bars (else the minute bars).

        Bundle readers share one session range and the minute axis is a
        part of it, so the daily sessions cover every minute too.
        """
        if reader is not None:
            sessions = pd.DatetimeIndex(reader.sessions)
        else:
            sessions = pd.DatetimeIndex([], dtype="datetime64[ns]")
        self.sessions: pd.DatetimeIndex = sessions.as_unit("ns")
        self.window_sessions = WindowLabels(self.sessions)
        self.sessions_ns: IntArray = self.sessions.asi8
        closes = calendar.closes.reindex(self.sessions)
        self.closes_ns: IntArray = pd.DatetimeIndex(closes).as_unit("ns").asi8

    def _build_columns(self, daily: BarReader | None, eager_minute: BarReader | None) -> None:
        """Portal columns: every sid of the asset finder and the loaded readers, sorted.

        The finder's sids stand in for the minute reader's until it loads.
        One more column, at the end, reads as no data for unknown sids.
        """
        sids = [np.asarray(self._finder.sids, dtype=np.int64)]
        sids += [r.sids for r in (daily, eager_minute) if r is not None]
        self.sids: IntArray = np.unique(np.concatenate(sids)).astype(np.int64)
        self.sid_columns: dict[int, int] = {int(s): i for i, s in enumerate(self.sids)}
        self.no_data_column = len(self.sids)

    def _session_offset(self, sessions: pd.DatetimeIndex) -> int:
        return int(np.searchsorted(self.sessions_ns, pd.Timestamp(sessions[0]).value))

    def _build_bounds(
        self,
        first_trading_day: pd.Timestamp | None,
        last_available_session: pd.Timestamp | None,
    ) -> None:
        """Where history may start and where reads must stop."""
        # NaT (an empty reader's first trading day) means unknown, like None.
        self.first_trading_day = (
            None if pd.isna(first_trading_day) else _session_label(first_trading_day)
        )
        ftd = self.first_trading_day
        self.first_day_index = (
            0 if ftd is None else max(0, int(np.searchsorted(self.sessions_ns, ftd.value)))
        )
        self.last_session_index = len(self.sessions) - 1
        if last_available_session is not None:
            ns = _session_label(last_available_session).value
            stop = int(np.searchsorted(self.sessions_ns, ns, side="right")) - 1
            self.last_session_index = min(self.last_session_index, stop)

    def _build_lifetimes(self) -> None:
        """Each portal column's first and last alive session, and auto-close session.

        Master session indices; sids the finder does not know live forever
        (their bars, if any, decide).
        """
        assets = self._finder.retrieve_all([int(s) for s in self.sids], default_none=True)
        self.start_index = self._session_bounds(assets, "start_date", -_NEVER, side="left")
        self.end_index = self._session_bounds(assets, "end_date", _NEVER, side="right")
        self._auto_close_index = self._session_bounds(
            assets, "auto_close_date", _NEVER, side="right"
        )
        # Over every column: the latest first session and the earliest last one.
        self._every_alive = (int(self.start_index.max()), int(self.end_index.min()))

    def _session_bounds(self, assets: list[Any], attr: str, default: int, side: str) -> IntArray:
        """Per column, the session index of each asset's ``attr`` date.

        ``side="left"``: the first session on or after it; ``"right"``: the
        last session on or before it. The no-data column and unknown sids or
        dates get ``default``.
        """
        out = np.full(len(self.sids) + 1, default, dtype=np.int64)
        dates = [None if a is None else getattr(a, attr) for a in assets]
        known = np.array([d is not None for d in dates], dtype=bool)
        if not known.any():
            return out
        ns = pd.DatetimeIndex([d for d in dates if d is not None]).as_unit("ns").asi8
        if side == "left":
            index = np.searchsorted(self.sessions_ns, ns, side="left")
        else:
            index = np.searchsorted(self.sessions_ns, ns, side="right") - 1
        out[: len(assets)][known] = index
        return out

    # --- the minute axis ------------------------------------------------------------

    @property
    def minute_loaded(self) -> bool:
        """Whether the minute bars have been asked for (and loaded, if any)."""
        return self._minute_checked

    def minute_bars(self) -> Bars:
        """The minute bars, loaded on first use.

        Raises
        ------
        DataNotFoundError
            There are no minute bars.
        """
        if not self._minute_checked:
            self._minute = self._load_minute()
            self._minute_checked = True
        if self._minute is None:
            raise DataNotFoundError(
                "this DataPortal has no minute bars (no equity_minute_reader, or it holds "
                "no bars); minute data and '1m' history need them",
                context={"data_frequency": "minute"},
            )
        return self._minute

    def _load_minute(self) -> Bars | None:
        """Load the minute bars and place them on the master axis (None if empty)."""
        reader: MinuteBarReader | None = usable(self._minute_reader)
        if reader is None:
            return None
        sessions = pd.DatetimeIndex(reader.sessions).as_unit("ns")
        offset = self._session_offset(sessions)
        inside = offset + len(sessions) <= len(self.sessions)
        if not inside or self.sessions_ns[offset] != sessions[0].value:
            raise DataError(
                f"the minute bars cover sessions {sessions[0].date()}..{sessions[-1].date()}, "
                f"outside the daily bars' {self.session_text(0)}.."
                f"{self.session_text(len(self.sessions) - 1)}",
                context={"minute_sessions": [str(sessions[0]), str(sessions[-1])]},
            )
        row_session = np.asarray(reader.minute_session, dtype=np.int64) + offset
        bars = Bars(reader, self.sids, pd.DatetimeIndex(reader.minutes), row_session)
        self.minute_offset = offset
        self.minute_bounds: IntArray = np.asarray(reader.session_bounds, dtype=np.int64)
        self._minute_rows_bounds(bars)
        return bars

    def _minute_rows_bounds(self, bars: Bars) -> None:
        """The first minute history may reach back to, and the last one readable."""
        first_session = self.first_day_index - self.minute_offset
        self.first_minute_row = 0
        if 0 <= first_session < len(self.minute_bounds):
            self.first_minute_row = int(self.minute_bounds[first_session, 0])
        elif first_session >= len(self.minute_bounds):
            self.first_minute_row = bars.n_rows
        self.last_minute_row = bars.n_rows - 1
        if self._last_available_minute is not None:
            ns = _utc(pd.Timestamp(self._last_available_minute)).value
            stop = int(np.searchsorted(bars.labels_ns, ns, side="right")) - 1
            self.last_minute_row = min(self.last_minute_row, stop)

    def bars(self, data_frequency: str) -> Bars:
        """The bars of ``data_frequency`` (``"daily"`` or ``"minute"``).

        Raises
        ------
        DataNotFoundError
            The portal has no bars of that frequency.
        """
        if data_frequency == "minute":
            return self.minute_bars()
        if self.daily is None:
            raise DataNotFoundError(
                "this DataPortal has no daily bars (equity_daily_reader is None)",
                context={"data_frequency": data_frequency},
            )
        return self.daily

    # --- columns ------------------------------------------------------------------

    def columns_of(self, sids: tuple[int, ...]) -> IntArray:
        """The read-only column array of ``sids`` (unknown sids: the no-data column)."""
        get, missing = self.sid_columns.get, self.no_data_column
        cols = np.fromiter((get(s, missing) for s in sids), np.int64, len(sids))
        cols.setflags(write=False)
        return cols

    def asset_columns(self, assets: Iterable[Asset | int]) -> IntArray:
        """Portal columns of ``assets`` (the last list's are remembered)."""
        items = tuple(assets)
        last = self._last_plain_columns
        if last is not None and last[0] == items:
            return last[1]
        cols = self.columns_of(tuple(int(a) for a in items))
        self._last_plain_columns = (items, cols)
        return cols

    def asset_columns_with_index(self, assets: Iterable[Asset | int]) -> tuple[IntArray, pd.Index]:
        """Portal columns of ``assets`` and a pandas Index of them, cached together."""
        items = tuple(assets)
        last = self._last_columns
        # The same universe bar after bar: tuple equality compares identical
        # items without calling __eq__, cheaper than the sids' key below.
        if last is not None and last[0] == items:
            return last[1]
        key = tuple(int(a) for a in items)
        entry = self._columns_cache.get(key)
        if entry is not None:
            self._last_columns = (items, entry)
            return entry
        entry = (self.columns_of(key), pd.Index(list(items), dtype=object))
        if len(self._columns_cache) > 4096:
            self._columns_cache.clear()
        self._columns_cache[key] = entry
        self._last_columns = (items, entry)
        return entry

    def alive_mask(
        self, cols: IntArray, session: int, before_auto_close: bool = False
    ) -> npt.NDArray[np.bool_]:
        """Whether each column's asset is alive in master session ``session``.

        With ``before_auto_close``, also require the session not to be after
        the asset's auto-close date (zipline's ``can_trade``).
        """
        alive = (self.start_index[cols] <= session) & (self.end_index[cols] >= session)
        if before_auto_close:
            alive &= self._auto_close_index[cols] >= session
        return alive

    def alive_throughout(self, cols: IntArray, first: int, last: int) -> bool:
        """Whether every column's asset is alive in every master session ``first..last``.

        Asked for each current-value row over every column (``all_columns``),
        whose bounds are computed once.
        """
        if cols is self.all_columns:
            latest_start, earliest_end = self._every_alive
            return latest_start <= first and earliest_end >= last
        return bool(
            (self.start_index[cols] <= first).all() and (self.end_index[cols] >= last).all()
        )

    # --- resolving a dt -------------------------------------------------------------

    def resolve(self, dt: pd.Timestamp | Any, data_frequency: str) -> tuple[int, int]:
        """Map ``dt`` to ``(data_row, perspective_session)``: :meth:`search`, with the
        last answer kept (the engine asks for one dt many times a bar) and the bar
        after the kept one found without a search."""
        ts = dt if isinstance(dt, pd.Timestamp) else pd.Timestamp(dt)
        key = (ts.value, ts.tzinfo is None, data_frequency)
        cached = self._resolved
        if cached is not None:
            if cached[0] == key:
                return cached[1]
            following = self._following_bar(cached, key)
            if following is not None:
                self._resolved = (key, following)
                return following
        value = self.search(ts, data_frequency)
        self._resolved = (key, value)
        return value

    def _following_bar(
        self, cached: _Resolved, key: tuple[int, bool, str]
    ) -> tuple[int, int] | None:
        """:meth:`resolve` of the bar right after the cached one, or None.

        A simulation resolves its bars in turn. A minute bar: the next row's
        label is the new time, and the session stays while its close is not
        passed. A daily bar: the new time is the next session's close, which
        is that session's row and perspective. Two array reads instead of
        two binary searches.
        """
        (_, was_naive, was_frequency), (row, perspective) = cached
        ns, naive, frequency = key
        if naive or was_naive or frequency != was_frequency:
            return None
        following = row + 1
        if frequency == "daily":
            if following > self.last_session_index:
                return None
            return (following, following) if self.closes_ns[following] == ns else None
        if frequency != "minute":
            return None
        if following > self.last_minute_row or perspective > self.last_session_index:
            return None
        minute = self._minute
        if minute is None or minute.labels_ns[following] != ns or ns > self.closes_ns[perspective]:
            return None
        return following, perspective

    def search(self, ts: pd.Timestamp, data_frequency: str) -> tuple[int, int]:
        """Map ``ts`` to ``(data_row, perspective_session)`` by binary search.

        ``data_row`` is the last bar at or before ``ts``: a master session
        index in daily mode, a minute-reader row in minute mode (``-1``: none
        yet). ``perspective_session`` is the master index of the session
        ``ts`` belongs to, or of the next one when ``ts`` falls between
        sessions (so a split effective today applies before the open). A
        tz-naive midnight is a session label: its whole session.

        Raises
        ------
        DataNotFoundError
            ``ts`` is after the last available session (or minute).
        """
        if data_frequency not in DATA_FREQUENCIES:
            raise ParameterValidationError(
                f"data_frequency must be 'daily' or 'minute', got {data_frequency!r}",
                context={"data_frequency": data_frequency},
            )
        ns = self._instant_ns(ts)
        perspective = int(np.searchsorted(self.closes_ns, ns, side="left"))
        if perspective > self.last_session_index:
            raise DataNotFoundError(
                f"no data at {ts}: the data ends with session "
                f"{self.session_text(self.last_session_index)}",
                context={"dt": str(ts)},
            )
        if data_frequency == "daily":
            row = int(np.searchsorted(self.closes_ns, ns, side="right")) - 1
            return row, perspective
        minute = self.minute_bars()
        row = int(np.searchsorted(minute.labels_ns, ns, side="right")) - 1
        if row >= self.last_minute_row and ns > minute.labels_ns[self.last_minute_row]:
            last = minute.labels[self.last_minute_row]
            raise DataNotFoundError(
                f"no minute data at {ts}: the minute bars end at {last}",
                context={"dt": str(ts), "last_minute": str(last)},
            )
        return row, perspective

    def perspective(self, dt: pd.Timestamp | Any) -> int:
        """The master index of the session ``dt`` belongs to (the next one between sessions)."""
        ts = dt if isinstance(dt, pd.Timestamp) else pd.Timestamp(dt)
        return int(np.searchsorted(self.closes_ns, self._instant_ns(ts), side="left"))

    def _instant_ns(self, ts: pd.Timestamp) -> int:
        """UTC nanoseconds of ``ts``; a naive session label means its close."""
        if ts.tzinfo is not None:
            return int(ts.value)
        ns = int(ts.value)
        if ns % _DAY_NS == 0:
            i = int(np.searchsorted(self.sessions_ns, ns))
            if i < len(self.sessions_ns) and self.sessions_ns[i] == ns:
                return int(self.closes_ns[i])
        return ns

    # --- messages -----------------------------------------------------------------

    def session_text(self, index: int) -> str:
        """The date of master session ``index``, or ``(none)``."""
        if 0 <= index < len(self.sessions):
            return str(self.sessions[index].date())
        return "(none)"

    def starts_before_data(self, lo: int, bar_count: int) -> HistoryWindowStartsBeforeData:
        """The error of a daily window starting at session ``lo``, before the first day.

        It names the window's last session when there is one, the first session
        of the data, and what would serve the window: a later session if the
        data holds enough sessions, else the most bars the data holds.
        """
        first = self.first_day_index
        last = self.last_session_index
        held = last - first + 1
        if first + bar_count <= last:
            suggested = self.session_text(first + bar_count)
            remedy = f"request fewer bars or start the simulation on or after {suggested}"
        else:
            suggested = "(none)"  # no session of the data is late enough
            remedy = (
                f"the data holds {held} sessions ({self.session_text(first)}.."
                f"{self.session_text(last)}), so request at most {held} bars"
            )
        end = lo + bar_count - 1
        ending = f" ending at {self.session_text(end)}" if 0 <= end < len(self.sessions) else ""
        return HistoryWindowStartsBeforeData(
            f"a {bar_count}-session history window{ending} reaches back before the first "
            f"session of the data ({self.session_text(first)}): {remedy}",
            context={
                "bar_count": bar_count,
                "first_trading_day": self.session_text(first),
                "last_session": self.session_text(last),
                "suggested_start_day": suggested,
            },
        )

    def minute_starts_before_data(
        self, bar_count: int, end_minute: int
    ) -> HistoryWindowStartsBeforeData:
        """The error of a minute window ending at ``end_minute`` that starts too early."""
        minute = self.minute_bars()
        row = max(self.first_minute_row, 0)
        first_minute = str(minute.labels[row]) if row < minute.n_rows else "(none)"
        return HistoryWindowStartsBeforeData(
            f"a {bar_count}-minute history window ending at "
            f"{minute.labels[end_minute] if end_minute >= 0 else 'the first minute'} starts "
            f"before the first minute of data ({first_minute}); request fewer bars "
            f"or start the simulation later (first trading day "
            f"{self.session_text(self.first_day_index)})",
            context={"bar_count": bar_count, "frequency": "1m"},
        )


def _session_label(value: Any) -> pd.Timestamp:
    """A tz-naive midnight Timestamp (an aware one keeps its UTC date)."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()


def _utc(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
