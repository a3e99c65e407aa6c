"""Parameter spaces: validation, grids, --param specs, JSON, and optuna's view of them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import optuna
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rustybt.exceptions import ParameterValidationError
from rustybt.optimization.space import Categorical, Float, Int, ParameterSpace

optuna.logging.set_verbosity(optuna.logging.WARNING)


def space() -> ParameterSpace:
    return ParameterSpace(
        fast=Int(5, 50, step=5),
        w=Float(0.1, 0.9, step=0.1),
        lr=Float(1e-4, 1e-1, log=True),
        x=Float(-1, 1),
        kind=Categorical(["sma", "ema", 3, 0.5, True, None]),
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Int(5, 52, step=5),
            "Int(5, 52, step=5): high - low (47) is not a multiple of step 5",
        ),
        (lambda: Int(5, 1), "Int(5, 1): low is above high"),
        (lambda: Int(1, 5, step=0), "Int(1, 5, step=0): step must be positive"),
        (lambda: Int(1, 5, step=-1), "step must be positive"),
        (lambda: Int(1.5, 5), "Int(1.5, 5): low must be an int, not 1.5"),  # type: ignore[arg-type]
        (lambda: Int(True, 5), "Int(True, 5): low must be an int, not True"),
        (lambda: Int(1, "5"), "high must be an int, not '5'"),  # type: ignore[arg-type]
        (lambda: Float(0.0, 1.0, step=0.1, log=True), "log=True takes no step"),
        (lambda: Float(0.0, 1.0, log=True), "Float(0.0, 1.0, log=True): log=True needs low > 0"),
        (lambda: Float(-1e-3, 1.0, log=True), "log=True needs low > 0"),
        (lambda: Float(1.0, 0.5), "Float(1.0, 0.5): low is above high"),
        (lambda: Float(0.0, float("inf")), "high must be a finite number, not inf"),
        (lambda: Float(0.0, 1.0, step=0.0), "step must be positive"),
        (lambda: Float(0.1, 0.9, step=0.3), "high - low (0.8) is not a multiple of step 0.3"),
        (lambda: Float(False, 1.0), "low must be a finite number, not False"),
        (lambda: Float(0.0, 1.0, log="yes"), "log must be True or False"),  # type: ignore[arg-type]
        (lambda: Categorical([]), "Categorical([]): no choices"),
        (lambda: Categorical("abc"), "choices must be a list of values"),
        (lambda: Categorical(["a", "a"]), "choices 'a' and 'a' are equal"),
        (lambda: Categorical([1, 1.0]), "Categorical([1, 1.0]): choices 1 and 1.0 are equal"),
        (lambda: Categorical([0, False]), "choices 0 and False are equal"),
        (lambda: Categorical([[1, 2]]), "choice [1, 2] is not a str, int, float, bool or None"),
        (lambda: Categorical([float("nan")]), "choice nan is not finite"),
    ],
)
def test_a_bad_parameter_is_refused_naming_itself(build: Any, message: str) -> None:
    with pytest.raises(ParameterValidationError) as caught:
        build()
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_space_names_the_parameter_at_fault() -> None:
    with pytest.raises(ParameterValidationError, match="needs a parameter"):
        ParameterSpace()
    with pytest.raises(ParameterValidationError, match="parameter 'a b': the name must be"):
        ParameterSpace(**{"a b": Int(1, 2)})
    with pytest.raises(ParameterValidationError, match="parameter 'class': the name must be"):
        ParameterSpace(**{"class": Int(1, 2)})
    with pytest.raises(ParameterValidationError, match=r"parameter 'n': range\(0, 3\) is not an"):
        ParameterSpace(n=range(3))  # type: ignore[arg-type]
    with pytest.raises(ParameterValidationError) as caught:
        ParameterSpace.from_dict({"fast": {"type": "int", "low": 5, "high": 52, "step": 5}})
    assert str(caught.value) == (
        "parameter 'fast': Int(5, 52, step=5): high - low (47) is not a multiple of step 5"
    )
    assert caught.value.context["parameter"] == "fast"


def test_a_float_step_grid_holds_the_values_as_typed() -> None:
    assert Float(0.1, 0.9, step=0.1).values() == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert Float(0, 1, step=0.25).values() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert Float(1e-4, 5e-4, step=1e-4).values() == [0.0001, 0.0002, 0.0003, 0.0004, 0.0005]
    assert Float(2.0, 2.0, step=0.5).values() == [2.0]
    assert all(type(v) is float for v in Float(0, 1, step=0.5).values())


def test_grid_is_the_cartesian_product_first_name_slowest() -> None:
    s = ParameterSpace(fast=Int(5, 15, step=5), w=Float(0.1, 0.2, step=0.1), k=Categorical(["a"]))
    grid = s.grid()
    assert s.grid_size() == len(grid) == 3 * 2 * 1
    assert grid[:3] == [
        {"fast": 5, "w": 0.1, "k": "a"},
        {"fast": 5, "w": 0.2, "k": "a"},
        {"fast": 10, "w": 0.1, "k": "a"},
    ]
    assert [type(p["fast"]) for p in grid] == [int] * 6
    assert [list(p) for p in grid] == [["fast", "w", "k"]] * 6
    assert s.grid_search_space() == {"fast": [5, 10, 15], "w": [0.1, 0.2], "k": ["a"]}


def test_a_grid_needs_every_float_on_a_step() -> None:
    for param, text in [(Float(0, 1), "Float(0.0, 1.0)"), (Float(1, 2, log=True), "log=True")]:
        s = ParameterSpace(fast=Int(1, 3), w=param)
        for method in (s.grid, s.grid_size, s.grid_search_space):
            with pytest.raises(ParameterValidationError) as caught:
                method()
            assert str(caught.value).startswith("parameter 'w': Float(")
            assert text in str(caught.value) and "no step, so no grid" in str(caught.value)


def test_validate_returns_the_declared_order_with_normalised_values() -> None:
    s = space()
    given_params = {"kind": True, "x": 0, "lr": 0.01, "w": 0.30000000000000004, "fast": 10.0}
    checked = s.validate(given_params)
    assert list(checked) == s.names == ["fast", "w", "lr", "x", "kind"]
    assert checked == {"fast": 10, "w": 0.3, "lr": 0.01, "x": 0.0, "kind": True}
    assert type(checked["fast"]) is int and type(checked["x"]) is float
    assert s.validate({**given_params, "kind": 3})["kind"] == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"fast": 7},
            "parameter 'fast': Int(5, 50, step=5): 7 is not one of 5, 10, 15, ..., 45, 50",
        ),
        ({"fast": 55}, "parameter 'fast': Int(5, 50, step=5): 55 is not one of"),
        ({"fast": 7.5}, "parameter 'fast': Int(5, 50, step=5): 7.5 is not an integer"),
        ({"fast": True}, "parameter 'fast': Int(5, 50, step=5): True is not an integer"),
        ({"w": 0.35}, "parameter 'w': Float(0.1, 0.9, step=0.1): 0.35 is not on the step grid"),
        ({"w": 1.0}, "parameter 'w': Float(0.1, 0.9, step=0.1): 1.0 is out of range"),
        ({"lr": 0.0}, "parameter 'lr': Float(0.0001, 0.1, log=True): 0.0 is out of range"),
        ({"x": "0.5"}, "parameter 'x': Float(-1.0, 1.0): '0.5' is not a finite number"),
        ({"x": float("nan")}, "parameter 'x': Float(-1.0, 1.0): nan is not a finite number"),
        (
            {"kind": "wma"},
            "parameter 'kind': Categorical(['sma', 'ema', 3, 0.5, True, None]): 'wma' is not one",
        ),
        ({"kind": 1}, "parameter 'kind': Categorical("),  # 1 == True, but not a bool
        ({"slow": 3}, "parameter 'slow': unknown (the space has fast, w, lr, x, kind)"),
    ],
)
def test_validate_names_the_parameter_and_the_value(change: dict[str, Any], message: str) -> None:
    params = {"fast": 10, "w": 0.5, "lr": 0.01, "x": 0.0, "kind": "sma", **change}
    with pytest.raises(ParameterValidationError) as caught:
        space().validate(params)
    assert str(caught.value).startswith(message)
    assert caught.value.context["parameter"] == next(iter(change))


def test_validate_refuses_a_missing_parameter() -> None:
    with pytest.raises(ParameterValidationError) as caught:
        space().validate({"fast": 10, "w": 0.5, "lr": 0.01, "kind": "sma"})
    assert str(caught.value) == "parameter 'x': missing (the space has fast, w, lr, x, kind)"


@pytest.mark.parametrize(
    ("spec", "param"),
    [
        ("fast=int:5:50:5", Int(5, 50, step=5)),
        ("fast=int:5:50", Int(5, 50)),
        (" fast = int: -5 : 5 ", Int(-5, 5)),
        ("w=float:0.1:0.9", Float(0.1, 0.9)),
        ("w=float:0.1:0.9:0.1", Float(0.1, 0.9, step=0.1)),
        ("lr=logfloat:1e-4:1e-1", Float(1e-4, 0.1, log=True)),
        ("k=cat:a,b,c", Categorical(["a", "b", "c"])),
        (
            "k=cat:7, 2.5,TRUE,false,None,x y,1e3",
            Categorical([7, 2.5, True, False, None, "x y", 1000.0]),
        ),
        ("t=categorical:09:30,10:00", Categorical(["09:30", "10:00"])),
    ],
)
def test_from_specs_reads_each_form(spec: str, param: Any) -> None:
    s = ParameterSpace.from_specs([spec])
    assert list(s.params.values()) == [param]
    assert ParameterSpace.from_dict(json.loads(json.dumps(s.to_dict()))) == s


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("fast", "expected NAME=KIND:ARGS, e.g. fast=int:5:50:5"),
        ("fast=int", "expected NAME=KIND:ARGS"),
        (
            "fast=int:5",
            "expected int:LOW:HIGH[:STEP], float:LOW:HIGH[:STEP], logfloat:LOW:HIGH or cat:A,B,C",
        ),
        ("fast=int:1:2:3:4", "expected int:LOW:HIGH[:STEP]"),
        ("fast=range:1:2", "expected int:LOW:HIGH[:STEP]"),
        ("lr=logfloat:1e-4:1e-1:1e-2", "expected int:LOW:HIGH[:STEP]"),
        ("2fast=int:1:5", "the name '2fast' is not a Python identifier"),
        ("=int:1:5", "the name '' is not a Python identifier"),
        ("fast=int:5:5.5", "'5.5' is not an integer"),
        ("w=float:0.1:x", "'x' is not a number"),
        ("fast=int:5:52:5", "Int(5, 52, step=5): high - low (47) is not a multiple of step 5"),
        ("w=float:0.1:0.9:0.3", "is not a multiple of step 0.3"),
        ("lr=logfloat:0:1", "Float(0.0, 1.0, log=True): log=True needs low > 0"),
        ("k=cat:a,,b", "empty choice"),
        ("k=cat:a,A,a", "choices 'a' and 'a' are equal"),
        ("k=cat:1,1.0", "choices 1 and 1.0 are equal"),
        ("k=cat:nan", "choice nan is not finite"),
    ],
)
def test_a_malformed_spec_is_refused_in_one_line(spec: str, problem: str) -> None:
    with pytest.raises(ParameterValidationError) as caught:
        ParameterSpace.from_specs([spec])
    assert str(caught.value) == f"parameter spec {spec!r}: {problem}" or (
        str(caught.value).startswith(f"parameter spec {spec!r}: ") and problem in str(caught.value)
    )
    assert "\n" not in str(caught.value)


def test_from_specs_refuses_duplicates_and_a_bare_string() -> None:
    with pytest.raises(ParameterValidationError, match="'fast' is given twice"):
        ParameterSpace.from_specs(["fast=int:1:5", "slow=int:1:5", "fast=float:0:1"])
    with pytest.raises(ParameterValidationError, match="takes a list of specs"):
        ParameterSpace.from_specs("fast=int:1:5")
    with pytest.raises(ParameterValidationError, match="needs a parameter"):
        ParameterSpace.from_specs([])


def test_to_dict_round_trips_through_json_and_equality_is_by_value() -> None:
    s = space()
    text = json.dumps(s.to_dict())
    back = ParameterSpace.from_dict(json.loads(text))
    assert back == s and hash(back) == hash(s) and back is not s
    assert repr(back) == repr(s)
    assert json.loads(text)["w"] == {
        "type": "float",
        "low": 0.1,
        "high": 0.9,
        "step": 0.1,
        "log": False,
    }
    assert s != ParameterSpace(**{**s.params, "fast": Int(5, 45, step=5)})
    assert s != ParameterSpace(**dict(reversed(s.params.items())))  # grid order differs
    assert s != "not a space"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"a": {"low": 1, "high": 2}}, "parameter 'a': {'low': 1, 'high': 2} has no type int"),
        ({"a": {"type": "range"}}, "has no type int, float or categorical"),
        ({"a": 3}, "parameter 'a': 3 has no type"),
        ({"a": {"type": "int", "low": 1}}, "parameter 'a': {'type': 'int', 'low': 1} is not a Int"),
        ({"a": {"type": "float", "low": 0, "high": 1, "stp": 1}}, "is not a Float"),
        (
            {"a": {"type": "categorical", "choices": []}},
            "parameter 'a': Categorical([]): no choices",
        ),
    ],
)
def test_from_dict_refuses_what_to_dict_never_writes(data: Any, problem: str) -> None:
    with pytest.raises(ParameterValidationError) as caught:
        ParameterSpace.from_dict(data)
    assert problem in str(caught.value)


def test_repr_reads_like_the_code_that_built_it() -> None:
    assert repr(space()) == (
        "ParameterSpace(fast=Int(5, 50, step=5), w=Float(0.1, 0.9, step=0.1), "
        "lr=Float(0.0001, 0.1, log=True), x=Float(-1.0, 1.0), "
        "kind=Categorical(['sma', 'ema', 3, 0.5, True, None]))"
    )


def test_suggest_in_a_real_optuna_study_stays_in_the_space() -> None:
    s = space()
    suggested: list[dict[str, Any]] = []

    def objective(trial: optuna.Trial) -> float:
        params = s.suggest(trial)
        suggested.append(params)
        return float(params["fast"]) * params["w"]

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=7))
    study.optimize(objective, n_trials=40)
    assert len(suggested) == 40
    for params, trial in zip(suggested, study.trials, strict=True):
        assert s.validate(params) == params  # in range, on the step, among the choices
        assert params["fast"] % 5 == 0 and type(params["fast"]) is int
        assert params["w"] in Float(0.1, 0.9, step=0.1).values()
        assert trial.distributions == s.distributions()
        assert s.validate(trial.params) == params  # optuna's record, normalised, is what ran
    assert len({p["w"] for p in suggested}) > 3 and len({p["kind"] for p in suggested}) > 3


def test_distributions_are_optuna_types() -> None:
    dists = space().distributions()
    assert dists["fast"] == optuna.distributions.IntDistribution(5, 50, step=5)
    assert dists["w"] == optuna.distributions.FloatDistribution(0.1, 0.9, step=0.1)
    assert dists["lr"] == optuna.distributions.FloatDistribution(1e-4, 0.1, log=True)
    assert dists["kind"] == optuna.distributions.CategoricalDistribution(
        ["sma", "ema", 3, 0.5, True, None]
    )


def test_a_grid_sampler_visits_exactly_the_grid() -> None:
    s = ParameterSpace(
        fast=Int(5, 15, step=5), w=Float(0.1, 0.3, step=0.1), k=Categorical(["a", "b"])
    )
    study = optuna.create_study(sampler=optuna.samplers.GridSampler(s.grid_search_space(), seed=0))
    seen: list[dict[str, Any]] = []

    def objective(trial: optuna.Trial) -> float:
        seen.append(s.suggest(trial))
        return 0.0

    study.optimize(objective)  # a grid sampler stops the study when the grid is done
    assert sorted(map(json.dumps, seen)) == sorted(map(json.dumps, s.grid()))
    assert len(seen) == s.grid_size() == 18


@given(
    low=st.integers(-1000, 1000),
    count=st.integers(0, 30),
    step=st.integers(1, 50),
)
def test_every_int_grid_value_validates_and_nothing_between_does(
    low: int, count: int, step: int
) -> None:
    param = Int(low, low + count * step, step=step)
    values = param.values()
    assert len(values) == count + 1 and values[-1] == param.high
    assert [param.check(v) for v in values] == values
    if step > 1:
        with pytest.raises(ParameterValidationError):
            param.check(low + 1)


@given(
    low=st.integers(-10_000, 10_000),
    count=st.integers(0, 40),
    step=st.integers(1, 500),
    scale=st.sampled_from([1, 10, 100, 1000, 10_000]),
)
def test_every_float_grid_value_is_the_typed_decimal(
    low: int, count: int, step: int, scale: int
) -> None:
    typed_low, typed_step = Decimal(low) / scale, Decimal(step) / scale
    param = Float(float(typed_low), float(typed_low + count * typed_step), step=float(typed_step))
    values = param.values()
    assert values == [float(typed_low + i * typed_step) for i in range(count + 1)]
    assert [param.check(v) for v in values] == values
    off_grid = float(typed_low + typed_step / 2)
    if count:
        with pytest.raises(ParameterValidationError, match="not on the step grid"):
            param.check(off_grid)
    spec = f"p=float:{param.low!r}:{param.high!r}:{param.step!r}"
    assert ParameterSpace.from_specs([spec]).params["p"] == param
