"""Splits, mergers and dividends as cumulative multipliers, point in time.

The adjustments are folded, once per portal, into a cumulative multiplier
panel ``C`` (sessions x portal columns): ``C[i, a]`` is the product of the
ratios of asset ``a``'s adjustments whose effective session is after ``i``.
A price from session ``i`` seen from session ``t`` is ``raw * C[i] / C[t]``:
exactly the adjustments effective in ``(i, t]``. Volumes use a second panel
built from splits only, inverted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.data.portal.fields import FloatArray, IntArray
from rustybt.data.portal.readers import AdjustmentReader

__all__ = ["Adjustments"]


class Adjustments:
    """The multiplier panels of one portal.

    Parameters
    ----------
    reader
        The adjustments database; ``None`` means no adjustments.
    sessions_ns
        The master sessions (UTC ns of their labels).
    sids
        The portal's sorted sids (portal column ``len(sids)`` has no data).
    """

    def __init__(self, reader: AdjustmentReader | None, sessions_ns: IntArray, sids: IntArray):
        self._price_mult: FloatArray | None = None
        self._volume_mult: FloatArray | None = None
        self._splits_by_session: dict[int, list[tuple[int, float]]] = {}
        # (effective session, portal column, ratio, is a split), in the order
        # they apply: by session, then splits before mergers and dividends.
        self._events: tuple[IntArray, IntArray, FloatArray, npt.NDArray[np.bool_]] | None = None
        if reader is None or not len(sessions_ns):
            return
        frame = reader.load_adjustments_frame()
        if frame is None or not len(frame):
            return
        frame = frame.loc[np.isin(frame["sid"].to_numpy(dtype=np.int64), sids)]
        if not len(frame):
            return
        frame_sids = frame["sid"].to_numpy(dtype=np.int64)
        cols = np.searchsorted(sids, frame_sids)
        effective = pd.DatetimeIndex(frame["effective_date"]).as_unit("ns").asi8
        eff_index = np.searchsorted(sessions_ns, effective, side="left")
        ratios = frame["ratio"].to_numpy(dtype=np.float64)
        is_split = (frame["kind"] == "split").to_numpy()
        shape = (len(sessions_ns), len(sids) + 1)
        self._price_mult = _multiplier_panel(shape, eff_index, cols, ratios)
        self._volume_mult = _multiplier_panel(
            shape, eff_index[is_split], cols[is_split], ratios[is_split]
        )
        order = np.lexsort((~is_split, eff_index))
        self._events = (eff_index[order], cols[order], ratios[order], is_split[order])
        for idx, sid, ratio in zip(
            eff_index[is_split], frame_sids[is_split], ratios[is_split], strict=True
        ):
            self._splits_by_session.setdefault(int(idx), []).append((int(sid), float(ratio)))

    @property
    def any(self) -> bool:
        """Whether there is any adjustment at all."""
        return self._price_mult is not None

    def factor(
        self, field: str, sessions: Any, cols: Any, perspective: int | IntArray
    ) -> FloatArray | None:
        """Multipliers taking ``field`` values of ``sessions`` to session ``perspective``.

        ``sessions``, ``cols`` (and ``perspective``, one per cell) are index
        arrays broadcast against each other (a column of sessions and a row
        of columns give a grid; equal-length vectors give one factor per
        cell). ``None``: no
        adjustments of that kind, every factor is 1.
        """
        mult = self._multipliers(field)
        if mult is None:
            return None
        if field == "volume":
            return mult[perspective, cols] / mult[sessions, cols]
        return mult[sessions, cols] / mult[perspective, cols]

    def _multipliers(self, field: str) -> FloatArray | None:
        """The (sessions x columns) multiplier panel of ``field``'s kind; None: none."""
        return self._volume_mult if field == "volume" else self._price_mult

    def events(
        self, field: str, cols: IntArray, first: int, last: int
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """The adjustments of ``field`` for columns ``cols`` effective in sessions ``first..last``.

        Returns ``(session, position in cols, multiplier)`` in the order they
        apply (by session; on one session, a split before a merger or
        dividend). A price multiplier is the ratio; a volume one is
        ``1 / ratio`` of a split (other kinds leave volumes alone).
        """
        empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
        if self._events is None:
            return empty
        session, col, ratio, is_split = self._events
        position = np.full(int(max(col.max(), cols.max(initial=0))) + 1, -1, dtype=np.int64)
        position[cols] = np.arange(len(cols))
        keep = (session >= first) & (session <= last) & (position[col] >= 0)
        if field == "volume":
            keep &= is_split
        if not keep.any():
            return empty
        multiplier = 1.0 / ratio[keep] if field == "volume" else ratio[keep]
        return session[keep], position[col[keep]], multiplier

    def window_factor(
        self, field: str, row_sessions: IntArray, cols: IntArray, perspective: int
    ) -> FloatArray | None:
        """:meth:`factor` of time-ordered rows of ``row_sessions``, one row each.

        The rows' sessions span ``s0..s1``: the factors are computed for that
        short range of sessions and, when several rows share a session
        (minutes), spread by a row gather. ``None`` when every factor is 1 (no
        adjustments, or rows all of the perspective session).
        """
        # Without adjustments of the kind (most windows), no session range to build.
        if not len(row_sessions) or self._multipliers(field) is None:
            return None
        s0, s1 = int(row_sessions[0]), int(row_sessions[-1])
        if s0 == s1 == perspective:
            return None
        per_session = self.factor(field, np.arange(s0, s1 + 1)[:, None], cols, perspective)
        if per_session is None or s1 - s0 + 1 == len(row_sessions):
            return per_session
        return per_session[row_sessions - s0]

    def between(self, field: str, cols: IntArray, start: int, end: int) -> list[float]:
        """Per column, the product of ratios effective in sessions ``(start, end]``."""
        factor = self.factor(field, np.array([start])[:, None], cols, end) if end > start else None
        return [1.0] * len(cols) if factor is None else factor[0].tolist()

    @property
    def any_splits(self) -> bool:
        """Whether any split is effective in any session (most bundles have none)."""
        return bool(self._splits_by_session)

    def splits_on(self, session: int) -> list[tuple[int, float]]:
        """``(sid, ratio)`` of every split effective on master session ``session``."""
        return self._splits_by_session.get(session, [])


def _multiplier_panel(
    shape: tuple[int, int], eff_index: IntArray, cols: IntArray, ratios: FloatArray
) -> FloatArray:
    """``C[i, a]``: product of asset ``a``'s ratios effective after session ``i``.

    An adjustment effective at session ``e`` touches rows ``i < e``, so it
    is recorded at row ``e - 1`` and a reverse cumulative product spreads
    it to every earlier row. Adjustments effective before the first
    session touch nothing; those after the last touch every row of ``C``
    alike and so cancel in every ratio (they are dropped).
    """
    n = shape[0]
    factors = np.ones(shape, dtype=np.float64)
    inside = (eff_index >= 1) & (eff_index <= n - 1)
    np.multiply.at(factors, (eff_index[inside] - 1, cols[inside]), ratios[inside])
    # Accumulate from the last row up, in place: C stays C-contiguous.
    backwards = factors[::-1]
    np.multiply.accumulate(backwards, axis=0, out=backwards)
    return factors
