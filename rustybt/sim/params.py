"""SimulationParameters: the span, capital and frequency of one simulation."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, getcontext
from typing import Any

import pandas as pd

from rustybt.calendars import ExchangeCalendar, get_calendar
from rustybt.exceptions import ParameterValidationError
from rustybt.finance.precision import LARGEST_CASH, MAX_CASH_PLACES


@dataclass(frozen=True)
class SimulationParameters:
    """What to simulate: sessions, starting capital, data and emission frequency.

    Parameters
    ----------
    start_session, end_session
        First and last session (dates; snapped inward to the calendar's sessions).
    trading_calendar
        The calendar whose sessions the simulation walks (default XNYS).
    capital_base
        Starting cash.
    data_frequency
        ``"daily"`` or ``"minute"``.
    emission_rate
        ``"daily"`` (one performance row per session) or ``"minute"``.
    arena
        ``"backtest"`` or ``"live"``; reported by ``get_environment("arena")``.

    Examples
    --------
    >>> p = SimulationParameters("2024-01-02", "2024-01-31", capital_base=10_000)
    >>> len(p.sessions), p.first_session.date(), p.capital_base
    (21, datetime.date(2024, 1, 2), Decimal('10000'))
    """

    start_session: pd.Timestamp | str
    end_session: pd.Timestamp | str
    trading_calendar: ExchangeCalendar | None = None
    capital_base: Decimal | float | int | str = Decimal(100_000)
    data_frequency: str = "daily"
    emission_rate: str = "daily"
    arena: str = "backtest"
    sessions: pd.DatetimeIndex = field(init=False, repr=False)

    def __post_init__(self) -> None:
        cal = self.trading_calendar or get_calendar("XNYS")
        start, end = session_day(self.start_session), session_day(self.end_session)
        for name, value in (
            ("data_frequency", self.data_frequency),
            ("emission_rate", self.emission_rate),
        ):
            if value not in ("daily", "minute"):
                raise ParameterValidationError(
                    f"{name} must be 'daily' or 'minute', got {value!r}", context={name: value}
                )
        span = {"start": str(start.date()), "end": str(end.date())}
        if end < start:
            raise ParameterValidationError(
                f"end {end.date()} is before start {start.date()}", context=span
            )
        if end > cal.last_session:
            raise ParameterValidationError(
                f"end {end.date()} is after the last session of calendar {cal.name} "
                f"({cal.last_session.date()})",
                context=span,
            )
        # A start that is not a session rolls forward to the next one, as in zipline;
        # one before the calendar's first session rolls to that session.
        sessions = cal.sessions_in_range(max(start, cal.first_session), end)
        if len(sessions) == 0:
            raise ParameterValidationError(
                f"no {cal.name} session between {start.date()} and {end.date()} "
                f"(the calendar runs {cal.first_session.date()}..{cal.last_session.date()})",
                context=span,
            )
        capital = _capital(self.capital_base)
        object.__setattr__(self, "trading_calendar", cal)
        object.__setattr__(self, "capital_base", capital)
        object.__setattr__(self, "start_session", sessions[0])
        object.__setattr__(self, "end_session", sessions[-1])
        object.__setattr__(self, "sessions", sessions)

    @property
    def calendar(self) -> ExchangeCalendar:
        """The trading calendar (never None after construction)."""
        assert self.trading_calendar is not None
        return self.trading_calendar

    @property
    def first_session(self) -> pd.Timestamp:
        """The first simulated session."""
        return pd.Timestamp(self.sessions[0])

    @property
    def last_session(self) -> pd.Timestamp:
        """The last simulated session."""
        return pd.Timestamp(self.sessions[-1])

    @property
    def first_open(self) -> pd.Timestamp:
        """The first minute of the simulation (UTC)."""
        return pd.Timestamp(self.calendar.session_first_minute(self.first_session))

    @property
    def last_close(self) -> pd.Timestamp:
        """The last minute of the simulation (UTC)."""
        return pd.Timestamp(self.calendar.session_last_minute(self.last_session))

    def to_dict(self) -> dict[str, Any]:
        """The parameters as plain values."""
        return {
            "start_session": self.first_session,
            "end_session": self.last_session,
            "trading_calendar": self.calendar.name,
            "capital_base": self.capital_base,
            "data_frequency": self.data_frequency,
            "emission_rate": self.emission_rate,
            "arena": self.arena,
        }


def _capital(value: Any) -> Decimal:
    """``capital_base`` as Decimal: positive, finite, and small enough for exact cash.

    Raises
    ------
    ParameterValidationError
        Naming ``capital_base`` and the largest amount the ledger can hold.
    """
    try:
        capital = Decimal(str(value))
    except InvalidOperation:
        capital = Decimal("NaN")
    if not capital.is_finite() or capital <= 0:
        raise ParameterValidationError(
            f"capital_base must be a positive number, got {value!r}",
            context={"capital_base": str(value)},
        )
    if capital >= LARGEST_CASH:
        raise ParameterValidationError(
            f"capital_base {value!r} is too large: exact Decimal cash must stay below "
            f"{LARGEST_CASH:.0E} (the {getcontext().prec}-digit Decimal context with "
            f"{MAX_CASH_PLACES} decimal places)",
            context={"capital_base": str(value), "largest": str(LARGEST_CASH)},
        )
    return capital


def session_day(value: Any) -> pd.Timestamp:
    """The tz-naive midnight of ``value``'s date (of its UTC date if tz-aware)."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()
