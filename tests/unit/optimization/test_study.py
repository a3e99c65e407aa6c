"""optimize(): every search method on real backtests of the demo bundle, storage and resume."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest

from rustybt.exceptions import OptimizationError, ParameterValidationError
from rustybt.optimization import Categorical, Float, Int, ParameterSpace, optimize
from tests.unit.optimization._algos import CROSSOVER, crossover_sharpe

ALGO = CROSSOVER
START, END = "2015-01-02", "2015-12-31"
SPACE = ParameterSpace(fast=Int(10, 30, step=10), slow=Int(40, 60, step=20))
# What may differ from one executor to another: where and how long a trial ran.
WHERE = ["duration", "worker"]


def search(storage: str, **kwargs):
    arguments = {"bundle": "demo", "start": START, "end": END, "storage": storage}
    return optimize(ALGO, kwargs.pop("space", SPACE), **{**arguments, **kwargs})


def direct_sharpe(params: dict) -> float:
    return crossover_sharpe(START, END, params)


def test_grid_runs_every_point_as_a_real_backtest(demo: Path) -> None:
    result = search(":memory:", method="grid")
    trials = result.trials
    assert list(trials["status"]) == ["complete"] * 6
    assert sorted(zip(trials["fast"], trials["slow"], strict=True)) == sorted(
        (p["fast"], p["slow"]) for p in SPACE.grid()
    )
    best = trials.loc[trials["sharpe"].idxmax()]
    assert result.best_params == {"fast": int(best["fast"]), "slow": int(best["slow"])}
    assert result.best_value == pytest.approx(direct_sharpe(result.best_params), rel=1e-12)
    assert {"total_return", "max_drawdown", "duration", "worker", "error"} <= set(trials)


@pytest.mark.parametrize("method", ["random", "tpe", "cmaes"])
def test_each_sampler_searches_the_space(demo: Path, method: str) -> None:
    space = ParameterSpace(fast=Int(5, 30, step=5), slow=Int(40, 80, step=20))
    result = search(":memory:", space=space, method=method, trials=5)
    trials = result.trials
    assert len(trials) == 5 and (trials["status"] == "complete").all()
    assert trials["fast"].isin(range(5, 31, 5)).all()
    assert trials["slow"].isin([40, 60, 80]).all()
    assert result.best_value == trials["sharpe"].max()


def test_nsga2_finds_a_pareto_front_of_two_objectives(demo: Path) -> None:
    result = search(":memory:", method="nsga2", trials=6, objective=["sharpe", "max_drawdown"])
    front = result.pareto_front
    assert 1 <= len(front) <= 6
    done = result.trials
    for _, row in front.iterrows():  # no trial beats a front member on both objectives
        beaten = (done["sharpe"] > row["sharpe"]) & (done["max_drawdown"] > row["max_drawdown"])
        assert not beaten.any()
    with pytest.raises(OptimizationError, match="Pareto front"):
        _ = result.best_params
    assert result.best_by("max_drawdown")["max_drawdown"] == done["max_drawdown"].max()


def test_the_trials_do_not_depend_on_the_number_of_workers(demo: Path) -> None:
    one = search(":memory:", method="tpe", trials=6, jobs=1).trials
    two = search(":memory:", method="tpe", trials=6, jobs=2).trials
    pd.testing.assert_frame_equal(one.drop(columns=WHERE), two.drop(columns=WHERE))


def test_a_study_resumes_from_its_storage(demo: Path, tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    first = search(storage, method="random", trials=3, study_name="resume")
    seen: list[int] = []
    second = search(
        storage,
        method="random",
        trials=5,
        study_name="resume",
        progress=lambda outcome, done, total: seen.append(outcome.number),
    )
    assert seen == [3, 4]  # only the two missing trials ran
    assert len(second.trials) == 5
    pd.testing.assert_frame_equal(second.trials.iloc[:3], first.trials)
    loaded = optuna.load_study(study_name="resume", storage=storage)
    assert len(loaded.trials) == 5


def test_the_default_storage_is_under_the_root_and_named_after_the_search(demo: Path) -> None:
    result = search(None, method="grid")
    assert (demo / "optimization" / "studies.db").is_file()
    name = result.study.study_name
    assert name.startswith("crossover-demo-20150102-20151231-grid-sharpe-")
    again = search(None, method="grid")  # the same search: resumed, nothing re-run
    assert again.study.study_name == name
    pd.testing.assert_frame_equal(again.trials, result.trials)
    # Another space is another search: a study of its own, not a refusal.
    other = search(None, space=ParameterSpace(fast=Int(10, 20, step=10), slow=Int(40, 40)),
                   method="grid")  # fmt: skip
    assert other.study.study_name != name and len(other.trials) == 2


def test_a_stored_study_of_another_search_is_refused(demo: Path, tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    search(storage, method="random", trials=1, study_name="mine")
    other = ParameterSpace(fast=Int(10, 20, step=10), slow=Int(40, 60, step=20))
    with pytest.raises(OptimizationError, match=r"study 'mine' .* searched another space"):
        search(storage, space=other, method="random", trials=1, study_name="mine")


def test_failed_trials_are_recorded_and_the_study_goes_on(demo: Path) -> None:
    result = search(":memory:", method="grid", params={"fail_at": 20})
    failed = result.trials[result.trials["status"] == "fail"]
    assert sorted(failed["fast"]) == [20, 20]
    assert failed["error"].str.contains("planted failure at fast=20").all()
    assert (result.trials["status"] == "complete").sum() == 4
    assert result.best_params["fast"] != 20


def test_a_study_whose_every_trial_fails_raises_one_error(demo: Path) -> None:
    space = ParameterSpace(fast=Int(20, 20), slow=Int(40, 60, step=20))
    with pytest.raises(OptimizationError, match=r"all 2 trials failed.*planted failure"):
        search(":memory:", space=space, method="grid", params={"fail_at": 20})


def test_bad_arguments_are_refused_before_any_trial(demo: Path) -> None:
    with pytest.raises(ParameterValidationError, match="unknown search method 'anneal'"):
        search(":memory:", method="anneal")
    continuous = ParameterSpace(fast=Int(5, 10), w=Float(0.1, 0.9))
    with pytest.raises(ParameterValidationError, match="w"):
        search(":memory:", space=continuous, method="grid")
    with pytest.raises(ParameterValidationError, match="not found"):
        optimize("no/such/algo.py", SPACE, start=START, end=END, storage=":memory:")
    with pytest.raises(ParameterValidationError, match="cmaes"):
        search(":memory:", method="cmaes", objective=["sharpe", "sortino"])
    with pytest.raises(ParameterValidationError, match="fast"):
        search(":memory:", method="random", trials=1, params={"fast": 3})


def test_categorical_and_fixed_parameters_reach_the_algorithm(demo: Path) -> None:
    space = ParameterSpace(fast=Categorical([10, 20]))
    result = search(":memory:", space=space, method="grid", params={"slow": 60})
    for _, row in result.trials.iterrows():
        assert row["sharpe"] == pytest.approx(
            direct_sharpe({"fast": int(row["fast"]), "slow": 60}), rel=1e-12
        )


def test_a_killed_run_resumes_rerunning_only_the_trials_in_flight(
    demo: Path, tmp_path: Path
) -> None:
    storage = f"sqlite:///{tmp_path / 'killed.db'}"
    code = (
        "from rustybt.optimization import Int, ParameterSpace, optimize\n"
        "space = ParameterSpace(fast=Int(5, 40, step=5), slow=Int(60, 60))\n"
        f"optimize({ALGO!r}, space, bundle='demo', start={START!r}, end='2015-03-31', "
        f"method='grid', storage={storage!r}, study_name='killed')\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, "RUSTYBT_ROOT": str(demo), "CROSSOVER_PAUSE": "0.02"},
    )
    try:
        complete = _wait_for_complete(storage, "killed", at_least=2, child=child)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    before = optuna.load_study(study_name="killed", storage=storage)
    in_flight = [t for t in before.trials if t.state == optuna.trial.TrialState.RUNNING]
    assert in_flight, "the run was killed while a trial ran"
    space = ParameterSpace(fast=Int(5, 40, step=5), slow=Int(60, 60))
    result = search(
        storage,
        space=space,
        end="2015-03-31",
        method="grid",
        study_name="killed",
    )
    trials = result.trials.set_index("number")
    for trial in complete:  # finished before the kill: kept as they were
        assert trials.loc[trial.number, "status"] == "complete"
        assert trials.loc[trial.number, "sharpe"] == trial.value
    for trial in in_flight:  # in flight: marked, and run again with the same parameters
        assert trials.loc[trial.number, "status"] == "interrupted"
        rerun = trials[trials["rerun_of"] == trial.number]
        # Killed before drawing its parameters, a trial holds only its queued point.
        params = trial.params or trial.system_attrs["fixed_params"]
        assert len(rerun) == 1 and rerun.iloc[0]["fast"] == params["fast"]
    done = result.trials[result.trials["status"] == "complete"]
    assert sorted(done["fast"]) == list(range(5, 41, 5))  # the whole grid, once


def _wait_for_complete(storage: str, name: str, at_least: int, child: subprocess.Popen) -> list:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert child.poll() is None, "the search ended before it could be killed"
        try:
            study = optuna.load_study(study_name=name, storage=storage)
        except KeyError:  # not created yet
            time.sleep(0.05)
            continue
        complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
        running = study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
        # Kill while a trial runs, not in the moment between two trials.
        if len(complete) >= at_least and running:
            return complete
        time.sleep(0.02)
    raise AssertionError("no trial completed in time")


def undefined(perf: pd.DataFrame) -> float:
    """An objective no run defines."""
    return math.nan


def test_an_undefined_objective_fails_the_trial_with_a_reason(demo: Path) -> None:
    with pytest.raises(OptimizationError, match="objective undefined is undefined \\(NaN\\)"):
        search(":memory:", method="grid", objective=undefined)


def test_trials_compute_only_what_their_statistics_read(demo: Path) -> None:
    from rustybt.optimization.objectives import make_evaluator, resolve_objectives
    from rustybt.optimization.study import backtest_spec
    from rustybt.optimization.trial import TrialTask, run_trial

    evaluate = make_evaluator(resolve_objectives(["sharpe", "max_drawdown"]))
    assert evaluate.metrics_set == "returns"
    assert make_evaluator(resolve_objectives("benchmark_volatility")).metrics_set == "default"
    task = TrialTask(0, {"fast": 10, "slow": 40})
    outcomes = {
        name: run_trial(
            backtest_spec(ALGO, "demo", START, END, metrics_set=name),
            task,
            evaluate,
            keep_perf=True,
        )
        for name in ("returns", "default")
    }
    lean, full = outcomes["returns"], outcomes["default"]
    assert lean.metrics == full.metrics and lean.metrics["trades"] > 0
    assert "sharpe" in full.perf and "sharpe" not in lean.perf


def test_a_trial_killed_before_drawing_its_parameters_reruns_its_queued_point(
    demo: Path, tmp_path: Path
) -> None:
    storage = f"sqlite:///{tmp_path / 'asked.db'}"
    search(storage, method="grid", trials=2, study_name="asked")
    study = optuna.load_study(study_name="asked", storage=storage)
    third = SPACE.grid()[2]
    study.enqueue_trial(third)
    asked = study.ask()  # a run killed here holds the point only as its queued one
    assert asked.params == {}
    result = search(storage, method="grid", trials=3, study_name="asked")
    trials = result.trials.set_index("number")
    assert trials.loc[asked.number, "status"] == "interrupted"
    rerun = trials[trials["rerun_of"] == asked.number]
    assert len(rerun) == 1
    assert (rerun.iloc[0]["fast"], rerun.iloc[0]["slow"]) == (third["fast"], third["slow"])
    assert list(result.trials["status"]).count("complete") == 3
