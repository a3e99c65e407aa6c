"""Round trips: a run's fills paired into closed trades, first in, first out.

A round trip opens with the fills that build a position and closes with the
fill that reduces it. Each fill that reduces a position makes one round trip,
matched against the oldest open lots of that asset first (FIFO): a partial
close makes a round trip of the part it closes, and a fill that crosses zero
(a long sold into a short, a reversal) closes the whole position and opens a
new lot of the opposite side with the rest.

A round trip's P&L is ``amount * (exit - entry) * multiplier`` at the fill
prices (slippage included) less its commissions: each fill's commission is
shared by amount between the round trips it opens and closes. A fill's
commission is its own (``commission``), else, in a performance frame, its
share by amount of its order's (the simulator books commissions on the
orders), else 0. The P&L is a :class:`~decimal.Decimal` when the fills carry Decimals (the
ledger's fills, ``algorithm.ledger.export()["transactions"]``) and a float
when they carry floats (the dicts of a performance frame's ``transactions``
column). The ledger rounds each fill's cash to the cent: with fill prices
finer than a cent (slippage), the P&L of a flat run's round trips and the
ledger's realized P&L differ by those roundings.

A split or a close-out changes the shares held without a fill. Given a
performance frame, its ``positions`` column shows it: a split scales the open
lots (amounts by the ratio, prices by its inverse, the cost unchanged), and a
position that went away without a fill (a delisting, a split that left less
than one share) closes at its last mark. Bare fills carry no such record, so
a round trip across a split is matched on the amounts as filled: pass the
performance frame for runs that hold through splits.

Examples
--------
>>> from decimal import Decimal
>>> fills = [
...     {"sid": "AAA", "dt": 1, "amount": Decimal(10), "price": Decimal("5.00")},
...     {"sid": "AAA", "dt": 2, "amount": Decimal(-4), "price": Decimal("6.00")},
...     {"sid": "AAA", "dt": 3, "amount": Decimal(-6), "price": Decimal("4.50")},
... ]
>>> trips = round_trips(fills)
>>> trips[["open_dt", "close_dt", "amount", "pnl"]]
   open_dt  close_dt amount    pnl
0        1         2      4   4.00
1        1         3      6  -3.00
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from rustybt.exceptions import ParameterValidationError

__all__ = ["ROUND_TRIP_COLUMNS", "round_trips"]

#: The columns of :func:`round_trips`' frame, in order.
ROUND_TRIP_COLUMNS = (
    "asset",
    "open_dt",
    "close_dt",
    "amount",
    "entry_price",
    "exit_price",
    "commission",
    "pnl",
    "return",
)

# Float fills: a remaining quantity this small is rounding left by fractional amounts.
_FLOAT_ZERO = 1e-9


@dataclass(frozen=True)
class _Fill:
    asset: Any
    dt: Any
    amount: Any  # Decimal or float, signed
    price: Any
    commission: Any  # of this fill, the same kind of number as its price


@dataclass
class _Lot:
    dt: Any
    amount: Any  # signed remainder still open
    price: Any
    commission: Any  # the part of its opening fill's commission not yet closed


def round_trips(transactions: Any) -> pd.DataFrame:
    """Pair fills into closed round trips, first in, first out, per asset.

    Parameters
    ----------
    transactions
        The fills, in the order they were filled: a performance frame (its
        ``transactions`` column), a frame of fills with columns ``dt``,
        ``amount``, ``price`` and ``asset`` or ``sid`` (the ledger export's
        ``transactions``), or an iterable of fill dicts (zipline's keys
        ``sid``, ``dt``, ``amount``, ``price``) or fill objects (attributes
        ``asset``, ``dt``, ``amount``, ``price``).

    Returns
    -------
    pd.DataFrame
        One row per closing fill, in fill order, with the columns of
        :data:`ROUND_TRIP_COLUMNS`: ``asset``; ``open_dt`` (the oldest lot it
        closes) and ``close_dt``; ``amount`` (positive for a long, negative
        for a short); ``entry_price`` (the amount-weighted price of the lots
        it closes) and ``exit_price``; ``commission`` (its share of the
        fills'); ``pnl`` (net of it); ``return`` (float, the P&L over the
        entry cost). Positions still open at the end make no row; a position
        a performance frame shows gone without a fill closes at its last mark.

    Raises
    ------
    ParameterValidationError
        For input that is none of these, naming the fill at fault (a missing
        field, a price that is not a number).

    Examples
    --------
    A short covered in two parts, then a long reversed into a short:

    >>> fills = [
    ...     {"sid": "XYZ", "dt": 1, "amount": -10, "price": 20.0},
    ...     {"sid": "XYZ", "dt": 2, "amount": 5, "price": 18.0},
    ...     {"sid": "XYZ", "dt": 3, "amount": 5, "price": 22.0},
    ...     {"sid": "XYZ", "dt": 4, "amount": 3, "price": 10.0},
    ...     {"sid": "XYZ", "dt": 5, "amount": -5, "price": 11.0},
    ... ]
    >>> round_trips(fills)[["open_dt", "close_dt", "amount", "pnl", "return"]]
       open_dt  close_dt  amount   pnl  return
    0        1         2    -5.0  10.0     0.1
    1        1         3    -5.0 -10.0    -0.1
    2        4         5     3.0   3.0     0.1
    """
    books: dict[Any, deque[_Lot]] = {}
    last_prices: dict[Any, float] = {}
    rows: list[tuple[Any, ...]] = []
    for session, fills, positions in _sessions(transactions):
        if positions is not None:
            rows.extend(_reconcile(books, fills, positions, session, last_prices))
        for fill in fills:
            row = _book(books.setdefault(fill.asset, deque()), fill)
            if row is not None:
                rows.append(row)
    frame = pd.DataFrame(rows, columns=list(ROUND_TRIP_COLUMNS))
    frame["return"] = frame["return"].astype(np.float64)
    return frame


def _reconcile(
    books: dict[Any, deque[_Lot]],
    fills: list[_Fill],
    positions: Iterable[Any],
    session: Any,
    last_prices: dict[Any, float],
) -> list[tuple[Any, ...]]:
    """Bring the open lots to the amounts a performance frame held at the session's open.

    What a session held before its fills is its closing position less those
    fills. A book that differs was changed without a fill, at the open: a
    split scales its lots (amounts by the ratio, prices by its inverse, the
    cost unchanged); a position gone (a delisted asset closed out, a split
    that left less than one share) closes at the last price it was marked at,
    a round trip dated at the session.
    """
    held = {p["sid"]: float(p["amount"]) for p in positions}
    bought: dict[Any, float] = {}
    for fill in fills:
        bought[fill.asset] = bought.get(fill.asset, 0.0) + float(fill.amount)
    rows = []
    for asset, lots in books.items():
        book = sum(float(lot.amount) for lot in lots)
        at_open = held.get(asset, 0.0) - bought.get(asset, 0.0)
        if not book or abs(book - at_open) < _FLOAT_ZERO:
            continue
        if abs(at_open) < _FLOAT_ZERO and asset in last_prices:
            price = last_prices[asset]
            row = _book(lots, _Fill(asset, session, -book, price, 0.0))
            if row is not None:
                rows.append(row)
        elif at_open * book > 0 and not isinstance(lots[0].amount, Decimal):
            ratio = at_open / book
            for lot in lots:
                lot.amount *= ratio
                lot.price /= ratio
    for position in positions:
        last_prices[position["sid"]] = float(position["last_sale_price"])
    return rows


def _book(lots: deque[_Lot], fill: _Fill) -> tuple[Any, ...] | None:
    """Apply ``fill`` to an asset's open lots; the round trip it closes, if any."""
    exact = isinstance(fill.amount, Decimal)
    remaining = fill.amount
    closed_amount = 0 * fill.amount
    closed_cost = 0 * fill.price
    commission = 0 * fill.commission
    open_dt = None
    while not _is_zero(remaining, exact) and lots and _sign(lots[0].amount) != _sign(remaining):
        lot = lots[0]
        take = min(abs(remaining), abs(lot.amount))
        open_dt = lot.dt if open_dt is None else open_dt
        closed_amount += take
        closed_cost += take * lot.price
        share = lot.commission * take / abs(lot.amount)
        commission += share
        lot.commission -= share
        lot.amount -= _sign(lot.amount) * take
        remaining -= _sign(remaining) * take
        if _is_zero(lot.amount, exact):
            lots.popleft()
    # The fill's own commission: the closing part's share here, the rest to the new lot.
    opening_commission = fill.commission * abs(remaining) / abs(fill.amount)
    commission += fill.commission - opening_commission
    if not _is_zero(remaining, exact):
        lots.append(_Lot(fill.dt, remaining, fill.price, opening_commission))
    if not closed_amount:
        return None
    side = -_sign(fill.amount)  # the closed position's side: +1 long, -1 short
    multiplier = _multiplier(fill.asset, exact)
    pnl = side * (closed_amount * fill.price - closed_cost) * multiplier - commission
    entry_price = closed_cost / closed_amount
    cost = closed_cost * multiplier
    returns = float(pnl / cost) if cost else float("nan")
    return (
        fill.asset,
        open_dt,
        fill.dt,
        side * closed_amount,
        entry_price,
        fill.price,
        commission,
        pnl,
        returns,
    )


def _sign(value: Any) -> int:
    return 1 if value > 0 else -1


def _is_zero(value: Any, exact: bool) -> bool:
    return value == 0 if exact else abs(value) < _FLOAT_ZERO


def _multiplier(asset: Any, exact: bool) -> Any:
    multiplier = getattr(asset, "multiplier", 1)
    if exact:
        return multiplier if isinstance(multiplier, Decimal) else Decimal(str(multiplier))
    return float(multiplier)


def _sessions(transactions: Any) -> Iterator[tuple[Any, list[_Fill], Any]]:
    """``(session, fills, positions)`` of any accepted input.

    A performance frame gives one triple per session, with its closing
    positions; any other input one triple of every fill, without positions.
    """
    counter = iter(range(1 << 62))  # numbers the fills across sessions, for errors
    if isinstance(transactions, pd.DataFrame):
        if "transactions" in transactions.columns:
            charged = _order_commissions(transactions)
            positions = (
                transactions["positions"]
                if "positions" in transactions.columns
                else [None] * len(transactions)
            )
            for session, day, held in zip(
                transactions.index, transactions["transactions"], positions, strict=True
            ):
                yield session, _fills(day or (), counter, charged), held
            return
        yield None, _fills(transactions.to_dict("records"), counter, {}), None
    elif isinstance(transactions, Iterable) and not isinstance(transactions, (str, bytes)):
        yield None, _fills(transactions, counter, {}), None
    else:
        raise ParameterValidationError(
            f"round_trips takes a performance frame, a frame of fills or an iterable of "
            f"fills, not {type(transactions).__name__}",
            context={"argument": "transactions"},
        )


def _order_commissions(perf: pd.DataFrame) -> dict[Any, tuple[float, float]]:
    """Each order's commission and filled amount, as its last record in ``orders`` shows them."""
    if "orders" not in perf.columns:
        return {}
    final: dict[Any, tuple[float, float]] = {}
    for day in perf["orders"]:
        for order in day or ():
            final[order["id"]] = (float(order["commission"] or 0.0), float(order["filled"]))
    return final


def _fills(
    items: Iterable[Any], counter: Iterator[int], charged: dict[Any, tuple[float, float]]
) -> list[_Fill]:
    """The fills of ``items`` with a non-zero amount, as exact (Decimal) or float numbers."""
    fills = (_fill(item, number, charged) for item, number in zip(items, counter, strict=False))
    return [fill for fill in fills if fill.amount]


def _fill(item: Any, number: int, charged: dict[Any, tuple[float, float]]) -> _Fill:
    """One fill from a dict (zipline's keys, or the ledger export's) or an object.

    Its commission is its own, else its share (by amount) of its order's in
    ``charged``, else 0.
    """
    get = item.get if isinstance(item, dict) else lambda name: getattr(item, name, None)
    asset = get("asset")
    if asset is None:
        asset = get("sid")
    values: dict[str, Any] = {
        "asset": asset,
        "dt": get("dt"),
        "amount": get("amount"),
        "price": get("price"),
    }
    missing = [name for name in ("asset", "amount", "price") if values[name] is None]
    if missing:
        raise ParameterValidationError(
            f"fill {number} ({item!r}) has no {', '.join(missing)}",
            context={"fill": number, "missing": missing},
        )
    amount, price = values["amount"], values["price"]
    try:
        if isinstance(price, Decimal):
            amount = amount if isinstance(amount, Decimal) else Decimal(str(amount))
        else:
            amount, price = float(amount), float(price)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ParameterValidationError(
            f"fill {number} ({item!r}): amount and price must be numbers ({exc})",
            context={"fill": number},
        ) from exc
    if not (price == price and amount == amount):  # NaN
        raise ParameterValidationError(
            f"fill {number} ({item!r}): amount and price must not be NaN",
            context={"fill": number},
        )
    commission = _commission(get("commission"), get("order_id"), amount, charged)
    if isinstance(price, Decimal):
        commission = Decimal(str(commission)) if not isinstance(commission, Decimal) else commission
    return _Fill(asset, values["dt"], amount, price, commission)


def _commission(
    own: Any, order_id: Any, amount: Any, charged: dict[Any, tuple[float, float]]
) -> Any:
    if own is not None:
        return own
    commission, filled = charged.get(order_id, (0.0, 0.0))
    if not commission or not filled:
        return 0.0
    return commission * abs(float(amount)) / abs(filled)
