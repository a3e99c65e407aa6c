"""Write the synthetic bars every peer reads, as a zipline-layout csvdir.

    python gen_data.py daily  OUT --assets 500 [--sessions 2148]
    python gen_data.py minute OUT --assets 50 [--sessions 250]

``OUT/daily/S0000.csv`` (or ``OUT/minute/``) with ``date,open,high,low,close,volume``
and ``OUT/manifest.json`` (sessions, symbols, frequency). Needs numpy, pandas and
exchange_calendars (run it with rustybt's venv).

Each asset is a geometric random walk drawn from ``numpy.random.default_rng([SEED, i])``,
so the data is the same on every machine and the first 50 assets of the 500-asset
set are the 50-asset set. Prices are in cents (2 dp: zipline stores them to 3 dp,
so nothing is lost on its side), high >= max(open, close), low <= min(open, close),
whole-share volumes, no splits, no dividends. Daily bars cover the XNYS sessions
2014-01-02 .. 2023-12-29 (2,516), or their first N with ``--sessions N`` (the
same bars, cut: a prefix of the full data set); minute bars the XNYS minutes (zipline's labels:
the minute's close, 14:31 .. 21:00 UTC in winter; early closes included) of the
sessions from 2023-01-03 on (the simulated span), plus one session before it
(2022-12-30: see ``MINUTE_WARMUP_SESSIONS``); a minute data set also has its
daily bars (the aggregate of its minutes) in ``OUT/daily/``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import exchange_calendars as xcals
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers_common import (
    CALENDAR,
    DAILY_END,
    DAILY_START,
    MINUTE_END,
    MINUTE_START,
    MINUTE_WARMUP_SESSIONS,
    SEED,
    symbols,
)


def _calendar() -> xcals.ExchangeCalendar:
    return xcals.get_calendar(CALENDAR, side="right", start="2013-01-01", end="2024-12-31")


def _asset_params(rng: np.random.Generator) -> tuple[float, float, float, float]:
    """Start price, annual drift, annual volatility, typical daily volume."""
    return (
        float(rng.uniform(15.0, 250.0)),
        float(rng.normal(0.06, 0.08)),
        float(rng.uniform(0.15, 0.45)),
        float(np.exp(rng.uniform(np.log(2e5), np.log(2e7)))),
    )


def _ohlc(
    rng: np.random.Generator, close: np.ndarray, open_: np.ndarray, wiggle: float
) -> pd.DataFrame:
    """Round to cents and put high/low around open/close."""
    close = np.maximum(np.round(close, 2), 0.5)
    open_ = np.maximum(np.round(open_, 2), 0.5)
    top = np.maximum(open_, close)
    bottom = np.minimum(open_, close)
    high = np.ceil(top * (1.0 + np.abs(rng.normal(0.0, wiggle, close.size))) * 100.0) / 100.0
    low = np.floor(bottom * (1.0 - np.abs(rng.normal(0.0, wiggle, close.size))) * 100.0) / 100.0
    low = np.maximum(low, 0.01)
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close})


def daily_frame(i: int, n_sessions: int) -> pd.DataFrame:
    rng = np.random.default_rng([SEED, i])
    p0, mu, sigma, vol = _asset_params(rng)
    sd = sigma / np.sqrt(252.0)
    # Fat-ish tails: a Student t with 5 degrees of freedom, scaled to unit variance.
    shocks = rng.standard_t(5, n_sessions) / np.sqrt(5.0 / 3.0)
    log_ret = (mu / 252.0 - 0.5 * sd * sd) + sd * shocks
    close = p0 * np.exp(np.cumsum(log_ret))
    prev = np.concatenate([[p0], close[:-1]])
    open_ = prev * np.exp(rng.normal(0.0, 0.25 * sd, n_sessions))
    frame = _ohlc(rng, close, open_, 0.4 * sd)
    frame["volume"] = np.maximum(
        np.round(vol * np.exp(rng.normal(0.0, 0.45, n_sessions))), 100
    ).astype(np.int64)
    return frame


def minute_frame(i: int, session_of_minute: np.ndarray) -> pd.DataFrame:
    rng = np.random.default_rng([SEED, 1_000_000 + i])
    p0, mu, sigma, vol = _asset_params(rng)
    n = session_of_minute.size
    sd_min = sigma / np.sqrt(252.0 * 390.0)
    log_ret = (mu / (252.0 * 390.0) - 0.5 * sd_min * sd_min) + sd_min * rng.standard_normal(n)
    # Overnight gaps: the first minute of each session moves like a third of a day.
    first = np.concatenate([[True], session_of_minute[1:] != session_of_minute[:-1]])
    log_ret[first] += rng.normal(0.0, 0.3 * sigma / np.sqrt(252.0), int(first.sum()))
    close = p0 * np.exp(np.cumsum(log_ret))
    prev = np.concatenate([[p0], close[:-1]])
    open_ = prev * np.exp(rng.normal(0.0, 0.2 * sd_min, n))
    frame = _ohlc(rng, close, open_, 0.6 * sd_min)
    frame["volume"] = np.maximum(np.round(vol / 390.0 * np.exp(rng.normal(0.0, 0.6, n))), 1).astype(
        np.int64
    )
    return frame


def write(out: Path, sub: str, labels: list[str], frames, names: list[str]) -> None:
    folder = out / sub
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in zip(names, frames, strict=True):
        frame.insert(0, "date", labels)
        tmp = folder / f".{name}.csv.tmp"
        frame.to_csv(tmp, index=False, float_format="%.2f")
        tmp.rename(folder / f"{name}.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("frequency", choices=["daily", "minute"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--assets", type=int, required=True)
    parser.add_argument("--sessions", type=int, default=0, help="the first N sessions only")
    args = parser.parse_args()

    t0 = time.perf_counter()
    cal = _calendar()
    names = symbols(args.assets)
    if args.frequency == "daily":
        sessions = cal.sessions_in_range(DAILY_START, DAILY_END)
        full = len(sessions)
        if args.sessions:
            sessions = sessions[: args.sessions]
        labels = [d.strftime("%Y-%m-%d") for d in sessions]
        # Drawn over the full span, then cut, so that a shorter set is a prefix.
        frames = (daily_frame(i, full).iloc[: len(sessions)].copy() for i in range(args.assets))
        n_bars = n_sim_bars = len(sessions)
    else:
        sim = cal.sessions_in_range(MINUTE_START, MINUTE_END)
        if args.sessions:
            sim = sim[: args.sessions]
        # Bars start a session before the simulation: zipline's csvdir records a
        # minute asset's start_date as its first minute, and zipline refuses orders
        # on the session of an asset's start_date (CannotOrderDelistedAsset).
        first = cal.sessions.get_loc(sim[0]) - MINUTE_WARMUP_SESSIONS
        sessions = cal.sessions[first : cal.sessions.get_loc(sim[-1]) + 1]
        minutes = cal.sessions_minutes(sessions[0], sessions[-1])
        session_of_minute = np.repeat(
            np.arange(len(sessions)),
            [len(cal.session_minutes(s)) for s in sessions],
        )
        assert session_of_minute.size == len(minutes)
        labels = list(minutes.tz_convert(None).strftime("%Y-%m-%d %H:%M:%S"))
        frames = [minute_frame(i, session_of_minute) for i in range(args.assets)]
        n_bars = len(minutes)
        n_sim_bars = sum(len(cal.session_minutes(s)) for s in sim)
        # The daily bars of the same data (rustybt's run_algorithm wants a daily
        # table beside the minute one); written to daily/, ingested by rustybt only.
        day_labels = [d.strftime("%Y-%m-%d") for d in sessions]
        days = [
            pd.DataFrame(
                {
                    "open": f["open"].groupby(session_of_minute).first().to_numpy(),
                    "high": f["high"].groupby(session_of_minute).max().to_numpy(),
                    "low": f["low"].groupby(session_of_minute).min().to_numpy(),
                    "close": f["close"].groupby(session_of_minute).last().to_numpy(),
                    "volume": f["volume"].groupby(session_of_minute).sum().to_numpy(),
                }
            )
            for f in frames
        ]
        args.out.mkdir(parents=True, exist_ok=True)
        write(args.out, "daily", day_labels, days, names)
    args.out.mkdir(parents=True, exist_ok=True)
    write(args.out, args.frequency, labels, frames, names)
    manifest = {
        "frequency": args.frequency,
        "assets": args.assets,
        "symbols": names,
        "sessions": [d.strftime("%Y-%m-%d") for d in sessions],
        # The first session to simulate (bars before it are warm-up data only).
        "sim_start": (sessions[0] if args.frequency == "daily" else sim[0]).strftime("%Y-%m-%d"),
        "sim_start_label": labels[n_bars - n_sim_bars],
        "sim_bars": n_sim_bars,
        "bars_per_asset": n_bars,
        "calendar": CALENDAR,
        "seed": SEED,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest))
    print(
        f"{args.out}: {args.assets} assets x {n_bars} {args.frequency} bars "
        f"({len(sessions)} sessions) in {time.perf_counter() - t0:.1f} s"
    )


if __name__ == "__main__":
    main()
