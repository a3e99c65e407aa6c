"""One held position, in Decimal: amount, cost basis and last sale price.

Cost basis follows zipline: the volume-weighted price of the shares held,
reset to the fill price when a trade flips the position through zero, left
alone by partial closes, and nudged by every commission charged while the
position is open (spread over all units held, as zipline's
``adjust_commission_cost_basis`` does).

Examples
--------
>>> from decimal import Decimal
>>> from rustybt.assets import Equity
>>> from rustybt.assets.asset_types import exchange_info_for
>>> from rustybt.finance.orders.transaction import Transaction
>>> aaa = Equity(1, exchange_info_for("NYSE"), symbol="AAA")
>>> pos = Position(aaa)
>>> pos.update(Transaction(aaa, Decimal(100), None, Decimal("10"), "o1"))
>>> pos.update(Transaction(aaa, Decimal(50), None, Decimal("13"), "o2"))
>>> pos.amount, pos.cost_basis
(Decimal('150'), Decimal('11'))
>>> pos.adjust_commission_cost_basis(aaa, Decimal("1.50"))
>>> pos.cost_basis
Decimal('11.01')
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from rustybt.finance.precision import (
    DEFAULT_PRECISION,
    ZERO,
    AssetClassPrecision,
    PrecisionConfig,
    plain_number,
    to_decimal,
)

__all__ = ["Position", "is_future", "price_multiplier", "split_quantity"]

# A float split ratio such as 1/3 is stored inexactly; a quotient within this
# relative distance of a whole quantity step is that step, not a hair below it.
_SNAP_TOLERANCE = Decimal("1e-12")


def is_future(asset: Any) -> bool:
    """Whether ``asset`` settles price changes in cash (zipline's Future accounting)."""
    return getattr(asset, "asset_type", None) == "future"


def price_multiplier(asset: Any) -> Decimal:
    """The asset's contract multiplier as Decimal (1 for anything without one)."""
    raw = getattr(asset, "price_multiplier", None)
    if raw is None:
        raw = getattr(asset, "multiplier", 1)
    return to_decimal(raw)


def split_quantity(
    amount: Decimal, divisor: Decimal, rules: AssetClassPrecision
) -> tuple[Decimal, Decimal]:
    """``amount / divisor`` as a quantity of ``rules`` (cut toward zero), and the remainder.

    A quotient a hair off a whole number of quantity steps (a float ratio's
    noise) is taken as that number first.

    Returns
    -------
    whole, fraction
        ``whole`` is a multiple of the quantity step; ``fraction`` has the
        sign of ``amount`` (zero when the quotient is a whole number of steps).

    Examples
    --------
    >>> shares = AssetClassPrecision(cash_places=2, quantity_places=0)
    >>> split_quantity(Decimal(101), Decimal(2), shares)
    (Decimal('50'), Decimal('0.5'))
    >>> split_quantity(Decimal(100), Decimal(repr(1 / 3)), shares)
    (Decimal('300'), Decimal('0'))
    """
    raw = amount / divisor
    nearest = raw.quantize(rules.quantity_quantum, rounding=ROUND_HALF_EVEN)
    if abs(raw - nearest) <= abs(raw) * _SNAP_TOLERANCE:
        raw = nearest
    whole = rules.quantity(raw)
    return whole, raw - whole + 0


class Position:
    """A position in one asset: signed Decimal ``amount`` and its prices.

    Parameters
    ----------
    asset
        The held asset.
    amount
        Units held; negative for a short.
    cost_basis
        Break-even price per unit, commissions included.
    last_sale_price
        The latest mark (a fill or a bar's price).
    last_sale_date
        When ``last_sale_price`` was set.

    Examples
    --------
    >>> from decimal import Decimal
    >>> p = Position(None, Decimal(10), Decimal("5"), Decimal("6"))
    >>> p.market_value, p.unrealized_pnl
    (Decimal('60'), Decimal('10'))
    >>> p.to_dict()["amount"], p.to_dict()["last_sale_price"]
    (10, 6.0)
    """

    __slots__ = (
        "amount",
        "asset",
        "cost_basis",
        "last_sale_date",
        "last_sale_price",
        "multiplier",
    )

    def __init__(
        self,
        asset: Any,
        amount: Decimal = ZERO,
        cost_basis: Decimal = ZERO,
        last_sale_price: Decimal = ZERO,
        last_sale_date: Any = None,
    ) -> None:
        self.asset = asset
        self.amount = amount
        self.cost_basis = cost_basis
        self.last_sale_price = last_sale_price
        self.last_sale_date = last_sale_date
        #: The contract multiplier of a future (whose price changes settle in
        #: cash), None for any other asset: asked at every mark, and an asset's
        #: type and multiplier never change.
        self.multiplier: Decimal | None = price_multiplier(asset) if is_future(asset) else None

    # --- values ---------------------------------------------------------------

    @property
    def market_value(self) -> Decimal:
        """``amount * last_sale_price`` (the multiplier is not applied)."""
        return self.amount * self.last_sale_price

    @property
    def exposure(self) -> Decimal:
        """``amount * last_sale_price``, at the contract multiplier for a future."""
        exposure = self.amount * self.last_sale_price
        if self.multiplier is not None:
            exposure *= self.multiplier
        return exposure

    @property
    def unrealized_pnl(self) -> Decimal:
        """Gain against the cost basis at the last sale price, multiplier included."""
        pnl = self.amount * (self.last_sale_price - self.cost_basis)
        if self.multiplier is not None:
            pnl *= self.multiplier
        return pnl

    # --- events -----------------------------------------------------------------

    def update(self, txn: Any) -> None:
        """Apply a fill: amount, cost basis and (if newer) the last sale price."""
        if txn.asset is not self.asset and txn.asset != self.asset:
            raise ValueError(
                f"transaction for {txn.asset!r} applied to a position in {self.asset!r}"
            )
        total = self.amount + txn.amount
        if not total:
            self.cost_basis = ZERO
        else:
            # A flat position counts as long, so a first sell opens a short at its price.
            # (Against the Decimal ZERO: comparing a Decimal to an int converts the int.)
            if (self.amount >= ZERO) != (txn.amount >= ZERO):
                if abs(txn.amount) > abs(self.amount):
                    # Through zero: the remainder was opened at this fill's price.
                    self.cost_basis = txn.price
                # A partial close keeps the basis of what is left.
            else:
                held = self.cost_basis * self.amount
                self.cost_basis = (held + txn.amount * txn.price) / total
            if self.last_sale_date is None or (txn.dt is not None and txn.dt > self.last_sale_date):
                self.last_sale_price = txn.price
                self.last_sale_date = txn.dt
        # + 0 for a zero only: a flat position holds 0, not -0, at its own exponent.
        self.amount = total if total else total + 0

    def adjust_commission_cost_basis(self, asset: Any, cost: Decimal) -> None:
        """Fold a commission into the cost basis of every unit held.

        A long's break-even price rises by ``cost / amount``; a short's falls
        (``amount`` is negative), which is the same formula.
        """
        if asset != self.asset:
            raise ValueError(f"commission for {asset!r} applied to a position in {self.asset!r}")
        if cost == 0 or self.amount == 0:
            return
        if self.multiplier is not None:
            cost = cost / self.multiplier
        self.cost_basis = (self.cost_basis * self.amount + cost) / self.amount

    def handle_split(
        self, asset: Any, ratio: Any, precision: PrecisionConfig = DEFAULT_PRECISION
    ) -> Decimal:
        """Apply a split of ``ratio`` (new units = old units / ratio).

        The amount is cut toward zero to the asset's quantity step, the cost
        basis and last sale price multiply by ``ratio`` (the cost basis rounded
        to the asset's cash places, as zipline rounds it to cents), and the
        cut-off fraction is returned as cash at the adjusted last sale price
        -- negative for a short, which pays to settle its fraction.

        Returns
        -------
        Decimal
            Cash in lieu of the fractional unit, rounded to cash places.
        """
        if asset != self.asset:
            raise ValueError(f"split for {asset!r} applied to a position in {self.asset!r}")
        r = to_decimal(ratio)
        rules = precision.for_asset(asset)
        whole, fraction = split_quantity(self.amount, r, rules)
        self.amount = whole
        self.cost_basis = precision.cash(asset, self.cost_basis * r)
        self.last_sale_price = self.last_sale_price * r
        if fraction == 0:
            return ZERO
        return precision.cash(asset, fraction * self.last_sale_price)

    def earn_dividend(
        self, amount_per_unit: Any, precision: PrecisionConfig = DEFAULT_PRECISION
    ) -> Decimal:
        """Cash owed for a dividend of ``amount_per_unit`` on the units held now."""
        return precision.cash(self.asset, self.amount * to_decimal(amount_per_unit))

    def earn_stock_dividend(
        self, ratio: Any, payment_asset: Any, precision: PrecisionConfig = DEFAULT_PRECISION
    ) -> Decimal:
        """Units of ``payment_asset`` owed for a stock dividend of ``ratio``, cut toward zero."""
        rules = precision.for_asset(payment_asset)
        whole, _ = split_quantity(self.amount * to_decimal(ratio), Decimal(1), rules)
        return whole

    # --- export ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """zipline's position dict: ``sid`` the asset, numbers as int/float."""
        return {
            "sid": self.asset,
            "amount": plain_number(self.amount),
            "cost_basis": float(self.cost_basis),
            "last_sale_price": float(self.last_sale_price),
        }

    def __repr__(self) -> str:
        return (
            f"Position(asset={self.asset!r}, amount={self.amount}, cost_basis={self.cost_basis}, "
            f"last_sale_price={self.last_sale_price}, last_sale_date={self.last_sale_date})"
        )
