"""Write the pipeline parity data set: a csvdir with splits, dividends, listings and delistings.

    python gen_csvdir.py OUT --assets 50 --years 3

``OUT/daily/S0000.csv`` with ``date,open,high,low,close,volume,dividend,split``
(zipline's csvdir layout) and ``OUT/manifest.json`` in the layout of the peers'
manifest (``benchmarks/peers/gen_data.py``: sessions, symbols, sim_start, ...)
plus ``events``: every asset's first and last bar, splits and dividends.

The bars are the peers' bars (``gen_data.daily_frame``: the same seeded random
walk per asset, cut to the first ``252 * years`` XNYS sessions from 2014-01-02),
turned into raw, unadjusted prices by a schedule of events that depends only
on the asset's index, so a 50-asset set is the first 50 assets of the
500-asset one:

- listing and delisting: assets with ``i % 10`` of 3 start late, of 7 end
  early, of 9 both (S0000, the regressions' target, spans the whole set);
- splits: ``i % 5 == 1`` a 2-for-1, ``i % 5 == 2`` a 3-for-1,
  ``i % 8 == 4`` a 1-for-4 reverse split (every one at least 30 sessions
  after the asset's first bar); prices before a split are its ratio times the
  walk, volumes divided by it, so adjusted prices follow the walk;
- dividends: ``i % 3 == 0`` pays every 63 sessions a cash dividend of about
  0.6% of the previous close (in cents), going ex on that row's date.

Run with rustybt's venv (it needs numpy, pandas and exchange_calendars).
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

PEERS = Path(__file__).resolve().parent.parent / "peers"
sys.path.insert(0, str(PEERS))

from gen_data import daily_frame  # noqa: E402  (the peers' seeded bars)
from peers_common import CALENDAR, DAILY_END, DAILY_START, SEED, symbols  # noqa: E402

SESSIONS_PER_YEAR = 252
FIRST_SPLIT_OFFSET = 30  # sessions after an asset's first bar before any split
DIVIDEND_EVERY = 63  # sessions between two ex dates
DIVIDEND_YIELD = 0.006  # of the previous close, per payment
TICK = 0.01  # prices are whole cents


def life_span(i: int, n_sessions: int, rng: np.random.Generator) -> tuple[int, int]:
    """The first and last session index of asset ``i``'s bars."""
    first, last = 0, n_sessions - 1
    kind = i % 10
    if kind in (3, 9):
        first = int(n_sessions * rng.uniform(0.1, 0.5))
    if kind in (7, 9):
        last = int(n_sessions * rng.uniform(0.6, 0.95))
    return first, last


def split_schedule(
    i: int, first: int, last: int, rng: np.random.Generator
) -> list[tuple[int, float]]:
    """``(session index, new shares per old share)`` of asset ``i``'s splits, in order."""
    ratios = []
    if i % 5 == 1:
        ratios.append(2.0)
    if i % 5 == 2:
        ratios.append(3.0)
    if i % 8 == 4:
        ratios.append(0.25)
    lo = first + FIRST_SPLIT_OFFSET
    if not ratios or last - lo < 2 * len(ratios):
        return []
    days = np.sort(rng.choice(np.arange(lo, last), size=len(ratios), replace=False))
    return [(int(d), r) for d, r in zip(days, ratios, strict=True)]


def raw_bars(walk: pd.DataFrame, splits: list[tuple[int, float]], tick: float) -> pd.DataFrame:
    """Unadjusted bars: before each split, prices times its ratio (on the ``tick`` grid)
    and volumes over it."""
    factor = np.ones(len(walk))
    for day, ratio in splits:
        factor[:day] *= ratio
    frame = walk.copy()
    places = decimals(tick)
    for column in ("open", "high", "low", "close"):
        price = walk[column].to_numpy() * factor
        if tick == 10.0**-places:  # a decimal grid (cents): round to its places
            frame[column] = np.maximum(np.round(price, places), tick)
        else:
            frame[column] = np.round(np.maximum(np.round(price / tick), 1.0) * tick, places)
    volume = np.round(walk["volume"].to_numpy() / factor)
    frame["volume"] = np.maximum(volume, 1).astype(np.int64)
    return frame


def dividends(i: int, first: int, last: int, close: np.ndarray) -> list[tuple[int, float]]:
    """``(session index, cash amount)`` of asset ``i``'s dividends (none if ``i % 3``)."""
    if i % 3:
        return []
    out = []
    for day in range(first + 10 + i % DIVIDEND_EVERY, last + 1, DIVIDEND_EVERY):
        amount = round(float(close[day - 1]) * DIVIDEND_YIELD, 2)
        if amount > 0:
            out.append((day, amount))
    return out


def decimals(tick: float) -> int:
    """The decimals a price on the ``tick`` grid needs (0.01: 2, 0.125: 3)."""
    for places in range(7):
        if abs(round(tick, places) - tick) < 1e-12:
            return places
    raise SystemExit(f"--tick {tick}: at most 6 decimals")


def asset_frame(i: int, n_sessions: int, full: int, tick: float) -> tuple[pd.DataFrame, dict]:
    """Asset ``i``'s csv rows over its life, and its events (session indexes)."""
    rng = np.random.default_rng([SEED, 2_000_000 + i])
    first, last = (0, n_sessions - 1) if i == 0 else life_span(i, n_sessions, rng)
    splits = split_schedule(i, first, last, rng)
    walk = daily_frame(i, full).iloc[:n_sessions].reset_index(drop=True)
    frame = raw_bars(walk, splits, tick)
    divs = dividends(i, first, last, frame["close"].to_numpy())
    frame["dividend"] = 0.0
    frame["split"] = 1.0
    for day, amount in divs:
        frame.loc[day, "dividend"] = amount
    for day, ratio in splits:
        frame.loc[day, "split"] = ratio
    events = {"first": first, "last": last, "splits": splits, "dividends": divs}
    return frame.iloc[first : last + 1], events


def write_csvdir(out: Path, n_assets: int, years: int, tick: float = TICK) -> dict:
    """Write the csvdir and its manifest; return the manifest."""
    cal = xcals.get_calendar(CALENDAR, start="2013-01-01", end="2024-12-31")
    all_sessions = cal.sessions_in_range(DAILY_START, DAILY_END)
    n_sessions = min(len(all_sessions), SESSIONS_PER_YEAR * years)
    sessions = all_sessions[:n_sessions]
    labels = np.array([d.strftime("%Y-%m-%d") for d in sessions])
    folder = out / "daily"
    folder.mkdir(parents=True, exist_ok=True)
    names = symbols(n_assets)
    events = {}
    for i, name in enumerate(names):
        frame, life = asset_frame(i, n_sessions, len(all_sessions), tick)
        frame.insert(0, "date", labels[frame.index.to_numpy()])
        frame.to_csv(folder / f"{name}.csv", index=False, float_format=f"%.{decimals(tick)}f")
        events[name] = {
            "first": str(labels[life["first"]]),
            "last": str(labels[life["last"]]),
            "splits": [[str(labels[d]), r] for d, r in life["splits"]],
            "dividends": [[str(labels[d]), a] for d, a in life["dividends"]],
        }
    manifest = {
        "frequency": "daily",
        "assets": n_assets,
        "symbols": names,
        "sessions": list(labels),
        "sim_start": str(labels[0]),
        "sim_start_label": str(labels[0]),
        "sim_bars": n_sessions,
        "bars_per_asset": n_sessions,
        "calendar": CALENDAR,
        "seed": SEED,
        "tick": tick,
        "events": events,
    }
    (out / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--assets", type=int, required=True)
    parser.add_argument("--years", type=int, required=True)
    parser.add_argument("--tick", type=float, default=TICK, help=f"price grid ({TICK})")
    args = parser.parse_args()
    t0 = time.perf_counter()
    manifest = write_csvdir(args.out, args.assets, args.years, args.tick)
    events = manifest["events"].values()
    print(
        f"{args.out}: {args.assets} assets x {manifest['sim_bars']} sessions "
        f"({sum(len(e['splits']) for e in events)} splits, "
        f"{sum(len(e['dividends']) for e in events)} dividends, "
        f"{sum(e['first'] != manifest['sessions'][0] for e in events)} late listings, "
        f"{sum(e['last'] != manifest['sessions'][-1] for e in events)} early delistings) "
        f"in {time.perf_counter() - t0:.1f} s"
    )


if __name__ == "__main__":
    main()
