"""The simulation blotter at zipline's import path (``zipline.finance.blotter``).

They live in :mod:`rustybt.brokers.simulated`.
"""

from rustybt.brokers.simulated import *  # noqa: F403
from rustybt.brokers.simulated import __all__  # noqa: F401
