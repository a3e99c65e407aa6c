"""The ``csvdir`` bundle: a folder of per-symbol CSV files, zipline's layout.

::

    <csvdir>/daily/AAPL.csv
    <csvdir>/daily/MSFT.csv
    <csvdir>/minute/AAPL.csv

Each file has the columns ``date,open,high,low,close,volume`` and optionally
``dividend`` and ``split``, exactly as zipline's csvdir bundle reads them, so
a zipline user's folder ingests unchanged. Daily dates are session dates;
minute dates are UTC bar labels (``2024-01-02 14:31:00``, or with an offset).
The symbol is the file name without ``.csv``, upper-cased; sids are assigned
``0..N-1`` in sorted symbol order, the same sid for a symbol in every
timeframe.

A ``split`` value of 2.0 is a 2-for-1 split effective on that row's date
(prices before it are multiplied by 0.5); a non-zero ``dividend`` is a cash
dividend going ex on that row's date.

The ingest stores every row it is given or refuses the folder: a file with a
header but no row, rows dated outside the calendar, bars that break
validation's rules, implausible prices (above a ceiling, one-bar spikes) and
minute bars that disagree with the daily bars of the same symbol are all
reported in one :class:`~rustybt.exceptions.DataValidationError` naming every
bad file and row, and nothing is stored. Only rows outside a
``start_session``/``end_session`` the bundle was registered with are left
out, as in zipline, with a logged warning.

This module is the bundle itself (folders, sids, the asset and adjustment
tables); a timeframe's files are read by the bulk reader
(:mod:`~rustybt.data.bundles.csvdir_bulk`) when the folder is clean, else one
by one (:mod:`~rustybt.data.bundles.csvdir_files`), which names every bad row.

Examples
--------
>>> from rustybt.data import bundles
>>> from rustybt.data.bundles.csvdir import csvdir_equities
>>> bundles.register(
...     "my-csvs", csvdir_equities(["daily"], "/path/to/csvs"), calendar_name="XNYS"
... )  # doctest: +ELLIPSIS
<bound method CSVDIRBundle.ingest of CSVDIRBundle(tframes=['daily'], csvdir='/path/to/csvs')>
>>> bundles.unregister("my-csvs")
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from rustybt.calendars import ExchangeCalendar
from rustybt.data.bundles.csvdir_bulk import write_in_bulk
from rustybt.data.bundles.csvdir_files import (
    TFRAMES,
    Collected,
    FrameReader,
    TFrame,
    combine_errors,
    write_files,
)
from rustybt.data.bundles.progress import progress_bar
from rustybt.data.plausibility import (
    DEFAULT_MINUTE_DAILY_TOLERANCE,
    DEFAULT_PRICE_CEILING,
    DEFAULT_SPIKE_FACTOR,
    PriceLimits,
    minute_daily_error,
)
from rustybt.exceptions import ConfigValidationError, DataNotFoundError, DataValidationError

__all__ = ["CSVDIRBundle", "csvdir_equities"]

ENV_VAR: Final[str] = "CSVDIR"
EXCHANGE: Final[str] = "CSVDIR"

SPLIT_COLUMNS: Final[list[str]] = ["sid", "ratio", "effective_date"]
DIVIDEND_COLUMNS: Final[list[str]] = [
    "sid",
    "amount",
    "ex_date",
    "record_date",
    "declared_date",
    "pay_date",
]
EQUITY_COLUMNS: Final[list[str]] = [
    "symbol",
    "asset_name",
    "start_date",
    "end_date",
    "first_traded",
    "auto_close_date",
    "exchange",
]

IngestFunction = Callable[..., None]
# How many files the warning about rows left out names; the rest are counted.
MAX_FILES_IN_WARNING: Final[int] = 10

logger = logging.getLogger(__name__)


class CSVDIRBundle:
    """Ingest function of a csvdir bundle (zipline's class of the same name).

    Parameters
    ----------
    tframes
        Timeframes to ingest, from ``"daily"`` and ``"minute"``; default: those
        whose subfolder exists.
    csvdir
        The folder; default: ``environ["CSVDIR"]`` at ingest time.
    limits
        The price plausibility limits; default :class:`PriceLimits`'s. The
        ceiling and the spike factor go to the bar writers, whose validation
        applies them (as for every bundle); the minute-vs-daily tolerance is
        applied here, the one place that sees both timeframes of a symbol.
    """

    def __init__(
        self,
        tframes: Sequence[str] | None = None,
        csvdir: str | None = None,
        limits: PriceLimits | None = None,
    ) -> None:
        if tframes is not None:
            unknown = [t for t in tframes if t not in TFRAMES]
            if unknown:
                raise ConfigValidationError(
                    f"csvdir: unknown timeframe(s) {unknown}; use 'daily' and/or 'minute'",
                    context={"tframes": list(tframes)},
                )
        self.tframes = None if tframes is None else list(tframes)
        self.csvdir = csvdir
        self.limits = PriceLimits() if limits is None else limits

    def __repr__(self) -> str:
        return f"CSVDIRBundle(tframes={self.tframes!r}, csvdir={self.csvdir!r})"

    def __call__(
        self,
        environ: Mapping[str, str],
        asset_db_writer: Any,
        minute_bar_writer: Any,
        daily_bar_writer: Any,
        adjustment_writer: Any,
        calendar: ExchangeCalendar,
        start_session: pd.Timestamp | None,
        end_session: pd.Timestamp | None,
        cache: Any,
        show_progress: bool,
        output_dir: str,
    ) -> None:
        """Same as :meth:`ingest`."""
        self.ingest(
            environ,
            asset_db_writer,
            minute_bar_writer,
            daily_bar_writer,
            adjustment_writer,
            calendar,
            start_session,
            end_session,
            cache,
            show_progress,
            output_dir,
        )

    def ingest(
        self,
        environ: Mapping[str, str],
        asset_db_writer: Any,
        minute_bar_writer: Any,
        daily_bar_writer: Any,
        adjustment_writer: Any,
        calendar: ExchangeCalendar,
        start_session: pd.Timestamp | None,
        end_session: pd.Timestamp | None,
        cache: Any,
        show_progress: bool,
        output_dir: str,
    ) -> None:
        """Write the folder's bars, assets and adjustments (zipline's ingest signature).

        Raises
        ------
        DataNotFoundError
            If the folder (or ``$CSVDIR``) is unset or missing, or holds no CSV.
        DataValidationError
            If any file is empty or has bad rows: every bad file and row of
            the folder in one error (see :func:`csvdir_equities`), or if no
            row is left in the bundle's range.
        """
        root = self._root(environ)
        files = _find_files(root, self._tframes(root))
        symbols = sorted({symbol for by_symbol in files.values() for symbol in by_symbol})
        sids = {symbol: sid for sid, symbol in enumerate(symbols)}
        collected = Collected()
        writers = {"daily": daily_bar_writer, "minute": minute_bar_writer}
        for tframe, by_symbol in files.items():
            reader = FrameReader(tframe, calendar, start_session, end_session)
            with progress_bar(show_progress, len(by_symbol), f"csvdir {tframe}") as advance:
                writer = writers[tframe]
                bulk = write_in_bulk(
                    by_symbol, sids, reader, collected, writer, self.limits, show_progress
                )
                if bulk:
                    for symbol in by_symbol:
                        advance(symbol)
                else:
                    write_files(
                        by_symbol,
                        sids,
                        reader,
                        collected,
                        writer,
                        self.limits,
                        advance,
                        show_progress,
                    )
            # Every bar of the timeframe is in: the writer may encode its file
            # on the other core while the rest of the ingest goes on.
            start_finalize = getattr(writer, "start_finalize", None)
            if start_finalize is not None and not collected.errors:
                start_finalize()
        self._check_timeframes_agree(collected, symbols)
        if collected.errors:
            raise combine_errors(collected.errors)
        _warn_left_out(collected.left_out, start_session, end_session)
        if not collected.spans:
            folders = ", ".join(str(root / t) for t in files)
            raise DataValidationError(
                f"csvdir bundle: no row of {folders} falls in the bundle's sessions "
                f"{_day(start_session)} .. {_day(end_session)}; nothing to ingest",
                context={"csvdir": str(root)},
            )
        asset_db_writer.write(
            equities=_equities(collected.spans, symbols, calendar),
            exchanges=_exchanges(calendar),
        )
        splits = _concat(collected.splits, SPLIT_COLUMNS, ["sid", "effective_date"])
        dividends = _concat(collected.dividends, DIVIDEND_COLUMNS, ["sid", "ex_date"])
        adjustment_writer.write(splits=splits, dividends=dividends)

    def _check_timeframes_agree(self, collected: Collected, symbols: Sequence[str]) -> None:
        """Add an error for each symbol whose minute bars stray from its daily bars."""
        tolerance = self.limits.minute_daily_tolerance
        if tolerance is None:
            return
        daily, minute = collected.prices["daily"], collected.prices["minute"]
        for sid in sorted(daily.keys() & minute.keys()):
            error = minute_daily_error(symbols[sid], daily[sid], minute[sid], tolerance)
            if error is not None:
                collected.errors.append(error)

    def _root(self, environ: Mapping[str, str]) -> Path:
        if self.csvdir is None:
            value = environ.get(ENV_VAR)
            if not value:
                raise DataNotFoundError(
                    f"csvdir bundle: no folder given and ${ENV_VAR} is not set; set {ENV_VAR} "
                    "to a folder holding daily/ and/or minute/ subfolders of <SYMBOL>.csv files",
                    context={"env_var": ENV_VAR},
                )
            where = f"${ENV_VAR}={value}"
        else:
            value, where = self.csvdir, self.csvdir
        root = Path(value).expanduser()
        if not root.is_dir():
            raise DataNotFoundError(
                f"csvdir bundle: folder {where} does not exist",
                context={"csvdir": str(root), "env_var": ENV_VAR},
            )
        return root

    def _tframes(self, root: Path) -> list[TFrame]:
        if self.tframes is None:
            present = [t for t in TFRAMES if (root / t).is_dir()]
            if not present:
                raise DataNotFoundError(
                    f"csvdir bundle: {root} has no 'daily' or 'minute' subfolder",
                    context={"csvdir": str(root)},
                )
            return present
        wanted = [t for t in TFRAMES if t in self.tframes]
        for tframe in wanted:
            if not (root / tframe).is_dir():
                raise DataNotFoundError(
                    f"csvdir bundle: {root / tframe} does not exist",
                    context={"csvdir": str(root), "tframe": tframe},
                )
        return wanted


def csvdir_equities(
    tframes: Sequence[str] | None = None,
    csvdir: str | None = None,
    *,
    price_ceiling: float = DEFAULT_PRICE_CEILING,
    spike_factor: float | None = DEFAULT_SPIKE_FACTOR,
    minute_daily_tolerance: float | None = DEFAULT_MINUTE_DAILY_TOLERANCE,
) -> IngestFunction:
    """Return the ingest function of a csvdir bundle (zipline's signature).

    The ingest stores every row of every file or refuses the folder with one
    :class:`~rustybt.exceptions.DataValidationError` that names every bad
    file and row (its ``invalid_rows`` has a ``source`` column): a file with
    a header but no row, rows dated outside the calendar's sessions, bars
    that break validation's rules (missing or non-positive prices, high below
    low, off-calendar or unsorted dates, ...), and implausible prices (the
    three limits below). Rows inside the calendar but outside the
    ``start_session``/``end_session`` the bundle was registered with are left
    out, as in zipline, with a logged warning naming the files and counts.

    Parameters
    ----------
    tframes
        Timeframes to ingest, from ``["daily", "minute"]``; default: those
        whose subfolder exists.
    csvdir
        The folder; default: ``environ["CSVDIR"]`` at ingest time.
    price_ceiling
        Refuse a bar with an open, high, low or close above this (default
        1e9: above any traded share, far below float overflow).
    spike_factor
        Refuse a close more than this many times both its previous and its
        next close, or less than ``1/spike_factor`` times both: a one-bar
        spike (default 5). A large move that does not revert at once is kept.
        ``None`` turns the rule off.
    minute_daily_tolerance
        Refuse a symbol's minute bars where a session's last minute close
        differs from the daily close, or the minutes' high or low lies outside
        the daily high or low, by more than this fraction of the daily price
        (default 0.05); sessions with bars in one timeframe only are not
        compared. ``None`` turns the rule off.

    Returns
    -------
    callable
        ``ingest(environ, asset_db_writer, minute_bar_writer, daily_bar_writer,
        adjustment_writer, calendar, start_session, end_session, cache,
        show_progress, output_dir)``, for :func:`rustybt.data.bundles.register`.

    Raises
    ------
    ConfigValidationError
        If a limit is out of its range (a ceiling <= 0, a factor <= 1, a
        negative tolerance, or one not finite).
    """
    limits = PriceLimits(price_ceiling, spike_factor, minute_daily_tolerance)
    return CSVDIRBundle(tframes, csvdir, limits).ingest


def _warn_left_out(
    left_out: Mapping[str, int], start: pd.Timestamp | None, end: pd.Timestamp | None
) -> None:
    """Say which files had rows outside the registered range (the user's choice to leave out)."""
    if not left_out:
        return
    named = [f"{path} ({n})" for path, n in left_out.items()]
    shown = ", ".join(named[:MAX_FILES_IN_WARNING])
    if len(named) > MAX_FILES_IN_WARNING:
        shown += f" and {len(named) - MAX_FILES_IN_WARNING} more files"
    logger.warning(
        "csvdir bundle: left out %d rows outside the bundle's sessions %s .. %s "
        "(its start_session/end_session): %s",
        sum(left_out.values()),
        _day(start),
        _day(end),
        shown,
    )


def _day(session: pd.Timestamp | None) -> str:
    return "?" if session is None else f"{pd.Timestamp(session):%Y-%m-%d}"


# --- files ------------------------------------------------------------------


def _find_files(root: Path, tframes: Sequence[TFrame]) -> dict[TFrame, dict[str, Path]]:
    files: dict[TFrame, dict[str, Path]] = {}
    for tframe in tframes:
        by_symbol: dict[str, Path] = {}
        for path in sorted((root / tframe).iterdir()):
            if not path.is_file() or path.suffix.lower() != ".csv":
                continue
            symbol = path.stem.upper()
            if symbol in by_symbol:
                raise DataValidationError(
                    f"csvdir bundle: {by_symbol[symbol]} and {path} both give symbol {symbol}",
                    context={"source": str(path), "symbol": symbol},
                )
            by_symbol[symbol] = path
        files[tframe] = dict(sorted(by_symbol.items()))
    if not any(files.values()):
        folders = ", ".join(str(root / t) for t in tframes)
        raise DataNotFoundError(
            f"csvdir bundle: no .csv files in {folders}", context={"csvdir": str(root)}
        )
    return files


# --- assets and adjustments -------------------------------------------------


def _equities(
    spans: Mapping[int, tuple[pd.Timestamp, pd.Timestamp]],
    symbols: Sequence[str],
    calendar: ExchangeCalendar,
) -> pd.DataFrame:
    # Most assets end on the same day: look each last day up once.
    next_sessions = {last: _next_session(calendar, last) for last in {s[1] for s in spans.values()}}
    records = {
        sid: {
            "symbol": symbols[sid],
            "asset_name": symbols[sid],
            "start_date": first,
            "end_date": last,
            "first_traded": first,
            "auto_close_date": next_sessions[last],
            "exchange": EXCHANGE,
        }
        for sid, (first, last) in sorted(spans.items())
    }
    frame = pd.DataFrame.from_dict(records, orient="index", columns=EQUITY_COLUMNS)
    frame.index = pd.Index(frame.index, dtype=np.int64, name="sid")
    return frame


def _next_session(calendar: ExchangeCalendar, session: pd.Timestamp) -> pd.Timestamp:
    try:
        return pd.Timestamp(calendar.date_to_session(session + pd.Timedelta(days=1), "next"))
    except (ValueError, KeyError, IndexError):
        # Past the calendar's last session: the next calendar day will do.
        return session + pd.Timedelta(days=1)


def _exchanges(calendar: ExchangeCalendar) -> pd.DataFrame:
    return pd.DataFrame(
        {"exchange": [EXCHANGE], "canonical_name": [calendar.name], "country_code": ["US"]}
    )


def _concat(frames: list[pd.DataFrame], columns: list[str], key: list[str]) -> pd.DataFrame:
    """One frame from the per-file pieces; a daily row wins over a minute one."""
    if not frames:
        empty = {c: pd.Series(dtype=_dtype(c)) for c in columns}
        return pd.DataFrame(empty, columns=columns)
    out = pd.concat(frames, ignore_index=True)
    out = out.drop_duplicates(subset=key, keep="first").sort_values(key, kind="stable")
    return out.reset_index(drop=True)[columns]


def _dtype(column: str) -> str:
    if column == "sid":
        return "int64"
    if column in ("ratio", "amount"):
        return "float64"
    return "datetime64[ns]"
