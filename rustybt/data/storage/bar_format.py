"""The bar file format shared by the Parquet bar writers and readers (daily and minute).

A bar file holds one row per (sid, timestamp) with float64 OHLCV columns,
row-sorted by (sid, timestamp), and lists every sid written in its key-value
metadata. A reader turns it, once, into five NumPy panels of shape
``(len(axis), len(sids))``: the time axis is the sessions (daily) or the
trading minutes (minute), the columns are the sorted sids. This module holds
the names and conventions both sides agree on; :mod:`.bar_writer` and
:mod:`.bar_reader` hold the two sides.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.exceptions import ParameterValidationError

__all__ = [
    "FIELDS",
    "PRICE_FIELDS",
    "SIDS_METADATA_KEY",
    "FloatArray",
    "Frequency",
    "IntArray",
    "as_sid",
    "check_field",
    "fill_value",
    "session_label",
]

Frequency = Literal["daily", "minute"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PRICE_FIELDS: Final[tuple[str, ...]] = ("open", "high", "low", "close")
FIELDS: Final[tuple[str, ...]] = (*PRICE_FIELDS, "volume")

# Parquet key-value metadata listing every sid written, so a sid whose frame
# was empty (no rows in the file) is still a column of the reader's panels.
SIDS_METADATA_KEY: Final[bytes] = b"rustybt.sids"


def as_sid(asset: Any) -> int:
    """Return the integer sid of an ``Asset`` or an int-like."""
    return int(asset)


def session_label(value: Any) -> pd.Timestamp:
    """Return ``value`` as a tz-naive midnight session label.

    Aware values keep their wall-clock date (a UTC-midnight zipline session
    label stays the same date), as :func:`rustybt.data.validation.validate_bars`
    does for daily bars.
    """
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize().as_unit("ns")


def fill_value(field: str) -> float:
    """What a panel holds where there is no bar: NaN for prices, 0 for volume."""
    return 0.0 if field == "volume" else np.nan


def check_field(field: str) -> None:
    """Raise ParameterValidationError unless ``field`` is an OHLCV column."""
    if field not in FIELDS:
        raise ParameterValidationError(
            f"unknown bar field {field!r}; expected one of {', '.join(FIELDS)}",
            context={"field": field},
        )
