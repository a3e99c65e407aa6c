"""The algorithm's read-only float views of the Decimal ledger."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from rustybt.assets import Equity
from rustybt.assets.asset_types import exchange_info_for
from rustybt.finance.ledger import Ledger
from rustybt.finance.orders.transaction import Transaction
from rustybt.protocol import Account, Portfolio, Position, Positions

D = Decimal
NYSE = exchange_info_for("NYSE")
AAA = Equity(1, NYSE, symbol="AAA")
BBB = Equity(2, NYSE, symbol="BBB")
DAYS = pd.DatetimeIndex(["2024-01-02", "2024-01-03"])


def ledger_with_positions() -> Ledger:
    ledger = Ledger(DAYS, D(10_000), "daily")
    ledger.process_transaction(Transaction(AAA, D(10), DAYS[0], D("100.5"), "a"))
    ledger.process_transaction(Transaction(BBB, D(-20), DAYS[0], D("25"), "b"))
    return ledger


def test_portfolio_defaults_like_zipline() -> None:
    p = Portfolio(DAYS[0], 5000)
    assert (p.cash, p.starting_cash, p.portfolio_value) == (5000.0, 5000.0, 5000.0)
    assert (p.pnl, p.returns, p.positions_value, p.positions_exposure) == (0.0, 0.0, 0.0, 0.0)
    assert p.capital_used == 0.0
    assert p.start_date == DAYS[0]
    assert isinstance(p.positions, Positions) and not p.positions
    assert "portfolio_value" in repr(p)


@pytest.mark.parametrize("obj", [Portfolio(), Account()])
def test_views_are_read_only(obj: object) -> None:
    with pytest.raises(AttributeError, match="cannot mutate"):
        obj.cash = 1.0  # type: ignore[attr-defined]


def test_account_defaults_like_zipline() -> None:
    a = Account()
    assert a.buying_power == float("inf") and a.regt_margin == float("inf")
    assert a.day_trades_remaining == float("inf")
    assert (a.settled_cash, a.leverage, a.net_leverage, a.net_liquidation) == (0.0, 0.0, 0.0, 0.0)


def test_portfolio_reflects_the_ledger_as_floats() -> None:
    ledger = ledger_with_positions()
    p = ledger.portfolio
    assert p.cash == 10_000 - 1005 + 500 == float(ledger.cash)
    assert p.positions_value == 1005 - 500
    assert p.positions_exposure == 505.0
    assert p.portfolio_value == 10_000.0
    assert p.capital_used == -505.0
    assert set(p.positions) == {AAA, BBB}
    pos = p.positions[AAA]
    assert (pos.amount, pos.cost_basis, pos.last_sale_price) == (10, 100.5, 100.5)
    assert type(pos.amount) is int and type(pos.cost_basis) is float
    assert pos.sid is AAA and pos.asset is AAA
    assert pos.last_sale_date == DAYS[0]
    # zipline code does float arithmetic with these
    assert p.portfolio_value * 0.1 == 1000.0


def test_the_same_portfolio_object_is_refreshed() -> None:
    ledger = ledger_with_positions()
    p = ledger.portfolio
    view = p.positions[AAA]
    ledger.process_transaction(Transaction(AAA, D(5), DAYS[1], D("101"), "c"))
    assert ledger.portfolio is p
    assert p.cash == 10_000 - 1005 + 500 - 505
    assert view.amount == 15  # a live view of the ledger position
    ledger.process_transaction(Transaction(AAA, D(-15), DAYS[1], D("101"), "d"))
    assert AAA not in ledger.portfolio.positions


def test_missing_positions_read_as_empty() -> None:
    positions = ledger_with_positions().portfolio.positions
    ccc = Equity(3, NYSE)
    empty = positions[ccc]
    assert isinstance(empty, Position)
    assert (empty.amount, empty.cost_basis, empty.last_sale_price) == (0, 0.0, 0.0)
    assert empty.last_sale_date is None
    assert ccc not in positions
    with pytest.raises(ValueError, match="expected a value of type Asset"):
        positions["AAA"]


def test_position_view_is_read_only() -> None:
    view = ledger_with_positions().portfolio.positions[AAA]
    with pytest.raises(AttributeError, match="cannot mutate"):
        view.amount = 3  # type: ignore[misc]
    assert "'amount': 10" in repr(view)


def test_current_portfolio_weights() -> None:
    weights = ledger_with_positions().portfolio.current_portfolio_weights.to_dict()
    assert weights[AAA] == pytest.approx(1005 / 10_000)
    assert weights[BBB] == pytest.approx(-500 / 10_000)


def test_account_from_the_ledger() -> None:
    account = ledger_with_positions().account
    assert account.settled_cash == account.regt_equity == account.available_funds == 9495.0
    assert account.equity_with_loan == account.net_liquidation == 10_000.0
    assert account.total_positions_value == 505.0
    assert account.total_positions_exposure == 505.0
    assert account.leverage == account.gross_leverage == pytest.approx(0.1505)
    assert account.net_leverage == pytest.approx(0.0505)
    assert account.cushion == pytest.approx(0.9495)
