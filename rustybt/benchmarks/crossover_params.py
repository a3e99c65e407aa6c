"""The signal-change crossover of W5 with its two windows as parameters (grid100, wf5).

An algorithm file, run as a script: the parameter searches of the
``grid100`` and ``wf5`` workloads (:mod:`.optimization_workloads`) hand it to
:func:`rustybt.optimization.optimize` and
:func:`rustybt.optimization.walk_forward`, and it runs alone as well::

    rustybt run -f crossover_params.py -b BUNDLE -s START -e END -D fast=10 -D slow=60

The rules are :mod:`.crossover`'s (W5), with ``fast`` and ``slow`` read from
``context.params`` (default :data:`.dual_ma.FAST` and :data:`.dual_ma.SLOW`,
W5's 20 and 50):

1. The universe is every equity of the bundle, in sid order; no commission,
   no slippage.
2. Every bar whose ``slow``-bar window lies inside the bundle's data: ONE
   ``data.history(universe, "close", slow, "1d")`` call, the signal of each
   asset (:func:`.dual_ma.signals`: the mean of the last ``fast`` closes
   above that of the ``slow`` ones, decided exactly on cents), and for each
   asset whose signal flipped since the previous decision (before the first,
   every asset is down: flat), ``order_target_percent(asset, 1 / N)`` if it
   is now up, else ``order_target_percent(asset, 0)``.

Bars before the window fits in the data are skipped, as W5 skips its first
``SLOW - 1`` bars; a backtest that starts later in the bundle (a walk-forward
test window) decides from its first bar, with the closes before its start.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rustybt.api import order_target_percent, set_commission, set_slippage
from rustybt.benchmarks.crossover import flips
from rustybt.benchmarks.dual_ma import FAST, SLOW, signals
from rustybt.exceptions import HistoryWindowStartsBeforeData, ParameterValidationError
from rustybt.finance.models.commission import NoCommission
from rustybt.finance.models.slippage import NoSlippage


def initialize(context: Any) -> None:
    """Read the windows, take every equity of the bundle, start flat, switch costs off."""
    context.fast = int(context.params.get("fast", FAST))
    context.slow = int(context.params.get("slow", SLOW))
    if not 0 < context.fast < context.slow:
        raise ParameterValidationError(
            f"the crossover needs 0 < fast < slow, got fast={context.fast}, slow={context.slow}",
            context={"fast": context.fast, "slow": context.slow},
        )
    finder = context.asset_finder
    context.assets = finder.retrieve_all(sorted(finder.sids))
    context.ups = np.zeros(len(context.assets), dtype=bool)
    set_commission(NoCommission())
    set_slippage(NoSlippage())


def handle_data(context: Any, data: Any) -> None:
    """Re-target the assets whose signal flipped, once the slow window fits in the data."""
    try:
        window = data.history(context.assets, "close", context.slow, "1d")
    except HistoryWindowStartsBeforeData:
        return  # the bundle holds fewer than `slow` sessions up to this bar
    ups = signals(window.to_numpy(dtype=np.float64), context.fast, context.slow)
    weight = 1.0 / len(context.assets)
    for i in flips(context.ups, ups).tolist():
        order_target_percent(context.assets[i], weight if ups[i] else 0.0)
    context.ups = ups
