"""DataPortal: point-in-time spot values and history windows over NumPy panels.

The portal answers every market-data question of a simulation: the current
value of a field for a set of assets, a trailing history window, the
adjustments between two dates. It follows zipline's semantics and does the
work on arrays the bar readers load once. This class is the facade; each
concern lives in its own module of this package:

* :mod:`~rustybt.data.portal.axes`: sessions, minutes and portal columns;
  a dt resolved to a data row and a perspective session.
* :mod:`~rustybt.data.portal.adjustments`: splits and dividends as
  cumulative multipliers, point in time.
* :mod:`~rustybt.data.portal.spot`: the spot rule, and the current row of
  a field over every column (one asset's value is that row at its column).
* :mod:`~rustybt.data.portal.history`: history windows.

Engine callers use the NumPy forms (:meth:`DataPortal.resolve`,
:meth:`DataPortal.spot_row`, :meth:`DataPortal.current_array`,
:meth:`DataPortal.history_array`); the zipline methods returning Python or
pandas objects are thin wrappers over them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.assets import Asset
from rustybt.calendars import ExchangeCalendar
from rustybt.data.portal.adjustments import Adjustments
from rustybt.data.portal.axes import Axes
from rustybt.data.portal.fields import (
    BASE_FIELDS,
    NAT,
    OHLCV_FIELDS,
    OHLCVP_FIELDS,
    FloatArray,
    IntArray,
    check_field,
    check_window,
    empty_value,
)
from rustybt.data.portal.frames import window_frame
from rustybt.data.portal.history import History
from rustybt.data.portal.readers import AdjustmentReader, AssetLookup, BarReader, MinuteBarReader
from rustybt.data.portal.spot import Spot
from rustybt.exceptions import ParameterValidationError

__all__ = ["DataPortal"]


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
        axes = self._axes = Axes(
            asset_finder,
            trading_calendar,
            first_trading_day,
            equity_daily_reader,
            equity_minute_reader,
            last_available_session,
            last_available_minute,
        )
        self._adjustments = Adjustments(adjustment_reader, axes.sessions_ns, axes.sids)
        self._spot = Spot(axes, self._adjustments)
        self._history = History(axes, self._adjustments, self._spot)
        self.sessions: pd.DatetimeIndex = axes.sessions
        self.first_trading_day: pd.Timestamp | None = axes.first_trading_day
        # Column by sid, and the column of sids without data: for callers that
        # index a spot row per asset (``column`` is the one look-up to prefer).
        self.sid_columns: dict[int, int] = axes.sid_columns
        self.no_data_column: int = axes.no_data_column

    # --- columns and time ----------------------------------------------------------

    def column(self, asset: Asset | int) -> int:
        """The portal column of one asset (or sid).

        An asset without data maps to the no-data column, whose values are
        NaN (volume 0).
        """
        try:
            sid = asset.sid  # type: ignore[union-attr]
        except AttributeError:
            sid = int(asset)
        return self.sid_columns.get(sid, self.no_data_column)

    def asset_columns(self, assets: Iterable[Asset | int]) -> IntArray:
        """Portal columns of ``assets`` (read-only; the last list's are remembered).

        Sids without bars map to the no-data column. No pandas Index is
        built: the ledger marks its positions through this once a bar, and
        the set of positions changes often.
        """
        return self._axes.asset_columns(assets)

    def asset_columns_with_index(self, assets: Iterable[Asset | int]) -> tuple[IntArray, pd.Index]:
        """Portal columns of ``assets`` and a pandas Index of them, cached together.

        The Index labels DataFrame columns and Series; caching it saves
        rebuilding an object Index on every ``history`` call.
        """
        return self._axes.asset_columns_with_index(assets)

    def alive_mask(
        self, cols: IntArray, session: int, before_auto_close: bool = False
    ) -> npt.NDArray[np.bool_]:
        """Whether each column's asset is alive in master session ``session``.

        With ``before_auto_close``, also require the session not to be after
        the asset's auto-close date (zipline's ``can_trade``).
        """
        return self._axes.alive_mask(cols, session, before_auto_close)

    def resolve(self, dt: pd.Timestamp | Any, data_frequency: str) -> tuple[int, int]:
        """Map ``dt`` to ``(data_row, perspective_session)``.

        ``data_row`` is the last bar at or before ``dt``: a master session
        index in daily mode, a minute-reader row in minute mode (``-1``: none
        yet). ``perspective_session`` is the master index of the session
        ``dt`` belongs to, or of the next one when ``dt`` falls between
        sessions (so a split effective today applies before the open). A
        tz-naive midnight is a session label: its whole session.

        Raises
        ------
        DataNotFoundError
            ``dt`` is after the last available session (or minute).
        """
        return self._axes.resolve(dt, data_frequency)

    # --- current values --------------------------------------------------------------

    def spot_row(self, field: str, row: int, data_frequency: str, perspective: int) -> list[float]:
        """The spot value of ``field`` for every portal column at a bar, as a list.

        Index it with :meth:`column`; its last entry is the no-data column.
        ``row`` and ``perspective`` come from :meth:`resolve`. The row is
        read once per bar and field and kept: callers must not change it.

        Raises
        ------
        UnknownFieldError
            ``field`` is not an OHLCV field or ``price``.
        """
        return self._spot.row_list(field, row, data_frequency, perspective)

    def current_array(
        self,
        cols: IntArray,
        field: str,
        row: int,
        data_frequency: str = "daily",
        perspective: int | None = None,
    ) -> FloatArray:
        """Spot values of an OHLCV field or ``price`` for columns ``cols`` (a new array).

        ``price`` is forward-filled and adjusted from its bar's session; the
        other fields are NaN (volume 0) where there is no bar. All are blank
        where the asset is not alive in the row's session. ``row`` and
        ``perspective`` come from :meth:`resolve`; ``perspective`` defaults
        to the row's session.
        """
        return self._spot.row(field, row, data_frequency, perspective)[cols]

    def last_traded_array(
        self, cols: IntArray, row: int, data_frequency: str = "daily"
    ) -> IntArray:
        """UTC nanoseconds (daily: the session label) of each column's last trade.

        ``NaT``'s integer where the asset never traded up to ``row``.
        """
        return self._axes.bars(data_frequency).last_traded_ns(cols, row)

    # --- history -----------------------------------------------------------------------

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
        data_frequency
            ``"daily"`` or ``"minute"``: the simulation's bars.
        perspective
            Session the window is seen from; default the last bar's session.
        ffill
            Forward-fill ``price`` (zipline always does).

        Raises
        ------
        HistoryWindowStartsBeforeData
            The window starts before the first trading day.
        """
        return self._history.array(
            cols, field, bar_count, end_index, frequency, data_frequency, perspective, ffill
        )

    def daily_bars(
        self,
        field: str,
        assets: Iterable[Asset | int],
        bar_sessions: IntArray,
        view_sessions: IntArray,
    ) -> tuple[FloatArray, tuple[IntArray, IntArray, FloatArray]]:
        """Unadjusted daily ``field`` bars of ``assets``, and the adjustments between them.

        Row ``i`` of the values is the bar of master session
        ``bar_sessions[i]`` (``-1``, or a session without bars, reads as no
        bar: NaN, volume 0); ``view_sessions[i]`` is the session it is seen
        from (the one after its bar, as a pipeline reads it). The adjustments
        are ``(k, position, multiplier)`` in the order they apply: seen from
        view ``k`` on, the value of asset ``position`` in rows ``0..k`` is
        multiplied by ``multiplier`` (a split, merger or dividend effective on
        session ``view_sessions[k]``, or on a session without a view just
        before it).
        """
        check_field(field, OHLCV_FIELDS)
        bars = self._axes.bars("daily")
        cols = self.asset_columns(assets)
        bar_sessions = np.asarray(bar_sessions, dtype=np.int64)
        # The daily reader's rows are the master sessions from its first one on.
        reader_rows = bar_sessions - int(bars.row_session[0])
        known = (bar_sessions >= 0) & (reader_rows >= 0) & (reader_rows < bars.n_rows)
        rows = np.where(known, reader_rows, 0)
        lo, hi = (int(rows.min()), int(rows.max()) + 1) if len(rows) else (0, 0)
        values = bars.raw_block(field, cols, lo, hi)[rows - lo]
        values[~known] = empty_value(field)
        views = np.asarray(view_sessions, dtype=np.int64)
        if not len(views):
            return values, self._adjustments.events(field, cols, 0, -1)
        session, position, multiplier = self._adjustments.events(
            field, cols, int(views[0]), int(views[-1])
        )
        k = np.searchsorted(views, session, side="left")
        return values, (k, position, multiplier)

    def history_index(
        self, bar_count: int, end_index: int, frequency: str, data_frequency: str = "daily"
    ) -> pd.DatetimeIndex:
        """Labels of the rows :meth:`history_array` returns (sessions or UTC minutes)."""
        return self._history.index(bar_count, end_index, frequency, data_frequency)

    # --- zipline API -------------------------------------------------------------------

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
        check_field(field, BASE_FIELDS)
        single = isinstance(assets, Asset)
        if not single and not isinstance(assets, Iterable):
            raise ParameterValidationError(
                f"assets must be an Asset or an iterable of Assets, got {type(assets).__name__}",
                context={"assets": repr(assets)},
            )
        items: Sequence[Asset] = [assets] if single else list(assets)  # type: ignore[list-item,arg-type]
        row, perspective = self.resolve(dt, data_frequency)
        if field == "last_traded":
            ns = self.last_traded_array(self.asset_columns(items), row, data_frequency)
            tz = "UTC" if data_frequency == "minute" else None
            stamps = [pd.NaT if v == NAT else pd.Timestamp(int(v), tz=tz) for v in ns]
            return stamps[0] if single else stamps
        if single:
            return self.spot_row(field, row, data_frequency, perspective)[self.column(items[0])]
        values = self._spot.row(field, row, data_frequency, perspective)
        listed: list[float] = values[self.asset_columns(items)].tolist()
        return listed

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
        start = self._axes.perspective(dt)
        end = self._axes.perspective(perspective_dt)
        return self._adjustments.between(field, cols, start, end)

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
        check_field(field, OHLCVP_FIELDS)
        check_window(bar_count, frequency)
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
        # Asked every session: a bundle without splits answers without a search.
        if not self._adjustments.any_splits:
            return []
        found = self._adjustments.splits_on(self._axes.perspective(dt))
        if not found:
            return []
        wanted = {int(a) for a in assets}
        return [
            (self.asset_finder.retrieve_asset(sid), ratio) for sid, ratio in found if sid in wanted
        ]
