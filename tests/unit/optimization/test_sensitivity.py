"""Sensitivity: sweeps and interaction grids of real backtests around a chosen point."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rustybt.exceptions import ParameterValidationError
from rustybt.optimization import Categorical, Float, Int, ParameterSpace, sensitivity
from rustybt.optimization.sensitivity import neighbourhood
from tests.unit.optimization._algos import CROSSOVER, crossover_sharpe

ALGO = CROSSOVER
START, END = "2015-01-02", "2015-12-31"


def test_neighbourhoods_of_each_kind_of_parameter() -> None:
    space = ParameterSpace(
        fast=Int(5, 50, step=5),
        w=Float(0.1, 0.9, step=0.1),
        lr=Float(1e-4, 1e-1, log=True),
        kind=Categorical(["a", "b"]),
    )
    assert neighbourhood(space, "fast", 5, radius=2) == [5, 10, 15]
    assert neighbourhood(space, "fast", 50, radius=1) == [45, 50]
    assert neighbourhood(space, "w", 0.5, radius=1) == [0.4, 0.5, 0.6]
    rates = neighbourhood(space, "lr", 1e-2, radius=2)
    assert 1e-2 in rates and len(rates) == 5
    assert np.allclose(np.diff(np.log(rates)), np.log(rates[1] / rates[0]))
    assert neighbourhood(space, "kind", "b") == ["a", "b"]
    with pytest.raises(ParameterValidationError, match="'fast': 7 is not one of its values"):
        neighbourhood(space, "fast", 7)


def test_sweeps_and_grids_are_real_backtests(demo: Path) -> None:
    space = ParameterSpace(fast=Int(10, 30, step=10), slow=Int(40, 80, step=20))
    center = {"fast": 20, "slow": 60}
    result = sensitivity(ALGO, space, center, bundle="demo", start=START, end=END, radius=1)
    assert list(result.sweeps["fast"].index) == [10, 20, 30]
    assert list(result.sweeps["slow"].index) == [40, 60, 80]
    grid = result.interactions[("fast", "slow")]
    assert grid.shape == (3, 3)
    assert len(result.runs) == 9  # the sweeps' points all lie on the grid: run once each
    sharpe = crossover_sharpe(START, END, {"fast": 30, "slow": 40})
    assert grid.loc[30, 40] == pytest.approx(sharpe, rel=1e-12)
    assert result.sweeps["fast"].loc[20] == grid.loc[20, 60]
    stability = result.stability
    assert list(stability.index) == ["fast", "slow"]
    for name in ("fast", "slow"):
        sweep = result.sweeps[name]
        assert stability.loc[name, "min"] == sweep.min()
        assert stability.loc[name, "max"] == sweep.max()
        score = stability.loc[name, "score"]
        assert np.isnan(score) or 0.0 <= score <= 1.0
