"""The benchmark's returns: from an asset's prices, a user's Series, or zeros.

Examples
--------
>>> import pandas as pd
>>> from rustybt.calendars import get_calendar
>>> cal = get_calendar("XNYS")
>>> days = cal.sessions_in_range("2024-01-02", "2024-01-04")
>>> src = BenchmarkSource(None, pd.Series([0.01, 0.02], index=days[:2]), cal, days)
>>> src.daily_returns(days[0], days[-1]).tolist()
[0.01, 0.02, 0.0]
>>> BenchmarkSource(None, None, cal, days).daily_returns(days[1])
0.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rustybt.exceptions import AssetValidationError, HistoryWindowStartsBeforeData

__all__ = ["BenchmarkSource"]


def _naive_index(index: pd.Index) -> pd.DatetimeIndex:
    """Session labels as tz-naive midnights (user Series often come UTC-aware)."""
    dt_index = pd.DatetimeIndex(index)
    if dt_index.tz is not None:
        dt_index = dt_index.tz_convert("UTC").tz_localize(None)
    return dt_index.normalize()


class BenchmarkSource:
    """Daily (and, for minute emission, minute) returns of the benchmark.

    Parameters
    ----------
    benchmark_asset
        An asset whose close-to-close price changes (adjusted for splits and
        dividends as of the last session) are the benchmark, or None.
    benchmark_returns
        Daily returns indexed by session, used when ``benchmark_asset`` is
        None; missing sessions count as 0. If both are None the benchmark
        returns are all zero.
    trading_calendar
        The simulation's calendar.
    sessions
        The simulation's sessions.
    data_portal
        Reads the asset's prices (needed only with ``benchmark_asset``).
    emission_rate
        ``"daily"`` or ``"minute"``; minute emission also prepares minute returns.

    Raises
    ------
    AssetValidationError
        The asset starts after the first session, ends before the last one,
        or pays stock dividends in the period (its returns would be wrong).

    Notes
    -----
    As in zipline, an asset that starts trading on the first session gets
    that day's open-to-close return; an older one its close-to-close return.
    With minute emission the first minute's return is taken against the price
    before the first open: the previous minute's, else (minute bars starting on
    the first session) the previous session's daily close, else the first open.
    """

    def __init__(
        self,
        benchmark_asset: Any,
        benchmark_returns: pd.Series | None,
        trading_calendar: Any,
        sessions: Any,
        data_portal: Any = None,
        emission_rate: str = "daily",
    ) -> None:
        self.benchmark_asset = benchmark_asset
        self.sessions = _naive_index(pd.DatetimeIndex(sessions))
        self.emission_rate = emission_rate
        self.data_portal = data_portal
        self.trading_calendar = trading_calendar
        self._minute_series: pd.Series | None = None
        sessions = self.sessions
        if len(sessions) == 0:
            self._daily_returns = pd.Series([], index=sessions, dtype=np.float64)
        elif benchmark_asset is not None:
            self._validate_asset(benchmark_asset)
            if emission_rate == "minute":
                self._minute_series, self._daily_returns = self._asset_minute_returns(
                    benchmark_asset
                )
            else:
                self._daily_returns = self._asset_daily_returns(benchmark_asset)
        else:
            if benchmark_returns is None:
                daily = pd.Series(0.0, index=sessions)
            else:
                given = pd.Series(
                    np.asarray(benchmark_returns, dtype=np.float64),
                    index=_naive_index(benchmark_returns.index),
                )
                daily = given.reindex(sessions).fillna(0.0)
            self._daily_returns = daily
            if emission_rate == "minute":
                minutes = trading_calendar.sessions_minutes(sessions[0], sessions[-1])
                labels = pd.DatetimeIndex(minutes).tz_convert("UTC").tz_localize(None).normalize()
                self._minute_series = pd.Series(
                    daily.reindex(labels).to_numpy(dtype=np.float64), index=minutes
                )

    # --- lookups ---------------------------------------------------------------------

    def _precalculated(self) -> pd.Series:
        if self.emission_rate == "minute" and self._minute_series is not None:
            return self._minute_series
        return self._daily_returns

    def get_value(self, dt: Any) -> float:
        """The return at ``dt``: a minute (minute emission) or a session label (daily)."""
        return float(self._precalculated().loc[dt])

    def get_range(self, start_dt: Any, end_dt: Any) -> pd.Series:
        """Returns from ``start_dt`` to ``end_dt`` inclusive (minutes or sessions, as above)."""
        return self._precalculated().loc[start_dt:end_dt]

    def daily_returns(self, start: Any, end: Any = None) -> Any:
        """Daily returns over ``[start, end]`` (a Series), or at ``start`` (a float) if no end."""
        if end is None:
            return float(self._daily_returns.loc[_naive_index(pd.DatetimeIndex([start]))[0]])
        lo = _naive_index(pd.DatetimeIndex([start]))[0]
        hi = _naive_index(pd.DatetimeIndex([end]))[0]
        return self._daily_returns.loc[lo:hi]

    # --- building from an asset ----------------------------------------------------

    def _validate_asset(self, asset: Any) -> None:
        sessions = self.sessions
        reader = getattr(self.data_portal, "adjustment_reader", None)
        get_stock = getattr(reader, "get_stock_dividends_with_ex_date", None)
        if get_stock is not None:
            for session in sessions:
                found = get_stock([int(asset)], session)
                if len(found):
                    raise AssetValidationError(
                        f"benchmark {asset!r} pays a stock dividend (ex-date "
                        f"{session.date()}); choose another benchmark asset",
                        context={"asset": asset, "ex_date": session},
                    )
        start, end = asset.start_date, asset.end_date
        if start is not None and start > sessions[0]:
            raise AssetValidationError(
                f"benchmark {asset!r} starts trading on {start.date()}, after the "
                f"simulation's first session {sessions[0].date()}",
                context={"asset": asset, "start_date": start, "first_session": sessions[0]},
            )
        if end is not None and end < sessions[-1]:
            raise AssetValidationError(
                f"benchmark {asset!r} stops trading on {end.date()}, before the "
                f"simulation's last session {sessions[-1].date()}",
                context={"asset": asset, "end_date": end, "last_session": sessions[-1]},
            )

    def _asset_daily_returns(self, asset: Any) -> pd.Series:
        sessions = self.sessions
        portal = self.data_portal
        starts_before = asset.start_date is None or asset.start_date < sessions[0]
        # One session more when the asset traded before the start, so that
        # day one has a close-to-close return.
        count = len(sessions) + 1 if starts_before else len(sessions)
        prices = portal.get_history_window(
            [asset], sessions[-1], count, "1d", "price", "daily", ffill=True
        )[asset].astype(np.float64)
        returns = prices.pct_change()
        if starts_before:
            returns = returns.iloc[1:]
        else:
            # A one-session window rather than a daily spot value: a portal
            # without daily bars (a minute-only bundle) rolls it up from minutes.
            first_open, first_close = (
                float(
                    portal.get_history_window([asset], sessions[0], 1, "1d", field, "daily")[
                        asset
                    ].iloc[0]
                )
                for field in ("open", "close")
            )
            returns.iloc[0] = (first_close - first_open) / first_open
        return pd.Series(returns.to_numpy(dtype=np.float64), index=sessions)

    def _asset_minute_returns(self, asset: Any) -> tuple[pd.Series, pd.Series]:
        sessions = self.sessions
        cal = self.trading_calendar
        portal = self.data_portal
        minutes = pd.DatetimeIndex(cal.sessions_minutes(sessions[0], sessions[-1]))
        try:
            window = portal.get_history_window(
                [asset], minutes[-1], len(minutes) + 1, "1m", "price", "minute", ffill=True
            )[asset].astype(np.float64)
        except HistoryWindowStartsBeforeData:
            # The minute bars start on the first session: there is no minute
            # before the first open to take a return from.
            prices = portal.get_history_window(
                [asset], minutes[-1], len(minutes), "1m", "price", "minute", ffill=True
            )[asset].astype(np.float64)
            reference = self._previous_close(asset)
        else:
            prices, reference = window.iloc[1:], float(window.iloc[0])
        if np.isnan(reference):
            # Nothing traded before the first session (an asset that starts
            # on it, or the data's first day): as zipline does for such an
            # asset's first day, measure from the session's open.
            reference = self._first_open(asset)
        with_reference = pd.concat(
            [pd.Series([reference], index=minutes[:1] - pd.Timedelta(minutes=1)), prices]
        )
        minute_returns = with_reference.pct_change().iloc[1:]
        # Close-to-close: the price at each session's last minute, and the
        # reference price before the first open.
        closes = pd.DatetimeIndex([cal.session_close(s) for s in sessions])
        at_close = with_reference.reindex(closes.union(with_reference.index[:1]))
        daily = at_close.pct_change().iloc[1:]
        return (
            pd.Series(minute_returns.to_numpy(dtype=np.float64), index=minutes),
            pd.Series(daily.to_numpy(dtype=np.float64), index=sessions),
        )

    def _previous_close(self, asset: Any) -> float:
        """The asset's price at the session before the first one (NaN if there is none).

        Adjusted as seen from the last session, like the minute prices; taken
        from the daily bars, which may reach back further than the minute bars.
        """
        sessions = self.sessions
        try:
            window = self.data_portal.get_history_window(
                [asset], sessions[-1], len(sessions) + 1, "1d", "price", "daily", ffill=True
            )[asset]
        except HistoryWindowStartsBeforeData:
            return float("nan")
        return float(window.iloc[0])

    def _first_open(self, asset: Any) -> float:
        """The first session's open, adjusted as seen from the last session."""
        sessions = self.sessions
        opens = self.data_portal.get_history_window(
            [asset], sessions[-1], len(sessions), "1d", "open", "daily"
        )[asset]
        return float(opens.iloc[0])
