"""The cash journal: every movement of cash, so that ``cash == capital_base + sum(journal)``.

Fills are the commonest movement by far (a minute-bar run books millions),
so the journal keeps each fill itself, after a mark of the session it was
booked in, and writes its cash line only when the lines are read
(:meth:`CashJournal.lines`); every other movement is a :class:`CashEntry`.
Both compute a fill's cash with :func:`fill_cash`.

Examples
--------
>>> from decimal import Decimal
>>> from rustybt.finance.precision import DEFAULT_PRECISION
>>> from rustybt.finance.orders.transaction import Transaction
>>> journal = CashJournal(Decimal(1000))
>>> journal.book_fill(Transaction(None, Decimal(3), None, Decimal("9.995"), "o1"),
...                   DEFAULT_PRECISION.default)
>>> journal.move(Decimal("-1.00"), "commission", None, "o1")
>>> journal.cash, [line.amount for line in journal.lines(DEFAULT_PRECISION)]
(Decimal('969.02'), [Decimal('-29.98'), Decimal('-1.00')])
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

import pandas as pd

from rustybt.finance.orders.transaction import Transaction
from rustybt.finance.precision import ZERO, AssetClassPrecision, PrecisionConfig

__all__ = ["CashEntry", "CashJournal", "fill_cash"]


class CashEntry(NamedTuple):
    """One line of the cash journal: what moved cash, when, and by how much."""

    session: pd.Timestamp | None
    kind: str
    asset: Any
    amount: Decimal
    reference: str | None


def fill_cash(transaction: Transaction, rules: AssetClassPrecision) -> Decimal:
    """The cash a fill moves: its value at the fill price, leaving on a buy, rounded to cash.

    ``rules`` are the fill's asset's (:meth:`PrecisionConfig.for_asset`).
    """
    return rules.cash(-(transaction.price * transaction.amount))


# No session mark written yet (None is a session: fills before the first one).
_NO_SESSION = object()


class CashJournal:
    """Cash, the cash flow and the journal of every movement.

    Parameters
    ----------
    capital_base
        The starting cash.

    Attributes
    ----------
    cash : Decimal
        The cash on hand.
    cash_flow : Decimal
        The net of the movements that count as flow (all but capital changes).
    session : pandas.Timestamp or None
        The session movements are booked in (set by the ledger).
    """

    __slots__ = ("_entries", "_marked", "cash", "cash_flow", "session")

    def __init__(self, capital_base: Decimal) -> None:
        self.cash = capital_base
        self.cash_flow = ZERO
        self.session: pd.Timestamp | None = None
        # CashEntry lines, fills, and the session marks the fills after them belong to.
        self._entries: list[CashEntry | Transaction | pd.Timestamp | None] = []
        self._marked: Any = _NO_SESSION

    def move(
        self,
        amount: Decimal,
        kind: str,
        asset: Any = None,
        reference: str | None = None,
        counts_as_flow: bool = True,
    ) -> None:
        """Add ``amount`` (already rounded to cash) to cash and journal it as ``kind``."""
        self.cash += amount
        if counts_as_flow:
            self.cash_flow += amount
        self._entries.append(CashEntry(self.session, kind, asset, amount, reference))

    def book_fill(self, transaction: Transaction, rules: AssetClassPrecision) -> None:
        """Move a fill's cash (:func:`fill_cash`, with its asset's ``rules``) and journal it."""
        flow = fill_cash(transaction, rules)
        self.cash += flow
        self.cash_flow += flow
        if self._marked is not self.session:
            self._entries.append(self.session)
            self._marked = self.session
        self._entries.append(transaction)

    def lines(self, precision: PrecisionConfig) -> list[CashEntry]:
        """Every movement in order, as :class:`CashEntry` lines."""
        lines: list[CashEntry] = []
        session: pd.Timestamp | None = None
        for entry in self._entries:
            if isinstance(entry, CashEntry):
                lines.append(entry)
            elif isinstance(entry, Transaction):
                flow = fill_cash(entry, precision.for_asset(entry.asset))
                lines.append(CashEntry(session, "transaction", entry.asset, flow, entry.order_id))
            else:
                session = entry
        return lines
