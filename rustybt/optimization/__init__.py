"""Parameter search and robustness for rustybt strategies, every trial a real backtest.

- :func:`optimize`: an optuna study over a :class:`ParameterSpace` (grid,
  random, TPE, CMA-ES, NSGA-II), stored and resumable.
- :func:`walk_forward`: optimize in-sample, run out-of-sample, window by window.
- :func:`sensitivity`: sweeps and interaction grids around chosen parameters.
- :func:`permutation_test`, :func:`bootstrap_test`, :func:`noise_test`: Monte
  Carlo answers to "is it luck?".
- Executors run the backtests in this process, a pool of processes (each
  opens the bundle once) or on Ray.

Examples
--------
>>> from rustybt.optimization import Int, ParameterSpace
>>> ParameterSpace(fast=Int(5, 50, step=5), slow=Int(20, 200, step=20)).grid_size()
100
"""

from rustybt.optimization.executors import (
    PoolExecutor,
    RayExecutor,
    SerialExecutor,
    make_executor,
)
from rustybt.optimization.montecarlo import (
    MonteCarloResult,
    bootstrap_test,
    permutation_test,
)
from rustybt.optimization.noise import noise_test
from rustybt.optimization.objectives import Objective, resolve_objectives, summary_statistics
from rustybt.optimization.sensitivity import SensitivityResult, sensitivity
from rustybt.optimization.space import Categorical, Float, Int, ParameterSpace
from rustybt.optimization.study import OptimizationResult, optimize
from rustybt.optimization.trial import BacktestSpec, TrialOutcome, TrialTask, run_trial
from rustybt.optimization.walkforward import WalkForwardResult, walk_forward

__all__ = [
    "BacktestSpec",
    "Categorical",
    "Float",
    "Int",
    "MonteCarloResult",
    "Objective",
    "OptimizationResult",
    "ParameterSpace",
    "PoolExecutor",
    "RayExecutor",
    "SensitivityResult",
    "SerialExecutor",
    "TrialOutcome",
    "TrialTask",
    "WalkForwardResult",
    "bootstrap_test",
    "make_executor",
    "noise_test",
    "optimize",
    "permutation_test",
    "resolve_objectives",
    "run_trial",
    "sensitivity",
    "summary_statistics",
    "walk_forward",
]
