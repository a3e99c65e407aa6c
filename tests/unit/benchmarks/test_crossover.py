"""The signal-change crossover (W5/W6): it trades on crossings only.

The expected crossings are computed here with NumPy from the generated bars,
independently of the strategy (running sums over sliding windows, not the
strategy's per-bar window), and compared with what the engine filled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt import run_algorithm
from rustybt.benchmarks import crossover, dual_ma
from rustybt.benchmarks.synthetic import (
    generate_daily_bars,
    generate_minute_bars,
    universe_symbols,
)
from rustybt.benchmarks.workloads import (
    CAPITAL_BASE,
    prepare_workload,
    run_workload,
    workload_function,
    workload_spec,
)


def crossings(closes: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """``(bars, assets)``: True where an asset's signal flips on that bar.

    The signal is fast > slow on sums in cents (exact); before the first full
    window every asset counts as down (flat).
    """
    cents = np.rint(closes * 100.0)
    total = np.vstack([np.zeros((1, cents.shape[1])), np.cumsum(cents, axis=0)])
    fast = total[dual_ma.FAST :] - total[: -dual_ma.FAST]  # row i: bars i .. i + FAST - 1
    slow = total[dual_ma.SLOW :] - total[: -dual_ma.SLOW]
    ups = np.zeros(cents.shape, dtype=bool)
    ups[dual_ma.SLOW - 1 :] = fast[dual_ma.SLOW - dual_ma.FAST :] * dual_ma.SLOW > (
        slow * dual_ma.FAST
    )
    previous = np.vstack([np.zeros((1, ups.shape[1]), dtype=bool), ups[:-1]])
    return ups != previous


def test_flips_are_the_changed_positions() -> None:
    before = np.array([False, False, True, True])
    after = np.array([False, True, True, False])
    assert crossover.flips(before, after).tolist() == [1, 3]
    assert crossover.flips(after, after).tolist() == []


def test_w5_fills_once_per_crossing_on_the_next_session(tmp_path: Path) -> None:
    spec = workload_spec("W5", assets=4, sessions=160)
    prepared = prepare_workload(spec, tmp_path)
    sessions = spec.session_index()
    closes = generate_daily_bars(spec.assets, sessions).close
    flipped = crossings(closes)
    # A crossing on the last session places an order that never fills.
    expected_fills = int(flipped[:-1].sum())
    assert expected_fills >= 8  # the data crosses often enough to test something

    result = workload_function(prepared)()
    assert result["fills"] == expected_fills
    assert result["final_portfolio_value"] != CAPITAL_BASE

    perf = run_algorithm(
        sessions[0],
        sessions[-1],
        crossover.initialize,
        CAPITAL_BASE,
        crossover.handle_data,
        data_frequency="daily",
        bundle=prepared.bundle,
        environ=prepared.environ,
        default_extension=False,
        universe=universe_symbols(spec.assets),
    )
    filled = {
        (sessions.get_loc(pd.Timestamp(day).tz_localize(None).normalize()), int(txn["sid"]))
        for day, txns in zip(perf.index, perf["transactions"], strict=True)
        for txn in txns
    }
    bars, assets = np.nonzero(flipped[:-1])
    assert filled == {(int(b) + 1, int(a)) for b, a in zip(bars, assets, strict=True)}
    # Per asset: a buy on each up-crossing, then a sale of that whole position on
    # the next down-crossing.
    for sid in range(spec.assets):
        amounts = [int(t["amount"]) for ts in perf["transactions"] for t in ts if t["sid"] == sid]
        assert (
            all(a > 0 for a in amounts[::2])
            and amounts[1::2] == [-a for a in amounts[::2]][: len(amounts[1::2])]
        )
    assert float(perf["portfolio_value"].iloc[-1]) == result["final_portfolio_value"]


def test_w6_fills_once_per_crossing_on_minute_bars(tmp_path: Path) -> None:
    spec = workload_spec("W6", assets=3, sessions=2)
    assert spec.frequency == "minute"
    minute, _ = generate_minute_bars(spec.assets, spec.session_index())
    expected_fills = int(crossings(minute.close)[:-1].sum())
    assert expected_fills >= 10
    report = run_workload(spec, root=tmp_path, runs=1, warmup=0, memory="none")
    assert report.result["fills"] == expected_fills
    assert report.result["final_portfolio_value"] != CAPITAL_BASE


def test_crossover_workloads_default_sizes() -> None:
    w5, w6 = workload_spec("W5"), workload_spec("w6")
    assert (w5.assets, w5.sessions, w5.frequency) == (50, 2520, "daily")
    assert (w6.assets, w6.sessions, w6.frequency) == (50, 21, "minute")
    assert w6.short_size == "50 x 21d 1m"
