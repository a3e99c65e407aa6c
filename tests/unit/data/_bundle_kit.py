"""Write small, hand-checkable bundles with the real writers, and read them back.

The default bundle (:func:`default_spec`) has 15 XNYS sessions, 2024-01-02 ..
2024-01-23 (session index ``i`` below), and four equities:

=====  ======  ==================================================================
sid    symbol  daily bars (open = close - 0.5, high = close + 1, low = close - 1)
=====  ======  ==================================================================
1      AAA     close 100 + i before i = 8, 50 + i from i = 8; volume 3900, then
               7800; a 2:1 split (ratio 0.5) effective session 8 (2024-01-12)
2      BBB     close 41 + i, no bar on session 5; volume 1950; a 1.00 dividend
               with ex_date session 10 (2024-01-17): prior close 50 -> ratio 0.98
3      CCC     alive sessions 4..12 only (auto-close session 13); close 20 + i;
               volume 780
4      DDD     alive throughout, never traded (no bars at all)
=====  ======  ==================================================================

Minute bars cover sessions 7..10 (2024-01-11 .. 2024-01-17) for every asset
alive then, built by :func:`minute_bars` so that they roll up to exactly the
daily bar: minute ``j`` closes at ``close - 0.001 * (389 - j)``, opens at the
previous minute's close (the first at the day's open), minute 100 reaches the
day's high and minute 200 its low, and each trades ``volume / 390``. BBB has no
bars in the first 30 minutes of session 9 (2024-01-16); its daily bar for that
session is the roll-up of the minutes it has.

Usage::

    bundle = write_bundle(tmp_path)          # or write_bundle(tmp_path, spec)
    portal = bundle.portal()                 # a DataPortal over the real readers
    aaa = bundle.asset(1)

:func:`synthetic_spec` builds larger random bundles (benchmarks, engine tests).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rustybt.assets import Asset, AssetDBWriter, AssetFinder
from rustybt.calendars import ExchangeCalendar, get_calendar
from rustybt.data.portal import DataPortal
from rustybt.data.storage import (
    ParquetDailyBarReader,
    ParquetDailyBarWriter,
    ParquetMinuteBarReader,
    ParquetMinuteBarWriter,
    SQLiteAdjustmentReader,
    SQLiteAdjustmentWriter,
)

OHLCV = ["open", "high", "low", "close", "volume"]
MINUTES_PER_DAY = 390


@dataclass
class AssetSpec:
    """One equity: life span as session indices, and its symbol."""

    sid: int
    symbol: str
    start: int
    end: int
    auto_close: int | None = None


@dataclass
class BundleSpec:
    """Everything a test bundle holds, before it is written.

    ``daily`` and ``minute`` map sid -> OHLCV frame (indexed by session /
    UTC minute). ``splits`` and ``dividends`` are zipline-format frames.
    """

    calendar_name: str
    sessions: pd.DatetimeIndex
    assets: list[AssetSpec]
    daily: dict[int, pd.DataFrame]
    minute: dict[int, pd.DataFrame] = field(default_factory=dict)
    splits: pd.DataFrame | None = None
    dividends: pd.DataFrame | None = None


@dataclass
class Bundle:
    """A written bundle: its files, the real readers, and the spec it came from."""

    root: Path
    spec: BundleSpec
    calendar: ExchangeCalendar
    sessions: pd.DatetimeIndex
    asset_finder: AssetFinder
    daily_reader: ParquetDailyBarReader
    minute_reader: ParquetMinuteBarReader | None
    adjustment_reader: SQLiteAdjustmentReader

    def asset(self, sid: int) -> Asset:
        """The asset with ``sid``."""
        found = self.asset_finder.retrieve_asset(sid)
        assert found is not None
        return found

    def assets(self, sids: Iterable[int] | None = None) -> list[Asset]:
        """Assets of ``sids`` (default: every asset), in that order."""
        wanted = [a.sid for a in self.spec.assets] if sids is None else list(sids)
        return [self.asset(s) for s in wanted]

    def portal(self, **kwargs: Any) -> DataPortal:
        """A DataPortal over the bundle's readers (keywords override the defaults)."""
        options: dict[str, Any] = {
            "asset_finder": self.asset_finder,
            "trading_calendar": self.calendar,
            "first_trading_day": self.sessions[0],
            "equity_daily_reader": self.daily_reader,
            "equity_minute_reader": self.minute_reader,
            "adjustment_reader": self.adjustment_reader,
        }
        options.update(kwargs)
        return DataPortal(**options)

    def session_close(self, session_index: int) -> pd.Timestamp:
        """The UTC close of session ``session_index``."""
        return self.calendar.session_close(self.sessions[session_index])

    def minutes(self, session_index: int) -> pd.DatetimeIndex:
        """The UTC trading minutes of session ``session_index``."""
        return self.calendar.session_minutes(self.sessions[session_index])

    def close(self) -> None:
        """Release the adjustments database."""
        self.adjustment_reader.close()


# --- building frames -----------------------------------------------------------


def daily_frame(sessions: pd.DatetimeIndex, close: np.ndarray, volume: np.ndarray) -> pd.DataFrame:
    """Daily bars with open = close - 0.5, high = close + 1, low = close - 1."""
    close = np.asarray(close, dtype=np.float64)
    return pd.DataFrame(
        {
            "open": close - 0.5,
            "high": close + 1.0,
            "low": close - 1.0,
            "close": close,
            "volume": np.asarray(volume, dtype=np.float64),
        },
        index=pd.DatetimeIndex(sessions),
    )


def minute_bars(daily_bar: pd.Series, minutes: pd.DatetimeIndex) -> pd.DataFrame:
    """390 minute bars that roll up exactly to ``daily_bar`` (see the module doc).

    Needs ``low < close - 0.389 < close < high`` and ``low < open < high``.
    """
    o, h, lo, c, v = (float(daily_bar[name]) for name in OHLCV)
    j = np.arange(len(minutes), dtype=np.float64)
    close = c - 0.001 * (len(minutes) - 1 - j)
    opens = np.concatenate(([o], close[:-1]))
    high = np.maximum(opens, close)
    low = np.minimum(opens, close)
    high[min(100, len(minutes) - 1)] = h
    low[min(200, len(minutes) - 1)] = lo
    volume = np.full(len(minutes), v / len(minutes))
    return pd.DataFrame(
        {"open": opens, "high": high, "low": low, "close": close, "volume": volume},
        index=pd.DatetimeIndex(minutes),
    )


def roll_up(minutes: pd.DataFrame) -> pd.Series:
    """The daily bar of some minute bars (first open, max high, min low, last close, sum)."""
    return pd.Series(
        {
            "open": minutes["open"].iloc[0],
            "high": minutes["high"].max(),
            "low": minutes["low"].min(),
            "close": minutes["close"].iloc[-1],
            "volume": minutes["volume"].sum(),
        }
    )


def default_spec() -> BundleSpec:
    """The four-equity, fifteen-session bundle described in the module doc."""
    cal = get_calendar("XNYS")
    sessions = pd.DatetimeIndex(cal.sessions_in_range("2024-01-02", "2024-01-23"))
    assert len(sessions) == 15
    i = np.arange(len(sessions), dtype=np.float64)
    aaa = daily_frame(sessions, np.where(i < 8, 100 + i, 50 + i), np.where(i < 8, 3900, 7800))
    bbb = daily_frame(sessions, 41 + i, np.full(15, 1950)).drop(sessions[5])
    ccc = daily_frame(sessions[4:13], 20 + i[4:13], np.full(9, 780))
    daily = {1: aaa, 2: bbb, 3: ccc}
    minute: dict[int, pd.DataFrame] = {}
    for sid, frame in daily.items():
        parts = []
        for s in range(7, 11):
            if sessions[s] not in frame.index:
                continue
            day = frame.loc[sessions[s]]
            assert isinstance(day, pd.Series)
            bars = minute_bars(day, cal.session_minutes(sessions[s]))
            if sid == 2 and s == 9:
                bars = bars.iloc[30:]
                frame.loc[sessions[s]] = roll_up(bars)
            parts.append(bars)
        minute[sid] = pd.concat(parts)
    assets = [
        AssetSpec(1, "AAA", 0, 14),
        AssetSpec(2, "BBB", 0, 14),
        AssetSpec(3, "CCC", 4, 12, auto_close=13),
        AssetSpec(4, "DDD", 0, 14),
    ]
    splits = pd.DataFrame({"sid": [1], "ratio": [0.5], "effective_date": [sessions[8]]})
    dividends = pd.DataFrame(
        {
            "sid": [2],
            "amount": [1.0],
            "ex_date": [sessions[10]],
            "record_date": [sessions[11]],
            "declared_date": [sessions[6]],
            "pay_date": [sessions[12]],
        }
    )
    return BundleSpec("XNYS", sessions, assets, daily, minute, splits, dividends)


def synthetic_spec(
    n_assets: int,
    start: str,
    end: str,
    seed: int = 0,
    n_splits: int = 0,
    calendar_name: str = "XNYS",
) -> BundleSpec:
    """A random-walk daily bundle of ``n_assets`` equities over ``[start, end]``.

    Each asset trades every session; ``n_splits`` random 2:1 splits are
    spread over random assets.
    """
    cal = get_calendar(calendar_name)
    sessions = pd.DatetimeIndex(cal.sessions_in_range(start, end))
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.01, size=(len(sessions), n_assets))
    closes = 50.0 * np.exp(np.cumsum(steps, axis=0)) + 5.0
    volumes = rng.integers(1_000, 100_000, size=(len(sessions), n_assets)).astype(np.float64)
    daily = {
        sid: daily_frame(sessions, closes[:, sid - 1], volumes[:, sid - 1])
        for sid in range(1, n_assets + 1)
    }
    assets = [AssetSpec(sid, f"S{sid:04d}", 0, len(sessions) - 1) for sid in daily]
    splits = None
    if n_splits:
        splits = pd.DataFrame(
            {
                "sid": rng.integers(1, n_assets + 1, size=n_splits),
                "ratio": np.full(n_splits, 0.5),
                "effective_date": sessions[rng.integers(1, len(sessions), size=n_splits)],
            }
        )
    return BundleSpec(calendar_name, sessions, assets, daily, {}, splits, None)


# --- writing -------------------------------------------------------------------


def write_bundle(root: Path, spec: BundleSpec | None = None) -> Bundle:
    """Write ``spec`` (default :func:`default_spec`) under ``root`` and open its readers."""
    spec = default_spec() if spec is None else spec
    root.mkdir(parents=True, exist_ok=True)
    cal = get_calendar(spec.calendar_name)
    first, last = spec.sessions[0], spec.sessions[-1]
    _write_assets(root / "assets.sqlite", spec)
    daily_path = root / "daily_equities.parquet"
    daily_writer = ParquetDailyBarWriter(daily_path, cal, first, last)
    daily_writer.write(sorted(spec.daily.items()))
    daily_writer.finalize()
    daily_reader = ParquetDailyBarReader(daily_path, cal, first, last)
    minute_reader = None
    if spec.minute:
        minute_path = root / "minute_equities.parquet"
        minute_writer = ParquetMinuteBarWriter(minute_path, cal, first, last)
        minute_writer.write(sorted(spec.minute.items()))
        minute_writer.finalize()
        minute_reader = ParquetMinuteBarReader(minute_path, cal, first, last)
    adjustments_path = root / "adjustments.sqlite"
    adjustment_writer = SQLiteAdjustmentWriter(
        adjustments_path, cal, spec.sessions, known_sids=[a.sid for a in spec.assets]
    )
    adjustment_writer.write(splits=spec.splits, dividends=spec.dividends)
    adjustment_writer.finalize(daily_reader)
    return Bundle(
        root=root,
        spec=spec,
        calendar=cal,
        sessions=spec.sessions,
        asset_finder=AssetFinder(root / "assets.sqlite"),
        daily_reader=daily_reader,
        minute_reader=minute_reader,
        adjustment_reader=SQLiteAdjustmentReader(adjustments_path),
    )


def _write_assets(path: Path, spec: BundleSpec) -> None:
    sessions = spec.sessions
    frame = pd.DataFrame(
        {
            "symbol": [a.symbol for a in spec.assets],
            "asset_name": [f"{a.symbol} Inc." for a in spec.assets],
            "start_date": [sessions[a.start] for a in spec.assets],
            "end_date": [sessions[a.end] for a in spec.assets],
            "auto_close_date": [
                None if a.auto_close is None else sessions[a.auto_close] for a in spec.assets
            ],
            "exchange": ["NYSE"] * len(spec.assets),
        },
        index=pd.Index([a.sid for a in spec.assets], name="sid"),
    )
    AssetDBWriter(path).write(equities=frame)
