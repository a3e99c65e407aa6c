"""The W1/W2 and W5/W6 strategies, written once against the zipline API.

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

W5/W6 (``make_crossover_strategy``) is the same signal traded as most users
trade it: the same history call every bar, but orders only for the assets
whose signal flipped since the previous bar (before the first decision every
asset counts as down, i.e. flat): ``order_target_percent(asset, 1/N)`` on an
up-crossing, ``order_target_percent(asset, 0)`` on a down-crossing.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
from peers_common import FAST, SLOW

Strategy = tuple[Callable[[Any], None], Callable[[Any, Any], None]]


def signals(closes: np.ndarray, fast: int = FAST, slow: int = SLOW) -> np.ndarray:
    """fast > slow per asset, decided exactly on sums in cents (see above)."""
    cents = np.rint(closes * 100.0)
    return cents[-fast:].sum(axis=0) * slow > cents[-slow:].sum(axis=0) * fast


def make_initialize(
    api: ModuleType, slippage: ModuleType, commission: ModuleType, names: list[str]
) -> Callable[[Any], None]:
    """Look the assets up, count no bar yet, start flat, switch costs off."""

    def initialize(context: Any) -> None:
        context.assets = [api.symbol(name) for name in names]
        context.bars = 0
        context.ups = np.zeros(len(names), dtype=bool)
        api.set_commission(commission.NoCommission())
        api.set_slippage(slippage.NoSlippage())

    return initialize


def make_strategy(
    api: ModuleType,
    slippage: ModuleType,
    commission: ModuleType,
    names: list[str],
    frequency: str,
) -> Strategy:
    """W1/W2: ``(initialize, handle_data)`` for ``names``; ``frequency`` is "1d" or "1m"."""
    weight = 1.0 / len(names)

    def handle_data(context: Any, data: Any) -> None:
        context.bars += 1
        if context.bars < SLOW:
            return
        closes = data.history(context.assets, "close", SLOW, frequency).to_numpy()
        ups = signals(closes)
        order_target_percent = api.order_target_percent
        for asset, up in zip(context.assets, ups, strict=True):
            order_target_percent(asset, weight if up else 0.0)

    return make_initialize(api, slippage, commission, names), handle_data


def make_crossover_strategy(
    api: ModuleType,
    slippage: ModuleType,
    commission: ModuleType,
    names: list[str],
    frequency: str,
    fast: int = FAST,
    slow: int = SLOW,
) -> Strategy:
    """W5/W6: as ``make_strategy``, but orders only where an asset's signal flipped.

    grid100 varies the two windows (``fast``, ``slow``: W5's 20 and 50 by default).
    """
    weight = 1.0 / len(names)

    def handle_data(context: Any, data: Any) -> None:
        context.bars += 1
        if context.bars < slow:
            return
        closes = data.history(context.assets, "close", slow, frequency).to_numpy()
        ups = signals(closes, fast, slow)
        for i in np.flatnonzero(ups != context.ups):
            api.order_target_percent(context.assets[i], weight if ups[i] else 0.0)
        context.ups = ups

    return make_initialize(api, slippage, commission, names), handle_data
