"""Sources of data the simulation consumes besides bars (the benchmark's returns)."""

from rustybt.sources.benchmark import BenchmarkSource

__all__ = ["BenchmarkSource"]
