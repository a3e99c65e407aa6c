"""Constants and helpers shared by every peer worker (standard library only).

Each worker runs in its own venv (rustybt, zipline-reloaded, backtrader,
vectorbt), so this module must import nothing but the standard library.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# The strategy (W1 daily, W2 minute): dual moving-average crossover on close.
FAST = 20  # bars in the fast simple mean (today's close included)
SLOW = 50  # bars in the slow simple mean; the strategy acts once SLOW bars exist
# grid100 (a parameter search of the W5 crossover): every (fast, slow) pair of
# these windows, run by GRID_JOBS processes; the same lists as rustybt's
# grid100 workload (rustybt/benchmarks/optimization_workloads.py), W5's own
# (20, 50) among them. The runner's --grid N (PEERS_GRID) keeps the first N of each.
GRID = int(os.environ.get("PEERS_GRID", "10"))
GRID_FAST = tuple(range(4, 41, 4))[:GRID]
GRID_SLOW = tuple(range(50, 231, 20))[:GRID]
GRID_JOBS = 2
TRADING_DAYS = 252  # sessions a year, to annualize the Sharpe ratio
# Starting cash; the runner passes --capital through PEERS_CAPITAL.
CAPITAL = float(os.environ.get("PEERS_CAPITAL", "10000000"))

# The data (made by gen_data.py; every worker reads the manifest it writes).
SEED = 20240611
DAILY_START, DAILY_END = "2014-01-02", "2023-12-29"
MINUTE_START, MINUTE_END = "2023-01-03", "2023-12-29"  # the simulated span
MINUTE_WARMUP_SESSIONS = 1  # minute bars also cover the session before MINUTE_START
CALENDAR = "XNYS"


def symbols(n_assets: int) -> list[str]:
    """``S0000 .. S{n-1}``: zero padded so that sorted order is sid order."""
    return [f"S{i:04d}" for i in range(n_assets)]


def load_manifest(data_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """What gen_data.py wrote about a csvdir: sessions, symbols, frequency."""
    return json.loads((Path(data_dir) / "manifest.json").read_text())


def read_panels(data_dir: str | os.PathLike[str], fields: list[str]) -> dict[str, Any]:
    """``{field: DataFrame}`` (bar times x symbols) over the simulated span of a csvdir.

    For the workers that take the data as whole panels (vectorbt, lean). Needs
    pandas, imported here so that this module stays importable without it.
    """
    import pandas as pd

    manifest = load_manifest(data_dir)
    folder = Path(data_dir) / manifest["frequency"]
    frames = {
        name: pd.read_csv(folder / f"{name}.csv", index_col="date", parse_dates=["date"],
                          usecols=["date", *fields])
        for name in manifest["symbols"]
    }  # fmt: skip
    start = pd.Timestamp(manifest["sim_start_label"])
    panels = {}
    for field in fields:
        panel = pd.DataFrame({name: frame[field] for name, frame in frames.items()})
        panels[field] = panel[panel.index >= start]
    return panels


def sharpe(values: list[float], capital: float) -> float:
    """Annualized Sharpe ratio (risk-free 0) of the daily returns of a value series.

    The returns are those of zipline's perf frame: the first session's against
    the starting capital, each later one's against the session before; the
    mean over the sample standard deviation, times sqrt(252) (empyrical's and
    rustybt's definition). NaN for fewer than two sessions or constant returns.
    """
    previous = [capital, *values[:-1]]
    returns = [v / p - 1.0 for v, p in zip(values, previous, strict=True)]
    if len(returns) < 2 or max(returns) == min(returns):
        return math.nan
    return statistics.fmean(returns) / statistics.stdev(returns) * math.sqrt(TRADING_DAYS)


def best_trial(trials: list[dict[str, Any]]) -> dict[str, Any]:
    """The trial of highest ``sharpe`` (NaN never wins), the smallest (fast, slow) among equals."""
    ranked = [t for t in trials if not math.isnan(t["sharpe"])]
    return min(ranked, key=lambda t: (-t["sharpe"], t["fast"], t["slow"]))


class Timer:
    """``with Timer() as t: ...``; then ``t.seconds``."""

    def __enter__(self) -> Timer:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0


def write_result(path: str, **fields: Any) -> None:
    """Write one job's result as JSON (the runner adds the peak RSS)."""
    fields.setdefault("python", sys.version.split()[0])
    Path(path).write_text(json.dumps(fields, indent=2, default=str))


def quiet() -> None:
    """Silence warnings and chatty loggers in a worker."""
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger().setLevel(logging.ERROR)
