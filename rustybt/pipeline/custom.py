"""User-defined window terms: ``compute(today, assets, out, *inputs, **params)``.

A custom term's ``compute`` is called once a day with that day's windows of
its inputs (``window_length`` rows each, only the columns of assets in the
term's mask that day) and fills ``out`` (one cell per such asset, or a
record array when the term has several ``outputs``).

The built-in terms declare ``batched = True``: their ``compute`` works on a
stack of days at once (windows shaped ``(days, window_length, assets)``,
``out`` shaped ``(days, assets)``, ``today`` the days' dates) over every
column, and the mask is applied to the result. The same function serves a
single day.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.exceptions import PipelineError
from rustybt.pipeline.windows import Windows

__all__ = ["CustomTermMixin", "LatestMixin"]


class CustomTermMixin:
    """The compute loop of custom factors, filters and classifiers."""

    batched: bool = False
    inputs: Any
    outputs: Any
    window_length: Any
    dtype: Any
    missing_value: Any
    params: Any
    ndim: Any

    def compute(self, today: Any, assets: Any, out: Any, *inputs: Any, **params: Any) -> None:
        """Fill ``out``; subclasses define it."""
        raise PipelineError(f"{type(self).__name__} defines no compute method")

    def _validate_custom(self) -> None:
        if self.window_length < 1:
            raise PipelineError(
                f"{type(self).__name__} needs a window_length of at least 1"
                f" (got {self.window_length})"
            )
        if not self.inputs:
            raise PipelineError(f"{type(self).__name__} needs inputs")

    def _allocate(self, shape: tuple[int, ...]) -> npt.NDArray[Any]:
        """An output buffer filled with the missing value (a record array with outputs)."""
        if self.outputs:
            dtype = np.dtype([(name, self.dtype) for name in self.outputs])
            out = np.empty(shape, dtype=dtype).view(np.recarray)
            for name in self.outputs:
                out[name] = self.missing_value
            return out
        return np.full(shape, self.missing_value, dtype=self.dtype)

    def _compute(
        self,
        inputs: list[Windows],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        out = self._allocate(mask.shape)
        if self.batched:
            self._compute_batched(inputs, dates, assets, out)
        else:
            self._compute_daily(inputs, dates, assets, mask, out)
        return out

    def _compute_batched(
        self,
        inputs: list[Windows],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        out: npt.NDArray[Any],
    ) -> None:
        for start, stop in inputs[0].blocks():
            stacks = [w.stack(start, stop) for w in inputs]
            self.compute(dates[start:stop], assets, out[start:stop], *stacks, **self.params)

    def _compute_daily(
        self,
        inputs: list[Windows],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
        out: npt.NDArray[Any],
    ) -> None:
        one_column = [term.ndim == 1 for term in self.inputs]
        for j, today in enumerate(dates):
            columns = mask[j] if self.ndim == 2 else None
            windows = [
                w.window(j) if single else w.window(j, columns)
                for w, single in zip(inputs, one_column, strict=True)
            ]
            row = self._allocate((int(columns.sum()),) if columns is not None else (1,))
            self.compute(
                today,
                assets[columns] if columns is not None else assets,
                row,
                *windows,
                **self.params,
            )
            if columns is not None:
                out[j, columns] = row
            else:
                out[j] = row


class LatestMixin:
    """A column's most recent value (``column.latest``): the last row of a one-row window.

    Mixed into the Latest factor, filter and classifier, before their custom base.
    """

    window_length = 1
    batched = True

    def compute(self, today: Any, assets: Any, out: Any, data: Any) -> None:
        out[:] = data[..., -1, :]
