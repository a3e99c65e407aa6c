"""What a pipeline loader returns, and the protocol a loader follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["AdjustedColumn", "PipelineLoader"]


@dataclass(frozen=True)
class AdjustedColumn:
    """A loaded column over the requested dates, with what adjusts it.

    ``values[i]`` is the column's row for date ``i`` as stored;
    ``values[i] * row_mult[i] / view_mult[t]`` is that row as seen on date
    ``t`` (the multipliers are ``None`` when no row ever changes: a window is
    then a plain slice).
    """

    values: npt.NDArray[Any]
    row_mult: npt.NDArray[np.float64] | None = None
    view_mult: npt.NDArray[np.float64] | None = None


class PipelineLoader(Protocol):
    """Loads the columns of the datasets it serves."""

    def load_adjusted_array(
        self,
        domain: Any,
        columns: list[Any],
        dates: pd.DatetimeIndex,
        sids: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> dict[Any, AdjustedColumn]:
        """Each of ``columns`` over ``dates`` x ``sids`` (``mask``: the assets alive)."""
        ...
