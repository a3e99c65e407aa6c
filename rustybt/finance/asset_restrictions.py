"""Asset restrictions at zipline's import path (``zipline.finance.asset_restrictions``).

They live in :mod:`rustybt.finance.risk.restrictions`.
"""

from rustybt.finance.risk.restrictions import *  # noqa: F403
from rustybt.finance.risk.restrictions import __all__  # noqa: F401
