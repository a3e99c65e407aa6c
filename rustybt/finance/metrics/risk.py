"""Streaming risk statistics: each session's value in O(1), equal to empyrical's.

zipline's risk fields (``algo_volatility``, ``sharpe``, ``sortino``,
``max_drawdown``, ``alpha``, ``beta``, ``benchmark_volatility``) are
empyrical's statistics of all the daily returns so far. Recomputing them over
the whole series every session costs O(n) a session and O(n^2) a run; the
states here take one return at a time and answer in constant time, with
empyrical's definitions (as of empyrical-reloaded 0.7, bottleneck installed):

* annualization 252; a volatility is the sample standard deviation
  (ddof=1) times ``252 ** 0.5``, a Sharpe ratio ``mean / std * sqrt(252)``;
* NaN returns are skipped, but the "fewer than two returns" rules count them;
* Sharpe takes the deviation of a series whose values are all equal as exactly
  0 (so the ratio is infinite, or NaN for a zero mean);
* Sortino's downside risk is ``sqrt(mean(min(r, 0) ** 2)) * sqrt(252)`` over
  every return (not only the negative ones), the ratio ``mean * 252`` over it;
* the maximum drawdown is measured from a starting value of 100 (so a first
  loss is a drawdown), NaN returns counting as 0;
* beta is ``cov(r, b) / var(b)`` (population moments) over the sessions where
  both returns exist, NaN when ``var(b) < 1e-30``; alpha is
  ``(1 + mean(r - beta * b)) ** 252 - 1``.

Means and sums of squares are accumulated in the order bottleneck adds them,
so they are bit-for-bit empyrical's. Deviations use Welford's updates, which
stay accurate where a running sum of squares would cancel; the residue that
empyrical's two-pass deviation keeps (its mean is rounded) is added back, so a
constant series gets empyrical's tiny volatility rather than a bare 0.

Examples
--------
>>> import empyrical
>>> import numpy as np
>>> returns = [0.01, -0.02, 0.015, 0.003]
>>> m = ReturnsMoments()
>>> for r in returns:
...     m.add(r)
>>> bool(np.isclose(sharpe_ratio(m), empyrical.sharpe_ratio(np.array(returns)), rtol=1e-12))
True
"""

from __future__ import annotations

import copy
import math

__all__ = [
    "ANNUALIZATION",
    "Drawdown",
    "PairMoments",
    "ReturnsMoments",
    "alpha_beta",
    "annual_volatility",
    "max_drawdown",
    "sharpe_ratio",
    "sortino_ratio",
]

#: Trading days a year (empyrical's ``APPROX_BDAYS_PER_YEAR``).
ANNUALIZATION = 252
# empyrical scales a volatility by ``ann_factor ** (1 / 2.0)`` and a Sharpe
# ratio or a downside risk by ``np.sqrt(ann_factor)``: kept apart so that each
# is the very float empyrical multiplies by.
_VOLATILITY_SCALE = ANNUALIZATION ** (1.0 / 2.0)
_RATIO_SCALE = math.sqrt(ANNUALIZATION)
# empyrical's beta is NaN below this benchmark variance.
_MIN_BENCHMARK_VARIANCE = 1.0e-30
# empyrical's drawdowns start from this value.
_DRAWDOWN_START = 100.0
_NAN = math.nan


def _divide(numerator: float, denominator: float) -> float:
    """IEEE division, as NumPy's: x / 0 is +-inf, 0 / 0 and NaN / 0 are NaN."""
    if denominator != 0.0:
        return numerator / denominator
    if numerator != numerator or numerator == 0.0:
        return _NAN
    return math.copysign(math.inf, numerator) * math.copysign(1.0, denominator)


class ReturnsMoments:
    """Running moments of one return series (empyrical's statistics of it so far).

    ``add`` takes the next return; ``plus`` answers for the series with one more
    (a provisional) return without changing this state.

    Attributes
    ----------
    length
        Returns seen, NaN included (empyrical's length rules count them).
    count
        Returns that are not NaN.
    total
        Their sum, added in order.
    mean, m2
        Welford's running mean and sum of squared deviations from it.
    low, high
        The smallest and the largest return (NaN before the first).
    downside
        The sum of ``min(r, 0) ** 2``, added in order.
    """

    __slots__ = ("count", "downside", "high", "length", "low", "m2", "mean", "total")

    def __init__(self) -> None:
        self.length = 0
        self.count = 0
        self.total = 0.0
        self.mean = 0.0
        self.m2 = 0.0
        self.low = _NAN
        self.high = _NAN
        self.downside = 0.0

    def add(self, value: float) -> None:
        """Take the next return (NaN counts toward ``length`` only)."""
        value = float(value)  # a NumPy scalar would make every sum a NumPy scalar
        self.length += 1
        if value != value:
            return
        count = self.count = self.count + 1
        self.total += value
        delta = value - self.mean
        self.mean += delta / count
        self.m2 += delta * (value - self.mean)
        if count == 1:
            self.low = self.high = value
        elif value < self.low:
            self.low = value
        elif value > self.high:
            self.high = value
        if value < 0.0:
            self.downside += value * value

    def plus(self, value: float) -> ReturnsMoments:
        """A new state: this one with ``value`` added."""
        out = copy.copy(self)  # every slot
        out.add(value)
        return out

    def sample_std(self) -> float:
        """The sample standard deviation (ddof=1) about empyrical's rounded mean."""
        count = self.count
        if count < 2:
            return _NAN
        rounded_mean = self.total / count
        residue = self.mean - rounded_mean
        return math.sqrt((self.m2 + count * (residue * residue)) / (count - 1))


def annual_volatility(moments: ReturnsMoments) -> float:
    """empyrical's ``annual_volatility`` of the returns so far (NaN under two)."""
    if moments.length < 2:
        return _NAN
    return moments.sample_std() * _VOLATILITY_SCALE


def sharpe_ratio(moments: ReturnsMoments) -> float:
    """empyrical's ``sharpe_ratio`` of the returns so far (risk-free rate 0)."""
    if moments.length < 2 or moments.count == 0:
        return _NAN
    std = moments.sample_std()
    if moments.low == moments.high and std == std:
        std = 0.0  # all equal: no dispersion, whatever the rounding left
    return _divide(moments.total / moments.count, std) * _RATIO_SCALE


def sortino_ratio(moments: ReturnsMoments) -> float:
    """empyrical's ``sortino_ratio`` of the returns so far (required return 0)."""
    if moments.length < 2 or moments.count == 0:
        return _NAN
    count = moments.count
    downside_risk = math.sqrt(moments.downside / count) * _RATIO_SCALE
    return _divide(moments.total / count * ANNUALIZATION, downside_risk)


class Drawdown:
    """The running peak and the deepest drawdown of a return series.

    The value starts at 100 and compounds each return (NaN as 0), in the
    order and with the operations of empyrical's ``max_drawdown``, so each
    session's figure is bit-for-bit empyrical's.
    """

    __slots__ = ("growth", "length", "peak", "worst")

    def __init__(self) -> None:
        self.length = 0
        self.growth = 1.0
        self.peak = _DRAWDOWN_START
        self.worst = _NAN

    def add(self, value: float) -> None:
        """Take the next return."""
        value = float(value)
        self.length += 1
        self.growth *= 1.0 + (0.0 if value != value else value)
        level = self.growth * _DRAWDOWN_START
        if level > self.peak:  # NaN never raises the peak (np.fmax)
            self.peak = level
        drawdown = (level - self.peak) / self.peak
        if drawdown < self.worst or self.worst != self.worst:  # NaN skipped (nanmin)
            self.worst = drawdown

    def plus(self, value: float) -> Drawdown:
        """A new state: this one with ``value`` added."""
        out = copy.copy(self)  # every slot
        out.add(value)
        return out


def max_drawdown(drawdown: Drawdown) -> float:
    """empyrical's ``max_drawdown`` of the returns so far (NaN before the first)."""
    return _NAN if drawdown.length == 0 else drawdown.worst


class PairMoments:
    """Running co-moments of the algorithm's and the benchmark's returns.

    Only the sessions where both returns exist count toward the moments
    (empyrical's alignment of missing values); ``length`` counts every session.

    Attributes
    ----------
    length
        Sessions seen.
    count
        Sessions where both returns exist.
    total_returns, total_benchmark
        Sums of those sessions' returns, added in order.
    mean_returns, mean_benchmark
        Welford's running means.
    m2_benchmark
        Sum of squared deviations of the benchmark's returns from their mean.
    comoment
        Sum of the products of both returns' deviations from their means.
    """

    __slots__ = (
        "comoment",
        "count",
        "length",
        "m2_benchmark",
        "mean_benchmark",
        "mean_returns",
        "total_benchmark",
        "total_returns",
    )

    def __init__(self) -> None:
        self.length = 0
        self.count = 0
        self.total_returns = 0.0
        self.total_benchmark = 0.0
        self.mean_returns = 0.0
        self.mean_benchmark = 0.0
        self.m2_benchmark = 0.0
        self.comoment = 0.0

    def add(self, returns: float, benchmark: float) -> None:
        """Take the next session's pair of returns."""
        returns, benchmark = float(returns), float(benchmark)
        self.length += 1
        if returns != returns or benchmark != benchmark:
            return
        count = self.count = self.count + 1
        self.total_returns += returns
        self.total_benchmark += benchmark
        delta_benchmark = benchmark - self.mean_benchmark
        self.mean_benchmark += delta_benchmark / count
        self.mean_returns += (returns - self.mean_returns) / count
        self.m2_benchmark += delta_benchmark * (benchmark - self.mean_benchmark)
        self.comoment += delta_benchmark * (returns - self.mean_returns)

    def plus(self, returns: float, benchmark: float) -> PairMoments:
        """A new state: this one with the pair added."""
        out = copy.copy(self)  # every slot
        out.add(returns, benchmark)
        return out


def alpha_beta(pair: PairMoments) -> tuple[float, float]:
    """empyrical's ``alpha_beta_aligned`` of the returns so far (risk-free rate 0)."""
    count = pair.count
    if pair.length < 2 or count == 0:
        return _NAN, _NAN
    # empyrical centres the benchmark on its rounded mean: carry that
    # residue into both moments (it is what makes a constant benchmark's
    # variance tiny rather than 0, as there).
    residue = pair.mean_benchmark - pair.total_benchmark / count
    variance = (pair.m2_benchmark + count * (residue * residue)) / count
    if not variance >= _MIN_BENCHMARK_VARIANCE:
        return _NAN, _NAN
    covariance = (pair.comoment + residue * pair.total_returns) / count
    beta = covariance / variance
    mean_excess = (pair.total_returns - beta * pair.total_benchmark) / count
    try:
        alpha = (1.0 + mean_excess) ** ANNUALIZATION - 1.0
    except OverflowError:
        alpha = math.inf
    return alpha, beta
