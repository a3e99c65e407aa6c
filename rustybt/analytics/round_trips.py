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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from rustybt.exceptions import ParameterValidationError

__all__ = [
    "FILL_COLUMNS",
    "ROUND_TRIP_COLUMNS",
    "SPLIT_COLUMNS",
    "fill_table",
    "ledger_commissions",
    "multiplier_of",
    "round_trips",
    "round_trips_with_splits",
]

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

#: The columns of the splits frame of :func:`round_trips_with_splits`, in order.
SPLIT_COLUMNS = ("session", "asset", "ratio")

#: The columns of :func:`fill_table`'s frame, in order.
FILL_COLUMNS = ("session", "asset", "dt", "amount", "price", "commission")

# Float fills: a remaining quantity this small is rounding left by fractional amounts.
_FLOAT_ZERO = 1e-9


class _Fill(NamedTuple):
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


def round_trips(transactions: Any, ledger: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Pair fills into closed round trips, first in, first out, per asset.

    Parameters
    ----------
    transactions
        The fills, in the order they were filled: a performance frame (its
        ``transactions`` column), a ledger export (``algorithm.ledger.export()``:
        its ``transactions``, with the commissions of its ``cash_journal``), a
        frame of fills with columns ``dt``, ``amount``, ``price`` and ``asset``
        or ``sid`` (the ledger export's ``transactions``), or an iterable of
        fill dicts (zipline's keys ``sid``, ``dt``, ``amount``, ``price``) or
        fill objects (attributes ``asset``, ``dt``, ``amount``, ``price``).
    ledger
        With a performance frame only: the run's ledger export, whose exact
        (Decimal) fills and journaled commissions replace the frame's float
        ones, while the frame's ``positions`` still show splits and close-outs.
        Each fill belongs to the first session that closes at or after it.

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
    return round_trips_with_splits(transactions, ledger)[0]


def round_trips_with_splits(
    transactions: Any, ledger: Mapping[str, Any] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`round_trips`, and the splits it scaled the open lots by.

    Parameters
    ----------
    transactions, ledger
        As for :func:`round_trips`.

    Returns
    -------
    tuple of pd.DataFrame
        The round trips, and one row per split of a held position a
        performance frame shows (none for other inputs), columns
        :data:`SPLIT_COLUMNS`: ``session`` (at whose open it took effect),
        ``asset``, ``ratio`` (float: new units per old unit).
    """
    books: dict[Any, deque[_Lot]] = {}
    open_amounts: dict[Any, Any] = {}  # each book's total, kept as fills and splits change it
    last_prices: dict[Any, float] = {}
    rows: list[tuple[Any, ...]] = []
    splits: list[tuple[Any, Any, float]] = []
    for session, fills, positions in _sessions(transactions, ledger):
        if positions is not None:
            rows.extend(
                _reconcile(books, open_amounts, fills, positions, session, last_prices, splits)
            )
        for fill in fills:
            row = _book(books.setdefault(fill.asset, deque()), fill)
            open_amounts[fill.asset] = open_amounts.get(fill.asset, 0) + fill.amount
            if row is not None:
                rows.append(row)
    frame = pd.DataFrame(rows, columns=list(ROUND_TRIP_COLUMNS))
    frame["return"] = frame["return"].astype(np.float64)
    return frame, pd.DataFrame(splits, columns=list(SPLIT_COLUMNS))


def _reconcile(
    books: dict[Any, deque[_Lot]],
    open_amounts: dict[Any, Any],
    fills: list[_Fill],
    positions: Iterable[Any],
    session: Any,
    last_prices: dict[Any, float],
    splits: list[tuple[Any, Any, float]],
) -> list[tuple[Any, ...]]:
    """Bring the open lots to the amounts a performance frame held at the session's open.

    What a session held before its fills is its closing position less those
    fills. A book that differs was changed without a fill, at the open: a
    split scales its lots (amounts by the ratio, prices by its inverse, the
    cost unchanged); a position gone (a delisted asset closed out, a split
    that left less than one share) closes at the last price it was marked at,
    a round trip dated at the session. Each split is added to ``splits``.
    """
    held = {p["sid"]: p["amount"] for p in positions}
    bought: dict[Any, Any] = {}
    for fill in fills:
        bought[fill.asset] = bought.get(fill.asset, 0) + fill.amount
    rows = []
    for asset, book in open_amounts.items():
        if not book:
            continue
        if abs(float(book) - float(held.get(asset, 0)) + float(bought.get(asset, 0))) < _FLOAT_ZERO:
            continue
        lots = books[asset]
        exact = isinstance(lots[0].amount, Decimal)
        book = sum(lot.amount for lot in lots)  # exactly, from the lots themselves
        at_open = _number(held.get(asset, 0), exact) - bought.get(asset, 0)
        ratio = _split_ratio(book, at_open)
        if abs(float(at_open)) < _FLOAT_ZERO and asset in last_prices:
            price = _number(last_prices[asset], exact)
            row = _book(lots, _Fill(asset, session, -book, price, 0 * price))
            if row is not None:
                rows.append(row)
            open_amounts[asset] = 0 * book
        elif ratio is not None:
            _scale(lots, book, at_open)
            open_amounts[asset] = at_open
            splits.append((session, asset, float(ratio)))
    for position in positions:
        last_prices[position["sid"]] = float(position["last_sale_price"])
    return rows


def _split_ratio(before: Any, at_open: Any) -> Any | None:
    """The split ratio that turned ``before`` units into ``at_open`` without a fill, if any.

    A position that changed size between two sessions with no fill, and kept
    its side, was split: ``at_open / before``. None when it did not change,
    or when it went to zero or crossed it (a close-out is no split).
    """
    if before * at_open <= 0 or abs(float(before - at_open)) < _FLOAT_ZERO:
        return None
    return at_open / before


def _scale(lots: deque[_Lot], before: Any, at_open: Any) -> None:
    """Scale open lots by a split, amounts up and prices down, the cost unchanged.

    Each amount is multiplied before it is divided, and the last lot takes
    what the others leave, so exact (Decimal) books hold exactly ``at_open``.
    """
    scaled = 0 * at_open
    for number, lot in enumerate(lots):
        new_amount = at_open - scaled if number == len(lots) - 1 else lot.amount * at_open / before
        lot.price = lot.price * lot.amount / new_amount
        lot.amount = new_amount
        scaled += new_amount


def _number(value: Any, exact: bool) -> Any:
    """``value`` as the kind of number a book holds: Decimal (exact) or float."""
    if exact:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    return float(value)


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


def multiplier_of(asset: Any) -> Any:
    """An asset's contract multiplier (its ``multiplier``; 1 for an asset without one).

    Examples
    --------
    >>> multiplier_of("AAPL")
    1
    """
    multiplier = getattr(asset, "multiplier", None)
    return 1 if multiplier is None else multiplier


def _multiplier(asset: Any, exact: bool) -> Any:
    return _number(multiplier_of(asset), exact)


def _sessions(
    transactions: Any, ledger: Mapping[str, Any] | None = None
) -> Iterator[tuple[Any, list[_Fill], Any]]:
    """``(session, fills, positions)`` of any accepted input.

    A performance frame gives one triple per session, with its closing
    positions (and, given ``ledger``, the ledger's fills of that session);
    any other input one triple of every fill, without positions.
    """
    counter = iter(range(1 << 62))  # numbers the fills across sessions, for errors
    is_perf = isinstance(transactions, pd.DataFrame) and "transactions" in transactions.columns
    if ledger is not None and not is_perf:
        raise ParameterValidationError(
            "round_trips takes a ledger export only beside a performance frame",
            context={"argument": "ledger"},
        )
    if is_perf:
        positions = (
            transactions["positions"]
            if "positions" in transactions.columns
            else [None] * len(transactions)
        )
        if ledger is None:
            charged = _order_commissions(transactions)
            days: Iterable[list[_Fill]] = (
                _fills(day or (), counter, charged) for day in transactions["transactions"]
            )
        else:
            days = _ledger_days(ledger, transactions.index, counter)
        yield from zip(transactions.index, days, positions, strict=True)
    elif isinstance(transactions, Mapping):
        yield None, _ledger_fills(transactions, "transactions", counter), None
    elif isinstance(transactions, pd.DataFrame):
        yield None, _fills(transactions.to_dict("records"), counter, {}), None
    elif isinstance(transactions, Iterable) and not isinstance(transactions, (str, bytes)):
        yield None, _fills(transactions, counter, {}), None
    else:
        raise ParameterValidationError(
            f"round_trips takes a performance frame, a frame of fills or an iterable of "
            f"fills, not {type(transactions).__name__}",
            context={"argument": "transactions"},
        )


def _ledger_fills(ledger: Mapping[str, Any], argument: str, counter: Iterator[int]) -> list[_Fill]:
    """A ledger export's fills, each charged its share of its order's journaled commission."""
    if not {"transactions", "cash_journal"} <= set(ledger):
        raise ParameterValidationError(
            f"{argument} must be a ledger export (algorithm.ledger.export()) with "
            f"'transactions' and 'cash_journal'; it has {sorted(map(str, ledger))}",
            context={"argument": argument},
        )
    return _fills(ledger["transactions"].to_dict("records"), counter, ledger_commissions(ledger))


def _ledger_days(
    ledger: Mapping[str, Any], sessions: pd.Index, counter: Iterator[int]
) -> list[list[_Fill]]:
    """A ledger's fills grouped by session: each in the first session closing at or after it."""
    fills = _ledger_fills(ledger, "ledger", counter)
    days: list[list[_Fill]] = [[] for _ in sessions]
    if not fills:
        return days
    where = sessions.searchsorted(pd.Index([fill.dt for fill in fills]), side="left")
    if where.max() >= len(sessions):
        late = fills[int(np.argmax(where >= len(sessions)))]
        raise ParameterValidationError(
            f"ledger fill at {late.dt} comes after the performance frame's last session "
            f"{sessions[-1]}: the ledger and the frame are of different runs",
            context={"argument": "ledger"},
        )
    for fill, day in zip(fills, where, strict=True):
        days[day].append(fill)
    return days


def ledger_commissions(ledger: Mapping[str, Any]) -> dict[Any, tuple[Decimal, Decimal]]:
    """Each order's commission, as the ledger journaled it, and the amount it filled.

    Parameters
    ----------
    ledger
        A ledger export (``algorithm.ledger.export()``): commissions are the
        ``cash_journal`` lines of kind ``commission`` (paid, so negative),
        keyed by their ``reference`` (the order id); amounts are the sums of
        ``transactions``' ``amount`` by ``order_id``.

    Returns
    -------
    dict
        ``{order_id: (commission, filled)}``, both Decimal, the commission
        positive for a commission paid.
    """
    journal = ledger["cash_journal"]
    paid = journal[journal["kind"] == "commission"]
    commissions: dict[Any, Decimal] = {}
    for reference, amount in zip(paid["reference"], paid["amount"], strict=True):
        commissions[reference] = commissions.get(reference, Decimal(0)) - amount
    filled: dict[Any, Decimal] = {}
    fills = ledger["transactions"]
    for order_id, amount in zip(fills["order_id"], fills["amount"], strict=True):
        filled[order_id] = filled.get(order_id, Decimal(0)) + amount
    return {
        order_id: (commission, filled.get(order_id, Decimal(0)))
        for order_id, commission in commissions.items()
    }


def fill_table(transactions: Any, ledger: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Every fill of any input :func:`round_trips` takes, with the commission it is charged.

    Parameters
    ----------
    transactions, ledger
        As for :func:`round_trips`.

    Returns
    -------
    pd.DataFrame
        One row per fill with a non-zero amount, in fill order, with the
        columns of :data:`FILL_COLUMNS`: ``session`` (the performance frame's
        session it belongs to; None for other inputs), ``asset``, ``dt``,
        ``amount`` (signed), ``price``, ``commission`` (its own, else its share
        by amount of its order's, else 0), in the fills' kind of number.

    Examples
    --------
    >>> fill_table([{"sid": "A", "dt": 1, "amount": 2, "price": 3.0, "commission": 0.5}])
      session asset  dt  amount  price  commission
    0    None     A   1     2.0    3.0         0.5
    """
    sessions: list[Any] = []
    fills: list[_Fill] = []
    for session, day, _ in _sessions(transactions, ledger):
        sessions.extend([session] * len(day))
        fills.extend(day)
    columns = zip(*fills, strict=True) if fills else ((),) * len(_Fill._fields)
    by_field = dict(zip(_Fill._fields, (list(column) for column in columns), strict=True))
    return pd.DataFrame(
        {name: sessions if name == "session" else by_field[name] for name in FILL_COLUMNS},
        columns=list(FILL_COLUMNS),
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
    items: Iterable[Any], counter: Iterator[int], charged: Mapping[Any, tuple[Any, Any]]
) -> list[_Fill]:
    """The fills of ``items`` with a non-zero amount, as exact (Decimal) or float numbers."""
    fills = (_fill(item, number, charged) for item, number in zip(items, counter, strict=False))
    return [fill for fill in fills if fill.amount]


def _fill(item: Any, number: int, charged: Mapping[Any, tuple[Any, Any]]) -> _Fill:
    """One fill from a dict (zipline's keys, or the ledger export's) or an object.

    Its amount and price are Decimals when its price is one, else floats. Its
    commission is its own, else its share (by amount) of its order's in
    ``charged``, else 0.
    """
    get = item.get if isinstance(item, dict) else lambda name: getattr(item, name, None)
    asset = get("asset")
    if asset is None:
        asset = get("sid")
    amount, price = get("amount"), get("price")
    if asset is None or amount is None or price is None:
        values = {"asset": asset, "amount": amount, "price": price}
        missing = [name for name, value in values.items() if value is None]
        raise ParameterValidationError(
            f"fill {number} ({item!r}) has no {', '.join(missing)}",
            context={"fill": number, "missing": missing},
        )
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
    if isinstance(price, Decimal) and not isinstance(commission, Decimal):
        commission = Decimal(str(commission))
    return _Fill(asset, get("dt"), amount, price, commission)


def _commission(
    own: Any, order_id: Any, amount: Any, charged: Mapping[Any, tuple[Any, Any]]
) -> Any:
    if own is not None:
        return own
    commission, filled = charged.get(order_id, (0.0, 0.0))
    if not commission or not filled:
        return 0.0
    # Decimal with Decimal (a ledger's), float with float (a performance frame's).
    return commission * abs(amount) / abs(filled)
