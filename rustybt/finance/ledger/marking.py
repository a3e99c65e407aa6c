"""Marking to market: the open positions grouped by price rules, with their portal columns.

A :class:`MarkingPlan` is kept in step with the open positions (a position
joins it when it opens and leaves it when it closes), so a mark neither
rebuilds it nor walks the positions in Python to find their prices: it
reads each group's prices with one index of the bar's row of the portal and
converts them with one
:meth:`~rustybt.finance.precision.AssetClassPrecision.prices` call.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from operator import attrgetter, is_
from typing import Any

import numpy as np
import numpy.typing as npt

from rustybt.finance.ledger.position import Position
from rustybt.finance.precision import AssetClassPrecision, PrecisionConfig

__all__ = ["MarkingPlan"]

_LAST_SALE_PRICE = attrgetter("last_sale_price")


@dataclass(slots=True)
class _PriceGroup:
    """Open positions under one price rule, and their portal columns (same order)."""

    rules: AssetClassPrecision
    positions: list[Position] = field(default_factory=list)
    columns: list[int] = field(default_factory=list)
    #: ``columns`` as an index array (a cache: None after a position joins or leaves).
    index: npt.NDArray[np.intp] | None = None

    def column_index(self) -> npt.NDArray[np.intp]:
        """The group's columns as an index array (built once per change of members)."""
        if self.index is None:
            self.index = np.array(self.columns, np.intp)
        return self.index


def _mark(
    positions: Sequence[Position], prices: list[float], rules: AssetClassPrecision, dt: Any
) -> bool:
    """Mark ``positions`` to ``prices`` (floats) by ``rules``; a NaN price keeps its mark.

    Returns whether every position was marked (no price was NaN).
    """
    complete = math.isfinite(sum(prices))
    if not complete:
        # Some price is NaN (no price yet) or infinite (which the rule rejects).
        kept = [(p, x) for p, x in zip(positions, prices, strict=True) if x == x]
        positions = [p for p, _ in kept]
        prices = [x for _, x in kept]
    for position, mark in zip(positions, rules.prices(prices), strict=True):
        position.last_sale_price = mark
        position.last_sale_date = dt
    return complete


class MarkingPlan:
    """How to mark the open positions from the rows of one DataPortal.

    Parameters
    ----------
    portal
        The DataPortal whose columns the plan holds.
    precision
        The price rules of each asset class.
    positions
        The positions open now (later ones join through :meth:`add`).
    """

    def __init__(
        self, portal: Any, precision: PrecisionConfig, positions: Iterable[Position] = ()
    ) -> None:
        self.portal = portal
        self._precision = precision
        # A cache of each asset's column and group by sid (an int's hash is C;
        # an asset's is a Python call): an asset's column and rules do not change.
        self._known: dict[int, tuple[int, _PriceGroup]] = {}
        self._groups: dict[int, _PriceGroup] = {}  # by id of the rules
        self._group_list: tuple[_PriceGroup, ...] = ()
        # (the prices of the last mark, by group; the marks they gave): see mark.
        self._last: tuple[list[list[float]], tuple[Decimal, ...]] | None = None
        for position in positions:
            self.add(position)

    def _entry(self, asset: Any) -> tuple[int, _PriceGroup]:
        """``asset``'s portal column and price group."""
        known = self._known.get(asset.sid)
        if known is None:
            rules = self._precision.for_asset(asset)
            group = self._groups.get(id(rules))
            if group is None:
                group = self._groups[id(rules)] = _PriceGroup(rules)
                self._group_list = tuple(self._groups.values())
            known = self._known[asset.sid] = (self.portal.column(asset), group)
        return known

    def add(self, position: Position) -> None:
        """A position opened: mark it from now on."""
        column, group = self._entry(position.asset)
        group.positions.append(position)
        group.columns.append(column)
        group.index = None
        self._last = None

    def remove(self, position: Position) -> None:
        """A position closed: mark it no more."""
        _, group = self._entry(position.asset)
        index = group.positions.index(position)
        del group.positions[index]
        del group.columns[index]
        group.index = None
        self._last = None

    def mark(self, dt: Any, row: int, data_frequency: str, perspective: int) -> bool:
        """Mark every position to its portal price at ``dt``.

        ``row`` and ``perspective`` are the portal's for ``dt``
        (``DataPortal.resolve``); each group's prices are one index of the
        bar's row (the portal keeps it, so order sizing and the mark read it
        once). A NaN price keeps the position's mark and date. A mark that
        reads the prices of the last one (every one a number), whose marks
        nothing has replaced since (a fill, a split), converts nothing: the
        marks stand and only their dates move (a session's close marks again
        what the algorithm's mark at the same bar did).

        Returns
        -------
        bool
            Whether a mark may have changed.
        """
        groups = self._group_list
        # Every position, group after group (the order of the last mark's marks).
        held = list(chain.from_iterable(group.positions for group in groups))
        read = self.portal.current_array
        prices = [
            read(group.column_index(), "price", row, data_frequency, perspective).tolist()
            for group in groups
        ]
        last = self._last
        if (
            last is not None
            and last[0] == prices
            and all(map(is_, map(_LAST_SALE_PRICE, held), last[1]))
        ):
            # Every mark stands (a mark with a NaN price is not kept as a last one).
            for position in held:
                position.last_sale_date = dt
            return False
        complete = True
        for group, group_prices in zip(groups, prices, strict=True):
            complete &= _mark(group.positions, group_prices, group.rules, dt)
        # A position without a price keeps its mark and its date, which a
        # repeated mark would move: only a mark of every position is kept.
        self._last = (prices, tuple(map(_LAST_SALE_PRICE, held))) if complete else None
        return True
