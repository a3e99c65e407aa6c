"""Aggregates over positions: one form for equities, shorts and futures."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from rustybt.assets import Asset, Equity
from rustybt.assets.asset_types import exchange_info_for
from rustybt.finance.ledger import PositionStats, position_stats
from rustybt.finance.ledger.position import Position

D = Decimal
NYSE = exchange_info_for("NYSE")


class _Future(Asset):
    __slots__ = ()
    asset_type: ClassVar[str] = "future"


ES = _Future(100, exchange_info_for("CME", "XNYS"), symbol="ES", multiplier=50.0)


def test_no_positions_are_all_zero() -> None:
    assert position_stats([]) == PositionStats()


def test_equities_value_is_their_exposure() -> None:
    long = Position(Equity(1, NYSE), D(10), D(5), D("6.25"))
    short = Position(Equity(2, NYSE), D(-4), D(5), D("3.5"))
    stats = position_stats([long, short])
    assert (stats.long_value, stats.short_value) == (D("62.50"), D("-14.0"))
    assert (stats.long_exposure, stats.short_exposure) == (D("62.50"), D("-14.0"))
    assert (stats.longs_count, stats.shorts_count) == (1, 1)
    assert (stats.net_value, stats.gross_value) == (D("48.50"), D("76.50"))


def test_futures_add_exposure_at_the_multiplier_and_no_value() -> None:
    equity = Position(Equity(1, NYSE), D(10), D(5), D(6))
    future = Position(ES, D(-2), D(20), D(21))
    assert future.exposure == D(-2100)
    stats = position_stats([future, equity])
    assert (stats.long_value, stats.short_value) == (D(60), D(0))
    assert (stats.net_exposure, stats.gross_exposure) == (D(60 - 2100), D(60 + 2100))
    assert (stats.longs_count, stats.shorts_count) == (1, 1)


def test_a_position_priced_at_zero_counts_neither_way() -> None:
    stats = position_stats([Position(Equity(1, NYSE), D(10), D(5), D(0))])
    assert (stats.longs_count, stats.shorts_count, stats.net_value) == (0, 0, D(0))
