"""BarData: the ``data`` object an algorithm's ``handle_data`` receives.

``data.current``, ``data.history``, ``data.can_trade`` and ``data.is_stale``
with zipline's argument forms, return shapes and missing-data rules. Each
call validates its arguments, asks the :class:`~rustybt.data.portal.DataPortal`
for NumPy arrays (columns, current row and perspective come from cached
look-ups) and wraps them in the pandas object zipline returns.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any, Final, Protocol, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.assets import Asset
from rustybt.calendars import ExchangeCalendar
from rustybt.data.portal import BASE_FIELDS, OHLCVP_FIELDS, DataPortal, window_frame
from rustybt.exceptions import ParameterValidationError, UnknownFieldError

if TYPE_CHECKING:
    from rustybt.sources.fetched import FetchedData

__all__ = ["BarData", "Restrictions"]

_FREQUENCIES: Final = ("1d", "1m")
# The int64 of NaT: what the portal's last-traded arrays hold for "never".
_NAT: Final = np.iinfo(np.int64).min


class Restrictions(Protocol):
    """Anything that says whether an asset may be traded at a dt."""

    def is_restricted(self, asset: Asset, dt: pd.Timestamp) -> bool: ...


class BarData:
    """Current and historical market data, as seen from the simulation's now.

    Parameters
    ----------
    data_portal
        Where the values come from.
    simulation_dt_func
        Returns the current simulation time (a UTC minute, or a session label).
    data_frequency
        ``"daily"`` or ``"minute"``: the bars the simulation runs on.
    trading_calendar
        The simulation's calendar.
    restrictions
        An object with ``is_restricted(asset, dt) -> bool``, or None.

    Notes
    -----
    At a time that is not a market minute (before the open, say) values
    come from the last bar before it and are adjusted for splits and
    dividends effective in the session about to start, as zipline does in
    ``before_trading_start``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from rustybt.assets import AssetDBWriter, AssetFinder
    >>> from rustybt.calendars import get_calendar
    >>> from rustybt.data.portal import DataPortal
    >>> from rustybt.data.storage import ParquetDailyBarReader, ParquetDailyBarWriter
    >>> cal = get_calendar("XNYS")
    >>> days = cal.sessions_in_range("2024-01-02", "2024-01-04")
    >>> root = Path(tempfile.mkdtemp())
    >>> AssetDBWriter(root / "assets.sqlite").write(equities=pd.DataFrame(
    ...     {"symbol": ["AAA"], "start_date": [days[0]], "end_date": [days[-1]],
    ...      "exchange": ["NYSE"]}, index=[1]))
    >>> bars = pd.DataFrame({"open": [10.0, 11, 12], "high": [10.0, 11, 12],
    ...     "low": [10.0, 11, 12], "close": [10.0, 11, 12],
    ...     "volume": [100.0, 0, 100]}, index=days)
    >>> writer = ParquetDailyBarWriter(root / "daily.parquet", cal, days[0], days[-1])
    >>> writer.write([(1, bars)]); writer.finalize()
    >>> finder = AssetFinder(root / "assets.sqlite")
    >>> portal = DataPortal(finder, cal, days[0], equity_daily_reader=ParquetDailyBarReader(
    ...     root / "daily.parquet", cal, days[0], days[-1]))
    >>> aaa = finder.retrieve_asset(1)
    >>> data = BarData(portal, lambda: days[1], "daily", cal)
    >>> data.current(aaa, "price"), data.current(aaa, "volume"), data.is_stale(aaa)
    (11.0, 0.0, True)
    >>> data.history(aaa, "close", 2, "1d").tolist()
    [10.0, 11.0]
    >>> data.current([aaa], ["price", "volume"])
                     price  volume
    Equity(1 [AAA])   11.0     0.0
    """

    def __init__(
        self,
        data_portal: DataPortal,
        simulation_dt_func: Callable[[], pd.Timestamp],
        data_frequency: str,
        trading_calendar: ExchangeCalendar,
        restrictions: Restrictions | None = None,
    ) -> None:
        if data_frequency not in ("daily", "minute"):
            raise ParameterValidationError(
                f"data_frequency must be 'daily' or 'minute', got {data_frequency!r}",
                context={"data_frequency": data_frequency},
            )
        self.data_portal = data_portal
        self.simulation_dt_func = simulation_dt_func
        self.data_frequency = data_frequency
        self.restrictions = restrictions
        self._calendar = trading_calendar
        self._daily_mode = data_frequency == "daily"
        # The portal position of the current time, kept while the clock stands
        # still (it is asked for per asset, many times a bar).
        self._position_dt: Any = None
        # The portal's spot rows read on this bar, by field (a memo of the bar).
        self._spot_rows: dict[str, list[float]] = {}
        # The last list of assets passed in and its checked form: strategies
        # pass the same universe bar after bar.
        self._last_assets: tuple[tuple[Any, ...], tuple[bool, list[Asset]]] | None = None
        self._position: tuple[int, int] = (-1, -1)
        #: The data of the algorithm's fetch_csv calls (None without any): the
        #: fields ``current`` serves besides market data.
        self.fetched: FetchedData | None = None

    # --- time ------------------------------------------------------------------

    @property
    def current_dt(self) -> pd.Timestamp:
        """The simulation's current time."""
        return self.simulation_dt_func()

    @property
    def current_session(self) -> pd.Timestamp:
        """The session of the current time (the next one between sessions)."""
        dt = pd.Timestamp(self.simulation_dt_func())
        cal = self._calendar
        if dt.tzinfo is None and dt == dt.normalize():
            return dt if cal.is_session(dt) else cal.date_to_session(dt, direction="next")
        return cal.minute_to_session(dt, direction="next")

    @property
    def current_session_minutes(self) -> pd.DatetimeIndex:
        """The trading minutes (UTC) of :attr:`current_session`."""
        return self._calendar.session_minutes(self.current_session)

    # --- current -----------------------------------------------------------------

    def current(self, assets: Asset | Iterable[Asset], fields: str | Iterable[str]) -> Any:
        """The current value of ``fields`` for ``assets``.

        Parameters
        ----------
        assets
            An Asset or an iterable of Assets.
        fields
            One or several of ``price`` (last traded close, forward-filled
            and adjusted), ``open``, ``high``, ``low``, ``close`` (NaN without
            a bar this bar), ``volume`` (0 without a bar) and ``last_traded``
            (a Timestamp; NaT if never traded).

        Returns
        -------
        float | pd.Timestamp | pd.Series | pd.DataFrame
            One asset and field: a scalar. One asset, several fields: a
            Series indexed by field. Several assets, one field: a Series
            indexed by asset. Both several: a DataFrame (assets x fields).
        """
        if isinstance(assets, Asset) and isinstance(fields, str) and fields in OHLCVP_FIELDS:
            return self.spot(assets, fields)
        if self.fetched is not None:
            return self._current_with_fetched(assets, fields, self.fetched)
        single_asset, asset_list = self._assets_argument(assets)
        single_field, field_list = _fields_argument(fields, BASE_FIELDS, "current")
        cols, index = self.data_portal.asset_columns_with_index(asset_list)
        columns = self._market_columns(cols, field_list)
        return _current_shape(single_asset, single_field, asset_list, field_list, columns, index)

    def _market_columns(self, cols: npt.NDArray[np.int64], fields: list[str]) -> dict[str, Any]:
        """The current values of market ``fields`` at the portal columns ``cols``."""
        row, perspective = self.data_portal.resolve(self.simulation_dt_func(), self.data_frequency)
        return {f: self._current_values(cols, f, row, perspective) for f in fields}

    def _current_with_fetched(self, assets: Any, fields: Any, fetched: FetchedData) -> Any:
        """:meth:`current` once fetch_csv has run (zipline's rule for which data serves).

        A ``symbol=`` name (or a list of them) reads every field from the
        fetched data. For Assets, the market fields come from the portal and
        any other field from the fetched data (NaN for an asset without rows).
        """
        single_field, field_list = _fields_argument(fields, BASE_FIELDS | fetched.fields, "current")
        now = self._now_ns()
        if isinstance(assets, str) or (
            isinstance(assets, list | tuple) and assets and isinstance(assets[0], str)
        ):
            names = [assets] if isinstance(assets, str) else list(assets)
            fetched.check_names(names)
            named = {f: fetched.name_values(names, f, now) for f in field_list}
            index = pd.Index(names, dtype=object)
            return _current_shape(
                isinstance(assets, str), single_field, names, field_list, named, index
            )
        single_asset, asset_list = self._assets_argument(assets)
        cols, index = self.data_portal.asset_columns_with_index(asset_list)
        columns = self._market_columns(cols, [f for f in field_list if f in BASE_FIELDS])
        for f in field_list:
            if f not in BASE_FIELDS:
                columns[f] = np.asarray(fetched.asset_values(asset_list, f, now))
        return _current_shape(single_asset, single_field, asset_list, field_list, columns, index)

    @property
    def fetcher_assets(self) -> list[Asset]:
        """The assets fetch_csv has rows for at or before now, by sid (zipline's property)."""
        if self.fetched is None:
            return []
        return self.fetched.assets_as_of(self._now_ns())

    def _now_ns(self) -> int:
        """The current time in UTC nanoseconds; a session label stands for its close."""
        dt = pd.Timestamp(self.simulation_dt_func())
        if dt.tzinfo is not None:
            return int(dt.value)
        cal = self._calendar
        session = dt if cal.is_session(dt) else cal.date_to_session(dt, direction="next")
        return int(cal.session_close(session).value)

    def spot(self, asset: Asset, field: str) -> float:
        """``current(asset, field)`` for one asset and an OHLCV field or ``price``.

        The engine's form (no argument checks, no pandas): order sizing and
        fill simulation ask for one asset's price or volume per order. It is
        :meth:`spot_row` at the asset's portal column.
        """
        dt = self.simulation_dt_func()
        if dt is not self._position_dt:
            self._new_bar(dt)
        values = self._spot_rows.get(field)
        if values is None:
            values = self.spot_row(field)
        return values[self.data_portal.column(asset)]

    def spot_row(self, field: str) -> list[float]:
        """:meth:`spot` of ``field`` for every portal column at once, as a list.

        Index it with ``DataPortal.column(asset)`` (the no-data column, the
        last, for assets without bars). The engine reads a bar's closes and
        volumes this way to fill many orders. Callers must not change it.
        """
        dt = self.simulation_dt_func()
        if dt is not self._position_dt:
            self._new_bar(dt)
        values = self._spot_rows.get(field)
        if values is None:
            row, perspective = self._position
            values = self.data_portal.spot_row(field, row, self.data_frequency, perspective)
            self._spot_rows[field] = values
        return values

    def _new_bar(self, dt: pd.Timestamp) -> None:
        self._position = self.data_portal.resolve(dt, self.data_frequency)
        self._position_dt = dt
        self._spot_rows = {}

    def _current_values(
        self, cols: npt.NDArray[np.int64], field: str, row: int, perspective: int
    ) -> Any:
        portal = self.data_portal
        if field == "last_traded":
            ns = portal.last_traded_array(cols, row, self.data_frequency)
            labels = pd.DatetimeIndex(ns.view("datetime64[ns]"))
            return labels if self._daily_mode else labels.tz_localize("UTC")
        return portal.current_array(cols, field, row, self.data_frequency, perspective)

    # --- history -------------------------------------------------------------

    def history(
        self,
        assets: Asset | Iterable[Asset],
        fields: str | Iterable[str],
        bar_count: int,
        frequency: str,
    ) -> pd.Series | pd.DataFrame:
        """A trailing window of ``bar_count`` bars, adjusted as of now.

        Parameters
        ----------
        assets
            An Asset or an iterable of Assets.
        fields
            One or several of ``price``, ``open``, ``high``, ``low``,
            ``close``, ``volume``.
        bar_count
            Number of bars, >= 1.
        frequency
            ``"1d"`` (sessions; in a minute simulation the last row is
            today so far) or ``"1m"`` (minutes; minute simulations only).

        Returns
        -------
        pd.Series | pd.DataFrame
            One asset and field: a Series indexed by bar time. One asset,
            several fields: a DataFrame (time x fields). Several assets, one
            field: a DataFrame (time x assets). Both several: a DataFrame
            indexed by (``date`` or ``date_time``, ``asset``), sorted, with
            one column per field.
        """
        single_asset, asset_list = self._assets_argument(assets)
        try:
            single_field, field_list = _fields_argument(fields, OHLCVP_FIELDS, "history")
        except UnknownFieldError as exc:
            raise self._history_of_fetched(exc) from None
        self._check_window(bar_count, frequency)
        portal = self.data_portal
        cols, columns = portal.asset_columns_with_index(asset_list)
        axis = "minute" if frequency == "1m" else self.data_frequency
        row, perspective = portal.resolve(self.simulation_dt_func(), axis)
        data_frequency = self.data_frequency
        arrays = [
            portal.history_array(cols, f, bar_count, row, frequency, data_frequency, perspective)
            for f in field_list
        ]
        index = portal.history_index(bar_count, row, frequency, data_frequency)
        if single_field:
            values = arrays[0]
            if single_asset:
                return pd.Series(values[:, 0], index=index, name=asset_list[0])
            return window_frame(values, index, columns)
        by_field = dict(zip(field_list, arrays, strict=True))
        if single_asset:
            return pd.DataFrame(
                {f: by_field[f][:, 0] for f in field_list}, index=index, columns=field_list
            )
        return _stacked(by_field, field_list, index, asset_list, frequency)

    def _history_of_fetched(self, exc: UnknownFieldError) -> UnknownFieldError:
        """``exc``, saying where a fetched field is read if history was asked for one."""
        field = exc.context.get("fields", "").strip("'\"")
        if self.fetched is None or field not in self.fetched.fields:
            return exc
        return UnknownFieldError(
            f"{exc.message}; {field!r} is a fetch_csv field: read it with data.current "
            "(history serves market data, as zipline's does)",
            context=exc.context,
        )

    def _assets_argument(self, assets: Any) -> tuple[bool, list[Asset]]:
        """:func:`_assets_argument`, remembered for the last list or tuple of assets."""
        if type(assets) is not list and type(assets) is not tuple:
            return _assets_argument(assets)
        key = tuple(assets)
        last = self._last_assets
        # Tuple equality compares identical items without calling __eq__.
        if last is not None and last[0] == key:
            return last[1]
        checked = _assets_argument(assets)
        self._last_assets = (key, (checked[0], list(checked[1])))
        return checked

    def _check_window(self, bar_count: Any, frequency: Any) -> None:
        if isinstance(bar_count, bool) or not isinstance(bar_count, int | np.integer):
            raise ParameterValidationError(
                f"bar_count must be an int, got {type(bar_count).__name__} {bar_count!r}",
                context={"bar_count": repr(bar_count)},
            )
        if bar_count < 1:
            raise ParameterValidationError(
                f"bar_count must be >= 1, got {bar_count}", context={"bar_count": int(bar_count)}
            )
        if frequency not in _FREQUENCIES:
            raise ParameterValidationError(
                f"frequency must be '1d' or '1m', got {frequency!r}",
                context={"frequency": repr(frequency)},
            )
        if frequency == "1m" and self._daily_mode:
            raise ParameterValidationError(
                "frequency '1m' needs minute data, but this simulation runs on daily "
                "bars (data_frequency='daily'); use '1d'",
                context={"frequency": frequency, "data_frequency": self.data_frequency},
            )

    # --- tradability -----------------------------------------------------------

    @overload
    def can_trade(self, assets: Asset) -> bool: ...

    @overload
    def can_trade(self, assets: Iterable[Asset]) -> pd.Series: ...

    def can_trade(self, assets: Asset | Iterable[Asset]) -> bool | pd.Series:
        """Whether each asset can be traded now.

        True when the asset is alive in the current session and not past its
        auto-close date, its exchange is open (minute mode), it is not
        restricted, and it has a known (forward-filled) price.
        """
        single, asset_list = self._assets_argument(assets)
        dt = self.simulation_dt_func()
        portal = self.data_portal
        cols, index = portal.asset_columns_with_index(asset_list)
        row, session = portal.resolve(dt, self.data_frequency)
        ok = portal.alive_mask(cols, session, before_auto_close=True)
        ok &= ~np.isnan(portal.current_array(cols, "price", row, self.data_frequency, session))
        if not self._daily_mode:
            ok &= self._exchanges_open(asset_list, dt)
        if self.restrictions is not None:
            is_restricted = self.restrictions.is_restricted
            ok &= np.array([not is_restricted(a, dt) for a in asset_list], dtype=bool)
        if single:
            return bool(ok[0])
        return pd.Series(ok, index=index, dtype=bool)

    def _exchanges_open(self, assets: list[Asset], dt: pd.Timestamp) -> npt.NDArray[np.bool_]:
        """Whether each asset's exchange is open now (or at the next open)."""
        own = self._calendar.name
        out = np.ones(len(assets), dtype=bool)
        when: pd.Timestamp | None = None
        for i, asset in enumerate(assets):
            if asset.exchange_info.canonical_name == own:
                continue
            if when is None:
                when = self._check_minute(dt)
            out[i] = asset.is_exchange_open(when)
        return out

    def _check_minute(self, dt: pd.Timestamp) -> pd.Timestamp:
        ts = pd.Timestamp(dt)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
        cal = self._calendar
        return ts if cal.is_trading_minute(ts) else cal.next_open(ts)

    @overload
    def is_stale(self, assets: Asset) -> bool: ...

    @overload
    def is_stale(self, assets: Iterable[Asset]) -> pd.Series: ...

    def is_stale(self, assets: Asset | Iterable[Asset]) -> bool | pd.Series:
        """Whether each asset is alive and has traded before, but not at this bar."""
        single, asset_list = self._assets_argument(assets)
        portal = self.data_portal
        cols, index = portal.asset_columns_with_index(asset_list)
        row, session = portal.resolve(self.simulation_dt_func(), self.data_frequency)
        volume = portal.current_array(cols, "volume", row, self.data_frequency, session)
        traded_before = portal.last_traded_array(cols, row, self.data_frequency) != _NAT
        stale = portal.alive_mask(cols, session) & (volume == 0) & traded_before
        if single:
            return bool(stale[0])
        return pd.Series(stale, index=index, dtype=bool)


# --- argument handling ---------------------------------------------------------


def _assets_argument(assets: Any) -> tuple[bool, list[Asset]]:
    """``(is_single, asset_list)``; anything but Assets is refused by name."""
    if isinstance(assets, Asset):
        return True, [assets]
    if isinstance(assets, str) or not isinstance(assets, Iterable):
        raise ParameterValidationError(
            f"assets must be an Asset or a list of Assets, got {type(assets).__name__} "
            f"{assets!r}; look assets up with symbol() or sid()",
            context={"assets": repr(assets)},
        )
    items = assets if isinstance(assets, list) else list(assets)
    for position, item in enumerate(items):
        if not isinstance(item, Asset):
            raise ParameterValidationError(
                f"assets[{position}] is {type(item).__name__} {item!r}, not an Asset; "
                "look assets up with symbol() or sid()",
                context={"assets": repr(item), "position": position},
            )
    return False, items


def _fields_argument(fields: Any, allowed: frozenset[str], method: str) -> tuple[bool, list[str]]:
    """``(is_single, field_list)``; unknown fields raise UnknownFieldError."""
    single = isinstance(fields, str)
    if single:
        names = [fields]
    elif isinstance(fields, Iterable):
        names = list(fields)
    else:
        raise ParameterValidationError(
            f"fields must be a str or a list of str, got {type(fields).__name__} {fields!r}",
            context={"fields": repr(fields)},
        )
    for name in names:
        if not isinstance(name, str) or name not in allowed:
            raise UnknownFieldError(
                f"{method}() got unknown field {name!r}; valid fields are "
                f"{', '.join(sorted(allowed))}",
                context={"fields": repr(name), "valid": sorted(allowed)},
            )
    return single, names


def _current_shape(
    single_asset: bool,
    single_field: bool,
    keys: list[Any],
    fields: list[str],
    columns: dict[str, Any],
    index: pd.Index,
) -> Any:
    """zipline's shape of ``current``: a scalar, a Series by field or by asset, or a frame."""
    if single_asset:
        if single_field:
            return _scalar(columns[fields[0]][0])
        values = [_scalar(columns[f][0]) for f in fields]
        return pd.Series(values, index=pd.Index(fields), name=_label(keys[0]))
    if single_field:
        return pd.Series(columns[fields[0]], index=index, name=fields[0], copy=False)
    return pd.DataFrame(columns, index=index, columns=pd.Index(fields))


def _label(key: Hashable) -> Hashable:
    """A Series' name for an asset (its symbol) or a fetched name (itself)."""
    return key.symbol if isinstance(key, Asset) else key


def _scalar(value: Any) -> Any:
    """A Python float, or the Timestamp/NaT as is."""
    if isinstance(value, np.floating):
        return float(value)
    return value


def _stacked(
    arrays: dict[str, npt.NDArray[np.float64]],
    fields: list[str],
    index: pd.DatetimeIndex,
    assets: list[Asset],
    frequency: str,
) -> pd.DataFrame:
    """zipline's multi-asset, multi-field history frame: (dt, asset) rows, field columns."""
    order = np.argsort(np.array([a.sid for a in assets], dtype=np.int64), kind="stable")
    ordered = [assets[i] for i in order]
    n_bars, n_assets = len(index), len(assets)
    rows = pd.MultiIndex.from_arrays(
        [index.repeat(n_assets), pd.Index(ordered * n_bars, dtype=object)],
        names=["date" if frequency == "1d" else "date_time", "asset"],
    )
    data = {f: arrays[f][:, order].reshape(-1) for f in fields}
    return pd.DataFrame(data, index=rows, columns=pd.Index(fields, name="fields"))
