"""Cross-sectional kernels against pandas/NumPy references and hand-computed cases.

The references work one day (and one group) at a time with pandas or plain
NumPy; the kernels work on the whole block at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import hypothesis.strategies as st
import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

from rustybt.pipeline.kernels.cross_section import (
    RANK_METHODS,
    demean,
    peer_count,
    percentile_between,
    quantiles,
    rank,
    winsorize,
    zscore,
)

nan = np.nan
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# pandas' "first" is the ordinal rank: ties by order of appearance, i.e. column order.
PANDAS_METHOD = {
    "ordinal": "first",
    "average": "average",
    "min": "min",
    "max": "max",
    "dense": "dense",
}


def _block(
    seed: int, days: int = 12, assets: int = 30, n_groups: int = 4, ties: bool = False
) -> tuple[Floats, Bools, Ints]:
    """Random values with NaNs, a mask, groups with missing labels, and an empty day."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(days, assets))
    if ties:
        values = np.round(values * 2) / 2
    values[rng.random((days, assets)) < 0.1] = nan
    mask = rng.random((days, assets)) >= 0.2
    mask[1] = False  # a day where nothing takes part
    groups = rng.integers(-1, n_groups, size=(days, assets))
    return values, mask, groups


def _per_segment(
    values: Floats,
    mask: Bools,
    groups: Ints | None,
    transform: Callable[[pd.Series], pd.Series],
    missing: float = nan,
) -> Floats:
    """Apply ``transform`` to each day's (group's) cells in the mask; ``missing`` elsewhere."""
    out = np.full(values.shape, missing)
    for day in range(values.shape[0]):
        labels = np.zeros(values.shape[1], dtype=np.int64) if groups is None else groups[day]
        taking_part = mask[day] & (labels != -1)
        for label in np.unique(labels[taking_part]):
            columns = np.flatnonzero(taking_part & (labels == label))
            out[day, columns] = transform(pd.Series(values[day, columns])).to_numpy()
    return out


# ---------------------------------------------------------------- rank


@pytest.mark.parametrize("method", RANK_METHODS)
@pytest.mark.parametrize("ascending", [True, False])
@pytest.mark.parametrize("grouped", [False, True])
def test_rank_matches_pandas_per_day_and_group(method: str, ascending: bool, grouped: bool) -> None:
    values, mask, groups = _block(seed=1, ties=True)
    by = groups if grouped else None

    def reference(series: pd.Series) -> pd.Series:
        return series.rank(method=PANDAS_METHOD[method], ascending=ascending, na_option="keep")

    expected = _per_segment(values, mask, by, reference)
    np.testing.assert_array_equal(rank(values, mask, method, ascending, groups=by), expected)


def test_rank_hand_computed_ties_nan_and_mask() -> None:
    values = np.array([[3.0, 1.0, nan, 1.0, 2.0, 1.0]])
    mask = np.array([[True, True, True, True, True, False]])
    # The NaN and the masked cell take no part; ordinal ties go by column order.
    np.testing.assert_array_equal(rank(values, mask), [[4.0, 1.0, nan, 2.0, 3.0, nan]])
    np.testing.assert_array_equal(
        rank(values, mask, ascending=False), [[1.0, 3.0, nan, 4.0, 2.0, nan]]
    )
    np.testing.assert_array_equal(rank(values, mask, "average"), [[4.0, 1.5, nan, 1.5, 3.0, nan]])
    np.testing.assert_array_equal(rank(values, mask, "min"), [[4.0, 1.0, nan, 1.0, 3.0, nan]])
    np.testing.assert_array_equal(rank(values, mask, "max"), [[4.0, 2.0, nan, 2.0, 3.0, nan]])
    np.testing.assert_array_equal(rank(values, mask, "dense"), [[3.0, 1.0, nan, 1.0, 2.0, nan]])


def test_rank_groups_single_members_missing_labels_and_infinities() -> None:
    values = np.array([[5.0, -np.inf, 7.0, 1.0, np.inf, 2.0]])
    mask = np.ones((1, 6), dtype=bool)
    groups = np.array([[0, 0, 1, -1, 0, 2]])
    # Group 0 holds 5, -inf, inf; groups 1 and 2 one cell each; -1 takes no part.
    np.testing.assert_array_equal(
        rank(values, mask, groups=groups), [[2.0, 1.0, 1.0, nan, 3.0, 1.0]]
    )


def test_rank_day_without_cells_and_empty_block() -> None:
    values = np.array([[1.0, 2.0], [nan, nan], [4.0, 3.0]])
    mask = np.array([[False, False], [True, True], [True, True]])
    np.testing.assert_array_equal(rank(values, mask), [[nan, nan], [nan, nan], [2.0, 1.0]])
    assert rank(np.empty((0, 3)), np.empty((0, 3), dtype=bool)).shape == (0, 3)


def test_rank_labels_need_not_be_small() -> None:
    values = np.array([[1.0, 2.0, 3.0, 4.0]])
    groups = np.array([[10**12, -(10**12), 10**12, -(10**12)]])
    np.testing.assert_array_equal(
        rank(values, np.ones((1, 4), dtype=bool), groups=groups), [[1.0, 1.0, 2.0, 2.0]]
    )


def test_rank_rejects_an_unknown_method_in_one_line() -> None:
    values, mask, _ = _block(seed=2)
    with pytest.raises(ValueError, match=r"method must be one of average, .*ordinal; got 'first'"):
        rank(values, mask, method="first")


finite_rows = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 6), st.integers(1, 25)),
    elements=st.one_of(st.integers(-5, 5).map(float), st.just(nan)),
)


@settings(max_examples=40, deadline=None)
@given(values=finite_rows, data=st.data())
def test_ordinal_ranks_of_a_day_are_a_permutation(values: Floats, data: st.DataObject) -> None:
    mask = data.draw(hnp.arrays(np.bool_, values.shape))
    ranks = rank(values, mask, ascending=data.draw(st.booleans()))
    valid = mask & ~np.isnan(values)
    assert np.array_equal(np.isnan(ranks), ~valid)
    for day in range(values.shape[0]):
        k = int(valid[day].sum())
        assert sorted(ranks[day][valid[day]]) == list(range(1, k + 1))


@settings(max_examples=40, deadline=None)
@given(values=finite_rows, data=st.data())
def test_grouped_ranks_equal_ranks_of_each_group_alone(values: Floats, data: st.DataObject) -> None:
    mask = data.draw(hnp.arrays(np.bool_, values.shape))
    groups = data.draw(hnp.arrays(np.int64, values.shape, elements=st.integers(-1, 2)))
    method = data.draw(st.sampled_from(RANK_METHODS))
    grouped = rank(values, mask, method, groups=groups)
    for label in range(3):
        alone = rank(values, mask & (groups == label), method)
        in_group = mask & (groups == label)
        np.testing.assert_array_equal(grouped[in_group], alone[in_group])
    assert np.isnan(grouped[groups == -1]).all()


# ---------------------------------------------------------------- demean, zscore


@pytest.mark.parametrize("grouped", [False, True])
def test_demean_and_zscore_match_pandas(grouped: bool) -> None:
    values, mask, groups = _block(seed=3, n_groups=5)
    by = groups if grouped else None
    np.testing.assert_allclose(
        demean(values, mask, by),
        _per_segment(values, mask, by, lambda s: s - s.mean()),
        rtol=1e-12,
        atol=1e-15,
    )
    np.testing.assert_allclose(
        zscore(values, mask, by),
        _per_segment(values, mask, by, lambda s: (s - s.mean()) / s.std(ddof=0)),
        rtol=1e-12,
    )


def test_zscore_degenerate_groups_are_nan_and_demean_zero() -> None:
    values = np.array([[1.5, 2.5, 7.0, 7.0, nan, 4.0, 9.0]])
    mask = np.array([[True, True, True, True, True, True, False]])
    groups = np.array([[0, 0, 1, 1, 2, 3, 0]])
    # group 0: 1.5, 2.5 (mean 2, std .5); group 1: equal values; 2: only a NaN; 3: one value
    np.testing.assert_array_equal(
        zscore(values, mask, groups), [[-1.0, 1.0, nan, nan, nan, nan, nan]]
    )
    np.testing.assert_array_equal(
        demean(values, mask, groups), [[-0.5, 0.5, 0.0, 0.0, nan, 0.0, nan]]
    )


def test_demean_ignores_nans_and_masked_cells_in_the_mean() -> None:
    values = np.array([[1.0, nan, 3.0, 100.0], [nan, nan, nan, nan]])
    mask = np.array([[True, True, True, False], [True, True, True, True]])
    np.testing.assert_array_equal(
        demean(values, mask), [[-1.0, nan, 1.0, nan], [nan, nan, nan, nan]]
    )


@settings(max_examples=40, deadline=None)
@given(
    values=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 5), st.integers(2, 20)),
        elements=st.floats(-1e3, 1e3, allow_nan=False),
    ),
    data=st.data(),
)
def test_zscore_segments_have_mean_zero_and_unit_spread(
    values: Floats, data: st.DataObject
) -> None:
    groups = data.draw(hnp.arrays(np.int64, values.shape, elements=st.integers(0, 1)))
    scores = zscore(values, np.ones(values.shape, dtype=bool), groups)
    for day in range(values.shape[0]):
        for label in (0, 1):
            cells = values[day][groups[day] == label]
            if cells.size < 2 or np.ptp(cells) < 1e-6:
                continue
            z = scores[day][groups[day] == label]
            assert abs(z.mean()) < 1e-9
            assert abs(z.std() - 1) < 1e-9


# ---------------------------------------------------------------- winsorize


def _winsorized(series: pd.Series, min_percentile: float, max_percentile: float) -> pd.Series:
    """Zipline's rule, written out: k non-NaN values sorted, clipped at two positions."""
    finite = np.sort(series.dropna().to_numpy())
    if finite.size == 0:
        return series
    low = finite[int(np.floor(min_percentile * finite.size))]
    high = finite[max(int(np.ceil(max_percentile * finite.size)) - 1, 0)]
    return series.clip(low, high)


@pytest.mark.parametrize("bounds", [(0.0, 1.0), (0.1, 0.9), (0.25, 0.75), (0.0, 0.3), (0.6, 1.0)])
@pytest.mark.parametrize("grouped", [False, True])
def test_winsorize_matches_the_rule_per_segment(bounds: tuple[float, float], grouped: bool) -> None:
    values, mask, groups = _block(seed=4, ties=True)
    by = groups if grouped else None
    expected = _per_segment(values, mask, by, lambda s: _winsorized(s, *bounds))
    np.testing.assert_array_equal(winsorize(values, mask, *bounds, groups=by), expected)


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        # What zipline's winsorize returns for 1..6 (its docstring's table is off for 2 and 3).
        ((0.25, 0.75), [2, 2, 3, 4, 5, 5]),
        ((0.5, 1.0), [4, 4, 4, 4, 5, 6]),
        ((0.0, 0.5), [1, 2, 3, 3, 3, 3]),
    ],
)
def test_winsorize_hand_computed(bounds: tuple[float, float], expected: list[int]) -> None:
    prices = np.array([[6.0, 1.0, 4.0, 2.0, 5.0, 3.0, nan]])
    out = winsorize(prices, np.ones(prices.shape, dtype=bool), *bounds)
    order = [1, 3, 5, 2, 4, 0]  # columns holding 1, 2, ..., 6
    assert out[0, order].tolist() == expected
    assert np.isnan(out[0, 6])


@pytest.mark.parametrize("bounds", [(-0.1, 0.5), (0.5, 0.5), (0.6, 0.4), (0.2, 1.5)])
def test_winsorize_rejects_bad_percentiles(bounds: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match=r"0 <= min_percentile < max_percentile <= 1; got"):
        winsorize(np.zeros((1, 2)), np.ones((1, 2), dtype=bool), *bounds)


# ---------------------------------------------------------------- quantiles


@pytest.mark.parametrize("bins", [1, 2, 4, 5, 10])
@pytest.mark.parametrize("grouped", [False, True])
def test_quantiles_match_pandas_qcut(bins: int, grouped: bool) -> None:
    values, mask, groups = _block(seed=5, assets=60, n_groups=3)
    by = groups if grouped else None

    def reference(series: pd.Series) -> pd.Series:
        labels = pd.qcut(series, bins, labels=False)
        return labels.astype(float)

    expected = _per_segment(values, mask, by, reference)
    expected = np.where(np.isnan(expected), -1, expected).astype(np.int64)
    np.testing.assert_array_equal(quantiles(values, mask, bins, by), expected)


def test_quantiles_edges_on_values_are_right_closed() -> None:
    # Five values, four bins: the edges are the values 0, 1, 2, 3, 4 themselves.
    values = np.array([[4.0, 0.0, 2.0, 1.0, 3.0, nan]])
    out = quantiles(values, np.ones(values.shape, dtype=bool), 4)
    assert out.tolist() == [[3, 0, 1, 0, 2, -1]]


def test_quantiles_ties_share_a_bin_where_zipline_would_raise() -> None:
    values = np.array([[1.0, 1.0, 1.0, 2.0], [5.0, 5.0, 5.0, 5.0], [7.0, nan, nan, nan]])
    mask = np.ones(values.shape, dtype=bool)
    # day 0 edges 1, 1, 1, 1.25, 2; day 1 all 5; day 2 a lone value
    assert quantiles(values, mask, 4).tolist() == [[0, 0, 0, 3], [0, 0, 0, 0], [0, -1, -1, -1]]


def test_quantiles_masked_cells_and_empty_days_are_minus_one() -> None:
    values = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    mask = np.array([[True, False, True], [False, False, False]])
    assert quantiles(values, mask, 2).tolist() == [[0, -1, 1], [-1, -1, -1]]


@pytest.mark.parametrize("bins", [0, -3, 2.5, True])
def test_quantiles_rejects_bad_bins(bins: object) -> None:
    with pytest.raises(ValueError, match="bins must be an integer >= 1"):
        quantiles(np.zeros((1, 2)), np.ones((1, 2), dtype=bool), bins)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(values=finite_rows, bins=st.integers(1, 7))
def test_quantile_labels_rise_with_the_value(values: Floats, bins: int) -> None:
    labels = quantiles(values, np.ones(values.shape, dtype=bool), bins)
    assert np.array_equal(labels == -1, np.isnan(values))
    for day in range(values.shape[0]):
        valid = ~np.isnan(values[day])
        by_value = labels[day][valid][np.argsort(values[day][valid], kind="stable")]
        assert (np.diff(by_value) >= 0).all()
        assert ((by_value >= 0) & (by_value < bins)).all()


# ---------------------------------------------------------------- percentile_between


@pytest.mark.parametrize(
    "bounds", [(0, 100), (10, 90), (25, 75), (50, 100), (0, 33.3), (12.5, 12.6)]
)
def test_percentile_between_matches_nanpercentile(bounds: tuple[float, float]) -> None:
    values, mask, _ = _block(seed=6, ties=True)
    data = np.where(mask, values, nan)
    expected = np.zeros(values.shape, dtype=bool)
    for day in range(values.shape[0]):
        if np.isnan(data[day]).all():
            continue
        low, high = np.nanpercentile(data[day], bounds)
        expected[day] = (low <= data[day]) & (data[day] <= high)
    np.testing.assert_array_equal(percentile_between(values, mask, *bounds), expected)


def test_percentile_between_is_inclusive_and_false_outside_the_mask() -> None:
    values = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, nan, 2.5]])
    mask = np.array([[True, True, True, True, True, True, False]])
    # bounds: 25th percentile = 2, 75th = 4, both included
    assert percentile_between(values, mask, 25, 75).tolist() == [
        [False, True, True, True, False, False, False]
    ]


def test_percentile_between_rejects_bad_percentiles() -> None:
    with pytest.raises(ValueError, match=r"max_percentile <= 100; got 10 and 101"):
        percentile_between(np.zeros((1, 2)), np.ones((1, 2), dtype=bool), 10, 101)


# ---------------------------------------------------------------- peer_count


def test_peer_count_matches_a_counter_per_day() -> None:
    _, mask, groups = _block(seed=7, n_groups=6)
    expected = np.full(groups.shape, nan)
    for day in range(groups.shape[0]):
        counts = Counter(groups[day][mask[day]].tolist())
        for column in np.flatnonzero(mask[day] & (groups[day] != -1)):
            expected[day, column] = counts[groups[day, column]]
    np.testing.assert_array_equal(peer_count(groups, mask), expected)


def test_peer_count_zipline_docstring_example() -> None:
    # zipline's example with 'a'=0, 'b'=1, 'c'=2, 'aa'=3 and None = -1
    labels = np.array(
        [[0, 0, -1, 1, 0, -1], [1, 0, 2, 1, 1, 1], [-1, 0, 3, 3, 3, -1], [2, 2, 2, 2, 2, 2]]
    )
    expected = [
        [3.0, 3.0, nan, 1.0, 3.0, nan],
        [4.0, 1.0, 1.0, 4.0, 4.0, 4.0],
        [nan, 1.0, 3.0, 3.0, 3.0, nan],
        [6.0, 6.0, 6.0, 6.0, 6.0, 6.0],
    ]
    np.testing.assert_array_equal(peer_count(labels, np.ones(labels.shape, dtype=bool)), expected)


# ---------------------------------------------------------------- inputs


def test_inputs_are_left_untouched_and_may_be_read_only() -> None:
    values, mask, groups = _block(seed=8)
    for array in (values, mask, groups):
        array.flags.writeable = False
    before = values.copy()
    rank(values, mask, "average", False, groups)
    zscore(values, mask, groups)
    winsorize(values, mask, 0.1, 0.9, groups)
    quantiles(values, mask, 4, groups)
    percentile_between(values, mask, 5, 95)
    peer_count(groups, mask)
    np.testing.assert_array_equal(values, before)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: rank(np.zeros(3), np.ones(3, dtype=bool)), "values must be a 2-D"),
        (lambda: rank(np.zeros((2, 3)), np.ones((2, 2), dtype=bool)), "mask has shape"),
        (lambda: demean(np.zeros((2, 3)), np.ones((2, 3))), "mask must be a boolean array"),
        (
            lambda: zscore(np.zeros((1, 2)), np.ones((1, 2), dtype=bool), np.zeros((1, 2))),
            "groups must be an integer array",
        ),
        (
            lambda: zscore(
                np.zeros((1, 2)), np.ones((1, 2), dtype=bool), np.zeros((1, 3), dtype=np.int64)
            ),
            "groups has shape",
        ),
        (lambda: peer_count(np.zeros((2, 2)), np.ones((2, 2), dtype=bool)), "labels must be"),
    ],
)
def test_bad_inputs_raise_one_line_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message) as raised:
        call()
    assert "\n" not in str(raised.value)
