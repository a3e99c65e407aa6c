"""The Decimal ledger: cash, positions, cost basis, dividends, returns and their export.

Modules
-------
facade
    :class:`Ledger`, the one object the engine books into and reads from.
tracker
    :class:`PositionTracker`: the open positions, splits, dividends owed, marks.
marking
    :class:`MarkingPlan`: the open positions by price rules and portal column,
    what a mark to market reads and converts in one pass per group.
stats
    :class:`PositionStats` and :func:`position_stats`: aggregates over positions.
journal
    :class:`CashJournal`: cash, cash flow and every movement of cash.
export
    :class:`LedgerExport`: the exact state as Decimal scalars and DataFrames.
"""

from rustybt.finance.ledger.export import LedgerExport
from rustybt.finance.ledger.facade import Ledger
from rustybt.finance.ledger.journal import CashEntry, CashJournal
from rustybt.finance.ledger.marking import MarkingPlan
from rustybt.finance.ledger.stats import PositionStats, position_stats
from rustybt.finance.ledger.tracker import PositionTracker, session_key

__all__ = [
    "CashEntry",
    "CashJournal",
    "Ledger",
    "LedgerExport",
    "MarkingPlan",
    "PositionStats",
    "PositionTracker",
    "position_stats",
    "session_key",
]
