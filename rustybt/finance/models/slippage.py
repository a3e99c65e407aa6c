"""Slippage models: at what price and in what size open orders fill on a bar.

:meth:`SlippageModel.fill_bar` walks a bar's open orders, asset by asset:
no fill for an asset at all when the bar has no volume or no close; otherwise each
order's triggers are checked against the close and triggered orders go to
:meth:`SlippageModel.process_order`, which returns a float price and a signed
size. ``volume_for_bar`` counts what earlier orders on the same asset already
took from this bar, so volume caps bind across orders, and whatever is left of
an order rolls over to the next bar. The float price becomes a Decimal once,
here, through the precision config.

Examples
--------
>>> FixedBasisPointsSlippage().basis_points, VolumeShareSlippage().volume_limit
(5.0, 0.025)
"""

from __future__ import annotations

import abc
import math
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from rustybt.exceptions import ParameterValidationError
from rustybt.finance.orders.order import Order
from rustybt.finance.orders.transaction import Transaction
from rustybt.finance.precision import (
    DEFAULT_PRECISION,
    AssetClassPrecision,
    PrecisionConfig,
    to_decimal,
)

__all__ = [
    "DEFAULT_EQUITY_VOLUME_SLIPPAGE_BAR_LIMIT",
    "FixedBasisPointsSlippage",
    "FixedSlippage",
    "LiquidityExceeded",
    "NoSlippage",
    "SlippageModel",
    "VolumeShareSlippage",
    "fill_price_worse_than_limit_price",
]

DEFAULT_EQUITY_VOLUME_SLIPPAGE_BAR_LIMIT = 0.025
_ZERO = Decimal(0)


class LiquidityExceeded(Exception):
    """Raised by ``process_order`` when the bar has no volume left for this asset."""


def fill_price_worse_than_limit_price(fill_price: float, order: Any) -> bool:
    """Whether ``fill_price`` is above a buy's limit or below a sell's."""
    if order.limit:
        return (order.direction > 0 and fill_price > order.limit) or (
            order.direction < 0 and fill_price < order.limit
        )
    return False


def _positive(name: str, value: Any, allow_zero: bool = False) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError) as exc:
        raise ParameterValidationError(
            f"{name} must be a number, got {value!r}", context={name: value}
        ) from exc
    if not math.isfinite(f) or f < 0 or (f == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ParameterValidationError(
            f"{name} must be a finite number {bound}, got {value!r}", context={name: value}
        )
    return f


def _decimal_price(close: float, factor: Decimal) -> float:
    """``close * factor`` computed in Decimal, as the float whose repr is that decimal.

    Avoids binary noise such as 101.42068500000001 in what becomes a Decimal price.
    """
    return float(Decimal(repr(float(close))) * factor)


class SlippageModel(abc.ABC):
    """Base class of slippage models.

    Subclasses implement :meth:`process_order`; ``fill_bar`` does the bar-level
    bookkeeping. Subclasses with their own ``__init__`` must call
    ``super().__init__()``.

    Attributes
    ----------
    volume_for_bar
        Units already filled for the asset being simulated on this bar.
    """

    def __init__(self) -> None:
        self._volume_for_bar: Decimal = _ZERO
        # The asset being simulated and its bar's close and volume, read once
        # per asset and bar by fill_bar (the built-in models reuse them).
        self._bar_asset: Any = None
        self._bar_close = math.nan
        self._bar_volume = 0.0

    def _close(self, data: Any, asset: Any) -> float:
        """The bar's close of ``asset`` (read once per bar by :meth:`fill_bar`)."""
        if asset is self._bar_asset:
            return self._bar_close
        return float(data.current(asset, "close"))

    def _volume(self, data: Any, asset: Any) -> float:
        """The bar's volume of ``asset`` (read once per bar by :meth:`fill_bar`)."""
        if asset is self._bar_asset:
            return self._bar_volume
        return float(data.current(asset, "volume"))

    @property
    def volume_for_bar(self) -> Decimal:
        """Units already filled for the current asset on the current bar."""
        return self._volume_for_bar

    @abc.abstractmethod
    def process_order(self, data: Any, order: Order) -> tuple[float | None, Any]:
        """``(price, signed amount)`` to fill for ``order`` now, or ``(None, None)``.

        May raise :class:`LiquidityExceeded` to stop filling this asset on this bar.
        """

    def fill_bar(
        self,
        data: Any,
        orders_by_asset: Iterable[tuple[Any, Sequence[Order]]],
        precision: PrecisionConfig | None = None,
    ) -> Iterator[tuple[Order, Transaction]]:
        """Yield ``(order, transaction)`` for each fill of the bar, asset by asset.

        The bar's closes and volumes are read as two rows (``data.spot_row``)
        for all the assets at once. An asset fills nothing when the bar has no
        volume or no close; otherwise each of its orders still open when
        reached (a caller may cancel, say, an OCO sibling between yields) has
        its triggers checked against the close, and triggered ones go to
        :meth:`process_order`.
        """
        precision = DEFAULT_PRECISION if precision is None else precision
        dt = data.current_dt
        closes = data.spot_row("close")
        volumes = data.spot_row("volume")
        column = data.data_portal.column
        rules_of: dict[type, AssetClassPrecision] = {}  # looked up once per asset class
        for asset, orders in orders_by_asset:
            col = column(asset)
            close, volume = closes[col], volumes[col]
            self._volume_for_bar = _ZERO
            if not volume or math.isnan(volume) or math.isnan(close):
                continue  # no bar, no fill
            self._bar_asset, self._bar_close, self._bar_volume = asset, close, volume
            rules = rules_of.get(type(asset))
            if rules is None:
                rules = rules_of[type(asset)] = precision.for_asset(asset)
            for order in orders:
                if not order.open:
                    continue
                if order.stop is not None or order.limit is not None or order.is_trailing:
                    # A market order has no trigger to check: it is always triggered.
                    order.check_triggers(close, dt)
                    if not order.triggered:
                        continue
                try:
                    fill_price, fill_amount = self.process_order(data, order)
                except LiquidityExceeded:
                    break
                if fill_price is None or fill_amount is None or not math.isfinite(fill_price):
                    continue
                amount = rules.quantity(fill_amount)
                if not amount:
                    continue
                if not order.filled and amount == order.amount:
                    # A whole fill shares the order's Decimal (both live all run).
                    amount = order.amount
                self._volume_for_bar += abs(amount)
                yield order, Transaction(asset, amount, dt, rules.price(fill_price), order.id)

    def simulate(
        self,
        data: Any,
        asset: Any,
        orders_for_asset: Sequence[Order],
        precision: PrecisionConfig | None = None,
    ) -> Iterator[tuple[Order, Transaction]]:
        """:meth:`fill_bar` for one asset's orders (zipline's signature)."""
        return self.fill_bar(data, ((asset, orders_for_asset),), precision)

    def asdict(self) -> dict[str, Any]:
        """The model's parameters."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.asdict().items())
        return f"{type(self).__name__}({fields})"


class NoSlippage(SlippageModel):
    """Fill everything at the bar's close, whatever the volume (for tests).

    Examples
    --------
    >>> NoSlippage()
    NoSlippage()
    """

    def process_order(self, data: Any, order: Order) -> tuple[float | None, Any]:
        return self._close(data, order.asset), order.open_amount


class FixedSlippage(SlippageModel):
    """A fixed spread: buys fill at ``close + spread / 2``, sells at ``close - spread / 2``.

    No volume cap: an order fills completely on the first bar with volume.

    Parameters
    ----------
    spread
        The assumed bid-ask spread (>= 0).

    Examples
    --------
    >>> FixedSlippage(spread=0.02).spread
    0.02
    """

    def __init__(self, spread: float = 0.0) -> None:
        super().__init__()
        self.spread = _positive("spread", spread, allow_zero=True)

    def process_order(self, data: Any, order: Order) -> tuple[float | None, Any]:
        close = self._close(data, order.asset)
        half = to_decimal(self.spread) / 2 * order.direction
        price = float(Decimal(repr(close)) + half)
        return price, order.open_amount


class FixedBasisPointsSlippage(SlippageModel):
    """A fixed fraction off the close, with fills capped at a share of bar volume.

    Buys fill at ``close * (1 + basis_points / 10000)``, sells at
    ``close * (1 - basis_points / 10000)``; each bar fills at most
    ``int(volume_limit * volume)`` units of an asset across its orders (zipline's
    default equity model). As in zipline, the slipped price is not checked
    against a limit price.

    Parameters
    ----------
    basis_points
        Slippage in basis points (>= 0).
    volume_limit
        Fraction of the bar's volume that may fill (> 0).

    Examples
    --------
    >>> m = FixedBasisPointsSlippage(basis_points=5, volume_limit=0.1)
    >>> m.percentage
    0.0005
    """

    def __init__(self, basis_points: float = 5.0, volume_limit: float = 0.1) -> None:
        super().__init__()
        self.basis_points = _positive("basis_points", basis_points, allow_zero=True)
        self.volume_limit = _positive("volume_limit", volume_limit)
        self.percentage = self.basis_points / 10000.0
        self._factor = {
            1: 1 + to_decimal(self.basis_points) / 10000,
            -1: 1 - to_decimal(self.basis_points) / 10000,
        }

    def process_order(self, data: Any, order: Order) -> tuple[float | None, Any]:
        volume = self._volume(data, order.asset)
        max_volume = int(self.volume_limit * volume)
        shares = min(abs(order.open_amount), max_volume - self.volume_for_bar)
        if shares <= 0:
            raise LiquidityExceeded()
        close = self._close(data, order.asset)
        return _decimal_price(close, self._factor[order.direction]), shares * order.direction


class VolumeShareSlippage(SlippageModel):
    """Price impact growing with the square of the share of bar volume taken.

    With ``share = min(filled_this_bar / volume, volume_limit)`` (including the
    fill being made), buys fill at ``close * (1 + price_impact * share**2)``
    and sells at ``close * (1 - price_impact * share**2)``. At most
    ``volume_limit * volume`` units fill per bar; a fill whose price would be
    worse than the order's limit does not happen.

    Parameters
    ----------
    volume_limit
        Fraction of the bar's volume that may fill (> 0).
    price_impact
        Scale of the impact (>= 0).

    Examples
    --------
    >>> VolumeShareSlippage(volume_limit=0.05, price_impact=0.2).price_impact
    0.2
    """

    def __init__(
        self,
        volume_limit: float = DEFAULT_EQUITY_VOLUME_SLIPPAGE_BAR_LIMIT,
        price_impact: float = 0.1,
    ) -> None:
        super().__init__()
        self.volume_limit = _positive("volume_limit", volume_limit)
        self.price_impact = _positive("price_impact", price_impact, allow_zero=True)

    def process_order(self, data: Any, order: Order) -> tuple[float | None, Any]:
        volume = self._volume(data, order.asset)
        max_volume = self.volume_limit * volume
        taken = float(self.volume_for_bar)
        remaining = max_volume - taken
        if remaining < 1:
            raise LiquidityExceeded()
        units = int(min(remaining, float(abs(order.open_amount))))
        if units < 1:
            return None, None
        share = min((taken + units) / volume, self.volume_limit)
        close = self._close(data, order.asset)
        if math.isnan(close):
            return None, None
        price = close + share**2 * math.copysign(self.price_impact, order.direction) * close
        if fill_price_worse_than_limit_price(price, order):
            return None, None
        return price, units * order.direction
