"""Return and risk statistics: each against empyrical (or SciPy, or a formula written out)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import empyrical
import numpy as np
import pytest
import scipy.stats
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import integrate

from rustybt.analytics import statistics
from rustybt.analytics.statistics import (
    conditional_value_at_risk,
    drawdown_series,
    kurtosis,
    max_drawdown,
    rolling_sharpe,
    rolling_volatility,
    skew,
    value_at_risk,
)
from rustybt.exceptions import ParameterValidationError
from rustybt.optimization import objectives
from tests.unit.analytics.returns_kit import return_lists, same, series_of

EMPYRICAL: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "sharpe": (statistics.sharpe_ratio, empyrical.sharpe_ratio),
    "sortino": (statistics.sortino_ratio, empyrical.sortino_ratio),
    "calmar": (statistics.calmar_ratio, empyrical.calmar_ratio),
    "omega": (statistics.omega_ratio, empyrical.omega_ratio),
    "stability": (statistics.stability_of_timeseries, empyrical.stability_of_timeseries),
    "tail_ratio": (statistics.tail_ratio, empyrical.tail_ratio),
    "total_return": (statistics.total_return, empyrical.cum_returns_final),
    "annual_return": (statistics.annual_return, empyrical.annual_return),
    "annual_volatility": (statistics.annual_volatility, empyrical.annual_volatility),
    "max_drawdown": (max_drawdown, empyrical.max_drawdown),
}
REPO = Path(__file__).resolve().parents[3]

# empyrical's own 0 / 0 and SciPy's warnings on constant data.
quiet = [
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:divide by zero encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:Degrees of freedom:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:One or more sample arguments is too small"),
]


def apply_quiet(test: Any) -> Any:
    for mark in quiet:
        test = mark(test)
    return test


@apply_quiet
@settings(max_examples=300, deadline=None)
@given(returns=return_lists)
def test_the_moved_statistics_match_empyrical_on_series(returns: list[float]) -> None:
    series = series_of(returns)
    for name, (ours, theirs) in EMPYRICAL.items():
        got, expected = ours(series), theirs(series)
        assert same(got, np.asarray(expected).item()), (name, got, expected)


def test_objectives_keeps_its_names_and_uses_the_analytics_functions() -> None:
    for name in (
        "sharpe_ratio",
        "sortino_ratio",
        "total_return",
        "annual_return",
        "annual_volatility",
        "max_drawdown",
        "calmar_ratio",
        "omega_ratio",
        "stability_of_timeseries",
        "tail_ratio",
        "return_statistics",
        "TRADING_DAYS_PER_YEAR",
    ):
        assert getattr(objectives, name) is getattr(statistics, name), name


def test_statistics_along_the_last_axis_equal_each_row_alone() -> None:
    rows = np.random.default_rng(7).normal(0.0005, 0.01, size=(4, 50))
    rows[1, 3] = np.nan
    for function in (
        statistics.sharpe_ratio,
        statistics.total_return,
        statistics.annual_return,
        statistics.annual_volatility,
        max_drawdown,
    ):
        together = function(rows)
        assert together.shape == (4,)
        for row, value in zip(rows, together, strict=True):
            assert same(value, function(row)), function.__name__


@apply_quiet
@settings(max_examples=300, deadline=None)
@given(returns=return_lists)
@example(returns=[0.0, 7.107225404329742e-132])  # the moments' powers underflow: NaN, as SciPy
def test_skew_and_kurtosis_match_scipy_without_the_nan_sessions(returns: list[float]) -> None:
    present = series_of(returns).dropna()
    assert same(skew(series_of(returns)), scipy.stats.skew(present))
    assert same(kurtosis(series_of(returns)), scipy.stats.kurtosis(present))


def test_kurtosis_is_the_excess_over_a_normal_distribution() -> None:
    normal = np.random.default_rng(1).normal(0.0, 0.01, size=200_000)
    assert abs(kurtosis(normal)) < 0.05
    assert abs(skew(normal)) < 0.05
    assert math.isnan(skew([0.01] * 5)) and math.isnan(kurtosis([0.01] * 5))  # no variance
    assert math.isnan(skew([])) and math.isnan(kurtosis([np.nan]))


@apply_quiet
@settings(max_examples=300, deadline=None)
@given(returns=return_lists, level=st.sampled_from([0.01, 0.05, 0.1, 0.25, 0.5]))
def test_historical_var_and_cvar_match_empyrical(returns: list[float], level: float) -> None:
    series = series_of(returns)
    present = series.dropna()
    var = value_at_risk(series, level)
    assert same(var, empyrical.value_at_risk(present, cutoff=level))
    cvar = conditional_value_at_risk(series, level)
    assert same(cvar, empyrical.conditional_value_at_risk(series, cutoff=level))
    if len(present):
        assert cvar <= var + 1e-15  # the tail's mean lies at or below its edge


def cornish_fisher_quantile(level: float, s: float, k: float) -> float:
    """The standard normal quantile corrected for skew ``s`` and excess kurtosis ``k``."""
    z = scipy.stats.norm.ppf(level)
    return float(z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36)


def cornish_fisher_var(returns: np.ndarray, level: float) -> float:
    """The Cornish-Fisher value at risk, written out from its textbook formula."""
    s, k = scipy.stats.skew(returns), scipy.stats.kurtosis(returns)  # k: excess
    return float(np.mean(returns) + np.std(returns, ddof=1) * cornish_fisher_quantile(level, s, k))


@settings(max_examples=150, deadline=None)
@given(
    returns=st.lists(st.integers(-900, 900).map(lambda bp: bp / 10_000), min_size=3, max_size=300)
    .filter(lambda r: max(r) > min(r))
    .map(np.array),
    level=st.sampled_from([0.01, 0.05, 0.1]),
)
def test_parametric_and_cornish_fisher_var_match_their_formulas(
    returns: np.ndarray, level: float
) -> None:
    mean, std = returns.mean(), returns.std(ddof=1)
    normal = mean + std * scipy.stats.norm.ppf(level)
    assert same(value_at_risk(returns, level, "parametric"), normal)
    assert same(value_at_risk(returns, level, "cornish_fisher"), cornish_fisher_var(returns, level))
    # Expected shortfall of a normal distribution: mean - std * pdf(z) / level.
    shortfall = mean - std * scipy.stats.norm.pdf(scipy.stats.norm.ppf(level)) / level
    assert same(conditional_value_at_risk(returns, level, "parametric"), shortfall)


@settings(max_examples=40, deadline=None)
@given(
    returns=st.lists(st.integers(-900, 900).map(lambda bp: bp / 10_000), min_size=5, max_size=120)
    .filter(lambda r: max(r) > min(r))
    .map(np.array),
    level=st.sampled_from([0.01, 0.05, 0.1]),
)
def test_cornish_fisher_cvar_is_the_mean_cornish_fisher_var_over_the_tail(
    returns: np.ndarray, level: float
) -> None:
    # CVaR at `level` is (1 / level) * the integral of VaR(u) for u from 0 to level.
    s, k = scipy.stats.skew(returns), scipy.stats.kurtosis(returns)
    integral, _ = integrate.quad(
        lambda u: cornish_fisher_quantile(u, s, k), 0.0, level, epsabs=0.0, epsrel=1e-12, limit=200
    )
    expected = np.mean(returns) + np.std(returns, ddof=1) * integral / level
    ours = conditional_value_at_risk(returns, level, "cornish_fisher")
    assert ours == pytest.approx(expected, rel=1e-8, abs=1e-12)


def test_cornish_fisher_equals_parametric_for_returns_without_skew_or_excess_kurtosis() -> None:
    # Symmetric, and m4 / m2**2 = (2 a^4 / 6) / (2 a^2 / 6)**2 = 3: no excess kurtosis.
    returns = np.array([0.01, -0.01, 0.0, 0.0, 0.0, 0.0])
    assert abs(skew(returns)) < 1e-12 and abs(kurtosis(returns)) < 1e-12
    assert value_at_risk(returns, 0.05, "cornish_fisher") == pytest.approx(
        value_at_risk(returns, 0.05, "parametric"), rel=1e-9
    )
    assert conditional_value_at_risk(returns, 0.05, "cornish_fisher") == pytest.approx(
        conditional_value_at_risk(returns, 0.05, "parametric"), rel=1e-9
    )


def test_var_of_too_few_returns_is_nan() -> None:
    for method in ("historical", "parametric", "cornish_fisher"):
        assert math.isnan(value_at_risk([], method=method))
        assert math.isnan(conditional_value_at_risk([np.nan], method=method))
    assert math.isnan(value_at_risk([0.01], method="parametric"))
    assert math.isnan(value_at_risk([0.01, 0.01], method="cornish_fisher"))  # no variance
    assert value_at_risk([0.01], method="historical") == 0.01
    assert value_at_risk([0.01, 0.03], level=np.float32(0.5)) == pytest.approx(0.02)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: value_at_risk([0.01], level=0.0),
            r"^level: expected a tail probability .*got 0\.0$",
        ),
        (lambda: value_at_risk([0.01], level=5), r"^level: .*got 5$"),
        (lambda: value_at_risk([0.01], level=True), r"^level: .*got True$"),
        (lambda: conditional_value_at_risk([0.01], level="5%"), r"^level: .*got '5%'$"),
        (lambda: value_at_risk([0.01], method="gaussian"), r"^method: expected one of historical"),
        (lambda: rolling_sharpe(series_of([0.01] * 5), window=1), r"^window: .*got 1$"),
        (lambda: rolling_volatility(series_of([0.01] * 5), window=2.5), r"^window: .*got 2\.5$"),
        (lambda: drawdown_series(np.zeros((2, 2))), r"^returns: expected one series"),
    ],
)
def test_bad_arguments_get_a_one_line_error_naming_them(call: Any, message: str) -> None:
    with pytest.raises(ParameterValidationError, match=message) as error:
        call()
    assert "\n" not in str(error.value)


@settings(max_examples=200, deadline=None)
@given(returns=return_lists)
def test_drawdown_series_matches_empyrical(returns: list[float]) -> None:
    series = series_of(returns)
    ours = drawdown_series(series)
    assert ours.index.equals(series.index)
    assert (ours <= 0).all()
    if not returns:
        assert ours.empty  # empyrical: a NaN in place of a series
        return
    theirs = empyrical.stats.drawdown_series(series)
    assert all(same(a, b) for a, b in zip(ours, theirs, strict=True))
    assert ours.min() == max_drawdown(series)


@apply_quiet
@settings(max_examples=150, deadline=None)
@given(returns=return_lists, window=st.integers(2, 30))
def test_rolling_sharpe_and_volatility_match_empyrical(returns: list[float], window: int) -> None:
    series = series_of(returns)
    sharpe, volatility = rolling_sharpe(series, window), rolling_volatility(series, window)
    for rolled in (sharpe, volatility):
        assert rolled.index.equals(series.index)
        assert rolled.iloc[: window - 1].isna().all()
    if len(returns) < window:
        assert sharpe.isna().all() and volatility.isna().all()
        return
    for ours, theirs in (
        (sharpe, empyrical.roll_sharpe_ratio(series, window)),
        (volatility, empyrical.roll_annual_volatility(series, window)),
    ):
        tail = ours.iloc[window - 1 :]
        assert tail.index.equals(theirs.index)
        assert all(same(a, b) for a, b in zip(tail, theirs, strict=True))


def test_the_default_rolling_window_is_half_a_year() -> None:
    returns = series_of(list(np.random.default_rng(3).normal(0.0, 0.01, 300)))
    rolled = rolling_sharpe(returns)
    assert rolled.iloc[:125].isna().all() and rolled.iloc[125:].notna().all()
    assert same(rolled.iloc[-1], empyrical.sharpe_ratio(returns.iloc[-126:]))


def test_importing_the_analytics_imports_neither_scipy_nor_empyrical() -> None:
    code = (
        "import json, sys, rustybt.analytics, rustybt.optimization.objectives\n"
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('scipy', 'empyrical'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
