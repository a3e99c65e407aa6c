"""Monte Carlo tests of a backtest: is its result skill, luck, or the exact prices?

Three tests, each seeded (a NumPy ``Generator`` from ``seed``) and
reproducible, each returning a :class:`MonteCarloResult`:

* :func:`permutation_test` -- the strategy's round trips in random orders,
  rebuilt into equity paths from the starting capital: how deep a drawdown
  the same trades could have dug (every path ends at the same equity);
* :func:`bootstrap_test` -- a stationary block bootstrap of the daily returns:
  confidence intervals of the Sharpe ratio, the annual and total return and
  the maximum drawdown, and p-values against a strategy without edge;
* :func:`~rustybt.optimization.noise.noise_test` -- the strategy re-run on
  bars perturbed by a seeded noise model (see :mod:`rustybt.optimization.noise`).

Each reports, per statistic, the observed value, the samples, percentiles,
the observed value's rank among the samples (the fraction of samples at or
below it) and a one-sided p-value: the probability, under the test's null
distribution, of a value at least as good as the one observed, with the
``(count + 1) / (n + 1)`` correction (it is never 0).

Statistics follow empyrical's conventions (annualization 252, a sample
standard deviation, drawdowns as negative fractions of the peak).

Examples
--------
>>> import numpy as np, pandas as pd
>>> returns = pd.Series(np.random.default_rng(1).normal(0.002, 0.01, 500))
>>> result = bootstrap_test(returns, n=200, seed=0)
>>> result.statistic, result.p_value < 0.05
('sharpe', True)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.analytics.round_trips import round_trips
from rustybt.exceptions import ParameterValidationError
from rustybt.optimization.objectives import annual_return, max_drawdown, sharpe_ratio, total_return

__all__ = [
    "DEFAULT_PERCENTILES",
    "MonteCarloResult",
    "StatisticDistribution",
    "bootstrap_test",
    "permutation_test",
    "permuted_equity_paths",
    "stationary_bootstrap_indices",
]

FloatArray = npt.NDArray[np.float64]

#: The percentiles every result reports unless told otherwise.
DEFAULT_PERCENTILES: tuple[float, ...] = (5.0, 25.0, 50.0, 75.0, 95.0)


@dataclass(frozen=True, eq=False)  # compared by identity: its fields hold arrays
class StatisticDistribution:
    """One statistic's observed value and its Monte Carlo distribution.

    Parameters
    ----------
    name
        The statistic (``"sharpe"``, ``"max_drawdown"``, ...).
    observed
        Its value on the real data.
    samples
        Its value on each simulated sample (a NumPy array, NaN kept).
    null_samples
        The samples of the null distribution the p-value is read from; the
        ``samples`` themselves when None.
    higher_is_better
        Whether a larger value is the better one (False for a drawdown's
        duration, an ulcer index).
    levels
        The percentiles reported.
    """

    name: str
    observed: float
    samples: FloatArray
    null_samples: FloatArray | None = None
    higher_is_better: bool = True
    levels: tuple[float, ...] = DEFAULT_PERCENTILES

    @property
    def percentiles(self) -> pd.Series:
        """The samples' percentiles (NaN samples left out), indexed by level."""
        finite = self.samples[~np.isnan(self.samples)]
        values = (
            np.percentile(finite, self.levels) if finite.size else np.full(len(self.levels), np.nan)
        )
        return pd.Series(values, index=pd.Index(self.levels, name="percentile"), name=self.name)

    @property
    def rank(self) -> float:
        """The fraction of samples at or below the observed value."""
        finite = self.samples[~np.isnan(self.samples)]
        return float(np.mean(finite <= self.observed)) if finite.size else math.nan

    @property
    def p_value(self) -> float:
        """``(count + 1) / (n + 1)``: ``count`` null samples at least as good as observed."""
        null = self.samples if self.null_samples is None else self.null_samples
        null = null[~np.isnan(null)]
        if math.isnan(self.observed):
            return math.nan
        as_good = null >= self.observed if self.higher_is_better else null <= self.observed
        return float((np.count_nonzero(as_good) + 1) / (null.size + 1))

    def row(self) -> dict[str, float]:
        """Observed value, mean, deviation, percentiles, rank and p-value, by column."""
        finite = self.samples[~np.isnan(self.samples)]
        row = {
            "observed": self.observed,
            "mean": float(finite.mean()) if finite.size else math.nan,
            "std": float(finite.std(ddof=1)) if finite.size > 1 else math.nan,
        }
        row.update({f"p{level:g}": float(v) for level, v in self.percentiles.items()})
        row.update({"rank": self.rank, "p_value": self.p_value})
        return row

    def to_frame(self) -> pd.DataFrame:
        """:meth:`row` as a one-row frame indexed by the statistic's name."""
        return pd.DataFrame([self.row()], index=pd.Index([self.name], name="statistic"))

    def __repr__(self) -> str:
        return (
            f"StatisticDistribution({self.name}: observed={self.observed:.4g}, "
            f"n={self.samples.size}, rank={self.rank:.3f}, p_value={self.p_value:.4f})"
        )


@dataclass(frozen=True, eq=False)
class MonteCarloResult(Mapping[str, StatisticDistribution]):
    """What a Monte Carlo test found: one :class:`StatisticDistribution` per statistic.

    It is a mapping from statistic name to distribution; ``statistic``,
    ``observed``, ``samples``, ``percentiles``, ``rank`` and ``p_value``
    answer for the test's main statistic.

    Parameters
    ----------
    method
        The test (``"trade permutation"``, ``"stationary bootstrap"``, ``"noise infusion"``).
    statistic
        The main statistic's name.
    statistics
        Every statistic's distribution, by name, the main one first.
    n
        The number of samples.
    seed
        The seed the samples came from.
    parameters
        The test's settings (block length, noise scale, ...).
    """

    method: str
    statistic: str
    statistics: dict[str, StatisticDistribution]
    n: int
    seed: int
    parameters: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> StatisticDistribution:
        try:
            return self.statistics[name]
        except KeyError:
            raise ParameterValidationError(
                f"no statistic {name!r} in this {self.method} test; it has "
                f"{', '.join(self.statistics)}",
                context={"statistic": name},
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.statistics)

    def __len__(self) -> int:
        return len(self.statistics)

    @property
    def main(self) -> StatisticDistribution:
        """The main statistic's distribution."""
        return self.statistics[self.statistic]

    @property
    def observed(self) -> float:
        """The main statistic's observed value."""
        return self.main.observed

    @property
    def samples(self) -> FloatArray:
        """The main statistic's samples."""
        return self.main.samples

    @property
    def percentiles(self) -> pd.Series:
        """The main statistic's percentiles."""
        return self.main.percentiles

    @property
    def rank(self) -> float:
        """The main statistic's observed rank."""
        return self.main.rank

    @property
    def p_value(self) -> float:
        """The main statistic's p-value."""
        return self.main.p_value

    def to_frame(self) -> pd.DataFrame:
        """One row per statistic: observed, mean, std, percentiles, rank, p-value."""
        return pd.concat([dist.to_frame() for dist in self.statistics.values()])

    def summary(self) -> str:
        """A short text table of :meth:`to_frame`, headed by the test and its settings."""
        settings = ", ".join(f"{k}={v}" for k, v in self.parameters.items())
        head = f"{self.method}: {self.n} samples, seed {self.seed}"
        head += f" ({settings})" if settings else ""
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            table = self.to_frame().to_string(float_format=lambda v: f"{v:.4g}")
        return f"{head}\n{table}"

    def __repr__(self) -> str:
        return (
            f"<MonteCarloResult {self.method}: {self.statistic} observed={self.observed:.4g}, "
            f"n={self.n}, rank={self.rank:.3f}, p_value={self.p_value:.4f}; "
            f"statistics: {', '.join(self.statistics)}>"
        )


# --- statistics of return samples (one sample per row) -----------------------------------


#: Statistics of returns, by name: the function of a (samples, sessions) array, and
#: whether a higher value is better.
_RETURN_STATISTICS = {
    "sharpe": (sharpe_ratio, True),
    "annual_return": (annual_return, True),
    "total_return": (total_return, True),
    "max_drawdown": (max_drawdown, True),
}


# --- stationary block bootstrap -----------------------------------------------------------


def bootstrap_test(
    returns: pd.DataFrame | pd.Series | npt.ArrayLike,
    n: int = 1000,
    block: float | None = None,
    seed: int = 0,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
) -> MonteCarloResult:
    """Confidence intervals and p-values of a run's daily returns, by stationary bootstrap.

    Each sample is a series as long as the original, made of blocks of
    consecutive returns (Politis and Romano's stationary bootstrap): a block
    starts at a uniformly drawn session and runs for a geometric number of
    sessions of mean ``block``, wrapping from the last session to the first.
    Blocks keep the returns' short-range dependence (volatility clusters)
    that drawing single days would break.

    The samples give the statistics' distributions (``samples``,
    ``percentiles``: confidence intervals). The p-values test H0: the mean
    return is <= 0, that is, no edge. Their null distribution is the
    bootstrap of the *demeaned* returns (each return less the mean return,
    resampled with the same blocks), which has the data's dependence and
    volatility but a mean of zero; a statistic's p-value is the fraction of
    null samples at least as good as the observed value, ``(count + 1) /
    (n + 1)``.

    Parameters
    ----------
    returns
        A performance frame (its ``returns`` column) or daily returns; NaN
        returns are left out.
    n
        The number of bootstrap samples.
    block
        The mean block length in sessions (>= 1); default ``round(T ** (1/3))``
        for ``T`` returns.
    seed
        Seeds the NumPy generator: the same seed gives the same samples.
    percentiles
        The percentiles reported.

    Returns
    -------
    MonteCarloResult
        Statistics ``sharpe`` (the main one), ``annual_return``,
        ``total_return`` and ``max_drawdown``; ``parameters`` holds the
        block length and the number of returns.

    Raises
    ------
    ParameterValidationError
        Fewer than 2 returns, ``n < 1``, or ``block`` < 1 or longer than the series.

    Examples
    --------
    >>> import numpy as np
    >>> noise = np.random.default_rng(7).normal(0.0, 0.01, 750)
    >>> result = bootstrap_test(noise, n=300, seed=3)
    >>> result.p_value > 0.05
    True
    >>> list(result.to_frame().index)
    ['sharpe', 'annual_return', 'total_return', 'max_drawdown']
    """
    values = _returns_array(returns)
    _check_count(n)
    length = values.size
    mean_block = _block_length(block, length)
    rng = np.random.default_rng(seed)
    index = stationary_bootstrap_indices(length, n, mean_block, rng)
    resampled = values[index]
    null = (values - values.mean())[index]
    statistics = {}
    for name, (function, higher) in _RETURN_STATISTICS.items():
        statistics[name] = StatisticDistribution(
            name=name,
            observed=float(np.asarray(function(values[np.newaxis, :]))[0]),
            samples=np.asarray(function(resampled), dtype=np.float64),
            null_samples=np.asarray(function(null), dtype=np.float64),
            higher_is_better=higher,
            levels=_levels(percentiles),
        )
    return MonteCarloResult(
        method="stationary bootstrap",
        statistic="sharpe",
        statistics=statistics,
        n=n,
        seed=seed,
        parameters={"block": round(mean_block, 3), "returns": length},
    )


def stationary_bootstrap_indices(
    length: int, n: int, mean_block: float, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """``n`` rows of stationary-bootstrap indices into a series of ``length``.

    Each position starts a new block with probability ``1 / mean_block`` (the
    first always does) at a uniform index; otherwise it takes the index after
    the previous one, wrapping around.

    Examples
    --------
    >>> idx = stationary_bootstrap_indices(10, 3, 4.0, np.random.default_rng(0))
    >>> idx.shape, bool(((idx >= 0) & (idx < 10)).all())
    ((3, 10), True)
    """
    positions = np.arange(length)
    starts_block = rng.random((n, length)) < 1.0 / mean_block
    starts_block[:, 0] = True
    first_index = rng.integers(0, length, size=(n, length))
    # For each position, the position where its block began.
    block_start = np.maximum.accumulate(np.where(starts_block, positions, 0), axis=1)
    begun_at = np.take_along_axis(first_index, block_start, axis=1)
    return (begun_at + (positions - block_start)) % length


def _returns_array(returns: pd.DataFrame | pd.Series | npt.ArrayLike) -> FloatArray:
    if isinstance(returns, pd.DataFrame):
        if "returns" not in returns.columns:
            raise ParameterValidationError(
                "bootstrap_test needs a performance frame with a 'returns' column, or returns",
                context={"argument": "returns"},
            )
        returns = returns["returns"]
    values = np.asarray(returns, dtype=np.float64).ravel()
    values = values[~np.isnan(values)]
    if values.size < 2:
        raise ParameterValidationError(
            f"bootstrap_test needs at least 2 returns, got {values.size}",
            context={"argument": "returns", "count": int(values.size)},
        )
    return values


def _block_length(block: float | None, length: int) -> float:
    if block is None:
        return float(max(1, round(length ** (1.0 / 3.0))))
    if not (1.0 <= float(block) <= length):
        raise ParameterValidationError(
            f"block must be a mean block length between 1 and the {length} returns, got {block}",
            context={"argument": "block", "block": block},
        )
    return float(block)


def _check_count(n: int) -> None:
    if int(n) != n or n < 1:
        raise ParameterValidationError(
            f"n must be a positive whole number of samples, got {n!r}",
            context={"argument": "n", "n": n},
        )


def _levels(percentiles: Sequence[float]) -> tuple[float, ...]:
    levels = tuple(float(p) for p in percentiles)
    bad = [p for p in levels if not 0.0 <= p <= 100.0]
    if not levels or bad:
        raise ParameterValidationError(
            f"percentiles must lie in [0, 100], got {list(percentiles)}",
            context={"argument": "percentiles"},
        )
    return levels


# --- trade-order permutation --------------------------------------------------------------


def permutation_test(
    trades: pd.DataFrame,
    n: int = 1000,
    seed: int = 0,
    capital_base: float | None = None,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
) -> MonteCarloResult:
    """The drawdowns the same trades could have made in another order.

    The P&L of the strategy's round trips, net of commissions (see
    :func:`~rustybt.analytics.round_trips.round_trips`), is laid end to end
    from the starting capital, in the order the trades closed (the observed
    path) and in ``n`` random orders. Every path ends at the same equity;
    what changes is the way there: the deepest drawdown, the longest time
    under water (in trades) and the ulcer index (the root mean square of the
    drawdowns, in percent). The p-value of ``max_drawdown`` is the share of
    orders whose drawdown is as shallow as the observed one or shallower: a
    small value says the run was lucky in its order, a large one that its
    drawdown was worse than most orders of the same trades.

    Parameters
    ----------
    trades
        A performance frame (its fills are paired into round trips, its
        ``starting_cash`` is the capital) or a frame of round trips (with a
        ``pnl`` column; give ``capital_base``).
    n
        The number of random orders.
    seed
        Seeds the NumPy generator.
    capital_base
        The starting capital; default the performance frame's.
    percentiles
        The percentiles reported.

    Returns
    -------
    MonteCarloResult
        Statistics ``max_drawdown`` (the main one), ``longest_drawdown``
        (trades) and ``ulcer_index``; ``parameters`` holds the number of
        trades, the capital and the final equity of every path.

    Raises
    ------
    ParameterValidationError
        Fewer than 2 round trips, a round-trip frame without ``capital_base``,
        or a capital that is not positive.

    Examples
    --------
    >>> import pandas as pd
    >>> trips = pd.DataFrame({"pnl": [500.0, -300.0, 200.0, -400.0, 600.0, 100.0]})
    >>> result = permutation_test(trips, n=500, seed=0, capital_base=10_000)
    >>> result.parameters["final_equity"], result.statistic
    (10700.0, 'max_drawdown')
    >>> bool(result.samples.min() <= result.observed <= result.samples.max())
    True
    """
    pnl, capital = _trade_pnl(trades, capital_base)
    _check_count(n)
    paths = permuted_equity_paths(pnl, capital, n, np.random.default_rng(seed))
    observed = _path_metrics(capital + np.cumsum(pnl)[np.newaxis, :], capital)
    sampled = _path_metrics(paths, capital)
    levels = _levels(percentiles)
    higher = {"max_drawdown": True, "longest_drawdown": False, "ulcer_index": False}
    statistics = {
        name: StatisticDistribution(
            name=name,
            observed=float(observed[name][0]),
            samples=sampled[name],
            higher_is_better=higher[name],
            levels=levels,
        )
        for name in higher
    }
    return MonteCarloResult(
        method="trade permutation",
        statistic="max_drawdown",
        statistics=statistics,
        n=n,
        seed=seed,
        parameters={
            "trades": int(pnl.size),
            "capital_base": capital,
            "final_equity": float(capital + pnl.sum()),
        },
    )


def permuted_equity_paths(
    pnl: npt.ArrayLike, capital_base: float, n: int, rng: np.random.Generator
) -> FloatArray:
    """``n`` equity paths of the trades' P&L in random orders, one path per row.

    Column ``j`` is the equity after the ``j + 1``-th trade of that order;
    every row holds the same trades, so every path ends at ``capital_base +
    sum(pnl)``.

    Examples
    --------
    >>> paths = permuted_equity_paths([10.0, -5.0, 2.5], 100.0, 4, np.random.default_rng(0))
    >>> paths.shape, paths[:, -1].tolist()
    ((4, 3), [107.5, 107.5, 107.5, 107.5])
    """
    values = np.asarray(pnl, dtype=np.float64)
    orders = rng.permuted(np.tile(values, (n, 1)), axis=1)
    return float(capital_base) + np.cumsum(orders, axis=1)


def _trade_pnl(trades: pd.DataFrame, capital_base: float | None) -> tuple[FloatArray, float]:
    """The round trips' P&L in closing order, and the starting capital."""
    if not isinstance(trades, pd.DataFrame):
        raise ParameterValidationError(
            "permutation_test takes a performance frame or a frame of round trips, not "
            f"{type(trades).__name__}",
            context={"argument": "trades"},
        )
    if "pnl" in trades.columns and "transactions" not in trades.columns:
        trips = trades
        if capital_base is None:
            raise ParameterValidationError(
                "permutation_test of a frame of round trips needs capital_base",
                context={"argument": "capital_base"},
            )
    else:
        trips = round_trips(trades)
        if capital_base is None:
            capital_base = _starting_capital(trades)
    capital = float(capital_base)
    if not capital > 0:
        raise ParameterValidationError(
            f"capital_base must be positive, got {capital_base}",
            context={"argument": "capital_base"},
        )
    pnl = trips["pnl"].to_numpy(dtype=np.float64)
    if pnl.size < 2:
        raise ParameterValidationError(
            f"permutation_test needs at least 2 round trips, the run has {pnl.size}",
            context={"argument": "trades", "round_trips": int(pnl.size)},
        )
    return pnl, capital


def _starting_capital(perf: pd.DataFrame) -> float:
    """The value the run started with: its first session's starting cash and positions."""
    if "starting_cash" not in perf.columns or not len(perf):
        raise ParameterValidationError(
            "the performance frame has no starting_cash column; give capital_base",
            context={"argument": "capital_base"},
        )
    first = perf.iloc[0]
    held = float(first["starting_value"]) if "starting_value" in perf.columns else 0.0
    return float(first["starting_cash"]) + held


def _path_metrics(equity: FloatArray, capital: float) -> dict[str, FloatArray]:
    """Max drawdown, longest drawdown (steps) and ulcer index of each row's equity path."""
    with_start = np.concatenate([np.full((equity.shape[0], 1), capital), equity], axis=1)
    peaks = np.maximum.accumulate(with_start, axis=1)
    drawdown = (with_start - peaks) / peaks
    under = drawdown < 0
    return {
        "max_drawdown": drawdown.min(axis=1),
        "longest_drawdown": _longest_run(under).astype(np.float64),
        "ulcer_index": np.sqrt(np.mean((100.0 * drawdown[:, 1:]) ** 2, axis=1)),
    }


def _longest_run(flags: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """The longest run of True in each row."""
    positions = np.arange(flags.shape[1])
    # The last position that was not under water, at or before each position.
    last_dry = np.maximum.accumulate(np.where(flags, -1, positions), axis=1)
    lengths = np.where(flags, positions - last_dry, 0)
    return lengths.max(axis=1)
