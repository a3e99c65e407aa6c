"""Noise infusion: does a strategy still work on bars that differ a little from history?

:func:`noise_test` runs the algorithm on the real bundle (the observed
value), then ``n`` times on copies of it whose bars were perturbed by a
seeded noise model (:func:`perturb_bars`). Each copy is a real bundle: it is
registered and ingested into a temporary ``RUSTYBT_ROOT`` by an ingest
function that reads the original bars through the bundle's readers and
writes perturbed ones with the standard writers (assets and adjustments
copied; dividend ratios recomputed from the perturbed closes), then run by
:func:`~rustybt.runner.run_algorithm` over the same sessions with the same
capital. The temporary roots are removed when the test ends.

A strategy whose edge is real keeps most of it under small noise; one fitted
to the exact prices (an overfit) loses it, and then the observed value sits
above nearly every noisy run: a small p-value.

Examples
--------
>>> import numpy as np
>>> bars = {"open": np.array([[10.0], [10.5]]), "high": np.array([[11.0], [11.2]]),
...         "low": np.array([[9.5], [10.1]]), "close": np.array([[10.4], [11.0]]),
...         "volume": np.array([[100.0], [120.0]])}
>>> noisy = perturb_bars(bars, scale=0.01, rng=np.random.default_rng(0))
>>> bool((noisy["low"] <= np.minimum(noisy["open"], noisy["close"])).all())
True
>>> float(noisy["close"][0, 0]), noisy["volume"].tolist()
(10.4, [[100.0], [120.0]])
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.calendars import ExchangeCalendar
from rustybt.data import bundles
from rustybt.exceptions import ParameterValidationError
from rustybt.optimization.montecarlo import (
    DEFAULT_PERCENTILES,
    MonteCarloResult,
    StatisticDistribution,
)
from rustybt.optimization.objectives import resolve_objectives
from rustybt.runner import run_algorithm

__all__ = ["noise_test", "perturb_bars"]

FloatArray = npt.NDArray[np.float64]
Objective = Callable[[pd.DataFrame], float]

PRICE_FIELDS = ("open", "high", "low", "close")
EQUITY_FIELDS = ["symbol", "asset_name", "start_date", "end_date", "first_traded",
                 "auto_close_date", "exchange"]  # fmt: skip
# Prices are rounded to the tick, then to this many decimals: the float nearest the
# decimal price (12.34, not 12.340000000000002).
_PRICE_DECIMALS = 10


def perturb_bars(
    bars: Mapping[str, FloatArray],
    scale: float,
    rng: np.random.Generator,
    tick: float | FloatArray = 0.01,
) -> dict[str, FloatArray]:
    """Bars with seeded multiplicative noise, still consistent OHLC bars.

    Each close-to-close return is multiplied by ``exp(e)``, ``e`` normal with
    deviation ``scale`` and mean ``-scale**2 / 2`` (so the noise factor has
    mean 1); the noise compounds, so a close moves as the sum of the shocks
    so far, and each asset's first bar keeps its price. A bar's high and low
    move with its close; its open gets a shock of its own on top; the high
    and low then widen to hold the open and the close, so ``low <= min(open,
    close) <= max(open, close) <= high``. Prices are rounded to the tick
    grid (at least one tick: they stay positive); volume is unchanged; a
    missing bar (NaN) stays missing.

    Parameters
    ----------
    bars
        ``open``, ``high``, ``low``, ``close``, ``volume`` panels (sessions x
        assets, NaN where there is no bar).
    scale
        The deviation of the daily log-return noise (0.002: 0.2% a day).
    rng
        The random generator.
    tick
        The price grid: one tick for all assets, or one per asset (column).

    Returns
    -------
    dict of numpy.ndarray
        New panels, the same keys and shapes.

    Examples
    --------
    >>> import numpy as np
    >>> bars = {name: np.array([[20.0], [21.0], [22.0]]) for name in ("open", "close")}
    >>> bars.update(high=np.array([[20.5], [21.5], [22.5]]), low=np.array([[19.5], [20.5], [21.5]]),
    ...             volume=np.array([[5.0], [5.0], [5.0]]))
    >>> a = perturb_bars(bars, 0.01, np.random.default_rng(3))
    >>> b = perturb_bars(bars, 0.01, np.random.default_rng(3))
    >>> all(np.array_equal(a[k], b[k]) for k in a)
    True
    """
    _check_scale(scale)
    close = np.asarray(bars["close"], dtype=np.float64)
    valid = ~np.isnan(close)
    drift = -0.5 * scale * scale
    shocks = np.where(valid, rng.normal(drift, scale, size=close.shape), 0.0)
    shocks[valid & (np.cumsum(valid, axis=0) == 1)] = 0.0  # each asset's first bar
    factor = np.exp(np.cumsum(shocks, axis=0))
    new_close = close * factor
    new_open = bars["open"] * factor * np.exp(rng.normal(drift, scale, size=close.shape))
    new_high = np.maximum(bars["high"] * factor, np.maximum(new_open, new_close))
    new_low = np.minimum(bars["low"] * factor, np.minimum(new_open, new_close))
    # Rounding to the grid is monotone: it keeps the order of the four prices.
    out = {
        "open": _on_grid(new_open, tick),
        "high": _on_grid(new_high, tick),
        "low": _on_grid(new_low, tick),
        "close": _on_grid(new_close, tick),
    }
    out["volume"] = np.array(bars["volume"], dtype=np.float64, copy=True)
    return out


def _check_scale(scale: float) -> None:
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale >= 0):
        raise ParameterValidationError(
            f"scale must be a finite noise deviation >= 0, got {scale!r}",
            context={"argument": "scale", "scale": scale},
        )


def _on_grid(prices: FloatArray, tick: float | FloatArray) -> FloatArray:
    """Prices rounded to the tick, at least one tick (NaN stays NaN)."""
    snapped = np.maximum(np.round(prices / tick) * tick, tick)
    return np.asarray(np.round(snapped, _PRICE_DECIMALS), dtype=np.float64)


@dataclass(frozen=True)
class _Source:
    """The original bundle's contents, read once, that every perturbed copy is made from."""

    calendar_name: str
    start_session: str
    end_session: str
    sessions: pd.DatetimeIndex
    sids: npt.NDArray[np.int64]
    bars: dict[str, FloatArray]
    ticks: FloatArray
    equities: pd.DataFrame
    exchanges: pd.DataFrame
    adjustments: dict[str, pd.DataFrame]


def _read_source(bundle: str, environ: Mapping[str, str]) -> _Source:
    """Read the daily bars, assets and adjustments of the bundle's newest ingestion."""
    with bundles.load(bundle, environ) as data:
        reader = data.equity_daily_bar_reader
        sids = np.asarray(reader.sids, dtype=np.int64)
        assets = data.asset_finder.retrieve_all([int(s) for s in data.asset_finder.sids])
        by_sid = {asset.sid: asset for asset in assets}
        equities = pd.DataFrame(
            [{name: getattr(asset, name) for name in EQUITY_FIELDS} for asset in assets],
            index=pd.Index([asset.sid for asset in assets], name="sid"),
        )
        exchanges = pd.DataFrame(
            sorted(
                {
                    (
                        a.exchange_info.name,
                        a.exchange_info.canonical_name,
                        a.exchange_info.country_code,
                    )
                    for a in assets
                }
            ),
            columns=["exchange", "canonical_name", "country_code"],
        )
        tables = data.adjustment_reader.unpack_db_to_component_dfs()
        return _Source(
            calendar_name=str(data.metadata["calendar_name"]),
            start_session=str(data.metadata["start_session"]),
            end_session=str(data.metadata["end_session"]),
            sessions=pd.DatetimeIndex(reader.sessions),
            sids=sids,
            bars={name: np.array(reader.panel(name)) for name in (*PRICE_FIELDS, "volume")},
            ticks=np.array([float(by_sid[int(s)].tick_size) for s in sids]),
            equities=equities,
            exchanges=exchanges,
            adjustments={
                "splits": tables["splits"],
                "mergers": tables["mergers"],
                "dividends": tables["dividend_payouts"],
                "stock_dividends": tables["stock_dividend_payouts"],
            },
        )


@dataclass(frozen=True)
class _PerturbedIngest:
    """The ingest function of one perturbed copy (zipline's ingest signature)."""

    source: _Source
    scale: float
    seed: np.random.SeedSequence

    def __call__(
        self,
        environ: Mapping[str, str],
        asset_db_writer: Any,
        minute_bar_writer: Any,
        daily_bar_writer: Any,
        adjustment_writer: Any,
        calendar: ExchangeCalendar,
        start_session: pd.Timestamp,
        end_session: pd.Timestamp,
        cache: Any,
        show_progress: bool,
        output_dir: str,
    ) -> None:
        source = self.source
        noisy = perturb_bars(
            source.bars, self.scale, np.random.default_rng(self.seed), source.ticks
        )
        daily_bar_writer.write(self._frames(noisy))
        asset_db_writer.write(equities=source.equities, exchanges=source.exchanges)
        adjustment_writer.write(**source.adjustments)

    def _frames(self, noisy: dict[str, FloatArray]) -> list[tuple[int, pd.DataFrame]]:
        sessions = self.source.sessions
        frames = []
        for column, sid in enumerate(self.source.sids.tolist()):
            has_bar = ~np.isnan(noisy["close"][:, column])
            frame = pd.DataFrame(
                {name: values[has_bar, column] for name, values in noisy.items()},
                index=sessions[has_bar],
            )
            frame.attrs["source"] = f"noisy copy of sid {sid}"
            frames.append((sid, frame))
        return frames


def noise_test(
    algorithm: str | os.PathLike[str],
    bundle: str = "demo",
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
    n: int = 20,
    scale: float = 0.002,
    seed: int = 0,
    capital_base: float = 100_000,
    objective: Objective | None = None,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    benchmark_symbol: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> MonteCarloResult:
    """Re-run an algorithm on ``n`` noisy copies of its bundle; compare with the real run.

    Parameters
    ----------
    algorithm
        The algorithm's ``.py`` file (what ``rustybt run -f`` takes).
    bundle
        The ingested bundle to perturb: its newest ingestion's daily bars
        (the copies hold no minute bars: the runs are daily).
    start, end
        The run's first and last session.
    n
        The number of noisy copies.
    scale
        The deviation of the daily return noise (see :func:`perturb_bars`).
    seed
        Seeds the noise: copy ``i`` draws from the ``i``-th child of
        ``numpy.random.SeedSequence(seed)``, so its bars do not depend on ``n``.
    capital_base
        The starting capital of every run.
    objective
        ``perf -> float``, higher is better; default: the Sharpe ratio of its daily returns. An
        object with ``name`` and ``direction`` attributes (an optimization
        objective) is named by its ``name``, and ``direction="minimize"``
        makes lower values the better ones.
    percentiles
        The percentiles reported.
    benchmark_symbol
        A benchmark asset of the bundle, for every run.
    environ
        The environment whose ``RUSTYBT_ROOT`` holds the bundle; default
        ``os.environ``.

    Returns
    -------
    MonteCarloResult
        One statistic, the objective (named after it): observed on the real
        bundle, sampled on the noisy copies; its p-value is the share of
        noisy runs at least as good as the real one.

    Raises
    ------
    ParameterValidationError
        A missing algorithm file, no ``start``/``end``, ``n < 1`` or a bad ``scale``.
    DataNotFoundError
        If the bundle has no ingestion.

    Examples
    --------
    >>> result = noise_test("algo.py", "demo", "2020-01-02", "2020-12-31",
    ...                     n=20, scale=0.002, seed=0)  # doctest: +SKIP
    >>> result.percentiles  # doctest: +SKIP
    """
    path = _algorithm_file(algorithm)
    if start is None or end is None:
        raise ParameterValidationError(
            "noise_test needs start and end",
            context={"argument": "start" if start is None else "end"},
        )
    if int(n) != n or n < 1:
        raise ParameterValidationError(
            f"n must be a positive whole number of noisy runs, got {n!r}",
            context={"argument": "n", "n": n},
        )
    _check_scale(scale)
    env = dict(os.environ if environ is None else environ)
    measure = resolve_objectives("sharpe")[0] if objective is None else objective
    script = path.read_text()

    def run(bundle_name: str, run_environ: Mapping[str, str]) -> float:
        perf = run_algorithm(
            start,
            end,
            capital_base=capital_base,
            bundle=bundle_name,
            environ=run_environ,
            script=script,
            algo_filename=str(path),
            benchmark_symbol=benchmark_symbol,
        )
        return float(measure(perf))

    observed = run(bundle, env)
    source = _read_source(bundle, env)
    seeds = np.random.SeedSequence(seed).spawn(n)
    samples = np.array([_noisy_run(bundle, source, scale, child, env, run) for child in seeds])
    name, higher_is_better = _objective_name(measure)
    distribution = StatisticDistribution(
        name=name,
        observed=observed,
        samples=samples,
        higher_is_better=higher_is_better,
        levels=tuple(map(float, percentiles)),
    )
    return MonteCarloResult(
        method="noise infusion",
        statistic=name,
        statistics={name: distribution},
        n=n,
        seed=seed,
        parameters={"scale": scale, "bundle": bundle},
    )


def _objective_name(objective: Objective) -> tuple[str, bool]:
    """The objective's name, and whether a higher value is the better one."""
    name = getattr(objective, "name", None) or getattr(objective, "__name__", "objective")
    return str(name), getattr(objective, "direction", "maximize") != "minimize"


def _noisy_run(
    bundle: str,
    source: _Source,
    scale: float,
    seed: np.random.SeedSequence,
    environ: dict[str, str],
    run: Callable[[str, Mapping[str, str]], float],
) -> float:
    """Ingest one perturbed copy into a temporary root, run on it, remove the root."""
    root = Path(tempfile.mkdtemp(prefix="rustybt-noise-"))
    name = f"{bundle}-noise-{os.getpid()}-{seed.spawn_key[-1]}"
    bundles.register(
        name,
        _PerturbedIngest(source, scale, seed),
        calendar_name=source.calendar_name,
        start_session=source.start_session,
        end_session=source.end_session,
    )
    try:
        noisy_environ = {**environ, "RUSTYBT_ROOT": str(root)}
        bundles.ingest(name, noisy_environ)
        return run(name, noisy_environ)
    finally:
        bundles.unregister(name)
        shutil.rmtree(root, ignore_errors=True)


def _algorithm_file(algorithm: str | os.PathLike[str]) -> Path:
    path = Path(algorithm)
    if not path.is_file():
        raise ParameterValidationError(
            f"algorithm file {path} does not exist (noise_test takes the path of a .py "
            "algorithm, as `rustybt run -f` does)",
            context={"argument": "algorithm", "file": str(path)},
        )
    return path
