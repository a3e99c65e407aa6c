"""What a pipeline loader returns, and the protocol a loader follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["AdjustedColumn", "Events", "PipelineLoader"]


#: Adjustments of a loaded column: ``(k, column, multiplier)`` arrays, in the order
#: they apply. Seen from date ``k`` on, rows ``0..k`` of ``column`` are multiplied.
Events = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]


@dataclass(frozen=True)
class AdjustedColumn:
    """A loaded column over the requested dates, and the adjustments between its rows.

    ``values[i]`` is the column's row for date ``i`` as stored; ``events``
    (``None``: none) say how the rows change as later dates see them.
    """

    values: npt.NDArray[Any]
    events: Events | None = None


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
