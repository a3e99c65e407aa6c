"""Trailing windows of an input, as a windowed term sees them.

An input's rows are kept in one array, ``basis``, as stored. For a loaded
price or volume column, ``row_mult`` and ``view_mult`` adjust them: the
window of output date ``j`` is ``basis[rows] * row_mult[rows] /
view_mult[j]``, which applies exactly the splits, mergers and dividends known
on that date (and none known later). Where nothing is effective between a
row and the date the ratio is exactly 1, so those values are the stored ones,
bit for bit. A computed input has no multipliers: its windows are plain
slices.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

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
    adjust
        ``(row_mult, view_mult)``: per row of ``basis`` and per output date,
        the multipliers described above; ``None``: none (a computed input, or
        no adjustments).
    """

    def __init__(
        self,
        basis: npt.NDArray[Any],
        length: int,
        n_out: int,
        adjust: tuple[FloatArray, FloatArray] | None = None,
    ) -> None:
        self.basis = basis
        self.length = length
        self.n_out = n_out
        self.adjust = adjust
        self._offset = basis.shape[0] - n_out  # basis row of output date 0

    def window(self, j: int, columns: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[Any]:
        """The window of output date ``j`` (``length`` rows), of ``columns`` only if given."""
        end = self._offset + j + 1
        rows = slice(end - self.length, end)
        picked = slice(None) if columns is None else columns
        values = self.basis[rows, picked]
        if self.adjust is None:
            return values if columns is not None else _read_only(values)
        row_mult, view_mult = self.adjust
        return values * (row_mult[rows, picked] / view_mult[j, picked])

    def stack(self, start: int, stop: int) -> npt.NDArray[Any]:
        """The windows of output dates ``start:stop``, shape ``(days, length, columns)``."""
        first = self._offset + start - self.length + 1
        rows = slice(first, self._offset + stop)
        stacked = _stacked(self.basis[rows], self.length)
        if self.adjust is None:
            return stacked
        row_mult, view_mult = self.adjust
        factors = _stacked(row_mult[rows], self.length) / view_mult[start:stop, None, :]
        return stacked * factors

    def blocks(self) -> Iterator[tuple[int, int]]:
        """``(start, stop)`` output-date ranges whose stacks stay under :data:`BLOCK_CELLS`."""
        columns = self.basis.shape[1] if self.basis.ndim > 1 else 1
        step = max(1, BLOCK_CELLS // max(1, self.length * columns))
        for start in range(0, self.n_out, step):
            yield start, min(self.n_out, start + step)

    def __iter__(self) -> Iterator[npt.NDArray[Any]]:
        for j in range(self.n_out):
            yield self.window(j)


def _stacked(rows: npt.NDArray[Any], length: int) -> npt.NDArray[Any]:
    """Every ``length``-row window of ``rows`` as a read-only view, (days, length, columns)."""
    views = np.lib.stride_tricks.sliding_window_view(rows, length, axis=0)
    return views.transpose(0, 2, 1)


def _read_only(view: npt.NDArray[Any]) -> npt.NDArray[Any]:
    out = view.view()
    out.setflags(write=False)
    return out
