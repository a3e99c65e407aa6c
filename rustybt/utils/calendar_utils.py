"""zipline's ``zipline.utils.calendar_utils`` import path."""

from rustybt.calendars import ExchangeCalendar, TradingCalendar, get_calendar, get_calendar_names

__all__ = ["ExchangeCalendar", "TradingCalendar", "get_calendar", "get_calendar_names"]
