"""The composition root of a run: bundle, portal, broker, algorithm; then run it.

:func:`run_algorithm` (zipline's signature) loads a bundle, builds the
:class:`~rustybt.data.portal.DataPortal`, the broker (a
:class:`~rustybt.brokers.simulated.SimulationBlotter` unless one is given) and
the :class:`~rustybt.algorithm.TradingAlgorithm`, runs it and returns the
performance. Nothing it assembles imports this module.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from rustybt.algorithm import TradingAlgorithm
from rustybt.brokers.simulated import SimulationBlotter
from rustybt.data import bundles
from rustybt.data.portal.from_bundle import bundle_portal
from rustybt.exceptions import ConfigValidationError, ParameterValidationError
from rustybt.extensions import load_extensions
from rustybt.finance.precision import DEFAULT_PRECISION, PrecisionConfig
from rustybt.sim.params import SimulationParameters

log = logging.getLogger("rustybt.run")


def run_algorithm(
    start: pd.Timestamp | str,
    end: pd.Timestamp | str,
    initialize: Callable[..., Any] | None = None,
    capital_base: float = 100_000,
    handle_data: Callable[..., Any] | None = None,
    before_trading_start: Callable[..., Any] | None = None,
    analyze: Callable[..., Any] | None = None,
    data_frequency: str = "daily",
    bundle: str = "demo",
    bundle_timestamp: pd.Timestamp | None = None,
    trading_calendar: Any = None,
    metrics_set: Any = "default",
    benchmark_returns: pd.Series | None = None,
    default_extension: bool = True,
    extensions: Iterable[str] = (),
    strict_extensions: bool = True,
    environ: Mapping[str, str] = os.environ,
    blotter: Any = "default",
    *,
    script: str | None = None,
    algo_filename: str | None = None,
    namespace: dict[str, Any] | None = None,
    benchmark_symbol: str | None = None,
    benchmark_sid: int | None = None,
    benchmark_file: str | os.PathLike[str] | None = None,
    emission_rate: str = "daily",
    precision: PrecisionConfig | None = None,
    algorithm_class: type[TradingAlgorithm] = TradingAlgorithm,
    progress: Callable[[int, int], None] | None = None,
    return_algorithm: bool = False,
    params: Mapping[str, Any] | None = None,
    bundle_data: bundles.BundleData | None = None,
    custom_loader: Mapping[Any, Any] | None = None,
    **initialize_kwargs: Any,
) -> Any:
    """Run a trading algorithm over an ingested bundle (zipline's signature).

    Parameters
    ----------
    start, end
        First and last session.
    initialize, handle_data, before_trading_start, analyze
        The strategy's functions (or pass ``script``).
    capital_base
        Starting cash.
    data_frequency
        ``"daily"`` or ``"minute"``. A bundle with only minute bars runs in
        minute mode only; its daily bars (``data.history(..., "1d")``, the
        benchmark) are rolled up from the minutes.
    bundle, bundle_timestamp
        The bundle to read, and the ingestion (newest at or before the timestamp).
    trading_calendar
        Calendar to simulate on; default the bundle's.
    metrics_set
        ``"default"``, ``"none"`` or a registered metrics set.
    benchmark_returns
        Daily benchmark returns; or call ``set_benchmark`` in initialize, or pass
        ``benchmark_symbol``. Without any, the benchmark returns are zero.
    default_extension, extensions, strict_extensions, environ
        Extension loading, as in zipline.
    blotter
        ``"default"`` (a SimulationBlotter) or any :class:`rustybt.brokers.Broker`;
        another name is refused (no other blotter is registered by name).
    script, algo_filename, namespace
        A strategy given as source text (what ``rustybt run -f`` uses).
    benchmark_symbol, benchmark_sid
        A benchmark asset by symbol (looked up as of the last session) or by sid.
    benchmark_file
        A CSV of daily benchmark returns (see :func:`read_benchmark_file`, what
        ``rustybt run -bf`` passes); it must hold a return for every session of
        the run (``benchmark_returns`` lacking a session count it as 0).
    emission_rate
        ``"daily"`` or ``"minute"`` performance rows.
    precision
        Decimal precision and rounding per asset class.
    algorithm_class
        A TradingAlgorithm subclass to instantiate.
    progress
        Called as ``progress(sessions_done, sessions_total)`` after each session.
    return_algorithm
        Return ``(perf, algorithm)``: the algorithm holds the Decimal ledger
        (``algorithm.ledger.export()``), its orders and recorded variables.
    params
        The strategy's parameters. Every algorithm reads them as
        ``context.params``, a read-only mapping (empty when none are given; a
        rustybt addition, zipline has no such attribute). A ``script`` also
        finds them as names in its namespace, set before its module-level code
        runs, as ``rustybt run -D name=value`` does (they are added to
        ``namespace`` when one is given). A script that also runs without
        them reads each with a default: ``FAST = globals().get("fast", 10)``
        at module level, or ``context.params.get("fast", 10)`` in its
        functions; a plain ``fast = 10`` at the top would overwrite the
        parameter.
    bundle_data
        An already opened bundle to run on, instead of opening ``bundle``
        here (``bundle`` then only names it in messages). The caller keeps it
        open for further runs and closes it: runs share nothing through it
        but its readers' immutable panels (a parameter search opens a bundle
        once per process, see :mod:`rustybt.optimization.trial`).
    custom_loader
        Pipeline loaders of your own columns: ``{column: loader}`` (e.g. a
        :class:`~rustybt.pipeline.loaders.DataFrameLoader`); pricing columns
        load from the bundle.

    Returns
    -------
    pd.DataFrame or tuple[pd.DataFrame, TradingAlgorithm]
        One row per session, indexed by session close (UTC), with zipline's
        columns plus one per recorded variable.

    Raises
    ------
    ParameterValidationError
        Before the run: ``end`` after the bundle's last session, a bad capital
        base; a ``start`` that is not a session rolls forward to the next one.
    ConfigValidationError
        Before the run: an unknown blotter name, no bars for the frequency, a
        benchmark file that is not valid or lacks sessions of the run.

    Warns
    -----
    UserWarning
        A minute run over sessions without any minute bar (orders placed then
        fill at the first bar with data).

    Examples
    --------
    >>> import pandas as pd
    >>> from rustybt import run_algorithm
    >>> from rustybt.api import order_target_percent, symbol
    >>> def initialize(context):
    ...     context.asset = symbol("AAPL")
    >>> def handle_data(context, data):
    ...     order_target_percent(context.asset, 1.0)
    >>> perf = run_algorithm("2024-01-02", "2024-03-28", initialize, 10_000,
    ...                      handle_data=handle_data)  # doctest: +SKIP
    >>> perf.portfolio_value.iloc[-1]  # doctest: +SKIP
    """
    load_extensions(default_extension, extensions, strict_extensions, environ)
    precision = precision or DEFAULT_PRECISION
    params = dict(params or {})
    if script is not None and params:
        namespace = namespace if namespace is not None else {}
        namespace.update(params)
    data = bundle_data or bundles.load(bundle, environ, bundle_timestamp)
    try:
        calendar = trading_calendar or data.calendar
        sim_params = SimulationParameters(
            start,
            end,
            trading_calendar=calendar,
            capital_base=capital_base,
            data_frequency=data_frequency,
            emission_rate=emission_rate,
        )
        _check_bars_for_frequency(data, bundle, data_frequency)
        _check_end(data, bundle, data_frequency, sim_params)
        if benchmark_file is not None:
            if benchmark_returns is not None:
                raise ParameterValidationError(
                    "benchmark_returns and benchmark_file exclude each other; give one",
                    context={"benchmark_file": str(benchmark_file)},
                )
            benchmark_returns = read_benchmark_file(benchmark_file)
            check_benchmark_covers(benchmark_returns, sim_params.sessions, benchmark_file)
        if data_frequency == "minute":
            warn_sessions_without_minute_bars(data.equity_minute_bar_reader, sim_params.sessions)
        broker = _blotter(blotter, precision)
        portal = bundle_portal(data, calendar)
        if benchmark_symbol is not None:
            benchmark_sid = data.asset_finder.lookup_symbol(
                benchmark_symbol, as_of_date=sim_params.last_session
            ).sid
        elif benchmark_sid is not None:
            # Raises SidNotFoundError, naming the sid and the bundle's asset DB.
            data.asset_finder.retrieve_asset(benchmark_sid)
        algo = algorithm_class(
            sim_params,
            data_portal=portal,
            namespace=namespace,
            script=script,
            algo_filename=algo_filename,
            initialize=initialize,
            handle_data=handle_data,
            before_trading_start=before_trading_start,
            analyze=analyze,
            metrics_set=metrics_set,
            blotter=broker,
            benchmark_sid=benchmark_sid,
            benchmark_returns=benchmark_returns,
            precision=precision,
            params=params,
            custom_loader=custom_loader,
            **initialize_kwargs,
        )
        perf = algo.run(progress=progress)
        return (perf, algo) if return_algorithm else perf
    finally:
        if bundle_data is None:
            data.close()


def _blotter(blotter: Any, precision: PrecisionConfig) -> Any:
    """The broker ``blotter`` names: ``"default"`` is a SimulationBlotter; a broker is itself.

    Raises
    ------
    ConfigValidationError
        For any other name (zipline looks names up in its extension registry;
        rustybt registers no other blotter by name).
    """
    if not isinstance(blotter, str):
        return blotter
    if blotter != "default":
        raise ConfigValidationError(
            f"unknown blotter {blotter!r}: the only named blotter is 'default' (the "
            "SimulationBlotter); pass another broker object to run_algorithm(blotter=...)",
            context={"blotter": blotter},
        )
    return SimulationBlotter(precision)


def read_benchmark_file(path: str | os.PathLike[str]) -> pd.Series:
    """Daily benchmark returns from a CSV of ``date,return`` rows (zipline's ``-bf`` file).

    Parameters
    ----------
    path
        The CSV: a header with ``date`` and ``return`` columns, one row per session.

    Returns
    -------
    pd.Series
        The returns (float64) indexed by UTC session dates, sorted.

    Raises
    ------
    ConfigValidationError
        Naming the file, and the rows whose date or return is not valid (not a
        date, not a finite number, or a date given twice).
    """
    where = {"file": str(path)}
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConfigValidationError(f"benchmark file {path}: {exc}", context=where) from exc
    missing = {"date", "return"} - set(frame.columns)
    if missing:
        raise ConfigValidationError(
            f"benchmark file {path}: needs columns date and return, missing "
            f"{', '.join(sorted(missing))} (found {', '.join(map(str, frame.columns)) or 'none'})",
            context=where,
        )
    dates = pd.to_datetime(frame["date"], errors="coerce", utc=True)
    returns = pd.to_numeric(frame["return"], errors="coerce")
    bad = dates.isna() | ~np.isfinite(returns.to_numpy(dtype=np.float64, na_value=np.nan))
    bad |= dates.duplicated(keep=False) & ~dates.isna()
    if bad.any():
        rows = (np.flatnonzero(bad.to_numpy()) + 2).tolist()  # 1-based, after the header
        shown = ", ".join(
            f"row {r}: {frame['date'].iloc[r - 2]!r},{frame['return'].iloc[r - 2]!r}"
            for r in rows[:5]
        )
        raise ConfigValidationError(
            f"benchmark file {path}: {len(rows)} row(s) without a valid date and finite "
            f"return, or with a repeated date: {shown}",
            context={**where, "rows": rows},
        )
    series = pd.Series(returns.to_numpy(dtype=np.float64), index=pd.DatetimeIndex(dates))
    return series.sort_index().rename("return")


def check_benchmark_covers(
    returns: pd.Series, sessions: pd.DatetimeIndex, path: str | os.PathLike[str]
) -> None:
    """Refuse a benchmark file that lacks a return for some session of the run.

    zipline has no return to take for such a session; counting it as 0 would
    flatten the benchmark without a word (past the file's last date, for one).

    Parameters
    ----------
    returns
        The file's returns, as :func:`read_benchmark_file` reads them.
    sessions
        The run's sessions.
    path
        The file, for the message.

    Raises
    ------
    ConfigValidationError
        Naming the file, how many sessions it lacks, and the first and last of them.
    """
    given = pd.DatetimeIndex(returns.index)
    if given.tz is not None:
        given = given.tz_convert("UTC").tz_localize(None)
    run = pd.DatetimeIndex(sessions)
    if run.tz is not None:
        run = run.tz_convert("UTC").tz_localize(None)
    run = run.normalize()
    lacking = run[~run.isin(given.normalize())]
    if not len(lacking):
        return
    first, last = lacking[0].date(), lacking[-1].date()
    which = f"{first}" if len(lacking) == 1 else f"the first {first}, the last {last}"
    raise ConfigValidationError(
        f"benchmark file {path}: no return for {len(lacking)} of the run's {len(run)} "
        f"sessions ({run[0].date()}..{run[-1].date()}): {which}; give a return for every "
        "session of the run",
        context={
            "file": str(path),
            "missing": len(lacking),
            "first_missing": str(first),
            "last_missing": str(last),
        },
    )


def _check_end(
    data: bundles.BundleData, bundle: str, data_frequency: str, sim_params: SimulationParameters
) -> None:
    """Refuse an end after the last session of the bars the run reads.

    Raises
    ------
    ParameterValidationError
        Naming the bundle's last session (of its minute bars in minute mode).
    """
    last: Any
    if data_frequency == "minute":
        # The minute reader's own sessions: a 24/7 session's last minute is the next
        # day's midnight, so the date of the last minute is not its session.
        minute_reader = data.equity_minute_bar_reader
        assert minute_reader is not None  # checked by _check_bars_for_frequency
        covered = minute_reader.sessions
        last = covered[-1] if len(covered) else None
    else:
        last = data.equity_daily_bar_reader.last_available_dt
    if not isinstance(last, pd.Timestamp):  # NaT or None: no bars (refused elsewhere)
        return
    last_session = last.normalize()
    if sim_params.last_session > last_session:
        kind = "minute bars" if data_frequency == "minute" else "data"
        raise ParameterValidationError(
            f"end {sim_params.last_session.date()} is after the last session of bundle "
            f"{bundle!r} ({last_session.date()}, the end of its {kind}); end on or before "
            f"{last_session.date()}",
            context={
                "bundle": bundle,
                "end": str(sim_params.last_session.date()),
                "last_session": str(last_session.date()),
            },
        )


def sessions_without_minute_bars(reader: Any, sessions: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The ``sessions`` in which no asset has a minute bar.

    Parameters
    ----------
    reader
        The bundle's minute bar reader.
    sessions
        The sessions to look at (tz-naive).

    Returns
    -------
    pd.DatetimeIndex
        The sessions outside the reader's span, and those inside it without a bar.
    """
    covered = reader.sessions
    inside = sessions.isin(covered)
    empty = list(sessions[~inside])
    if inside.any():
        close = reader.panel("close")
        bounds = reader.session_bounds
        for i in covered.get_indexer(sessions[inside]).tolist():
            lo, hi = bounds[i]
            # Most sessions show a bar in their first minute: one row is enough.
            if lo < hi and (not np.isnan(close[lo]).all() or not np.isnan(close[lo:hi]).all()):
                continue
            empty.append(covered[i])
    return pd.DatetimeIndex(sorted(empty))


def warn_sessions_without_minute_bars(reader: Any, sessions: pd.DatetimeIndex) -> None:
    """Warn when a minute run covers sessions without any minute bar.

    Orders placed in such a session wait for the first bar with data, so the
    run goes on; the warning names the sessions (the first ten of them).
    """
    empty = sessions_without_minute_bars(reader, sessions)
    if not len(empty):
        return
    shown = ", ".join(str(s.date()) for s in empty[:10])
    more = f" and {len(empty) - 10} more" if len(empty) > 10 else ""
    span = reader.sessions
    covers = f"{span[0].date()}..{span[-1].date()}" if len(span) else "no session"
    warnings.warn(
        f"minute run over {len(empty)} of {len(sessions)} sessions without any minute bar: "
        f"{shown}{more} (the minute bars cover {covers}); orders placed then fill at the "
        "first bar with data",
        UserWarning,
        stacklevel=3,
    )


def _check_bars_for_frequency(data: bundles.BundleData, bundle: str, data_frequency: str) -> None:
    """Refuse a data frequency the bundle has no bars for.

    Parameters
    ----------
    data
        The loaded bundle.
    bundle
        Its name, for the message.
    data_frequency
        ``"daily"`` or ``"minute"``.

    Raises
    ------
    ConfigValidationError
        Minute mode on a bundle without minute bars, or daily mode on one
        without daily bars (a minute-only bundle).
    """
    has_minute = data.equity_minute_bar_reader is not None
    if data_frequency == "minute" and not has_minute:
        raise ConfigValidationError(
            f"bundle {bundle!r} has no minute bars; run with data_frequency='daily'",
            context={"bundle": bundle, "data_frequency": data_frequency},
        )
    if data_frequency == "daily" and pd.isna(data.equity_daily_bar_reader.first_trading_day):
        advice = (
            "it holds only minute bars; run with data_frequency='minute' "
            "(--data-frequency minute on the command line)"
            if has_minute
            else "it holds no bars at all; check its ingest function"
        )
        raise ConfigValidationError(
            f"bundle {bundle!r} has no daily bars: {advice}",
            context={
                "bundle": bundle,
                "data_frequency": data_frequency,
                "has_daily_bars": False,
                "has_minute_bars": has_minute,
            },
        )
