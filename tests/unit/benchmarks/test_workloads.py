"""Synthetic data and the standard workloads W1-W4 (W5/W6: test_crossover.py), on tiny sizes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rustybt.benchmarks import dual_ma
from rustybt.benchmarks.synthetic import (
    generate_daily_bars,
    generate_minute_bars,
    universe_symbols,
    write_csvdir,
    xnys_sessions,
)
from rustybt.benchmarks.workloads import (
    CAPITAL_BASE,
    prepare_workload,
    run_workload,
    run_workloads,
    workload_function,
    workload_spec,
)
from rustybt.calendars import get_calendar
from rustybt.data import bundles
from rustybt.exceptions import ParameterValidationError


def assert_valid_ohlcv(bars: object) -> None:
    o, hi, lo, c, v = (getattr(bars, f) for f in ("open", "high", "low", "close", "volume"))
    assert np.isfinite(o).all() and (np.minimum(o, c) >= 0.01).all()
    assert (hi >= np.maximum(o, c)).all() and (lo <= np.minimum(o, c)).all()
    assert (v >= 1).all() and (v == np.round(v)).all()


def test_daily_bars_are_deterministic_valid_and_per_asset_stable() -> None:
    sessions = xnys_sessions(sessions=30)
    small, again = generate_daily_bars(3, sessions), generate_daily_bars(3, sessions)
    large = generate_daily_bars(6, sessions)
    assert np.array_equal(small.close, again.close)
    assert np.array_equal(small.close, large.close[:, :3])  # asset j is the same in any universe
    assert not np.array_equal(generate_daily_bars(3, sessions, seed=1).close, small.close)
    assert_valid_ohlcv(large)
    assert np.array_equal(small.open, np.round(small.open, 2))  # cents


def test_sessions_are_consecutive_xnys_sessions() -> None:
    sessions = xnys_sessions(years=1)
    calendar = get_calendar("XNYS")
    assert len(sessions) == 252 and sessions[0] == pd.Timestamp("2014-01-02")
    assert all(calendar.is_session(s) for s in sessions[:30])
    assert calendar.next_session(sessions[0]) == sessions[1]
    with pytest.raises(ParameterValidationError):
        xnys_sessions(sessions=0)


def test_minute_bars_aggregate_to_the_daily_bars() -> None:
    sessions = xnys_sessions(sessions=2)
    minute, daily = generate_minute_bars(2, sessions)
    assert len(minute.index) == 780 and str(minute.index.tz) == "UTC"
    assert_valid_ohlcv(minute)
    assert_valid_ohlcv(daily)
    assert np.array_equal(daily.close[1], minute.close[-1])
    assert np.array_equal(daily.high[0], minute.high[:390].max(axis=0))
    assert np.array_equal(daily.volume[1], minute.volume[390:].sum(axis=0))
    assert list(minute.sessions) == list(sessions)


def test_csvdir_files_hold_the_generated_bars(tmp_path: Path) -> None:
    bars = generate_daily_bars(2, xnys_sessions(sessions=5))
    write_csvdir(bars, tmp_path)
    frame = pd.read_csv(tmp_path / "daily" / "S0001.csv")
    assert list(frame.columns) == [
        "date", "open", "high", "low", "close", "volume", "dividend", "split"
    ]  # fmt: skip
    assert np.array_equal(frame["close"].to_numpy(), bars.close[:, 1])
    assert frame["date"].iloc[0] == "2014-01-02"


def test_targets_follow_the_crossover_rule() -> None:
    rising, falling = np.arange(50.0), np.arange(50.0, 0.0, -1.0)
    flat = np.full(50, 7.0)
    closes = np.column_stack([rising, falling, flat])
    assert dual_ma.targets(closes, n_assets=4).tolist() == [0.25, 0.0, 0.0]


def test_targets_decide_ties_exactly() -> None:
    # Equal closes: the fast and slow means are equal, a tie, which is not
    # fast > slow, however the engine's floats round the two means.
    base = np.full(50, 216.04)
    tie = base.copy()
    up = base.copy()
    up[-1] = 216.05  # one cent more on the last bar: fast > slow
    closes = np.column_stack([tie, up])
    assert dual_ma.targets(closes, n_assets=2).tolist() == [0.0, 0.5]
    # A window with a missing close never targets the asset.
    holes = up.copy()
    holes[10] = np.nan
    assert dual_ma.targets(holes[:, None], n_assets=1).tolist() == [0.0]


def test_spec_sizes_and_validation() -> None:
    assert (workload_spec("W1").assets, workload_spec("W1").sessions) == (500, 2520)
    assert (workload_spec("w2").assets, workload_spec("w2").sessions) == (50, 252)
    assert workload_spec("W3", assets=7, years=0.5).sessions == 126
    assert workload_spec("W1", sessions=40, years=9).sessions == 40
    with pytest.raises(ParameterValidationError, match="unknown workload 'W9'"):
        workload_spec("W9")
    with pytest.raises(ParameterValidationError, match="at least 50 sessions"):
        workload_spec("W4", sessions=49)
    with pytest.raises(ParameterValidationError):
        workload_spec("W1", assets=0)


def test_w1_trades_and_is_deterministic(tmp_path: Path) -> None:
    spec = workload_spec("W1", assets=5, sessions=80)
    prepared = prepare_workload(spec, tmp_path)
    assert prepared.root == str(tmp_path)
    run = workload_function(prepared)
    first, second = run(), run()
    assert first == second
    assert first["fills"] > 0
    assert first["final_portfolio_value"] != CAPITAL_BASE


def test_w1_and_w4_share_one_ingestion(tmp_path: Path) -> None:
    w1 = prepare_workload(workload_spec("W1", assets=3, sessions=60), tmp_path)
    w4 = prepare_workload(workload_spec("W4", assets=3, sessions=60), tmp_path)
    assert w1.bundle == w4.bundle
    assert len(bundles.ingestions_for_bundle(w1.bundle, w1.environ)) == 1
    assert w1.bundle not in bundles.bundles  # registered only while ingesting


def test_w2_trades_on_minute_bars(tmp_path: Path) -> None:
    report = run_workload(
        workload_spec("W2", assets=3, sessions=3), root=tmp_path, runs=1, warmup=0, memory="none"
    )
    assert report.spec.frequency == "minute"
    assert report.result["fills"] > 0
    assert report.result["final_portfolio_value"] != CAPITAL_BASE


def test_w3_ingests_every_bar_of_the_csv_files(tmp_path: Path) -> None:
    spec = workload_spec("W3", assets=4, sessions=63)
    report = run_workload(spec, root=tmp_path, runs=2, warmup=0, memory="none")
    assert report.result == {"bars": 4 * 63, "assets": 4}
    assert len(report.benchmark.run_times) == 2
    prepared = prepare_workload(spec, tmp_path)
    assert prepared.csvdir is not None and len(list(Path(prepared.csvdir, "daily").iterdir())) == 4
    with bundles.load(prepared.bundle, prepared.environ) as data:
        closes = data.equity_daily_bar_reader.panel("close")
    expected = generate_daily_bars(4, spec.session_index()).close
    assert np.array_equal(closes, expected)


def test_w4_serves_the_first_full_window(tmp_path: Path) -> None:
    spec = workload_spec("W4", assets=5, sessions=63)
    report = run_workload(spec, root=tmp_path, runs=2, warmup=1, output_dir=tmp_path / "json")
    expected = generate_daily_bars(5, spec.session_index()).close[:50]
    assert report.result["window_shape"] == [50, 5]
    assert report.result["window_sum"] == pytest.approx(expected.sum())
    assert report.benchmark.memory_method == "tracemalloc"
    saved = json.loads(Path(report.benchmark.json_path).read_text())  # type: ignore[arg-type]
    assert saved["configuration_name"] == "W4-5x63" and saved["workflow_type"] == "W4"


def test_isolated_run_matches_the_in_process_one(tmp_path: Path) -> None:
    spec = workload_spec("W4", assets=3, sessions=55)
    inside = run_workload(spec, root=tmp_path, runs=1, warmup=0, memory="rss")
    isolated = run_workload(spec, root=tmp_path, runs=1, warmup=0, memory="rss", isolate=True)
    assert isolated.isolated and not inside.isolated
    assert isolated.result == inside.result
    assert isolated.benchmark.peak_memory_bytes is not None
    assert isolated.benchmark.peak_memory_bytes > 0


def test_run_workloads_reports_each_in_order(tmp_path: Path) -> None:
    seen: list[str] = []
    reports = run_workloads(
        ["W4", "W1"],
        assets=2,
        sessions=55,
        root=tmp_path,
        on_report=lambda r: seen.append(r.spec.name),
        runs=1,
        warmup=0,
        memory="none",
    )
    assert [r.spec.name for r in reports] == seen == ["W4", "W1"]
    assert universe_symbols(2) == ["S0000", "S0001"]
    assert reports[1].benchmark.peak_memory_bytes is None
