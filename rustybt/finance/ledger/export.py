"""The exact state of a ledger as Decimal scalars and DataFrames of Decimal columns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple, TypedDict

import numpy as np
import pandas as pd

from rustybt.finance.ledger.journal import CashEntry
from rustybt.finance.ledger.position import Position
from rustybt.finance.orders.transaction import Transaction

__all__ = ["LedgerExport", "ledger_frames"]


class LedgerExport(TypedDict):
    """The exact state of a :class:`~rustybt.finance.ledger.Ledger` (see its ``export``).

    Scalars are Decimal; every DataFrame money/quantity column has object
    dtype holding Decimal values.
    """

    capital_base: Decimal
    cash: Decimal
    cash_flow: Decimal
    positions_value: Decimal
    portfolio_value: Decimal
    pnl: Decimal
    returns: Decimal
    positions: pd.DataFrame
    transactions: pd.DataFrame
    cash_journal: pd.DataFrame
    unpaid_dividends: pd.DataFrame


class _Unpaid(NamedTuple):
    pay_date: pd.Timestamp
    asset: Any
    amount: Decimal


def _object_frame(
    items: Sequence[Any], attributes: list[str], **computed: Callable[[Any], Any]
) -> pd.DataFrame:
    """A DataFrame of object columns (Decimals stay Decimals), one row per item."""
    columns: dict[str, pd.Series] = {
        name: pd.Series([getattr(item, name) for item in items], dtype=object)
        for name in attributes
    }
    for name, get in computed.items():
        columns[name] = pd.Series([get(item) for item in items], dtype=object)
    return pd.DataFrame(columns)


def ledger_frames(
    positions: Sequence[Position],
    transactions: Sequence[Transaction],
    cash_journal: Sequence[CashEntry],
    unpaid_dividends: Sequence[tuple[pd.Timestamp, Any, Decimal]],
) -> dict[str, pd.DataFrame]:
    """The four DataFrames of a :class:`LedgerExport`, by key.

    Parameters
    ----------
    positions
        The open positions.
    transactions
        Every fill of the simulation, in order.
    cash_journal
        Every cash movement, in order.
    unpaid_dividends
        ``(pay_date, asset, amount)`` of dividends earned but not yet paid.
    """
    position_frame = _object_frame(
        positions,
        ["asset", "amount", "cost_basis", "last_sale_price", "last_sale_date"],
        unrealized_pnl=lambda p: p.unrealized_pnl,
    )
    position_frame.index = pd.Index([int(p.asset) for p in positions], name="sid", dtype=np.int64)
    transaction_frame = _object_frame(
        transactions, ["dt", "asset", "amount", "price", "commission", "order_id"]
    )
    transaction_frame.insert(
        2, "sid", pd.Series([int(t.asset) for t in transactions], dtype=np.int64)
    )
    unpaid = [_Unpaid(*row) for row in unpaid_dividends]
    return {
        "positions": position_frame,
        "transactions": transaction_frame,
        "cash_journal": _object_frame(cash_journal, list(CashEntry._fields)),
        "unpaid_dividends": _object_frame(unpaid, list(_Unpaid._fields)),
    }
