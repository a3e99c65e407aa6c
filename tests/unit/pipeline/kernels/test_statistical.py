"""Statistical window kernels against plainly written per-column, per-day references.

The references loop over days and columns and call numpy.corrcoef, pandas'
rank and scipy.stats.linregress on one pair of 1-D windows at a time, with
zipline's rules for missing sessions spelled out in Python.
"""

from __future__ import annotations

import warnings

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from scipy import stats

from rustybt.pipeline.kernels.statistical import (
    allowed_missing_count,
    linear_regression,
    pearson_r,
    simple_beta,
    spearman_r,
)

FIELDS = ("alpha", "beta", "r_value", "p_value", "stderr")


# --- plain references: one column of one day at a time ------------------------------


def ref_pearson(x: np.ndarray, y: np.ndarray, allowed: int) -> float:
    present = ~(np.isnan(x) | np.isnan(y))
    if (~present).sum() > allowed or present.sum() < 2:
        return np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.corrcoef(x[present], y[present])[0, 1])


def ref_spearman(x: np.ndarray, y: np.ndarray, allowed: int) -> float:
    present = ~(np.isnan(x) | np.isnan(y))
    if (~present).sum() > allowed or present.sum() < 2:
        return np.nan
    x_ranks = pd.Series(x[present]).rank(method="average").to_numpy()
    y_ranks = pd.Series(y[present]).rank(method="average").to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.corrcoef(x_ranks, y_ranks)[0, 1])


def ref_linregress(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    if np.isnan(x).any() or np.isnan(y).any() or np.all(x == x[0]):
        # linregress returns NaN for NaN input and raises for a constant x.
        return dict.fromkeys(FIELDS, np.nan)
    result = stats.linregress(x, y)
    return {
        "alpha": result.intercept,
        "beta": result.slope,
        "r_value": result.rvalue,
        "p_value": result.pvalue,
        "stderr": result.stderr,
    }


def ref_beta(x: np.ndarray, y: np.ndarray, allowed: int) -> float:
    present = ~(np.isnan(x) | np.isnan(y))
    if (~present).sum() > allowed or present.sum() == 0:
        return np.nan
    x_residual = x[present] - x[present].mean()
    y_residual = y[present] - y[present].mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(x_residual * y_residual) / np.sum(x_residual**2))


def per_column(reference, target: np.ndarray, values: np.ndarray, *args: int) -> np.ndarray:
    """Apply a reference to every (day, column) of (W, N) or (D, W, N) windows."""
    target_b = np.broadcast_to(target, values.shape)
    flat_t = target_b.reshape(-1, *values.shape[-2:])
    flat_v = values.reshape(-1, *values.shape[-2:])
    out = np.array(
        [
            [reference(flat_t[d, :, n], flat_v[d, :, n], *args) for n in range(values.shape[-1])]
            for d in range(flat_v.shape[0])
        ]
    )
    return out.reshape((*values.shape[:-2], values.shape[-1]))


def ref_regressions(target: np.ndarray, values: np.ndarray) -> dict[str, np.ndarray]:
    return {
        field: per_column(lambda x, y, f=field: ref_linregress(x, y)[f], target, values)
        for field in FIELDS
    }


# --- inputs ----------------------------------------------------------------------------


def returns(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape) * 0.02


def with_gaps(rng: np.random.Generator, values: np.ndarray, fraction: float) -> np.ndarray:
    gapped = values.copy()
    gapped[rng.random(values.shape) < fraction] = np.nan
    return gapped


def degenerate_panel(rng: np.random.Generator, window: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """A target and columns: generic, 2 NaNs, 5 NaNs, constant, all-NaN, ties, the target."""
    target = returns(rng, (window, 1))
    values = returns(rng, (window, 7))
    values[[1, 7], 1] = np.nan
    values[[0, 2, 3, 8, 11], 2] = np.nan
    values[:, 3] = 0.5
    values[:, 4] = np.nan
    values[:, 5] = np.round(values[:, 5] * 100) / 100
    values[:, 6] = target[:, 0]
    return target, values


def assert_close(
    ours: np.ndarray, expected: np.ndarray, rtol: float = 1e-12, atol: float = 1e-15
) -> None:
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=atol, equal_nan=True)


# --- pearson_r --------------------------------------------------------------------------


def test_pearson_hand_computed() -> None:
    target = np.array([[1.0], [2.0], [3.0], [4.0]])
    values = np.array([[2.0, 4.0, 1.0], [4.0, 3.0, 3.0], [6.0, 2.0, 1.0], [8.0, 1.0, 3.0]])
    # Column 2 against 1..4: Sxy = 2, Sxx = 5, Syy = 4, so r = 2 / sqrt(20).
    assert_close(pearson_r(target, values), np.array([1.0, -1.0, 1 / np.sqrt(5)]))


@pytest.mark.parametrize("allowed", [0, 1, 2, 5, 12])
def test_pearson_matches_corrcoef_with_gaps_and_degenerate_columns(allowed: int) -> None:
    target, values = degenerate_panel(np.random.default_rng(1))
    ours = pearson_r(target, values, allowed_missing=allowed)
    assert_close(ours, per_column(ref_pearson, target, values, allowed))
    assert np.isnan(ours[3]) and np.isnan(ours[4])  # zero variance, all NaN
    assert np.isnan(ours[1]) == (allowed < 2) and np.isnan(ours[2]) == (allowed < 5)


def test_pearson_target_gap_counts_against_every_column() -> None:
    rng = np.random.default_rng(2)
    target, values = returns(rng, (10, 1)), returns(rng, (10, 4))
    target[3, 0] = np.nan
    values[5, 1] = np.nan
    assert np.isnan(pearson_r(target, values, 0)).all()
    one_gap = pearson_r(target, values, 1)
    assert np.isnan(one_gap[1]) and not np.isnan(one_gap[[0, 2, 3]]).any()
    assert_close(one_gap, per_column(ref_pearson, target, values, 1))


def test_pearson_batched_days_match_reference() -> None:
    rng = np.random.default_rng(3)
    target = with_gaps(rng, returns(rng, (4, 20, 1)), 0.03)
    values = with_gaps(rng, returns(rng, (4, 20, 6)), 0.05)
    for allowed in (0, 3):
        ours = pearson_r(target, values, allowed)
        assert ours.shape == (4, 6)
        assert_close(ours, per_column(ref_pearson, target, values, allowed))


def test_pearson_asset_wise_target() -> None:
    rng = np.random.default_rng(4)
    target, values = returns(rng, (15, 5)), with_gaps(rng, returns(rng, (15, 5)), 0.1)
    expected = [pearson_r(target[:, [n]], values[:, [n]], 2)[0] for n in range(5)]
    assert_close(pearson_r(target, values, 2), np.array(expected))


# --- spearman_r -------------------------------------------------------------------------


def test_spearman_hand_computed_with_ties() -> None:
    target = np.array([[1.0], [2.0], [3.0], [4.0]])
    values = np.array([[10.0, 5.0], [20.0, 5.0], [20.0, 1.0], [30.0, 0.0]])
    # Column 0 ranks 1, 2.5, 2.5, 4; column 1 ranks 3.5, 3.5, 2, 1.
    expected_0 = np.corrcoef([1, 2, 3, 4], [1, 2.5, 2.5, 4])[0, 1]
    expected_1 = np.corrcoef([1, 2, 3, 4], [3.5, 3.5, 2, 1])[0, 1]
    assert_close(spearman_r(target, values), np.array([expected_0, expected_1]))


@pytest.mark.parametrize("allowed", [0, 2, 5])
def test_spearman_matches_pandas_ranks(allowed: int) -> None:
    target, values = degenerate_panel(np.random.default_rng(5))
    ours = spearman_r(target, values, allowed_missing=allowed)
    assert_close(ours, per_column(ref_spearman, target, values, allowed))
    assert ours[6] == 1.0 and np.isnan(ours[3]) and np.isnan(ours[4])


def test_spearman_is_scipy_spearmanr_without_gaps_and_omit_with_gaps() -> None:
    rng = np.random.default_rng(6)
    target = np.round(returns(rng, (30, 1)) * 200) / 200  # many ties
    values = np.round(with_gaps(rng, returns(rng, (30, 5)), 0.1) * 200) / 200
    values[:, 0] = np.round(returns(rng, 30) * 200) / 200
    plain = [stats.spearmanr(target[:, 0], values[:, n]).statistic for n in range(5)]
    assert_close(spearman_r(target, values), np.array(plain))
    omit = [
        stats.spearmanr(target[:, 0], values[:, n], nan_policy="omit").statistic for n in range(5)
    ]
    assert_close(spearman_r(target, values, allowed_missing=30), np.array(omit))


def test_spearman_stays_within_one() -> None:
    rng = np.random.default_rng(7)
    target = returns(rng, (3, 40, 1))
    values = np.concatenate([target * 3.0, -target + 1.0, returns(rng, (3, 40, 2))], axis=-1)
    ours = spearman_r(target, values)
    assert (np.abs(ours) <= 1.0).all()
    np.testing.assert_array_equal(ours[:, :2], [[1.0, -1.0]] * 3)


# --- linear_regression ------------------------------------------------------------------


def test_linear_regression_hand_computed() -> None:
    target = np.array([[1.0], [2.0], [3.0], [4.0]])
    values = np.array([[3.0], [5.0], [7.0], [9.0]])  # y = 1 + 2x exactly
    result = linear_regression(target, values)
    assert_close(result["alpha"], np.array([1.0]))
    assert_close(result["beta"], np.array([2.0]))
    assert result["r_value"][0] == 1.0 and result["stderr"][0] == 0.0
    assert result["p_value"][0] < 1e-12


def test_linear_regression_matches_scipy_linregress() -> None:
    target, values = degenerate_panel(np.random.default_rng(8), window=20)
    ours = linear_regression(target, values)
    expected = ref_regressions(target, values)
    assert set(ours) == set(FIELDS)
    for field in FIELDS:
        assert ours[field].shape == (7,)
        assert_close(ours[field], expected[field], rtol=1e-9)
    # A NaN anywhere makes every output NaN; a constant column has slope 0, r NaN.
    assert all(np.isnan(ours[field][[1, 2, 4]]).all() for field in FIELDS)
    assert ours["beta"][3] == 0.0 and ours["alpha"][3] == 0.5 and np.isnan(ours["r_value"][3])
    assert ours["r_value"][6] == 1.0 and ours["beta"][6] == 1.0


def test_linear_regression_batched_days_match_scipy() -> None:
    rng = np.random.default_rng(9)
    target = returns(rng, (3, 30, 1))
    values = with_gaps(rng, returns(rng, (3, 30, 4)), 0.02)
    ours = linear_regression(target, values)
    expected = ref_regressions(target, values)
    for field in FIELDS:
        assert ours[field].shape == (3, 4)
        assert_close(ours[field], expected[field], rtol=1e-9)


def test_linear_regression_two_sessions() -> None:
    target = np.array([[1.0], [2.0]])
    values = np.array([[1.0, 4.0], [3.0, 4.0]])
    ours = linear_regression(target, values)
    expected = ref_regressions(target, values)
    for field in FIELDS:
        assert_close(ours[field], expected[field])
    np.testing.assert_array_equal(ours["p_value"], [0.0, 1.0])
    np.testing.assert_array_equal(ours["stderr"], [0.0, 0.0])


def test_linear_regression_constant_target_is_nan() -> None:
    target = np.full((6, 1), 0.01)
    values = returns(np.random.default_rng(10), (6, 3))
    with pytest.raises(ValueError):
        stats.linregress(target[:, 0], values[:, 0])
    for output in linear_regression(target, values).values():
        assert np.isnan(output).all()


# --- simple_beta --------------------------------------------------------------------------


def test_simple_beta_hand_computed() -> None:
    target = np.array([[0.01], [-0.02], [0.03], [0.0]])
    values = np.column_stack([2 * target[:, 0], -0.5 * target[:, 0] + 0.001])
    assert_close(simple_beta(target, values, 0), np.array([2.0, -0.5]))


@pytest.mark.parametrize("allowed", [0, 2, 5, 12])
def test_simple_beta_matches_reference(allowed: int) -> None:
    target, values = degenerate_panel(np.random.default_rng(11))
    target[4, 0] = np.nan  # one gap shared by every column
    ours = simple_beta(target, values, allowed)
    # zipline centres the target only, so a constant column's zero slope
    # comes out as rounding noise times the column's level.
    assert_close(ours, per_column(ref_beta, target, values, allowed), atol=1e-13)
    assert np.isnan(ours[4])  # all NaN
    if allowed >= 1:  # a constant column has no slope
        assert abs(ours[3]) < 1e-13
    assert np.isnan(ours[0]) == (allowed < 1) and np.isnan(ours[2]) == (allowed < 6)


def test_simple_beta_of_a_constant_target_is_nan() -> None:
    target = np.full((8, 1), 0.5)
    values = returns(np.random.default_rng(12), (8, 3))
    assert np.isnan(simple_beta(target, values, 2)).all()


def test_simple_beta_batched_days_match_reference() -> None:
    rng = np.random.default_rng(13)
    target = with_gaps(rng, returns(rng, (5, 25, 1)), 0.05)
    values = with_gaps(rng, returns(rng, (5, 25, 8)), 0.1)
    ours = simple_beta(target, values, 6)
    assert ours.shape == (5, 8)
    assert_close(ours, per_column(ref_beta, target, values, 6))


@pytest.mark.parametrize(
    ("window", "percentage", "count"),
    [(252, 0.25, 63), (3, 0.0, 0), (10, 1.0, 10), (100, 0.29, 28), (7, 1, 7)],
)
def test_allowed_missing_count_truncates_like_simple_beta(
    window: int, percentage: float, count: int
) -> None:
    # 0.29 * 100 is 28.999999999999996 in binary floating point: SimpleBeta truncates.
    assert allowed_missing_count(window, percentage) == count


@pytest.mark.parametrize(
    ("window", "percentage", "argument"),
    [
        (2, 0.25, "window_length"),
        (10.0, 0.25, "window_length"),
        (True, 0.25, "window_length"),
        (10, -0.1, "allowed_missing_percentage"),
        (10, 1.5, "allowed_missing_percentage"),
        (10, float("nan"), "allowed_missing_percentage"),
        (10, "0.25", "allowed_missing_percentage"),
    ],
)
def test_allowed_missing_count_rejects_bad_arguments(
    window: object, percentage: object, argument: str
) -> None:
    with pytest.raises(ValueError, match=argument) as info:
        allowed_missing_count(window, percentage)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


# --- contract shared by all kernels ----------------------------------------------------


def all_kernels(target: np.ndarray, values: np.ndarray, allowed: int) -> dict[str, np.ndarray]:
    outputs = {
        "pearson": pearson_r(target, values, allowed),
        "spearman": spearman_r(target, values, allowed),
        "beta": simple_beta(target, values, allowed),
    }
    outputs.update(linear_regression(target, values))
    return outputs


@settings(max_examples=60, deadline=None)
@given(
    days=st.integers(1, 4),
    window=st.integers(2, 12),
    assets=st.integers(1, 5),
    gap_fraction=st.sampled_from([0.0, 0.1, 0.4]),
    allowed=st.integers(0, 4),
    target_is_a_column=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_batched_days_equal_each_day_exactly(
    days: int,
    window: int,
    assets: int,
    gap_fraction: float,
    allowed: int,
    target_is_a_column: bool,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    # Rounded returns make ties and exactly repeated values likely.
    values = with_gaps(rng, np.round(returns(rng, (days, window, assets)), 3), gap_fraction)
    if target_is_a_column:
        target = values[..., :1]  # a strided view, as a slice of the panel would be
    else:
        target = with_gaps(rng, np.round(returns(rng, (days, window, 1)), 3), gap_fraction / 4)
    batched = all_kernels(target, values, allowed)
    for day in range(days):
        single = all_kernels(target[day], values[day], allowed)
        for name, output in batched.items():
            assert output.shape == (days, assets)
            np.testing.assert_array_equal(output[day], single[name], err_msg=name)


def test_inputs_untouched_read_only_and_integer_accepted() -> None:
    rng = np.random.default_rng(14)
    target = with_gaps(rng, returns(rng, (2, 9, 1)), 0.1)
    values = with_gaps(rng, returns(rng, (2, 9, 3)), 0.2)
    target_before, values_before = target.copy(), values.copy()
    target.setflags(write=False)
    values.setflags(write=False)
    for allowed in (0, 3):
        for output in all_kernels(target, values, allowed).values():
            assert output.dtype == np.float64 and output.flags.writeable
            assert not np.shares_memory(output, values)
    np.testing.assert_array_equal(target, target_before)
    np.testing.assert_array_equal(values, values_before)
    int_target = np.arange(8, dtype=np.int64).reshape(8, 1)
    int_values = np.array([[3, 1], [5, 4], [4, 1], [8, 5], [9, 9], [12, 2], [11, 6], [15, 5]])
    assert_close(pearson_r(int_target, int_values), pearson_r(int_target * 1.0, int_values * 1.0))


@pytest.mark.parametrize("kernel", [pearson_r, spearman_r, simple_beta])
def test_bad_allowed_missing_is_a_one_line_error(kernel) -> None:
    target, values = np.zeros((5, 1)), np.zeros((5, 2))
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="allowed_missing") as info:
            kernel(target, values, bad)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("target_shape", "values_shape", "argument"),
    [
        ((5, 2), (5, 3), "target"),  # neither one column nor one per asset
        ((4, 1), (5, 3), "target"),  # other window length
        ((2, 5, 1), (3, 5, 3), "target"),  # other number of days
        ((5,), (5,), "values"),  # no asset axis
    ],
)
def test_mismatched_shapes_are_one_line_errors(
    target_shape: tuple[int, ...], values_shape: tuple[int, ...], argument: str
) -> None:
    target, values = np.zeros(target_shape), np.zeros(values_shape)
    for call in (
        lambda: pearson_r(target, values),
        lambda: spearman_r(target, values),
        lambda: simple_beta(target, values, 0),
        lambda: linear_regression(target, values),
    ):
        with pytest.raises(ValueError, match=argument) as info:
            call()
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("window", [0, 1])
def test_windows_need_two_sessions(window: int) -> None:
    target, values = np.zeros((window, 1)), np.zeros((window, 3))
    for call in (
        lambda: pearson_r(target, values),
        lambda: spearman_r(target, values),
        lambda: simple_beta(target, values, 0),
        lambda: linear_regression(target, values),
    ):
        with pytest.raises(ValueError, match="values must hold windows of at least 2 sessions"):
            call()


def test_no_assets_and_no_days_give_empty_results() -> None:
    for target, values in (
        (np.zeros((5, 1)), np.zeros((5, 0))),
        (np.zeros((0, 5, 1)), np.zeros((0, 5, 3))),
    ):
        for output in all_kernels(target, values, 1).values():
            assert output.shape == values.shape[:-2] + values.shape[-1:]
