"""The engine on the hand-checkable ``_bundle_kit`` bundle: shifts, adjustments, life spans.

The bundle (see ``tests/unit/data/_bundle_kit.py``): 15 XNYS sessions from
2024-01-02 (index ``i``); AAA closes ``100 + i`` before its 2:1 split
effective on session 8, ``50 + i`` from it (volume 3900, then 7800); BBB
closes ``41 + i``, has no bar on session 5 and a 1.00 dividend ex session 10
(ratio 0.98); CCC lives sessions 4..12 closing ``20 + i``; DDD never trades.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from rustybt.exceptions import PipelineError
from rustybt.pipeline import CustomFactor, Pipeline, bundle_engine
from rustybt.pipeline.data import Column, DataSet, EquityPricing
from rustybt.pipeline.factors import Returns, SimpleMovingAverage
from rustybt.pipeline.loaders import DataFrameLoader
from tests.unit.data._bundle_kit import Bundle, write_bundle

CLOSE = EquityPricing.close


@pytest.fixture
def bundle(tmp_path: Path) -> Bundle:
    written = write_bundle(tmp_path / "bundle")
    yield written
    written.close()


def run(bundle: Bundle, columns: dict[str, Any], start: int, end: int, **kw: Any) -> pd.DataFrame:
    engine = bundle_engine(bundle.portal(), "XNYS", kw.pop("custom_loader", None))
    pipe = Pipeline(columns, **kw)
    return engine.run_pipeline(pipe, bundle.sessions[start], bundle.sessions[end])


def cell(frame: pd.DataFrame, bundle: Bundle, i: int, sid: int, column: str) -> float:
    return float(frame.loc[(bundle.sessions[i], bundle.asset(sid)), column])


class Windows(CustomFactor):
    """Keeps the windows its compute sees, by date and sid (to check them by hand)."""

    inputs = (CLOSE,)
    window_length = 3
    seen: ClassVar[dict[tuple[pd.Timestamp, int], list[float]]] = {}

    def compute(self, today: Any, assets: Any, out: Any, close: Any) -> None:
        for j, sid in enumerate(assets):
            Windows.seen[(today, int(sid))] = close[:, j].tolist()
        out[:] = close[-1]


def test_a_date_sees_the_previous_bar_adjusted_as_of_that_date(bundle: Bundle) -> None:
    out = run(bundle, {"close": CLOSE.latest, "volume": EquityPricing.volume.latest}, 6, 11)
    assert cell(out, bundle, 7, 1, "close") == 106.0  # session 6's bar, no split known yet
    # The split is effective on session 8: that day sees session 7's 107 halved.
    assert cell(out, bundle, 8, 1, "close") == 53.5
    assert cell(out, bundle, 8, 1, "volume") == 7800.0  # volumes doubled
    assert cell(out, bundle, 9, 1, "close") == 58.0
    # BBB: no bar on session 5, so session 6 sees none; the dividend ex session 10.
    assert np.isnan(cell(out, bundle, 6, 2, "close"))
    assert cell(out, bundle, 10, 2, "close") == pytest.approx(50 * 0.98, rel=1e-12)
    assert cell(out, bundle, 11, 2, "close") == 51.0


def test_windows_are_adjusted_as_of_each_date_without_look_ahead(bundle: Bundle) -> None:
    Windows.seen.clear()
    run(bundle, {"w": Windows()}, 7, 9)
    day = bundle.sessions
    assert Windows.seen[(day[7], 1)] == [104.0, 105.0, 106.0]
    # On the split's day every earlier row is halved; the day before, none was.
    assert Windows.seen[(day[8], 1)] == [52.5, 53.0, 53.5]
    assert Windows.seen[(day[9], 1)] == [53.0, 53.5, 58.0]


def test_assets_enter_the_day_after_they_start_and_stay_through_their_end(
    bundle: Bundle,
) -> None:
    out = run(bundle, {"close": CLOSE.latest}, 3, 14)
    ccc = bundle.asset(3)
    days = [d for d, a in out.index if a == ccc]
    assert days == list(bundle.sessions[5:13])  # starts session 4, ends session 12
    # DDD never traded but is alive: its rows are there, with no value.
    ddd = out.xs(bundle.asset(4), level=1)["close"]
    assert len(ddd) == 12 and ddd.isna().all()


def test_a_window_reaching_before_an_assets_first_bar_averages_what_there_is(
    bundle: Bundle,
) -> None:
    sma = SimpleMovingAverage(inputs=[CLOSE], window_length=3)
    out = run(bundle, {"sma": sma}, 5, 7)
    assert cell(out, bundle, 5, 3, "sma") == 24.0  # only session 4's bar
    assert cell(out, bundle, 6, 3, "sma") == 24.5
    assert cell(out, bundle, 7, 3, "sma") == 25.0


def test_the_screen_keeps_rows_and_masks_limit_custom_inputs(bundle: Bundle) -> None:
    close = CLOSE.latest
    Windows.seen.clear()
    masked = Windows(mask=close > 60)
    out = run(bundle, {"close": close, "masked": masked}, 9, 9, screen=close > 50)
    assert sorted(a.symbol for _, a in out.index) == ["AAA"]  # BBB is at 49
    assert {sid for _, sid in Windows.seen} == set()  # nothing above 60 that day
    out = run(bundle, {"masked": Windows(mask=close > 40)}, 9, 9)
    assert np.isnan(cell(out, bundle, 9, 3, "masked"))  # CCC (28) was masked out
    assert cell(out, bundle, 9, 1, "masked") == 58.0


class Counting(CustomFactor):
    inputs = (CLOSE,)
    window_length = 2
    calls = 0

    def compute(self, today: Any, assets: Any, out: Any, close: Any) -> None:
        Counting.calls += 1
        out[:] = close[-1]


def test_a_term_shared_by_several_columns_is_computed_once(bundle: Bundle) -> None:
    Counting.calls = 0
    shared = Counting()
    assert Counting() is shared  # terms are interned
    run(bundle, {"a": shared, "b": shared * 2, "c": shared.rank()}, 5, 9, screen=shared > 0)
    assert Counting.calls == 5  # once per date, not once per column


def test_chunked_runs_equal_one_run(bundle: Bundle) -> None:
    columns = {"ret": Returns(window_length=3), "rank": CLOSE.latest.rank()}
    engine = bundle_engine(bundle.portal(), "XNYS")
    pipe = Pipeline(columns)
    whole = engine.run_pipeline(pipe, bundle.sessions[3], bundle.sessions[14])
    chunked = engine.run_chunked_pipeline(pipe, bundle.sessions[3], bundle.sessions[14], 4)
    pd.testing.assert_frame_equal(whole, chunked)


class Fundamentals(DataSet):
    rating = Column(np.float64)
    sector = Column(object)


def test_custom_columns_load_from_a_dataframe_loader(bundle: Bundle) -> None:
    days = bundle.sessions
    ratings = pd.DataFrame({1: np.arange(15.0), 2: np.arange(15.0) * 10}, index=days)
    sectors = pd.DataFrame({1: ["tech"] * 15, 2: ["energy"] * 15, 3: ["tech"] * 15}, index=days)
    loaders = {
        Fundamentals.rating: DataFrameLoader(Fundamentals.rating, ratings),
        Fundamentals.sector: DataFrameLoader(Fundamentals.sector, sectors),
    }
    sector = Fundamentals.sector.latest
    out = run(
        bundle,
        {"rating": Fundamentals.rating.latest, "sector": sector, "tech": sector.eq("tech")},
        6,
        7,
        custom_loader=loaders,
    )
    # No shift for custom data: a date's row is the frame's row of that date.
    assert cell(out, bundle, 7, 2, "rating") == 70.0
    assert out.loc[(days[7], bundle.asset(3)), "sector"] == "tech"
    assert out.loc[(days[7], bundle.asset(1)), "tech"]
    assert not out.loc[(days[7], bundle.asset(2)), "tech"]
    assert pd.isna(out.loc[(days[7], bundle.asset(4)), "sector"])


def test_errors_name_the_term_or_column_at_fault(bundle: Bundle) -> None:
    with pytest.raises(PipelineError, match=r"no pipeline loader .* Fundamentals\.rating"):
        run(bundle, {"r": Fundamentals.rating.latest}, 5, 6)
    with pytest.raises(PipelineError, match="not window-safe"):
        SimpleMovingAverage(inputs=[CLOSE.latest], window_length=3)
    with pytest.raises(PipelineError, match=r"needs \d+ sessions before .* calendar starts"):
        run(bundle, {"s": SimpleMovingAverage(inputs=[CLOSE], window_length=100_000)}, 5, 6)
    with pytest.raises(PipelineError, match=r"add EquityPricing\.close\.latest"):
        Pipeline({"c": CLOSE})
    with pytest.raises(PipelineError, match="screen must be a Filter"):
        Pipeline({"c": CLOSE.latest}, screen=CLOSE.latest)
    with pytest.raises(PipelineError, match="rank method must be one of"):
        CLOSE.latest.rank(method="best")
    with pytest.raises(PipelineError, match=r"Fundamentals\.sector holds object values"):
        SimpleMovingAverage(inputs=[Fundamentals.sector], window_length=3)
    with pytest.raises(PipelineError, match="groupby must be a Classifier"):
        CLOSE.latest.zscore(groupby=CLOSE.latest)


def test_domains_pick_the_calendar_and_the_countries(bundle: Bundle) -> None:
    from rustybt.pipeline import US_EQUITIES, EquityCalendarDomain

    columns = {"close": CLOSE.latest}
    default = run(bundle, columns, 5, 9)
    # The kit's exchange names no country ("??"): a US domain keeps its assets.
    pd.testing.assert_frame_equal(run(bundle, columns, 5, 9, domain=US_EQUITIES), default)
    # Another calendar's domain takes its sessions: London traded on Martin Luther
    # King day (2024-01-15), when New York was closed.
    london = run(bundle, columns, 5, 9, domain=EquityCalendarDomain("GB", "XLON"))
    days = london.index.get_level_values(0).unique()
    assert pd.Timestamp("2024-01-15") in days and pd.Timestamp("2024-01-15") not in bundle.sessions


def test_text_classifiers_test_their_labels(bundle: Bundle) -> None:
    days = bundle.sessions
    names = {1: "tech-hardware", 2: "energy", 3: "tech-software"}
    sectors = pd.DataFrame({sid: [name] * 15 for sid, name in names.items()}, index=days)
    sector = Fundamentals.sector.latest
    out = run(
        bundle,
        {
            "starts": sector.startswith("tech"),
            "ends": sector.endswith("ware"),
            "has": sector.has_substring("soft"),
            "matches": sector.matches(r"^e\w+$"),
            "in": sector.element_of(["energy", "tech-software"]),
            "not_energy": sector != "energy",
            "peers": sector.peer_count(),
        },
        7,
        7,
        custom_loader={Fundamentals.sector: DataFrameLoader(Fundamentals.sector, sectors)},
    )
    day = out.xs(days[7], level=0)
    by_sid = {asset.sid: row for asset, row in day.iterrows()}
    assert [s for s in (1, 2, 3, 4) if by_sid[s]["starts"]] == [1, 3]
    assert [s for s in (1, 2, 3, 4) if by_sid[s]["ends"]] == [1, 3]
    assert [s for s in (1, 2, 3, 4) if by_sid[s]["has"]] == [3]
    assert [s for s in (1, 2, 3, 4) if by_sid[s]["matches"]] == [2]
    assert [s for s in (1, 2, 3, 4) if by_sid[s]["in"]] == [2, 3]
    # DDD has no label: neither equal nor unequal to anything.
    assert [s for s in (1, 2, 3, 4) if by_sid[s]["not_energy"]] == [1, 3]
    assert [by_sid[s]["peers"] for s in (1, 2, 3)] == [1.0, 1.0, 1.0]
    assert np.isnan(by_sid[4]["peers"])
