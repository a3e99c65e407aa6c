"""The cash journal: cash, cash flow, and the lines of every movement in order."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from rustybt.assets import Equity
from rustybt.assets.asset_types import exchange_info_for
from rustybt.finance.ledger import CashEntry, CashJournal
from rustybt.finance.ledger.journal import fill_cash
from rustybt.finance.orders.transaction import Transaction
from rustybt.finance.precision import DEFAULT_PRECISION, AssetClassPrecision

D = Decimal
AAA = Equity(1, exchange_info_for("NYSE"), symbol="AAA")
SHARES = DEFAULT_PRECISION.for_asset(AAA)


def test_fill_cash_leaves_on_buys_and_rounds_half_even() -> None:
    assert fill_cash(Transaction(AAA, D(3), None, D("10.005"), "o"), SHARES) == D("-30.02")
    assert fill_cash(Transaction(AAA, D(-3), None, D("10.005"), "o"), SHARES) == D("30.02")
    # A fill worth less than half a cent moves a plain zero, never -0.00.
    flow = fill_cash(Transaction(AAA, D(1), None, D("0.001"), "o"), SHARES)
    assert flow == 0 and not flow.is_signed()
    coins = AssetClassPrecision(cash_places=8, quantity_places=8)
    assert fill_cash(Transaction(AAA, D("0.5"), None, D("0.123456789"), "o"), coins) == D(
        "-0.06172839"
    )


def test_lines_keep_the_order_and_session_of_every_movement() -> None:
    journal = CashJournal(D(1000))
    day1, day2 = pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")
    before = Transaction(AAA, D(1), None, D(10), "o0")
    journal.book_fill(before, SHARES)  # before any session
    journal.session = day1
    buy = Transaction(AAA, D(2), None, D("10.50"), "o1")
    journal.book_fill(buy, SHARES)
    journal.move(D("-1.00"), "commission", AAA, "o1")
    journal.session = day2
    journal.move(D(500), "capital_change", counts_as_flow=False)
    sell = Transaction(AAA, D(-3), None, D(11), "o2")
    journal.book_fill(sell, SHARES)
    assert journal.lines(DEFAULT_PRECISION) == [
        CashEntry(None, "transaction", AAA, D(-10), "o0"),
        CashEntry(day1, "transaction", AAA, D("-21.00"), "o1"),
        CashEntry(day1, "commission", AAA, D("-1.00"), "o1"),
        CashEntry(day2, "capital_change", None, D(500), None),
        CashEntry(day2, "transaction", AAA, D(33), "o2"),
    ]
    assert journal.cash == D(1000) + sum(line.amount for line in journal.lines(DEFAULT_PRECISION))
    assert journal.cash_flow == journal.cash - D(1000) - D(500)
