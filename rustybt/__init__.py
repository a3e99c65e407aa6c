"""rustybt: zipline-compatible, event-driven backtesting in pure Python.

Examples
--------
>>> import rustybt
>>> callable(rustybt.run_algorithm), rustybt.TradingAlgorithm.__name__
(True, 'TradingAlgorithm')
"""

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "TradingAlgorithm",
    "__version__",
    "extension_args",
    "load_ipython_extension",
    "run_algorithm",
]


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%%rustybt`` cell magic: what ``%load_ext rustybt`` runs.

    See :mod:`rustybt.magic` (imported only here, so IPython is needed only
    in a notebook).
    """
    from rustybt.magic import load_ipython_extension as register

    register(ipython)


def __getattr__(name: str) -> Any:
    # Imported lazily so that `import rustybt` (and the CLI's start-up) stays cheap.
    if name == "run_algorithm":
        from rustybt.utils.run_algo import run_algorithm

        return run_algorithm
    if name == "TradingAlgorithm":
        from rustybt.algorithm import TradingAlgorithm

        return TradingAlgorithm
    if name == "extension_args":
        # zipline.extension_args: the `-x key=value` arguments of the command.
        from rustybt.extensions import extension_args

        return extension_args
    raise AttributeError(f"module 'rustybt' has no attribute {name!r}")
