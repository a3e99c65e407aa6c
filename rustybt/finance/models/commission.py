"""Commission models: what a fill costs, in Decimal.

``calculate(order, transaction)`` returns the *additional* commission the
fill adds to the order (the blotter then adds it to ``order.commission`` and
updates ``order.filled``, in that order). Amounts are exact Decimals; the
ledger rounds cash to the asset class's places when it books them.

zipline's models keep its rules: :class:`PerShare` charges at least
``min_trade_cost`` on an order's first fill and nothing more until the
per-share total passes that minimum; :class:`PerTrade` charges its cost once,
on the first fill; :class:`PerDollar` charges a fraction of each fill's value.

Examples
--------
>>> from decimal import Decimal
>>> from types import SimpleNamespace as NS
>>> order = NS(commission=Decimal(0), filled=Decimal(0), id="o1")
>>> txn = NS(amount=Decimal(100), price=Decimal("10.00"), dt=None)
>>> PerShare(cost=0.001, min_trade_cost=1.0).calculate(order, txn)
Decimal('1.0')
>>> PerDollar(cost=0.0015).calculate(order, txn)
Decimal('1.500000')
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from rustybt.exceptions import ParameterValidationError
from rustybt.finance.precision import to_decimal

__all__ = [
    "DEFAULT_MINIMUM_COST_PER_EQUITY_TRADE",
    "DEFAULT_PER_DOLLAR_COST",
    "DEFAULT_PER_SHARE_COST",
    "CommissionModel",
    "MakerTakerCommission",
    "NoCommission",
    "PerDollar",
    "PerShare",
    "PerTrade",
    "PercentageCommission",
    "TieredCommission",
    "calculate_per_unit_commission",
]

DEFAULT_PER_SHARE_COST = 0.001
DEFAULT_PER_DOLLAR_COST = 0.0015
DEFAULT_MINIMUM_COST_PER_EQUITY_TRADE = 0.0

ZERO = Decimal(0)


def _non_negative(name: str, value: Any) -> Decimal:
    try:
        d = to_decimal(value)
    except Exception as exc:
        raise ParameterValidationError(
            f"{name} must be a finite number, got {value!r}", context={name: value}
        ) from exc
    if d < 0:
        raise ParameterValidationError(f"{name} must be >= 0, got {value!r}", context={name: value})
    return d


class CommissionModel(abc.ABC):
    """Base class of commission models.

    Subclasses implement :meth:`calculate`. ``order.commission`` is the
    commission charged on the order so far and ``order.filled`` the quantity
    filled before ``transaction``.
    """

    @abc.abstractmethod
    def calculate(self, order: Any, transaction: Any) -> Decimal:
        """The additional commission ``transaction`` adds to ``order``."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


class NoCommission(CommissionModel):
    """Trading is free (for tests and idealised runs).

    Examples
    --------
    >>> NoCommission().calculate(None, None)
    Decimal('0')
    """

    def calculate(self, order: Any, transaction: Any) -> Decimal:
        return ZERO


def calculate_per_unit_commission(
    order: Any,
    transaction: Any,
    cost_per_unit: Decimal,
    initial_commission: Decimal,
    min_trade_cost: Decimal,
) -> Decimal:
    """zipline's per-unit rule with a per-order minimum.

    The first fill pays ``max(min_trade_cost, units * cost + initial)``.
    Later fills pay nothing while the order's per-unit total stays under the
    minimum, then whatever brings the order's commission up to that total.
    """
    additional = abs(transaction.amount * cost_per_unit)
    if order.commission == 0:
        return max(min_trade_cost, additional + initial_commission)
    per_unit_total = abs(order.filled * cost_per_unit) + additional + initial_commission
    if per_unit_total < min_trade_cost:
        return ZERO
    return per_unit_total - order.commission


class PerShare(CommissionModel):
    """A cost per share, with an optional minimum per order.

    zipline's default equity model (``cost=0.001``, no minimum).

    Parameters
    ----------
    cost
        Commission per share.
    min_trade_cost
        Minimum commission of an order, charged on its first fill.

    Examples
    --------
    >>> from decimal import Decimal
    >>> from types import SimpleNamespace as NS
    >>> model = PerShare(cost=0.001, min_trade_cost=1.0)
    >>> first = model.calculate(NS(commission=Decimal(0), filled=Decimal(0)),
    ...                         NS(amount=Decimal(100)))
    >>> later = model.calculate(NS(commission=first, filled=Decimal(100)),
    ...                         NS(amount=Decimal(100)))
    >>> first, later
    (Decimal('1.0'), Decimal('0'))
    """

    def __init__(
        self,
        cost: float = DEFAULT_PER_SHARE_COST,
        min_trade_cost: float | None = DEFAULT_MINIMUM_COST_PER_EQUITY_TRADE,
    ) -> None:
        self.cost_per_share = _non_negative("cost", cost)
        self.min_trade_cost = _non_negative("min_trade_cost", min_trade_cost or 0)

    def calculate(self, order: Any, transaction: Any) -> Decimal:
        return calculate_per_unit_commission(
            order, transaction, self.cost_per_share, ZERO, self.min_trade_cost
        )


class PerTrade(CommissionModel):
    """A flat cost per order, charged in full on its first fill.

    Parameters
    ----------
    cost
        Commission per order.

    Examples
    --------
    >>> from decimal import Decimal
    >>> from types import SimpleNamespace as NS
    >>> m = PerTrade(5.0)
    >>> m.calculate(NS(commission=Decimal(0)), None), m.calculate(NS(commission=Decimal(5)), None)
    (Decimal('5.0'), Decimal('0'))
    """

    def __init__(self, cost: float = DEFAULT_MINIMUM_COST_PER_EQUITY_TRADE) -> None:
        self.cost = _non_negative("cost", cost)

    def calculate(self, order: Any, transaction: Any) -> Decimal:
        return self.cost if order.commission == 0 else ZERO


class PerDollar(CommissionModel):
    """A fraction of each fill's value: ``|amount| * price * cost``.

    Parameters
    ----------
    cost
        Commission per dollar traded (``0.0015`` is 0.15 %).

    Examples
    --------
    >>> from decimal import Decimal
    >>> from types import SimpleNamespace as NS
    >>> PerDollar(0.0015).calculate(None, NS(amount=Decimal(-10), price=Decimal("20")))
    Decimal('0.3000')
    """

    def __init__(self, cost: float = DEFAULT_PER_DOLLAR_COST) -> None:
        self.cost_per_dollar = _non_negative("cost", cost)

    def calculate(self, order: Any, transaction: Any) -> Decimal:
        return abs(transaction.amount) * transaction.price * self.cost_per_dollar


def _fill_value(transaction: Any) -> Decimal:
    return abs(transaction.amount * transaction.price)


class _ValueBasedCommission(CommissionModel):
    """Shared bookkeeping: an order's cumulative traded value and its minimum.

    An order owes ``max(min_commission, sum over fills of rate * fill value)``;
    each fill pays the part of that total not yet charged, so the minimum is
    charged on the first fill, exactly like :class:`PerShare`.
    """

    def __init__(self, min_commission: Any) -> None:
        self.min_commission = _non_negative("min_commission", min_commission)
        # order id -> the uncapped commission accrued so far (rate * value, summed).
        self._accrued: dict[str, Decimal] = {}

    def _charge(self, order: Any, transaction: Any, rate: Decimal) -> Decimal:
        accrued = self._accrued.get(order.id, ZERO) + rate * _fill_value(transaction)
        if abs(order.filled + transaction.amount) >= abs(order.amount):
            self._accrued.pop(order.id, None)  # the order is done; forget it
        else:
            self._accrued[order.id] = accrued
        owed = max(self.min_commission, accrued)
        # Never negative: what is owed only grows with each fill.
        return max(owed - order.commission, ZERO)


class PercentageCommission(_ValueBasedCommission):
    """A fraction ``rate`` of the traded value, at least ``min_commission`` per order.

    Parameters
    ----------
    rate
        Fraction of value (``0.001`` is 10 bp).
    min_commission
        Minimum per order, charged on the first fill.

    Examples
    --------
    >>> from decimal import Decimal
    >>> from types import SimpleNamespace as NS
    >>> m = PercentageCommission(rate=0.001, min_commission=1.0)
    >>> o = NS(id="o", amount=Decimal(300), filled=Decimal(0), commission=Decimal(0))
    >>> m.calculate(o, NS(amount=Decimal(100), price=Decimal("5")))   # 0.5 -> min 1
    Decimal('1.0')
    """

    def __init__(self, rate: float, min_commission: float = 0.0) -> None:
        super().__init__(min_commission)
        self.rate = _non_negative("rate", rate)

    def calculate(self, order: Any, transaction: Any) -> Decimal:
        return self._charge(order, transaction, self.rate)


class TieredCommission(_ValueBasedCommission):
    """A rate that depends on size: per trade value, or per month's traded value.

    Parameters
    ----------
    tiers
        ``(threshold, rate)`` pairs: ``rate`` (a fraction of value) applies
        from ``threshold`` (inclusive) up to the next threshold. Sorted on
        construction; the lowest threshold must be 0.
    basis
        ``"trade_value"``: the tier is picked by the fill's own value.
        ``"monthly_volume"``: by the value traded (through this model) earlier
        in the same calendar month of the fill's ``dt``; the tally resets
        when a fill falls in a new month. A fill is charged entirely at the
        tier in force before it.
    min_commission
        Minimum per order, charged on the first fill.

    Examples
    --------
    >>> from decimal import Decimal
    >>> from types import SimpleNamespace as NS
    >>> import pandas as pd
    >>> m = TieredCommission([(0, 0.002), (10_000, 0.001)], basis="monthly_volume")
    >>> def fill(day, qty, px):
    ...     o = NS(id=day, amount=Decimal(qty), filled=Decimal(0), commission=Decimal(0))
    ...     return m.calculate(o, NS(amount=Decimal(qty), price=Decimal(px),
    ...                             dt=pd.Timestamp(day)))
    >>> fill("2024-01-02", 100, 100), fill("2024-01-03", 100, 100), fill("2024-02-01", 10, 100)
    (Decimal('20.000'), Decimal('10.000'), Decimal('2.000'))
    """

    def __init__(
        self,
        tiers: Sequence[tuple[float, float]],
        basis: Literal["trade_value", "monthly_volume"] = "trade_value",
        min_commission: float = 0.0,
    ) -> None:
        super().__init__(min_commission)
        if basis not in ("trade_value", "monthly_volume"):
            raise ParameterValidationError(
                f"basis must be 'trade_value' or 'monthly_volume', got {basis!r}",
                context={"basis": basis},
            )
        parsed = sorted(
            (_non_negative("tier threshold", t), _non_negative("tier rate", r)) for t, r in tiers
        )
        if not parsed or parsed[0][0] != 0:
            raise ParameterValidationError(
                f"tiers must be non-empty and start at threshold 0, got {list(tiers)!r}",
                context={"tiers": list(tiers)},
            )
        self.tiers: tuple[tuple[Decimal, Decimal], ...] = tuple(parsed)
        self.basis = basis
        self._month: tuple[int, int] | None = None
        self._month_volume = ZERO

    def rate_for(self, value: Decimal) -> Decimal:
        """The rate of the tier ``value`` falls in."""
        rate = self.tiers[0][1]
        for threshold, tier_rate in self.tiers:
            if value >= threshold:
                rate = tier_rate
            else:
                break
        return rate

    @property
    def month_volume(self) -> Decimal:
        """Value traded so far in the current month (``monthly_volume`` basis)."""
        return self._month_volume

    def calculate(self, order: Any, transaction: Any) -> Decimal:
        value = _fill_value(transaction)
        if self.basis == "trade_value":
            return self._charge(order, transaction, self.rate_for(value))
        month = (transaction.dt.year, transaction.dt.month)
        if month != self._month:
            self._month, self._month_volume = month, ZERO
        rate = self.rate_for(self._month_volume)
        self._month_volume += value
        return self._charge(order, transaction, rate)


class MakerTakerCommission(_ValueBasedCommission):
    """Maker and taker rates on traded value.

    A fill is a *maker* fill when its order is a limit order that rested in
    the book for at least one bar (it was checked against a bar without being
    marketable); anything marketable on arrival (market orders, triggered
    stops, limits already through the market) pays the taker rate. A negative
    ``maker_rate`` is a rebate.

    Parameters
    ----------
    maker_rate, taker_rate
        Fractions of fill value. ``taker_rate >= 0``; ``maker_rate > -1``.
    min_commission
        Minimum per order for taker orders and non-negative maker rates.

    Examples
    --------
    >>> from decimal import Decimal
    >>> from types import SimpleNamespace as NS
    >>> m = MakerTakerCommission(maker_rate=0.0002, taker_rate=0.0007)
    >>> txn = NS(amount=Decimal(10), price=Decimal("100"))
    >>> def o(rested):
    ...     return NS(id="x", amount=Decimal(10), filled=Decimal(0),
    ...               commission=Decimal(0), rested=rested)
    >>> m.calculate(o(True), txn), m.calculate(o(False), txn)
    (Decimal('0.2000'), Decimal('0.7000'))
    """

    def __init__(self, maker_rate: float, taker_rate: float, min_commission: float = 0.0) -> None:
        super().__init__(min_commission)
        self.taker_rate = _non_negative("taker_rate", taker_rate)
        try:
            maker = to_decimal(maker_rate)
        except Exception as exc:
            raise ParameterValidationError(
                f"maker_rate must be a finite number, got {maker_rate!r}",
                context={"maker_rate": maker_rate},
            ) from exc
        if maker <= -1:
            raise ParameterValidationError(
                f"maker_rate must be > -1, got {maker_rate!r}", context={"maker_rate": maker_rate}
            )
        self.maker_rate = maker

    @staticmethod
    def is_maker(order: Any) -> bool:
        """Whether ``order``'s fills count as maker fills."""
        return bool(getattr(order, "rested", False))

    def calculate(self, order: Any, transaction: Any) -> Decimal:
        if self.is_maker(order):
            if self.maker_rate < 0:
                # Rebates get no minimum: pay back rate * value for this fill.
                return self.maker_rate * _fill_value(transaction)
            return self._charge(order, transaction, self.maker_rate)
        return self._charge(order, transaction, self.taker_rate)
