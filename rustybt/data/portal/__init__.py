"""The DataPortal: spot values and history windows, point-in-time adjusted.

See :mod:`rustybt.data.portal.facade` for the map of this package.
"""

from rustybt.data.portal.facade import DataPortal
from rustybt.data.portal.fields import (
    BASE_FIELDS,
    HISTORY_FREQUENCIES,
    OHLCV_FIELDS,
    OHLCVP_FIELDS,
)
from rustybt.data.portal.frames import window_frame
from rustybt.exceptions import HistoryWindowStartsBeforeData, UnknownFieldError

__all__ = [
    "BASE_FIELDS",
    "HISTORY_FREQUENCIES",
    "OHLCVP_FIELDS",
    "OHLCV_FIELDS",
    "DataPortal",
    "HistoryWindowStartsBeforeData",
    "UnknownFieldError",
    "window_frame",
]
