"""The fields and frequencies the portal serves, and the checks of its arguments."""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from rustybt.exceptions import ParameterValidationError, UnknownFieldError

__all__ = [
    "BASE_FIELDS",
    "DATA_FREQUENCIES",
    "HISTORY_FREQUENCIES",
    "NAT",
    "OHLCVP_FIELDS",
    "OHLCV_FIELDS",
    "FloatArray",
    "IntArray",
    "check_field",
    "check_window",
    "empty_value",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

OHLCV_FIELDS: Final = frozenset({"open", "high", "low", "close", "volume"})
OHLCVP_FIELDS: Final = OHLCV_FIELDS | {"price"}
BASE_FIELDS: Final = OHLCVP_FIELDS | {"last_traded"}
HISTORY_FREQUENCIES: Final = frozenset({"1d", "1m"})
DATA_FREQUENCIES: Final = frozenset({"daily", "minute"})

#: The int64 of NaT: what last-traded arrays hold for "never traded".
NAT: Final = int(np.iinfo(np.int64).min)


def empty_value(field: str) -> float:
    """The value of ``field`` where there is no bar: 0 for volume, NaN for prices."""
    return 0.0 if field == "volume" else math.nan


def check_field(field: Any, allowed: frozenset[str]) -> None:
    """Raise :class:`UnknownFieldError` unless ``field`` is one of ``allowed``."""
    if not isinstance(field, str) or field not in allowed:
        raise UnknownFieldError(
            f"unknown field {field!r}; valid fields are {', '.join(sorted(allowed))}",
            context={"field": repr(field), "valid": sorted(allowed)},
        )


def check_window(bar_count: Any, frequency: Any) -> None:
    """Raise :class:`ParameterValidationError` unless ``bar_count >= 1`` and ``frequency``
    is ``"1d"`` or ``"1m"``."""
    if isinstance(bar_count, bool) or not isinstance(bar_count, int | np.integer) or bar_count < 1:
        raise ParameterValidationError(
            f"bar_count must be an integer >= 1, got {bar_count!r}",
            context={"bar_count": repr(bar_count)},
        )
    if frequency not in HISTORY_FREQUENCIES:
        raise ParameterValidationError(
            f"frequency must be '1d' or '1m', got {frequency!r}",
            context={"frequency": repr(frequency)},
        )
