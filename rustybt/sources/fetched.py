"""The data of an algorithm's ``fetch_csv`` calls, as ``data.current`` reads it each bar.

Each CSV is turned into arrays once, when it is fetched: per field and per
asset (or ``symbol=`` name), the sorted times (int64 nanoseconds, UTC) at
which rows become known, and the field's values at those times. A read at
the simulation's now is one binary search: the latest row at or before now,
never a later one. A later ``fetch_csv`` of the same field for the same asset
or name replaces the earlier one's values (zipline's rule).

Examples
--------
>>> import pandas as pd
>>> rows = pd.DataFrame({"sid": ["vix", "vix"], "close": [13.2, 14.0]},
...     index=pd.DatetimeIndex(["2024-01-02", "2024-01-03"], tz="UTC"))
>>> fetched = FetchedData()
>>> fetched.add(rows)
>>> now = pd.Timestamp("2024-01-02 21:00", tz="UTC").value
>>> fetched.name_values(["vix"], "close", now)
[13.2]
>>> fetched.name_values(["vix"], "close", pd.Timestamp("2024-01-01", tz="UTC").value)
[nan]
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.assets import Asset
from rustybt.exceptions import ParameterValidationError, UnknownFieldError

__all__ = ["FetchedData"]

# One field of one asset or name: the times rows become known, and the values.
_Series = tuple[npt.NDArray[np.int64], npt.NDArray[Any]]


class FetchedData:
    """The fetched fields of assets and names, read point in time.

    ``fields`` is the set of fetched field names; ``names`` the ``symbol=``
    names. Values are float64 for numeric columns (NaN where missing), the
    objects themselves for others (NaN before the first row).
    """

    def __init__(self) -> None:
        self._series: dict[str, dict[Hashable, _Series]] = {}
        # When each asset's first row becomes known (data.fetcher_assets).
        self._first_known: dict[Asset, int] = {}
        self.fields: frozenset[str] = frozenset()
        self.names: frozenset[str] = frozenset()

    def add(self, rows: pd.DataFrame) -> None:
        """Take one fetched CSV's rows: a ``sid`` column (Asset or name), fields, a time index."""
        times = pd.DatetimeIndex(rows.index)
        times = times.tz_localize("UTC") if times.tz is None else times.tz_convert("UTC")
        times = times.as_unit("ns")  # pandas may parse dates to seconds; the clock is in ns
        frame = rows.set_axis(times, axis=0)
        fields = [str(c) for c in frame.columns if c != "sid"]
        codes, uniques = pd.factorize(frame["sid"])
        keys: list[Hashable] = list(uniques)
        for code, part in frame[fields].groupby(codes, sort=False):
            key = keys[int(code)]  # type: ignore[call-overload]
            # Rows of one key at one time: the last non-missing value of each field.
            merged = part.groupby(level=0).last()
            known = pd.DatetimeIndex(merged.index).asi8
            for field in fields:
                self._series.setdefault(field, {})[key] = (known, _values(merged[field]))
            if isinstance(key, Asset):
                first = int(known[0])
                self._first_known[key] = min(first, self._first_known.get(key, first))
            else:
                self.names |= {str(key)}
        self.fields |= set(fields)

    def asset_values(self, assets: Iterable[Asset], field: str, now: int) -> list[Any]:
        """``field`` of each asset as of ``now`` (UTC ns); NaN for assets without its rows."""
        by_key = self._series.get(field, {})
        return [_as_of(by_key.get(asset), now) for asset in assets]

    def name_values(self, names: Iterable[str], field: str, now: int) -> list[Any]:
        """``field`` of each ``symbol=`` name as of ``now`` (UTC ns).

        Raises
        ------
        UnknownFieldError
            A name has no such field.
        """
        by_key = self._series.get(field, {})
        out = []
        for name in names:
            series = by_key.get(name)
            if series is None:
                raise UnknownFieldError(
                    f"current() got field {field!r} for fetched data {name!r}, which has "
                    f"fields {', '.join(self._fields_of(name))}",
                    context={"name": name, "field": field},
                )
            out.append(_as_of(series, now))
        return out

    def check_names(self, names: list[Any]) -> None:
        """Refuse anything in ``names`` that is not a ``symbol=`` name of a fetch_csv call."""
        for name in names:
            if isinstance(name, Asset):
                raise ParameterValidationError(
                    f"a list of fetched names and Assets ({name!r}): ask for each kind "
                    "in its own call",
                    context={"name": repr(name)},
                )
            if name not in self.names:
                raise ParameterValidationError(
                    f"no fetched data named {name!r}: the fetch_csv names are "
                    f"{', '.join(repr(n) for n in sorted(self.names)) or '(none)'}; "
                    "look assets up with symbol() or sid()",
                    context={"name": repr(name), "names": sorted(self.names)},
                )

    def assets_as_of(self, now: int) -> list[Asset]:
        """The assets with a fetched row at or before ``now`` (UTC ns), by sid."""
        seen = [asset for asset, first in self._first_known.items() if first <= now]
        return sorted(seen, key=lambda asset: asset.sid)

    def _fields_of(self, key: Hashable) -> list[str]:
        return sorted(f for f, by_key in self._series.items() if key in by_key)


def _values(column: pd.Series) -> npt.NDArray[Any]:
    """A column as float64 if it is numeric (or boolean), else as objects."""
    if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    return column.to_numpy(dtype=object)


def _as_of(series: _Series | None, now: int) -> Any:
    """The value of the latest row known at ``now``; NaN if there is none yet."""
    if series is None:
        return np.nan
    known, values = series
    position = int(known.searchsorted(now, side="right")) - 1
    if position < 0:
        return np.nan
    value = values[position]
    return value.item() if isinstance(value, np.generic) else value  # a Python float
