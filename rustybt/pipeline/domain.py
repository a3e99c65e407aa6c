"""Domains: the calendar a pipeline's dates come from, and the assets it covers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd

from rustybt.calendars import get_calendar

__all__ = ["US_EQUITIES", "Domain", "EquityCalendarDomain"]

#: The country code of assets whose exchange did not say (csvdir bundles).
UNKNOWN_COUNTRY = "??"


@dataclass(frozen=True)
class Domain:
    """A calendar's sessions and the assets of one country (or of every country).

    Parameters
    ----------
    calendar_name
        The exchange calendar whose sessions are the pipeline's dates.
    country_code
        Keep assets of this country, and those whose country is unknown
        (``"??"``, as csvdir bundles write it); ``None``: every asset.
    """

    calendar_name: str
    country_code: str | None = None

    @cached_property
    def calendar(self) -> Any:
        return get_calendar(self.calendar_name)

    def sessions(self) -> pd.DatetimeIndex:
        """Every session of the calendar."""
        return pd.DatetimeIndex(self.calendar.sessions)

    def covers(self, country_code: str) -> bool:
        """Whether an asset of ``country_code`` belongs to the domain."""
        return self.country_code is None or country_code in (self.country_code, UNKNOWN_COUNTRY)


def EquityCalendarDomain(country_code: str, calendar_name: str) -> Domain:
    """zipline's name for a domain of one country's equities on one calendar."""
    return Domain(calendar_name=calendar_name, country_code=country_code)


#: US equities on the NYSE calendar.
US_EQUITIES = Domain("XNYS", "US")
