"""Benchmark tooling: timing and profiling, functional equivalence, standard workloads.

Nothing in the engine imports this package; it measures the engine from outside.

- :func:`run_benchmark_suite` (:mod:`.profiling`): repeated, controlled runs of a
  workflow; mean, standard deviation, 95% confidence interval, min, max, peak
  memory, an optional cProfile breakdown by category; written as JSON.
- :func:`validate_functional_equivalence` (:mod:`.comparisons`), also named
  ``test_functional_equivalence``: baseline and optimized give the same results.
- :mod:`.workloads`: the standard workloads W1-W6 on generated data
  (:mod:`.synthetic`); the strategy of W1/W2 in :mod:`.dual_ma` (re-target
  every bar), that of W5/W6 in :mod:`.crossover` (orders on signal changes).
  With them, the parameter searches of :mod:`.optimization_workloads`:
  ``grid100`` (a 10 x 10 grid of W5's windows) and ``wf5`` (a walk-forward of
  5 windows), whose trials run the algorithm file :mod:`.crossover_params`.

Examples
--------
>>> from rustybt.benchmarks import run_benchmark_suite, validate_functional_equivalence
>>> run_benchmark_suite(max, ([1, 5, 2],), num_runs=2, warmup=0).result
5
>>> validate_functional_equivalence(abs, lambda x: x if x >= 0 else -x, [(-2,), (3,)]).cases
2
"""

from rustybt.benchmarks.comparisons import (
    EquivalenceReport,
    test_functional_equivalence,
    validate_functional_equivalence,
)
from rustybt.benchmarks.profiling import BenchmarkResult, ProfileBreakdown, run_benchmark_suite

__all__ = [
    "BenchmarkResult",
    "EquivalenceReport",
    "ProfileBreakdown",
    "run_benchmark_suite",
    "test_functional_equivalence",
    "validate_functional_equivalence",
]
