"""Restricted lists: assets the algorithm may not trade, statically or by date.

``is_restricted(asset, dt)`` answers for one asset (a bool) or for several
(a boolean ``pd.Series`` indexed by asset). Restrictions combine with ``|``.

Examples
--------
>>> import pandas as pd
>>> from rustybt.assets import Equity
>>> from rustybt.assets.asset_types import exchange_info_for
>>> a, b = (Equity(s, exchange_info_for("NYSE")) for s in (1, 2))
>>> r = StaticRestrictions([a]) | HistoricalRestrictions(
...     [Restriction(b, pd.Timestamp("2024-01-05", tz="UTC"), RESTRICTION_STATES.FROZEN)])
>>> r.is_restricted(b, pd.Timestamp("2024-01-04", tz="UTC"))
False
>>> r.is_restricted([a, b], pd.Timestamp("2024-01-05", tz="UTC")).tolist()
[True, True]
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from enum import IntEnum
from typing import Any, NamedTuple

import pandas as pd

from rustybt.assets import Asset

__all__ = [
    "RESTRICTION_STATES",
    "HistoricalRestrictions",
    "NoRestrictions",
    "Restriction",
    "RestrictionStates",
    "Restrictions",
    "StaticRestrictions",
]


class RestrictionStates(IntEnum):
    """Whether an asset may be traded from a restriction's effective date on."""

    ALLOWED = 0
    FROZEN = 1


RESTRICTION_STATES = RestrictionStates


class Restriction(NamedTuple):
    """``asset`` enters ``state`` at ``effective_date``."""

    asset: Asset
    effective_date: pd.Timestamp
    state: RestrictionStates


class Restrictions(abc.ABC):
    """A set of assets the algorithm may not trade (possibly changing over time)."""

    @abc.abstractmethod
    def is_restricted_asset(self, asset: Asset, dt: pd.Timestamp) -> bool:
        """Whether ``asset`` is restricted at ``dt``."""

    def is_restricted(self, assets: Asset | Iterable[Asset], dt: pd.Timestamp) -> Any:
        """A bool for one asset; a boolean Series indexed by asset for several."""
        if isinstance(assets, Asset):
            return self.is_restricted_asset(assets, dt)
        assets = list(assets)
        return pd.Series(
            [self.is_restricted_asset(a, dt) for a in assets],
            index=pd.Index(assets, dtype=object),
            dtype=bool,
        )

    def __or__(self, other: Restrictions) -> Restrictions:
        return _UnionRestrictions([self, other])


class _UnionRestrictions(Restrictions):
    """Restricted if any part is; built by ``|``."""

    def __init__(self, parts: Iterable[Restrictions]) -> None:
        flat: list[Restrictions] = []
        for part in parts:
            if isinstance(part, _UnionRestrictions):
                flat.extend(part.parts)
            elif not isinstance(part, NoRestrictions):
                flat.append(part)
        self.parts: list[Restrictions] = flat

    def is_restricted_asset(self, asset: Asset, dt: pd.Timestamp) -> bool:
        return any(p.is_restricted_asset(asset, dt) for p in self.parts)


class NoRestrictions(Restrictions):
    """Nothing is restricted.

    Examples
    --------
    >>> NoRestrictions().is_restricted_asset(None, None)
    False
    """

    def is_restricted_asset(self, asset: Asset, dt: pd.Timestamp) -> bool:
        return False


class StaticRestrictions(Restrictions):
    """The given assets are restricted at all times.

    Parameters
    ----------
    restricted_list
        The restricted assets.

    Examples
    --------
    >>> StaticRestrictions([]).is_restricted_asset(1, None)
    False
    """

    def __init__(self, restricted_list: Iterable[Asset]) -> None:
        self._restricted = frozenset(restricted_list)

    def is_restricted_asset(self, asset: Asset, dt: pd.Timestamp) -> bool:
        return asset in self._restricted


class HistoricalRestrictions(Restrictions):
    """Restrictions that switch on and off at effective dates.

    An asset's state at ``dt`` is that of its latest restriction with
    ``effective_date <= dt`` (ALLOWED before the first). Naive effective dates
    are read in ``dt``'s time zone.

    Parameters
    ----------
    restrictions
        :class:`Restriction` records, in any order.

    Examples
    --------
    >>> HistoricalRestrictions([]).is_restricted_asset(1, pd.Timestamp("2024-01-02"))
    False
    """

    def __init__(self, restrictions: Iterable[Restriction]) -> None:
        by_asset: dict[Asset, list[Restriction]] = {}
        for r in restrictions:
            by_asset.setdefault(r.asset, []).append(r)
        self._by_asset = {
            a: sorted(rs, key=lambda r: pd.Timestamp(r.effective_date))
            for a, rs in by_asset.items()
        }

    def is_restricted_asset(self, asset: Asset, dt: pd.Timestamp) -> bool:
        state = RestrictionStates.ALLOWED
        dt = pd.Timestamp(dt)
        for r in self._by_asset.get(asset, ()):
            effective = pd.Timestamp(r.effective_date)
            if effective.tzinfo is None and dt.tzinfo is not None:
                effective = effective.tz_localize(dt.tzinfo)
            elif effective.tzinfo is not None and dt.tzinfo is None:
                effective = effective.tz_convert(None)
            if effective > dt:
                break
            state = r.state
        return state == RestrictionStates.FROZEN
