"""Trailing windows of an input, as a windowed term sees them.

An input's rows are kept in one array, ``basis``. For a loaded price or
volume column the basis holds every row on one adjustment basis and
``scale[j]`` takes a row to the basis of output date ``j``: the window of date
``j`` is ``basis[rows] * scale[j]``, which applies exactly the splits,
mergers and dividends known on that date (and none known later). A computed
input has no scale: its windows are plain slices.
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
    scale
        ``(n_out, columns)`` multipliers taking ``basis`` rows to each output
        date's view; ``None``: none (a computed input, or no adjustments).
    """

    def __init__(
        self, basis: npt.NDArray[Any], length: int, n_out: int, scale: FloatArray | None = None
    ) -> None:
        self.basis = basis
        self.length = length
        self.n_out = n_out
        self.scale = scale
        self._offset = basis.shape[0] - n_out  # basis row of output date 0

    def window(self, j: int, columns: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[Any]:
        """The window of output date ``j`` (``length`` rows), of ``columns`` only if given."""
        end = self._offset + j + 1
        rows = self.basis[end - self.length : end]
        if columns is not None:
            rows = rows[:, columns]
        if self.scale is None:
            return rows if columns is not None else _read_only(rows)
        row_scale = self.scale[j] if columns is None else self.scale[j, columns]
        return rows * row_scale

    def stack(self, start: int, stop: int) -> npt.NDArray[Any]:
        """The windows of output dates ``start:stop``, shape ``(days, length, columns)``."""
        first = self._offset + start - self.length + 1
        rows = self.basis[first : self._offset + stop]
        views = np.lib.stride_tricks.sliding_window_view(rows, self.length, axis=0)
        stacked = views.transpose(0, 2, 1)  # (days, columns, length) -> (days, length, columns)
        if self.scale is None:
            return stacked
        return stacked * self.scale[start:stop, None, :]

    def blocks(self) -> Iterator[tuple[int, int]]:
        """``(start, stop)`` output-date ranges whose stacks stay under :data:`BLOCK_CELLS`."""
        columns = self.basis.shape[1] if self.basis.ndim > 1 else 1
        step = max(1, BLOCK_CELLS // max(1, self.length * columns))
        for start in range(0, self.n_out, step):
            yield start, min(self.n_out, start + step)

    def __iter__(self) -> Iterator[npt.NDArray[Any]]:
        for j in range(self.n_out):
            yield self.window(j)


def _read_only(view: npt.NDArray[Any]) -> npt.NDArray[Any]:
    out = view.view()
    out.setflags(write=False)
    return out
