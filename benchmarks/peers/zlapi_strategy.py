"""The W1/W2 strategy written once against the zipline API.

rustybt and zipline-reloaded run the very same functions: each worker passes
its own ``api`` module (``rustybt.api`` / ``zipline.api``) and its own
``slippage`` and ``commission`` modules.

Every bar once ``SLOW`` bars exist: one ``data.history`` call for all assets,
the simple means of the last ``FAST`` and ``SLOW`` closes (today's included),
and ``order_target_percent(asset, 1/N)`` while fast > slow, else 0. The market
orders fill at the next bar's close (NoSlippage); no commission.

"fast > slow" is decided exactly: the closes are whole cents, so the test is
``sum(last FAST closes in cents) * SLOW > sum(SLOW closes in cents) * FAST`` on
integers held exactly in float64. With float means, an exact tie (it happens
with cent prices: e.g. both means 216.051) falls either way depending on how an
engine stores its prices, and one such flip is enough to make two engines'
fills part ways. Every peer implementation decides it the same exact way.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
from peers_common import FAST, SLOW


def make_strategy(
    api: ModuleType,
    slippage: ModuleType,
    commission: ModuleType,
    names: list[str],
    frequency: str,
) -> tuple[Callable[[Any], None], Callable[[Any, Any], None]]:
    """``(initialize, handle_data)`` for ``names``; ``frequency`` is "1d" or "1m"."""
    weight = 1.0 / len(names)

    def initialize(context: Any) -> None:
        context.assets = [api.symbol(name) for name in names]
        context.bars = 0
        api.set_commission(commission.NoCommission())
        api.set_slippage(slippage.NoSlippage())

    def handle_data(context: Any, data: Any) -> None:
        context.bars += 1
        if context.bars < SLOW:
            return
        closes = data.history(context.assets, "close", SLOW, frequency).to_numpy()
        cents = np.rint(closes * 100.0)
        ups = cents[-FAST:].sum(axis=0) * SLOW > cents.sum(axis=0) * FAST  # fast > slow
        order_target_percent = api.order_target_percent
        for asset, up in zip(context.assets, ups, strict=True):
            order_target_percent(asset, weight if up else 0.0)

    return initialize, handle_data
