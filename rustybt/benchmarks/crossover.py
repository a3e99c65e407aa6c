"""The signal-change crossover: the dual moving average as most users write it.

The same signal as :mod:`.dual_ma` (fast mean of the last ``FAST`` closes
above the slow mean of the last ``SLOW``, decided exactly by
:func:`.dual_ma.signals`), traded the way a typical strategy trades it: orders
only when an asset's signal flips, not every bar. The rules, so that peer
implementations can mirror them bar for bar:

1. As :mod:`.dual_ma`: a fixed universe of N assets, no commission, no
   slippage, nothing before the ``SLOW``-th bar.
2. Every bar from the ``SLOW``-th on: ONE ``data.history(universe, "close",
   SLOW, frequency)`` call, the signal of every asset, and for each asset
   whose signal differs from the one it had on the previous bar (before the
   first decision every asset counts as "down": flat), in universe order:
   ``order_target_percent(asset, 1 / N)`` if it is now up, else
   ``order_target_percent(asset, 0.0)``.
3. Orders fill at the next bar's close, so every flip but one on the last bar
   makes exactly one fill.

Examples
--------
>>> import numpy as np
>>> previous = np.array([False, True, True])
>>> now = np.array([True, True, False])
>>> flips(previous, now).tolist()
[0, 2]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from rustybt.api import order_target_percent
from rustybt.benchmarks import dual_ma

__all__ = ["flips", "handle_data", "initialize"]


def initialize(context: Any, universe: Sequence[str]) -> None:
    """As :func:`.dual_ma.initialize`, every asset starting flat (signal down).

    Parameters
    ----------
    context
        The algorithm.
    universe
        The symbols to trade (pass ``universe=...`` to ``run_algorithm``).
    """
    dual_ma.initialize(context, universe)
    context.ups = np.zeros(len(context.assets), dtype=bool)


def flips(previous: npt.NDArray[np.bool_], now: npt.NDArray[np.bool_]) -> npt.NDArray[np.intp]:
    """The positions of the assets whose signal changed between two bars."""
    return np.flatnonzero(previous != now)


def handle_data(context: Any, data: Any) -> None:
    """Once the slow window is full, re-target only the assets whose signal flipped."""
    context.bars_seen += 1
    if context.bars_seen < dual_ma.SLOW:
        return
    window = data.history(context.assets, "close", dual_ma.SLOW, context.frequency)
    ups = dual_ma.signals(window.to_numpy(dtype=np.float64))
    weight = 1.0 / len(context.assets)
    for i in flips(context.ups, ups).tolist():
        order_target_percent(context.assets[i], weight if ups[i] else 0.0)
    context.ups = ups
