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
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from rustybt.algorithm import TradingAlgorithm
from rustybt.brokers.simulated import SimulationBlotter
from rustybt.data import bundles
from rustybt.data.portal import DataPortal
from rustybt.exceptions import ConfigValidationError
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
    emission_rate: str = "daily",
    precision: PrecisionConfig | None = None,
    algorithm_class: type[TradingAlgorithm] = TradingAlgorithm,
    progress: Callable[[int, int], None] | None = None,
    return_algorithm: bool = False,
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
        ``"default"`` (a SimulationBlotter) or any :class:`rustybt.brokers.Broker`.
    script, algo_filename, namespace
        A strategy given as source text (what ``rustybt run -f`` uses).
    benchmark_symbol
        A benchmark by symbol.
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

    Returns
    -------
    pd.DataFrame or tuple[pd.DataFrame, TradingAlgorithm]
        One row per session, indexed by session close (UTC), with zipline's
        columns plus one per recorded variable.

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
    data = bundles.load(bundle, environ, bundle_timestamp)
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
        portal = DataPortal(
            data.asset_finder,
            calendar,
            _first_trading_day(data),
            equity_daily_reader=data.equity_daily_bar_reader,
            equity_minute_reader=data.equity_minute_bar_reader,
            adjustment_reader=data.adjustment_reader,
        )
        benchmark_sid = None
        if benchmark_symbol is not None:
            benchmark_sid = data.asset_finder.lookup_symbol(
                benchmark_symbol, as_of_date=sim_params.last_session
            ).sid
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
            blotter=SimulationBlotter(precision) if isinstance(blotter, str) else blotter,
            benchmark_sid=benchmark_sid,
            benchmark_returns=benchmark_returns,
            precision=precision,
            **initialize_kwargs,
        )
        perf = algo.run(progress=progress)
        return (perf, algo) if return_algorithm else perf
    finally:
        data.close()


def _first_trading_day(data: bundles.BundleData) -> pd.Timestamp | None:
    """The first session with bars: the daily bars', else the minute bars'.

    A minute-only bundle (its ingest never wrote daily bars) has an empty
    daily reader whose first trading day is NaT; zipline then takes the day
    from the minute reader, and so does this.

    Parameters
    ----------
    data
        The loaded bundle.

    Returns
    -------
    pd.Timestamp or None
        The session, or None when the bundle holds no bars at all (the
        portal then starts history at the first session of its data).
    """
    for reader in (data.equity_daily_bar_reader, data.equity_minute_bar_reader):
        day = None if reader is None else reader.first_trading_day
        if isinstance(day, pd.Timestamp):  # NaT is not a Timestamp
            return day
    return None


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
