"""Aggregates over the open positions: long and short value, exposure and counts.

Examples
--------
>>> from decimal import Decimal
>>> from rustybt.finance.ledger.position import Position
>>> stats = position_stats([Position("A", Decimal(10), Decimal(5), Decimal(6)),
...                         Position("B", Decimal(-2), Decimal(5), Decimal(4))])
>>> stats.long_value, stats.short_value, stats.net_value, stats.longs_count
(Decimal('60'), Decimal('-8'), Decimal('52'), 1)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from rustybt.finance.ledger.position import Position
from rustybt.finance.precision import ZERO

__all__ = ["PositionStats", "position_stats"]


@dataclass(frozen=True, slots=True)
class PositionStats:
    """Aggregates over the open positions, in Decimal.

    Values use ``amount * last_sale_price``; exposures also apply the
    contract multiplier. Futures carry exposure but no value (their price
    changes settle in cash), as in zipline.
    """

    long_value: Decimal = ZERO
    short_value: Decimal = ZERO
    long_exposure: Decimal = ZERO
    short_exposure: Decimal = ZERO
    longs_count: int = 0
    shorts_count: int = 0

    @property
    def net_value(self) -> Decimal:
        """Long plus short value (shorts are negative)."""
        return self.long_value + self.short_value

    @property
    def gross_value(self) -> Decimal:
        """Long minus short value."""
        return self.long_value - self.short_value

    @property
    def net_exposure(self) -> Decimal:
        """Long plus short exposure."""
        return self.long_exposure + self.short_exposure

    @property
    def gross_exposure(self) -> Decimal:
        """Long minus short exposure."""
        return self.long_exposure - self.short_exposure


def position_stats(positions: Iterable[Position]) -> PositionStats:
    """The :class:`PositionStats` of ``positions``.

    A position counts as long or short by the sign of its
    :attr:`~rustybt.finance.ledger.position.Position.exposure`; a future adds its
    exposure and no value (its price changes settle in cash).
    """
    long_value = short_value = long_exposure = short_exposure = ZERO
    longs = shorts = 0
    for position in positions:
        exposure = position.exposure
        value = ZERO if position.multiplier is not None else exposure
        if exposure > ZERO:
            longs += 1
            long_value += value
            long_exposure += exposure
        elif exposure < ZERO:
            shorts += 1
            short_value += value
            short_exposure += exposure
    return PositionStats(long_value, short_value, long_exposure, short_exposure, longs, shorts)
