"""History windows: trailing blocks of spot values, adjusted as seen from one session.

A daily window in a daily simulation is a block of daily rows. In a minute
simulation its last row is the current session so far, rolled up from its
minutes (first open, highest high, lowest low, last close, summed volume);
a portal without daily bars rolls up every session. A ``1m`` window is a
block of minute rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rustybt.data.portal.adjustments import Adjustments
from rustybt.data.portal.axes import Axes
from rustybt.data.portal.fields import (
    OHLCVP_FIELDS,
    FloatArray,
    IntArray,
    check_field,
    check_window,
    empty_value,
)
from rustybt.data.portal.readers import Bars
from rustybt.data.portal.spot import Spot

__all__ = ["History"]


class History:
    """The history windows of one portal.

    Parameters
    ----------
    axes, adjustments, spot
        The portal's axes, multiplier panels and spot rule.
    """

    def __init__(self, axes: Axes, adjustments: Adjustments, spot: Spot) -> None:
        self._axes = axes
        self._adjustments = adjustments
        self._spot = spot

    def array(
        self,
        cols: IntArray,
        field: str,
        bar_count: int,
        end_index: int,
        frequency: str,
        data_frequency: str = "daily",
        perspective: int | None = None,
        ffill: bool = True,
    ) -> FloatArray:
        """A (bar_count x len(cols)) adjusted history window (``DataPortal.history_array``)."""
        check_field(field, OHLCVP_FIELDS)
        check_window(bar_count, frequency)
        if frequency == "1m":
            return self._minute_window(cols, field, bar_count, end_index, perspective, ffill)
        if data_frequency == "daily":
            persp = end_index if perspective is None else perspective
            return self._daily_window(
                cols, field, end_index - bar_count + 1, end_index, persp, ffill
            )
        return self._daily_window_in_minute_mode(
            cols, field, bar_count, end_index, perspective, ffill
        )

    def index(
        self, bar_count: int, end_index: int, frequency: str, data_frequency: str = "daily"
    ) -> pd.DatetimeIndex:
        """Labels of the rows :meth:`array` returns (sessions or UTC minutes)."""
        axes = self._axes
        if frequency == "1m":
            return axes.minute_bars().window_labels(end_index - bar_count + 1, end_index + 1)
        if data_frequency == "minute":
            end_index = int(axes.minute_bars().row_session[end_index])
        return axes.window_sessions(end_index - bar_count + 1, end_index + 1)

    # --- blocks -------------------------------------------------------------------

    def _block(
        self, bars: Bars, field: str, cols: IntArray, a: int, b: int, persp: int, ffill: bool
    ) -> FloatArray:
        """Rows ``a:b`` of one reader by the spot rule; only prices are blanked outside
        the assets' lives (zipline's windows keep the bars' other fields)."""
        price = field == "price" and ffill
        return self._spot.values(bars, field, cols, a, b, persp, ffill, mask_life=price)

    def _daily_window(
        self, cols: IntArray, field: str, lo: int, hi: int, perspective: int, ffill: bool
    ) -> FloatArray:
        """Daily rows for master sessions ``lo..hi`` from the daily reader."""
        axes = self._axes
        if lo < axes.first_day_index:
            raise axes.starts_before_data(lo, hi - lo + 1)
        daily = axes.daily
        n = hi - lo + 1
        if daily is None:
            return self._daily_rows_from_minutes(cols, field, lo, hi, perspective, ffill)
        offset = int(daily.row_session[0]) if daily.n_rows else 0
        a, b = lo - offset, hi - offset + 1
        if a >= 0 and b <= daily.n_rows:
            return self._block(daily, field, cols, a, b, perspective, ffill)
        # The window runs past the daily data at one end: pad with empty rows.
        out = np.full((n, len(cols)), empty_value(field))
        va, vb = max(a, 0), min(b, daily.n_rows)
        if va < vb:
            out[va - a : vb - a] = self._block(daily, field, cols, va, vb, perspective, ffill)
        return out

    def _daily_window_in_minute_mode(
        self,
        cols: IntArray,
        field: str,
        bar_count: int,
        end_minute: int,
        perspective: int | None,
        ffill: bool,
    ) -> FloatArray:
        """Full sessions from daily bars, then today aggregated from its minutes."""
        axes = self._axes
        minute = axes.minute_bars()
        if end_minute < 0:
            raise axes.starts_before_data(-bar_count, bar_count)
        today = int(minute.row_session[end_minute])
        persp = today if perspective is None else perspective
        out = np.empty((bar_count, len(cols)))
        if bar_count > 1:
            out[:-1] = self._daily_window(
                cols, field, today - bar_count + 1, today - 1, persp, ffill
            )
        elif today < axes.first_day_index:
            raise axes.starts_before_data(today, 1)
        out[-1] = self._partial_session(cols, field, end_minute, persp, ffill)
        return out

    def _partial_session(
        self, cols: IntArray, field: str, end_minute: int, perspective: int, ffill: bool
    ) -> FloatArray:
        """Today's bar so far: first open, max high, min low, last close, summed volume."""
        axes = self._axes
        minute = axes.minute_bars()
        session = int(minute.row_session[end_minute])
        first = int(axes.minute_bounds[session - axes.minute_offset, 0])
        if field == "price" and ffill:
            values = self._spot.values(
                minute, "price", cols, end_minute, end_minute + 1, perspective
            )[0]
            return self._price_from_daily_before(cols, values, session, perspective)
        source = "close" if field == "price" else field
        values = _aggregate(minute.raw_block(source, cols, first, end_minute + 1), source)
        factor = self._adjustments.window_factor(field, np.array([session]), cols, perspective)
        if factor is not None:
            values *= factor[0]
        return values

    def _price_from_daily_before(
        self, cols: IntArray, values: FloatArray, session: int, perspective: int
    ) -> FloatArray:
        """Fill prices the minute bars cannot give with the last daily price.

        When minute data starts later than daily data, the minute axis may
        not know an asset's last trade; zipline forward-fills today's row
        from the previous daily row, and so does this.
        """
        missing = np.isnan(values)
        daily = self._axes.daily
        if not missing.any() or daily is None or not daily.n_rows:
            return values
        alive = self._axes.alive_mask(cols, session)
        row = session - 1 - int(daily.row_session[0])
        if row < 0 or row >= daily.n_rows:
            return values
        previous = self._spot.values(
            daily, "price", cols, row, row + 1, perspective, mask_life=False
        )[0]
        fill = missing & alive
        values[fill] = previous[fill]
        return values

    def _daily_rows_from_minutes(
        self, cols: IntArray, field: str, lo: int, hi: int, perspective: int, ffill: bool
    ) -> FloatArray:
        """Whole sessions rolled up from minutes, for portals without daily bars."""
        axes = self._axes
        axes.minute_bars()
        out = np.full((hi - lo + 1, len(cols)), empty_value(field))
        for i, session in enumerate(range(lo, hi + 1)):
            local = session - axes.minute_offset
            if 0 <= local < len(axes.minute_bounds):
                last = int(axes.minute_bounds[local, 1]) - 1
                out[i] = self._partial_session(cols, field, last, perspective, ffill)
        return out

    def _minute_window(
        self,
        cols: IntArray,
        field: str,
        bar_count: int,
        end_minute: int,
        perspective: int | None,
        ffill: bool,
    ) -> FloatArray:
        axes = self._axes
        minute = axes.minute_bars()
        a, b = end_minute - bar_count + 1, end_minute + 1
        if a < max(axes.first_minute_row, 0):
            raise axes.minute_starts_before_data(bar_count, end_minute)
        persp = int(minute.row_session[end_minute]) if perspective is None else perspective
        return self._block(minute, field, cols, a, b, persp, ffill)


def _aggregate(block: FloatArray, field: str) -> FloatArray:
    """One bar from a block of minute rows (columns kept)."""
    if field == "volume":
        return block.sum(axis=0)
    if field == "high":
        return np.fmax.reduce(block, axis=0)
    if field == "low":
        return np.fmin.reduce(block, axis=0)
    valid = ~np.isnan(block)
    any_valid = valid.any(axis=0)
    if field == "open":
        pick = valid.argmax(axis=0)
    else:
        pick = block.shape[0] - 1 - valid[::-1].argmax(axis=0)
    values = block[pick, np.arange(block.shape[1])]
    values[~any_valid] = np.nan
    return values
