"""The peers table's reference engines (benchmarks/peers/lean_worker.py and
featured_worker.py) are fair yardsticks.

Their times only say something about rustybt's if they compute what rustybt
(and zipline) compute: the same final value to the cent and the same fills,
on daily and on minute bars.
"""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from rustybt.benchmarks.synthetic import generate_daily_bars, generate_minute_bars
from rustybt.benchmarks.workloads import prepare_workload, workload_function, workload_spec

PEERS = Path(__file__).resolve().parents[3] / "benchmarks" / "peers"


def load_worker(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, PEERS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("worker", ["lean_worker", "featured_worker"])
@pytest.mark.parametrize(
    ("name", "assets", "sessions"),
    [("W1", 4, 90), ("W2", 3, 2), ("W2", 20, 2)],
)
def test_reference_engine_matches_rustybt_to_the_cent(
    tmp_path: Path, worker: str, name: str, assets: int, sessions: int
) -> None:
    spec = workload_spec(name, assets=assets, sessions=sessions)
    expected = workload_function(prepare_workload(spec, tmp_path))()
    if name == "W1":
        bars = generate_daily_bars(assets, spec.session_index(), spec.seed)
    else:
        bars, _ = generate_minute_bars(assets, spec.session_index(), spec.seed)
    engine = load_worker(worker)
    index = pd.DatetimeIndex(bars.index)
    sessions = load_worker("lean_worker").session_labels(index, bars.frequency)  # serves both
    value, fills = engine.simulate(bars.close, bars.volume, index, sessions, list(bars.symbols))
    assert expected["fills"] > 0
    assert fills == expected["fills"]
    assert float(value) == pytest.approx(expected["final_portfolio_value"], abs=0.005)


def test_featured_engine_refuses_what_an_engine_refuses() -> None:
    featured = load_worker("featured_worker")
    index = pd.date_range("2024-01-02 14:31", periods=3, freq="min", tz="UTC")
    closes = np.array([[10.0, np.nan], [10.5, 20.0], [11.0, 21.0]])
    assets = [featured.Asset(0, "A"), featured.Asset(1, "B")]
    engine = featured.Engine(closes, index, assets)
    with pytest.raises(featured.OrderError, match="running algorithm"):
        featured.order_target_percent(assets[0], 0.5)
    token = featured._current.set(engine)
    try:
        engine.dt, engine.now_ns, engine.row, engine.value = (
            index[0],
            int(index.asi8[0]),
            closes[0].tolist(),
            None,
        )
        with pytest.raises(featured.OrderError, match="does not trade"):
            featured.order_target_percent(assets[1], 0.5)  # B's first price is the next bar
        with pytest.raises(featured.OrderError, match="does not trade"):
            featured.order_target_percent(featured.Asset(7, "X"), 0.5)
        order_id = featured.order_target_percent(assets[0], 0.5)
        assert engine.orders[order_id].amount == Decimal(500_000)  # half of 10M at 10.00
    finally:
        featured._current.reset(token)
