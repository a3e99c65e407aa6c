"""Execution styles at zipline's import path (``zipline.finance.execution``).

They live in :mod:`rustybt.finance.orders.execution`.
"""

from rustybt.finance.orders.execution import *  # noqa: F403
from rustybt.finance.orders.execution import __all__  # noqa: F401
