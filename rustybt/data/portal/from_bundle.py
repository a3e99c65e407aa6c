"""The DataPortal of an opened bundle: the one place a run's portal is built."""

from __future__ import annotations

from typing import Any

import pandas as pd

from rustybt.data.portal.facade import DataPortal

__all__ = ["bundle_portal", "first_trading_day"]


def first_trading_day(data: Any) -> pd.Timestamp | None:
    """The first session with bars: the daily bars', else the minute bars'.

    A minute-only bundle (its ingest never wrote daily bars) has an empty
    daily reader whose first trading day is NaT; zipline then takes the day
    from the minute reader, and so does this. ``None`` when the bundle holds
    no bars at all (the portal then starts history at its data's first
    session).
    """
    for reader in (data.equity_daily_bar_reader, data.equity_minute_bar_reader):
        day = None if reader is None else reader.first_trading_day
        if isinstance(day, pd.Timestamp):  # NaT is not a Timestamp
            return day
    return None


def bundle_portal(data: Any, calendar: Any = None) -> DataPortal:
    """The portal over a loaded bundle's bars, adjustments and assets.

    ``calendar``: the simulation's calendar, default the bundle's.
    """
    return DataPortal(
        data.asset_finder,
        calendar or data.calendar,
        first_trading_day(data),
        equity_daily_reader=data.equity_daily_bar_reader,
        equity_minute_reader=data.equity_minute_bar_reader,
        adjustment_reader=data.adjustment_reader,
    )
