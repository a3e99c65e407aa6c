"""Slippage models at zipline's import path (``zipline.finance.slippage``).

They live in :mod:`rustybt.finance.models.slippage`.
"""

from rustybt.finance.models.slippage import *  # noqa: F403
from rustybt.finance.models.slippage import __all__  # noqa: F401
