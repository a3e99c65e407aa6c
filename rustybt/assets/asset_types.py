"""Asset types: what a tradable thing is, never what it costs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from rustybt.calendars import get_calendar

# Exchange names that appear in bundles, mapped to the calendar that times them.
_EXCHANGE_CALENDARS = {
    "NYSE": "XNYS",
    "NASDAQ": "XNYS",
    "AMEX": "XNYS",
    "ARCA": "XNYS",
    "BATS": "XNYS",
    "CSVDIR": "XNYS",
    "CRYPTO": "24/7",
}


@dataclass(frozen=True, slots=True)
class ExchangeInfo:
    """An exchange an asset trades on.

    Parameters
    ----------
    name
        The exchange as the data names it (``"NASDAQ"``).
    canonical_name
        The exchange_calendars name that times it (``"XNYS"``).
    country_code
        ISO-3166 alpha-2 country (``"US"``).
    """

    name: str
    canonical_name: str
    country_code: str

    @property
    def calendar(self) -> Any:
        """The exchange's trading calendar."""
        return get_calendar(self.canonical_name)


def exchange_info_for(
    name: str, canonical_name: str | None = None, country_code: str = "??"
) -> ExchangeInfo:
    """Build an ExchangeInfo, guessing the calendar from well-known names."""
    canonical = canonical_name or _EXCHANGE_CALENDARS.get(name.upper(), name)
    return ExchangeInfo(name, canonical, country_code)


class Asset:
    """A tradable instrument, identified by its integer ``sid``.

    Assets compare and hash by sid (and compare equal to that int), so they
    serve as fast dict keys and as pandas index labels, as in zipline.

    Parameters
    ----------
    sid
        The unique integer id.
    exchange_info
        Where it trades.
    symbol, asset_name
        Ticker and long name.
    start_date, end_date
        First and last session with data (tz-naive).
    first_traded
        First session it traded, if known.
    auto_close_date
        Session on which positions are closed out (default: the day after
        ``end_date``).
    tick_size, multiplier
        Minimum price increment and contract multiplier.
    """

    __slots__ = (
        "asset_name",
        "auto_close_date",
        "end_date",
        "exchange_info",
        "first_traded",
        "multiplier",
        "sid",
        "start_date",
        "symbol",
        "tick_size",
    )

    asset_type: ClassVar[str] = "asset"

    def __init__(
        self,
        sid: int,
        exchange_info: ExchangeInfo,
        symbol: str = "",
        asset_name: str = "",
        start_date: pd.Timestamp | None = None,
        end_date: pd.Timestamp | None = None,
        first_traded: pd.Timestamp | None = None,
        auto_close_date: pd.Timestamp | None = None,
        tick_size: float = 0.01,
        multiplier: float = 1.0,
    ) -> None:
        self.sid = int(sid)
        self.exchange_info = exchange_info
        self.symbol = symbol
        self.asset_name = asset_name
        self.start_date = _naive(start_date)
        self.end_date = _naive(end_date)
        self.first_traded = _naive(first_traded)
        self.auto_close_date = _naive(auto_close_date)
        self.tick_size = tick_size
        self.multiplier = multiplier

    @property
    def exchange(self) -> str:
        """The exchange's name as the data gives it."""
        return self.exchange_info.name

    @property
    def exchange_full(self) -> str:
        """The exchange's calendar name."""
        return self.exchange_info.canonical_name

    @property
    def country_code(self) -> str:
        """The exchange's country."""
        return self.exchange_info.country_code

    def __int__(self) -> int:
        return self.sid

    def __index__(self) -> int:
        return self.sid

    def __hash__(self) -> int:
        return self.sid

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Asset):
            return self.sid == other.sid
        if isinstance(other, int):
            return self.sid == other
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        if isinstance(other, Asset | int):
            return self.sid < int(other)
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, Asset | int):
            return self.sid <= int(other)
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, Asset | int):
            return self.sid > int(other)
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, Asset | int):
            return self.sid >= int(other)
        return NotImplemented

    def __repr__(self) -> str:
        if self.symbol:
            return f"{type(self).__name__}({self.sid} [{self.symbol}])"
        return f"{type(self).__name__}({self.sid})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (
                self.sid,
                self.exchange_info,
                self.symbol,
                self.asset_name,
                self.start_date,
                self.end_date,
                self.first_traded,
                self.auto_close_date,
                self.tick_size,
                self.multiplier,
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The asset's fields as a dict."""
        return {
            "sid": self.sid,
            "symbol": self.symbol,
            "asset_name": self.asset_name,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "first_traded": self.first_traded,
            "auto_close_date": self.auto_close_date,
            "exchange": self.exchange,
            "exchange_full": self.exchange_full,
            "country_code": self.country_code,
            "tick_size": self.tick_size,
            "multiplier": self.multiplier,
        }

    def is_alive_for_session(self, session_label: pd.Timestamp) -> bool:
        """Whether ``session_label`` lies between start_date and end_date."""
        session = _naive(session_label)
        if session is None:
            return False
        if self.start_date is not None and session < self.start_date:
            return False
        return not (self.end_date is not None and session > self.end_date)

    def is_exchange_open(self, dt_minute: pd.Timestamp) -> bool:
        """Whether the asset's exchange is open at ``dt_minute`` (UTC)."""
        return bool(self.exchange_info.calendar.is_trading_minute(dt_minute))


class Equity(Asset):
    """A share of a company or fund."""

    __slots__ = ()
    asset_type: ClassVar[str] = "equity"


ASSET_TYPES: dict[str, type[Asset]] = {"equity": Equity}


def _naive(ts: Any) -> pd.Timestamp | None:
    """A tz-naive midnight Timestamp, or None for missing values."""
    if ts is None:
        return None
    value = pd.Timestamp(ts)
    if pd.isna(value):
        return None
    if value.tzinfo is not None:
        value = value.tz_convert("UTC").tz_localize(None)
    return value
