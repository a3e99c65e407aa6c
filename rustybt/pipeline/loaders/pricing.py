"""Daily pricing for pipelines, read from a DataPortal's bars already in memory."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.data.portal import DataPortal
from rustybt.pipeline.loaders.base import AdjustedColumn

__all__ = ["EquityPricingLoader"]


class EquityPricingLoader:
    """Serves :class:`~rustybt.pipeline.data.EquityPricing` columns from a portal.

    The row for a date is the bar of the session before it (what is known at
    the start of the date), seen from that date: adjusted for every split,
    merger and dividend effective by it, and for none effective later.

    Parameters
    ----------
    portal
        The portal whose daily bars and adjustments are read.
    """

    def __init__(self, portal: DataPortal) -> None:
        self._portal = portal
        self._sessions_ns = portal.sessions.as_unit("ns").asi8

    def load_adjusted_array(
        self,
        domain: Any,
        columns: list[Any],
        dates: pd.DatetimeIndex,
        sids: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> dict[Any, AdjustedColumn]:
        sessions = domain.sessions()
        position = sessions.get_indexer(dates)
        previous = sessions[np.maximum(position - 1, 0)]
        bar_sessions = self._master_sessions(previous)
        bar_sessions[position < 1] = -1
        view_sessions = (
            np.searchsorted(self._sessions_ns, dates.as_unit("ns").asi8, side="right") - 1
        )
        out: dict[Any, AdjustedColumn] = {}
        for column in columns:
            values, events = self._portal.daily_bars(column.name, sids, bar_sessions, view_sessions)
            out[column] = AdjustedColumn(values, events if len(events[0]) else None)
        return out

    def _master_sessions(self, labels: pd.DatetimeIndex) -> npt.NDArray[np.int64]:
        """The portal's session index of each label, -1 where the portal has no such session."""
        ns = labels.as_unit("ns").asi8
        index = np.searchsorted(self._sessions_ns, ns)
        inside = index < len(self._sessions_ns)
        found = np.zeros(len(ns), dtype=bool)
        found[inside] = self._sessions_ns[index[inside]] == ns[inside]
        return np.where(found, index, -1).astype(np.int64)
