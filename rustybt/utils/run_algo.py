"""zipline's import path of :func:`run_algorithm` (``zipline.utils.run_algo``).

The run is assembled in :mod:`rustybt.runner`.
"""

from rustybt.runner import run_algorithm

__all__ = ["run_algorithm"]
