"""Cross-sectional kernels: ranks, normalizations, quantiles, percentile filters.

Every kernel takes a (D, N) block -- one row per day, one column per asset --
and a boolean ``mask`` of the cells that take part. An optional int64
``groups`` block splits each day into groups (``-1`` = no group: the cell is
left out, as zipline leaves out cells whose classifier value is missing).
A day's group is a *segment*; every statistic is computed per segment, and
cells outside every segment come out missing (NaN, label -1 or False).

The semantics are zipline-reloaded's (``Factor.rank``/``demean``/``zscore``/
``winsorize``/``quantiles``/``percentile_between``, ``Classifier.peer_count``).
The work is vectorized over the whole block: each row is sorted once (by
value where the statistic needs order, then by group label), which gathers
every segment's cells into one run of a flat array.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from rustybt.exceptions import PipelineError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
IndexArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

RANK_METHODS = ("average", "dense", "max", "min", "ordinal")
NO_GROUP = -1
NO_LABEL = -1


class _Cells(NamedTuple):
    """The cells that take part, gathered by segment (day, then group label).

    Within a segment the cells are in ascending order of the sort values when
    there are any, else in column order; cells of equal value keep their
    column order, which is how zipline breaks ordinal ties (stable sorts).
    """

    flat: IndexArray  # flat index into the block of each cell, in that order
    segment: IndexArray  # the segment of each cell
    start: IndexArray  # per segment: position of its first cell
    size: IndexArray  # per segment: number of its cells


# ---------------------------------------------------------------- validation


def _as_values(values: npt.ArrayLike) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise PipelineError(f"values must be a 2-D (days, assets) array, got shape {array.shape}")
    return array


def _as_mask(mask: npt.ArrayLike, shape: tuple[int, ...], of: str = "values") -> BoolArray:
    array = np.asarray(mask)
    if array.dtype != np.bool_:
        raise PipelineError(f"mask must be a boolean array, got dtype {array.dtype}")
    if array.shape != shape:
        raise PipelineError(f"mask has shape {array.shape}, the {of} have shape {shape}")
    return array


def _as_labels(labels: npt.ArrayLike, shape: tuple[int, ...], name: str) -> IntArray:
    array = np.asarray(labels)
    if not np.issubdtype(array.dtype, np.integer):
        raise PipelineError(f"{name} must be an integer array of labels, got dtype {array.dtype}")
    if array.shape != shape:
        raise PipelineError(f"{name} has shape {array.shape}, the values have shape {shape}")
    return array.astype(np.int64, copy=False)


class _Block(NamedTuple):
    """A kernel's checked inputs."""

    data: FloatArray
    valid: BoolArray  # in the mask and not NaN: the cells a statistic sees
    groups: IntArray | None


def _block(values: npt.ArrayLike, mask: npt.ArrayLike, groups: npt.ArrayLike | None) -> _Block:
    data = _as_values(values)
    included = _as_mask(mask, data.shape)
    labels = None if groups is None else _as_labels(groups, data.shape, "groups")
    return _Block(data, included & ~np.isnan(data), labels)


# ---------------------------------------------------------------- segments


def _gather(
    taking_part: BoolArray, groups: IntArray | None, sort_values: FloatArray | None
) -> _Cells:
    """Gather the cells that take part by segment, sorted by value if given.

    Sorting each row of the block on its own (stable sorts along axis 1, by
    value, then by label, then participants first) is several times faster
    than one sort of the whole block. ``sort_values`` must not be NaN where a
    cell takes part.
    """
    if groups is not None:
        taking_part = taking_part & (groups != NO_GROUP)
    days, assets = taking_part.shape
    order = np.broadcast_to(np.arange(assets), (days, assets))
    if sort_values is not None:
        order = np.argsort(sort_values, axis=1, kind="stable")
    if groups is not None:
        by_label = np.argsort(np.take_along_axis(groups, order, axis=1), axis=1, kind="stable")
        order = np.take_along_axis(order, by_label, axis=1)
    left_out = ~np.take_along_axis(taking_part, order, axis=1)
    order = np.take_along_axis(order, np.argsort(left_out, axis=1, kind="stable"), axis=1)
    per_day = taking_part.sum(axis=1)
    kept = np.arange(assets) < per_day[:, None]
    flat = (order + (np.arange(days) * assets)[:, None])[kept]
    day = np.repeat(np.arange(days), per_day)
    new_segment = np.ones(len(flat), dtype=bool)
    new_segment[1:] = day[1:] != day[:-1]
    if groups is not None:
        label = groups.ravel()[flat]
        new_segment[1:] |= label[1:] != label[:-1]
    start = np.flatnonzero(new_segment)
    size = np.diff(np.append(start, len(flat)))
    return _Cells(flat, np.cumsum(new_segment) - 1, start, size)


def _per_cell(per_segment: FloatArray, cells: _Cells, shape: tuple[int, ...]) -> FloatArray:
    """Spread a per-segment value onto the segment's cells; NaN elsewhere."""
    out = np.full(shape, np.nan)
    out.ravel()[cells.flat] = per_segment[cells.segment]
    return out


def _segment_quantiles(
    sorted_values: FloatArray, cells: _Cells, fractions: FloatArray
) -> FloatArray:
    """Per segment, numpy's 'linear' quantiles of its values (sorted by segment).

    Returns (segments, len(fractions)). The arithmetic is numpy's own
    (virtual index (n - 1) * q, its two-sided lerp), so the bounds equal
    ``np.nanpercentile``'s bit for bit.
    """
    size = cells.size[:, None].astype(np.float64)
    virtual = (size - 1) * fractions[None, :]
    below = np.floor(virtual)
    last = size - 1
    previous = np.minimum(below, last)
    weight = virtual - previous
    start = cells.start[:, None]
    low = sorted_values[start + previous.astype(np.intp)]
    high = sorted_values[start + np.minimum(below + 1, last).astype(np.intp)]
    with np.errstate(invalid="ignore"):  # inf - inf gives NaN, in numpy too
        span = high - low
        return np.where(weight >= 0.5, high - span * (1 - weight), low + span * weight)


# ---------------------------------------------------------------- rank


def rank(
    values: npt.ArrayLike,
    mask: npt.ArrayLike,
    method: str = "ordinal",
    ascending: bool = True,
    groups: npt.ArrayLike | None = None,
) -> FloatArray:
    """Rank each day's values, per group if ``groups`` is given (zipline ``Factor.rank``).

    Parameters
    ----------
    values : (D, N) array
        The values to rank.
    mask : (D, N) bool array
        Cells that take part; the others rank NaN.
    method : {'ordinal', 'average', 'min', 'max', 'dense'}
        Ties as in ``scipy.stats.rankdata``; 'ordinal' breaks them by column order.
    ascending : bool
        Rank 1 for the smallest value if True, for the largest if False.
    groups : (D, N) int array, optional
        Group labels; cells are ranked within their day's group; -1 excludes.

    Returns
    -------
    (D, N) float64 array
        Ranks from 1 among a day's (group's) non-NaN values; NaN for NaN
        values and for cells that take no part.

    Notes
    -----
    This is zipline's documented rule and what it computes with SciPy < 1.10.
    With newer SciPy, zipline's non-ordinal ``rankdata`` turns a whole day
    NaN when one cell is NaN or masked, and its grouped ranks a whole group.
    """
    if method not in RANK_METHODS:
        raise PipelineError(f"method must be one of {', '.join(RANK_METHODS)}; got {method!r}")
    block = _block(values, mask, groups)
    # Descending ranks are ascending ranks of the negated values; the stable
    # sort still breaks ordinal ties by column order, as zipline's does.
    keys = block.data if ascending else -block.data
    cells = _gather(block.valid, block.groups, keys)
    out = np.full(block.data.shape, np.nan)
    out.ravel()[cells.flat] = _ranks(keys.ravel()[cells.flat], cells, method)
    return out


def _ranks(sorted_values: FloatArray, cells: _Cells, method: str) -> FloatArray:
    """The rank of each sorted cell within its segment, ties by ``method``."""
    first_of_segment = cells.start[cells.segment]
    position = np.arange(len(sorted_values)) - first_of_segment
    if method == "ordinal":
        return (position + 1).astype(np.float64)
    # A run is a stretch of equal values within one segment.
    new_run = np.ones(len(sorted_values), dtype=bool)
    new_run[1:] = (cells.segment[1:] != cells.segment[:-1]) | (
        sorted_values[1:] != sorted_values[:-1]
    )
    run = np.cumsum(new_run) - 1
    if method == "dense":
        return (run - run[first_of_segment] + 1).astype(np.float64)
    run_first = np.flatnonzero(new_run)
    run_last = np.append(run_first[1:], len(sorted_values)) - 1
    lowest = (run_first[run] - first_of_segment + 1).astype(np.float64)
    highest = (run_last[run] - first_of_segment + 1).astype(np.float64)
    if method == "min":
        return lowest
    if method == "max":
        return highest
    return (lowest + highest) / 2


# ---------------------------------------------------------------- normalizers


def _means(block: _Block) -> tuple[_Cells, FloatArray, FloatArray]:
    """The segments' cells in column order, with each segment's count and mean.

    ``np.bincount`` adds a segment's values one after another in column
    order: the same sum as bottleneck's ``nanmean``, which zipline uses.
    """
    cells = _gather(block.valid, block.groups, None)
    count = cells.size.astype(np.float64)
    total = np.bincount(cells.segment, weights=block.data.ravel()[cells.flat])
    return cells, count, total / count


def demean(
    values: npt.ArrayLike, mask: npt.ArrayLike, groups: npt.ArrayLike | None = None
) -> FloatArray:
    """Subtract each day's (group's) nan-mean (zipline ``Factor.demean``).

    Parameters
    ----------
    values : (D, N) array
    mask : (D, N) bool array
        Cells that take part (in the mean and the output); the others are NaN.
    groups : (D, N) int array, optional
        Group labels; means are taken per day and group; -1 excludes.

    Returns
    -------
    (D, N) float64 array
        NaN values stay NaN.
    """
    block = _block(values, mask, groups)
    cells, _, mean = _means(block)
    with np.errstate(invalid="ignore"):  # inf - inf gives NaN, in zipline too
        return block.data - _per_cell(mean, cells, block.data.shape)


def zscore(
    values: npt.ArrayLike, mask: npt.ArrayLike, groups: npt.ArrayLike | None = None
) -> FloatArray:
    """Z-score each day's (group's) values: (x - nanmean) / nanstd, ddof 0 (zipline).

    A segment of one value or of equal values has zero deviation and gives
    NaN (0 / 0), as zipline's does.

    Parameters
    ----------
    values : (D, N) array
    mask : (D, N) bool array
        Cells that take part; the others are NaN.
    groups : (D, N) int array, optional
        Group labels; statistics per day and group; -1 excludes.

    Returns
    -------
    (D, N) float64 array
        NaN values stay NaN.
    """
    block = _block(values, mask, groups)
    cells, count, mean = _means(block)
    with np.errstate(invalid="ignore", divide="ignore"):
        deviation = block.data.ravel()[cells.flat] - mean[cells.segment]
        # Two passes like bottleneck's nanstd: the mean, then squared deviations.
        spread = np.sqrt(np.bincount(cells.segment, weights=deviation * deviation) / count)
        out = np.full(block.data.shape, np.nan)
        out.ravel()[cells.flat] = deviation / spread[cells.segment]
    return out


def winsorize(
    values: npt.ArrayLike,
    mask: npt.ArrayLike,
    min_percentile: float,
    max_percentile: float,
    groups: npt.ArrayLike | None = None,
) -> FloatArray:
    """Clip each day's (group's) values to its cutoffs (zipline ``Factor.winsorize``).

    With k non-NaN values sorted s[0] .. s[k-1], values below
    s[int(min_percentile * k)] are raised to it, values above
    s[ceil(max_percentile * k) - 1] lowered to it.

    Parameters
    ----------
    values : (D, N) array
    mask : (D, N) bool array
        Cells that take part; the others are NaN.
    min_percentile, max_percentile : float
        Fractions, ``0 <= min_percentile < max_percentile <= 1``.
    groups : (D, N) int array, optional
        Group labels; cutoffs per day and group; -1 excludes.

    Returns
    -------
    (D, N) float64 array
        NaN values stay NaN.
    """
    if not 0.0 <= min_percentile < max_percentile <= 1.0:
        raise PipelineError(
            "min_percentile and max_percentile must satisfy 0 <= min_percentile < "
            f"max_percentile <= 1; got {min_percentile!r} and {max_percentile!r}"
        )
    block = _block(values, mask, groups)
    cells = _gather(block.valid, block.groups, block.data)
    sorted_values = block.data.ravel()[cells.flat]
    size = cells.size.astype(np.float64)
    lower = np.floor(min_percentile * size)
    # Should rounding make both cutoffs meet, zipline clips everything to the
    # lower one (its upper clip reads the value already raised).
    upper = np.maximum(np.ceil(size * max_percentile) - 1, lower)
    floor_value = sorted_values[cells.start + lower.astype(np.intp)]
    ceiling_value = sorted_values[cells.start + upper.astype(np.intp)]
    clipped = np.minimum(
        np.maximum(sorted_values, floor_value[cells.segment]), ceiling_value[cells.segment]
    )
    out = np.full(block.data.shape, np.nan)
    out.ravel()[cells.flat] = clipped
    return out


# ---------------------------------------------------------------- quantiles


def quantiles(
    values: npt.ArrayLike,
    mask: npt.ArrayLike,
    bins: int,
    groups: npt.ArrayLike | None = None,
) -> IntArray:
    """Label each day's (group's) values by quantile bin (zipline ``Quantiles``).

    The bin edges are the segment's linear quantiles at 0, 1/bins, ..., 1
    (``pandas.qcut``); bins are right-closed and the first holds the minimum.
    Where zipline's ``qcut`` raises on repeated edges (ties, a lone value),
    equal values share the lowest bin they reach; where it raises on a day
    with no value, the day is labelled -1.

    Parameters
    ----------
    values : (D, N) array
    mask : (D, N) bool array
        Cells that take part; the others get -1.
    bins : int
        Number of bins, >= 1 (4 quartiles, 5 quintiles, 10 deciles).
    groups : (D, N) int array, optional
        Group labels; quantiles per day and group; -1 excludes.

    Returns
    -------
    (D, N) int64 array
        Labels 0 .. bins - 1; -1 for NaN values and cells that take no part.
    """
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise PipelineError(f"bins must be an integer >= 1, got {bins!r}")
    block = _block(values, mask, groups)
    cells = _gather(block.valid, block.groups, block.data)
    sorted_values = block.data.ravel()[cells.flat]
    # pandas asks numpy for percentiles (fractions * 100), which numpy divides back.
    fractions = (np.linspace(0, 1, int(bins) + 1) * 100.0) / 100
    edges = _segment_quantiles(sorted_values, cells, fractions)
    edges_below = _count_edges_below(sorted_values, cells, edges)
    out = np.full(block.data.shape, NO_LABEL, dtype=np.int64)
    # Only the minimum has no edge below it; the first bin includes it.
    out.ravel()[cells.flat] = np.maximum(edges_below - 1, 0)
    return out


def _count_edges_below(sorted_values: FloatArray, cells: _Cells, edges: FloatArray) -> IndexArray:
    """For each sorted cell, how many of its segment's edges are below its value."""
    n_cells = len(sorted_values)
    n_edges = edges.shape[1]
    start = np.repeat(cells.start, n_edges)
    end = start + np.repeat(cells.size, n_edges)
    not_above = _count_not_above(sorted_values, start, end, edges.ravel())
    # An edge is below the cells past its "<= edge" prefix, up to the segment's end.
    raised = np.bincount(start + not_above, minlength=n_cells + 1)
    lowered = np.bincount(end, minlength=n_cells + 1)
    return np.cumsum(raised - lowered)[:n_cells]


def _count_not_above(
    sorted_values: FloatArray, start: IndexArray, end: IndexArray, limit: FloatArray
) -> IndexArray:
    """How many of sorted_values[start:end] are <= limit, for many slices at once."""
    low = start.copy()
    high = end.copy()
    searching = low < high
    while searching.any():  # one binary search over all slices together: log2(N) rounds
        middle = (low + high) // 2
        within = np.zeros(len(low), dtype=bool)
        within[searching] = sorted_values[middle[searching]] <= limit[searching]
        low = np.where(searching & within, middle + 1, low)
        high = np.where(searching & ~within, middle, high)
        searching = low < high
    return low - start


def percentile_between(
    values: npt.ArrayLike, mask: npt.ArrayLike, min_percentile: float, max_percentile: float
) -> BoolArray:
    """True where a value lies within its day's percentile bounds (zipline ``PercentileFilter``).

    The bounds are ``np.nanpercentile`` of the day's cells in the mask; both
    are inclusive.

    Parameters
    ----------
    values : (D, N) array
    mask : (D, N) bool array
        Cells that take part in the bounds; the others are False.
    min_percentile, max_percentile : float
        Percentiles on zipline's scale, ``0 <= min_percentile < max_percentile <= 100``.

    Returns
    -------
    (D, N) bool array
        False for NaN values and cells outside the mask.
    """
    if not 0.0 <= min_percentile < max_percentile <= 100.0:
        raise PipelineError(
            "min_percentile and max_percentile must satisfy 0 <= min_percentile < "
            f"max_percentile <= 100; got {min_percentile!r} and {max_percentile!r}"
        )
    block = _block(values, mask, None)
    cells = _gather(block.valid, None, block.data)
    sorted_values = block.data.ravel()[cells.flat]
    bounds = _segment_quantiles(
        sorted_values, cells, np.array([min_percentile, max_percentile]) / 100
    )
    lower = bounds[cells.segment, 0]
    upper = bounds[cells.segment, 1]
    out = np.zeros(block.data.shape, dtype=bool)
    out.ravel()[cells.flat] = (lower <= sorted_values) & (sorted_values <= upper)
    return out


# ---------------------------------------------------------------- peer count


def peer_count(labels: npt.ArrayLike, mask: npt.ArrayLike) -> FloatArray:
    """For each cell, how many cells of its day share its label (zipline ``PeerCount``).

    Parameters
    ----------
    labels : (D, N) int array
        Classifier labels; -1 is missing.
    mask : (D, N) bool array
        Cells that are counted; the others are NaN.

    Returns
    -------
    (D, N) float64 array
        The count, the cell itself included; NaN for missing labels and for
        cells outside the mask.
    """
    array = np.asarray(labels)
    if array.ndim != 2:
        raise PipelineError(f"labels must be a 2-D (days, assets) array, got shape {array.shape}")
    codes = _as_labels(array, array.shape, "labels")
    cells = _gather(_as_mask(mask, codes.shape, of="labels"), codes, None)
    return _per_cell(cells.size.astype(np.float64), cells, codes.shape)


__all__ = [
    "RANK_METHODS",
    "demean",
    "peer_count",
    "percentile_between",
    "quantiles",
    "rank",
    "winsorize",
    "zscore",
]
