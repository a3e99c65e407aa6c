"""The peers table's lean engine (benchmarks/peers/lean_worker.py) is a fair yardstick.

Its time is only a floor for the strategy if it computes what rustybt (and
zipline) compute: the same final value to the cent and the same fills, on
daily and on minute bars.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from rustybt.benchmarks.synthetic import generate_daily_bars, generate_minute_bars
from rustybt.benchmarks.workloads import prepare_workload, workload_function, workload_spec

LEAN = Path(__file__).resolve().parents[3] / "benchmarks" / "peers" / "lean_worker.py"


def load_lean() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lean_worker", LEAN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("name", "assets", "sessions"),
    [("W1", 4, 90), ("W2", 3, 2)],
)
def test_lean_engine_matches_rustybt_to_the_cent(
    tmp_path: Path, name: str, assets: int, sessions: int
) -> None:
    spec = workload_spec(name, assets=assets, sessions=sessions)
    expected = workload_function(prepare_workload(spec, tmp_path))()
    if name == "W1":
        bars = generate_daily_bars(assets, spec.session_index(), spec.seed)
    else:
        bars, _ = generate_minute_bars(assets, spec.session_index(), spec.seed)
    lean = load_lean()
    index = pd.DatetimeIndex(bars.index)
    sessions = lean.session_labels(index, bars.frequency)
    value, fills = lean.simulate(bars.close, bars.volume, index, sessions, list(bars.symbols))
    assert expected["fills"] > 0
    assert fills == expected["fills"]
    assert float(value) == pytest.approx(expected["final_portfolio_value"], abs=0.005)
