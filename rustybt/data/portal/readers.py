"""The readers the portal consumes, and one reader's panels in portal columns.

A bar reader holds (rows x reader columns) float64 panels; the portal
addresses assets by *portal columns* (every sid it knows, sorted, plus one
column that reads as no data). :class:`Bars` maps one onto the other and
places each reader row on the portal's session axis.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.data.portal.fields import NAT, FloatArray, IntArray, empty_value
from rustybt.data.portal.frames import WindowLabels

__all__ = ["AdjustmentReader", "AssetLookup", "BarReader", "Bars", "MinuteBarReader", "usable"]

# Bars.column_plan: reader columns, their slice if consecutive, the mask of empty ones.
ColumnPlan = tuple[IntArray, slice | None, npt.NDArray[np.bool_] | None]
# How many column arrays' plans are kept: a bar reads the universe's and all columns'.
_PLANS_KEPT: Final = 4


class BarReader(Protocol):
    """What the portal needs from a daily bar reader (see STORAGE_CONTRACT)."""

    @property
    def sessions(self) -> pd.DatetimeIndex: ...

    @property
    def sids(self) -> npt.NDArray[np.int64]: ...

    @property
    def sid_to_col(self) -> dict[int, int]: ...

    def panel(self, field: str) -> FloatArray: ...

    def last_traded_index(self) -> IntArray: ...


class MinuteBarReader(BarReader, Protocol):
    """A bar reader with a minute axis over some sessions."""

    @property
    def minutes(self) -> pd.DatetimeIndex: ...

    @property
    def minute_session(self) -> IntArray: ...

    @property
    def session_bounds(self) -> IntArray: ...


class AdjustmentReader(Protocol):
    """What the portal needs from the adjustments database."""

    def load_adjustments_frame(self) -> pd.DataFrame: ...


class AssetLookup(Protocol):
    """What the portal needs from an asset finder."""

    @property
    def sids(self) -> Iterable[int]: ...

    def retrieve_all(self, sids: Iterable[int], default_none: bool = False) -> list[Any]: ...

    def retrieve_asset(self, sid: int, default_none: bool = False) -> Any: ...


def usable(reader: Any) -> Any:
    """The reader, or None when it holds no sessions or no sids."""
    if reader is None or not len(reader.sessions) or not len(reader.sids):
        return None
    return reader


class Bars:
    """A reader's panels with portal-column and master-session addressing.

    Parameters
    ----------
    reader
        The bar reader.
    portal_sids
        The portal's sorted sids; portal column ``len(portal_sids)`` is the
        "no data" column every unknown sid maps to.
    labels
        The label of each reader row (sessions or UTC minutes).
    row_session
        The master session index of each reader row.
    """

    def __init__(
        self,
        reader: BarReader,
        portal_sids: IntArray,
        labels: pd.DatetimeIndex,
        row_session: IntArray,
    ) -> None:
        self.reader = reader
        self.labels = labels
        self.labels_ns: IntArray = labels.as_unit("ns").asi8
        self.window_labels = WindowLabels(labels)
        self.row_session = row_session
        self.n_rows = len(labels)
        colmap = np.full(len(portal_sids) + 1, -1, dtype=np.int64)
        reader_sids = np.fromiter(reader.sid_to_col.keys(), dtype=np.int64)
        reader_cols = np.fromiter(reader.sid_to_col.values(), dtype=np.int64)
        colmap[np.searchsorted(portal_sids, reader_sids)] = reader_cols
        self.colmap = colmap
        self._panels: dict[str, FloatArray] = {}
        self._close_index: npt.NDArray[np.signedinteger[Any]] | None = None
        # id(cols) -> (cols, plan): the arrays are kept, so their ids stay their own.
        self._plans: dict[int, tuple[IntArray, ColumnPlan]] = {}

    def column_plan(self, cols: IntArray) -> ColumnPlan:
        """How to read portal columns ``cols`` from the panels (kept for the last few ``cols``).

        ``(reader columns, their slice when they are consecutive, the mask of
        columns without data or None)``. A strategy asks for the same
        universe every bar, through the portal's cached column array, and the
        spot rows read every column, through another.
        """
        kept = self._plans.get(id(cols))
        if kept is not None and kept[0] is cols:
            return kept[1]
        rc = self.colmap[cols]
        missing = rc < 0
        mask = missing if missing.any() else None
        consecutive = None
        n = len(rc)
        if (
            mask is None
            and n
            and int(rc[-1]) - int(rc[0]) == n - 1
            and np.array_equal(rc, np.arange(rc[0], rc[0] + n))
        ):
            consecutive = slice(int(rc[0]), int(rc[0]) + n)
        plan = (rc, consecutive, mask)
        if len(self._plans) >= _PLANS_KEPT:
            self._plans.clear()
        self._plans[id(cols)] = (cols, plan)
        return plan

    def raw_block(self, field: str, cols: IntArray, a: int, b: int) -> FloatArray:
        """Unadjusted rows ``a:b`` of ``field`` for portal columns ``cols`` (a new array).

        Columns without data read as :func:`empty_value`.
        """
        rc, consecutive, missing = self.column_plan(cols)
        if consecutive is not None:  # a slice's copy, not a gather
            return self.panel(field)[a:b, consecutive].copy()
        values = self.panel(field)[a:b, rc]
        if missing is not None:
            values[:, missing] = empty_value(field)
        return values

    def panel(self, field: str) -> FloatArray:
        """The reader's (rows x reader columns) panel of an OHLCV field."""
        try:
            return self._panels[field]
        except KeyError:
            panel = self._panels[field] = self.reader.panel(field)
            return panel

    def close_index(self) -> npt.NDArray[np.signedinteger[Any]]:
        """Per row and column, the last row at or before it with a close; -1 if none.

        ``price`` forward-fills from bars that have a close, whatever their
        volume (index data often has none), so this is built from the close
        panel rather than taken from the reader's volume-based index.
        """
        if self._close_index is None:
            close = self.panel("close")
            dtype = np.int32 if close.shape[0] < 2**31 - 1 else np.int64
            rows = np.arange(close.shape[0], dtype=dtype)[:, None]
            filled = np.where(np.isnan(close), dtype(-1), rows)
            self._close_index = np.maximum.accumulate(filled, axis=0)
        return self._close_index

    def last_traded_ns(self, cols: IntArray, row: int) -> IntArray:
        """UTC nanoseconds (daily: the session label) of each column's last bar with
        volume at or before ``row``; :data:`NAT` where there is none."""
        if row < 0:
            return np.full(len(cols), NAT, dtype=np.int64)
        rc = self.colmap[cols]
        index = self.reader.last_traded_index()[row, rc]
        out = np.where(index >= 0, self.labels_ns[np.maximum(index, 0)], NAT)
        out[rc < 0] = NAT
        return out.astype(np.int64)
