"""Trailing windows of an input, as a windowed term sees them.

An input's rows are kept as stored. A loaded price or volume column also
has its adjustments, in the order they apply: an adjustment seen from date
``k`` on multiplies the column's rows up to ``k``. The windows are read off
one working copy of the rows that walks forward through the dates, applying
each adjustment when its date comes, to the rows later windows still read:
every value is multiplied by exactly the adjustments effective between its
bar and the date that sees it, one after another, as zipline's adjusted
arrays do (so values agree to the last bit, which ties in ranks and argmax
choices depend on). Rows with nothing effective keep their stored values. A
computed input has no adjustments: its windows are plain slices.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from rustybt.pipeline.loaders.base import Events

__all__ = ["BLOCK_CELLS", "Windows"]

#: The most cells a batch of stacked windows holds (~32 MB of float64).
BLOCK_CELLS = 4_000_000


class Windows:
    """The trailing windows of one input for each output date of a term.

    Parameters
    ----------
    basis
        The input's rows; the last ``n_out`` rows end the windows of the
        ``n_out`` output dates.
    length
        The window length.
    n_out
        The number of output dates.
    events
        The adjustments, ``k`` counted in rows of ``basis``; ``None``: none.
    """

    def __init__(
        self, basis: npt.NDArray[Any], length: int, n_out: int, events: Events | None = None
    ) -> None:
        self.basis = basis
        self.length = length
        self.n_out = n_out
        self._offset = basis.shape[0] - n_out  # basis row of output date 0
        self._events = events if events is not None and len(events[0]) else None
        self._rows: npt.NDArray[Any] = basis  # the working copy once adjustments apply
        self._day = -1  # the last output date whose adjustments are applied
        self._next = 0  # the next adjustment to apply

    # --- the walk ----------------------------------------------------------------------

    def _walk_to(self, j: int) -> None:
        """Apply every adjustment seen by output date ``j`` (dates only move forward)."""
        if self._events is None or j <= self._day:
            if j < self._day:
                self._restart()
                self._walk_to(j)
            return
        if self._day < 0:
            self._rows = self.basis.astype(np.float64, copy=True)
        k, column, multiplier = self._events
        stop = int(np.searchsorted(k, self._offset + j, side="right"))
        # Rows before this date's window are read by no later window.
        first = max(0, self._offset + j - self.length + 1)
        rows = self._rows
        for e in range(self._next, stop):
            rows[first : k[e] + 1, column[e]] *= multiplier[e]
        self._next = stop
        self._day = j

    def _restart(self) -> None:
        self._rows, self._day, self._next = self.basis, -1, 0

    def _next_event_day(self) -> int:
        """The first output date after the walk's that brings an adjustment."""
        if self._events is None or self._next >= len(self._events[0]):
            return self.n_out
        return max(self._day + 1, int(self._events[0][self._next]) - self._offset)

    # --- reading -----------------------------------------------------------------------

    def window(self, j: int, columns: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[Any]:
        """The window of output date ``j`` (``length`` rows), of ``columns`` only if given.

        Without ``columns`` it is a read-only view, valid until the next call.
        """
        self._walk_to(j)
        end = self._offset + j + 1
        rows = self._rows[end - self.length : end]
        if columns is not None:
            return rows[:, columns]
        view = rows.view()
        view.setflags(write=False)
        return view

    def stack(self, start: int, stop: int) -> npt.NDArray[Any]:
        """The windows of output dates ``start:stop``, shape ``(days, length, columns)``."""
        if stop <= start:
            return np.empty((0, self.length, *self.basis.shape[1:]), dtype=self.basis.dtype)
        if self._events is None:
            return self._slide(self.basis, start, stop)
        out = np.empty((stop - start, self.length, *self.basis.shape[1:]), dtype=np.float64)
        day = start
        while day < stop:
            self._walk_to(day)
            # The days up to the next adjustment read the same rows: one slide.
            until = min(stop, self._next_event_day())
            out[day - start : until - start] = self._slide(self._rows, day, until)
            day = until
        return out

    def _slide(self, rows: npt.NDArray[Any], start: int, stop: int) -> npt.NDArray[Any]:
        first = self._offset + start - self.length + 1
        views = np.lib.stride_tricks.sliding_window_view(
            rows[first : self._offset + stop], self.length, axis=0
        )
        return views.transpose(0, 2, 1) if views.ndim == 3 else views

    def blocks(self) -> Iterator[tuple[int, int]]:
        """``(start, stop)`` output-date ranges whose stacks stay under :data:`BLOCK_CELLS`."""
        columns = self.basis.shape[1] if self.basis.ndim > 1 else 1
        step = max(1, BLOCK_CELLS // max(1, self.length * columns))
        for start in range(0, self.n_out, step):
            yield start, min(self.n_out, start + step)
