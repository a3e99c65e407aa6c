"""Noise infusion: consistent noisy bars, and real re-runs on perturbed bundles.

The planted bundle (csvdir, ingested into the test's RUSTYBT_ROOT) holds two
assets: TRND rises steadily (a buy-and-hold edge that small noise cannot
take away) and PRTY, whose next-but-one return is up when today's close is an
even number of cents and down when odd (an edge that lives only in the exact
prices: an overfit).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from rustybt.calendars import get_calendar
from rustybt.data import bundles
from rustybt.data.bundles.csvdir import csvdir_equities
from rustybt.exceptions import DataNotFoundError, ParameterValidationError
from rustybt.optimization.noise import noise_test, perturb_bars

BUNDLE = "planted-noise"
START, END = "2023-01-04", "2023-05-31"

BUY_AND_HOLD = """
from rustybt.api import order_target_percent, symbol

def initialize(context):
    context.asset = symbol("TRND")

def handle_data(context, data):
    order_target_percent(context.asset, 1.0)
"""

CENT_PARITY = """
from rustybt.api import order_target_percent, symbol

def initialize(context):
    context.asset = symbol("PRTY")

def handle_data(context, data):
    cents = int(round(data.current(context.asset, "price") * 100))
    order_target_percent(context.asset, 0.5 if cents % 2 == 0 else -0.5)
"""


def _bars(close: np.ndarray, sessions: pd.DatetimeIndex) -> pd.DataFrame:
    close = np.round(close, 2)
    return pd.DataFrame(
        {
            "date": sessions.strftime("%Y-%m-%d"),
            "open": close,
            "high": np.round(close * 1.004, 2),
            "low": np.round(close * 0.996, 2),
            "close": close,
            "volume": np.full(len(close), 50_000_000),
        }
    )


def write_planted_csvs(folder: Path) -> None:
    sessions = get_calendar("XNYS").sessions_in_range("2023-01-03", "2023-06-30")
    rng = np.random.default_rng(42)
    trend = 100.0 * np.exp(np.cumsum(rng.normal(0.004, 0.008, len(sessions))))
    parity = [50.00, 50.37]
    for _ in range(len(sessions) - 2):
        up = round(parity[-2] * 100) % 2 == 0
        step = (0.01 if up else -0.01) + rng.normal(0.0, 0.001)
        parity.append(round(parity[-1] * (1.0 + step), 2))
    (folder / "daily").mkdir(parents=True)
    _bars(trend, sessions).to_csv(folder / "daily" / "TRND.csv", index=False)
    _bars(np.array(parity), sessions).to_csv(folder / "daily" / "PRTY.csv", index=False)


@pytest.fixture
def planted(tmp_path: Path, rustybt_root: Path) -> Iterator[Path]:
    """The planted bundle, ingested into the test's root; the folder for algorithms."""
    write_planted_csvs(tmp_path / "csvs")
    bundles.register(BUNDLE, csvdir_equities(["daily"], str(tmp_path / "csvs")))
    try:
        bundles.ingest(BUNDLE)
        yield tmp_path
    finally:
        bundles.unregister(BUNDLE)


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary folders of the test go here, to check that none is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def algorithm(folder: Path, name: str, source: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(source)
    return path


def test_a_robust_edge_survives_the_noise_and_an_overfit_one_does_not(
    planted: Path, private_tmp: Path
) -> None:
    robust = noise_test(
        algorithm(planted, "hold", BUY_AND_HOLD), BUNDLE, START, END, n=6, scale=0.003, seed=0
    )
    overfit = noise_test(
        algorithm(planted, "parity", CENT_PARITY), BUNDLE, START, END, n=6, scale=0.003, seed=0
    )
    assert robust.method == "noise infusion" and robust.statistic == "sharpe"
    assert robust.observed > 3
    assert robust.percentiles[5.0] > 0.7 * robust.observed  # most of the edge stays
    assert robust.p_value > 0.2  # and the real run is one of the noisy crowd
    assert overfit.observed > 20  # right almost every day on the exact prices...
    assert overfit.percentiles[95.0] < 0.3 * overfit.observed  # ...and lost to cents of noise
    assert overfit.p_value == 1 / 7  # the real run beats every noisy one
    assert overfit.rank == 1.0
    assert list(private_tmp.iterdir()) == []  # every temporary root removed
    assert BUNDLE + "-noise" not in " ".join(bundles.bundles)  # nor left registered


def test_the_same_seed_perturbs_the_same_way(planted: Path) -> None:
    path = algorithm(planted, "hold", BUY_AND_HOLD)
    first = noise_test(path, BUNDLE, START, "2023-02-28", n=2, seed=1)
    again = noise_test(path, BUNDLE, START, "2023-02-28", n=3, seed=1)
    other = noise_test(path, BUNDLE, START, "2023-02-28", n=2, seed=2)
    # Copy i draws from the seed's i-th child: a longer test repeats the shorter one's runs.
    np.testing.assert_array_equal(first.samples, again.samples[:2])
    assert not np.array_equal(first.samples, other.samples)
    assert first.observed == other.observed


@dataclass(frozen=True)
class Deepest:
    """An objective as optimization names them: a name, a direction, a call."""

    name: str
    direction: str

    def __call__(self, perf: pd.DataFrame) -> float:
        return float(-perf["max_drawdown"].min())


def test_an_objective_is_any_function_of_the_perf_frame(planted: Path) -> None:
    def final_value(perf: pd.DataFrame) -> float:
        return float(perf["portfolio_value"].iloc[-1])

    path = algorithm(planted, "hold", BUY_AND_HOLD)
    result = noise_test(
        path, BUNDLE, START, "2023-02-28", n=2, seed=0, capital_base=20_000, objective=final_value
    )
    assert result.statistic == "final_value"
    assert list(result.to_frame().index) == ["final_value"]
    assert 15_000 < result.observed < 40_000
    assert result.samples.shape == (2,)
    deepest = Deepest("drawdown", "minimize")
    lowest = noise_test(path, BUNDLE, START, "2023-02-28", n=2, seed=0, objective=deepest)
    assert lowest.statistic == "drawdown"
    assert not lowest["drawdown"].higher_is_better
    count = np.count_nonzero(lowest.samples <= lowest.observed)
    assert lowest.p_value == (count + 1) / 3


def test_noise_test_refuses_bad_input_in_one_line(planted: Path) -> None:
    path = algorithm(planted, "hold", BUY_AND_HOLD)
    with pytest.raises(
        ParameterValidationError, match=r"^algorithm file .*nope\.py does not exist"
    ):
        noise_test(planted / "nope.py", BUNDLE, START, END)
    with pytest.raises(ParameterValidationError, match="scale must be a finite noise deviation"):
        noise_test(path, BUNDLE, START, END, scale=-1.0)
    with pytest.raises(ParameterValidationError, match="n must be a positive whole number"):
        noise_test(path, BUNDLE, START, END, n=0)
    with pytest.raises(ParameterValidationError, match="needs start and end"):
        noise_test(path, BUNDLE)
    with pytest.raises(DataNotFoundError, match="no ingestion of bundle 'absent'"):
        noise_test(path, "absent", START, END)


price = st.floats(0.5, 5_000.0)


@settings(max_examples=80, deadline=None)
@given(
    closes=st.lists(price, min_size=1, max_size=30),
    shape=st.lists(
        st.tuples(st.floats(0, 0.05), st.floats(0, 0.05), st.floats(-1, 1)),
        min_size=30,
        max_size=30,
    ),
    scale=st.floats(0.0, 0.05),
    seed=st.integers(0, 2**32 - 1),
    gap=st.integers(0, 29),
)
def test_noisy_bars_stay_consistent_positive_and_on_the_grid(
    closes: list[float],
    shape: list[tuple[float, float, float]],
    scale: float,
    seed: int,
    gap: int,
) -> None:
    close = np.round(np.array(closes), 2)
    up, down, where = (np.array(v[: len(close)]) for v in zip(*shape, strict=True))
    open_ = np.round(close * (1 + where * np.minimum(up, down)), 2)
    high = np.round(np.maximum(open_, close) * (1 + up), 2)
    low = np.round(np.minimum(open_, close) * (1 - down), 2)
    bars = {
        name: values[:, np.newaxis].copy()
        for name, values in zip(
            ("open", "high", "low", "close", "volume"),
            (open_, high, low, close, np.full(len(close), 1e4)),
            strict=True,
        )
    }
    if gap < len(close):
        for name in ("open", "high", "low", "close"):
            bars[name][gap] = np.nan  # a session without a bar
    noisy = perturb_bars(bars, scale, np.random.default_rng(seed), tick=0.01)
    has_bar = ~np.isnan(bars["close"])
    for name in ("open", "high", "low", "close"):
        assert (np.isnan(noisy[name]) == ~has_bar).all()
    o, h, lo, c = (noisy[name][has_bar] for name in ("open", "high", "low", "close"))
    assert (lo <= np.minimum(o, c)).all() and (np.maximum(o, c) <= h).all()
    assert (lo >= 0.01).all()
    for values in (o, h, lo, c):
        np.testing.assert_array_equal(values, np.round(values, 2))
    np.testing.assert_array_equal(noisy["volume"], bars["volume"])
    first = np.flatnonzero(has_bar[:, 0])
    if first.size:
        assert c[0] == close[first[0]]  # the first bar keeps its close
