"""The streaming risk statistics equal empyrical's on every prefix of a return series.

Sortino and the maximum drawdown add the same floats in the same order as
empyrical (with bottleneck), so they must be bit-for-bit equal. The others
agree to 1e-9 relative, with an absolute floor at the size of the rounding
that empyrical's own two-pass arithmetic commits (it matters only where a
statistic is itself rounding noise: the volatility of a near-constant series,
an alpha of 1e-10).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import empyrical as ep
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rustybt.finance.metrics.risk import (
    Drawdown,
    PairMoments,
    ReturnsMoments,
    alpha_beta,
    annual_volatility,
    max_drawdown,
    sharpe_ratio,
    sortino_ratio,
)

FloatArray = npt.NDArray[np.float64]
RELATIVE = 1e-9
# Bounds n * 2**-53 (n <= 60 returns) with a wide margin: the rounding of a
# sum of n terms, relative to the size of the terms.
ROUNDING = 1e-12


def close(actual: float, expected: float, floor: float = 0.0) -> bool:
    """Equal NaN/inf, or within 1e-9 relative plus the rounding ``floor``."""
    if math.isnan(expected) or math.isinf(expected):
        return actual == expected or (math.isnan(actual) and math.isnan(expected))
    return abs(actual - expected) <= RELATIVE * abs(expected) + floor


def identical(actual: float, expected: float) -> bool:
    return actual == expected or (math.isnan(actual) and math.isnan(expected))


def largest(values: FloatArray) -> float:
    present = values[~np.isnan(values)]
    return float(np.abs(present).max()) if len(present) else 0.0


def check_prefix(returns: FloatArray, benchmark: FloatArray) -> None:
    """Every prefix's streaming statistics against empyrical's on that prefix."""
    moments, drawdown, pair = ReturnsMoments(), Drawdown(), PairMoments()
    for end in range(1, len(returns) + 1):
        r, b = returns[:end], benchmark[:end]
        # The provisional form (minute emission) must answer as the folded one.
        provisional = (moments.plus(r[-1]), drawdown.plus(r[-1]), pair.plus(r[-1], b[-1]))
        moments.add(r[-1])
        drawdown.add(r[-1])
        pair.add(r[-1], b[-1])
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            expected_vol = ep.annual_volatility(r)
            expected_sharpe = ep.sharpe_ratio(r)
            expected_sortino = ep.sortino_ratio(r)
            expected_drawdown = ep.max_drawdown(r)
            expected_alpha, expected_beta = ep.alpha_beta_aligned(r, b)
            std = float(np.nanstd(r, ddof=1)) if np.count_nonzero(~np.isnan(r)) > 1 else math.nan
            both = ~(np.isnan(r) | np.isnan(b))
            variance = float(np.var(b[both])) if both.any() else math.nan
        scale = largest(r)
        for m, d, p in ((moments, drawdown, pair), provisional):
            where = f"prefix {end} of {r.tolist()} / {b.tolist()}"
            vol = annual_volatility(m)
            assert close(vol, expected_vol, ROUNDING * scale * math.sqrt(252)), where
            sharpe = sharpe_ratio(m)
            sharpe_floor = ROUNDING * abs(expected_sharpe) * scale / std if std > 0 else 0.0
            assert close(sharpe, expected_sharpe, sharpe_floor), where
            assert identical(sortino_ratio(m), expected_sortino), where
            assert identical(max_drawdown(d), expected_drawdown), where
            alpha, beta = alpha_beta(p)
            beta_floor = alpha_floor = 0.0
            if variance > 0 and math.isfinite(expected_beta):
                size_b, size_r = largest(b[both]), largest(r[both])
                beta_floor = ROUNDING * (size_b * size_r + abs(expected_beta) * size_b**2)
                beta_floor /= variance
                excess = ROUNDING * (size_r + abs(expected_beta) * size_b)
                excess += abs(float(np.mean(b[both]))) * beta_floor
                growth = abs(1.0 + float(np.mean(r[both] - expected_beta * b[both])))
                # d((1 + m) ** 252) = 252 (1 + m) ** 251 dm, and 1 + m rounds.
                with np.errstate(over="ignore"):
                    slope = 252.0 * np.float64(growth) ** 251
                alpha_floor = float(slope * (excess + 4 * 2.0**-53 * max(growth, 1.0)))
            assert close(beta, expected_beta, beta_floor), where
            if beta_floor >= abs(expected_beta) > 0:
                # beta is rounding noise here (a benchmark varying in its last
                # digits): alpha, (1 + mean(r - beta b)) ** 252, is noise raised
                # to the 252nd power and may overflow on one side only.
                continue
            assert close(alpha, expected_alpha, alpha_floor), where


MAGNITUDES = [1e-12, 1e-6, 1e-3, 0.01, 0.1, 1.0, 10.0]


@st.composite
def series(draw: Any) -> tuple[FloatArray, FloatArray]:
    """Returns and a benchmark of one length: signs, sizes and shapes a run can produce."""
    n = draw(st.integers(1, 60))
    size = draw(st.sampled_from(MAGNITUDES))
    shape = draw(st.sampled_from(["mixed", "positive", "negative", "constant"]))
    lo, hi = {"mixed": (-1.0, 1.0), "positive": (0.0, 1.0), "negative": (-1.0, 0.0)}.get(
        shape, (-1.0, 1.0)
    )
    # A return below 1e-100 is 0 here: its square underflows, and both
    # empyrical's and the streaming deviations are then rounding debris.
    unit = st.floats(lo, hi).map(lambda v: 0.0 if abs(v) < 1e-100 else v)
    if shape == "constant":
        values = [draw(unit)] * n
    else:
        values = draw(st.lists(unit, min_size=n, max_size=n))
    returns = np.array(values) * size
    if draw(st.booleans()) and n > 1:
        # A session whose return is undefined (the portfolio was worth 0).
        returns[draw(st.integers(0, n - 1))] = np.nan
    kind = draw(st.sampled_from(["none", "independent", "related", "constant"]))
    if kind == "none":
        benchmark = np.zeros(n)
    elif kind == "constant":
        benchmark = np.full(n, draw(st.floats(-0.05, 0.05, allow_subnormal=False)))
    else:
        noise = np.array(draw(st.lists(st.floats(-0.02, 0.02), min_size=n, max_size=n)))
        benchmark = noise if kind == "independent" else np.nan_to_num(returns) * 0.8 + noise / 10
    return returns, benchmark


@settings(max_examples=120, deadline=None)
@given(series())
def test_every_prefix_matches_empyrical(data: tuple[FloatArray, FloatArray]) -> None:
    check_prefix(*data)


@pytest.mark.parametrize(
    "returns",
    [
        [0.01],
        [0.0, 0.0, 0.0],
        [0.001] * 30,
        [0.1, 0.1, 0.1],
        [-0.02, -0.01, -0.03, -0.005],
        [0.02, 0.01, 0.03, 0.005],
        [0.01, -1.0, 0.5],
        [np.nan, 0.01, 0.02],
        [0.01, np.nan],
        [1e-12, -3e-12, 2e-12, 5e-13],
        [5.0, -0.9, 8.0, 3.0],
    ],
)
def test_edge_series_match_empyrical(returns: list[float]) -> None:
    r = np.array(returns, dtype=float)
    check_prefix(r, np.zeros(len(r)))
    check_prefix(r, np.linspace(-0.01, 0.02, len(r)))


def test_a_realistic_decade() -> None:
    """2,500 sessions of market-like returns: the O(1) state stays on empyrical's values."""
    rng = np.random.default_rng(11)
    benchmark = rng.normal(0.0004, 0.011, 2500)
    returns = 0.9 * benchmark + rng.normal(0.0001, 0.006, 2500)
    moments, drawdown, pair = ReturnsMoments(), Drawdown(), PairMoments()
    for ix in range(len(returns)):
        moments.add(returns[ix])
        drawdown.add(returns[ix])
        pair.add(returns[ix], benchmark[ix])
        if ix % 250 == 249:
            r, b = returns[: ix + 1], benchmark[: ix + 1]
            assert annual_volatility(moments) == pytest.approx(ep.annual_volatility(r), rel=1e-12)
            assert sharpe_ratio(moments) == pytest.approx(ep.sharpe_ratio(r), rel=1e-12)
            assert sortino_ratio(moments) == ep.sortino_ratio(r)
            assert max_drawdown(drawdown) == ep.max_drawdown(r)
            alpha, beta = alpha_beta(pair)
            assert (alpha, beta) == pytest.approx(tuple(ep.alpha_beta_aligned(r, b)), rel=1e-10)


def test_streaming_answers_without_empyrical_conventions_lost() -> None:
    """One return: no volatility, Sharpe, Sortino, alpha or beta; a drawdown all the same."""
    moments, drawdown, pair = ReturnsMoments(), Drawdown(), PairMoments()
    assert math.isnan(max_drawdown(drawdown))
    moments.add(-0.01)
    drawdown.add(-0.01)
    pair.add(-0.01, 0.02)
    assert math.isnan(annual_volatility(moments))
    assert math.isnan(sharpe_ratio(moments)) and math.isnan(sortino_ratio(moments))
    assert max_drawdown(drawdown) == pytest.approx(-0.01)
    assert all(math.isnan(v) for v in alpha_beta(pair))
    # All equal and positive: an infinite Sharpe ratio and Sortino ratio.
    flat = ReturnsMoments()
    for _ in range(3):
        flat.add(0.01)
    assert sharpe_ratio(flat) == math.inf and sortino_ratio(flat) == math.inf


def test_benchmark_varying_in_its_last_digits() -> None:
    """Found by hypothesis: beta is rounding noise, so alpha is not compared; the rest is."""
    benchmark = np.full(32, 8.0)
    benchmark[-1] = 8.0000001
    check_prefix(np.full(32, 10.0), benchmark)
