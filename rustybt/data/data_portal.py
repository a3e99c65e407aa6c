"""The DataPortal at zipline's import path (``zipline.data.data_portal``).

The portal lives in :mod:`rustybt.data.portal`; its constructor takes
zipline's arguments (``asset_finder``, ``trading_calendar``,
``first_trading_day``, ``equity_daily_reader``, ``equity_minute_reader``,
``adjustment_reader``), which a loaded bundle provides.

Examples
--------
>>> from rustybt.data.data_portal import DataPortal, OHLCV_FIELDS
>>> sorted(OHLCV_FIELDS)
['close', 'high', 'low', 'open', 'volume']
"""

from rustybt.data.portal import (
    BASE_FIELDS,
    HISTORY_FREQUENCIES,
    OHLCV_FIELDS,
    OHLCVP_FIELDS,
    DataPortal,
)

__all__ = ["BASE_FIELDS", "HISTORY_FREQUENCIES", "OHLCVP_FIELDS", "OHLCV_FIELDS", "DataPortal"]
