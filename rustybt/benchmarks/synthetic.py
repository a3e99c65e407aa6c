"""Deterministic synthetic market data for the standard benchmark workloads.

Every asset ``j`` draws from its own random stream, the ``j``-th child of
``numpy.random.SeedSequence(seed)``, so asset ``S0003`` has the same bars in a
5-asset and in a 500-asset universe (for the same sessions). Prices are a
geometric random walk per asset (its own drift and volatility), split into an
overnight gap and an intraday move; they are rounded to cents and never fall
below one cent. Bars always satisfy the ingest rules: positive prices,
``high >= max(open, close)``, ``low <= min(open, close)``, whole-share volumes.

Sessions are consecutive XNYS sessions from :data:`DEFAULT_START`. Symbols are
``S0000``, ``S0001``, ... and sids ``0 .. N-1`` in that order.

Minute bars are labelled as rustybt (and zipline) label them, by the minute at
which a bar ends (``calendar.sessions_minutes``); each session opens with an
overnight gap from the previous session's last close, and the daily bars of a
minute data set are exactly the aggregate of its minutes.

Examples
--------
>>> bars = generate_daily_bars(3, xnys_sessions(sessions=5))
>>> bars.close.shape, bars.symbols
((5, 3), ('S0000', 'S0001', 'S0002'))
>>> bool((bars.high >= bars.close).all() and (bars.low <= bars.open).all())
True
>>> float(generate_daily_bars(5, bars.sessions).close[2, 1]) == float(bars.close[2, 1])
True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.calendars import ExchangeCalendar, get_calendar
from rustybt.exceptions import ParameterValidationError

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_START",
    "SESSIONS_PER_YEAR",
    "SyntheticBars",
    "generate_daily_bars",
    "generate_minute_bars",
    "synthetic_ingest",
    "universe_symbols",
    "write_csvdir",
    "xnys_sessions",
]

FloatArray = npt.NDArray[np.float64]

#: The first session of every generated data set.
DEFAULT_START: Final[pd.Timestamp] = pd.Timestamp("2014-01-02")
DEFAULT_SEED: Final[int] = 20_140_102
#: Sessions in a "year" of generated data.
SESSIONS_PER_YEAR: Final[int] = 252
CALENDAR_NAME: Final[str] = "XNYS"
EXCHANGE: Final[str] = "NYSE"

# Share of a session's variance that falls overnight (the open's gap).
OVERNIGHT_SHARE: Final[float] = 0.2
# How far highs and lows reach beyond the bar's body, in bar standard deviations.
WICK_REACH: Final[float] = 0.5
# Typical shares traded per session, and the spread of log volume.
DAILY_VOLUME: Final[float] = 1_000_000.0
VOLUME_SPREAD: Final[float] = 0.4
FIELDS: Final[tuple[str, ...]] = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class SyntheticBars:
    """OHLCV panels of generated bars: one row per bar time, one column per asset.

    Attributes
    ----------
    index
        The bar labels: tz-naive sessions (daily) or UTC minutes (minute).
    symbols
        One symbol per column; column ``j`` is sid ``j``.
    open, high, low, close, volume
        ``(len(index), len(symbols))`` float64 panels.
    frequency
        ``"daily"`` or ``"minute"``.
    """

    index: pd.DatetimeIndex
    symbols: tuple[str, ...]
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    frequency: str = "daily"

    @property
    def sessions(self) -> pd.DatetimeIndex:
        """The sessions the bars cover (tz-naive)."""
        if self.frequency == "daily":
            return self.index
        labels = get_calendar(CALENDAR_NAME).minutes_to_sessions(self.index)
        return pd.DatetimeIndex(labels).unique().as_unit("ns")

    @property
    def n_bars(self) -> int:
        """Bars in the data set: bar times x assets."""
        return int(self.close.size)

    def frame(self, sid: int) -> pd.DataFrame:
        """The bars of asset ``sid`` as an OHLCV DataFrame indexed by bar label."""
        columns = {name: getattr(self, name)[:, sid] for name in FIELDS}
        return pd.DataFrame(columns, index=self.index)

    def frames(self) -> Iterator[tuple[int, pd.DataFrame]]:
        """``(sid, frame)`` pairs, what the bundle bar writers take."""
        for sid in range(len(self.symbols)):
            yield sid, self.frame(sid)


def universe_symbols(n_assets: int) -> list[str]:
    """The symbols of an ``n_assets`` universe: ``S0000``, ``S0001``, ...

    Examples
    --------
    >>> universe_symbols(3)
    ['S0000', 'S0001', 'S0002']
    """
    width = max(4, len(str(max(n_assets - 1, 0))))
    return [f"S{j:0{width}d}" for j in range(n_assets)]


def xnys_sessions(
    years: float | None = None,
    sessions: int | None = None,
    start: pd.Timestamp | str = DEFAULT_START,
) -> pd.DatetimeIndex:
    """Consecutive XNYS sessions from ``start``: ``sessions`` of them, or ``years`` x 252.

    Examples
    --------
    >>> xnys_sessions(sessions=3).strftime("%Y-%m-%d").tolist()
    ['2014-01-02', '2014-01-03', '2014-01-06']
    >>> len(xnys_sessions(years=1))
    252
    """
    count = _session_count(years, sessions)
    calendar = get_calendar(CALENDAR_NAME)
    first = calendar.date_to_session(pd.Timestamp(start), direction="next")
    position = int(calendar.sessions.get_loc(first))
    out = calendar.sessions[position : position + count]
    if len(out) < count:
        raise ParameterValidationError(
            f"the XNYS calendar has only {len(out)} sessions from {first.date()}, "
            f"not the {count} asked for",
            context={"sessions": count, "start": str(first.date())},
        )
    return pd.DatetimeIndex(out).as_unit("ns")


def _session_count(years: float | None, sessions: int | None) -> int:
    if sessions is None:
        if years is None:
            raise ParameterValidationError("give years or sessions")
        sessions = round(years * SESSIONS_PER_YEAR)
    if sessions < 1:
        raise ParameterValidationError(
            f"a data set needs at least one session, got {sessions}",
            context={"sessions": sessions, "years": years},
        )
    return int(sessions)


# --- prices -----------------------------------------------------------------


@dataclass(frozen=True)
class _AssetParams:
    """One asset's first price and annual drift and volatility."""

    price: float
    drift: float
    vol: float


def _asset_streams(n_assets: int, seed: int) -> list[np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(n_assets)
    return [np.random.default_rng(child) for child in children]


def _asset_params(rng: np.random.Generator) -> _AssetParams:
    return _AssetParams(
        price=float(np.exp(rng.uniform(np.log(10.0), np.log(200.0)))),
        drift=float(rng.normal(0.06, 0.08)),
        vol=float(rng.uniform(0.15, 0.45)),
    )


def _cents(values: FloatArray) -> FloatArray:
    """Round to cents, never below a cent (monotone, so bar ordering survives)."""
    return np.maximum(np.round(values, 2), 0.01)


def _wicks(
    open_: FloatArray, close: FloatArray, sigma: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Highs and lows beyond the bar's body, by a half-normal multiple of ``sigma``."""
    z_high, z_low = np.abs(rng.standard_normal((2, open_.size)))
    high = np.maximum(open_, close) * np.exp(z_high * WICK_REACH * sigma)
    low = np.minimum(open_, close) * np.exp(-z_low * WICK_REACH * sigma)
    return high, low


def _volume(rng: np.random.Generator, size: int, mean: float) -> FloatArray:
    shares = mean * np.exp(VOLUME_SPREAD * rng.standard_normal(size) - 0.5 * VOLUME_SPREAD**2)
    return np.maximum(np.round(shares), 1.0)


def _daily_asset(n: int, rng: np.random.Generator) -> tuple[FloatArray, ...]:
    """One asset's open, high, low, close, volume over ``n`` sessions."""
    params = _asset_params(rng)
    sigma = params.vol / np.sqrt(SESSIONS_PER_YEAR)
    drift = (params.drift - 0.5 * params.vol**2) / SESSIONS_PER_YEAR
    z_gap, z_move = rng.standard_normal((2, n))
    gap = sigma * np.sqrt(OVERNIGHT_SHARE) * z_gap
    gap[0] = 0.0  # the first bar opens at the first price
    move = drift + sigma * np.sqrt(1.0 - OVERNIGHT_SHARE) * z_move
    log_close = np.log(params.price) + np.cumsum(gap + move)
    open_, close = np.exp(log_close - move), np.exp(log_close)
    high, low = _wicks(open_, close, sigma, rng)
    volume = _volume(rng, n, DAILY_VOLUME)
    return _cents(open_), _cents(high), _cents(low), _cents(close), volume


def generate_daily_bars(
    n_assets: int, sessions: pd.DatetimeIndex, seed: int = DEFAULT_SEED
) -> SyntheticBars:
    """Daily OHLCV bars of ``n_assets`` assets over ``sessions``; the same every call.

    Parameters
    ----------
    n_assets
        Assets in the universe (sids ``0 .. n_assets - 1``).
    sessions
        The sessions, e.g. :func:`xnys_sessions`.
    seed
        The root seed; asset ``j`` uses its ``j``-th child stream.

    Examples
    --------
    >>> bars = generate_daily_bars(2, xnys_sessions(sessions=4))
    >>> bars.frame(0).columns.tolist()
    ['open', 'high', 'low', 'close', 'volume']
    """
    _check_assets(n_assets)
    n = len(sessions)
    panels = [np.empty((n, n_assets)) for _ in FIELDS]
    for j, rng in enumerate(_asset_streams(n_assets, seed)):
        for panel, values in zip(panels, _daily_asset(n, rng), strict=True):
            panel[:, j] = values
    return _from_panels(pd.DatetimeIndex(sessions).as_unit("ns"), n_assets, panels, "daily")


def _from_panels(
    index: pd.DatetimeIndex, n_assets: int, panels: list[FloatArray], frequency: str
) -> SyntheticBars:
    """Bars from the five panels, in :data:`FIELDS` order."""
    open_, high, low, close, volume = panels
    symbols = tuple(universe_symbols(n_assets))
    return SyntheticBars(index, symbols, open_, high, low, close, volume, frequency)


def _check_assets(n_assets: int) -> None:
    if n_assets < 1:
        raise ParameterValidationError(
            f"a universe needs at least one asset, got {n_assets}", context={"assets": n_assets}
        )


# --- minutes ----------------------------------------------------------------


@dataclass(frozen=True)
class _MinuteGrid:
    """The trading minutes of some sessions and where each session starts."""

    minutes: pd.DatetimeIndex
    starts: npt.NDArray[np.int64]

    @property
    def ends(self) -> npt.NDArray[np.int64]:
        """Position of each session's last minute."""
        return np.append(self.starts[1:], len(self.minutes)) - 1


def _minute_grid(calendar: ExchangeCalendar, sessions: pd.DatetimeIndex) -> _MinuteGrid:
    minutes = calendar.sessions_minutes(sessions[0], sessions[-1])
    labels = np.asarray(calendar.minutes_to_sessions(minutes))
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]]).astype(np.int64)
    return _MinuteGrid(pd.DatetimeIndex(minutes), starts)


def _minute_asset(grid: _MinuteGrid, rng: np.random.Generator) -> tuple[FloatArray, ...]:
    """One asset's minute open, high, low, close, volume."""
    params = _asset_params(rng)
    total, per_session = len(grid.minutes), len(grid.minutes) / len(grid.starts)
    day_sigma = params.vol / np.sqrt(SESSIONS_PER_YEAR)
    sigma = day_sigma * np.sqrt((1.0 - OVERNIGHT_SHARE) / per_session)
    drift = (params.drift - 0.5 * params.vol**2) / SESSIONS_PER_YEAR / per_session
    z_move, z_gap = rng.standard_normal((2, total))
    steps = drift + sigma * z_move
    gaps = day_sigma * np.sqrt(OVERNIGHT_SHARE) * z_gap[grid.starts]
    gaps[0] = 0.0
    log_close = np.log(params.price) + np.cumsum(steps)
    log_close += np.repeat(np.cumsum(gaps), np.diff(np.append(grid.starts, total)))
    close = np.exp(log_close)
    open_ = np.exp(log_close - steps)
    high, low = _wicks(open_, close, sigma, rng)
    volume = _volume(rng, total, DAILY_VOLUME / per_session)
    return _cents(open_), _cents(high), _cents(low), _cents(close), volume


def generate_minute_bars(
    n_assets: int,
    sessions: pd.DatetimeIndex,
    seed: int = DEFAULT_SEED,
) -> tuple[SyntheticBars, SyntheticBars]:
    """Minute bars of ``n_assets`` assets over ``sessions``, and their daily aggregate.

    Parameters
    ----------
    n_assets
        Assets in the universe.
    sessions
        Consecutive XNYS sessions (:func:`xnys_sessions`).
    seed
        The root seed; asset ``j`` uses its ``j``-th child stream.

    Returns
    -------
    tuple of SyntheticBars
        The minute bars (UTC minute labels) and the daily bars built from them
        (first open, highest high, lowest low, last close, summed volume).

    Examples
    --------
    >>> minute, daily = generate_minute_bars(2, xnys_sessions(sessions=2))
    >>> minute.close.shape, daily.close.shape
    ((780, 2), (2, 2))
    >>> bool(daily.close[0, 1] == minute.close[389, 1])
    True
    """
    _check_assets(n_assets)
    grid = _minute_grid(get_calendar(CALENDAR_NAME), pd.DatetimeIndex(sessions))
    panels = [np.empty((len(grid.minutes), n_assets)) for _ in FIELDS]
    for j, rng in enumerate(_asset_streams(n_assets, seed)):
        for panel, values in zip(panels, _minute_asset(grid, rng), strict=True):
            panel[:, j] = values
    minute = _from_panels(grid.minutes, n_assets, panels, "minute")
    return minute, _aggregate(minute, grid, pd.DatetimeIndex(sessions).as_unit("ns"))


def _aggregate(
    minute: SyntheticBars, grid: _MinuteGrid, sessions: pd.DatetimeIndex
) -> SyntheticBars:
    return SyntheticBars(
        sessions,
        minute.symbols,
        open=minute.open[grid.starts],
        high=np.maximum.reduceat(minute.high, grid.starts, axis=0),
        low=np.minimum.reduceat(minute.low, grid.starts, axis=0),
        close=minute.close[grid.ends],
        volume=np.add.reduceat(minute.volume, grid.starts, axis=0),
        frequency="daily",
    )


# --- bundles and CSV files ----------------------------------------------------


def equities_frame(symbols: tuple[str, ...], sessions: pd.DatetimeIndex) -> pd.DataFrame:
    """The asset-db rows of a universe alive over all of ``sessions`` (indexed by sid)."""
    calendar = get_calendar(CALENDAR_NAME)
    last = sessions[-1]
    auto_close = calendar.next_session(last) if last < calendar.last_session else last
    frame = pd.DataFrame(
        {
            "symbol": list(symbols),
            "asset_name": [f"Synthetic {s}" for s in symbols],
            "start_date": sessions[0],
            "end_date": last,
            "first_traded": sessions[0],
            "auto_close_date": pd.Timestamp(auto_close),
            "exchange": EXCHANGE,
        }
    )
    frame.index = pd.RangeIndex(len(symbols), name="sid")
    return frame


def synthetic_ingest(daily: SyntheticBars, minute: SyntheticBars | None = None) -> Any:
    """An ingest function (zipline's signature) writing ``daily`` (and ``minute``) bars.

    Register it with :func:`rustybt.data.bundles.register`, on XNYS, with the
    bars' first and last session as ``start_session`` and ``end_session``.

    Examples
    --------
    >>> import tempfile
    >>> from rustybt.data import bundles
    >>> bars = generate_daily_bars(2, xnys_sessions(sessions=3))
    >>> _ = bundles.register("synthetic-doc", synthetic_ingest(bars),
    ...                      start_session=bars.sessions[0], end_session=bars.sessions[-1])
    >>> env = {"RUSTYBT_ROOT": tempfile.mkdtemp()}
    >>> _ = bundles.ingest("synthetic-doc", env)
    >>> with bundles.load("synthetic-doc", env) as data:
    ...     data.equity_daily_bar_reader.panel("close").shape
    (3, 2)
    >>> bundles.unregister("synthetic-doc")
    """

    def ingest(
        environ: Mapping[str, str],
        asset_db_writer: Any,
        minute_bar_writer: Any,
        daily_bar_writer: Any,
        adjustment_writer: Any,
        *_: Any,
    ) -> None:
        asset_db_writer.write(equities=equities_frame(daily.symbols, daily.sessions))
        daily_bar_writer.write(daily.frames())
        if minute is not None:
            minute_bar_writer.write(minute.frames())
        adjustment_writer.write()

    return ingest


def write_csvdir(bars: SyntheticBars, directory: Path | str) -> Path:
    """Write ``bars`` as a zipline csvdir: ``<directory>/daily/<SYMBOL>.csv``.

    The files have ``date,open,high,low,close,volume,dividend,split`` with no
    dividends (0.0) and no splits (1.0), the layout ``csvdir_equities`` reads.

    Examples
    --------
    >>> import tempfile
    >>> out = write_csvdir(generate_daily_bars(2, xnys_sessions(sessions=3)), tempfile.mkdtemp())
    >>> sorted(p.name for p in (out / "daily").iterdir())
    ['S0000.csv', 'S0001.csv']
    """
    if bars.frequency != "daily":
        raise ParameterValidationError("write_csvdir writes daily bars only")
    out = Path(directory)
    daily = out / "daily"
    daily.mkdir(parents=True, exist_ok=True)
    dates = bars.index.strftime("%Y-%m-%d")
    for sid, symbol in enumerate(bars.symbols):
        frame = bars.frame(sid)
        frame.index = pd.Index(dates, name="date")
        frame["volume"] = frame["volume"].astype(np.int64)
        frame["dividend"] = 0.0
        frame["split"] = 1.0
        frame.to_csv(daily / f"{symbol}.csv")
    return out
