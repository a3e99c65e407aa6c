"""Walk-forward: windows on calendar sessions, searches in-sample, runs out-of-sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rustybt.calendars import get_calendar
from rustybt.data import bundles
from rustybt.data.bundles.csvdir import csvdir_equities
from rustybt.exceptions import ParameterValidationError
from rustybt.optimization import Int, ParameterSpace, walk_forward
from rustybt.optimization.walkforward import walk_forward_windows
from tests.unit.optimization._algos import CROSSOVER, crossover_sharpe

ALGO = CROSSOVER
#: The walk-forward every test here runs: two windows, a 2 x 3 grid each.
WALK = {"start": "2015-01-02", "end": "2016-12-30", "train": "1Y", "test": "6M",
        "method": "grid", "storage": ":memory:"}  # fmt: skip
SPACE = ParameterSpace(fast=Int(10, 30, step=10), slow=Int(40, 60, step=20))
XNYS = get_calendar("XNYS")


def sessions(start: str, end: str) -> pd.DatetimeIndex:
    return XNYS.sessions_in_range(start, end)


def test_rolling_windows_tile_the_test_spans() -> None:
    # The calendar's sessions past the end tell that the last span, to 2017-01-02, is whole.
    days = sessions("2015-01-02", "2017-12-29")
    windows = walk_forward_windows(days, "1Y", "6M", end="2016-12-30")
    assert [(str(w.train_start.date()), str(w.train_end.date())) for w in windows] == [
        ("2015-01-02", "2015-12-31"),
        ("2015-07-02", "2016-07-01"),
    ]
    assert [(str(w.test_start.date()), str(w.test_end.date())) for w in windows] == [
        ("2016-01-04", "2016-07-01"),
        ("2016-07-05", "2016-12-30"),
    ]
    for window in windows:  # the test span starts at the session after the training span
        assert days.get_loc(window.test_start) == days.get_loc(window.train_end) + 1


def test_anchored_windows_grow_from_the_first_session() -> None:
    days = sessions("2015-01-02", "2018-12-31")
    windows = walk_forward_windows(days, "1Y", "1Y", anchored=True, end="2017-12-29")
    assert [w.train_start for w in windows] == [days[0], days[0]]
    assert [str(w.train_end.date()) for w in windows] == ["2015-12-31", "2016-12-30"]
    assert str(windows[-1].test_end.date()) == "2017-12-29"


def test_windows_in_sessions_count_sessions() -> None:
    days = sessions("2015-01-02", "2015-12-31")
    windows = walk_forward_windows(days, 100, 50, step=25)
    assert len(windows) == (len(days) - 150) // 25 + 1
    for w in windows:
        train = days[(days >= w.train_start) & (days <= w.train_end)]
        test = days[(days >= w.test_start) & (days <= w.test_end)]
        assert (len(train), len(test)) == (100, 50)


def test_a_test_span_past_the_end_makes_no_window() -> None:
    days = sessions("2015-01-02", "2017-03-31")
    with pytest.raises(ParameterValidationError, match="hold no whole window"):
        walk_forward_windows(days, "1Y", "6M", end="2016-03-31")
    short = walk_forward_windows(days, "1Y", "6M", end="2016-09-30")
    assert [str(w.test_end.date()) for w in short] == ["2016-07-01"]
    with pytest.raises(ParameterValidationError, match="give a length such as 2Y"):
        walk_forward_windows(days, "1 year", "6M")


def test_walk_forward_on_the_demo_bundle(demo: Path) -> None:
    wf = walk_forward(ALGO, SPACE, bundle="demo", **WALK)
    windows = wf.windows
    assert list(windows["window"]) == [0, 1]
    for search, (_, row) in zip(wf.searches, windows.iterrows(), strict=True):
        assert {"fast": row["fast"], "slow": row["slow"]} == search.best_params
        assert row["is_sharpe"] == search.best_value
        assert len(search.trials) == 6
        params = {"fast": int(row["fast"]), "slow": int(row["slow"])}
        sharpe = crossover_sharpe(row["test_start"], row["test_end"], params)
        assert row["oos_sharpe"] == pytest.approx(sharpe, rel=1e-12)
    oos = wf.oos_perf
    expected = sessions("2016-01-04", "2016-12-30")
    assert list(oos.index.tz_convert(None).normalize()) == list(expected)
    assert oos["equity"].iloc[-1] == pytest.approx(
        100_000 * np.prod(1 + oos["returns"].to_numpy()), rel=1e-12
    )
    stability = wf.parameter_stability
    assert list(stability.index) == ["fast", "slow"]
    assert ((stability["mode_share"] > 0) & (stability["mode_share"] <= 1)).all()
    expected_efficiency = windows["oos_annual_return"].mean() / windows["is_annual_return"].mean()
    assert wf.efficiency == pytest.approx(expected_efficiency)


def _write_csvdir(folder: Path, bend_after: str | None) -> None:
    """AAPL's daily bars, a seeded random walk; after ``bend_after`` the walk bends."""
    days = sessions("2014-01-02", "2016-12-30")
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, len(days))))
    if bend_after is not None:
        later = days > pd.Timestamp(bend_after)
        close[later] *= np.linspace(1.0, 0.6, later.sum())
    close = np.round(close, 2)
    frame = pd.DataFrame(
        {
            "date": days.strftime("%Y-%m-%d"),
            "open": close,
            "high": np.round(close * 1.01, 2),
            "low": np.round(close * 0.99, 2),
            "close": close,
            "volume": 1_000_000,
        }
    )
    (folder / "daily").mkdir(parents=True)
    frame.to_csv(folder / "daily" / "AAPL.csv", index=False)


def test_the_test_spans_data_never_reaches_the_search(tmp_path: Path, rustybt_root: Path) -> None:
    # Two bundles equal up to 2015-12-31; after it one of them bends down. The
    # first window trains on 2015 alone, so its search must see no difference.
    for name, bend in (("straight", None), ("bent", "2015-12-31")):
        folder = tmp_path / name
        _write_csvdir(folder, bend)
        bundles.register(
            name,
            csvdir_equities(["daily"], str(folder)),
            calendar_name="XNYS",
            start_session=pd.Timestamp("2014-01-02"),
            end_session=pd.Timestamp("2016-12-30"),
        )
        bundles.ingest(name)
    try:
        results = {
            name: walk_forward(ALGO, SPACE, bundle=name, **WALK) for name in ("straight", "bent")
        }
    finally:
        for name in ("straight", "bent"):
            bundles.unregister(name)
    straight, bent = results["straight"], results["bent"]
    first = ["fast", "slow", "sharpe", "total_return", "max_drawdown"]
    pd.testing.assert_frame_equal(
        straight.searches[0].trials[first], bent.searches[0].trials[first]
    )
    assert straight.windows.loc[0, "oos_total_return"] != bent.windows.loc[0, "oos_total_return"]
