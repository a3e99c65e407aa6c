"""Benchmark-relative statistics against empyrical (and NumPy's correlation)."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rustybt.analytics.relative import (
    aligned,
    alpha_beta,
    beta,
    correlation,
    down_capture,
    information_ratio,
    rolling_beta,
    tracking_error,
    up_capture,
)
from rustybt.exceptions import ParameterValidationError
from tests.unit.analytics.returns_kit import basis_points, maybe_nan, same, series_of

ROOT_252 = math.sqrt(252)

# Pairs of (returns, benchmark) of one length: ordinary, with NaN on either side,
# a constant benchmark, all-negative, and short.
pairs = st.integers(0, 120).flatmap(
    lambda n: st.tuples(
        st.lists(st.one_of(maybe_nan, basis_points), min_size=n, max_size=n),
        st.one_of(
            st.lists(st.one_of(maybe_nan, basis_points), min_size=n, max_size=n),
            st.lists(st.integers(-9000, -1).map(lambda bp: bp / 10_000), min_size=n, max_size=n),
            basis_points.map(lambda value: [value] * n),
        ),
    )
)

quiet = [
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:Degrees of freedom:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:All-NaN slice:RuntimeWarning"),
]


def apply_quiet(test: object) -> object:
    for mark in quiet:
        test = mark(test)
    return test


@apply_quiet
@settings(max_examples=250, deadline=None)
@given(pair=pairs)
def test_relative_statistics_match_empyrical(pair: tuple[list[float], list[float]]) -> None:
    ours, theirs = series_of(pair[0]), series_of(pair[1])
    alpha, slope = alpha_beta(ours, theirs)
    expected_alpha, expected_beta = empyrical.alpha_beta(ours, theirs)
    assert same(alpha, expected_alpha) and same(slope, expected_beta), (alpha, slope)
    assert same(beta(ours, theirs), expected_beta)
    assert same(information_ratio(ours, theirs), empyrical.excess_sharpe(ours, theirs) * ROOT_252)
    present = ours.notna() & theirs.notna()
    active = (ours - theirs)[present]
    assert same(tracking_error(ours, theirs), empyrical.annual_volatility(active))
    assert same(up_capture(ours, theirs), empyrical.up_capture(ours, theirs))
    assert same(down_capture(ours, theirs), empyrical.down_capture(ours, theirs))


@apply_quiet
@settings(max_examples=150, deadline=None)
@given(pair=pairs)
def test_correlation_matches_numpy_on_the_sessions_both_have(
    pair: tuple[list[float], list[float]],
) -> None:
    ours, theirs = np.array(pair[0]), np.array(pair[1])
    both = ~(np.isnan(ours) | np.isnan(theirs))
    ours, theirs = ours[both], theirs[both]
    got = correlation(pair[0], pair[1])
    if len(ours) < 2 or np.ptp(ours) == 0 or np.ptp(theirs) == 0:
        assert math.isnan(got)
    else:
        assert same(got, np.corrcoef(ours, theirs)[0, 1]) and -1.0 <= got <= 1.0


@apply_quiet
@settings(max_examples=150, deadline=None)
@given(pair=pairs, window=st.integers(2, 30))
def test_rolling_beta_matches_empyrical(pair: tuple[list[float], list[float]], window: int) -> None:
    ours, theirs = series_of(pair[0]), series_of(pair[1])
    rolled = rolling_beta(ours, theirs, window)
    assert rolled.index.equals(ours.index)
    assert rolled.iloc[: window - 1].isna().all()
    if len(ours) < window:
        assert rolled.isna().all()
        return
    expected = empyrical.roll_beta(ours, theirs, window)
    tail = rolled.iloc[window - 1 :]
    assert all(same(a, b) for a, b in zip(tail, expected, strict=True))


def test_series_are_aligned_on_their_sessions() -> None:
    rng = np.random.default_rng(11)
    returns = series_of(list(rng.normal(0.0005, 0.01, 60)))
    benchmark = series_of(list(rng.normal(0.0003, 0.008, 60)))
    shifted = benchmark.iloc[10:]  # the benchmark starts ten sessions later
    ours, theirs = aligned(returns, shifted)
    assert ours.index.equals(returns.index) and theirs.iloc[:10].isna().all()
    assert np.allclose(alpha_beta(returns, shifted), empyrical.alpha_beta(returns, shifted))
    present = returns.iloc[10:]
    assert same(information_ratio(returns, shifted), information_ratio(present, shifted))
    assert same(up_capture(returns, shifted), empyrical.up_capture(present, shifted))
    assert same(correlation(returns, shifted), present.corr(shifted))


def test_known_cases() -> None:
    benchmark = np.array([0.01, -0.02, 0.015, 0.005, -0.01])
    levered = 2 * benchmark + 0.0001
    alpha, slope = alpha_beta(levered, benchmark)
    assert slope == pytest.approx(2.0) and alpha == pytest.approx(1.0001**252 - 1)
    assert correlation(levered, benchmark) == pytest.approx(1.0)
    assert correlation(-levered, benchmark) == pytest.approx(-1.0)
    assert tracking_error(benchmark, benchmark) == 0.0
    assert math.isnan(information_ratio(benchmark, benchmark))  # 0 / 0
    dyadic = np.array([0.5, -0.25, 0.125])  # so each excess is exactly 0.25
    assert information_ratio(dyadic + 0.25, dyadic) == math.inf  # a constant excess
    assert up_capture(benchmark, benchmark) == pytest.approx(1.0)
    assert down_capture(benchmark, benchmark) == pytest.approx(1.0)
    flat = np.zeros(5)
    assert math.isnan(beta(benchmark, flat)) and math.isnan(correlation(benchmark, flat))
    assert math.isnan(up_capture(benchmark, -np.abs(benchmark)))  # no up session
    one = alpha_beta([0.01], [0.02])
    assert math.isnan(one[0]) and math.isnan(one[1])


def test_mismatched_inputs_get_a_one_line_error_naming_the_benchmark() -> None:
    with pytest.raises(ParameterValidationError, match=r"^benchmark: expected one series as long"):
        alpha_beta([0.01, 0.02], [0.01])
    later = series_of([0.01, 0.02], start="2021-01-04 21:00")
    with pytest.raises(ParameterValidationError, match=r"^benchmark: no session in common"):
        correlation(series_of([0.01, 0.02]), later)
    naive = pd.Series([0.01, 0.02], index=pd.date_range("2020-01-02", periods=2, freq="B"))
    with pytest.raises(ParameterValidationError, match=r"^benchmark: "):
        tracking_error(series_of([0.01, 0.02]), naive)
