"""OHLCV bar and adjustment validation.

Every bar that enters a bundle passes through :func:`validate_bars`, and every
split or dividend through :func:`validate_adjustments`. A violation raises
:class:`~rustybt.exceptions.DataValidationError` whose message names the
source (a file path, ``"sid 3"``, ...) and the offending rows, and whose
``invalid_rows`` holds one row per offence, so a user can fix a CSV without
guessing.

The checks are vectorized over NumPy arrays: a clean frame costs a handful
of array passes and no Python loop over rows. Strings are only built for the
rows that fail.

Examples
--------
>>> import pandas as pd
>>> bars = pd.DataFrame(
...     {"open": [10.0, 10.5], "high": [11.0, 9.5], "low": [9.5, 10.0],
...      "close": [10.5, 10.2], "volume": [1000, 1200]},
...     index=pd.to_datetime(["2020-01-02", "2020-01-03"]),
... )
>>> try:
...     validate_bars(bars, frequency="daily", valid_index=None, source="AAPL.csv")
... except DataValidationError as err:
...     print(err)
AAPL.csv: 1 invalid row: row 2 (2020-01-03): high 9.5 < low 10.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.data.plausibility import (
    DEFAULT_PRICE_LIMITS,
    PRICE_COLUMNS,
    PriceLimits,
    implausible_rows,
    price_reasons,
)
from rustybt.exceptions import DataValidationError

__all__ = [
    "OHLCV_COLUMNS",
    "invalid_rows_error",
    "screen_bar_arrays",
    "validate_adjustments",
    "validate_bars",
]

OHLCV_COLUMNS: Final[tuple[str, ...]] = (*PRICE_COLUMNS, "volume")

# How many offending rows the message spells out; the rest are counted.
MAX_ROWS_IN_MESSAGE: Final[int] = 10

INVALID_ROW_COLUMNS: Final[list[str]] = [
    "row",
    "dt",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "reason",
]
INVALID_ADJUSTMENT_COLUMNS: Final[list[str]] = ["table", "row", "sid", "date", "value", "reason"]

# An object Index built once: a list would be re-inferred as strings on every call.
_OUT_COLUMNS: Final[pd.Index] = pd.Index(list(OHLCV_COLUMNS), dtype=object)
_DAY_NS: Final[int] = 86_400_000_000_000
_NAT: Final[int] = np.iinfo(np.int64).min

Frequency = Literal["daily", "minute"]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class _Offence:
    """Rows (0-based positions) that broke one rule, and why, row by row."""

    positions: IntArray
    reasons: list[str]


# --- bars -------------------------------------------------------------------


def validate_bars(
    frame: pd.DataFrame,
    *,
    frequency: Frequency,
    valid_index: pd.DatetimeIndex | None,
    source: str,
    limits: PriceLimits = DEFAULT_PRICE_LIMITS,
) -> pd.DataFrame:
    """Check OHLCV bars and return them normalised.

    Parameters
    ----------
    frame
        Bars indexed by timestamp (daily: session dates, tz-naive or UTC
        midnight; minute: UTC minute labels, naive values are read as UTC),
        with columns ``open, high, low, close, volume``; other columns are
        ignored. ``frame.attrs["first_line"]`` (the file line of the first
        data row) adds file line numbers to the message, and
        ``frame.attrs["row_numbers"]`` (1-based data-row numbers, one per row)
        keeps row numbers right when the reader dropped rows of the file.
    frequency
        ``"daily"`` or ``"minute"``.
    valid_index
        The calendar sessions (daily) or trading minutes (minute) the bars
        may fall on, in increasing order; ``None`` skips that check.
    source
        What the bars came from, named in the error (a path, ``"sid 3"``).
    limits
        The price ceiling and spike factor
        (:class:`~rustybt.data.plausibility.PriceLimits`; default its defaults).

    Returns
    -------
    pandas.DataFrame
        A new frame with only the five OHLCV columns as float64, indexed by a
        DatetimeIndex (daily: tz-naive midnight; minute: UTC). The input is
        never modified.

    Raises
    ------
    DataValidationError
        If a column is missing, or any row has a missing or non-positive
        price, a negative volume, a high below open/close/low, a low above
        open/close, a finite price above ``limits.price_ceiling``, a close that
        is a one-bar spike beyond ``limits.spike_factor``, or a missing,
        duplicate, out-of-order or off-calendar timestamp (a non-finite price
        is reported as such, never as a spike or above the ceiling).
        ``invalid_rows`` has one row per offence with columns
        ``row, dt, open, high, low, close, volume, reason``.
    """
    _require_columns(frame, OHLCV_COLUMNS, source)
    index = _normalise_index(frame.index, frequency)
    values, not_numbers = _numeric_columns(frame)
    columns = {name: values[:, k] for k, name in enumerate(OHLCV_COLUMNS)}
    offences = _value_offences(columns, not_numbers)
    positions, reasons = price_reasons(columns, limits)
    if positions.size:
        offences.append(_Offence(positions, reasons))
    offences += _time_offences(index, frequency, valid_index)
    if offences:
        raise _bars_error(frame, index, columns, offences, frequency, source)
    out = pd.DataFrame(values, index=index, columns=_OUT_COLUMNS, copy=False)
    out.attrs = dict(frame.attrs)
    return out


def screen_bar_arrays(
    times: IntArray,
    columns: Sequence[FloatArray],
    starts: IntArray,
    *,
    frequency: Frequency,
    valid_index: pd.DatetimeIndex | None,
    limits: PriceLimits = DEFAULT_PRICE_LIMITS,
) -> tuple[IntArray, BoolArray]:
    """Check the bars of many sources at once, laid end to end in flat arrays.

    The same rules as :func:`validate_bars` in a few passes over the whole
    arrays, with no per-source work: the fast way to accept a large batch of
    clean bars. It only finds *which* rows fail; to report them, run
    :func:`validate_bars` on the sources that hold them.

    Parameters
    ----------
    times
        int64 nanosecond timestamps of every row (NaT as ``iinfo(int64).min``);
        daily values are tz-naive, minute values UTC.
    columns
        The float64 ``open, high, low, close, volume`` columns, each as long
        as ``times``.
    starts
        The row where each source begins, increasing, the first 0 (sources
        may be empty).
    frequency
        ``"daily"`` or ``"minute"``.
    valid_index
        The calendar sessions or minutes the bars may fall on; ``None`` skips
        that check.
    limits
        The price ceiling and spike factor, as for :func:`validate_bars`.

    Returns
    -------
    tuple of numpy.ndarray
        The timestamps as :func:`validate_bars` returns them (daily values
        floored to midnight) and a mask of the rows that break a rule. A
        source has a flagged row exactly when :func:`validate_bars` rejects
        it, though the rows flagged may differ (for an out-of-order pair this
        marks the later row only).

    Examples
    --------
    >>> import numpy as np
    >>> day = 86_400 * 10**9
    >>> times = np.array([0, day, 0, 0], dtype=np.int64)
    >>> prices = np.array([1.0, 1.0, 1.0, 1.0])
    >>> _, bad = screen_bar_arrays(
    ...     times, [prices] * 5, np.array([0, 2]), frequency="daily", valid_index=None
    ... )
    >>> bad.tolist()
    [False, False, False, True]
    """
    open_, high, low, close, volume = columns
    # validate_bars' value rules in fewer passes: with open and close between
    # low and high (NaN fails every comparison, and np.maximum/np.minimum
    # propagate it), a positive low and a finite high make every price finite
    # and positive, and high >= low follows.
    ok = (volume >= 0.0) & (volume < np.inf)
    ok &= low > 0.0
    ok &= high < np.inf
    ok &= high >= np.maximum(open_, close)
    ok &= low <= np.minimum(open_, close)
    prices = dict(zip(PRICE_COLUMNS, (open_, high, low, close), strict=True))
    ok &= ~implausible_rows(prices, starts, limits)
    nat = times == _NAT
    stamps = times
    if frequency == "daily":
        # Sessions are midnights: validate_bars floors any time of day away.
        stamps = np.where(nat, _NAT, times - times % _DAY_NS)
    ok &= ~nat
    # Strictly increasing within each source: a duplicate or a step back
    # fails; the first row of a source has no predecessor to compare with.
    increasing = np.ones(stamps.size, dtype=bool)
    increasing[1:] = stamps[1:] > stamps[:-1]
    first_rows = starts[starts < stamps.size]
    increasing[first_rows] = True
    ok &= increasing
    if valid_index is not None:
        valid = _normalise_index(valid_index, frequency).asi8
        if valid.size > 1 and not (valid[1:] >= valid[:-1]).all():
            valid = np.sort(valid)
        if valid.size and frequency == "daily":
            ok &= _on_sessions(stamps, valid)
        elif valid.size:
            where = np.minimum(np.searchsorted(valid, stamps), valid.size - 1)
            ok &= valid[where] == stamps
        else:
            ok[:] = False  # no session at all: every row is off the calendar
    return stamps, ~ok


def _on_sessions(days: IntArray, sessions: IntArray) -> BoolArray:
    """Whether each midnight in ``days`` is one of the sorted midnights ``sessions``.

    A lookup by day number: cheaper than a binary search per row.
    """
    first, last = int(sessions[0]), int(sessions[-1])
    inside = (days >= first) & (days <= last)
    is_session = np.zeros((last - first) // _DAY_NS + 1, dtype=bool)
    is_session[(sessions - first) // _DAY_NS] = True
    offsets = (np.where(inside, days, first) - first) // _DAY_NS
    return inside & is_session[offsets]


def _require_columns(frame: pd.DataFrame, required: Sequence[str], source: str) -> None:
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{source}: missing required column(s) {', '.join(missing)}; "
            f"expected {', '.join(required)} (found {_found(frame.columns)})",
            invalid_rows=pd.DataFrame(columns=INVALID_ROW_COLUMNS),
            context={"source": source, "missing_columns": missing, "n_invalid": 0},
        )


def _found(columns: pd.Index) -> str:
    return ", ".join(map(str, columns)) if len(columns) else "no column besides the dates"


def _normalise_index(index: pd.Index, frequency: Frequency) -> pd.DatetimeIndex:
    """Return ``index`` as nanosecond timestamps: naive dates or UTC minutes."""
    if isinstance(index, pd.DatetimeIndex):
        dti = index
    else:
        # Unparseable labels become NaT, which is reported as a missing date.
        dti = pd.DatetimeIndex(pd.to_datetime(index, errors="coerce", utc=True))
    if frequency == "minute":
        dti = dti.tz_localize("UTC") if dti.tz is None else dti.tz_convert("UTC")
        return dti.as_unit("ns")
    # A session is a calendar date: keep the wall-clock date of aware values.
    if dti.tz is not None:
        dti = dti.tz_localize(None)
    dti = dti.as_unit("ns")
    # Floor to midnight on the integers: DatetimeIndex.normalize() infers a
    # frequency on every call, which dominates the cost of a clean frame.
    stamps = dti.asi8
    nat = stamps == _NAT
    remainder = stamps % _DAY_NS
    if not (remainder[~nat] != 0).any():
        return dti
    floored = np.where(nat, _NAT, stamps - remainder)
    return pd.DatetimeIndex(floored.view("M8[ns]"), name=dti.name)


def _numeric_columns(frame: pd.DataFrame) -> tuple[FloatArray, dict[str, dict[int, object]]]:
    """Copy the OHLCV columns out as one float64 (rows x 5) array.

    Returns the array and, per column, the original cells that were not
    numbers (by row position); those cells are NaN in the array.
    """
    # Fortran order: each column is contiguous, as the DataFrame block wants.
    values = np.empty((len(frame), len(OHLCV_COLUMNS)), dtype=np.float64, order="F")
    not_numbers: dict[str, dict[int, object]] = {}
    for k, name in enumerate(OHLCV_COLUMNS):
        series = frame[name]
        if _is_number_dtype(series.dtype):
            values[:, k] = series.to_numpy(dtype=np.float64, na_value=np.nan)
            continue
        coerced = pd.to_numeric(series, errors="coerce")
        values[:, k] = coerced.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.flatnonzero(np.isnan(values[:, k]) & series.notna().to_numpy())
        if bad.size:
            text = series.to_numpy(dtype=object)
            not_numbers[name] = {int(i): text[i] for i in bad}
    return values, not_numbers


def _is_number_dtype(dtype: Any) -> bool:
    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


def _value_offences(
    columns: dict[str, FloatArray], not_numbers: dict[str, dict[int, object]]
) -> list[_Offence]:
    """OHLCV value rules: finite, positive prices, non-negative volume, ranges."""
    offences: list[_Offence] = []
    for name in OHLCV_COLUMNS:
        values = columns[name]
        bad = ~np.isfinite(values)
        if bad.any():
            offences.append(_missing_rule(bad, values, name, not_numbers.get(name, {})))
    for name in PRICE_COLUMNS:
        values = columns[name]
        # -inf is reported once, above, as not finite.
        bad = (values <= 0.0) & (values > -np.inf)
        if bad.any():
            offences.append(_value_rule(bad, values, name + " {} <= 0"))
    volume = columns["volume"]
    bad = (volume < 0.0) & (volume > -np.inf)
    if bad.any():
        offences.append(_value_rule(bad, volume, "volume {} < 0"))
    offences += _range_offences(columns)
    return offences


def _missing_rule(
    mask: BoolArray, values: FloatArray, name: str, text: dict[int, object]
) -> _Offence:
    def reason(i: int) -> str:
        if i in text:
            return f"{name} {text[i]!r} is not a number"
        if np.isnan(values[i]):
            return f"{name} is missing (NaN)"
        return f"{name} is {_num(values[i])}"

    return _rule(mask, reason)


def _range_offences(columns: dict[str, FloatArray]) -> list[_Offence]:
    """High/low must bracket open and close."""
    open_, high, low, close = (columns[name] for name in PRICE_COLUMNS)
    offences: list[_Offence] = []
    # A missing or non-positive price is already reported; comparing it with
    # the others would only add noise ("low 9.5 > open -1.0").
    sane = np.ones(len(open_), dtype=bool)
    for values in (open_, high, low, close):
        sane &= values > 0.0
        sane &= values < np.inf
    crossed = (high < low) & sane
    if crossed.any():
        offences.append(_rule(crossed, lambda i: f"high {_num(high[i])} < low {_num(low[i])}"))
    # A crossed bar necessarily breaks one of the rules below too; saying
    # "high < low" once is the clearer report.
    top = np.fmax(open_, close)
    bad_high = (high < top) & sane & ~crossed
    if bad_high.any():

        def high_reason(i: int) -> str:
            name = "open" if open_[i] >= close[i] else "close"
            return f"high {_num(high[i])} < {name} {_num(top[i])}"

        offences.append(_rule(bad_high, high_reason))
    bottom = np.fmin(open_, close)
    bad_low = (low > bottom) & sane & ~crossed
    if bad_low.any():

        def low_reason(i: int) -> str:
            name = "open" if open_[i] <= close[i] else "close"
            return f"low {_num(low[i])} > {name} {_num(bottom[i])}"

        offences.append(_rule(bad_low, low_reason))
    return offences


def _time_offences(
    index: pd.DatetimeIndex, frequency: Frequency, valid_index: pd.DatetimeIndex | None
) -> list[_Offence]:
    """Timestamp rules: present, unique, increasing, on the calendar."""
    stamps = index.asi8
    if stamps.size == 0:
        return []
    what = "date" if frequency == "daily" else "timestamp"
    offences: list[_Offence] = []
    nat = np.asarray(index.isna(), dtype=bool)
    if nat.any():
        offences.append(_rule(nat, lambda i: f"{what} is missing or could not be parsed"))
    diffs = np.diff(stamps)
    # Fast path: a strictly increasing index has no duplicates and no disorder.
    if nat.any() or (diffs <= 0).any():
        offences += _order_offences(index, ~nat, what)
    if valid_index is not None:
        offences += _calendar_offences(index, ~nat, frequency, valid_index)
    return offences


def _order_offences(index: pd.DatetimeIndex, present: BoolArray, what: str) -> list[_Offence]:
    positions = np.flatnonzero(present)
    stamps = index.asi8[positions]
    offences: list[_Offence] = []
    _, first, inverse = np.unique(stamps, return_index=True, return_inverse=True)
    first_pos = positions[first[inverse]]
    duplicate = first_pos != positions
    if duplicate.any():
        dup_pos = positions[duplicate]
        of = dict(zip(dup_pos.tolist(), first_pos[duplicate].tolist(), strict=True))
        offences.append(
            _Offence(
                dup_pos.astype(np.int64),
                [f"duplicate {what} (same as row {of[i] + 1})" for i in dup_pos.tolist()],
            )
        )
    # A duplicate is already reported; only flag real disorder on top of it.
    backwards = np.zeros(positions.size, dtype=bool)
    backwards[1:] = stamps[1:] < stamps[:-1]
    backwards &= ~duplicate
    if backwards.any():
        idx = np.flatnonzero(backwards)
        reasons = [
            f"{what} is earlier than the previous row's {_stamp(index[positions[k - 1]])} "
            "(rows must be in increasing order)"
            for k in idx.tolist()
        ]
        offences.append(_Offence(positions[idx].astype(np.int64), reasons))
    return offences


def _calendar_offences(
    index: pd.DatetimeIndex,
    present: BoolArray,
    frequency: Frequency,
    valid_index: pd.DatetimeIndex,
) -> list[_Offence]:
    valid = _normalise_index(valid_index, frequency).asi8
    if valid.size > 1 and not (valid[1:] >= valid[:-1]).all():
        valid = np.sort(valid)
    stamps = index.asi8
    # searchsorted keeps this O(n log m) with no sort of a long minute index.
    where = np.searchsorted(valid, stamps)
    found = np.zeros(stamps.size, dtype=bool)
    inside = where < valid.size
    found[inside] = valid[where[inside]] == stamps[inside]
    off = present & ~found
    if not off.any():
        return []
    kind = "trading session" if frequency == "daily" else "trading minute"
    span = ""
    if valid.size:
        first, last = _stamp(pd.Timestamp(valid[0])), _stamp(pd.Timestamp(valid[-1]))
        if frequency == "minute":
            first = _stamp(pd.Timestamp(valid[0], tz="UTC"))
            last = _stamp(pd.Timestamp(valid[-1], tz="UTC"))
        span = f" in {first} .. {last}"
    return [_rule(off, lambda i: f"not a {kind} of the calendar{span}")]


def _rule(mask: BoolArray, reason: Callable[[int], str]) -> _Offence:
    positions = np.flatnonzero(mask).astype(np.int64)
    return _Offence(positions, [reason(i) for i in positions.tolist()])


def _value_rule(mask: BoolArray, values: FloatArray, template: str) -> _Offence:
    """Offence whose reason is ``template`` with the offending value filled in."""
    positions = np.flatnonzero(mask).astype(np.int64)
    return _Offence(positions, [template.format(_num(values[i])) for i in positions.tolist()])


def _bars_error(
    frame: pd.DataFrame,
    index: pd.DatetimeIndex,
    columns: dict[str, FloatArray],
    offences: list[_Offence],
    frequency: Frequency,
    source: str,
) -> DataValidationError:
    positions = np.concatenate([o.positions for o in offences])
    reasons = [r for o in offences for r in o.reasons]
    # Stable sort: a row's offences stay in rule order.
    order = np.argsort(positions, kind="stable")
    positions = positions[order]
    reasons = [reasons[k] for k in order.tolist()]
    row_numbers = _row_numbers(frame, len(index))[positions]
    stamps = index[positions]
    invalid = pd.DataFrame(
        {
            "row": row_numbers,
            "dt": stamps,
            **{name: columns[name][positions] for name in OHLCV_COLUMNS},
            "reason": reasons,
        },
        columns=INVALID_ROW_COLUMNS,
    )
    first_line = frame.attrs.get("first_line")
    labels = [
        _row_label(int(row), stamp, first_line, frequency)
        for row, stamp in zip(row_numbers.tolist(), stamps, strict=True)
    ]
    n_rows = len(dict.fromkeys(row_numbers.tolist()))
    message = _summarise(source, labels, reasons, n_rows)
    return DataValidationError(
        message,
        invalid_rows=invalid,
        context={"source": source, "n_invalid": n_rows, "n_offences": len(reasons)},
    )


def invalid_rows_error(
    source: str,
    rows: Sequence[int],
    stamps: Sequence[pd.Timestamp],
    values: Sequence[object],
    reasons: Sequence[str],
    *,
    first_line: int | None = None,
    frequency: Frequency = "daily",
) -> DataValidationError:
    """Build the error for file rows that broke a rule outside the OHLCV set.

    Readers use it for their own columns (a CSV's ``split`` or ``dividend``)
    so that every row error reads the same way as those of
    :func:`validate_bars`.

    Parameters
    ----------
    source
        The file or sid at fault.
    rows
        1-based data-row numbers, one per offence.
    stamps
        The row's timestamp, one per offence.
    values
        The offending cell, one per offence.
    reasons
        Why each row is invalid.
    first_line
        The file line of data row 1, to add line numbers.
    frequency
        How to print the timestamps.

    Returns
    -------
    DataValidationError
        With ``invalid_rows`` columns ``row, dt, value, reason``.
    """
    labels = [
        _row_label(int(row), pd.Timestamp(stamp), first_line, frequency)
        for row, stamp in zip(rows, stamps, strict=True)
    ]
    invalid = pd.DataFrame(
        {"row": list(rows), "dt": list(stamps), "value": list(values), "reason": list(reasons)}
    )
    n_rows = len(dict.fromkeys(rows))
    return DataValidationError(
        _summarise(source, labels, list(reasons), n_rows),
        invalid_rows=invalid,
        context={"source": source, "n_invalid": n_rows, "n_offences": len(reasons)},
    )


def _row_numbers(frame: pd.DataFrame, n: int) -> IntArray:
    given = frame.attrs.get("row_numbers")
    if given is not None and len(given) == n:
        return np.asarray(given, dtype=np.int64)
    return np.arange(1, n + 1, dtype=np.int64)


def _row_label(row: int, stamp: pd.Timestamp, first_line: Any, frequency: Frequency) -> str:
    when = _stamp(stamp) if frequency == "minute" or pd.isna(stamp) else f"{stamp:%Y-%m-%d}"
    if isinstance(first_line, int | np.integer):
        return f"row {row} (line {int(first_line) + row - 1}, {when})"
    return f"row {row} ({when})"


def _summarise(
    source: str, labels: list[str], reasons: list[str], n_rows: int, what: str = "row"
) -> str:
    """``source: N invalid rows: row 5 (...): reason, reason; row 9 (...): reason``."""
    grouped: dict[str, list[str]] = {}
    for label, reason in zip(labels, reasons, strict=True):
        grouped.setdefault(label, []).append(reason)
    shown = list(grouped.items())[:MAX_ROWS_IN_MESSAGE]
    parts = [f"{label}: {', '.join(why)}" for label, why in shown]
    message = f"{source}: {n_rows} invalid {_plural(what, n_rows)}: " + "; ".join(parts)
    rest = n_rows - len(shown)
    if rest > 0:
        message += f"; and {rest} more invalid {_plural(what, rest)}"
    return message


def _plural(noun: str, count: int) -> str:
    return noun if count == 1 else noun + "s"


def _num(value: float) -> str:
    return repr(float(value))


def _stamp(value: pd.Timestamp) -> str:
    if pd.isna(value):
        return "NaT"
    if value.tz is None and value == value.normalize():
        return f"{value:%Y-%m-%d}"
    return str(value)


# --- adjustments ------------------------------------------------------------


def validate_adjustments(
    splits: pd.DataFrame | None,
    dividends: pd.DataFrame | None,
    known_sids: set[int],
    source: str,
) -> None:
    """Check split and dividend frames in zipline's adjustment-writer format.

    Parameters
    ----------
    splits
        Columns ``sid, ratio, effective_date``; ``None`` skips the check.
    dividends
        Columns ``sid, amount, ex_date`` (and optionally ``record_date``,
        ``declared_date``, ``pay_date``, which may be NaT); ``None`` skips.
    known_sids
        The sids of the bundle's assets.
    source
        What the adjustments came from, named in the error.

    Raises
    ------
    DataValidationError
        If a column is missing, a split ratio is not finite and positive, a
        dividend amount is not finite and non-negative, a sid is unknown, or
        a date is missing. ``invalid_rows`` has columns
        ``table, row, sid, date, value, reason`` (``row`` 1-based).
    """
    records: list[dict[str, Any]] = []
    if splits is not None:
        records += _adjustment_offences(
            splits, "splits", "ratio", "effective_date", known_sids, source, positive=True
        )
    if dividends is not None:
        records += _adjustment_offences(
            dividends, "dividends", "amount", "ex_date", known_sids, source, positive=False
        )
    if not records:
        return
    invalid = pd.DataFrame.from_records(records, columns=INVALID_ADJUSTMENT_COLUMNS)
    labels = [
        f"{rec['table']} row {rec['row']} (sid {_sid_text(rec['sid'])}, {_stamp(rec['date'])})"
        for rec in records
    ]
    n_rows = len(dict.fromkeys(zip(invalid["table"], invalid["row"], strict=True)))
    raise DataValidationError(
        _summarise(source, labels, list(invalid["reason"]), n_rows, what="adjustment row"),
        invalid_rows=invalid,
        context={"source": source, "n_invalid": n_rows, "n_offences": len(records)},
    )


def _adjustment_offences(
    frame: pd.DataFrame,
    table: str,
    value_column: str,
    date_column: str,
    known_sids: set[int],
    source: str,
    *,
    positive: bool,
) -> list[dict[str, Any]]:
    missing = [c for c in ("sid", value_column, date_column) if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{source}: {table} missing required column(s) {', '.join(missing)}",
            invalid_rows=pd.DataFrame(columns=INVALID_ADJUSTMENT_COLUMNS),
            context={"source": source, "table": table, "missing_columns": missing},
        )
    sids = pd.to_numeric(frame["sid"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    values = pd.to_numeric(frame[value_column], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    dates = pd.DatetimeIndex(pd.to_datetime(frame[date_column], errors="coerce"))
    known = np.fromiter(known_sids, dtype=np.float64, count=len(known_sids))
    checks: list[tuple[BoolArray, Callable[[int], str]]] = [
        (~np.isfinite(values), lambda i: f"{value_column} is {_num(values[i])}"),
        (
            (values <= 0.0) if positive else (values < 0.0),
            lambda i: f"{value_column} {_num(values[i])} {'<=' if positive else '<'} 0",
        ),
        (~np.isin(sids, known), lambda i: f"unknown sid {_sid_text(sids[i])}"),
        (np.asarray(dates.isna()), lambda i: f"{date_column} is missing"),
    ]
    records: list[dict[str, Any]] = []
    for mask, reason in checks:
        for i in np.flatnonzero(mask).tolist():
            records.append(
                {
                    "table": table,
                    "row": i + 1,
                    "sid": sids[i],
                    "date": dates[i],
                    "value": values[i],
                    "reason": reason(i),
                }
            )
    records.sort(key=lambda rec: rec["row"])
    return records


def _sid_text(sid: Any) -> str:
    value = float(sid)
    if np.isnan(value):
        return "NaN"
    return str(int(value)) if value.is_integer() else repr(value)
