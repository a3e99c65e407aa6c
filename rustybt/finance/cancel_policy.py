"""Cancel policies at zipline's import path (``zipline.finance.cancel_policy``).

They live in :mod:`rustybt.finance.models.cancel_policy`.
"""

from rustybt.finance.models.cancel_policy import *  # noqa: F403
from rustybt.finance.models.cancel_policy import __all__  # noqa: F401
