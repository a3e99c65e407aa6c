"""Custom data for pipelines: a DataFrame of values per date and asset."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.exceptions import PipelineError
from rustybt.pipeline.loaders.base import AdjustedColumn

__all__ = ["DataFrameLoader"]


class DataFrameLoader:
    """Serves one column from a DataFrame (dates x sids), as zipline's loader of that name.

    A date's value is the frame's row of that date (no shift: the frame says
    what is known on each date); dates and sids the frame lacks read as the
    column's missing value.

    Parameters
    ----------
    column
        The :class:`~rustybt.pipeline.data.BoundColumn` this loader serves.
    baseline
        Values indexed by date, with one column per sid (int) or asset.
    """

    def __init__(self, column: Any, baseline: pd.DataFrame) -> None:
        self.column = column
        frame = baseline.copy()
        frame.index = pd.DatetimeIndex(frame.index).tz_localize(None).normalize()
        if frame.index.has_duplicates:
            raise PipelineError(f"DataFrameLoader for {column!r}: the frame repeats a date")
        frame.columns = [int(getattr(c, "sid", c)) for c in frame.columns]
        self.baseline = frame

    def load_adjusted_array(
        self,
        domain: Any,
        columns: list[Any],
        dates: pd.DatetimeIndex,
        sids: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> dict[Any, AdjustedColumn]:
        out: dict[Any, AdjustedColumn] = {}
        for column in columns:
            if column is not self.column:
                raise PipelineError(
                    f"DataFrameLoader of {self.column!r} was asked to load {column!r}"
                )
            frame = self.baseline.reindex(index=dates, columns=sids)
            values = frame.to_numpy(dtype=column.dtype, na_value=column.missing_value)
            out[column] = AdjustedColumn(values)
        return out
