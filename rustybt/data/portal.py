"""DataPortal: point-in-time spot values and history windows over NumPy panels.

The portal answers every market-data question of a simulation: the current
price of a set of assets, a trailing history window, the adjustments between
two dates. It follows zipline's semantics and does the work on arrays that the
bar readers load once:

* A dt is resolved to a *data row* (the last bar at or before dt: a session in
  daily mode, a minute in minute mode) and a *perspective session* (the
  session dt belongs to, or the next one when dt falls between sessions).
  Values come from the data row and are adjusted as seen from the perspective
  session, so nothing from after dt is ever read.
* Splits, mergers and dividends are folded, once per portal, into a
  cumulative multiplier panel ``C`` (sessions x assets): ``C[i, a]`` is the
  product of the ratios of asset ``a``'s adjustments whose effective session
  is after ``i``. A price from session ``i`` seen from session ``t`` is
  ``raw * C[i] / C[t]``: exactly the adjustments effective in ``(i, t]``.
  Volumes use a second panel built from splits only, inverted.
* ``price`` is the close of the last bar that has one, at or before the data
  row, adjusted from *that bar's* session, and NaN outside the asset's life.
  ``open/high/low/close`` are NaN and ``volume`` 0 where there is no bar.

Internal callers (the engine's ledger, BarData) use the NumPy fast paths:
:meth:`DataPortal.asset_columns`, :meth:`DataPortal.resolve`,
:meth:`DataPortal.current_prices`, :meth:`DataPortal.current_array` and
:meth:`DataPortal.history_array`. The pandas-returning methods are thin
wrappers over them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.assets import Asset
from rustybt.calendars import ExchangeCalendar
from rustybt.exceptions import (
    DataError,
    DataNotFoundError,
    HistoryWindowStartsBeforeData,
    ParameterValidationError,
    UnknownFieldError,
)

__all__ = [
    "BASE_FIELDS",
    "HISTORY_FREQUENCIES",
    "OHLCVP_FIELDS",
    "DataPortal",
    "HistoryWindowStartsBeforeData",
    "UnknownFieldError",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
# Bars.column_plan: reader columns, their slice if consecutive, the mask of empty ones.
_ColumnPlan = tuple[IntArray, slice | None, npt.NDArray[np.bool_] | None]

OHLCV_FIELDS: Final = frozenset({"open", "high", "low", "close", "volume"})
OHLCVP_FIELDS: Final = OHLCV_FIELDS | {"price"}
BASE_FIELDS: Final = OHLCVP_FIELDS | {"last_traded"}
HISTORY_FREQUENCIES: Final = frozenset({"1d", "1m"})
DATA_FREQUENCIES: Final = frozenset({"daily", "minute"})

_DAY_NS: Final = 86_400_000_000_000
_NAT: Final = np.iinfo(np.int64).min
# Life-span bounds of sids the asset finder does not know: alive throughout.
_NEVER: Final = np.iinfo(np.int64).max // 2


# --- the reader interfaces the portal consumes ---------------------------------


class BarReader(Protocol):
    """What the portal needs from a daily bar reader (see STORAGE_CONTRACT)."""

    @property
    def sessions(self) -> pd.DatetimeIndex: ...

    @property
    def sids(self) -> npt.NDArray[np.int64]: ...

    @property
    def sid_to_col(self) -> dict[int, int]: ...

    def panel(self, field: str) -> FloatArray: ...

    def last_traded_index(self) -> IntArray: ...


class MinuteBarReader(BarReader, Protocol):
    """A bar reader with a minute axis over some sessions."""

    @property
    def minutes(self) -> pd.DatetimeIndex: ...

    @property
    def minute_session(self) -> IntArray: ...

    @property
    def session_bounds(self) -> IntArray: ...


class AdjustmentReader(Protocol):
    """What the portal needs from the adjustments database."""

    def load_adjustments_frame(self) -> pd.DataFrame: ...


class AssetLookup(Protocol):
    """What the portal needs from an asset finder."""

    @property
    def sids(self) -> Iterable[int]: ...

    def retrieve_all(self, sids: Iterable[int], default_none: bool = False) -> list[Any]: ...

    def retrieve_asset(self, sid: int, default_none: bool = False) -> Any: ...


# --- one reader's panels, addressed by portal columns -------------------------


class _WindowLabels:
    """``index[start:stop]`` of a DatetimeIndex, for the history window of every bar.

    A pandas slice re-derives the frequency and checks the indexer: about
    15 us for a 50-bar window, once a bar. Without a frequency the window is
    just the nanoseconds of those rows with the index's dtype, so it is
    built from them directly. That build uses pandas' ``_simple_new``
    constructors; it is checked once against pandas' own slice, and a pandas
    that builds a different index (or lacks them) gets the slice.
    """

    def __init__(self, index: pd.DatetimeIndex) -> None:
        self.index = index
        self._parts: tuple[Any, Any, Any] | None = None
        try:
            if index.freq is None and index.unit == "ns" and len(index):
                self._parts = (index.asi8.view("M8[ns]"), index.dtype, type(index.array))
                probe, expected = self(0, 3), index[0:3]
                same = (
                    type(probe) is type(expected)
                    and probe.equals(expected)
                    and probe.dtype == expected.dtype
                    and probe.name == expected.name
                    and probe.freq == expected.freq
                )
                if not same:
                    self._parts = None
        except Exception:  # a pandas without these constructors: slice as usual
            self._parts = None

    def __call__(self, start: int, stop: int) -> pd.DatetimeIndex:
        parts = self._parts
        if parts is None:
            return self.index[start:stop]
        values, dtype, array_type = parts
        window = array_type._simple_new(values[start:stop], dtype=dtype)
        return pd.DatetimeIndex._simple_new(window, name=self.index.name)  # type: ignore[attr-defined]


class _FrameBuilder:
    """``pd.DataFrame(values, index=index, columns=columns, copy=False)`` for a 2-D
    float64 window, the frame ``data.history`` returns at every bar.

    The constructor checks its input's every possible shape and kind: about
    20 us for a 50 x 50 window, and twice that in a running simulation, where
    its code is out of the processor's caches. The frame it builds from a
    float64 array is one block holding ``values.T``; that block and its
    manager are built here directly with pandas' internal constructors. The
    result is checked once against the constructor's, and a pandas that
    builds anything different (or lacks them) gets the constructor.
    """

    def __init__(self) -> None:
        self._parts: tuple[Any, Any, Any, Any] | None = None
        self._checked = False

    def __call__(self, values: FloatArray, index: pd.Index, columns: pd.Index) -> pd.DataFrame:
        if not self._checked:
            self._checked = True
            self._parts = self._checked_parts()
        parts = self._parts
        if (
            parts is None
            or values.dtype != np.float64
            or values.ndim != 2
            or values.shape != (len(index), len(columns))
        ):
            return pd.DataFrame(values, index=index, columns=columns, copy=False)
        new_block, placement, manager, frame = parts
        block = new_block(values.T, placement=placement(slice(0, values.shape[1])))
        mgr = manager((block,), [columns, index], verify_integrity=False)
        return frame._from_mgr(mgr, axes=mgr.axes)

    def _checked_parts(self) -> tuple[Any, Any, Any, Any] | None:
        try:
            from pandas._libs.internals import BlockPlacement
            from pandas.core.internals.blocks import new_block_2d
            from pandas.core.internals.managers import BlockManager

            self._parts = (new_block_2d, BlockPlacement, BlockManager, pd.DataFrame)
            values = np.arange(6.0).reshape(3, 2)
            index = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"], tz="UTC")
            columns = pd.Index(["a", "b"], dtype=object)
            built = self(values, index, columns)
            expected = pd.DataFrame(values, index=index, columns=columns, copy=False)
            same = (
                type(built) is type(expected)
                and built.equals(expected)
                and built.index is expected.index
                and built.columns is expected.columns
                and built.dtypes.equals(expected.dtypes)
                and built.flags == expected.flags
                and built._mgr.nblocks == expected._mgr.nblocks == 1
                and np.shares_memory(built.to_numpy(), values)
                == np.shares_memory(expected.to_numpy(), values)
                and built.to_numpy().flags.f_contiguous == expected.to_numpy().flags.f_contiguous
            )
            return self._parts if same else None
        except Exception:  # a pandas without these internals: the constructor
            return None


#: Builds every history window's frame (one per process: the check runs once).
window_frame = _FrameBuilder()


class _Bars:
    """A reader's panels with portal-column and master-session addressing.

    Parameters
    ----------
    reader
        The bar reader.
    portal_sids
        The portal's sorted sids; portal column ``len(portal_sids)`` is the
        "no data" column every unknown sid maps to.
    labels
        The label of each reader row (sessions or UTC minutes).
    row_session
        The master session index of each reader row.
    """

    def __init__(
        self,
        reader: BarReader,
        portal_sids: IntArray,
        labels: pd.DatetimeIndex,
        row_session: IntArray,
    ) -> None:
        self.reader = reader
        self.labels = labels
        self.labels_ns: IntArray = labels.as_unit("ns").asi8
        self.window_labels = _WindowLabels(labels)
        self.row_session = row_session
        self.n_rows = len(labels)
        colmap = np.full(len(portal_sids) + 1, -1, dtype=np.int64)
        reader_sids = np.fromiter(reader.sid_to_col.keys(), dtype=np.int64)
        reader_cols = np.fromiter(reader.sid_to_col.values(), dtype=np.int64)
        colmap[np.searchsorted(portal_sids, reader_sids)] = reader_cols
        self.colmap = colmap
        self._panels: dict[str, FloatArray] = {}
        self._close_index: npt.NDArray[np.signedinteger[Any]] | None = None
        self._last_plan: tuple[IntArray, _ColumnPlan] | None = None

    def column_plan(self, cols: IntArray) -> _ColumnPlan:
        """How to read portal columns ``cols`` from the panels (kept for the last ``cols``).

        ``(reader columns, their slice when they are consecutive, the mask of
        columns without data or None)``. A strategy asks for the same
        universe every bar, through the portal's cached column array.
        """
        last = self._last_plan
        if last is not None and last[0] is cols:
            return last[1]
        rc = self.colmap[cols]
        missing = rc < 0
        mask = missing if missing.any() else None
        consecutive = None
        n = len(rc)
        if (
            mask is None
            and n
            and int(rc[-1]) - int(rc[0]) == n - 1
            and np.array_equal(rc, np.arange(rc[0], rc[0] + n))
        ):
            consecutive = slice(int(rc[0]), int(rc[0]) + n)
        plan = (rc, consecutive, mask)
        # The array itself is kept, so its identity stays its own.
        self._last_plan = (cols, plan)
        return plan

    def panel(self, field: str) -> FloatArray:
        """The reader's (rows x reader columns) panel of an OHLCV field."""
        try:
            return self._panels[field]
        except KeyError:
            panel = self._panels[field] = self.reader.panel(field)
            return panel

    def close_index(self) -> npt.NDArray[np.signedinteger[Any]]:
        """Per row and column, the last row at or before it with a close; -1 if none.

        ``price`` forward-fills from bars that have a close, whatever their
        volume (index data often has none), so this is built from the close
        panel rather than taken from the reader's volume-based index.
        """
        if self._close_index is None:
            close = self.panel("close")
            dtype = np.int32 if close.shape[0] < 2**31 - 1 else np.int64
            rows = np.arange(close.shape[0], dtype=dtype)[:, None]
            filled = np.where(np.isnan(close), dtype(-1), rows)
            self._close_index = np.maximum.accumulate(filled, axis=0)
        return self._close_index

    def last_traded(self) -> IntArray:
        """Per row and column, the last row at or before it with volume; -1 if none."""
        return self.reader.last_traded_index()


# --- the portal -------------------------------------------------------------


class DataPortal:
    """Spot values and history windows for a simulation, point-in-time adjusted.

    Parameters
    ----------
    asset_finder
        Resolves sids to assets (their life spans bound ``price``).
    trading_calendar
        The simulation's calendar; sessions and minutes come from it.
    first_trading_day
        The first session a history window may reach back to (zipline raises
        :class:`HistoryWindowStartsBeforeData` for windows starting earlier;
        so does this portal). ``None`` (or NaT, what a reader without bars
        reports): the first session of the data, which is the minute bars'
        first session when there are no daily bars.
    equity_daily_reader, equity_minute_reader
        The bar readers (either may be absent).
    adjustment_reader
        The adjustments database; ``None`` means no adjustments.
    last_available_session, last_available_minute
        Refuse (``DataNotFoundError``) dts after these; default: the data's end.

    Examples
    --------
    A one-asset daily bundle with a 2:1 split on the third session:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from rustybt.assets import AssetDBWriter, AssetFinder
    >>> from rustybt.calendars import get_calendar
    >>> from rustybt.data.storage.adjustments import (
    ...     SQLiteAdjustmentReader, SQLiteAdjustmentWriter)
    >>> from rustybt.data.storage.daily_bars import (
    ...     ParquetDailyBarReader, ParquetDailyBarWriter)
    >>> cal = get_calendar("XNYS")
    >>> days = cal.sessions_in_range("2024-01-02", "2024-01-05")
    >>> root = Path(tempfile.mkdtemp())
    >>> AssetDBWriter(root / "assets.sqlite").write(equities=pd.DataFrame(
    ...     {"symbol": ["AAA"], "start_date": [days[0]], "end_date": [days[-1]],
    ...      "exchange": ["NYSE"]}, index=[1]))
    >>> bars = pd.DataFrame({"open": [10.0, 11, 6, 7], "high": [10.0, 11, 6, 7],
    ...     "low": [10.0, 11, 6, 7], "close": [10.0, 11, 6, 7],
    ...     "volume": [100.0, 100, 200, 200]}, index=days)
    >>> writer = ParquetDailyBarWriter(root / "daily.parquet", cal, days[0], days[-1])
    >>> writer.write([(1, bars)]); writer.finalize()
    >>> daily = ParquetDailyBarReader(root / "daily.parquet", cal, days[0], days[-1])
    >>> adj = SQLiteAdjustmentWriter(root / "adj.sqlite", cal, days)
    >>> adj.write(splits=pd.DataFrame(
    ...     {"sid": [1], "ratio": [0.5], "effective_date": [days[2]]}))
    >>> adj.finalize(daily)
    >>> finder = AssetFinder(root / "assets.sqlite")
    >>> portal = DataPortal(finder, cal, days[0], equity_daily_reader=daily,
    ...                     adjustment_reader=SQLiteAdjustmentReader(root / "adj.sqlite"))
    >>> aaa = finder.retrieve_asset(1)
    >>> portal.get_history_window([aaa], days[1], 2, "1d", "price", "daily")[aaa].tolist()
    [10.0, 11.0]
    >>> portal.get_history_window([aaa], days[3], 4, "1d", "price", "daily")[aaa].tolist()
    [5.0, 5.5, 6.0, 7.0]
    >>> portal.get_spot_value(aaa, "volume", days[3], "daily")
    200.0
    """

    def __init__(
        self,
        asset_finder: AssetLookup,
        trading_calendar: ExchangeCalendar,
        first_trading_day: pd.Timestamp | None,
        equity_daily_reader: BarReader | None = None,
        equity_minute_reader: MinuteBarReader | None = None,
        adjustment_reader: AdjustmentReader | None = None,
        last_available_session: pd.Timestamp | None = None,
        last_available_minute: pd.Timestamp | None = None,
    ) -> None:
        self.asset_finder = asset_finder
        self.trading_calendar = trading_calendar
        self.adjustment_reader = adjustment_reader
        self.equity_daily_reader = equity_daily_reader
        self.equity_minute_reader = equity_minute_reader
        self._daily_reader = _usable(equity_daily_reader)
        # Minute panels can be gigabytes: load them on the first minute
        # request, unless there are no daily bars to take the sessions from.
        eager_minute = _usable(equity_minute_reader) if self._daily_reader is None else None
        self._build_axes(self._daily_reader or eager_minute)
        self._build_columns(eager_minute)
        self._daily = self._wrap_daily()
        self._build_bounds(first_trading_day, last_available_session)
        self._last_available_minute = last_available_minute
        self._minute: _Bars | None = None
        self._minute_checked = False
        self._build_lifetimes()
        self._build_adjustments()
        self._columns_cache: dict[tuple[int, ...], tuple[IntArray, pd.Index]] = {}
        self._last_columns: tuple[tuple[Any, ...], tuple[IntArray, pd.Index]] | None = None
        self._last_plain_columns: tuple[tuple[Any, ...], IntArray] | None = None
        # One entry, replaced as a whole so concurrent readers never see a
        # key paired with another key's answer.
        self._resolved: tuple[tuple[int, bool, str], tuple[int, int]] | None = None

    # --- construction ------------------------------------------------------

    def _build_axes(self, reader: BarReader | None) -> None:
        """The master session axis: the sessions of the daily bars (else the minute bars).

        Bundle readers share one session range and the minute axis is a
        part of it, so the daily sessions cover every minute too.
        """
        if reader is not None:
            sessions = pd.DatetimeIndex(reader.sessions)
        else:
            sessions = pd.DatetimeIndex([], dtype="datetime64[ns]")
        self.sessions: pd.DatetimeIndex = sessions.as_unit("ns")
        self._window_sessions = _WindowLabels(self.sessions)
        self._sessions_ns: IntArray = self.sessions.asi8
        closes = self.trading_calendar.closes.reindex(self.sessions)
        self._closes_ns: IntArray = pd.DatetimeIndex(closes).as_unit("ns").asi8

    def _build_columns(self, eager_minute: BarReader | None) -> None:
        """Portal columns: every sid of the asset finder and the loaded readers, sorted.

        The finder's sids stand in for the minute reader's until it loads.
        One more column, at the end, reads as no data for unknown sids.
        """
        sids = [np.asarray(self.asset_finder.sids, dtype=np.int64)]
        sids += [r.sids for r in (self._daily_reader, eager_minute) if r is not None]
        self._sids: IntArray = np.unique(np.concatenate(sids)).astype(np.int64)
        self._sid_to_col: dict[int, int] = {int(s): i for i, s in enumerate(self._sids)}
        self._no_data_col = len(self._sids)
        # The same, for callers that look up one column per call (BarData.spot).
        self.sid_columns = self._sid_to_col
        self.no_data_column = self._no_data_col
        self._all_columns: IntArray | None = None
        # field -> ((row, data_frequency, perspective), spot_row's list): the last row read
        self._last_rows: dict[str, tuple[tuple[int, str, int], list[float]]] = {}
        # data_frequency -> (session, how _plain_row reads that session's rows)
        self._row_plans: dict[str, tuple[int, tuple[IntArray | None, list[int], list[int]]]] = {}

    def _session_offset(self, sessions: pd.DatetimeIndex) -> int:
        return int(np.searchsorted(self._sessions_ns, pd.Timestamp(sessions[0]).value))

    def _wrap_daily(self) -> _Bars | None:
        reader = self._daily_reader
        if reader is None:
            return None
        labels = pd.DatetimeIndex(reader.sessions).as_unit("ns")
        offset = self._session_offset(labels)
        return _Bars(reader, self._sids, labels, np.arange(len(labels), dtype=np.int64) + offset)

    def _wrap_minute(self) -> _Bars | None:
        """Load the minute bars and place them on the master axis (None if empty)."""
        reader: MinuteBarReader | None = _usable(self.equity_minute_reader)
        if reader is None:
            return None
        sessions = pd.DatetimeIndex(reader.sessions).as_unit("ns")
        offset = self._session_offset(sessions)
        inside = offset + len(sessions) <= len(self.sessions)
        if not inside or self._sessions_ns[offset] != sessions[0].value:
            raise DataError(
                f"the minute bars cover sessions {sessions[0].date()}..{sessions[-1].date()}, "
                f"outside the daily bars' {self._session_text(0)}.."
                f"{self._session_text(len(self.sessions) - 1)}",
                context={"minute_sessions": [str(sessions[0]), str(sessions[-1])]},
            )
        row_session = np.asarray(reader.minute_session, dtype=np.int64) + offset
        bars = _Bars(reader, self._sids, pd.DatetimeIndex(reader.minutes), row_session)
        self._minute_offset = offset
        self._minute_bounds: IntArray = np.asarray(reader.session_bounds, dtype=np.int64)
        self._minute_rows_bounds(bars)
        return bars

    def _minute_rows_bounds(self, bars: _Bars) -> None:
        """The first minute history may reach back to, and the last one readable."""
        first_session = self._first_day_index - self._minute_offset
        self._first_minute_row = 0
        if 0 <= first_session < len(self._minute_bounds):
            self._first_minute_row = int(self._minute_bounds[first_session, 0])
        elif first_session >= len(self._minute_bounds):
            self._first_minute_row = bars.n_rows
        self._last_minute_row = bars.n_rows - 1
        if self._last_available_minute is not None:
            ns = _utc(pd.Timestamp(self._last_available_minute)).value
            stop = int(np.searchsorted(bars.labels_ns, ns, side="right")) - 1
            self._last_minute_row = min(self._last_minute_row, stop)

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
        self._first_day_index = (
            0 if ftd is None else max(0, int(np.searchsorted(self._sessions_ns, ftd.value)))
        )
        self._last_session_index = len(self.sessions) - 1
        if last_available_session is not None:
            ns = _session_label(last_available_session).value
            stop = int(np.searchsorted(self._sessions_ns, ns, side="right")) - 1
            self._last_session_index = min(self._last_session_index, stop)

    def _build_lifetimes(self) -> None:
        """Each portal column's first and last alive session, and auto-close session.

        Master session indices; sids the finder does not know live forever
        (their bars, if any, decide).
        """
        assets = self.asset_finder.retrieve_all([int(s) for s in self._sids], default_none=True)
        self._start_index = self._session_bounds(assets, "start_date", -_NEVER, side="left")
        self._end_index = self._session_bounds(assets, "end_date", _NEVER, side="right")
        self._auto_close_index = self._session_bounds(
            assets, "auto_close_date", _NEVER, side="right"
        )

    def _session_bounds(self, assets: list[Any], attr: str, default: int, side: str) -> IntArray:
        """Per column, the session index of each asset's ``attr`` date.

        ``side="left"``: the first session on or after it; ``"right"``: the
        last session on or before it. The no-data column and unknown sids or
        dates get ``default``.
        """
        out = np.full(len(self._sids) + 1, default, dtype=np.int64)
        dates = [None if a is None else getattr(a, attr) for a in assets]
        known = np.array([d is not None for d in dates], dtype=bool)
        if not known.any():
            return out
        ns = pd.DatetimeIndex([d for d in dates if d is not None]).as_unit("ns").asi8
        if side == "left":
            index = np.searchsorted(self._sessions_ns, ns, side="left")
        else:
            index = np.searchsorted(self._sessions_ns, ns, side="right") - 1
        out[: len(assets)][known] = index
        return out

    def _build_adjustments(self) -> None:
        """The cumulative multiplier panels (prices: all kinds; volumes: splits)."""
        self._price_mult: FloatArray | None = None
        self._volume_mult: FloatArray | None = None
        self._splits_by_session: dict[int, list[tuple[int, float]]] = {}
        if self.adjustment_reader is None or not len(self.sessions):
            return
        frame = self.adjustment_reader.load_adjustments_frame()
        if frame is None or not len(frame):
            return
        sids = frame["sid"].to_numpy(dtype=np.int64)
        known = np.isin(sids, self._sids)
        frame = frame.loc[known]
        if not len(frame):
            return
        cols = np.searchsorted(self._sids, frame["sid"].to_numpy(dtype=np.int64))
        effective = pd.DatetimeIndex(frame["effective_date"]).as_unit("ns").asi8
        eff_index = np.searchsorted(self._sessions_ns, effective, side="left")
        ratios = frame["ratio"].to_numpy(dtype=np.float64)
        is_split = (frame["kind"] == "split").to_numpy()
        self._price_mult = self._multiplier_panel(eff_index, cols, ratios)
        self._volume_mult = self._multiplier_panel(
            eff_index[is_split], cols[is_split], ratios[is_split]
        )
        split_sids = frame["sid"].to_numpy(dtype=np.int64)[is_split]
        for idx, sid, ratio in zip(eff_index[is_split], split_sids, ratios[is_split], strict=True):
            self._splits_by_session.setdefault(int(idx), []).append((int(sid), float(ratio)))

    def _multiplier_panel(
        self, eff_index: IntArray, cols: IntArray, ratios: FloatArray
    ) -> FloatArray:
        """``C[i, a]``: product of asset ``a``'s ratios effective after session ``i``.

        An adjustment effective at session ``e`` touches rows ``i < e``, so it
        is recorded at row ``e - 1`` and a reverse cumulative product spreads
        it to every earlier row. Adjustments effective before the first
        session touch nothing; those after the last touch every row of
        ``C`` alike and so cancel in every ratio (they are dropped).
        """
        n = len(self.sessions)
        factors = np.ones((n, len(self._sids) + 1), dtype=np.float64)
        inside = (eff_index >= 1) & (eff_index <= n - 1)
        np.multiply.at(factors, (eff_index[inside] - 1, cols[inside]), ratios[inside])
        # Accumulate from the last row up, in place: C stays C-contiguous.
        backwards = factors[::-1]
        np.multiply.accumulate(backwards, axis=0, out=backwards)
        return factors

    # --- public fast paths -------------------------------------------------

    def asset_columns(self, assets: Iterable[Asset | int]) -> IntArray:
        """Portal columns of ``assets`` (the last list's are remembered).

        Sids without bars map to a column that always reads as no data. No
        pandas Index is built: the ledger marks its positions through this
        once a bar, and the set of positions changes often.
        """
        items = tuple(assets)
        last = self._last_plain_columns
        if last is not None and last[0] == items:
            return last[1]
        cols = self._columns_of(tuple(int(a) for a in items))
        self._last_plain_columns = (items, cols)
        return cols

    def _columns_of(self, sids: tuple[int, ...]) -> IntArray:
        """The read-only column array of ``sids`` (unknown sids: the no-data column)."""
        get, missing = self._sid_to_col.get, self._no_data_col
        cols = np.fromiter((get(s, missing) for s in sids), np.int64, len(sids))
        cols.setflags(write=False)
        return cols

    def asset_columns_with_index(self, assets: Iterable[Asset | int]) -> tuple[IntArray, pd.Index]:
        """Portal columns of ``assets`` and a pandas Index of them, cached together.

        The Index labels DataFrame columns and Series; caching it saves
        rebuilding an object Index on every ``history`` call.
        """
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
        entry = (self._columns_of(key), pd.Index(list(items), dtype=object))
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
        alive = (self._start_index[cols] <= session) & (self._end_index[cols] >= session)
        if before_auto_close:
            alive &= self._auto_close_index[cols] >= session
        return alive

    def resolve(self, dt: pd.Timestamp | Any, data_frequency: str) -> tuple[int, int]:
        """Map ``dt`` to ``(data_row, perspective_session)``.

        ``data_row`` is the last bar at or before ``dt``: a master session
        index in daily mode, a minute-reader row in minute mode (``-1``: none
        yet). ``perspective_session`` is the master index of the session
        ``dt`` belongs to, or of the next one when ``dt`` falls between
        sessions (so a split effective today applies before the open). A
        tz-naive midnight is a session label: its whole session. The last
        answer is cached, since the engine asks for one dt many times a bar.

        Raises
        ------
        DataNotFoundError
            ``dt`` is after the last available session (or minute).
        """
        ts = dt if isinstance(dt, pd.Timestamp) else pd.Timestamp(dt)
        key = (ts.value, ts.tzinfo is None, data_frequency)
        cached = self._resolved
        if cached is not None:
            if cached[0] == key:
                return cached[1]
            following = self._following_minute(cached, key)
            if following is not None:
                self._resolved = (key, following)
                return following
        value = self._resolve_uncached(ts, data_frequency)
        self._resolved = (key, value)
        return value

    def _following_minute(
        self, cached: tuple[tuple[int, bool, str], tuple[int, int]], key: tuple[int, bool, str]
    ) -> tuple[int, int] | None:
        """:meth:`resolve` of the minute bar right after the cached one, or None.

        A minute simulation resolves its bars in turn: the next row's label
        is the new time, and the session stays while its close is not passed
        (two array reads instead of two binary searches).
        """
        (_, was_naive, was_frequency), (row, perspective) = cached
        ns, naive, frequency = key
        if naive or was_naive or frequency != "minute" or was_frequency != "minute":
            return None
        following = row + 1
        if following > self._last_minute_row or perspective > self._last_session_index:
            return None
        minute = self._minute
        if minute is None or minute.labels_ns[following] != ns or ns > self._closes_ns[perspective]:
            return None
        return following, perspective

    def _resolve_uncached(self, ts: pd.Timestamp, data_frequency: str) -> tuple[int, int]:
        if data_frequency not in DATA_FREQUENCIES:
            raise ParameterValidationError(
                f"data_frequency must be 'daily' or 'minute', got {data_frequency!r}",
                context={"data_frequency": data_frequency},
            )
        ns = self._instant_ns(ts)
        perspective = int(np.searchsorted(self._closes_ns, ns, side="left"))
        if perspective > self._last_session_index:
            raise DataNotFoundError(
                f"no data at {ts}: the data ends with session "
                f"{self._session_text(self._last_session_index)}",
                context={"dt": str(ts)},
            )
        if data_frequency == "daily":
            row = int(np.searchsorted(self._closes_ns, ns, side="right")) - 1
            return row, perspective
        minute = self._require_minute()
        row = int(np.searchsorted(minute.labels_ns, ns, side="right")) - 1
        if row >= self._last_minute_row and ns > minute.labels_ns[self._last_minute_row]:
            last = minute.labels[self._last_minute_row]
            raise DataNotFoundError(
                f"no minute data at {ts}: the minute bars end at {last}",
                context={"dt": str(ts), "last_minute": str(last)},
            )
        return row, perspective

    def _instant_ns(self, ts: pd.Timestamp) -> int:
        """UTC nanoseconds of ``ts``; a naive session label means its close."""
        if ts.tzinfo is not None:
            return int(ts.value)
        ns = int(ts.value)
        if ns % _DAY_NS == 0:
            i = int(np.searchsorted(self._sessions_ns, ns))
            if i < len(self._sessions_ns) and self._sessions_ns[i] == ns:
                return int(self._closes_ns[i])
        return ns

    def current_prices(
        self,
        cols: IntArray,
        row: int,
        data_frequency: str = "daily",
        perspective: int | None = None,
    ) -> FloatArray:
        """Forward-filled, adjusted prices of ``cols`` at data row ``row``.

        Parameters
        ----------
        cols
            Portal columns (:meth:`asset_columns`).
        row, perspective
            From :meth:`resolve`; ``perspective`` defaults to the row's session.
        data_frequency
            ``"daily"`` or ``"minute"``.
        """
        bars = self._bars(data_frequency)
        if row < 0:
            return np.full(len(cols), np.nan)
        rows_session = int(bars.row_session[row])
        persp = rows_session if perspective is None else perspective
        prices = self._price_block(bars, cols, row, row + 1, persp)[0]
        return prices

    def column(self, asset: Asset | int) -> int:
        """The portal column of one asset (the no-data column for unknown sids)."""
        try:
            sid = asset.sid  # type: ignore[union-attr]
        except AttributeError:
            sid = int(asset)
        return self._sid_to_col.get(sid, self._no_data_col)

    def spot_row(self, field: str, row: int, data_frequency: str, perspective: int) -> list[float]:
        """Every column's :meth:`spot` value at ``row``, as a list indexed by column.

        One array read instead of many scalar ones, for callers that ask for
        most assets' values on the same bar (order sizing, fills). The last
        entry is the no-data column. The last row of each field is kept
        (callers must not change the list).
        """
        values = self.read_spot_row(field, row, data_frequency, perspective)
        if values is not None:
            return values
        values = self._plain_row(field, row, data_frequency, perspective)
        if values is None:
            cols = self._all_columns
            if cols is None:
                cols = self._all_columns = np.arange(self._no_data_col + 1, dtype=np.int64)
            values = self.current_array(cols, field, row, data_frequency, perspective).tolist()
        self._last_rows[field] = ((row, data_frequency, perspective), values)
        return values

    def _plain_row(
        self, field: str, row: int, data_frequency: str, perspective: int
    ) -> list[float] | None:
        """:meth:`spot_row` of a bar in the session it is seen from, or None.

        Such a bar needs no adjustment (its factor to its own session is 1),
        so the row is the panel's row with the columns that have no data or
        no living asset blanked: a slice and a list instead of the dozen
        array operations of :meth:`current_array` (a minute-bar run reads
        three rows a bar). A ``price`` row with a gap to forward-fill returns
        None, and so does any other case.
        """
        if row < 0:
            return None
        bars = self._bars(data_frequency)
        session = int(bars.row_session[row])
        if session != perspective:
            return None
        last = self._row_plans.get(data_frequency)
        if last is None or last[0] != session:
            # One plan per frequency: the clock asks for one session at a time.
            last = self._row_plans[data_frequency] = (session, self._row_plan(bars, session))
        take, blank, live = last[1]
        if field == "price":
            values = bars.panel("close")[row]
            fill = math.nan
        else:
            _check_field(field, OHLCV_FIELDS)
            values = bars.panel(field)[row]
            fill = 0.0 if field == "volume" else math.nan
        out: list[float] = (values if take is None else values[take]).tolist()
        if take is None:
            out.append(fill)  # the no-data column
        if field == "price":
            for i in live:
                v = out[i]
                if v != v:  # no bar here: the price is carried forward
                    return None
        for i in blank:
            out[i] = fill
        return out

    def _row_plan(self, bars: _Bars, session: int) -> tuple[IntArray | None, list[int], list[int]]:
        """How :meth:`_plain_row` reads rows of ``session``: the reader columns to
        take (None: all, in order), the portal columns to blank, the others."""
        colmap = bars.colmap
        width = bars.panel("close").shape[1]
        identity = len(colmap) == width + 1 and bool((colmap[:-1] == np.arange(width)).all())
        take = None if identity else np.where(colmap >= 0, colmap, 0)
        cols = np.arange(len(colmap))
        alive = self.alive_mask(cols, session) & (colmap >= 0)
        return take, np.flatnonzero(~alive).tolist(), np.flatnonzero(alive).tolist()

    def read_spot_row(
        self, field: str, row: int, data_frequency: str, perspective: int
    ) -> list[float] | None:
        """The row :meth:`spot_row` last read for ``field``, if it was this one; else None.

        The ledger marks its positions from it when the bar's prices were
        already read for order sizing, instead of reading them again.
        """
        last = self._last_rows.get(field)
        if last is not None and last[0] == (row, data_frequency, perspective):
            return last[1]
        return None

    def spot(self, col: int, field: str, row: int, data_frequency: str, perspective: int) -> float:
        """One asset's spot value: the scalar twin of :meth:`current_array`.

        Same rules, without building arrays: ``handle_data`` and the fill
        simulation ask for one asset's price or volume many times a bar.
        ``field`` is an OHLCV field or ``price``; ``row`` and ``perspective``
        come from :meth:`resolve`.
        """
        fill = 0.0 if field == "volume" else math.nan
        if row < 0:
            return fill
        bars = self._bars(data_frequency)
        session = int(bars.row_session[row])
        if not self._start_index[col] <= session <= self._end_index[col]:
            return fill
        rc = int(bars.colmap[col])
        if rc < 0:
            return fill
        if field == "price":
            source = int(bars.close_index()[row, rc])
            if source < 0:
                return math.nan
            value = float(bars.panel("close")[source, rc])
            session = int(bars.row_session[source])
        else:
            if field not in OHLCV_FIELDS:
                _check_field(field, OHLCV_FIELDS)
            value = float(bars.panel(field)[row, rc])
        if session != perspective:
            if field == "volume":
                mult = self._volume_mult
                if mult is not None:
                    value *= mult[perspective, col] / mult[session, col]
            else:
                mult = self._price_mult
                if mult is not None:
                    value *= mult[session, col] / mult[perspective, col]
        return value

    def current_array(
        self,
        cols: IntArray,
        field: str,
        row: int,
        data_frequency: str = "daily",
        perspective: int | None = None,
    ) -> FloatArray:
        """Spot values of an OHLCV field or ``price`` at data row ``row``.

        NaN (volume 0) where there is no bar or the asset is not alive in the
        row's session. Values from a session before ``perspective`` are
        adjusted to it.
        """
        if field == "price":
            return self.current_prices(cols, row, data_frequency, perspective)
        _check_field(field, OHLCV_FIELDS)
        bars = self._bars(data_frequency)
        fill = 0.0 if field == "volume" else np.nan
        if row < 0:
            return np.full(len(cols), fill)
        session = int(bars.row_session[row])
        values = self._raw_block(bars, field, cols, row, row + 1)[0]
        if perspective is not None and perspective != session:
            values *= self._factor(field, np.array([session]), cols, perspective)[0]
        values[~self.alive_mask(cols, session)] = fill
        return values

    def last_traded_array(
        self, cols: IntArray, row: int, data_frequency: str = "daily"
    ) -> IntArray:
        """UTC nanoseconds (daily: the session label) of each column's last trade.

        ``NaT``'s integer where the asset never traded up to ``row``.
        """
        bars = self._bars(data_frequency)
        if row < 0:
            return np.full(len(cols), _NAT, dtype=np.int64)
        rc = bars.colmap[cols]
        index = bars.last_traded()[row, rc]
        out = np.where(index >= 0, bars.labels_ns[np.maximum(index, 0)], _NAT)
        out[rc < 0] = _NAT
        return out.astype(np.int64)

    def history_array(
        self,
        cols: IntArray,
        field: str,
        bar_count: int,
        end_index: int,
        frequency: str,
        data_frequency: str = "daily",
        perspective: int | None = None,
        ffill: bool = True,
    ) -> FloatArray:
        """A (bar_count x len(cols)) adjusted history window.

        Parameters
        ----------
        cols
            Portal columns (:meth:`asset_columns`).
        field
            An OHLCV field or ``price``.
        bar_count
            Number of bars, >= 1.
        end_index
            The data row of the window's last bar, from :meth:`resolve` with
            ``"minute"`` if ``frequency == "1m"`` or ``data_frequency ==
            "minute"``, else with ``"daily"``.
        frequency
            ``"1d"`` or ``"1m"``. ``"1d"`` in minute mode ends with the
            current session aggregated from its minutes up to ``end_index``.
        perspective
            Session the window is seen from; default the last bar's session.
        ffill
            Forward-fill ``price`` (zipline always does).

        Raises
        ------
        HistoryWindowStartsBeforeData
            The window starts before the first trading day.
        """
        _check_field(field, OHLCVP_FIELDS)
        _check_window(bar_count, frequency)
        if frequency == "1m":
            return self._minute_window(cols, field, bar_count, end_index, perspective, ffill)
        if data_frequency == "daily":
            persp = end_index if perspective is None else perspective
            return self._daily_window(
                cols, field, end_index - bar_count + 1, end_index, persp, ffill
            )
        return self._daily_window_in_minute_mode(
            cols, field, bar_count, end_index, perspective, ffill
        )

    def history_index(
        self, bar_count: int, end_index: int, frequency: str, data_frequency: str = "daily"
    ) -> pd.DatetimeIndex:
        """Labels of the rows :meth:`history_array` returns (sessions or UTC minutes)."""
        if frequency == "1m":
            minute = self._require_minute()
            return minute.window_labels(end_index - bar_count + 1, end_index + 1)
        if data_frequency == "minute":
            end_index = int(self._require_minute().row_session[end_index])
        return self._window_sessions(end_index - bar_count + 1, end_index + 1)

    # --- zipline API -------------------------------------------------------

    def get_spot_value(
        self, assets: Asset | Iterable[Asset], field: str, dt: pd.Timestamp, data_frequency: str
    ) -> Any:
        """The value of ``field`` at ``dt``: a scalar for one asset, a list for several.

        ``price`` is forward-filled and adjusted; ``open/high/low/close`` are
        NaN and ``volume`` 0 without a bar or outside the asset's life;
        ``last_traded`` is a Timestamp (NaT if never traded).

        Raises
        ------
        UnknownFieldError
            ``field`` is not one of open, high, low, close, volume, price,
            last_traded.
        """
        _check_field(field, BASE_FIELDS)
        single = isinstance(assets, Asset)
        if not single and not isinstance(assets, Iterable):
            raise ParameterValidationError(
                f"assets must be an Asset or an iterable of Assets, got {type(assets).__name__}",
                context={"assets": repr(assets)},
            )
        items: Sequence[Asset] = [assets] if single else list(assets)  # type: ignore[list-item,arg-type]
        cols = self.asset_columns(items)
        row, perspective = self.resolve(dt, data_frequency)
        if field == "last_traded":
            values: list[Any] = self._timestamps(
                self.last_traded_array(cols, row, data_frequency), data_frequency
            )
        else:
            values = self.current_array(cols, field, row, data_frequency, perspective).tolist()
        return values[0] if single else values

    def get_adjustments(
        self,
        assets: Asset | Iterable[Asset],
        field: str,
        dt: pd.Timestamp,
        perspective_dt: pd.Timestamp,
    ) -> list[float]:
        """Per asset, the product of adjustment ratios effective after ``dt``
        and on or before ``perspective_dt`` (splits only, inverted, for volume)."""
        items = [assets] if isinstance(assets, Asset) else list(assets)
        cols = self.asset_columns(items)
        start = self._perspective(dt)
        end = self._perspective(perspective_dt)
        if end <= start or self._price_mult is None:
            return [1.0] * len(items)
        return self._factor(field, np.array([start]), cols, end)[0].tolist()

    def get_adjusted_value(
        self,
        asset: Asset,
        field: str,
        dt: pd.Timestamp,
        perspective_dt: pd.Timestamp,
        data_frequency: str,
        spot_value: float | None = None,
    ) -> Any:
        """The value of ``field`` at ``dt`` adjusted as seen from ``perspective_dt``."""
        if spot_value is None:
            spot_value = self.get_spot_value(asset, field, dt, data_frequency)
        if field == "last_traded":
            return spot_value
        return spot_value * self.get_adjustments(asset, field, dt, perspective_dt)[0]

    def get_history_window(
        self,
        assets: Sequence[Asset],
        end_dt: pd.Timestamp,
        bar_count: int,
        frequency: str,
        field: str,
        data_frequency: str,
        ffill: bool = True,
    ) -> pd.DataFrame:
        """A history window: index the bar labels, columns ``assets``.

        Daily windows are labelled by tz-naive session, minute windows by UTC
        minute. Values are adjusted as seen from ``end_dt``.

        Raises
        ------
        UnknownFieldError
            ``field`` is not one of open, high, low, close, volume, price.
        ParameterValidationError
            ``bar_count < 1`` or ``frequency`` not ``"1d"``/``"1m"``.
        HistoryWindowStartsBeforeData
            The window starts before the first trading day.
        """
        _check_field(field, OHLCVP_FIELDS)
        _check_window(bar_count, frequency)
        cols, columns = self.asset_columns_with_index(assets)
        axis = "minute" if frequency == "1m" else data_frequency
        row, perspective = self.resolve(end_dt, axis)
        values = self.history_array(
            cols, field, bar_count, row, frequency, data_frequency, perspective, ffill
        )
        index = self.history_index(bar_count, row, frequency, data_frequency)
        return window_frame(values, index, columns)

    def get_last_traded_dt(
        self, asset: Asset, dt: pd.Timestamp, data_frequency: str
    ) -> pd.Timestamp:
        """When ``asset`` last traded at or before ``dt`` (NaT if never)."""
        return self.get_spot_value(asset, "last_traded", dt, data_frequency)

    def get_splits(self, assets: Iterable[Asset], dt: pd.Timestamp) -> list[tuple[Asset, float]]:
        """``(asset, ratio)`` for each of ``assets`` with a split effective on ``dt``'s session."""
        if not self._splits_by_session:
            return []
        wanted = {int(a) for a in assets}
        found = self._splits_by_session.get(self._perspective(dt), [])
        return [
            (self.asset_finder.retrieve_asset(sid), ratio) for sid, ratio in found if sid in wanted
        ]

    # --- internals: windows ---------------------------------------------------

    def _daily_window(
        self, cols: IntArray, field: str, lo: int, hi: int, perspective: int, ffill: bool
    ) -> FloatArray:
        """Daily rows for master sessions ``lo..hi`` from the daily reader."""
        if lo < self._first_day_index:
            raise self._starts_before_data(lo, hi - lo + 1)
        daily = self._daily
        n = hi - lo + 1
        if daily is None:
            return self._daily_rows_from_minutes(cols, field, lo, hi, perspective, ffill)
        offset = int(daily.row_session[0]) if daily.n_rows else 0
        a, b = lo - offset, hi - offset + 1
        if a >= 0 and b <= daily.n_rows:
            return self._field_block(daily, field, cols, a, b, perspective, ffill)
        # The window runs past the daily data at one end: pad with empty rows.
        out = np.full((n, len(cols)), 0.0 if field == "volume" else np.nan)
        va, vb = max(a, 0), min(b, daily.n_rows)
        if va < vb:
            out[va - a : vb - a] = self._field_block(daily, field, cols, va, vb, perspective, ffill)
        return out

    def _daily_window_in_minute_mode(
        self,
        cols: IntArray,
        field: str,
        bar_count: int,
        end_minute: int,
        perspective: int | None,
        ffill: bool,
    ) -> FloatArray:
        """Full sessions from daily bars, then today aggregated from its minutes."""
        minute = self._require_minute()
        if end_minute < 0:
            raise self._starts_before_data(-bar_count, bar_count)
        today = int(minute.row_session[end_minute])
        persp = today if perspective is None else perspective
        out = np.empty((bar_count, len(cols)))
        if bar_count > 1:
            out[:-1] = self._daily_window(
                cols, field, today - bar_count + 1, today - 1, persp, ffill
            )
        elif today < self._first_day_index:
            raise self._starts_before_data(today, 1)
        out[-1] = self._partial_session(cols, field, end_minute, persp, ffill)
        return out

    def _partial_session(
        self, cols: IntArray, field: str, end_minute: int, perspective: int, ffill: bool
    ) -> FloatArray:
        """Today's bar so far: first open, max high, min low, last close, summed volume."""
        minute = self._require_minute()
        session = int(minute.row_session[end_minute])
        first = int(self._minute_bounds[session - self._minute_offset, 0])
        if field == "price" and ffill:
            values = self._price_block(minute, cols, end_minute, end_minute + 1, perspective)[0]
            return self._price_from_daily_before(cols, values, session, perspective)
        block = self._raw_block(
            minute, "close" if field == "price" else field, cols, first, end_minute + 1
        )
        values = _aggregate(block, "close" if field == "price" else field)
        if perspective != session:
            values *= self._factor(field, np.array([session]), cols, perspective)[0]
        return values

    def _price_from_daily_before(
        self, cols: IntArray, values: FloatArray, session: int, perspective: int
    ) -> FloatArray:
        """Fill prices the minute bars cannot give with the last daily price.

        When minute data starts later than daily data, the minute axis may
        not know an asset's last trade; zipline forward-fills today's row
        from the previous daily row, and so does this.
        """
        missing = np.isnan(values)
        daily = self._daily
        if not missing.any() or daily is None or not daily.n_rows:
            return values
        alive = self.alive_mask(cols, session)
        row = session - 1 - int(daily.row_session[0])
        if row < 0 or row >= daily.n_rows:
            return values
        previous = self._price_block(daily, cols, row, row + 1, perspective, mask_life=False)[0]
        fill = missing & alive
        values[fill] = previous[fill]
        return values

    def _daily_rows_from_minutes(
        self, cols: IntArray, field: str, lo: int, hi: int, perspective: int, ffill: bool
    ) -> FloatArray:
        """Whole sessions rolled up from minutes, for portals without daily bars."""
        self._require_minute()
        out = np.full((hi - lo + 1, len(cols)), 0.0 if field == "volume" else np.nan)
        for i, session in enumerate(range(lo, hi + 1)):
            local = session - self._minute_offset
            if 0 <= local < len(self._minute_bounds):
                last = int(self._minute_bounds[local, 1]) - 1
                out[i] = self._partial_session(cols, field, last, perspective, ffill)
        return out

    def _minute_window(
        self,
        cols: IntArray,
        field: str,
        bar_count: int,
        end_minute: int,
        perspective: int | None,
        ffill: bool,
    ) -> FloatArray:
        minute = self._require_minute()
        a, b = end_minute - bar_count + 1, end_minute + 1
        if a < max(self._first_minute_row, 0):
            first = self._first_day_index
            raise HistoryWindowStartsBeforeData(
                f"a {bar_count}-minute history window ending at "
                f"{minute.labels[end_minute] if end_minute >= 0 else 'the first minute'} starts "
                f"before the first minute of data ({self._minute_text()}); request fewer bars "
                f"or start the simulation later (first trading day {self._session_text(first)})",
                context={"bar_count": bar_count, "frequency": "1m"},
            )
        persp = int(minute.row_session[end_minute]) if perspective is None else perspective
        return self._field_block(minute, field, cols, a, b, persp, ffill)

    def _field_block(
        self, bars: _Bars, field: str, cols: IntArray, a: int, b: int, persp: int, ffill: bool
    ) -> FloatArray:
        """Adjusted rows ``a:b`` of one reader for ``field``."""
        if field == "price" and ffill:
            return self._price_block(bars, cols, a, b, persp)
        values = self._raw_block(bars, "close" if field == "price" else field, cols, a, b)
        factor = self._window_factor(field, bars.row_session[a:b], cols, persp)
        if factor is not None:
            values *= factor
        return values

    def _raw_block(self, bars: _Bars, field: str, cols: IntArray, a: int, b: int) -> FloatArray:
        """Unadjusted rows ``a:b``; empty columns NaN (volume 0)."""
        rc, consecutive, missing = bars.column_plan(cols)
        if consecutive is not None:  # a slice's copy, not a gather
            return bars.panel(field)[a:b, consecutive].copy()
        values = bars.panel(field)[a:b, rc]
        if missing is not None:
            values[:, missing] = 0.0 if field == "volume" else np.nan
        return values

    def _price_block(
        self,
        bars: _Bars,
        cols: IntArray,
        a: int,
        b: int,
        persp: int,
        mask_life: bool = True,
    ) -> FloatArray:
        """Forward-filled prices of rows ``a:b``, each adjusted from its own bar's session.

        Most cells have a bar, so the window starts as the adjusted closes
        (two slices); only the cells without one are looked up in the
        last-close index. A price carried forward across a split comes from
        before the split, so it takes the factor of the session it traded
        in, not of the row it fills.
        """
        values = self._field_block(bars, "close", cols, a, b, persp, ffill=False)
        holes = np.isnan(values)
        if holes.any():
            self._fill_from_last_close(bars, values, holes, cols, a, persp)
        if mask_life:
            self._mask_outside_life(values, bars.row_session[a:b], cols)
        return values

    def _fill_from_last_close(
        self,
        bars: _Bars,
        values: FloatArray,
        holes: npt.NDArray[np.bool_],
        cols: IntArray,
        a: int,
        persp: int,
    ) -> None:
        """Write into ``values``' holes the adjusted close of each cell's last bar."""
        rc = bars.colmap[cols]
        holes &= (rc >= 0)[None, :]
        r, c = np.nonzero(holes)
        if not r.size:
            return
        source = bars.close_index()[a + r, rc[c]].astype(np.int64)
        traded = source >= 0
        source = np.where(traded, source, 0)
        filled = bars.panel("close")[source, rc[c]]
        mult = self._price_mult
        if mult is not None:
            filled *= mult[bars.row_session[source], cols[c]] / mult[persp, cols[c]]
        filled[~traded] = np.nan
        values[r, c] = filled

    def _mask_outside_life(
        self, values: FloatArray, row_sessions: IntArray, cols: IntArray
    ) -> None:
        """NaN where a row's session is outside its column's asset's life."""
        start, end = self._start_index[cols], self._end_index[cols]
        if (start <= row_sessions[0]).all() and (end >= row_sessions[-1]).all():
            return
        sessions = row_sessions[:, None]
        values[(sessions < start) | (sessions > end)] = np.nan

    def _window_factor(
        self, field: str, row_sessions: IntArray, cols: IntArray, persp: int
    ) -> FloatArray | None:
        """Multipliers taking rows of ``row_sessions`` to session ``persp``; None if all 1.

        Rows are time-ordered, so their sessions span ``s0..s1``: the
        factors are computed for that short range of sessions and, when
        several rows share a session (minutes), spread by a row gather.
        """
        mult = self._volume_mult if field == "volume" else self._price_mult
        if mult is None or not len(row_sessions):
            return None
        s0, s1 = int(row_sessions[0]), int(row_sessions[-1])
        if field == "volume":
            per_session = mult[persp, cols] / mult[s0 : s1 + 1][:, cols]
        else:
            per_session = mult[s0 : s1 + 1][:, cols] / mult[persp, cols]
        if s1 - s0 + 1 == len(row_sessions):
            return per_session
        return per_session[row_sessions - s0]

    def _factor(self, field: str, sessions: IntArray, cols: IntArray, persp: int) -> FloatArray:
        """Multipliers taking values from ``sessions`` to session ``persp``."""
        if field == "volume":
            mult = self._volume_mult
            if mult is None:
                return np.ones((len(sessions), len(cols)))
            return mult[persp, cols] / mult[sessions[:, None], cols]
        mult = self._price_mult
        if mult is None:
            return np.ones((len(sessions), len(cols)))
        return mult[sessions[:, None], cols] / mult[persp, cols]

    # --- internals: small helpers ----------------------------------------------

    def _bars(self, data_frequency: str) -> _Bars:
        if data_frequency == "minute":
            return self._require_minute()
        if self._daily is None:
            raise DataNotFoundError(
                "this DataPortal has no daily bars (equity_daily_reader is None)",
                context={"data_frequency": data_frequency},
            )
        return self._daily

    def _require_minute(self) -> _Bars:
        if not self._minute_checked:
            self._minute = self._wrap_minute()
            self._minute_checked = True
        if self._minute is None:
            raise DataNotFoundError(
                "this DataPortal has no minute bars (no equity_minute_reader, or it holds "
                "no bars); minute data and '1m' history need them",
                context={"data_frequency": "minute"},
            )
        return self._minute

    def _perspective(self, dt: pd.Timestamp) -> int:
        ts = dt if isinstance(dt, pd.Timestamp) else pd.Timestamp(dt)
        return int(np.searchsorted(self._closes_ns, self._instant_ns(ts), side="left"))

    def _timestamps(self, ns: IntArray, data_frequency: str) -> list[pd.Timestamp]:
        tz = "UTC" if data_frequency == "minute" else None
        return [pd.NaT if v == _NAT else pd.Timestamp(int(v), tz=tz) for v in ns]  # type: ignore[misc]

    def _session_text(self, index: int) -> str:
        if 0 <= index < len(self.sessions):
            return str(self.sessions[index].date())
        return "(none)"

    def _minute_text(self) -> str:
        minute = self._require_minute()
        row = max(self._first_minute_row, 0)
        return str(minute.labels[row]) if row < minute.n_rows else "(none)"

    def _starts_before_data(self, lo: int, bar_count: int) -> HistoryWindowStartsBeforeData:
        first = self._first_day_index
        suggested = self._session_text(first + bar_count)
        return HistoryWindowStartsBeforeData(
            f"a {bar_count}-session history window starting at session "
            f"{self._session_text(lo) if lo >= 0 else 'before the data'} reaches back before "
            f"the first trading day {self._session_text(first)}; request fewer bars or start "
            f"the simulation on or after {suggested}",
            context={
                "bar_count": bar_count,
                "first_trading_day": self._session_text(first),
                "suggested_start_day": suggested,
            },
        )


# --- module helpers -----------------------------------------------------------


def _usable(reader: Any) -> Any:
    """The reader, or None when it holds no sessions or no sids."""
    if reader is None or not len(reader.sessions) or not len(reader.sids):
        return None
    return reader


def _session_label(value: Any) -> pd.Timestamp:
    """A tz-naive midnight Timestamp (an aware one keeps its UTC date)."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()


def _utc(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _check_field(field: Any, allowed: frozenset[str]) -> None:
    if not isinstance(field, str) or field not in allowed:
        raise UnknownFieldError(
            f"unknown field {field!r}; valid fields are {', '.join(sorted(allowed))}",
            context={"field": repr(field), "valid": sorted(allowed)},
        )


def _check_window(bar_count: Any, frequency: Any) -> None:
    if isinstance(bar_count, bool) or not isinstance(bar_count, int | np.integer) or bar_count < 1:
        raise ParameterValidationError(
            f"bar_count must be an integer >= 1, got {bar_count!r}",
            context={"bar_count": repr(bar_count)},
        )
    if frequency not in HISTORY_FREQUENCIES:
        raise ParameterValidationError(
            f"frequency must be '1d' or '1m', got {frequency!r}",
            context={"frequency": repr(frequency)},
        )


def _aggregate(block: FloatArray, field: str) -> FloatArray:
    """One bar from a block of minute rows (columns kept)."""
    if field == "volume":
        return block.sum(axis=0)
    if field == "high":
        return np.fmax.reduce(block, axis=0)
    if field == "low":
        return np.fmin.reduce(block, axis=0)
    valid = ~np.isnan(block)
    any_valid = valid.any(axis=0)
    if field == "open":
        pick = valid.argmax(axis=0)
    else:
        pick = block.shape[0] - 1 - valid[::-1].argmax(axis=0)
    values = block[pick, np.arange(block.shape[1])]
    values[~any_valid] = np.nan
    return values
