"""Transactions: one fill of one order, in Decimal.

Examples
--------
>>> from decimal import Decimal
>>> from rustybt.assets import Equity
>>> from rustybt.assets.asset_types import exchange_info_for
>>> t = Transaction(Equity(1, exchange_info_for("NYSE")), Decimal(100), None,
...                 Decimal("10.005"), "abc")
>>> t.to_dict()["price"], t.to_dict()["amount"]
(10.005, 100)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rustybt.exceptions import InvalidOrderError

__all__ = ["Transaction", "create_transaction"]


class Transaction:
    """A fill: ``amount`` units of ``asset`` at ``price`` for order ``order_id``.

    Parameters
    ----------
    asset
        What was traded.
    amount
        Signed Decimal quantity (> 0 bought, < 0 sold).
    dt
        Simulation time of the fill.
    price
        Decimal fill price per unit (slippage included, commission not).
    order_id
        The order this fill belongs to.
    commission
        Optional Decimal commission; the simulator reports commissions
        separately (as zipline) and leaves this None.

    Examples
    --------
    >>> from decimal import Decimal
    >>> t = Transaction(None, Decimal(-5), None, Decimal("9.99"), "o1")
    >>> t["amount"], t.order_id
    (Decimal('-5'), 'o1')
    """

    __slots__ = ("amount", "asset", "commission", "dt", "order_id", "price")

    def __init__(
        self,
        asset: Any,
        amount: Decimal,
        dt: Any,
        price: Decimal,
        order_id: str,
        commission: Decimal | None = None,
    ) -> None:
        self.asset = asset
        self.amount = amount
        self.dt = dt
        self.price = price
        self.order_id = order_id
        self.commission = commission

    def __getitem__(self, name: str) -> Any:
        # zipline exposed transactions as mappings too.
        if name == "sid":
            return self.asset
        if name not in self.__slots__:
            raise KeyError(name)
        return getattr(self, name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Transaction):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """zipline's transaction dict: ``sid`` the asset, numbers as int/float."""
        amount = self.amount
        return {
            "amount": int(amount) if amount == amount.to_integral_value() else float(amount),
            "dt": self.dt,
            "price": float(self.price),
            "order_id": self.order_id,
            "sid": self.asset,
            "commission": None if self.commission is None else float(self.commission),
        }

    def __repr__(self) -> str:
        return (
            f"Transaction(asset={self.asset!r}, dt={self.dt}, amount={self.amount}, "
            f"price={self.price})"
        )


def create_transaction(order: Any, dt: Any, price: Decimal, amount: Decimal) -> Transaction:
    """A fill of ``amount`` for ``order`` at ``price``.

    Raises
    ------
    InvalidOrderError
        If ``amount`` is zero: a fill moves at least one quantity step.
    """
    if not amount:
        raise InvalidOrderError(
            f"fill of order {order.id} for {order.asset!r} has zero quantity",
            context={"order_id": order.id, "asset": order.asset},
        )
    return Transaction(order.asset, amount, dt, price, order.id)
