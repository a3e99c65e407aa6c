"""Execution styles: how an order wants to be filled.

A style is a small, immutable description the user hands to ``order(...)``.
The blotter turns it into an :class:`~rustybt.finance.orders.order.Order` whose
``limit``/``stop`` come from :meth:`ExecutionStyle.get_limit_price` and
:meth:`ExecutionStyle.get_stop_price`. Prices given by the user are rounded to
the asset's tick in the direction that favours the trader (zipline's
asymmetric rounding), so a buy limit of 10.0149 becomes 10.01, not 10.02.

Beyond zipline's four styles there are :class:`TrailingStopOrder`,
:class:`OCOOrder` (one cancels the other) and :class:`BracketOrder` (entry
plus take-profit and stop-loss children).

Examples
--------
>>> LimitOrder(10.0149).get_limit_price(is_buy=True)
10.01
>>> StopOrder(10.0149).get_stop_price(is_buy=True)
10.02
"""

from __future__ import annotations

import abc
import math
import sys
from decimal import Decimal
from typing import Any, ClassVar

from rustybt.exceptions import InvalidOrderError

__all__ = [
    "BracketOrder",
    "ExecutionStyle",
    "LimitOrder",
    "MarketOrder",
    "OCOOrder",
    "StopLimitOrder",
    "StopOrder",
    "TrailingStopOrder",
    "asymmetric_round_price",
    "check_stoplimit_prices",
    "execution_style",
]

DEFAULT_TICK_SIZE = 0.01


def _round_half_up(x: float) -> int:
    """Round half away from zero for positives (zipline does not use banker's rounding)."""
    floor = math.floor(x)
    return floor + 1 if x - floor >= 0.5 else floor


def asymmetric_round_price(
    price: float, prefer_round_down: bool, tick_size: float = DEFAULT_TICK_SIZE, diff: float = 0.95
) -> float:
    """Round ``price`` to a multiple of ``tick_size``, leaning one way.

    A price is snapped to the nearest tick when it lies within ``diff - 0.5``
    ticks of it on the preferred side; otherwise it goes to the tick on the
    preferred side. With the default ``diff=0.95`` and a 0.01 tick:
    ``prefer_round_down`` maps [X.0095, X.0195) to X.01, and otherwise
    (X.0005, X.0105] maps to X.01.

    Limit prices prefer rounding down for buys (and up for sells); stop prices
    the reverse, so rounding never makes an order more aggressive than asked.

    Parameters
    ----------
    price
        The price to round.
    prefer_round_down
        Lean down (True) or up (False).
    tick_size
        The asset's minimum price increment.
    diff
        How far (in ticks, above 0.5) the lean reaches.

    Returns
    -------
    float

    Examples
    --------
    >>> asymmetric_round_price(10.0149, True), asymmetric_round_price(10.0149, False)
    (10.01, 10.02)
    >>> asymmetric_round_price(10.0196, True)
    10.02
    """
    exponent = Decimal(str(tick_size)).as_tuple().exponent
    assert isinstance(exponent, int)
    places = -exponent
    ticks_in_unit = int(tick_size * 10**places)
    # The lean, in price units: (diff - 0.5) ticks; a few ulps less so that the
    # far boundary of the interval stays open.
    lean = (diff - 0.5) * 10.0**-places * ticks_in_unit - sys.float_info.epsilon * 10
    shifted = price - lean if prefer_round_down else price + lean
    ticks = _round_half_up(shifted / tick_size)
    # ticks * tick in decimal: 104.6, where the float product gives 104.60000000000001
    # (zipline keeps that noise; the trigger outcomes are the same).
    rounded = float(Decimal(str(tick_size)) * ticks)
    if math.isclose(rounded, 0.0, rel_tol=1e-6, abs_tol=1e-6):
        return 0.0
    return rounded


def check_stoplimit_prices(price: Any, label: str) -> float:
    """Validate a limit or stop price and return it as a float.

    Raises
    ------
    InvalidOrderError
        If the price is not a number, not finite, or not strictly positive.

    Examples
    --------
    >>> check_stoplimit_prices(10, "limit")
    10.0
    """
    try:
        value = float(price)
    except (TypeError, ValueError) as exc:
        raise InvalidOrderError(
            f"invalid {label} price {price!r}: not a number",
            context={"label": label, "price": price},
        ) from exc
    if isinstance(price, bool) or not math.isfinite(value) or value <= 0:
        raise InvalidOrderError(
            f"invalid {label} price {price!r}: must be a finite number > 0",
            context={"label": label, "price": price},
        )
    return value


def _tick(asset: Any) -> float:
    return DEFAULT_TICK_SIZE if asset is None else float(asset.tick_size)


class ExecutionStyle(abc.ABC):
    """Base class of execution styles.

    Subclasses say which limit and stop prices the order carries. ``exchange``
    is kept for zipline compatibility (routing hint, unused in simulation).
    """

    _exchange: str | None = None
    #: Whether an order's stop level trails the price (:class:`TrailingStopOrder`).
    #: Class flags, read per order and fill: an ``isinstance`` against an ABC
    #: costs as much as building half an order.
    trails: ClassVar[bool] = False
    #: Whether the order's fills place exit orders (:class:`BracketOrder`).
    places_exits: ClassVar[bool] = False

    @abc.abstractmethod
    def get_limit_price(self, is_buy: bool) -> float | None:
        """The order's limit price for a buy (``is_buy``) or a sell, or None."""

    @abc.abstractmethod
    def get_stop_price(self, is_buy: bool) -> float | None:
        """The order's stop price for a buy (``is_buy``) or a sell, or None."""

    @property
    def exchange(self) -> str | None:
        """The exchange the order should be routed to, if any."""
        return self._exchange

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and k != "asset"
        )
        return f"{type(self).__name__}({fields})"


class MarketOrder(ExecutionStyle):
    """Fill at the market price of the next bar (the default style).

    Examples
    --------
    >>> MarketOrder().get_limit_price(True) is None
    True
    """

    def __init__(self, exchange: str | None = None) -> None:
        self._exchange = exchange

    def get_limit_price(self, is_buy: bool) -> float | None:
        return None

    def get_stop_price(self, is_buy: bool) -> float | None:
        return None


class LimitOrder(ExecutionStyle):
    """Fill at ``limit_price`` or better.

    Parameters
    ----------
    limit_price
        Highest price for a buy, lowest for a sell; must be > 0.
    asset
        If given, its ``tick_size`` drives rounding (else 0.01).
    exchange
        Routing hint.

    Examples
    --------
    >>> LimitOrder(10.0149).get_limit_price(is_buy=False)
    10.02
    """

    def __init__(self, limit_price: float, asset: Any = None, exchange: str | None = None) -> None:
        self.limit_price = check_stoplimit_prices(limit_price, "limit")
        self.asset = asset
        self._exchange = exchange

    def get_limit_price(self, is_buy: bool) -> float | None:
        return asymmetric_round_price(self.limit_price, is_buy, _tick(self.asset))

    def get_stop_price(self, is_buy: bool) -> float | None:
        return None


class StopOrder(ExecutionStyle):
    """Become a market order once the price reaches ``stop_price``.

    A buy stop triggers when the price rises to or above the stop; a sell stop
    when it falls to or below it.

    Parameters
    ----------
    stop_price
        The trigger level; must be > 0.
    asset, exchange
        As for :class:`LimitOrder`.

    Examples
    --------
    >>> StopOrder(9.995).get_stop_price(is_buy=False)
    9.99
    """

    def __init__(self, stop_price: float, asset: Any = None, exchange: str | None = None) -> None:
        self.stop_price = check_stoplimit_prices(stop_price, "stop")
        self.asset = asset
        self._exchange = exchange

    def get_limit_price(self, is_buy: bool) -> float | None:
        return None

    def get_stop_price(self, is_buy: bool) -> float | None:
        return asymmetric_round_price(self.stop_price, not is_buy, _tick(self.asset))


class StopLimitOrder(ExecutionStyle):
    """Become a limit order at ``limit_price`` once the price reaches ``stop_price``.

    Parameters
    ----------
    limit_price, stop_price
        Both must be > 0.
    asset, exchange
        As for :class:`LimitOrder`.

    Examples
    --------
    >>> s = StopLimitOrder(10.5, 10.0)
    >>> s.get_limit_price(True), s.get_stop_price(True)
    (10.5, 10.0)
    """

    def __init__(
        self,
        limit_price: float,
        stop_price: float,
        asset: Any = None,
        exchange: str | None = None,
    ) -> None:
        self.limit_price = check_stoplimit_prices(limit_price, "limit")
        self.stop_price = check_stoplimit_prices(stop_price, "stop")
        self.asset = asset
        self._exchange = exchange

    def get_limit_price(self, is_buy: bool) -> float | None:
        return asymmetric_round_price(self.limit_price, is_buy, _tick(self.asset))

    def get_stop_price(self, is_buy: bool) -> float | None:
        return asymmetric_round_price(self.stop_price, not is_buy, _tick(self.asset))


class TrailingStopOrder(ExecutionStyle):
    """A stop whose level follows the best price seen since the order was placed.

    For a sell the stop sits ``trail_amount`` below (or ``trail_percent``
    under) the highest price seen; for a buy, above the lowest. The level only
    ever moves in the trader's favour; once the price crosses it the order
    becomes a market order, like a :class:`StopOrder`. The prices seen are
    those triggers are checked against: each bar's close (daily or minute),
    plus the optional ``reference_price`` given when the order is placed.

    Parameters
    ----------
    trail_amount
        Distance in price units (> 0). Give exactly one of the two.
    trail_percent
        Distance as a fraction of the best price, ``0 < trail_percent < 1``
        (``0.05`` trails by 5 %).
    exchange
        Routing hint.

    Examples
    --------
    >>> style = TrailingStopOrder(trail_percent=0.05)
    >>> style.stop_level(best_price=100.0, is_buy=False)
    95.0
    >>> TrailingStopOrder(trail_amount=2.0).stop_level(50.0, is_buy=True)
    52.0
    """

    trails = True

    def __init__(
        self,
        trail_amount: float | None = None,
        trail_percent: float | None = None,
        exchange: str | None = None,
    ) -> None:
        if (trail_amount is None) == (trail_percent is None):
            raise InvalidOrderError(
                "TrailingStopOrder needs exactly one of trail_amount and trail_percent, "
                f"got trail_amount={trail_amount!r}, trail_percent={trail_percent!r}",
                context={"trail_amount": trail_amount, "trail_percent": trail_percent},
            )
        self.trail_amount = (
            None if trail_amount is None else check_stoplimit_prices(trail_amount, "trail_amount")
        )
        self.trail_percent: float | None = None
        if trail_percent is not None:
            pct = check_stoplimit_prices(trail_percent, "trail_percent")
            if pct >= 1.0:
                raise InvalidOrderError(
                    f"invalid trail_percent {trail_percent!r}: must be a fraction in (0, 1)",
                    context={"trail_percent": trail_percent},
                )
            self.trail_percent = pct
        self._exchange = exchange

    def stop_level(self, best_price: float, is_buy: bool) -> float:
        """The stop level implied by ``best_price`` (highest for sells, lowest for buys).

        Computed in decimal so that 50 * (1 + 0.1) is 55.0, not 55.00000000000001.
        """
        best = Decimal(repr(float(best_price)))
        sign = 1 if is_buy else -1
        if self.trail_amount is not None:
            return float(best + sign * Decimal(repr(self.trail_amount)))
        assert self.trail_percent is not None
        return float(best * (1 + sign * Decimal(repr(self.trail_percent))))

    def get_limit_price(self, is_buy: bool) -> float | None:
        return None

    def get_stop_price(self, is_buy: bool) -> float | None:
        # The level is not known until a price is seen; the order tracks it.
        return None


_SIMPLE_STYLES = (MarketOrder, LimitOrder, StopOrder, StopLimitOrder, TrailingStopOrder)


class OCOOrder(ExecutionStyle):
    """Two orders for the same asset and amount; a fill on one cancels the other.

    The blotter places one order per leg and links them. Typical use: exit a
    long with a take-profit limit and a protective stop.

    Parameters
    ----------
    first, second
        The legs' styles (market, limit, stop, stop-limit or trailing stop).

    Examples
    --------
    >>> oco = OCOOrder(LimitOrder(110.0), StopOrder(90.0))
    >>> oco.first.get_limit_price(False), oco.second.get_stop_price(False)
    (110.0, 90.0)
    """

    def __init__(self, first: ExecutionStyle, second: ExecutionStyle) -> None:
        for leg in (first, second):
            if not isinstance(leg, _SIMPLE_STYLES):
                raise InvalidOrderError(
                    f"OCOOrder legs must be simple execution styles, got {leg!r}",
                    context={"leg": repr(leg)},
                )
        self.first = first
        self.second = second

    def get_limit_price(self, is_buy: bool) -> float | None:
        return None

    def get_stop_price(self, is_buy: bool) -> float | None:
        return None


class BracketOrder(ExecutionStyle):
    """An entry order with a take-profit and a stop-loss attached.

    The entry is a market order (or a limit order if ``limit_price`` is given).
    As it fills, the blotter places two children for the filled amount, in
    the opposite direction and linked one-cancels-the-other: a limit at
    ``take_profit_price`` and a stop at ``stop_loss_price``. If the entry is
    cancelled before any fill, no children are ever placed.

    Parameters
    ----------
    take_profit_price
        The exit limit; above ``stop_loss_price`` for a long entry, below it
        for a short one (checked when the order is placed).
    stop_loss_price
        The protective stop.
    limit_price
        Optional entry limit.
    asset
        If given, its ``tick_size`` drives rounding.

    Examples
    --------
    >>> b = BracketOrder(take_profit_price=110.0, stop_loss_price=95.0)
    >>> b.take_profit_style(is_buy_entry=True).get_limit_price(is_buy=False)
    110.0
    """

    places_exits = True

    def __init__(
        self,
        take_profit_price: float,
        stop_loss_price: float,
        limit_price: float | None = None,
        asset: Any = None,
    ) -> None:
        self.take_profit_price = check_stoplimit_prices(take_profit_price, "take_profit")
        self.stop_loss_price = check_stoplimit_prices(stop_loss_price, "stop_loss")
        if self.take_profit_price == self.stop_loss_price:
            raise InvalidOrderError(
                f"BracketOrder take_profit_price and stop_loss_price are equal "
                f"({take_profit_price!r})",
                context={"take_profit": take_profit_price, "stop_loss": stop_loss_price},
            )
        self.limit_price = (
            None if limit_price is None else check_stoplimit_prices(limit_price, "limit")
        )
        self.asset = asset

    def validate_direction(self, is_buy: bool, asset: Any = None) -> None:
        """Check the exits sit on the right sides for an entry in this direction.

        Raises
        ------
        InvalidOrderError
            For a long entry whose take-profit is not above its stop-loss, or a
            short entry whose take-profit is not below it.
        """
        ok = (
            self.take_profit_price > self.stop_loss_price
            if is_buy
            else self.take_profit_price < self.stop_loss_price
        )
        if not ok:
            side = "buy" if is_buy else "sell"
            raise InvalidOrderError(
                f"BracketOrder for {asset!r}: a {side} entry needs take_profit "
                f"{'above' if is_buy else 'below'} stop_loss, got take_profit="
                f"{self.take_profit_price}, stop_loss={self.stop_loss_price}",
                context={
                    "asset": asset,
                    "take_profit": self.take_profit_price,
                    "stop_loss": self.stop_loss_price,
                },
            )

    def entry_style(self) -> ExecutionStyle:
        """The style of the entry (parent) order."""
        if self.limit_price is None:
            return MarketOrder()
        return LimitOrder(self.limit_price, asset=self.asset)

    def take_profit_style(self, is_buy_entry: bool) -> LimitOrder:
        """The take-profit child's style (it trades against the entry)."""
        return LimitOrder(self.take_profit_price, asset=self.asset)

    def stop_loss_style(self, is_buy_entry: bool) -> StopOrder:
        """The stop-loss child's style (it trades against the entry)."""
        return StopOrder(self.stop_loss_price, asset=self.asset)

    def get_limit_price(self, is_buy: bool) -> float | None:
        return self.entry_style().get_limit_price(is_buy)

    def get_stop_price(self, is_buy: bool) -> float | None:
        return None


def execution_style(
    asset: Any, limit_price: Any, stop_price: Any, style: ExecutionStyle | None
) -> ExecutionStyle | None:
    """The style an order function's ``limit_price``/``stop_price``/``style`` ask for.

    None for a plain market order (the broker's default style).

    Raises
    ------
    InvalidOrderError
        If both a style and limit/stop prices are given.

    Examples
    --------
    >>> execution_style(None, 10.0, None, None)
    LimitOrder(limit_price=10.0)
    >>> execution_style(None, None, None, None) is None
    True
    """
    if style is not None:
        if limit_price is not None or stop_price is not None:
            raise InvalidOrderError(
                f"order for {asset!r}: pass either style or limit_price/stop_price, not both",
                context={"asset": repr(asset)},
            )
        return style
    if limit_price is not None and stop_price is not None:
        return StopLimitOrder(limit_price, stop_price, asset=asset)
    if limit_price is not None:
        return LimitOrder(limit_price, asset=asset)
    if stop_price is not None:
        return StopOrder(stop_price, asset=asset)
    return None
