"""The benchmark strategy: a dual moving-average crossover over a whole universe.

The rules, exactly, so that peer implementations (zipline-reloaded,
backtrader, vectorbt) can mirror them bar for bar:

1. The universe is a fixed list of N assets (``universe``, passed to
   ``initialize``); N is its length. Commission and slippage are off:
   ``set_commission(NoCommission())`` and ``set_slippage(NoSlippage())``.
2. Every bar, ``handle_data`` first counts the bar. Until ``SLOW`` (50) bars
   have been seen, including the current one, it does nothing else: the slow
   window is not yet full.
3. From the 50th bar on it makes ONE history call for the whole universe,
   ``data.history(universe, "close", 50, frequency)`` (``"1d"`` on daily
   bars, ``"1m"`` on minute bars), and for each asset computes
   ``fast`` = the mean of the last ``FAST`` (20) closes and ``slow`` = the
   mean of all 50, both including the current bar (compared exactly, on
   sums in cents: see :func:`signals`).
4. For each asset, in universe order: ``order_target_percent(asset, 1 / N)``
   if ``fast > slow`` (strictly), else ``order_target_percent(asset, 0.0)``.
   Portfolio value is the engine's (cash plus positions at the last price).
   Orders fill at the next bar's close (daily) or the next minute's close.

Nothing is recorded, nothing is scheduled; ``context.bars_seen`` counts bars.

Examples
--------
>>> import numpy as np
>>> closes = np.vstack([np.arange(50.0), np.arange(50.0, 0.0, -1.0)]).T
>>> targets(closes, n_assets=2).tolist()
[0.5, 0.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from rustybt.api import order_target_percent, set_commission, set_slippage, symbols
from rustybt.finance.models.commission import NoCommission
from rustybt.finance.models.slippage import NoSlippage

__all__ = ["FAST", "SLOW", "handle_data", "initialize", "signals", "targets"]

#: Bars in the fast and the slow moving average.
FAST: Final[int] = 20
SLOW: Final[int] = 50


def initialize(context: Any, universe: Sequence[str]) -> None:
    """Look up the universe by symbol and switch costs off.

    Parameters
    ----------
    context
        The algorithm.
    universe
        The symbols to trade (pass ``universe=...`` to ``run_algorithm``).
    """
    context.assets = symbols(*universe)
    context.bars_seen = 0
    context.frequency = "1m" if context.get_environment("data_frequency") == "minute" else "1d"
    set_commission(NoCommission())
    set_slippage(NoSlippage())


def signals(
    closes: npt.NDArray[np.float64], fast: int = FAST, slow: int = SLOW
) -> npt.NDArray[np.bool_]:
    """Per asset, whether fast > slow in a ``(slow, assets)`` window of closes.

    Decided exactly, as every peer implementation decides it: the closes are
    whole cents, so the test is ``sum(last fast in cents) * slow > sum(last
    slow in cents) * fast`` on integers held exactly in float64. Float means
    could break a tie (equal means) either way. A window with a missing close
    is never up (NaN compares false). ``fast`` and ``slow`` default to the
    workloads' :data:`FAST` and :data:`SLOW`; the parameter searches
    (:mod:`.crossover_params`) vary them.

    Examples
    --------
    >>> closes = np.vstack([np.arange(50.0), np.full(50, 7.0)]).T
    >>> signals(closes).tolist()
    [True, False]
    >>> signals(closes[-12:], fast=4, slow=12).tolist()
    [True, False]
    """
    cents = np.rint(closes * 100.0)
    return cents[-fast:].sum(axis=0) * slow > cents[-slow:].sum(axis=0) * fast


def targets(closes: npt.NDArray[np.float64], n_assets: int) -> npt.NDArray[np.float64]:
    """Target weights from a ``(SLOW, assets)`` window of closes: 1/N where fast > slow.

    "fast > slow" is :func:`signals`.
    """
    return np.where(signals(closes), 1.0 / n_assets, 0.0)


def handle_data(context: Any, data: Any) -> None:
    """Once the slow window is full, target 1/N per asset while fast > slow, else 0."""
    context.bars_seen += 1
    if context.bars_seen < SLOW:
        return
    window = data.history(context.assets, "close", SLOW, context.frequency)
    weights = targets(window.to_numpy(dtype=np.float64), len(context.assets))
    for asset, weight in zip(context.assets, weights.tolist(), strict=True):
        order_target_percent(asset, weight)
