"""Thinning long traces to what a screen can show, keeping their peaks and troughs.

A report's time series panels are a few hundred pixels to two thousand wide:
a trace with more points than that draws several points per pixel, makes the
file larger and the page slower, and shows nothing more. Each trace is cut
into equal buckets of consecutive points and keeps, per bucket, its lowest and
its highest point, in time order, plus the first and the last point of the
whole trace: the line looks the same at screen resolution, and no drawdown's
bottom or equity peak is dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MAX_POINTS", "decimate", "decimate_frame", "kept_positions"]

#: The most points a trace keeps: about the width, in pixels, of a wide screen.
MAX_POINTS = 2000


def kept_positions(values: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """The positions of ``values`` a trace of at most ``max_points`` points keeps, ascending.

    Parameters
    ----------
    values
        A trace's y values, in x order (NaN allowed: a bucket of NaN keeps its first point).
    max_points
        At least 4: the first and last point and one bucket's low and high.

    Returns
    -------
    numpy.ndarray
        Sorted integer positions: all of them when the trace is short enough, else the
        first, the last, and each bucket's lowest and highest point.

    Examples
    --------
    >>> kept_positions(np.array([0.0, 5.0, 1.0, -3.0, 2.0, 0.0, 4.0, 1.0]), max_points=6)
    array([0, 1, 3, 5, 6, 7])
    """
    count = len(values)
    if count <= max_points:
        return np.arange(count)
    if max_points < 4:
        raise ValueError(f"max_points must be at least 4, got {max_points}")
    buckets = (max_points - 2) // 2
    # Equal buckets over the points between the first and the last.
    edges = np.linspace(1, count - 1, buckets + 1).astype(np.int64)
    inner = np.asarray(values[1 : count - 1], dtype=np.float64)
    filled_low = np.where(np.isnan(inner), np.inf, inner)
    filled_high = np.where(np.isnan(inner), -np.inf, inner)
    starts = edges[:-1] - 1  # positions within ``inner``
    stops = edges[1:] - 1
    bounds = list(zip(starts, stops, strict=True))
    lows = [start + int(np.argmin(filled_low[start:stop])) for start, stop in bounds]
    highs = [start + int(np.argmax(filled_high[start:stop])) for start, stop in bounds]
    kept = np.unique(np.concatenate([[0, count - 1], np.add(lows, 1), np.add(highs, 1)]))
    return kept.astype(np.int64)


def decimate(series: pd.Series, max_points: int = MAX_POINTS) -> pd.Series:
    """``series`` thinned to at most ``max_points`` points, its lows and highs kept.

    Examples
    --------
    >>> trace = pd.Series(np.sin(np.arange(10_000) / 300.0))
    >>> thin = decimate(trace, max_points=500)
    >>> len(thin) <= 500, thin.max() == trace.max(), thin.min() == trace.min()
    (True, True, True)
    """
    return series.iloc[kept_positions(series.to_numpy(dtype=np.float64), max_points)]


def decimate_frame(frame: pd.DataFrame, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """The rows of ``frame`` that keep every column's lows and highs.

    For traces drawn on one x (stacked areas): each column gets an equal share of
    ``max_points`` (at least 4), and the rows any column keeps are kept for all, so
    at most ``max(max_points, 4 * columns)`` rows.
    """
    if len(frame) <= max_points or frame.shape[1] == 0:
        return frame
    share = max(4, max_points // frame.shape[1])
    kept = np.unique(
        np.concatenate(
            [kept_positions(frame[column].to_numpy(dtype=np.float64), share) for column in frame]
        )
    )
    return frame.iloc[kept]
