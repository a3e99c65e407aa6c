"""Spot values: what a field of an asset is worth at a bar, as seen from a session.

The rule (zipline's):

* ``price`` is the close of the last bar that has one, at or before the
  data row, adjusted from *that bar's* session, and NaN outside the asset's
  life (or where the asset never traded).
* ``open/high/low/close`` are the bar's values, NaN where there is no bar;
  ``volume`` is 0 there. Both are adjusted from the bar's session to the
  perspective session (volumes by splits only, inverted).

:meth:`Spot.values` is that rule over a block of bars; a history window is
such a block. The current values of a bar are one *row* of it over every
portal column, read once per bar and field (:meth:`Spot.row`); one asset's
spot value is that row at the asset's column.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from rustybt.data.portal.adjustments import Adjustments
from rustybt.data.portal.axes import Axes
from rustybt.data.portal.fields import OHLCVP_FIELDS, FloatArray, IntArray, check_field, empty_value
from rustybt.data.portal.readers import Bars

__all__ = ["READ_AHEAD", "Spot"]

#: Rows read at once when bars are read one after another (see ``Spot._from_block``).
READ_AHEAD = 256

# (data row, data_frequency, perspective session) of a cached row.
_RowKey = tuple[int, str, int]
# (data_frequency, perspective or None, first row, rows, the rows' sessions).
_Block = tuple[str, int | None, int, FloatArray, list[int]]


class Spot:
    """The spot rule of one portal, and the rows of the bar last read.

    Parameters
    ----------
    axes
        The portal's sessions, columns and life spans.
    adjustments
        The portal's multiplier panels.
    """

    def __init__(self, axes: Axes, adjustments: Adjustments) -> None:
        self._axes = axes
        self._adjustments = adjustments
        # field -> (key, the row over all columns, its list form or None): the
        # last bar read of each field. Entries are replaced whole, never changed.
        self._rows: dict[str, tuple[_RowKey, FloatArray, list[float] | None]] = {}
        # field -> (data_frequency, perspective or None: each row's own session,
        # first row, the rows read ahead from it, their sessions): the block the
        # next bars' rows come from.
        self._blocks: dict[str, _Block] = {}

    # --- the rule -------------------------------------------------------------------

    def values(
        self,
        bars: Bars,
        field: str,
        cols: IntArray,
        a: int,
        b: int,
        perspective: int | None,
        ffill: bool = True,
        mask_life: bool = True,
    ) -> FloatArray:
        """The values of ``field`` for columns ``cols`` at rows ``a:b`` of ``bars``.

        Parameters
        ----------
        bars
            The daily or minute bars.
        field
            An OHLCV field or ``price``.
        cols
            Portal columns.
        a, b
            The rows (``0 <= a < b <= bars.n_rows``).
        perspective
            The master session the values are seen from (adjusted to); None:
            each row is seen from its own session (what a bar is worth when
            it is the current bar).
        ffill
            ``price`` carries the last close forward (without it, ``price``
            is the bar's close).
        mask_life
            Blank (:func:`empty_value`) the rows outside each asset's life.
            The spot rule does; zipline's history windows only for ``price``.

        Returns
        -------
        numpy.ndarray
            A new ``(b - a, len(cols))`` array.
        """
        source = "close" if field == "price" else field
        values = bars.raw_block(source, cols, a, b)
        row_sessions = bars.row_session[a:b]
        # A bar seen from its own session is unadjusted (every factor is 1).
        if perspective is not None:
            factor = self._adjustments.window_factor(field, row_sessions, cols, perspective)
            if factor is not None:
                values *= factor
        outside = self._outside_life(row_sessions, cols) if mask_life else None
        if field == "price" and ffill:
            # Cells to carry a close into: no bar here, but data for the column
            # and (when blanked anyway) a living asset.
            holes = np.isnan(values)
            no_data = bars.column_plan(cols)[2]
            if no_data is not None:
                holes &= ~no_data
            if outside is not None:
                holes &= ~outside
            if holes.any():
                self._fill_from_last_close(bars, values, holes, cols, a, perspective)
        if outside is not None:
            values[outside] = empty_value(field)
        return values

    def _fill_from_last_close(
        self,
        bars: Bars,
        values: FloatArray,
        holes: npt.NDArray[np.bool_],
        cols: IntArray,
        a: int,
        perspective: int | None,
    ) -> None:
        """Write into ``values``' holes (cells of columns with data) the adjusted close
        of each cell's last bar.

        Most cells have a bar, so only the holes are looked up in the
        last-close index. A price carried forward across a split comes from
        before the split, so it takes the factor of the session it traded
        in, not of the row it fills (``perspective`` None: the session of
        the row it fills).
        """
        rc = bars.colmap[cols]
        r, c = np.nonzero(holes)
        if not r.size:
            return
        source = bars.close_index()[a + r, rc[c]].astype(np.int64)
        traded = source >= 0
        source = np.where(traded, source, 0)
        filled = bars.panel("close")[source, rc[c]]
        seen_from = bars.row_session[a + r] if perspective is None else perspective
        factor = self._adjustments.factor("price", bars.row_session[source], cols[c], seen_from)
        if factor is not None:
            filled *= factor
        filled[~traded] = np.nan
        values[r, c] = filled

    def _outside_life(self, row_sessions: IntArray, cols: IntArray) -> npt.NDArray[np.bool_] | None:
        """Where a row's session is outside its column's asset's life; None: nowhere."""
        axes = self._axes
        if axes.alive_throughout(cols, int(row_sessions[0]), int(row_sessions[-1])):
            return None
        start, end = axes.start_index[cols], axes.end_index[cols]
        sessions = row_sessions[:, None]
        outside: npt.NDArray[np.bool_] = (sessions < start) | (sessions > end)
        return outside

    # --- the current row --------------------------------------------------------------

    def row(
        self, field: str, row: int, data_frequency: str, perspective: int | None = None
    ) -> FloatArray:
        """The spot values of ``field`` for every portal column at data row ``row``.

        Read once per bar and field and kept (callers must not change it).
        ``perspective`` defaults to the row's own session.
        """
        return self._entry(field, row, data_frequency, perspective)[1]

    def row_list(
        self, field: str, row: int, data_frequency: str, perspective: int | None = None
    ) -> list[float]:
        """:meth:`row` as a list of Python floats (indexing it makes no NumPy scalar)."""
        key, values, listed = self._entry(field, row, data_frequency, perspective)
        if listed is None:
            listed = values.tolist()
            self._rows[field] = (key, values, listed)
        return listed

    def _entry(
        self, field: str, row: int, data_frequency: str, perspective: int | None
    ) -> tuple[_RowKey, FloatArray, list[float] | None]:
        if perspective is None:
            perspective = -1 if row < 0 else int(self._axes.bars(data_frequency).row_session[row])
        key = (row, data_frequency, perspective)
        kept = self._rows.get(field)
        if kept is not None and kept[0] == key:
            return kept
        check_field(field, OHLCVP_FIELDS)
        if row < 0:
            values = np.full(len(self._axes.all_columns), empty_value(field))
            values.setflags(write=False)
        else:
            values = self._from_block(field, row, data_frequency, perspective, kept)
        entry: tuple[_RowKey, FloatArray, list[float] | None] = (key, values, None)
        self._rows[field] = entry
        return entry

    def _from_block(
        self,
        field: str,
        row: int,
        data_frequency: str,
        perspective: int,
        last: tuple[_RowKey, FloatArray, list[float] | None] | None,
    ) -> FloatArray:
        """Row ``row`` of ``field`` over every column, read with the next rows when bars
        are read one after another.

        The rule is row by row, so a block's rows are the rows read alone.
        The first row of ``field`` read is read alone (a strategy may read
        one bar now and then); when the next row is read, it is read with the
        :data:`READ_AHEAD` rows after it, seen from the same perspective, and
        later bars take their row of that block (one read per block instead
        of one a bar). A simulation's bar is seen from its own session (a
        daily bar, or a minute of the current session), so such rows make
        one block however many sessions it spans.
        """
        block = self._blocks.get(field)
        if block is not None:
            frequency, seen_from, a, values, sessions = block
            i = row - a
            if (
                frequency == data_frequency
                and 0 <= i < len(sessions)
                and perspective == (sessions[i] if seen_from is None else seen_from)
            ):
                return values[i]
        bars = self._axes.bars(data_frequency)
        row_session = bars.row_session
        # None: the row is seen from its own session (as a simulation's bar is).
        own_or_fixed = None if perspective == row_session[row] else perspective
        b = row + 1
        if last is not None and last[0][:2] == (row - 1, data_frequency):
            was = last[0][2]
            if (None if was == row_session[row - 1] else was) == own_or_fixed:
                b = min(row + READ_AHEAD, bars.n_rows)
        values = self.values(bars, field, self._axes.all_columns, row, b, own_or_fixed)
        values.setflags(write=False)
        if b > row + 1:
            sessions = row_session[row:b].tolist()
            self._blocks[field] = (data_frequency, own_or_fixed, row, values, sessions)
        return values[0]
