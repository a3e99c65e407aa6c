"""What the algorithm sees of its money: read-only Portfolio, Account and Position views.

The ledger keeps every amount in :class:`~decimal.Decimal`. These objects are
the zipline-compatible face of it: the same attribute names as zipline's
``zipline.protocol``, holding plain ``float`` values (and ``int`` amounts for
whole-unit assets), so that strategy code such as
``context.portfolio.portfolio_value * 0.1`` keeps working. They are views,
never a second ledger: the exact Decimal state stays in
:class:`rustybt.finance.ledger.Ledger` (``ledger.cash``, ``ledger.positions``,
``ledger.export()``).

Examples
--------
>>> import pandas as pd
>>> p = Portfolio(pd.Timestamp("2024-01-02"), 1000.0)
>>> p.cash, p.portfolio_value, p.capital_used, len(p.positions)
(1000.0, 1000.0, 0.0, 0)
>>> p.cash = 5
Traceback (most recent call last):
...
AttributeError: cannot mutate Portfolio objects
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from rustybt.assets import Asset
from rustybt.finance.ledger.position import Position as _LedgerPosition
from rustybt.finance.precision import plain_number

__all__ = ["ACCOUNT_DEFAULTS", "Account", "Portfolio", "Position", "Positions"]


class Position:
    """A read-only, live view of one ledger position (zipline's ``protocol.Position``).

    Attributes
    ----------
    asset
        The held asset (``sid`` is an alias, as in zipline).
    amount
        Units held (int for whole units, else float); negative for shorts.
    cost_basis
        Average price paid per unit, commissions included (float).
    last_sale_price
        Most recent price (float).
    last_sale_date
        When ``last_sale_price`` was updated.

    Examples
    --------
    >>> from decimal import Decimal
    >>> from rustybt.finance.ledger.position import Position as LedgerPosition
    >>> view = Position(LedgerPosition(None, Decimal(3), Decimal("2.5"), Decimal("2.75")))
    >>> view.amount, view.cost_basis, view.last_sale_price
    (3, 2.5, 2.75)
    """

    __slots__ = ("_position",)
    _position: _LedgerPosition

    def __init__(self, underlying_position: _LedgerPosition) -> None:
        object.__setattr__(self, "_position", underlying_position)

    @property
    def asset(self) -> Any:
        """The held asset."""
        return self._position.asset

    @property
    def sid(self) -> Any:
        """The held asset (zipline's backwards-compatible name)."""
        return self._position.asset

    @property
    def amount(self) -> int | float:
        """Units held."""
        return plain_number(self._position.amount)

    @property
    def cost_basis(self) -> float:
        """Average price per unit, commissions included."""
        return float(self._position.cost_basis)

    @property
    def last_sale_price(self) -> float:
        """Most recent price."""
        return float(self._position.last_sale_price)

    @property
    def last_sale_date(self) -> Any:
        """When the last sale price was updated."""
        return self._position.last_sale_date

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError("cannot mutate Position objects")

    def __repr__(self) -> str:
        fields = ("asset", "amount", "cost_basis", "last_sale_price", "last_sale_date")
        return f"Position({ {k: getattr(self, k) for k in fields}!r})"


class Positions(dict[Any, Position]):
    """The algorithm's positions by asset; a missing asset reads as an empty position.

    Examples
    --------
    >>> from rustybt.assets import Equity
    >>> from rustybt.assets.asset_types import exchange_info_for
    >>> Positions()[Equity(7, exchange_info_for("NYSE"))].amount
    0
    """

    def __missing__(self, key: Any) -> Position:
        if isinstance(key, Asset):
            return Position(_LedgerPosition(key))
        raise ValueError(
            f"Position lookup expected a value of type Asset but got {type(key).__name__} instead"
        )


class _ReadOnly:
    """Base of the snapshot objects: attributes are set only by the ledger."""

    __slots__ = ()

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"cannot mutate {type(self).__name__} objects")

    def _set(self, **fields: Any) -> None:
        # The ledger refreshes one long-lived object, as zipline does, so a
        # reference the algorithm keeps stays current.
        set_field = object.__setattr__
        for name, value in fields.items():
            set_field(self, name, value)

    def _fields(self) -> dict[str, Any]:
        names: tuple[str, ...] = getattr(type(self), "__slots__", ())
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._fields()!r})"


class Portfolio(_ReadOnly):
    """The portfolio as the algorithm sees it (zipline's ``protocol.Portfolio``).

    Parameters
    ----------
    start_date
        The first session of the simulation.
    capital_base
        Starting cash, also the starting portfolio value.

    Attributes
    ----------
    cash, starting_cash, portfolio_value, positions_value, positions_exposure
        Money, as floats (``portfolio_value == cash + positions_value``).
    pnl, returns
        Profit since the start and its compounded return.
    cash_flow
        Net cash from trading, dividends and split cash (``capital_used``).
    positions
        :class:`Positions` by asset.
    start_date
        The first session.
    """

    __slots__ = (
        "cash",
        "cash_flow",
        "pnl",
        "portfolio_value",
        "positions",
        "positions_exposure",
        "positions_value",
        "returns",
        "start_date",
        "starting_cash",
    )
    cash: float
    cash_flow: float
    pnl: float
    portfolio_value: float
    positions: Positions
    positions_exposure: float
    positions_value: float
    returns: float
    start_date: pd.Timestamp | None
    starting_cash: float

    def __init__(self, start_date: pd.Timestamp | None = None, capital_base: float = 0.0) -> None:
        base = float(capital_base)
        self._set(
            cash_flow=0.0,
            starting_cash=base,
            portfolio_value=base,
            pnl=0.0,
            returns=0.0,
            cash=base,
            positions=Positions(),
            start_date=start_date,
            positions_value=0.0,
            positions_exposure=0.0,
        )

    @property
    def capital_used(self) -> float:
        """Net cash spent on or received from trading (zipline's name for ``cash_flow``)."""
        return float(self.cash_flow)

    @property
    def current_portfolio_weights(self) -> pd.Series:
        """Each position's value (price x amount x multiplier) over the portfolio value."""
        values = {asset: float(pos._position.exposure) for asset, pos in self.positions.items()}
        return pd.Series(values, dtype=float) / self.portfolio_value


class Account(_ReadOnly):
    """Account-level figures (zipline's ``protocol.Account``), as floats.

    Brokers may override any field (``Ledger.override_account_fields``).

    Examples
    --------
    >>> a = Account()
    >>> a.buying_power, a.leverage
    (inf, 0.0)
    """

    __slots__ = (
        "accrued_interest",
        "available_funds",
        "buying_power",
        "cushion",
        "day_trades_remaining",
        "equity_with_loan",
        "excess_liquidity",
        "gross_leverage",
        "initial_margin_requirement",
        "leverage",
        "maintenance_margin_requirement",
        "net_leverage",
        "net_liquidation",
        "regt_equity",
        "regt_margin",
        "settled_cash",
        "total_positions_exposure",
        "total_positions_value",
    )
    accrued_interest: float
    available_funds: float
    buying_power: float
    cushion: float
    day_trades_remaining: float
    equity_with_loan: float
    excess_liquidity: float
    gross_leverage: float
    initial_margin_requirement: float
    leverage: float
    maintenance_margin_requirement: float
    net_leverage: float
    net_liquidation: float
    regt_equity: float
    regt_margin: float
    settled_cash: float
    total_positions_exposure: float
    total_positions_value: float

    def __init__(self) -> None:
        self._set(**ACCOUNT_DEFAULTS)


#: A new :class:`Account`'s fields. Those a simulated ledger never computes
#: (interest, buying power, margins, day trades) keep these values unless a
#: broker overrides them.
ACCOUNT_DEFAULTS: dict[str, float] = {
    "settled_cash": 0.0,
    "accrued_interest": 0.0,
    "buying_power": math.inf,
    "equity_with_loan": 0.0,
    "total_positions_value": 0.0,
    "total_positions_exposure": 0.0,
    "regt_equity": 0.0,
    "regt_margin": math.inf,
    "initial_margin_requirement": 0.0,
    "maintenance_margin_requirement": 0.0,
    "available_funds": 0.0,
    "excess_liquidity": 0.0,
    "cushion": 0.0,
    "day_trades_remaining": math.inf,
    "leverage": 0.0,
    "gross_leverage": 0.0,
    "net_leverage": 0.0,
    "net_liquidation": 0.0,
}
