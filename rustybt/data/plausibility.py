"""Plausibility of prices: a ceiling, one-bar spikes, and minute bars against daily bars.

:mod:`rustybt.data.validation` checks that each bar is well formed (finite,
positive, high above low, on the calendar). A well-formed bar can still be
impossible: a close of ``1e308`` overflows the portfolio's value later, a
close ten times its neighbours for one bar is a misplaced decimal point, and
minute bars three times the daily bar of the same session mix two price
scales in one backtest. The rules here find such bars, in array passes over
a whole file (or many files laid end to end) with no Python loop over clean
rows; strings are built only for the rows that fail.

The ceiling and the spike rule are part of
:func:`~rustybt.data.validation.validate_bars`, so every bar a bundle writer
stores (csvdir, the demo, a user's own ingest function) passes them; a
writer's ``write(..., price_limits=PriceLimits(...))`` sets them. The
minute-vs-daily rule needs both timeframes of a symbol at once, which one
writer never sees: the csvdir bundle applies it (:func:`minute_daily_error`).

Examples
--------
>>> import numpy as np
>>> close = np.array([10.0, 100.0, 10.5, 10.4])
>>> limits = PriceLimits()
>>> spike_rows(close, np.array([0]), limits.spike_factor).tolist()
[False, True, False, False]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.exceptions import ConfigValidationError, DataValidationError

__all__ = [
    "DEFAULT_MINUTE_DAILY_TOLERANCE",
    "DEFAULT_PRICE_CEILING",
    "DEFAULT_PRICE_LIMITS",
    "DEFAULT_SPIKE_FACTOR",
    "PRICE_COLUMNS",
    "PriceLimits",
    "SessionPrices",
    "ceiling_rows",
    "implausible_rows",
    "minute_daily_error",
    "price_reasons",
    "spike_rows",
]

#: The highest price a bar may have. Far above any traded share (Berkshire
#: Hathaway A trades below 1e6) and above split-adjusted histories, yet low
#: enough that prices times share counts stay far from float overflow.
DEFAULT_PRICE_CEILING: Final[float] = 1e9
#: A close this many times its previous close *and* its next close (or as
#: many times below both) is a one-bar spike: a misplaced decimal point or a
#: bad tick. Real moves of this size (a collapse, a takeover) do not revert
#: on the next bar.
DEFAULT_SPIKE_FACTOR: Final[float] = 5.0
#: How far (as a fraction) a session's minute bars may stray from its daily
#: bar: the last minute's close from the daily close, the minutes' high above
#: the daily high, their low below the daily low. Vendors' official closes
#: (closing auctions) differ from the last trade by well under 5%; a price
#: scale mixed up between the two (a split applied to one only) is far beyond.
DEFAULT_MINUTE_DAILY_TOLERANCE: Final[float] = 0.05

PRICE_COLUMNS: Final[tuple[str, ...]] = ("open", "high", "low", "close")
# The session prices of a file, named in the invalid rows of a disagreement.
DISAGREEMENT_COLUMNS: Final[list[str]] = [
    "dt",
    "daily_close",
    "minute_close",
    "daily_high",
    "minute_high",
    "daily_low",
    "minute_low",
    "reason",
]
# How many sessions the message of a disagreement spells out; the rest are counted.
MAX_SESSIONS_IN_MESSAGE: Final[int] = 5

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PriceLimits:
    """The plausibility limits of an ingest.

    Parameters
    ----------
    price_ceiling
        Prices above it are refused.
    spike_factor
        A close more than this many times its previous and its next close (or
        less than ``1 / spike_factor`` times both) is refused; ``None`` turns
        the rule off.
    minute_daily_tolerance
        How far, as a fraction, a session's minute bars may stray from its
        daily bar; ``None`` turns the rule off.

    Raises
    ------
    ConfigValidationError
        If the ceiling is not finite and positive, the factor not finite and
        above 1, or the tolerance not finite and non-negative.
    """

    price_ceiling: float = DEFAULT_PRICE_CEILING
    spike_factor: float | None = DEFAULT_SPIKE_FACTOR
    minute_daily_tolerance: float | None = DEFAULT_MINUTE_DAILY_TOLERANCE

    def __post_init__(self) -> None:
        checks = (
            ("price_ceiling", self.price_ceiling, 0.0, "a finite number > 0"),
            ("spike_factor", self.spike_factor, 1.0, "a finite number > 1, or None"),
        )
        for name, value, above, wanted in checks:
            if value is not None and not (_is_finite(value) and float(value) > above):
                raise ConfigValidationError(
                    f"{name} must be {wanted}, not {value!r}", context={name: value}
                )
        tolerance = self.minute_daily_tolerance
        if tolerance is not None and not (_is_finite(tolerance) and float(tolerance) >= 0.0):
            raise ConfigValidationError(
                f"minute_daily_tolerance must be a finite number >= 0, or None, not {tolerance!r}",
                context={"minute_daily_tolerance": tolerance},
            )


def _is_finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


#: The limits a writer applies unless it is given others.
DEFAULT_PRICE_LIMITS: Final[PriceLimits] = PriceLimits()


# --- per-bar rules -------------------------------------------------------------


def ceiling_rows(columns: Mapping[str, FloatArray], ceiling: float) -> BoolArray:
    """Rows with a finite price above ``ceiling`` (infinity and NaN are validation's)."""
    size = len(columns["close"])
    # Clean data costs one cheap reduction per column (a NaN makes max() NaN,
    # which fails the test and takes the full pass).
    if size == 0 or all(float(columns[name].max()) <= ceiling for name in PRICE_COLUMNS):
        return np.zeros(size, dtype=bool)
    above = np.zeros(size, dtype=bool)
    for name in PRICE_COLUMNS:
        above |= (columns[name] > ceiling) & (columns[name] < np.inf)
    return above


def spike_rows(close: FloatArray, starts: IntArray, factor: float | None) -> BoolArray:
    """Rows whose close is a one-bar spike: ``factor`` times both neighbours, or 1/factor.

    Only finite, positive closes with finite, positive neighbours can be
    spikes: a missing, infinite or non-positive price is validation's to
    report, once, as what it is.

    Parameters
    ----------
    close
        The closes of one or more sources laid end to end.
    starts
        The row where each source begins (increasing, the first 0): a source's
        first and last rows have no neighbour on one side and are never spikes.
    factor
        The spike factor; ``None`` finds none.
    """
    spike = np.zeros(close.size, dtype=bool)
    if factor is None or close.size < 3:
        return spike
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        # moves[i]: close[i + 1] / close[i]. Across two sources it is no move.
        moves = close[1:] / close[:-1]
    edges = starts[(starts > 0) & (starts < close.size)]
    moves[edges - 1] = 1.0
    # Clean data: no move beyond the factor either way (NaN takes the full pass).
    if float(moves.max()) <= factor and float(moves.min()) >= 1.0 / factor:
        return spike
    into, out_of = moves[:-1], moves[1:]
    up = (into > factor) & (out_of < 1.0 / factor)
    down = (into < 1.0 / factor) & (out_of > factor)
    # A non-positive or non-finite price is validation's to report, not a move
    # (NaN fails both comparisons).
    sane = (close > 0.0) & (close < np.inf)
    spike[1:-1] = (up | down) & sane[1:-1] & sane[:-2] & sane[2:]
    return spike


def implausible_rows(
    columns: Mapping[str, FloatArray], starts: IntArray, limits: PriceLimits
) -> BoolArray:
    """Rows of one or more sources laid end to end that break the ceiling or the spike rule.

    Parameters
    ----------
    columns
        The float64 price columns ``open, high, low, close`` of every row.
    starts
        The row where each source begins (increasing, the first 0).
    limits
        The ceiling and the spike factor.
    """
    above = ceiling_rows(columns, limits.price_ceiling)
    return above | spike_rows(columns["close"], starts, limits.spike_factor)


def price_reasons(
    columns: Mapping[str, FloatArray], limits: PriceLimits
) -> tuple[IntArray, list[str]]:
    """The rows of one source that break the ceiling or spike rule, and why.

    Parameters
    ----------
    columns
        The source's float64 price columns ``open, high, low, close``.
    limits
        The ceiling and the spike factor.

    Returns
    -------
    tuple
        The 0-based positions (increasing) and one reason per position.
    """
    close = columns["close"]
    above = ceiling_rows(columns, limits.price_ceiling)
    spike = spike_rows(close, np.zeros(1, dtype=np.int64), limits.spike_factor)
    positions = np.flatnonzero(above | spike).astype(np.int64)
    reasons: list[str] = []
    for i in positions.tolist():
        if above[i]:
            # An infinite price beside a finite one above the ceiling is
            # validation's to name ("is inf"), not the ceiling's.
            names = [n for n in PRICE_COLUMNS if limits.price_ceiling < columns[n][i] < np.inf]
            shown = ", ".join(f"{n} {float(columns[n][i])!r}" for n in names)
            reasons.append(f"{shown} above the price ceiling {limits.price_ceiling:g}")
        else:
            ratio = close[i] / close[i - 1]
            times = f"{ratio:.3g}x" if ratio > 1 else f"1/{1 / ratio:.3g}x"
            reasons.append(
                f"close {float(close[i])!r} is {times} the previous close "
                f"{float(close[i - 1])!r} and reverts to {float(close[i + 1])!r} on the next bar "
                f"(a one-bar spike beyond the factor {limits.spike_factor:g})"
            )
    return positions, reasons


# --- minute bars against daily bars ---------------------------------------------


@dataclass(frozen=True)
class SessionPrices:
    """One file's close, high and low per session, for comparing timeframes.

    Attributes
    ----------
    source
        The file.
    sessions
        int64 nanoseconds of each session's midnight (tz-naive), increasing.
    close, high, low
        The session's close (for minute bars: the last minute's), highest
        high and lowest low.
    """

    source: str
    sessions: IntArray
    close: FloatArray
    high: FloatArray
    low: FloatArray

    @classmethod
    def of_bars(
        cls, source: str, sessions: IntArray, columns: Mapping[str, FloatArray]
    ) -> SessionPrices:
        """Aggregate daily or minute bars whose ``sessions`` (one per bar) do not decrease."""
        if sessions.size == 0:
            empty = np.empty(0, dtype=np.float64)
            return cls(source, sessions, empty, empty, empty)
        starts = np.flatnonzero(np.r_[True, sessions[1:] != sessions[:-1]])
        lasts = np.r_[starts[1:] - 1, sessions.size - 1]
        return cls(
            source,
            sessions[starts],
            columns["close"][lasts],
            np.maximum.reduceat(columns["high"], starts),
            np.minimum.reduceat(columns["low"], starts),
        )


def minute_daily_error(
    symbol: str, daily: SessionPrices, minute: SessionPrices, tolerance: float
) -> DataValidationError | None:
    """The error for the sessions where ``minute`` strays from ``daily``; None if none do.

    A session is refused when its last minute's close differs from the daily
    close by more than ``tolerance`` times the daily close, or its minutes
    reach above the daily high or below the daily low by more than that.
    Sessions with bars in one timeframe only are not compared.
    """
    _, d, m = np.intersect1d(daily.sessions, minute.sessions, return_indices=True)
    if d.size == 0:
        return None
    d_close, m_close = daily.close[d], minute.close[m]
    d_high, m_high = daily.high[d], minute.high[m]
    d_low, m_low = daily.low[d], minute.low[m]
    close_off = np.abs(m_close - d_close) > tolerance * d_close
    high_off = m_high > d_high * (1.0 + tolerance)
    low_off = m_low < d_low * (1.0 - tolerance)
    off = np.flatnonzero(close_off | high_off | low_off)
    if off.size == 0:
        return None
    reasons = []
    for k in off.tolist():
        parts = []
        if close_off[k]:
            parts.append(f"last minute close {_num(m_close[k])} vs daily close {_num(d_close[k])}")
        if high_off[k]:
            parts.append(f"minute high {_num(m_high[k])} above daily high {_num(d_high[k])}")
        if low_off[k]:
            parts.append(f"minute low {_num(m_low[k])} below daily low {_num(d_low[k])}")
        reasons.append(", ".join(parts))
    days = pd.DatetimeIndex(daily.sessions[d[off]].view("M8[ns]"))
    invalid = pd.DataFrame(
        {
            "dt": days,
            "daily_close": d_close[off],
            "minute_close": m_close[off],
            "daily_high": d_high[off],
            "minute_high": m_high[off],
            "daily_low": d_low[off],
            "minute_low": m_low[off],
            "reason": reasons,
        },
        columns=DISAGREEMENT_COLUMNS,
    )
    shown = "; ".join(
        f"{day:%Y-%m-%d}: {why}"
        for day, why in zip(days[:MAX_SESSIONS_IN_MESSAGE], reasons, strict=False)
    )
    rest = off.size - min(off.size, MAX_SESSIONS_IN_MESSAGE)
    more = f"; and {rest} more session{'s' if rest != 1 else ''}" if rest else ""
    message = (
        f"{minute.source}: {symbol}'s minute bars disagree with its daily bars "
        f"({daily.source}) by more than {tolerance * 100:g}% in {off.size} "
        f"session{'s' if off.size != 1 else ''}: {shown}{more}"
    )
    return DataValidationError(
        message,
        invalid_rows=invalid,
        context={"source": minute.source, "symbol": symbol, "n_invalid": int(off.size)},
    )


def _num(value: float) -> str:
    return repr(float(value))
