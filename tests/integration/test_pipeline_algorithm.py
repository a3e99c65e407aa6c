"""Pipelines inside algorithms: attach_pipeline / pipeline_output on the demo bundle."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from rustybt import run_algorithm
from rustybt.api import attach_pipeline, pipeline_output, record
from rustybt.exceptions import PipelineError, PipelineOutputNotFound
from rustybt.pipeline import Pipeline, run_pipeline
from rustybt.pipeline.data import Column, DataSet, EquityPricing, USEquityPricing
from rustybt.pipeline.factors import RSI, AverageDollarVolume, Returns
from rustybt.pipeline.loaders import DataFrameLoader

pytestmark = pytest.mark.usefixtures("demo")


def make_pipeline() -> Pipeline:
    adv = AverageDollarVolume(window_length=20)
    return Pipeline(
        {"rsi": RSI(), "ret": Returns(window_length=10), "liquid": adv.top(10)},
        screen=adv.top(20),
    )


def collect(start: str, end: str, frequency: str = "daily", **attach: Any) -> dict[Any, Any]:
    seen: dict[Any, pd.DataFrame] = {}

    def initialize(context: Any) -> None:
        attach_pipeline(make_pipeline(), "screen", **attach)

    def before_trading_start(context: Any, data: Any) -> None:
        out = pipeline_output("screen")
        seen[context.get_datetime().normalize().tz_localize(None)] = out

    run_algorithm(
        start=start,
        end=end,
        initialize=initialize,
        before_trading_start=before_trading_start,
        capital_base=1e5,
        data_frequency=frequency,
        bundle="demo",
    )
    return seen


def test_each_session_reads_the_rows_run_pipeline_gives_for_that_day() -> None:
    seen = collect("2016-03-01", "2016-04-29")
    whole = run_pipeline(make_pipeline(), "2016-03-01", "2016-04-29", bundle="demo")
    assert list(seen) == list(whole.index.get_level_values(0).unique())
    for day, rows in seen.items():
        expected = whole.xs(day, level=0)
        assert len(rows) == 20
        pd.testing.assert_frame_equal(rows, expected)


def test_chunking_and_laziness_do_not_change_the_rows() -> None:
    default = collect("2016-03-01", "2016-03-31")
    for attach in ({"chunks": 1}, {"chunks": [3, 2, 50]}, {"eager": False}):
        other = collect("2016-03-01", "2016-03-31", **attach)
        assert list(other) == list(default)
        for day in default:
            pd.testing.assert_frame_equal(other[day], default[day])


def test_a_minute_simulation_reads_the_daily_pipeline_once_a_session() -> None:
    seen = collect("2024-03-04", "2024-03-08", frequency="minute")
    daily = run_pipeline(make_pipeline(), "2024-03-04", "2024-03-08", bundle="demo")
    assert len(seen) == 5
    for day, rows in seen.items():
        pd.testing.assert_frame_equal(rows, daily.xs(day, level=0))


class Sentiment(DataSet):
    score = Column(np.float64)


def test_custom_columns_reach_algorithms_through_custom_loader() -> None:
    sessions = pd.date_range("2016-03-01", "2016-03-10", freq="B")
    frame = pd.DataFrame({0: np.arange(len(sessions), dtype=float)}, index=sessions)
    loader = DataFrameLoader(Sentiment.score, frame)

    def initialize(context: Any) -> None:
        attach_pipeline(Pipeline({"score": Sentiment.score.latest}), "sentiment")

    def before_trading_start(context: Any, data: Any) -> None:
        record(score=pipeline_output("sentiment")["score"].iloc[0])

    perf = run_algorithm(
        start="2016-03-01",
        end="2016-03-10",
        initialize=initialize,
        before_trading_start=before_trading_start,
        capital_base=1e5,
        bundle="demo",
        custom_loader={Sentiment.score: loader},
    )
    assert perf["score"].tolist() == list(range(len(perf)))


def run_with(initialize: Any, before_trading_start: Any = None) -> Any:
    return run_algorithm(
        start="2016-03-01",
        end="2016-03-04",
        initialize=initialize,
        before_trading_start=before_trading_start,
        capital_base=1e5,
        bundle="demo",
    )


def test_misuse_gets_one_line_errors_naming_the_pipeline() -> None:
    def reads_unknown(context: Any, data: Any) -> None:
        pipeline_output("nope")

    def attach(context: Any) -> None:
        attach_pipeline(make_pipeline(), "screen")

    with pytest.raises(PipelineOutputNotFound, match=r"no pipeline is attached as 'nope'"):
        run_with(attach, reads_unknown)

    def reads_in_initialize(context: Any) -> None:
        pipeline_output("screen")

    with pytest.raises(PipelineError, match="cannot be called in initialize"):
        run_with(reads_in_initialize)

    def attaches_late(context: Any, data: Any) -> None:
        attach_pipeline(make_pipeline(), "late")

    with pytest.raises(PipelineError, match="can only be called in initialize"):
        run_with(lambda context: None, attaches_late)

    def attaches_twice(context: Any) -> None:
        attach_pipeline(make_pipeline(), "screen")
        attach_pipeline(make_pipeline(), "screen")

    with pytest.raises(PipelineError, match="already attached as 'screen'"):
        run_with(attaches_twice)


def test_ziplines_us_dataset_loads_the_same_bars_on_a_csvdir_style_bundle() -> None:
    # zipline's own csvdir bundles say country "??", which its US pipelines skip.
    columns = {"us": USEquityPricing.close.latest, "any": EquityPricing.close.latest}
    frame = run_pipeline(Pipeline(columns), "2016-03-01", "2016-03-03", bundle="demo")
    assert len(frame) == 3 * 29 and frame["us"].notna().all()
    assert frame["us"].equals(frame["any"])


def test_each_call_gets_its_own_frame() -> None:
    columns: list[list[str]] = []

    def initialize(context: Any) -> None:
        attach_pipeline(make_pipeline(), "screen")

    def before_trading_start(context: Any, data: Any) -> None:
        first = pipeline_output("screen")
        first["mine"] = 1.0
        columns.append(list(pipeline_output("screen").columns))

    run_with(initialize, before_trading_start)
    assert columns and all(c == ["rsi", "ret", "liquid"] for c in columns)
