"""Decimal precision per asset class: where float market data becomes money.

Market data stays float64; it turns into :class:`~decimal.Decimal` once, at a
fill or a mark, through the helpers here. Every place that needs a price,
a quantity or a cash amount as Decimal goes through one
:class:`PrecisionConfig`, so equities round cash to cents, crypto keeps eight
places of quantity, and nobody rounds twice.

Examples
--------
>>> from decimal import Decimal
>>> from rustybt.finance.precision import DEFAULT_PRECISION as P
>>> P.price(None, 0.1 + 0.2)
Decimal('0.30000000000000004')
>>> P.quantity(None, -10.7)
Decimal('-10')
>>> P.cash(None, Decimal("1.005"))
Decimal('1.00')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation, getcontext
from operator import methodcaller
from typing import Any

from rustybt.exceptions import ValidationError

__all__ = [
    "DEFAULT_PRECISION",
    "LARGEST_CASH",
    "MAX_CASH_PLACES",
    "ZERO",
    "AssetClassPrecision",
    "PrecisionConfig",
    "float_decimals",
    "plain_number",
    "to_decimal",
]

ZERO = Decimal(0)


_QUANTA: dict[int, Decimal] = {}


def _quantum(places: int) -> Decimal:
    """``10 ** -places`` as a Decimal (cached: asked for at every fill)."""
    quantum = _QUANTA.get(places)
    if quantum is None:
        quantum = _QUANTA[places] = Decimal(1).scaleb(-places)
    return quantum


# A cache of to_decimal for floats: a simulation converts the same prices and
# weights again and again (a bar's close is a sizing price, a fill price and a
# mark). Decimals are immutable, so sharing one is safe. Cleared when full.
_FLOAT_DECIMALS: dict[float, Decimal] = {}
_FLOAT_CACHE_SIZE = 1 << 14
# Decimal(repr(0.0)) and Decimal(repr(-0.0)).
_FLOAT_ZERO = Decimal("0.0")
_NEGATIVE_ZERO = Decimal("-0.0")


def float_decimals(values: Sequence[float]) -> list[Decimal]:
    """:func:`to_decimal` of each of ``values`` (Python floats), in one C-level pass.

    The float rule, ``Decimal(repr(x))`` (``repr`` gives the shortest string
    that round-trips, so ``0.1`` becomes ``Decimal('0.1')`` rather than its
    55-digit binary expansion), mapped over a list: a mark converts every
    held price at once. :func:`to_decimal` writes the same expression for one
    float, where this list form would add ~0.4 us to every fill price.

    Parameters
    ----------
    values
        Python ``float`` objects (``ndarray.tolist()`` gives them; the repr
        of a NumPy float is not a number).

    Returns
    -------
    list of Decimal

    Raises
    ------
    ValidationError
        If a value is NaN or infinite.

    Examples
    --------
    >>> float_decimals([0.1, 2.5, -0.0])
    [Decimal('0.1'), Decimal('2.5'), Decimal('-0.0')]
    """
    # A NaN or an infinity makes the sum non-finite (so may a sum past the
    # float range: then no value is at fault).
    if not math.isfinite(sum(values)):
        for bad in values:
            if not math.isfinite(bad):
                raise ValidationError(
                    f"cannot convert non-finite value {bad!r} to Decimal", context={"value": bad}
                )
    return list(map(Decimal, map(repr, values)))


def to_decimal(x: Any) -> Decimal:
    """Convert a number to Decimal without float noise.

    Floats (including NumPy floats) go through ``repr`` -- the shortest
    string that round-trips -- so ``0.1`` becomes ``Decimal('0.1')`` rather
    than its 55-digit binary expansion (:func:`float_decimals` is this rule
    over a list).

    Parameters
    ----------
    x
        A Decimal, int, float, NumPy scalar or numeric string.

    Returns
    -------
    Decimal

    Raises
    ------
    ValidationError
        If ``x`` is NaN, infinite or not a number.

    Examples
    --------
    >>> to_decimal(0.1), to_decimal(3), to_decimal("2.50")
    (Decimal('0.1'), Decimal('3'), Decimal('2.50'))
    """
    kind = type(x)
    # The exact types the engine passes come first (the general branches below
    # give the same answers for them, more slowly).
    if kind is float:
        cached = _FLOAT_DECIMALS.get(x)
        if cached is not None:
            return cached
        if not x:
            # 0.0 and -0.0 are one key but two Decimals (a zero weight is
            # the most common number a rebalancing strategy passes).
            return _NEGATIVE_ZERO if math.copysign(1.0, x) < 0.0 else _FLOAT_ZERO
        value = float_decimals((x,))[0]  # refuses NaN and infinities
        if len(_FLOAT_DECIMALS) >= _FLOAT_CACHE_SIZE:
            _FLOAT_DECIMALS.clear()
        _FLOAT_DECIMALS[x] = value
        return value
    elif kind is Decimal:
        if x.is_finite():
            return x
    elif kind is int:
        return Decimal(x)
    if isinstance(x, Decimal):
        value = x
    elif isinstance(x, bool):
        value = Decimal(int(x))
    elif isinstance(x, int):
        value = Decimal(x)
    else:
        try:
            # Other numbers as a plain float first: repr(np.float64) is
            # "np.float64(...)" under NumPy 2.
            value = Decimal(x) if isinstance(x, str) else float_decimals((float(x),))[0]
        except (TypeError, ValueError, InvalidOperation) as exc:
            raise ValidationError(f"cannot convert {x!r} to Decimal", context={"value": x}) from exc
    if not value.is_finite():
        raise ValidationError(
            f"cannot convert non-finite value {x!r} to Decimal", context={"value": x}
        )
    return value


@dataclass(frozen=True, slots=True)
class AssetClassPrecision:
    """How one asset class rounds cash, quantities and prices.

    Parameters
    ----------
    cash_places
        Decimal places of cash amounts (trade values, commissions, dividends).
    quantity_places
        Decimal places of position and order quantities (0: whole units).
    price_places
        Decimal places prices are quantized to, or None to keep the price
        exactly as the float's shortest representation gives it.
    rounding
        The :mod:`decimal` rounding mode for cash and prices. Quantities always
        round toward zero, like zipline's order amounts.

    Examples
    --------
    >>> AssetClassPrecision(2, 0, None).cash_quantum
    Decimal('0.01')
    """

    cash_places: int
    quantity_places: int
    price_places: int | None = None
    rounding: str = ROUND_HALF_EVEN
    #: The smallest cash step, e.g. ``Decimal('0.01')`` (derived from ``cash_places``).
    cash_quantum: Decimal = field(init=False, repr=False, compare=False)
    #: The smallest quantity step, e.g. ``Decimal('1')`` (derived from ``quantity_places``).
    quantity_quantum: Decimal = field(init=False, repr=False, compare=False)
    #: What a converted price goes through: quantizing to ``price_places`` with
    #: ``rounding``, or nothing (None) when prices are kept exact.
    _price_rule: Callable[[Decimal], Decimal] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Kept as fields: every order, fill and commission rounds with them.
        object.__setattr__(self, "cash_quantum", _quantum(self.cash_places))
        object.__setattr__(self, "quantity_quantum", _quantum(self.quantity_places))
        places = self.price_places
        rule = None if places is None else methodcaller("quantize", _quantum(places), self.rounding)
        object.__setattr__(self, "_price_rule", rule)

    def prices(self, values: Sequence[float]) -> list[Decimal]:
        """Market prices (Python floats) as Decimal: :meth:`price` of each, in one pass.

        A mark converts every held price of a bar at once, through the C-level
        :func:`float_decimals` instead of a Python call chain per price.

        Raises
        ------
        ValidationError
            If a value is NaN or infinite: a missing price is the caller's case
            to handle, never a Decimal NaN in the ledger.
        """
        decimals = float_decimals(values)
        rule = self._price_rule
        return decimals if rule is None else list(map(rule, decimals))

    def price(self, x: Any) -> Decimal:
        """A market price as Decimal (shortest float repr, then quantized if configured).

        Raises
        ------
        ValidationError
            If ``x`` is NaN or infinite: a missing price is the caller's case
            to handle, never a Decimal NaN in the ledger.
        """
        value = to_decimal(x)
        rule = self._price_rule
        return value if rule is None else rule(value)

    def quantity(self, x: Any) -> Decimal:
        """A quantity as Decimal, rounded toward zero to the quantity places."""
        # A finite Decimal (what sizing and the slippage models give) needs no
        # conversion; the rounding passes by position: a keyword argument to a C
        # method costs as much again as the quantize (a quantity per order and fill).
        if type(x) is not Decimal or not x.is_finite():
            x = to_decimal(x)
        value = x.quantize(self.quantity_quantum, ROUND_DOWN)
        # + 0 turns -0 into 0, so that a flat position prints and compares as plain 0.
        return value if value else value + 0

    def cash(self, x: Any) -> Decimal:
        """A cash amount quantized to the cash places with the class's rounding."""
        # A finite Decimal (a fill's value, a commission) needs no conversion.
        if type(x) is not Decimal or not x.is_finite():
            x = to_decimal(x)
        value = x.quantize(self.cash_quantum, self.rounding)
        # + 0 turns -0.00 into 0.00 (a zero trade value or commission).
        return value if value else value + 0


def plain_number(x: Decimal) -> int | float:
    """A Decimal quantity as zipline's dicts and views hold it: int when whole, else float.

    Examples
    --------
    >>> plain_number(Decimal("10")), plain_number(Decimal("-2.50")), plain_number(Decimal("0.5"))
    (10, -2.5, 0.5)
    """
    whole = int(x)
    return whole if whole == x else float(x)


_EQUITY = AssetClassPrecision(cash_places=2, quantity_places=0, price_places=None)
_CRYPTO = AssetClassPrecision(cash_places=8, quantity_places=8, price_places=None)
_FUTURE = AssetClassPrecision(cash_places=2, quantity_places=0, price_places=None)


@dataclass(frozen=True, slots=True)
class PrecisionConfig:
    """Precision and rounding for every asset class.

    Parameters
    ----------
    equity, crypto, future
        The rules for assets whose ``asset_type`` is ``"equity"``,
        ``"crypto"`` or ``"future"``.
    default
        The rules for any other asset type, and for cash not tied to an asset
        (``asset=None``).

    Examples
    --------
    >>> from decimal import Decimal
    >>> from rustybt.assets import Equity
    >>> from rustybt.assets.asset_types import exchange_info_for
    >>> aapl = Equity(1, exchange_info_for("NYSE"), symbol="AAPL")
    >>> cfg = PrecisionConfig()
    >>> cfg.for_asset(aapl).cash_places
    2
    >>> cfg.quantity(aapl, 10.9), cfg.price(aapl, 101.25), cfg.cash(aapl, Decimal("3.14159"))
    (Decimal('10'), Decimal('101.25'), Decimal('3.14'))
    """

    equity: AssetClassPrecision = field(default=_EQUITY)
    crypto: AssetClassPrecision = field(default=_CRYPTO)
    future: AssetClassPrecision = field(default=_FUTURE)
    default: AssetClassPrecision = field(default=_EQUITY)

    def for_asset(self, asset: Any) -> AssetClassPrecision:
        """The rules for ``asset`` (by its ``asset_type``); ``None`` -> default."""
        kind = getattr(asset, "asset_type", None)
        if kind == "equity":
            return self.equity
        if kind == "crypto":
            return self.crypto
        if kind == "future":
            return self.future
        return self.default

    def price(self, asset: Any, x: Any) -> Decimal:
        """``asset``'s class's :meth:`AssetClassPrecision.price` of ``x``."""
        return self.for_asset(asset).price(x)

    def quantity(self, asset: Any, x: Any) -> Decimal:
        """``asset``'s class's :meth:`AssetClassPrecision.quantity` of ``x``."""
        return self.for_asset(asset).quantity(x)

    def cash(self, asset: Any, x: Any) -> Decimal:
        """``asset``'s class's :meth:`AssetClassPrecision.cash` of ``x``."""
        return self.for_asset(asset).cash(x)


#: The precision every component uses unless configured otherwise.
DEFAULT_PRECISION = PrecisionConfig()

#: The most decimal places any default asset class keeps for cash (crypto's 8).
MAX_CASH_PLACES = max(
    rules.cash_places
    for rules in (DEFAULT_PRECISION.equity, DEFAULT_PRECISION.crypto, DEFAULT_PRECISION.future)
)

#: Cash amounts (the capital base) must stay below this: quantized to
#: :data:`MAX_CASH_PLACES` places they still fit the Decimal context's digits
#: (28 by default), with one digit to spare for sums.
LARGEST_CASH = Decimal(10) ** (getcontext().prec - MAX_CASH_PLACES - 1)
