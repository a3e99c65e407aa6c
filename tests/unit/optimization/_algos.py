"""What the optimization tests run: a parameterized dual moving average and an evaluate.

Both are importable by module path (``tests.unit.optimization._algos``), so
that a pool's worker processes and Ray's actors unpickle ``final_metrics``
by reference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rustybt import run_algorithm

#: The crossover the search tests run: ``fast`` and ``slow`` from ``context.params``.
CROSSOVER = str(Path(__file__).parent / "algos" / "crossover.py")


def crossover_sharpe(start: str, end: str, params: dict, bundle: str = "demo") -> float:
    """The final sharpe of a lone run of the crossover (what its trial must equal)."""
    perf = run_algorithm(
        start,
        end,
        capital_base=100_000,
        bundle=bundle,
        script=Path(CROSSOVER).read_text(),
        algo_filename=CROSSOVER,
        params=params,
    )
    return float(perf["sharpe"].iloc[-1])


#: The dual moving-average crossover of examples/dual_moving_average.py, its
#: windows read from the parameters with defaults (the idiom for ``-D``).
DUAL_MOVING_AVERAGE = """
from rustybt.api import order_target, record, symbol

SHORT_WINDOW = globals().get("fast", 100)
LONG_WINDOW = globals().get("slow", 300)


def initialize(context):
    context.sessions_seen = 0
    context.asset = symbol("AAPL")


def handle_data(context, data):
    context.sessions_seen += 1
    if context.sessions_seen < LONG_WINDOW:
        return
    prices = data.history(context.asset, "price", bar_count=LONG_WINDOW, frequency="1d")
    short_mavg = prices.iloc[-SHORT_WINDOW:].mean()
    long_mavg = prices.mean()
    if short_mavg > long_mavg:
        order_target(context.asset, 100)
    elif short_mavg < long_mavg:
        order_target(context.asset, 0)
    record(short_mavg=short_mavg, long_mavg=long_mavg, slow=context.params.get("slow", 300))


def analyze(context, perf):
    # Which opened bundle the run read: the same reader object for every run of a process.
    perf["daily_reader"] = float(id(context.data_portal.equity_daily_reader))
"""

#: Windows giving different trades over 2016 on the demo bundle.
WINDOWS = [{"fast": 5, "slow": 20}, {"fast": 10, "slow": 40}, {"fast": 20, "slow": 60},
           {"fast": 5, "slow": 60}, {"fast": 10, "slow": 20}]  # fmt: skip


def write_dual_moving_average(folder: Path) -> Path:
    """The algorithm file, written in ``folder``."""
    path = folder / "dual_moving_average.py"
    path.write_text(DUAL_MOVING_AVERAGE, encoding="utf-8")
    return path


def final_metrics(perf: pd.DataFrame) -> dict[str, float]:
    """The last session's figures, and the number of fills."""
    last = perf.iloc[-1].fillna(np.nan)  # a statistic undefined so far is None
    return {
        "final_value": float(last["portfolio_value"]),
        "total_return": float(last["algorithm_period_return"]),
        "sharpe": float(last["sharpe"]),
        "max_drawdown": float(last["max_drawdown"]),
        "fills": float(perf["transactions"].map(len).sum()),
    }


def failing_metrics(perf: pd.DataFrame) -> dict[str, float]:
    """An evaluate that raises, as an objective naming a missing column would."""
    return {"missing": float(perf["no_such_column"].iloc[-1])}


def reader_identity(perf: pd.DataFrame) -> dict[str, float]:
    """The id of the daily bar reader the run read (see the script's analyze)."""
    return {"daily_reader": float(perf["daily_reader"].iloc[-1])}
