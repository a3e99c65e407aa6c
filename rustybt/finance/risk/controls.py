"""Trading and account controls: guard rails an algorithm sets on itself.

A :class:`TradingControl` checks every order before it reaches the blotter
(``validate(asset, amount, portfolio, algo_datetime, algo_current_data)``);
an :class:`AccountControl` checks the account after each bar
(``validate(portfolio, account, algo_datetime, algo_current_data)``). On a
violation, ``on_error="fail"`` raises
:class:`~rustybt.exceptions.TradingControlViolation` (an
``OrderRejectedError``) naming the control, asset, amount and simulation time;
``on_error="log"`` logs the same message as a warning and lets the order go.

Share counts are compared as Decimal; notional limits use the current float
price, and a missing (NaN) price never counts as a violation, as in zipline.

Examples
--------
>>> import pandas as pd
>>> from rustybt.assets import Equity
>>> from rustybt.assets.asset_types import exchange_info_for
>>> from rustybt.exceptions import TradingControlViolation
>>> aapl = Equity(1, exchange_info_for("NYSE"), symbol="AAPL")
>>> control = MaxOrderSize("fail", max_shares=100)
>>> try:
...     control.validate(aapl, 150, None, pd.Timestamp("2024-01-02 21:00", tz="UTC"), None)
... except TradingControlViolation as e:
...     print(e)
Order for 150 shares of Equity(1 [AAPL]) at 2024-01-02 21:00:00+00:00 violates trading control MaxOrderSize(asset=None, max_shares=100, max_notional=None).
"""  # noqa: E501

from __future__ import annotations

import abc
import datetime as _dt
import logging
import math
from decimal import Decimal
from typing import Any, Literal

import pandas as pd

from rustybt.exceptions import AccountControlViolation, ParameterValidationError
from rustybt.exceptions import TradingControlViolation as TradingControlViolation
from rustybt.finance.precision import to_decimal
from rustybt.finance.risk.restrictions import Restrictions

__all__ = [
    "AccountControl",
    "AssetDateBounds",
    "LongOnly",
    "MaxLeverage",
    "MaxOrderCount",
    "MaxOrderSize",
    "MaxPositionSize",
    "MinLeverage",
    "RestrictedListOrder",
    "TradingControl",
]

log = logging.getLogger("rustybt.finance.risk.controls")

OnError = Literal["fail", "log"]


def _check_on_error(on_error: str) -> None:
    if on_error not in ("fail", "log"):
        raise ParameterValidationError(
            f"on_error must be 'fail' or 'log', got {on_error!r}", context={"on_error": on_error}
        )


def _quantity(x: Any) -> Decimal:
    return x if isinstance(x, Decimal) else to_decimal(x)


def _price(data: Any, asset: Any) -> Decimal | None:
    """The current price as Decimal, or None if there is none."""
    price = float(data.current(asset, "price"))
    return None if math.isnan(price) else to_decimal(price)


def _position_amount(portfolio: Any, asset: Any) -> Decimal:
    return _quantity(portfolio.positions[asset].amount)


def _check_limits(max_shares: Any, max_notional: Any) -> tuple[Decimal | None, Decimal | None]:
    if max_shares is None and max_notional is None:
        raise ParameterValidationError("give at least one of max_shares and max_notional")
    out: list[Decimal | None] = []
    for name, value in (("max_shares", max_shares), ("max_notional", max_notional)):
        if value is None:
            out.append(None)
            continue
        d = to_decimal(value)
        if d < 0:
            raise ParameterValidationError(f"{name} must be >= 0, got {value!r}", {name: value})
        out.append(d)
    return out[0], out[1]


class _Control:
    """What per-order and account controls share: the error policy and the parameters
    a violation message shows (as the control's repr)."""

    def __init__(self, on_error: OnError, **fail_args: Any) -> None:
        _check_on_error(on_error)
        self.on_error = on_error
        self._fail_args = fail_args

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._fail_args.items())
        return f"{type(self).__name__}({args})"


class TradingControl(_Control, abc.ABC):
    """Base class of per-order controls.

    Parameters
    ----------
    on_error
        ``"fail"`` raises on a violation, ``"log"`` logs a warning.
    **fail_args
        The control's parameters, shown in violation messages.
    """

    @abc.abstractmethod
    def validate(
        self,
        asset: Any,
        amount: Any,
        portfolio: Any,
        algo_datetime: pd.Timestamp,
        algo_current_data: Any,
    ) -> None:
        """Check one order; call :meth:`handle_violation` if it breaks the control."""

    def handle_violation(
        self,
        asset: Any,
        amount: Any,
        datetime: Any,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Raise or log that an order for ``amount`` of ``asset`` at ``datetime`` broke this."""
        control = repr(self)
        if metadata:
            control = f"{control} ({', '.join(f'{k}={v}' for k, v in metadata.items())})"
        message = (
            f"Order for {amount} shares of {asset!r} at {datetime} violates trading control "
            f"{control}."
        )
        if self.on_error == "fail":
            raise TradingControlViolation(
                message,
                context={
                    "control": type(self).__name__,
                    "asset": asset,
                    "amount": amount,
                    "datetime": datetime,
                    **(metadata or {}),
                },
            )
        log.warning(message)


class MaxOrderCount(TradingControl):
    """At most ``max_count`` orders per day (counted by the UTC date of the order).

    Examples
    --------
    >>> MaxOrderCount("log", max_count=2)
    MaxOrderCount(max_count=2)
    """

    def __init__(self, on_error: OnError, max_count: int) -> None:
        super().__init__(on_error, max_count=max_count)
        self.max_count = max_count
        self.orders_placed = 0
        self.current_date: _dt.date | None = None

    def validate(
        self,
        asset: Any,
        amount: Any,
        portfolio: Any,
        algo_datetime: pd.Timestamp,
        algo_current_data: Any,
    ) -> None:
        date = algo_datetime.date()
        if self.current_date is not None and self.current_date != date:
            self.orders_placed = 0
        self.current_date = date
        if self.orders_placed >= self.max_count:
            self.handle_violation(asset, amount, algo_datetime)
        self.orders_placed += 1


class RestrictedListOrder(TradingControl):
    """No orders in assets the ``restrictions`` restrict at the order's time.

    Examples
    --------
    >>> from rustybt.finance.risk.restrictions import StaticRestrictions
    >>> RestrictedListOrder("fail", StaticRestrictions([])).on_error
    'fail'
    """

    def __init__(self, on_error: OnError, restrictions: Restrictions) -> None:
        super().__init__(on_error)
        self.restrictions = restrictions

    def validate(
        self,
        asset: Any,
        amount: Any,
        portfolio: Any,
        algo_datetime: pd.Timestamp,
        algo_current_data: Any,
    ) -> None:
        if self.restrictions.is_restricted(asset, algo_datetime):
            self.handle_violation(asset, amount, algo_datetime)


class MaxOrderSize(TradingControl):
    """Cap the size of any single order, in shares and/or notional value.

    Parameters
    ----------
    on_error
        ``"fail"`` or ``"log"``.
    asset
        Only orders for this asset are checked (None: all assets).
    max_shares, max_notional
        Limits on ``|amount|`` and ``|amount * price|``; at least one is required.

    Examples
    --------
    >>> MaxOrderSize("fail", max_notional=1e6).max_notional
    Decimal('1000000.0')
    """

    def __init__(
        self,
        on_error: OnError,
        asset: Any = None,
        max_shares: float | None = None,
        max_notional: float | None = None,
    ) -> None:
        super().__init__(on_error, asset=asset, max_shares=max_shares, max_notional=max_notional)
        self.asset = asset
        self.max_shares, self.max_notional = _check_limits(max_shares, max_notional)

    def validate(
        self,
        asset: Any,
        amount: Any,
        portfolio: Any,
        algo_datetime: pd.Timestamp,
        algo_current_data: Any,
    ) -> None:
        if self.asset is not None and self.asset != asset:
            return
        qty = self._checked_quantity(asset, amount, portfolio)
        if self.max_shares is not None and abs(qty) > self.max_shares:
            self.handle_violation(asset, amount, algo_datetime)
        if self.max_notional is not None:
            price = _price(algo_current_data, asset)
            if price is not None and abs(qty * price) > self.max_notional:
                self.handle_violation(asset, amount, algo_datetime)

    def _checked_quantity(self, asset: Any, amount: Any, portfolio: Any) -> Any:
        """The quantity the limits apply to: the order's own."""
        return _quantity(amount)


class MaxPositionSize(MaxOrderSize):
    """Cap the position an order would leave, in shares and/or notional value.

    Parameters are as for :class:`MaxOrderSize`; the check is on
    ``position + amount``.

    Examples
    --------
    >>> MaxPositionSize("log", max_shares=500).max_shares
    Decimal('500')
    """

    def _checked_quantity(self, asset: Any, amount: Any, portfolio: Any) -> Any:
        """The quantity the limits apply to: the position the order would leave."""
        return _position_amount(portfolio, asset) + _quantity(amount)


class LongOnly(TradingControl):
    """No order may leave a short position.

    Examples
    --------
    >>> LongOnly("fail")
    LongOnly()
    """

    def __init__(self, on_error: OnError) -> None:
        super().__init__(on_error)

    def validate(
        self,
        asset: Any,
        amount: Any,
        portfolio: Any,
        algo_datetime: pd.Timestamp,
        algo_current_data: Any,
    ) -> None:
        if _position_amount(portfolio, asset) + _quantity(amount) < 0:
            self.handle_violation(asset, amount, algo_datetime)


class AssetDateBounds(TradingControl):
    """No orders before an asset's ``start_date`` or after its ``end_date``.

    Examples
    --------
    >>> AssetDateBounds("fail").on_error
    'fail'
    """

    def __init__(self, on_error: OnError) -> None:
        super().__init__(on_error)

    def validate(
        self,
        asset: Any,
        amount: Any,
        portfolio: Any,
        algo_datetime: pd.Timestamp,
        algo_current_data: Any,
    ) -> None:
        if not amount:
            return
        day = pd.Timestamp(algo_datetime).normalize()
        if day.tzinfo is not None:
            day = day.tz_localize(None)
        start, end = asset.start_date, asset.end_date
        if start is not None and day < start.normalize():
            self.handle_violation(
                asset, amount, algo_datetime, {"asset_start_date": start.normalize()}
            )
        if end is not None and day > end.normalize():
            self.handle_violation(asset, amount, algo_datetime, {"asset_end_date": end.normalize()})


class AccountControl(_Control, abc.ABC):
    """Base class of account-level controls.

    Parameters
    ----------
    on_error
        ``"fail"`` (zipline's only behaviour) raises
        :class:`~rustybt.exceptions.AccountControlViolation`; ``"log"`` warns.
    **fail_args
        The control's parameters, shown in violation messages.
    """

    def __init__(self, on_error: OnError = "fail", **fail_args: Any) -> None:
        # zipline's account controls fail by default.
        super().__init__(on_error, **fail_args)

    @abc.abstractmethod
    def validate(
        self,
        portfolio: Any,
        account: Any,
        algo_datetime: pd.Timestamp,
        algo_current_data: Any,
    ) -> None:
        """Check the account; call :meth:`fail` if it breaks the control."""

    def fail(self, algo_datetime: Any = None, **facts: Any) -> None:
        """Raise (or log) that the account violates this control."""
        details = ", ".join(f"{k}={v}" for k, v in facts.items())
        when = "" if algo_datetime is None else f" at {algo_datetime}"
        message = f"Account violates account control {self!r}{when}" + (
            f" ({details})." if details else "."
        )
        if self.on_error == "fail":
            raise AccountControlViolation(
                message,
                context={"control": type(self).__name__, "datetime": algo_datetime, **facts},
            )
        log.warning(message)


class MaxLeverage(AccountControl):
    """The account's gross leverage may not exceed ``max_leverage``.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> MaxLeverage(2.0).validate(None, NS(leverage=1.5), None, None)
    """

    def __init__(self, max_leverage: float, on_error: OnError = "fail") -> None:
        if max_leverage is None or not math.isfinite(float(max_leverage)) or max_leverage < 0:
            raise ParameterValidationError(
                f"max_leverage must be a number >= 0, got {max_leverage!r}",
                context={"max_leverage": max_leverage},
            )
        super().__init__(on_error, max_leverage=max_leverage)
        self.max_leverage = float(max_leverage)

    def validate(
        self,
        portfolio: Any,
        account: Any,
        algo_datetime: pd.Timestamp,
        algo_current_data: Any,
    ) -> None:
        if float(account.leverage) > self.max_leverage:
            self.fail(algo_datetime, leverage=account.leverage)


class MinLeverage(AccountControl):
    """After ``deadline``, gross leverage must be at least ``min_leverage``.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace as NS
    >>> c = MinLeverage(0.5, pd.Timestamp("2024-01-10"))
    >>> c.validate(None, NS(leverage=0.0), pd.Timestamp("2024-01-09", tz="UTC"), None)
    """

    def __init__(
        self, min_leverage: float, deadline: _dt.datetime, on_error: OnError = "fail"
    ) -> None:
        if not isinstance(min_leverage, int | float) or min_leverage < 0:
            raise ParameterValidationError(
                f"min_leverage must be a number >= 0, got {min_leverage!r}",
                context={"min_leverage": min_leverage},
            )
        if not isinstance(deadline, _dt.datetime):
            raise ParameterValidationError(
                f"deadline must be a datetime, got {deadline!r}", context={"deadline": deadline}
            )
        super().__init__(on_error, min_leverage=min_leverage, deadline=deadline)
        self.min_leverage = float(min_leverage)
        self.deadline = pd.Timestamp(deadline)

    def validate(
        self,
        portfolio: Any,
        account: Any,
        algo_datetime: pd.Timestamp,
        algo_current_data: Any,
    ) -> None:
        now = pd.Timestamp(algo_datetime)
        deadline = self.deadline
        if deadline.tzinfo is None and now.tzinfo is not None:
            deadline = deadline.tz_localize(now.tzinfo)
        elif deadline.tzinfo is not None and now.tzinfo is None:
            deadline = deadline.tz_convert(None)
        if now > deadline and float(account.leverage) < self.min_leverage:
            self.fail(algo_datetime, leverage=account.leverage)
