"""The built-in ``demo`` bundle: synthetic US equities, no network needed.

Thirty well-known tickers (AAPL, MSFT, SPY, ...) with made-up but realistic
prices: a market factor plus per-asset drift and fat-tailed noise, a 2020
crash and recovery, real-life splits (AAPL 7:1 in 2014 and 4:1 in 2020, a GE
1:8 reverse split, ...), quarterly cash dividends, an IPO (UBER, 2019), a
delisting (MON, 2018) and a few sessions with no bar (GME). Daily bars cover
2014-2024 on the XNYS calendar; minute bars cover 2024, and the 2024 daily
bars are exactly the aggregate of the minute bars.

Prices are stored as traded (unadjusted): a split shows as a price drop on
its effective date, and the adjustments database undoes it.

Everything comes from one fixed seed, so every ingestion holds the same bars.

Examples
--------
>>> from rustybt.calendars import get_calendar
>>> data = generate_demo_data(get_calendar("XNYS"))
>>> data.equities.loc[0, "symbol"], len(data.equities)
('AAPL', 30)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.calendars import ExchangeCalendar
from rustybt.data.bundles.progress import progress_bar

__all__ = [
    "DEMO_END",
    "DEMO_MINUTE_START",
    "DEMO_START",
    "DemoData",
    "demo_ingest",
    "generate_demo_data",
]

DEMO_START: Final[pd.Timestamp] = pd.Timestamp("2014-01-02")
DEMO_END: Final[pd.Timestamp] = pd.Timestamp("2024-12-31")
#: The first session with minute bars (the first session of 2024).
DEMO_MINUTE_START: Final[pd.Timestamp] = pd.Timestamp("2024-01-02")
DEMO_SEED: Final[int] = 20_140_129

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

TRADING_DAYS: Final[int] = 252
# Market factor: annual drift and volatility of the log returns.
MARKET_DRIFT: Final[float] = 0.09
MARKET_VOL: Final[float] = 0.15
# Share of a day's variance that falls overnight (open gap vs. intraday move).
OVERNIGHT_SHARE: Final[float] = 0.2
# Student-t degrees of freedom of the idiosyncratic noise: fat tails.
TAIL_DF: Final[float] = 4.0
# The COVID-19 crash and rebound: (first session, last session, daily log drift).
CRASH_REGIMES: Final[tuple[tuple[str, str, float, float], ...]] = (
    ("2020-02-20", "2020-03-23", -0.016, 3.0),
    ("2020-03-24", "2020-06-08", 0.0065, 1.8),
)
EXCHANGES: Final[dict[str, str]] = {"NYSE": "XNYS", "NASDAQ": "XNAS"}

OHLCV: Final[list[str]] = ["open", "high", "low", "close", "volume"]
EQUITY_COLUMNS: Final[list[str]] = [
    "symbol",
    "asset_name",
    "start_date",
    "end_date",
    "first_traded",
    "auto_close_date",
    "exchange",
]
SPLIT_COLUMNS: Final[list[str]] = ["sid", "ratio", "effective_date"]
DIVIDEND_COLUMNS: Final[list[str]] = [
    "sid",
    "amount",
    "ex_date",
    "record_date",
    "declared_date",
    "pay_date",
]


@dataclass(frozen=True)
class _Spec:
    """One demo asset's parameters (annual figures; ``price`` is the first raw price)."""

    symbol: str
    name: str
    exchange: str
    price: float
    alpha: float
    vol: float
    beta: float
    dividend_yield: float = 0.0
    volume: float = 5e6
    # (effective date, shares after per share before): 7.0 is a 7-for-1 split.
    splits: tuple[tuple[str, float], ...] = ()
    start: str | None = None
    end: str | None = None
    missing: tuple[str, ...] = ()


_UNIVERSE: Final[tuple[_Spec, ...]] = (
    _Spec("AAPL", "Apple Inc.", "NASDAQ", 553.13, 0.10, 0.22, 1.15, 0.017, 11e6,
          (("2014-06-09", 7.0), ("2020-08-31", 4.0))),
    _Spec("AMZN", "Amazon.com, Inc.", "NASDAQ", 397.97, 0.10, 0.28, 1.20, 0.0, 3e6,
          (("2022-06-06", 20.0),)),
    _Spec("BA", "The Boeing Company", "NYSE", 136.50, -0.02, 0.28, 1.30, 0.020, 4e6),
    _Spec("CSCO", "Cisco Systems, Inc.", "NASDAQ", 22.30, 0.00, 0.20, 1.00, 0.030, 35e6),
    _Spec("DIS", "The Walt Disney Company", "NYSE", 76.30, 0.00, 0.20, 1.00, 0.012, 7e6),
    _Spec("GE", "General Electric Company", "NYSE", 27.70, -0.05, 0.25, 1.05, 0.030, 40e6,
          (("2021-08-02", 0.125),)),
    _Spec("GME", "GameStop Corp.", "NYSE", 48.40, -0.08, 0.40, 1.10, 0.0, 3e6,
          (("2022-07-22", 4.0),),
          missing=("2017-03-14", "2017-03-15", "2017-03-16", "2019-08-05", "2024-05-14")),
    _Spec("GOOG", "Alphabet Inc. Class C", "NASDAQ", 556.00, 0.06, 0.22, 1.10, 0.0, 2e6,
          (("2022-07-18", 20.0),)),
    _Spec("HD", "The Home Depot, Inc.", "NYSE", 82.00, 0.06, 0.18, 1.00, 0.022, 6e6),
    _Spec("IBM", "International Business Machines Corporation", "NYSE", 185.50, -0.04,
          0.18, 0.90, 0.035, 4e6),
    _Spec("INTC", "Intel Corporation", "NASDAQ", 25.80, -0.03, 0.25, 1.10, 0.035, 30e6),
    _Spec("JNJ", "Johnson & Johnson", "NYSE", 91.90, 0.00, 0.13, 0.60, 0.028, 8e6),
    _Spec("JPM", "JPMorgan Chase & Co.", "NYSE", 58.20, 0.03, 0.20, 1.15, 0.027, 13e6),
    _Spec("KO", "The Coca-Cola Company", "NYSE", 41.30, -0.01, 0.13, 0.60, 0.030, 12e6),
    _Spec("MCD", "McDonald's Corporation", "NYSE", 97.30, 0.03, 0.14, 0.65, 0.032, 5e6),
    _Spec("META", "Meta Platforms, Inc.", "NASDAQ", 54.70, 0.08, 0.30, 1.25, 0.0, 50e6),
    _Spec("MON", "Monsanto Company", "NYSE", 114.30, 0.00, 0.18, 0.90, 0.018, 3e6,
          end="2018-06-06"),
    _Spec("MSFT", "Microsoft Corporation", "NASDAQ", 37.20, 0.10, 0.20, 1.10, 0.025, 30e6),
    _Spec("NFLX", "Netflix, Inc.", "NASDAQ", 367.80, 0.12, 0.40, 1.30, 0.0, 2e6,
          (("2015-07-15", 7.0),)),
    _Spec("NKE", "NIKE, Inc.", "NYSE", 78.00, 0.03, 0.20, 0.95, 0.012, 4e6,
          (("2015-12-24", 2.0),)),
    _Spec("NVDA", "NVIDIA Corporation", "NASDAQ", 15.90, 0.25, 0.38, 1.60, 0.0, 8e6,
          (("2021-07-20", 4.0), ("2024-06-10", 10.0))),
    _Spec("PFE", "Pfizer Inc.", "NYSE", 30.50, -0.03, 0.15, 0.65, 0.035, 25e6),
    _Spec("PG", "The Procter & Gamble Company", "NYSE", 81.30, 0.00, 0.13, 0.55, 0.030, 8e6),
    _Spec("SPY", "SPDR S&P 500 ETF Trust", "NYSE", 182.90, 0.00, 0.01, 1.00, 0.018, 120e6),
    _Spec("T", "AT&T Inc.", "NYSE", 35.00, -0.05, 0.17, 0.70, 0.055, 25e6),
    _Spec("TSLA", "Tesla, Inc.", "NASDAQ", 150.10, 0.15, 0.50, 1.50, 0.0, 6e6,
          (("2020-08-31", 5.0), ("2022-08-25", 3.0))),
    _Spec("UBER", "Uber Technologies, Inc.", "NYSE", 42.00, 0.00, 0.40, 1.30, 0.0, 20e6,
          start="2019-05-10"),
    _Spec("V", "Visa Inc.", "NYSE", 222.40, 0.06, 0.18, 1.00, 0.008, 2.5e6,
          (("2015-03-19", 4.0),)),
    _Spec("WMT", "Walmart Inc.", "NYSE", 78.80, 0.02, 0.15, 0.60, 0.022, 7e6,
          (("2024-02-26", 3.0),)),
    _Spec("XOM", "Exxon Mobil Corporation", "NYSE", 100.80, -0.03, 0.22, 0.90, 0.035, 12e6),
)  # fmt: skip


@dataclass(frozen=True)
class DemoData:
    """Everything the demo bundle holds, in the writers' frame formats.

    Attributes
    ----------
    equities
        Indexed by sid: ``symbol, asset_name, start_date, end_date,
        first_traded, auto_close_date, exchange``.
    exchanges
        ``exchange, canonical_name, country_code``.
    daily
        Per sid, daily bars indexed by tz-naive session.
    minute
        Per sid alive in 2024, minute bars indexed by UTC minute.
    splits
        ``sid, ratio, effective_date`` (ratio 0.25 for a 4-for-1 split).
    dividends
        ``sid, amount, ex_date, record_date, declared_date, pay_date``.
    """

    equities: pd.DataFrame
    exchanges: pd.DataFrame
    daily: dict[int, pd.DataFrame]
    minute: dict[int, pd.DataFrame]
    splits: pd.DataFrame
    dividends: pd.DataFrame


@dataclass(frozen=True)
class _Paths:
    """Daily raw prices (sessions x assets) before the 2024 minute rebuild."""

    open: FloatArray
    close: FloatArray
    high: FloatArray
    low: FloatArray
    volume: FloatArray
    alive: npt.NDArray[np.bool_]
    dividends: list[tuple[int, int, float]]  # (asset, session position, amount)


def generate_demo_data(calendar: ExchangeCalendar) -> DemoData:
    """Generate the demo bundle's data; the same every call.

    Parameters
    ----------
    calendar
        The XNYS calendar (``rustybt.calendars.get_calendar("XNYS")``); it must
        cover 2014-01-02 .. 2025-01-31.

    Returns
    -------
    DemoData
        Assets, bars and adjustments, ready for the writers.
    """
    specs = sorted(_UNIVERSE, key=lambda s: s.symbol)
    sessions = calendar.sessions_in_range(DEMO_START, DEMO_END)
    seeds = np.random.SeedSequence(DEMO_SEED).spawn(len(specs) + 1)
    rngs = [np.random.default_rng(seed) for seed in seeds]
    market_rng, asset_rngs = rngs[0], rngs[1:]
    paths = _daily_paths(specs, sessions, market_rng, asset_rngs)
    daily = _daily_frames(paths, sessions)
    minute = _minute_year(specs, calendar, sessions, paths, asset_rngs, daily)
    return DemoData(
        equities=_equities(specs, calendar, sessions, paths),
        exchanges=_exchanges(),
        daily=daily,
        minute=minute,
        splits=_splits(specs, sessions),
        dividends=_dividends(paths, calendar, sessions),
    )


# --- daily paths ------------------------------------------------------------


def _daily_paths(
    specs: Sequence[_Spec],
    sessions: pd.DatetimeIndex,
    market_rng: np.random.Generator,
    asset_rngs: Sequence[np.random.Generator],
) -> _Paths:
    n, k = len(sessions), len(specs)
    alive = _alive(specs, sessions)
    gap_m, move_m = _market_returns(sessions, market_rng)
    gap = np.empty((n, k))
    move = np.empty((n, k))
    noise = np.empty((3, n, k))
    for j, (spec, rng) in enumerate(zip(specs, asset_rngs, strict=True)):
        g, d = _asset_returns(spec, gap_m, move_m, rng)
        gap[:, j], move[:, j] = g, d
        # Drawn here, in a fixed order, so each asset's stream is its own.
        noise[:, :, j] = rng.standard_normal((3, n))
    dividends = _dividend_schedule(specs, sessions, alive)
    for j, t in dividends:
        # The price drops by the dividend at the open of the ex date.
        gap[t, j] += np.log1p(-specs[j].dividend_yield / 4.0)
    first = alive.argmax(axis=0)
    gap[first, np.arange(k)] = 0.0  # the first bar opens at the listing price
    log_ret = np.where(alive, gap + move, 0.0)
    log_close = np.log([s.price for s in specs]) + np.cumsum(log_ret, axis=0)
    log_open = log_close - np.where(alive, move, 0.0)
    factor = _split_factors(specs, sessions)
    open_, close = np.exp(log_open) / factor, np.exp(log_close) / factor
    high, low = _daily_range(open_, close, specs, noise[0], noise[1])
    volume = _daily_volume(specs, factor, log_ret, noise[2])
    amounts = [
        (j, t, float(_cents(specs[j].dividend_yield / 4.0 * close[t - 1, j]))) for j, t in dividends
    ]
    return _Paths(
        open=_cents(open_),
        close=_cents(close),
        high=_cents(high),
        low=_cents(low),
        volume=volume,
        alive=alive,
        dividends=amounts,
    )


def _alive(specs: Sequence[_Spec], sessions: pd.DatetimeIndex) -> npt.NDArray[np.bool_]:
    alive = np.zeros((len(sessions), len(specs)), dtype=bool)
    for j, spec in enumerate(specs):
        start = pd.Timestamp(spec.start) if spec.start else sessions[0]
        end = pd.Timestamp(spec.end) if spec.end else sessions[-1]
        alive[:, j] = (sessions >= start) & (sessions <= end)
        for day in spec.missing:
            alive[_position(sessions, day), j] = False
    return alive


def _position(sessions: pd.DatetimeIndex, day: str) -> int:
    stamp = pd.Timestamp(day)
    pos = int(sessions.searchsorted(stamp))
    if pos >= len(sessions) or sessions[pos] != stamp:
        raise ValueError(f"demo data: {day} is not an XNYS session")
    return pos


def _market_returns(
    sessions: pd.DatetimeIndex, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Overnight and intraday log returns of the market factor."""
    n = len(sessions)
    # Volatility clusters: a slowly mean-reverting log-volatility multiplier.
    shocks = rng.standard_normal(n) * 0.06
    log_vol = np.empty(n)
    level = 0.0
    for t in range(n):
        level = 0.985 * level + shocks[t]
        log_vol[t] = level
    scale = np.exp(log_vol - log_vol.mean())
    drift = np.full(n, (MARKET_DRIFT - 0.5 * MARKET_VOL**2) / TRADING_DAYS)
    for first, last, daily_drift, vol_mult in CRASH_REGIMES:
        window = (sessions >= pd.Timestamp(first)) & (sessions <= pd.Timestamp(last))
        drift[window] += daily_drift
        scale[window] *= vol_mult
    sigma = MARKET_VOL / np.sqrt(TRADING_DAYS) * scale
    z_gap, z_move = rng.standard_normal((2, n))
    gap = sigma * np.sqrt(OVERNIGHT_SHARE) * z_gap
    move = drift + sigma * np.sqrt(1.0 - OVERNIGHT_SHARE) * z_move
    return gap, move


def _asset_returns(
    spec: _Spec, gap_m: FloatArray, move_m: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """An asset's overnight and intraday log returns: beta to the market plus noise."""
    n = len(gap_m)
    sigma = spec.vol / np.sqrt(TRADING_DAYS)
    # Unit-variance Student-t noise.
    tails = rng.standard_t(TAIL_DF, (2, n)) / np.sqrt(TAIL_DF / (TAIL_DF - 2.0))
    drift = (spec.alpha - 0.5 * spec.vol**2) / TRADING_DAYS
    gap = spec.beta * gap_m + sigma * np.sqrt(OVERNIGHT_SHARE) * tails[0]
    move = drift + spec.beta * move_m + sigma * np.sqrt(1.0 - OVERNIGHT_SHARE) * tails[1]
    return gap, move


def _daily_sigma(spec: _Spec) -> float:
    return float(np.hypot(spec.beta * MARKET_VOL, spec.vol) / np.sqrt(TRADING_DAYS))


def _split_factors(specs: Sequence[_Spec], sessions: pd.DatetimeIndex) -> FloatArray:
    """Shares now per original share, by session: raw price = value / factor."""
    factor = np.ones((len(sessions), len(specs)))
    for j, spec in enumerate(specs):
        for day, split in spec.splits:
            factor[_position(sessions, day) :, j] *= split
    return factor


def _daily_range(
    open_: FloatArray,
    close: FloatArray,
    specs: Sequence[_Spec],
    z_high: FloatArray,
    z_low: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    reach = 0.5 * np.array([_daily_sigma(s) for s in specs])
    high = np.maximum(open_, close) * np.exp(np.abs(z_high) * reach)
    low = np.minimum(open_, close) * np.exp(-np.abs(z_low) * reach)
    return high, low


def _daily_volume(
    specs: Sequence[_Spec], factor: FloatArray, log_ret: FloatArray, z: FloatArray
) -> FloatArray:
    """Shares traded: busier on big moves, and more shares after a split."""
    base = np.array([s.volume for s in specs])
    sigma = np.array([_daily_sigma(s) for s in specs])
    surprise = np.abs(log_ret) / sigma
    volume = base * factor * np.exp(0.35 * z - 0.06) * (0.7 + 0.3 * surprise)
    return np.maximum(np.round(volume), 100.0)


def _dividend_schedule(
    specs: Sequence[_Spec], sessions: pd.DatetimeIndex, alive: npt.NDArray[np.bool_]
) -> list[tuple[int, int]]:
    """Quarterly ex dates as ``(asset, session position)``; amounts come with the prices."""
    out: list[tuple[int, int]] = []
    years = range(DEMO_START.year, DEMO_END.year + 1)
    for j, spec in enumerate(specs):
        if spec.dividend_yield <= 0.0:
            continue
        first_month, day = 1 + j % 3, 5 + (7 * j) % 15
        for year in years:
            for month in range(first_month, 13, 3):
                t = int(sessions.searchsorted(pd.Timestamp(year, month, day)))
                # The day before the ex date must have a bar to price the dividend.
                if 0 < t < len(sessions) and alive[t, j] and alive[t - 1, j]:
                    out.append((j, t))
    return out


def _cents(values: Any) -> Any:
    """Round prices to cents, never below one cent (rounding keeps high >= close etc.)."""
    return np.maximum(np.round(values, 2), 0.01)


def _daily_frames(paths: _Paths, sessions: pd.DatetimeIndex) -> dict[int, pd.DataFrame]:
    frames = {}
    for j in range(paths.alive.shape[1]):
        rows = paths.alive[:, j]
        frames[j] = pd.DataFrame(
            {
                "open": paths.open[rows, j],
                "high": paths.high[rows, j],
                "low": paths.low[rows, j],
                "close": paths.close[rows, j],
                "volume": paths.volume[rows, j],
            },
            index=pd.DatetimeIndex(sessions[rows], name="date"),
        )
    return frames


# --- the minute year --------------------------------------------------------


@dataclass(frozen=True)
class _MinuteGrid:
    """The 2024 trading minutes and where each session's minutes start."""

    minutes: pd.DatetimeIndex
    sessions: pd.DatetimeIndex
    counts: IntArray
    starts: IntArray

    @property
    def ends(self) -> IntArray:
        return self.starts + self.counts - 1


def _minute_grid(calendar: ExchangeCalendar, sessions: pd.DatetimeIndex) -> _MinuteGrid:
    year = sessions[sessions >= DEMO_MINUTE_START]
    minutes = calendar.sessions_minutes(year[0], year[-1])
    opens = calendar.opens.loc[year].to_numpy()
    closes = calendar.closes.loc[year].to_numpy()
    # side="right": a session has one bar per minute from open+1 to close.
    counts = ((closes - opens) // np.timedelta64(1, "m")).astype(np.int64)
    if counts.sum() != len(minutes):  # pragma: no cover - a calendar mismatch
        raise ValueError("demo data: calendar minutes do not match its sessions")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return _MinuteGrid(minutes, year, counts, starts)


def _minute_year(
    specs: Sequence[_Spec],
    calendar: ExchangeCalendar,
    sessions: pd.DatetimeIndex,
    paths: _Paths,
    asset_rngs: Sequence[np.random.Generator],
    daily: dict[int, pd.DataFrame],
) -> dict[int, pd.DataFrame]:
    """Minute bars for 2024, and the 2024 daily bars rebuilt from them."""
    grid = _minute_grid(calendar, sessions)
    first = len(sessions) - len(grid.sessions)
    out: dict[int, pd.DataFrame] = {}
    for j, spec in enumerate(specs):
        alive = paths.alive[first:, j]
        if not alive.any():
            continue
        bars = _minute_bars(
            spec,
            grid,
            paths.open[first:, j],
            paths.close[first:, j],
            paths.volume[first:, j],
            asset_rngs[j],
        )
        keep = np.repeat(alive, grid.counts)
        out[j] = pd.DataFrame(
            {name: bars[name][keep] for name in OHLCV},
            index=pd.DatetimeIndex(grid.minutes[keep], name="date"),
        )
        daily[j] = _replace_year(daily[j], _aggregate(bars, grid)[alive], grid.sessions[alive])
    return out


def _minute_bars(
    spec: _Spec,
    grid: _MinuteGrid,
    day_open: FloatArray,
    day_close: FloatArray,
    day_volume: FloatArray,
    rng: np.random.Generator,
) -> dict[str, FloatArray]:
    """A Brownian bridge per session from the day's open to its close, all sessions at once."""
    total = len(grid.minutes)
    session_of = np.repeat(np.arange(len(grid.counts)), grid.counts)
    step = (np.arange(total) - grid.starts[session_of] + 1).astype(np.float64)
    frac = step / grid.counts[session_of]
    sigma = 0.9 * _daily_sigma(spec) / np.sqrt(grid.counts[session_of])
    z_path, z_high, z_low, z_volume = rng.standard_normal((4, total))
    walk = np.cumsum(z_path * sigma)
    # Restart the walk at each session: subtract the running sum before it.
    before = np.where(grid.starts > 0, walk[grid.starts - 1], 0.0)
    walk -= before[session_of]
    log_open = np.log(day_open)[session_of]
    log_close = np.log(day_close)[session_of]
    path = log_open + frac * (log_close - log_open) + walk - frac * walk[grid.ends][session_of]
    close = np.exp(path)
    open_ = np.empty(total)
    open_[1:] = close[:-1]
    open_[grid.starts] = day_open  # each session opens at the daily open
    high = np.maximum(open_, close) * np.exp(np.abs(z_high) * 0.3 * sigma)
    low = np.minimum(open_, close) * np.exp(-np.abs(z_low) * 0.3 * sigma)
    return {
        "open": _cents(open_),
        "high": _cents(high),
        "low": _cents(low),
        "close": _cents(close),
        "volume": _minute_volume(grid, session_of, frac, day_volume, z_volume),
    }


def _minute_volume(
    grid: _MinuteGrid,
    session_of: IntArray,
    frac: FloatArray,
    day_volume: FloatArray,
    z: FloatArray,
) -> FloatArray:
    """The day's volume spread over its minutes, heavier at the open and close."""
    weight = (1.0 + 3.0 * (2.0 * frac - 1.0) ** 4) * np.exp(0.5 * z)
    share = weight / np.add.reduceat(weight, grid.starts)[session_of]
    return np.maximum(np.round(day_volume[session_of] * share), 1.0)


def _aggregate(bars: Mapping[str, FloatArray], grid: _MinuteGrid) -> pd.DataFrame:
    """Daily bars of the minute bars: first open, max high, min low, last close, sum."""
    return pd.DataFrame(
        {
            "open": bars["open"][grid.starts],
            "high": np.maximum.reduceat(bars["high"], grid.starts),
            "low": np.minimum.reduceat(bars["low"], grid.starts),
            "close": bars["close"][grid.ends],
            "volume": np.add.reduceat(bars["volume"], grid.starts),
        }
    )


def _replace_year(
    frame: pd.DataFrame, year: pd.DataFrame, sessions: pd.DatetimeIndex
) -> pd.DataFrame:
    before = frame[frame.index < DEMO_MINUTE_START]
    year = year.set_axis(pd.DatetimeIndex(sessions, name="date"))
    return pd.concat([before, year])


# --- assets and adjustments -------------------------------------------------


def _equities(
    specs: Sequence[_Spec],
    calendar: ExchangeCalendar,
    sessions: pd.DatetimeIndex,
    paths: _Paths,
) -> pd.DataFrame:
    rows = []
    for j, spec in enumerate(specs):
        lived = sessions[paths.alive[:, j]]
        first, last = lived[0], lived[-1]
        rows.append(
            {
                "symbol": spec.symbol,
                "asset_name": spec.name,
                "start_date": first,
                "end_date": last,
                "first_traded": first,
                "auto_close_date": _next_session(calendar, last),
                "exchange": spec.exchange,
            }
        )
    frame = pd.DataFrame(rows, columns=EQUITY_COLUMNS)
    frame.index = pd.RangeIndex(len(rows), name="sid")
    return frame


def _next_session(calendar: ExchangeCalendar, session: pd.Timestamp) -> pd.Timestamp:
    """The session after ``session``, or the next day past the calendar's end."""
    if session < calendar.last_session:
        return pd.Timestamp(calendar.next_session(session))
    return session + pd.Timedelta(days=1)


def _exchanges() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "exchange": list(EXCHANGES),
            "canonical_name": list(EXCHANGES.values()),
            "country_code": ["US"] * len(EXCHANGES),
        }
    )


def _splits(specs: Sequence[_Spec], sessions: pd.DatetimeIndex) -> pd.DataFrame:
    rows = [
        {"sid": j, "ratio": 1.0 / split, "effective_date": sessions[_position(sessions, day)]}
        for j, spec in enumerate(specs)
        for day, split in spec.splits
    ]
    frame = pd.DataFrame(rows, columns=SPLIT_COLUMNS)
    frame["effective_date"] = pd.DatetimeIndex(frame["effective_date"]).as_unit("ns")
    return frame.sort_values(["effective_date", "sid"], ignore_index=True)


def _dividends(
    paths: _Paths, calendar: ExchangeCalendar, sessions: pd.DatetimeIndex
) -> pd.DataFrame:
    """Cash dividends, dated as US companies do: declared weeks ahead, paid weeks after."""
    all_sessions = calendar.sessions
    last = len(all_sessions) - 1

    def session_at(position: int) -> pd.Timestamp:
        # Clipped, so a calendar that ends soon after DEMO_END still works.
        return pd.Timestamp(all_sessions[min(max(position, 0), last)])

    rows = []
    for j, t, amount in paths.dividends:
        ex = sessions[t]
        at = int(all_sessions.searchsorted(ex))
        rows.append(
            {
                "sid": j,
                "amount": float(amount),
                "ex_date": ex,
                "record_date": session_at(at + 1),
                "declared_date": session_at(at - 15),
                "pay_date": session_at(at + 10),
            }
        )
    frame = pd.DataFrame(rows, columns=DIVIDEND_COLUMNS)
    for column in DIVIDEND_COLUMNS[2:]:
        frame[column] = pd.DatetimeIndex(frame[column]).as_unit("ns")
    return frame.sort_values(["ex_date", "sid"], ignore_index=True)


# --- ingest -----------------------------------------------------------------


def demo_ingest(
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
    """Write the demo bundle (zipline's ingest signature).

    Bars outside ``start_session .. end_session`` are left out, so the demo
    can be registered over a shorter range.
    """
    data = generate_demo_data(calendar)
    start = DEMO_START if start_session is None else pd.Timestamp(start_session)
    end = DEMO_END if end_session is None else pd.Timestamp(end_session)
    daily = {sid: _clip(frame, start, end) for sid, frame in data.daily.items()}
    daily = {sid: frame for sid, frame in daily.items() if len(frame)}
    minute = {sid: _clip(frame, start, end, minute=True) for sid, frame in data.minute.items()}
    minute = {sid: frame for sid, frame in minute.items() if len(frame)}
    with progress_bar(show_progress, len(daily), "demo daily bars") as advance:
        daily_bar_writer.write(_pairs(daily, data.equities, advance), show_progress=show_progress)
    with progress_bar(show_progress, len(minute), "demo minute bars") as advance:
        minute_bar_writer.write(_pairs(minute, data.equities, advance), show_progress=show_progress)
    asset_db_writer.write(
        equities=_clip_equities(data.equities, daily, calendar), exchanges=data.exchanges
    )
    adjustment_writer.write(
        splits=_clip_adjustments(data.splits, "effective_date", daily, start, end),
        dividends=_clip_adjustments(data.dividends, "ex_date", daily, start, end),
    )


def _clip(
    frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, *, minute: bool = False
) -> pd.DataFrame:
    index = pd.DatetimeIndex(frame.index)
    days = index.tz_convert(None).normalize() if minute else index
    if days[0] >= start and days[-1] <= end:
        return frame
    return frame[(days >= start) & (days <= end)]


def _clip_equities(
    equities: pd.DataFrame, daily: Mapping[int, pd.DataFrame], calendar: ExchangeCalendar
) -> pd.DataFrame:
    """The assets with bars in the range, their dates narrowed to it."""
    out = equities.loc[sorted(daily)].copy()
    for sid, frame in daily.items():
        first, last = frame.index[0], frame.index[-1]
        if first == out.loc[sid, "start_date"] and last == out.loc[sid, "end_date"]:
            continue
        out.loc[sid, ["start_date", "first_traded", "end_date"]] = [first, first, last]
        out.loc[sid, "auto_close_date"] = _next_session(calendar, last)
    return out


def _clip_adjustments(
    frame: pd.DataFrame,
    date_column: str,
    daily: Mapping[int, pd.DataFrame],
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> pd.DataFrame:
    dates = frame[date_column]
    keep = frame["sid"].isin(list(daily)) & (dates >= start) & (dates <= end)
    return frame[keep].reset_index(drop=True)


def _pairs(
    frames: Mapping[int, pd.DataFrame], equities: pd.DataFrame, advance: Any
) -> Iterator[tuple[int, pd.DataFrame]]:
    for sid, frame in frames.items():
        symbol = str(equities.loc[sid, "symbol"])
        advance(symbol)
        out = frame.copy(deep=False)
        out.attrs["source"] = f"demo {symbol} (sid {sid})"
        yield sid, out
