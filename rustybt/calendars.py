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

import os
import pickle
from functools import lru_cache
from pathlib import Path

import exchange_calendars as xcals
import pandas as pd
from exchange_calendars import ExchangeCalendar

from rustybt.exceptions import ConfigValidationError
from rustybt.utils.paths import cache_root

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
    path = _disk_cache_path(name, start, end)
    cached = _load_pickle(path)
    if isinstance(cached, ExchangeCalendar):
        return cached
    calendar = xcals.get_calendar(name, **kwargs)
    _store_pickle(path, calendar)
    return calendar


def _disk_cache_path(name: str, start: pd.Timestamp, end: pd.Timestamp | None) -> Path:
    """Where a built calendar is kept between processes.

    Building XNYS takes ~0.2 s, loading it back ~0.02 s. The key holds every
    input of the build: the library versions, the bounds, and for an open end
    today's date (exchange_calendars then ends a year from today).
    """
    end_key = str(end.date()) if end is not None else f"open-{pd.Timestamp.today().date()}"
    key = (
        f"{name.replace('/', '_')}_{start.date()}_{end_key}"
        f"_ec{xcals.__version__}_pd{pd.__version__}.pickle"
    )
    return cache_root() / "calendars" / key


def _load_pickle(path: Path) -> object:
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception:
        # A damaged or incompatible file is rebuilt, never trusted.
        return None


def _store_pickle(path: Path, value: object) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache folder only costs the rebuild next time


def get_calendar_names() -> list[str]:
    """Names of every calendar ``get_calendar`` accepts."""
    return sorted(set(xcals.get_calendar_names()) | set(_ALIASES))
