"""Parameter search and robustness for rustybt strategies.

Parameter spaces, objectives, trial executors (serial, a local process pool,
Ray), optuna studies, walk-forward analysis, Monte Carlo and sensitivity.
"""

__all__: list[str] = []
