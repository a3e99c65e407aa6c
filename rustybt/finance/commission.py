"""Commission models at zipline's import path (``zipline.finance.commission``).

They live in :mod:`rustybt.finance.models.commission`.
"""

from rustybt.finance.models.commission import *  # noqa: F403
from rustybt.finance.models.commission import __all__  # noqa: F401
