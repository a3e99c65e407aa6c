"""Parameter search, walk-forward analysis, Monte Carlo tests and sensitivity of strategies."""

__all__: list[str] = []
