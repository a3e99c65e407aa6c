"""Trading calendars, from exchange_calendars.

rustybt labels a minute bar by the minute at which it *ends*, as zipline does:
an XNYS session runs 9:31 .. 16:00 New York time (390 bars). exchange_calendars
gives that labelling with ``side="right"``. Crypto bundles use the ``"24/7"``
calendar (1440 bars a day).

Examples
--------
>>> from rustybt.calendars import get_calendar
>>> cal = get_calendar("XNYS")
>>> cal.session_minutes("2024-01-02")[0]
Timestamp('2024-01-02 14:31:00+0000', tz='UTC')
>>> len(cal.session_minutes("2024-01-02"))
390
"""

from __future__ import annotations

from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd
from exchange_calendars import ExchangeCalendar

from rustybt.exceptions import ConfigValidationError

__all__ = ["ExchangeCalendar", "TradingCalendar", "get_calendar", "get_calendar_names"]

TradingCalendar = ExchangeCalendar

# Calendars start here unless asked otherwise: early enough for long daily
# histories, late enough that building one stays cheap.
DEFAULT_START = pd.Timestamp("1990-01-01")

_ALIASES = {"NYSE": "XNYS", "NASDAQ": "XNYS", "CSVDIR": "XNYS", "CRYPTO": "24/7", "24/7": "24/7"}


def get_calendar(
    name: str = "XNYS",
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
) -> ExchangeCalendar:
    """Return the exchange calendar ``name`` with zipline's minute labels.

    Parameters
    ----------
    name
        An exchange_calendars name (``"XNYS"``, ``"XLON"``, ``"24/7"`` ...) or a
        zipline alias (``"NYSE"``).
    start, end
        Bounds of the calendar; default 1990-01-01 to a year from today.

    Raises
    ------
    ConfigValidationError
        If no calendar has that name.
    """
    resolved = _ALIASES.get(name.upper(), name)
    start_ts = None if start is None else pd.Timestamp(start)
    end_ts = None if end is None else pd.Timestamp(end)
    return _cached_calendar(resolved, start_ts, end_ts)


@lru_cache(maxsize=32)
def _cached_calendar(
    name: str, start: pd.Timestamp | None, end: pd.Timestamp | None
) -> ExchangeCalendar:
    if name not in xcals.get_calendar_names():
        raise ConfigValidationError(
            f"unknown trading calendar {name!r}; try one of XNYS, XLON, 24/7 "
            "(exchange_calendars.get_calendar_names() lists all)",
            context={"calendar": name},
        )
    start = DEFAULT_START if start is None else start
    kwargs: dict[str, object] = {"start": start, "side": "right"}
    if end is not None:
        kwargs["end"] = end
    return xcals.get_calendar(name, **kwargs)


def get_calendar_names() -> list[str]:
    """Names of every calendar ``get_calendar`` accepts."""
    return sorted(set(xcals.get_calendar_names()) | set(_ALIASES))
