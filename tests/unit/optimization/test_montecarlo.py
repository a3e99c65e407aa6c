"""Trade-order permutation and stationary block bootstrap: seeded, and right on planted data."""

from __future__ import annotations

from pathlib import Path

import empyrical
import numpy as np
import pandas as pd
import pytest

from rustybt import run_algorithm
from rustybt.analytics.round_trips import round_trips
from rustybt.exceptions import ParameterValidationError
from rustybt.optimization.montecarlo import (
    MonteCarloResult,
    bootstrap_test,
    permutation_test,
    permuted_equity_paths,
    stationary_bootstrap_indices,
)
from rustybt.optimization.objectives import return_statistics, sharpe_ratio


def planted_returns(drift: float, seed: int, days: int = 1000) -> np.ndarray:
    """Daily returns of 1% volatility and exactly the given mean."""
    noise = np.random.default_rng(seed).normal(0.0, 0.01, days)
    return noise - noise.mean() + drift


# --- stationary bootstrap ---------------------------------------------------------------------


def test_the_same_seed_gives_the_same_samples_and_another_seed_others() -> None:
    returns = planted_returns(0.0005, seed=1)
    first, again = bootstrap_test(returns, n=200, seed=5), bootstrap_test(returns, n=200, seed=5)
    other = bootstrap_test(returns, n=200, seed=6)
    for name in first:
        np.testing.assert_array_equal(first[name].samples, again[name].samples)
        assert not np.array_equal(first[name].samples, other[name].samples)


def test_a_strategy_with_an_edge_is_significant_and_pure_noise_is_not() -> None:
    edge = bootstrap_test(planted_returns(0.0015, seed=11), n=1000, seed=0)
    noise = bootstrap_test(planted_returns(0.0, seed=12), n=1000, seed=0)
    assert edge.statistic == "sharpe"
    assert edge.p_value < 0.05
    assert edge["total_return"].p_value < 0.05
    assert noise.p_value > 0.05
    assert noise["annual_return"].p_value > 0.05
    # The edge's interval lies above zero; the noise's straddles it.
    assert edge.percentiles[5.0] > 0 > noise.percentiles[5.0]
    assert noise.percentiles[95.0] > 0


def test_observed_statistics_are_empyricals() -> None:
    returns = planted_returns(0.0008, seed=3, days=300)
    result = bootstrap_test(pd.DataFrame({"returns": returns}), n=50, seed=0)
    assert result.observed == pytest.approx(empyrical.sharpe_ratio(returns), rel=1e-12)
    assert result["max_drawdown"].observed == pytest.approx(empyrical.max_drawdown(returns))
    assert result["annual_return"].observed == pytest.approx(empyrical.annual_return(returns))
    assert result["total_return"].observed == pytest.approx(empyrical.cum_returns_final(returns))
    stats = return_statistics(returns)
    assert stats["sharpe"] == result.observed
    assert sharpe_ratio(returns[np.newaxis, :])[0] == pytest.approx(result.observed)


def test_rank_p_value_and_percentiles_follow_their_definitions() -> None:
    result = bootstrap_test(planted_returns(0.0003, seed=4, days=400), n=300, seed=2)
    sharpe = result["sharpe"]
    assert sharpe.rank == np.mean(sharpe.samples <= sharpe.observed)
    assert sharpe.null_samples is not None
    count = np.count_nonzero(sharpe.null_samples >= sharpe.observed)
    assert sharpe.p_value == (count + 1) / (300 + 1)
    levels = result.percentiles
    assert list(levels.index) == [5.0, 25.0, 50.0, 75.0, 95.0]
    assert levels.is_monotonic_increasing
    assert levels[50.0] == np.percentile(sharpe.samples, 50)
    custom = bootstrap_test(
        planted_returns(0.0, seed=4, days=60), n=20, seed=0, percentiles=[2.5, 97.5]
    )
    assert list(custom.to_frame().columns) == [
        "observed", "mean", "std", "p2.5", "p97.5", "rank", "p_value"
    ]  # fmt: skip


def test_blocks_are_runs_of_consecutive_sessions_of_the_mean_length() -> None:
    index = stationary_bootstrap_indices(500, 200, 10.0, np.random.default_rng(0))
    continues = np.diff(index, axis=1) % 500 == 1
    # A block goes on with probability 1 - 1/10 (plus the rare new block that happens to follow).
    assert continues.mean() == pytest.approx(0.9, abs=0.01)
    single = stationary_bootstrap_indices(500, 50, 1.0, np.random.default_rng(0))
    assert (np.diff(single, axis=1) % 500 == 1).mean() < 0.01  # every day a new block
    result = bootstrap_test(np.zeros(1000) + 0.001, n=5, seed=0)
    assert result.parameters == {"block": 10.0, "returns": 1000}  # 1000 ** (1/3)


def test_bootstrap_refuses_bad_input_in_one_line() -> None:
    with pytest.raises(
        ParameterValidationError, match=r"^bootstrap_test needs at least 2 returns, got 1$"
    ):
        bootstrap_test([0.01, np.nan], n=10)
    with pytest.raises(ParameterValidationError, match="block must be a mean block length"):
        bootstrap_test(np.zeros(10), block=20)
    with pytest.raises(ParameterValidationError, match="n must be a positive whole number"):
        bootstrap_test(np.zeros(10), n=0)
    with pytest.raises(ParameterValidationError, match="percentiles must lie in"):
        bootstrap_test(np.zeros(10), percentiles=[150])
    with pytest.raises(ParameterValidationError, match="'returns' column"):
        bootstrap_test(pd.DataFrame({"pnl": [1.0, 2.0]}))


def test_results_print_and_tabulate() -> None:
    result = bootstrap_test(planted_returns(0.001, seed=9, days=250), n=100, seed=1)
    assert isinstance(result, MonteCarloResult)
    frame = result.to_frame()
    assert list(frame.index) == ["sharpe", "annual_return", "total_return", "max_drawdown"]
    assert frame.loc["sharpe", "p_value"] == result.p_value
    assert frame.loc["max_drawdown", "observed"] == result["max_drawdown"].observed
    pd.testing.assert_frame_equal(result["total_return"].to_frame(), frame.loc[["total_return"]])
    assert result != bootstrap_test(planted_returns(0.001, seed=9, days=250), n=100, seed=1)
    text = result.summary()
    assert text.startswith("stationary bootstrap: 100 samples, seed 1 (block=6.0, returns=250)")
    assert "max_drawdown" in text
    assert repr(result).startswith("<MonteCarloResult stationary bootstrap: sharpe observed=")
    assert "p_value=" in repr(result["sharpe"])
    with pytest.raises(ParameterValidationError, match="no statistic 'sortino'"):
        result["sortino"]


# --- trade-order permutation -----------------------------------------------------------------


def test_every_order_of_the_trades_ends_at_the_same_equity() -> None:
    pnl = np.random.default_rng(0).normal(10.0, 100.0, 60)
    paths = permuted_equity_paths(pnl, 10_000.0, 500, np.random.default_rng(1))
    np.testing.assert_allclose(paths[:, -1], 10_000.0 + pnl.sum(), rtol=0, atol=1e-6)
    # ...but not by the same way: the orders differ.
    assert len({tuple(row) for row in np.round(paths, 6)}) == 500
    result = permutation_test(pd.DataFrame({"pnl": pnl}), n=500, seed=1, capital_base=10_000)
    assert result.parameters["final_equity"] == pytest.approx(10_000.0 + pnl.sum())


def test_permutation_is_seeded() -> None:
    trips = pd.DataFrame({"pnl": np.random.default_rng(2).normal(0.0, 50.0, 40)})
    first = permutation_test(trips, n=300, seed=3, capital_base=5_000)
    again = permutation_test(trips, n=300, seed=3, capital_base=5_000)
    other = permutation_test(trips, n=300, seed=4, capital_base=5_000)
    for name in ("max_drawdown", "longest_drawdown", "ulcer_index"):
        np.testing.assert_array_equal(first[name].samples, again[name].samples)
        assert not np.array_equal(first[name].samples, other[name].samples)


def test_the_p_value_says_whether_the_observed_order_was_lucky() -> None:
    wins, losses = np.full(20, 100.0), np.full(20, -80.0)
    losses_first = pd.DataFrame({"pnl": np.concatenate([losses, wins])})
    alternating = pd.DataFrame({"pnl": np.ravel(np.column_stack([wins, losses]))})
    unlucky = permutation_test(losses_first, n=1000, seed=0, capital_base=10_000)
    lucky = permutation_test(alternating, n=1000, seed=0, capital_base=10_000)
    assert unlucky.observed == pytest.approx(-0.16)  # 20 losses of 80 from 10,000
    assert unlucky.p_value > 0.95  # almost every order draws down less
    assert unlucky.rank < 0.05
    assert lucky.observed == pytest.approx(-80 / 10_100)  # one loss of 80 after a win
    assert lucky.p_value < 0.01  # almost no order does as well
    assert unlucky["longest_drawdown"].observed == 35  # 20 losses, then 15 wins to climb back
    assert lucky["longest_drawdown"].observed == 1
    assert unlucky["ulcer_index"].observed > lucky["ulcer_index"].observed


def test_permutation_of_a_real_run(demo: Path, tmp_path: Path) -> None:
    script = tmp_path / "swing.py"
    script.write_text(
        "from rustybt.api import order_target_percent, symbol\n"
        "def initialize(context):\n"
        "    context.asset = symbol('MSFT')\n"
        "    context.day = 0\n"
        "def handle_data(context, data):\n"
        "    context.day += 1\n"
        "    order_target_percent(context.asset, 0.8 if (context.day // 5) % 2 else -0.4)\n"
    )
    perf = run_algorithm(
        "2018-01-02",
        "2018-12-31",
        capital_base=50_000,
        bundle="demo",
        script=script.read_text(),
        algo_filename=str(script),
    )
    result = permutation_test(perf, n=400, seed=0)
    pnl = round_trips(perf)["pnl"].to_numpy(dtype=np.float64)
    assert result.parameters["trades"] == pnl.size > 20
    assert result.parameters["capital_base"] == 50_000
    assert result.parameters["final_equity"] == pytest.approx(50_000 + pnl.sum())
    assert (result.samples <= 0).all()
    assert 0 < result.p_value <= 1


def test_permutation_refuses_bad_input_in_one_line() -> None:
    with pytest.raises(ParameterValidationError, match="needs capital_base"):
        permutation_test(pd.DataFrame({"pnl": [1.0, 2.0]}))
    with pytest.raises(ParameterValidationError, match="at least 2 round trips, the run has 1"):
        permutation_test(pd.DataFrame({"pnl": [1.0]}), capital_base=100)
    with pytest.raises(ParameterValidationError, match="capital_base must be positive"):
        permutation_test(pd.DataFrame({"pnl": [1.0, 2.0]}), capital_base=0)
    with pytest.raises(ParameterValidationError, match="not list"):
        permutation_test([1.0, 2.0])  # type: ignore[arg-type]
    with pytest.raises(
        ParameterValidationError, match="no starting_cash column; give capital_base"
    ):
        permutation_test(pd.DataFrame({"transactions": [[], []]}))
