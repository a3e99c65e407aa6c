"""Drawdown periods: each fall from a peak of wealth, its trough and its recovery.

A drawdown period starts at a peak (a session at the running high of wealth)
and lasts while wealth stays below that high: its trough is the session of
the lowest point, its recovery the first session back at or above the high
(NaT while the run ends under water). The periods come from the underwater
curve, :func:`rustybt.analytics.statistics.drawdown_series`, so the deepest
period's ``drawdown`` is :func:`~rustybt.analytics.statistics.max_drawdown`.

Examples
--------
>>> import pandas as pd
>>> sessions = pd.date_range("2024-01-01", periods=6, freq="D")
>>> returns = pd.Series([0.1, -0.5, 1.0, 0.2, -0.1, 0.05], index=sessions)
>>> periods = drawdown_periods(returns)
>>> periods[["drawdown", "duration"]].round(3).to_dict("list")
{'drawdown': [-0.5, -0.1], 'duration': [2, 2]}
>>> periods["recovery"].isna().tolist()  # the second fall has not recovered by the end
[False, True]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rustybt.analytics.statistics import Returns, drawdown_series
from rustybt.exceptions import ParameterValidationError

#: The columns of :func:`drawdown_periods`, in order.
DRAWDOWN_COLUMNS = ("peak", "trough", "recovery", "drawdown", "duration")


def _underwater_runs(underwater: np.ndarray) -> list[tuple[int, int]]:
    """``(first, end)`` positions of each run of sessions below the peak: ``first`` is
    the first session under water, ``end`` the first one back at the peak (or the
    number of sessions, for a run the series ends in)."""
    below = np.concatenate([[False], underwater < 0.0, [False]])
    edges = np.flatnonzero(below[1:] != below[:-1])
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def drawdown_periods(returns: Returns, top: int = 5) -> pd.DataFrame:
    """The ``top`` deepest drawdown periods, deepest first.

    Parameters
    ----------
    returns
        Daily returns, a Series indexed by session (an array is indexed by position).
    top
        How many periods at most (a positive whole number).

    Returns
    -------
    pandas.DataFrame
        One row a period (index 0, 1, ...), with the columns

        - ``peak``: the last session at the high before the fall (the first
          session when the fall begins on it: the starting capital has no
          session of its own);
        - ``trough``: the session of the lowest point;
        - ``recovery``: the first session back at the high, NaT when the series
          ends under water;
        - ``drawdown``: the fall from peak to trough, a negative fraction;
        - ``duration``: sessions from the peak to the recovery, or to the last
          session when not recovered.

        Empty (with these columns) when the returns never fall below a peak.
    """
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise ParameterValidationError(f"top: expected a positive whole number, got {top!r}")
    underwater = drawdown_series(returns)
    depth = underwater.to_numpy()
    last = len(depth) - 1
    periods = []  # (drawdown, peak, trough, recovery or -1) positions
    for first, end in _underwater_runs(depth):
        trough = first + int(np.argmin(depth[first:end]))
        periods.append(
            (float(depth[trough]), max(first - 1, 0), trough, end if end <= last else -1)
        )
    periods.sort(key=lambda period: period[0])  # stable: equal falls stay in time order
    deepest = periods[: int(top)]
    return _period_frame(underwater.index, deepest, last)


def _period_frame(
    sessions: pd.Index, periods: list[tuple[float, int, int, int]], last: int
) -> pd.DataFrame:
    """The frame of :func:`drawdown_periods` from each period's positions."""
    drawdowns = [period[0] for period in periods]
    peaks = [period[1] for period in periods]
    troughs = [period[2] for period in periods]
    recoveries = [period[3] for period in periods]
    recovered = np.array([end >= 0 for end in recoveries], dtype=bool)
    ends = [end if end >= 0 else last for end in recoveries]
    return pd.DataFrame(
        {
            "peak": sessions[peaks],
            "trough": sessions[troughs],
            "recovery": sessions[ends].where(recovered),
            "drawdown": np.array(drawdowns, dtype=np.float64),
            "duration": np.array(ends, dtype=np.int64) - np.array(peaks, dtype=np.int64),
        },
        columns=list(DRAWDOWN_COLUMNS),
    )
