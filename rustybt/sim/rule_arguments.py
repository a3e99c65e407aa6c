"""Validation of the arguments of the scheduling rules: day offsets and time offsets."""

from __future__ import annotations

import datetime
import warnings
from numbers import Real
from typing import Any, Final

import numpy as np

from rustybt.exceptions import ParameterValidationError

__all__ = ["MAX_MONTH_RANGE", "MAX_WEEK_RANGE", "MIN_OFFSET", "build_offset", "check_days_offset"]

# A month has at most 23 trading sessions and a week 5 (zipline's bounds, kept
# even for 24/7 calendars so that scheduling code ports unchanged).
MAX_MONTH_RANGE: Final = 23
MAX_WEEK_RANGE: Final = 5

MIN_OFFSET: Final = datetime.timedelta(minutes=1)
_MAX_OFFSET: Final = datetime.timedelta(hours=12)


def check_days_offset(value: Any, limit: int, where: str) -> int:
    """Validate a ``days_offset``: an int in ``[0, limit)``; integral floats pass with a warning.

    Parameters
    ----------
    value
        The offset given.
    limit
        One past the largest allowed offset.
    where
        The call to name in the message, e.g. ``"date_rules.week_start"``.

    Raises
    ------
    ParameterValidationError
        Naming ``days_offset``, the call and the allowed range.

    Examples
    --------
    >>> check_days_offset(2, MAX_WEEK_RANGE, "date_rules.week_start")
    2
    >>> check_days_offset(5, MAX_WEEK_RANGE, "date_rules.week_start")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rustybt.exceptions.ParameterValidationError: ...: days_offset must be between 0 and 4 inclusive
    """
    context = {"argument": "days_offset", "value": value, "rule": where}
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise ParameterValidationError(
            f"{where}(days_offset={value!r}): days_offset must be an int", context=context
        )
    if not isinstance(value, (int, np.integer)):
        if not float(value).is_integer():
            raise ParameterValidationError(
                f"{where}(days_offset={value!r}): days_offset must be a whole number of days",
                context=context,
            )
        warnings.warn(
            f"{where} expected an int for days_offset, got {value!r}; using {int(value)}",
            UserWarning,
            stacklevel=3,
        )
    n = int(value)
    if not 0 <= n < limit:
        raise ParameterValidationError(
            f"{where}(days_offset={value!r}): days_offset must be between 0 and {limit - 1} "
            "inclusive",
            context=context,
        )
    return n


def build_offset(
    offset: Any,
    hours: Any,
    minutes: Any,
    where: str,
    default: datetime.timedelta = MIN_OFFSET,
) -> datetime.timedelta:
    """Validate a time rule's offset: a timedelta *or* hours/minutes, 1 minute to 12 hours.

    Whole minutes only: the clock ticks on minutes, so an offset with seconds
    would never fire (zipline accepts it and then never runs the function).

    Raises
    ------
    ParameterValidationError
        Naming the argument at fault and the call.

    Examples
    --------
    >>> build_offset(None, 1, 30, "time_rules.market_open")
    datetime.timedelta(seconds=5400)
    >>> build_offset(None, None, None, "time_rules.market_open")
    datetime.timedelta(seconds=60)
    >>> build_offset(30, None, None, "time_rules.market_open")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    rustybt.exceptions.ParameterValidationError: ...; for a number of minutes pass minutes=30
    """
    if offset is None:
        if hours is None and minutes is None:
            return default
        for name, v in (("hours", hours), ("minutes", minutes)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, Real)):
                raise ParameterValidationError(
                    f"{where}({name}={v!r}): {name} must be a number",
                    context={"argument": name, "value": v, "rule": where},
                )
        td = datetime.timedelta(hours=float(hours or 0), minutes=float(minutes or 0))
        shown = ", ".join(
            f"{k}={v!r}" for k, v in (("hours", hours), ("minutes", minutes)) if v is not None
        )
        argument = "hours" if minutes is None else "minutes" if hours is None else "hours/minutes"
    elif hours is not None or minutes is not None:
        raise ParameterValidationError(
            f"{where}: pass either offset or hours/minutes, not both",
            context={"argument": "offset", "value": offset, "rule": where},
        )
    elif isinstance(offset, datetime.timedelta):
        td, shown, argument = offset, f"offset={offset!r}", "offset"
    else:
        hint = f"; for a number of minutes pass minutes={offset!r}"
        if not isinstance(offset, Real):
            hint = ""
        raise ParameterValidationError(
            f"{where}(offset={offset!r}): offset must be a datetime.timedelta{hint}",
            context={"argument": "offset", "value": offset, "rule": where},
        )
    if not MIN_OFFSET <= td <= _MAX_OFFSET:
        raise ParameterValidationError(
            f"{where}({shown}): the offset must be between 1 minute and 12 hours inclusive, "
            f"got {td}",
            context={"argument": argument, "value": td, "rule": where},
        )
    if td % MIN_OFFSET:
        raise ParameterValidationError(
            f"{where}({shown}): the offset must be a whole number of minutes, got {td}",
            context={"argument": argument, "value": td, "rule": where},
        )
    return datetime.timedelta(minutes=td // MIN_OFFSET)
