"""run_trial and what it stands on: parameters reaching the algorithm, a bundle opened once."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rustybt import run_algorithm
from rustybt.data import bundles
from rustybt.exceptions import ConfigValidationError, DataNotFoundError
from rustybt.finance.ledger.records import Records
from rustybt.optimization.trial import (
    BacktestSpec,
    TrialTask,
    open_bundle,
    read_algorithm,
    run_trial,
)
from tests.unit.optimization._algos import (
    WINDOWS,
    failing_metrics,
    final_metrics,
    write_dual_moving_average,
)

START, END = "2016-01-04", "2016-12-30"

PARAMETER_SCRIPT = textwrap.dedent(
    """
    from rustybt.api import record

    FAST = globals().get("fast", 10)

    def initialize(context):
        context.names = sorted(context.params)

    def handle_data(context, data):
        record(fast=FAST, from_params=context.params.get("fast", -1))
    """
)


def comparable(perf: pd.DataFrame) -> pd.DataFrame:
    """``perf`` without its order ids, which are random (as zipline's uuid4 ids are),
    and without the id of the reader the run read (which tells the runs apart)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("id", "order_id")}
        if isinstance(value, list | Records):
            return [strip(v) for v in value]
        return value

    out = perf.drop(columns="daily_reader")
    for column in ("orders", "transactions"):
        out[column] = out[column].map(strip)
    return out


# --- parameters reach the algorithm ------------------------------------------------


def test_params_are_script_names_and_context_params(demo: Path) -> None:
    perf, algo = run_algorithm(
        START, "2016-01-08", script=PARAMETER_SCRIPT, params={"fast": 3}, return_algorithm=True
    )
    assert perf["fast"].tolist() == [3] * 5
    assert perf["from_params"].tolist() == [3] * 5
    assert algo.names == ["fast"]
    with pytest.raises(TypeError):
        algo.params["fast"] = 4  # a read-only mapping


def test_without_params_the_script_defaults_apply(demo: Path) -> None:
    perf, algo = run_algorithm(START, "2016-01-08", script=PARAMETER_SCRIPT, return_algorithm=True)
    assert perf["fast"].tolist() == [10] * 5
    assert perf["from_params"].tolist() == [-1] * 5
    assert dict(algo.params) == {}


def test_params_join_a_given_namespace(demo: Path) -> None:
    namespace = {"fast": 1, "other": "kept"}
    run_algorithm(START, "2016-01-08", script=PARAMETER_SCRIPT, namespace=namespace,
                  params={"fast": 7})  # fmt: skip
    assert namespace["fast"] == 7 and namespace["other"] == "kept"


def test_function_algorithm_reads_context_params(demo: Path) -> None:
    seen: list[Any] = []

    def initialize(context: Any) -> None:
        seen.append(dict(context.params))

    run_algorithm(START, "2016-01-08", initialize, params={"lookback": 20})
    assert seen == [{"lookback": 20}]


# --- an opened bundle reused by runs ----------------------------------------------------


def test_runs_on_one_opened_bundle_equal_a_fresh_run(demo: Path, tmp_path: Path) -> None:
    script = write_dual_moving_average(tmp_path).read_text()
    kwargs = {"script": script, "params": WINDOWS[0], "benchmark_symbol": "SPY"}
    fresh = run_algorithm(START, END, **kwargs)
    with bundles.load("demo") as data:
        first = run_algorithm(START, END, bundle_data=data, **kwargs)
        # Another run in between, reading other windows and other sessions.
        run_algorithm("2017-01-03", "2017-06-30", bundle_data=data, script=script,
                      params=WINDOWS[1])  # fmt: skip
        second = run_algorithm(START, END, bundle_data=data, **kwargs)
        assert data.asset_finder.lookup_symbol("AAPL", None).symbol == "AAPL"  # still open
    assert first["transactions"].map(len).sum() > 0
    assert first["daily_reader"].iloc[-1] == second["daily_reader"].iloc[-1]  # one reader
    pd.testing.assert_frame_equal(comparable(first), comparable(fresh), check_exact=True)
    pd.testing.assert_frame_equal(comparable(second), comparable(fresh), check_exact=True)


# --- run_trial ------------------------------------------------------------------------------


def test_run_trial_runs_the_task_params(demo: Path, tmp_path: Path) -> None:
    spec = BacktestSpec(write_dual_moving_average(tmp_path), "demo", START, END)
    outcomes = [run_trial(spec, TrialTask(i, w), final_metrics) for i, w in enumerate(WINDOWS)]
    assert [o.status for o in outcomes] == ["complete"] * len(WINDOWS)
    assert [o.number for o in outcomes] == list(range(len(WINDOWS)))
    assert outcomes[0].params == WINDOWS[0] and outcomes[0].error is None
    assert outcomes[0].worker == f"pid {os.getpid()}"
    assert all(o.perf is None and o.duration > 0 for o in outcomes)
    # Different windows, different trades.
    assert len({o.metrics["final_value"] for o in outcomes}) == len(WINDOWS)
    expected = final_metrics(
        run_algorithm(START, END, script=Path(spec.algorithm).read_text(), params=WINDOWS[2])
    )
    assert outcomes[2].metrics == expected


def test_fixed_params_and_keep_perf(demo: Path, tmp_path: Path) -> None:
    spec = BacktestSpec(write_dual_moving_average(tmp_path), "demo", START, END,
                        fixed_params={"slow": 40, "fast": 99})  # fmt: skip
    outcome = run_trial(spec, TrialTask(0, {"fast": 10}), final_metrics, keep_perf=True)
    assert outcome.perf is not None and (outcome.perf["slow"].dropna() == 40).all()
    assert outcome.metrics == run_trial(spec, TrialTask(1, WINDOWS[1]), final_metrics).metrics


def test_a_raising_algorithm_is_a_failed_trial(demo: Path, tmp_path: Path) -> None:
    algo = tmp_path / "broken.py"
    algo.write_text("def handle_data(context, data):\n    raise ValueError('no\\nluck')\n")
    outcome = run_trial(BacktestSpec(algo, "demo", START, END), TrialTask(4, {}), final_metrics)
    assert outcome.status == "fail" and outcome.metrics == {} and outcome.number == 4
    assert outcome.error is not None and "\n" not in outcome.error
    assert outcome.error.startswith(f"{algo}: StrategyError: ValueError: no luck")


def test_what_a_trial_prints_is_dropped(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    algo = tmp_path / "chatty.py"
    algo.write_text("def handle_data(context, data):\n    print('a bar went by')\n")
    outcome = run_trial(BacktestSpec(algo, "demo", START, END), TrialTask(0, {}), final_metrics)
    assert outcome.status == "complete"
    assert "a bar went by" not in capsys.readouterr().out
    print("still printing")  # stdout is back after the trial
    assert capsys.readouterr().out == "still printing\n"


def test_a_raising_evaluate_is_a_failed_trial(demo: Path, tmp_path: Path) -> None:
    spec = BacktestSpec(write_dual_moving_average(tmp_path), "demo", START, "2016-02-01")
    outcome = run_trial(spec, TrialTask(0, WINDOWS[0]), failing_metrics)
    assert outcome.status == "fail"
    assert outcome.error == f"{spec.algorithm}: KeyError: 'no_such_column'"


def test_a_missing_bundle_stops_at_once(tmp_path: Path) -> None:
    spec = BacktestSpec(write_dual_moving_average(tmp_path), "demo", START, END,
                        root=tmp_path / "empty-root")  # fmt: skip
    with pytest.raises(DataNotFoundError, match="no ingestion of bundle 'demo'"):
        run_trial(spec, TrialTask(0, {}), final_metrics)


def test_a_missing_algorithm_file_stops_at_once(demo: Path, tmp_path: Path) -> None:
    spec = BacktestSpec(tmp_path / "nowhere.py", "demo", START, END)
    with pytest.raises(ConfigValidationError, match=r"nowhere\.py: cannot be read"):
        run_trial(spec, TrialTask(0, {}), final_metrics)


def test_root_reaches_the_run_without_touching_os_environ(demo_root: Path, tmp_path: Path) -> None:
    before = os.environ["RUSTYBT_ROOT"]  # the test's own empty root
    spec = BacktestSpec(write_dual_moving_average(tmp_path), "demo", START, "2016-02-01",
                        root=demo_root)  # fmt: skip
    outcome = run_trial(spec, TrialTask(0, WINDOWS[0]), final_metrics)
    assert outcome.status == "complete", outcome.error
    assert os.environ["RUSTYBT_ROOT"] == before


def test_bundle_opened_once_per_process(demo_root: Path, tmp_path: Path) -> None:
    spec = BacktestSpec(write_dual_moving_average(tmp_path), "demo", START, END, root=demo_root)
    other_dates = BacktestSpec(spec.algorithm, "demo", "2017-01-03", "2017-03-31", root=demo_root)
    assert open_bundle(spec) is open_bundle(other_dates)


def test_algorithm_file_reread_when_it_changes(tmp_path: Path) -> None:
    path = write_dual_moving_average(tmp_path)
    assert "SHORT_WINDOW" in read_algorithm(str(path))
    path.write_text("# another algorithm\n")
    later = time.time() + 5  # a newer mtime, whatever the file system's resolution
    os.utime(path, (later, later))
    assert read_algorithm(str(path)) == "# another algorithm\n"
