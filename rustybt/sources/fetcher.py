"""fetch_csv: data from a CSV file or an http(s) URL, read once, then seen point in time.

zipline's ``fetch_csv``: an algorithm calls it (usually in ``initialize``)
with a local path, a ``file://`` URL or an ``http(s)://`` URL. The CSV is read
once, here, into a DataFrame indexed by the UTC time each row becomes known:

* rows with a symbol column (``symbol_column``, default ``"symbol"``; or a
  ``sid`` column of integer sids) belong to assets, and
  ``data.current(asset, "signal")`` returns the latest value of the ``signal``
  column at or before the simulation's current time;
* with ``symbol="name"`` the rows are not about assets: read them as
  ``data.current("name", "field")``.

A row dated ``2024-01-03`` (no time) counts from that date's UTC midnight,
so it is seen all that session (before the open, at every bar). A row with a
time counts from that time on: never earlier, so nothing leaks from the
future (zipline shows a minute-mode row all day, and a daily-mode row stamped
at exactly 16:00 New York time only from the next session). Several rows of
one asset at one time merge to the last non-missing value of each column.

Fetched columns are served by ``data.current`` (and the assets that have rows
so far by ``data.fetcher_assets``), as zipline does; ``data.history`` reads
market data only. The per-bar reads are in :mod:`rustybt.sources.fetched`.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> path = Path(tempfile.mkdtemp()) / "vix.csv"
>>> _ = path.write_text("date,close\\n2024-01-02,13.2\\n2024-01-03,14.0\\n")
>>> source = read_fetched_csv(str(path), None, symbol="vix")
>>> source.fields
['close']
>>> source.df.index[0], source.df["sid"].iloc[0]
(Timestamp('2024-01-02 00:00:00+0000', tz='UTC'), 'vix')
"""

from __future__ import annotations

import datetime
import inspect
import io
import logging
import urllib.parse
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np
import pandas as pd

from rustybt.assets import Asset
from rustybt.exceptions import (
    DataAdapterError,
    DataNotFoundError,
    DataValidationError,
    MultipleSymbolsFoundError,
    ParameterValidationError,
    SymbolNotFoundError,
)
from rustybt.sources.fetched import FetchedData

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "REQUEST_ARGUMENTS",
    "FetchedCSV",
    "FetchingAlgorithm",
    "fetch_csv",
    "read_fetched_csv",
]

log = logging.getLogger("rustybt.sources.fetcher")

Frame = Callable[[pd.DataFrame], pd.DataFrame]
ParamsChecker = Callable[[str], tuple[str, dict[str, Any] | None]]

#: Keyword arguments of fetch_csv that shape the http request (zipline's, but
#: ``cert``); every other extra keyword goes to :func:`pandas.read_csv`.
REQUEST_ARGUMENTS: Final = frozenset({"params", "headers", "auth"})
#: The largest document fetch_csv reads (zipline's limit).
MAX_DOCUMENT_BYTES: Final = 100 * 1024 * 1024
#: Seconds to wait for a server.
TIMEOUT_SECONDS: Final = 30.0
# read_csv arguments fetch_csv does not pass on: it needs the whole file as one frame.
_NOT_READ_CSV: Final = frozenset({"filepath_or_buffer", "iterator", "chunksize"})
# The strings pandas reads as missing by default (kept as text in the symbol column,
# where "NA" or "NULL" may be a ticker, as zipline does).
_MISSING: Final = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
# How many offending rows or symbols an error message names.
_SHOWN: Final = 3


class FetchingAlgorithm(Protocol):
    """What :func:`fetch_csv` needs of the algorithm it runs in."""

    asset_finder: Any
    fetched: FetchedData | None
    current_data: Any


@dataclass(frozen=True)
class FetchedCSV:
    """What ``fetch_csv`` read: zipline returns its source object, with ``df``.

    Attributes
    ----------
    url
        The path or URL as given (without request ``params``).
    df
        The rows, indexed by the UTC time each becomes known (sorted); the
        ``sid`` column holds each row's Asset, or the ``symbol=`` name; every
        other column is a field.
    """

    url: str
    df: pd.DataFrame

    @property
    def fields(self) -> list[str]:
        """The columns ``data.current`` serves."""
        return [str(c) for c in self.df.columns if c != "sid"]


def fetch_csv(
    algo: FetchingAlgorithm,
    url: str,
    pre_func: Frame | None = None,
    post_func: Frame | None = None,
    date_column: str = "date",
    date_format: str | None = None,
    timezone: Any = "UTC",
    symbol: str | None = None,
    mask: bool = True,
    symbol_column: str | None = None,
    special_params_checker: ParamsChecker | None = None,
    country_code: str | None = None,
    **kwargs: Any,
) -> FetchedCSV:
    """Read a CSV once; ``data.current`` then serves its columns (zipline's ``fetch_csv``).

    ``TradingAlgorithm.fetch_csv`` and ``rustybt.api.fetch_csv``: call it in
    ``initialize``. The rules are in :mod:`rustybt.sources.fetcher`.

    Parameters
    ----------
    algo
        The algorithm (``self`` of the method).
    url
        A local path, a ``file://`` URL or an ``http(s)://`` URL.
    pre_func
        Called with the frame as read; returns the frame to use.
    post_func
        Called with the frame indexed by time, with its ``sid`` column; returns
        the frame to use.
    date_column
        The column holding each row's date or time.
    date_format
        A :func:`pandas.to_datetime` format of the dates (default: each date
        read on its own, so dates and date-times may mix).
    timezone
        The time zone of dates without a UTC offset.
    symbol
        A name for data that is not about assets (read as ``data.current(symbol, field)``).
    mask
        Drop (with a warning) rows whose symbol matches no asset; if False,
        such rows are an error.
    symbol_column
        The column of symbols (default ``"symbol"``).
    special_params_checker
        Called with ``url``; returns ``(url, params)`` to request instead.
    country_code
        Only map symbols to assets of this country.
    **kwargs
        ``params``, ``headers`` and ``auth`` (``(user, password)``) for an http
        request; the rest go to :func:`pandas.read_csv`.

    Returns
    -------
    FetchedCSV
        The path or URL and the rows as read (``.df``).

    Raises
    ------
    ParameterValidationError
        An argument fetch_csv does not know, a URL scheme it cannot read, or a
        ``pre_func``/``post_func`` that returns no DataFrame.
    DataNotFoundError
        No file at the path.
    DataAdapterError
        The file or URL cannot be read (HTTP error, unreachable server, too large).
    DataValidationError
        The content is not a CSV, has no rows, lacks the date or symbol
        column, has dates that cannot be read, or (``mask=False``) names
        symbols that match no asset; ``invalid_rows`` holds the rows at fault.
    """
    source = read_fetched_csv(
        url,
        algo.asset_finder,
        pre_func=pre_func,
        post_func=post_func,
        date_column=date_column,
        date_format=date_format,
        timezone=timezone,
        symbol=symbol,
        mask=mask,
        symbol_column=symbol_column,
        special_params_checker=special_params_checker,
        country_code=country_code,
        **kwargs,
    )
    if algo.fetched is None:
        algo.fetched = FetchedData()
    algo.fetched.add(source.df)
    if algo.current_data is not None:
        # fetch_csv runs in initialize, after the bar data exists.
        algo.current_data.fetched = algo.fetched
    return source


def read_fetched_csv(
    url: str,
    asset_finder: Any,
    pre_func: Frame | None = None,
    post_func: Frame | None = None,
    date_column: str = "date",
    date_format: str | None = None,
    timezone: Any = "UTC",
    symbol: str | None = None,
    mask: bool = True,
    symbol_column: str | None = None,
    special_params_checker: ParamsChecker | None = None,
    country_code: str | None = None,
    **kwargs: Any,
) -> FetchedCSV:
    """Read the CSV at ``url`` into a :class:`FetchedCSV`: :func:`fetch_csv`'s reading.

    ``asset_finder`` maps symbols and sids to assets (unused with ``symbol``);
    the other arguments and the errors are :func:`fetch_csv`'s.
    """
    where = str(url)
    symbol_column = symbol_column or "symbol"
    read_args, request_args = _split_arguments(kwargs, date_column, where)
    if special_params_checker is not None:
        url, extra_params = special_params_checker(url)
        if extra_params:
            request_args["params"] = {**(request_args.get("params") or {}), **extra_params}
    content = _download(url, request_args, where)
    frame = _read_frame(content, read_args, None if symbol else symbol_column, where)
    if pre_func is not None:
        frame = _returned_frame(pre_func(frame), "pre_func", where)
    if frame.empty:
        raise DataValidationError(f"fetch_csv({where}): no data rows", context={"url": where})
    dates = _parse_dates(frame, date_column, date_format, timezone, where)
    if symbol is not None:
        keys = pd.Series(symbol, index=frame.index, dtype=object)
        out = frame.drop(columns=[date_column]).assign(sid=keys.to_numpy())
    else:
        frame, dates, keys, mapped_by = _asset_rows(
            frame, dates, asset_finder, symbol_column, country_code, mask, where
        )
        out = frame.drop(columns=[date_column, mapped_by]).assign(sid=keys.to_numpy())
    out.index = pd.DatetimeIndex(dates, name="dt")
    out = out.sort_index(kind="stable")
    if post_func is not None:
        out = _returned_frame(post_func(out), "post_func", where)
        if "sid" not in out.columns or out["sid"].isna().any():
            raise ParameterValidationError(
                f"fetch_csv({where}): post_func returned a frame without the 'sid' column "
                "or with rows whose sid is missing",
                context={"url": where, "columns": [str(c) for c in out.columns]},
            )
    return FetchedCSV(where, out)


# --- arguments -------------------------------------------------------------------------


def _read_csv_names() -> frozenset[str]:
    return frozenset(inspect.signature(pd.read_csv).parameters) - _NOT_READ_CSV


def _split_arguments(
    kwargs: dict[str, Any], date_column: str, where: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(read_csv arguments, request arguments)``; an unknown keyword is refused by name."""
    read_csv_names = _read_csv_names()
    unknown = sorted(set(kwargs) - read_csv_names - REQUEST_ARGUMENTS)
    if unknown:
        raise ParameterValidationError(
            f"fetch_csv({where}): unknown keyword argument(s) {', '.join(unknown)}; "
            f"extra keywords are http request arguments ({', '.join(sorted(REQUEST_ARGUMENTS))}) "
            "or pandas.read_csv arguments",
            context={"url": where, "unknown": unknown},
        )
    read_args = {k: v for k, v in kwargs.items() if k in read_csv_names}
    request_args = {k: v for k, v in kwargs.items() if k in REQUEST_ARGUMENTS}
    usecols = read_args.get("usecols")
    if (
        isinstance(usecols, Sequence)
        and not isinstance(usecols, str)
        and date_column not in usecols
    ):
        # The dates are always needed (zipline adds the column too).
        read_args["usecols"] = [*usecols, date_column]
    return read_args, request_args


def _returned_frame(result: Any, what: str, where: str) -> pd.DataFrame:
    if not isinstance(result, pd.DataFrame):
        raise ParameterValidationError(
            f"fetch_csv({where}): {what} returned {type(result).__name__}, not a DataFrame",
            context={"url": where, "function": what},
        )
    return result


# --- reading -----------------------------------------------------------------------------


def _download(url: str, request_args: dict[str, Any], where: str) -> bytes:
    """The bytes at ``url``: a local path, a file:// URL or an http(s):// URL."""
    parsed = urllib.parse.urlsplit(url)
    scheme = parsed.scheme.lower()
    if scheme in ("http", "https"):
        return _http_get(url, request_args, where)
    if len(scheme) > 1 and scheme != "file":  # one letter: a Windows drive
        raise ParameterValidationError(
            f"fetch_csv({where}): cannot read {scheme}:// URLs; give a local path, "
            "a file:// URL or an http(s):// URL",
            context={"url": where, "scheme": scheme},
        )
    if request_args:
        raise ParameterValidationError(
            f"fetch_csv({where}): {', '.join(sorted(request_args))} apply to http(s) URLs, "
            "not to files",
            context={"url": where},
        )
    if scheme == "file":
        from urllib.request import url2pathname  # see _http_get on why not at the top

        return _read_file(Path(url2pathname(parsed.path)), where)
    return _read_file(Path(url), where)


def _read_file(path: Path, where: str) -> bytes:
    if not path.is_file():
        raise DataNotFoundError(
            f"fetch_csv({where}): no file at {path}", context={"url": where, "path": str(path)}
        )
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        raise DataAdapterError(
            f"fetch_csv({where}): the file is larger than {MAX_DOCUMENT_BYTES} bytes, "
            "the most fetch_csv reads",
            context={"url": where},
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataAdapterError(
            f"fetch_csv({where}): cannot read {path}: {exc.strerror or exc}",
            context={"url": where},
        ) from None


def _http_get(url: str, request_args: dict[str, Any], where: str) -> bytes:
    # Imported here: with ssl they cost ~14 ms, which every run would pay at
    # start (the algorithm module imports this one) for a call most never make.
    import base64
    import http.client
    import urllib.error
    import urllib.request

    params = request_args.get("params")
    if params:
        url = f"{url}{'&' if urllib.parse.urlsplit(url).query else '?'}"
        url += urllib.parse.urlencode(params, doseq=True)
    headers = {str(k): str(v) for k, v in (request_args.get("headers") or {}).items()}
    auth = request_args.get("auth")
    if auth is not None:
        user, password = auth
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body: bytes = response.read(MAX_DOCUMENT_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise DataAdapterError(
            f"fetch_csv({where}): the server answered HTTP {exc.code} {exc.reason}",
            context={"url": where, "status": exc.code},
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise DataAdapterError(
            f"fetch_csv({where}): cannot reach the server: {reason}", context={"url": where}
        ) from None
    if len(body) > MAX_DOCUMENT_BYTES:
        raise DataAdapterError(
            f"fetch_csv({where}): the document is larger than {MAX_DOCUMENT_BYTES} bytes, "
            "the most fetch_csv reads",
            context={"url": where},
        )
    return body


def _read_frame(
    content: bytes, read_args: dict[str, Any], symbol_column: str | None, where: str
) -> pd.DataFrame:
    """The CSV as a DataFrame; the symbol column's text kept as is (a ticker may be "NA")."""
    args = dict(read_args)
    if symbol_column is not None and "keep_default_na" not in args and "na_values" not in args:
        header = _parse_csv(content, {**args, "nrows": 0}, where).columns
        if symbol_column in header:
            args["keep_default_na"] = False
            args["na_values"] = {c: list(_MISSING) for c in header if c != symbol_column}
    return _parse_csv(content, args, where)


def _parse_csv(content: bytes, args: dict[str, Any], where: str) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(content), **args)
    except (ValueError, TypeError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        # EmptyDataError and ParserError are ValueErrors; the first line says what failed.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataValidationError(
            f"fetch_csv({where}): cannot read it as CSV: {reason}", context={"url": where}
        ) from None


# --- dates -------------------------------------------------------------------------------


def _is_utc(timezone: Any) -> bool:
    return timezone is datetime.UTC or str(timezone).upper() in ("UTC", "ETC/UTC")


def _parse_dates(
    frame: pd.DataFrame, date_column: str, date_format: str | None, timezone: Any, where: str
) -> pd.DatetimeIndex:
    """Each row's time in UTC; any row whose date cannot be read is an error."""
    if date_column not in frame.columns:
        raise DataValidationError(
            f"fetch_csv({where}): no date column {date_column!r}; the columns are "
            f"{[str(c) for c in frame.columns]} (pass date_column=)",
            context={"url": where, "date_column": date_column},
        )
    raw = frame[date_column]
    as_utc = _is_utc(timezone)
    try:
        parsed = pd.DatetimeIndex(
            # Without a format each date is read on its own ("mixed"): a file may mix
            # dates and times (pandas would otherwise impose the first row's form).
            pd.to_datetime(raw, format=date_format or "mixed", errors="coerce", utc=as_utc)
        )
    except (ValueError, TypeError) as exc:
        raise DataValidationError(
            f"fetch_csv({where}): cannot read the dates of column {date_column!r}: {exc}",
            context={"url": where, "date_column": date_column},
        ) from None
    if not as_utc:
        parsed = _localized(parsed, timezone, where)
    bad = np.asarray(parsed.isna())
    if bad.any():
        how = f" with format {date_format!r}" if date_format else ""
        shown = ", ".join(
            f"{_row_name(label)} {value!r}" for label, value in list(raw[bad].items())[:_SHOWN]
        )
        raise DataValidationError(
            f"fetch_csv({where}): {int(bad.sum())} row(s) with a date in column "
            f"{date_column!r} that cannot be read{how}: {shown}",
            invalid_rows=frame[bad].assign(reason="date cannot be read"),
            context={"url": where, "date_column": date_column},
        )
    return parsed


def _localized(parsed: pd.DatetimeIndex, timezone: Any, where: str) -> pd.DatetimeIndex:
    """Dates without an offset read in ``timezone``; with one, converted; both in UTC."""
    if parsed.tz is not None:
        return parsed.tz_convert("UTC")
    try:
        local = parsed.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    except (ValueError, TypeError, KeyError) as exc:
        raise ParameterValidationError(
            f"fetch_csv({where}): unknown timezone {timezone!r}: {exc}",
            context={"url": where, "timezone": str(timezone)},
        ) from None
    return local.tz_convert("UTC")


def _row_name(label: Hashable) -> str:
    """A row by its place in the file: index labels of a frame as read count from 0."""
    if isinstance(label, int | np.integer):
        return f"data row {int(label) + 1}"
    return f"row {label!r}"


# --- assets ------------------------------------------------------------------------------


def _asset_rows(
    frame: pd.DataFrame,
    dates: pd.DatetimeIndex,
    finder: Any,
    symbol_column: str,
    country_code: str | None,
    mask: bool,
    where: str,
) -> tuple[pd.DataFrame, pd.DatetimeIndex, pd.Series, str]:
    """The rows with a known asset, their dates and assets, and the column they were mapped by."""
    keys, mapped_by = _map_assets(frame, dates, finder, symbol_column, country_code, where)
    if "sid" in frame.columns and mapped_by != "sid":
        # zipline's rule: the sid column is the mapped assets'.
        log.warning("fetch_csv(%s): the 'sid' column is replaced by the mapped assets", where)
        frame = frame.drop(columns=["sid"])
    kept, dates, keys = _without_unknown(frame, dates, keys, mapped_by, mask, where)
    return kept, dates, keys, mapped_by


def _map_assets(
    frame: pd.DataFrame,
    dates: pd.DatetimeIndex,
    finder: Any,
    symbol_column: str,
    country_code: str | None,
    where: str,
) -> tuple[pd.Series, str]:
    """``(each row's Asset or None, the column mapped)``: by symbol, else by a ``sid`` column."""
    if symbol_column in frame.columns:
        return _assets_by_symbol(frame[symbol_column], dates, finder, country_code), symbol_column
    if "sid" in frame.columns:
        sids = pd.to_numeric(frame["sid"], errors="coerce")
        found = {
            s: finder.retrieve_asset(int(s), default_none=True) for s in sids.dropna().unique()
        }
        return sids.map(lambda s: found.get(s)).astype(object), "sid"
    raise DataValidationError(
        f"fetch_csv({where}): no {symbol_column!r} or 'sid' column to map rows to assets; "
        f"the columns are {[str(c) for c in frame.columns]} (pass symbol_column= for another "
        "column, or symbol='NAME' for data that is not about assets)",
        context={"url": where, "symbol_column": symbol_column},
    )


def _assets_by_symbol(
    symbols: pd.Series, dates: pd.DatetimeIndex, finder: Any, country_code: str | None
) -> pd.Series:
    """Each row's asset; a symbol several assets held resolves at the row's date."""
    found: dict[Any, Asset | None] = {}
    ambiguous: set[Any] = set()
    for value in symbols.unique():
        if not isinstance(value, str) or not value.strip():
            found[value] = None
            continue
        try:
            found[value] = finder.lookup_symbol(value.strip(), None, country_code=country_code)
        except MultipleSymbolsFoundError:
            ambiguous.add(value)
        except SymbolNotFoundError:
            found[value] = None
    assets = symbols.map(lambda v: found.get(v)).astype(object)
    for position in np.flatnonzero(symbols.isin(list(ambiguous)).to_numpy()).tolist():
        day = dates[position].tz_convert("UTC").tz_localize(None).normalize()
        try:
            asset = finder.lookup_symbol(
                symbols.iloc[position].strip(), day, country_code=country_code
            )
        except SymbolNotFoundError:
            asset = None
        assets.iloc[position] = asset
    return assets


def _without_unknown(
    frame: pd.DataFrame,
    dates: pd.DatetimeIndex,
    keys: pd.Series,
    column: str,
    mask: bool,
    where: str,
) -> tuple[pd.DataFrame, pd.DatetimeIndex, pd.Series]:
    """The rows whose asset is known; the others dropped (``mask``) or refused."""
    unknown = keys.isna().to_numpy()
    if not unknown.any():
        return frame, dates, keys
    counts = frame.loc[unknown, column].astype(str).value_counts(sort=False)
    named = ", ".join(f"{name!r} ({n} rows)" for name, n in list(counts.items())[:_SHOWN])
    more = f" and {len(counts) - _SHOWN} more" if len(counts) > _SHOWN else ""
    what = f"{int(unknown.sum())} row(s) whose {column} matches no asset: {named}{more}"
    if not mask:
        raise DataValidationError(
            f"fetch_csv({where}): {what} (pass mask=True to drop them)",
            invalid_rows=frame[unknown].assign(reason="matches no asset"),
            context={"url": where, "unknown": [str(s) for s in counts.index]},
        )
    log.warning("fetch_csv(%s): dropped %s", where, what)
    keep = ~unknown
    return frame[keep], dates[keep], keys[keep]
