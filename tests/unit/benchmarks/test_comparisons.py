"""validate_functional_equivalence: scalar, array and dataframe modes; the failure it raises."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

# Imported under its test_ name on purpose: pytest must not collect it.
from rustybt.benchmarks import test_functional_equivalence
from rustybt.benchmarks.comparisons import compare_results, validate_functional_equivalence
from rustybt.exceptions import (
    FunctionalEquivalenceError,
    ParameterValidationError,
    ValidationError,
)


def baseline_sum(values: list[float], scale: float = 1.0) -> float:
    total = 0.0
    for v in values:
        total += v
    return total * scale


def optimized_sum(values: list[float], scale: float = 1.0) -> float:
    return float(np.sum(values)) * scale


CASES: list[Any] = [([1.0, 2.0],), ([0.5] * 10,), {"values": [3.0], "scale": 2.0}]


def test_equivalent_functions_pass_and_report() -> None:
    report = validate_functional_equivalence(baseline_sum, optimized_sum, CASES)
    assert report.cases == 3
    assert report.comparison_mode == "auto"
    assert report.max_difference == Decimal(0)
    assert report.baseline_seconds >= 0 and report.optimized_seconds >= 0
    assert report.speedup > 0


def test_perturbed_optimization_names_the_first_differing_case() -> None:
    def perturbed(values: list[float], scale: float = 1.0) -> float:
        bump = 1e-6 if len(values) == 10 else 0.0
        return optimized_sum(values, scale) + bump

    with pytest.raises(FunctionalEquivalenceError) as info:
        validate_functional_equivalence(baseline_sum, perturbed, CASES)
    err = info.value
    assert isinstance(err, ValidationError)
    assert err.context["case_index"] == 1
    assert err.context["difference"] == "0.000001"
    assert "case 1 ([0.5, 0.5" in str(err)
    assert "by 0.000001 (tolerance 1E-10)" in str(err)


def test_differences_within_tolerance_pass_and_are_reported() -> None:
    report = validate_functional_equivalence(
        lambda x: x, lambda x: x + 1e-12, [(1.0,), (2.0,)], tolerance=Decimal("1e-10")
    )
    assert Decimal(0) < report.max_difference <= Decimal("1e-10")


def test_decimal_results_compare_exactly_as_decimals() -> None:
    # 0.1 + 0.2 as floats is 0.30000000000000004: 4e-17 away from Decimal("0.3").
    report = validate_functional_equivalence(
        lambda: Decimal("0.1") + Decimal("0.2"), lambda: 0.1 + 0.2, [()]
    )
    assert report.max_difference == Decimal("4E-17")
    with pytest.raises(FunctionalEquivalenceError, match=r"by 0\.00000000001 \(tolerance 1E-12\)"):
        validate_functional_equivalence(
            lambda: Decimal("100.00"),
            lambda: Decimal("100.00000000001"),
            [()],
            tolerance=Decimal("1e-12"),
        )


def test_nested_results_name_the_key_that_differs() -> None:
    with pytest.raises(FunctionalEquivalenceError) as info:
        validate_functional_equivalence(
            lambda: {"cash": Decimal("10.00"), "positions": [1, 2]},
            lambda: {"cash": Decimal("10.00"), "positions": [1, 3]},
            [()],
        )
    assert info.value.context["location"] == "['positions'][1]"
    assert info.value.context["difference"] == "1"


def test_non_numbers_must_be_equal() -> None:
    with pytest.raises(FunctionalEquivalenceError, match="'a' != 'b'"):
        validate_functional_equivalence(lambda: "a", lambda: "b", [()])
    assert validate_functional_equivalence(lambda: None, lambda: None, [()]).cases == 1


def test_arrays_treat_nan_as_equal_and_locate_differences() -> None:
    base = np.array([[1.0, np.nan], [3.0, 4.0]])
    assert (
        validate_functional_equivalence(
            lambda: base, lambda: base.copy(), [()], comparison_mode="array"
        ).cases
        == 1
    )
    changed = base.copy()
    changed[1, 0] = 3.5
    with pytest.raises(FunctionalEquivalenceError) as info:
        validate_functional_equivalence(
            lambda: base, lambda: changed, [()], comparison_mode="array"
        )
    assert info.value.context["location"] == "[1, 0]"
    assert info.value.context["difference"] == "0.5"


def test_array_nan_against_number_and_shape_mismatch_fail() -> None:
    diff = compare_results(np.array([np.nan]), np.array([1.0]), comparison_mode="array")
    assert not diff.within_tolerance and diff.size.is_infinite()
    diff = compare_results(np.zeros(3), np.zeros(4), comparison_mode="array")
    assert not diff.within_tolerance and "shape (3,) vs (4,)" in diff.reason


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "close": [10.0, np.nan, 12.0],
            "symbol": ["A", "B", None],
            "cash": [Decimal("1.00"), Decimal("2.00"), Decimal("3.00")],
        },
        index=pd.date_range("2024-01-02", periods=3, name="date"),
    )


def test_frames_equal_pass() -> None:
    report = validate_functional_equivalence(
        lambda f: f, lambda f: f.copy(), [(frame(),)], comparison_mode="dataframe"
    )
    assert report.cases == 1


def test_frame_numeric_column_difference_names_column_and_row() -> None:
    def optimized(f: pd.DataFrame) -> pd.DataFrame:
        out = f.copy()
        out.loc[out.index[2], "close"] += 0.01
        return out

    with pytest.raises(FunctionalEquivalenceError) as info:
        validate_functional_equivalence(
            lambda f: f, optimized, [(frame(),)], comparison_mode="dataframe"
        )
    assert info.value.context["location"].startswith("column 'close', row Timestamp('2024-01-04")
    assert Decimal(info.value.context["difference"]) == pytest.approx(Decimal("0.01"))


def test_frame_object_and_decimal_columns() -> None:
    def renamed(f: pd.DataFrame) -> pd.DataFrame:
        out = f.copy()
        out.loc[out.index[0], "symbol"] = "Z"
        return out

    with pytest.raises(FunctionalEquivalenceError, match="column 'symbol'"):
        validate_functional_equivalence(
            lambda f: f, renamed, [(frame(),)], comparison_mode="dataframe"
        )

    def richer(f: pd.DataFrame) -> pd.DataFrame:
        out = f.copy()
        out["cash"] = [c + Decimal("0.001") for c in out["cash"]]
        return out

    with pytest.raises(FunctionalEquivalenceError, match="column 'cash'"):
        validate_functional_equivalence(
            lambda f: f, richer, [(frame(),)], comparison_mode="dataframe"
        )


def test_frame_structure_mismatches() -> None:
    def check(optimized: Any) -> str:
        diff = compare_results(frame(), optimized, comparison_mode="dataframe")
        assert not diff.within_tolerance
        return f"{diff.location}: {diff.reason}"

    assert "shape (3, 3) vs (2, 3)" in check(frame().iloc[:2])
    assert check(frame().rename(columns={"cash": "money"})).startswith("columns: position 2")
    assert check(frame().set_axis(pd.RangeIndex(3))).startswith("index: position 0")
    assert "not DataFrames" in check([1, 2, 3])


def test_each_function_gets_its_own_copy_of_the_case() -> None:
    def mutating(values: list[int]) -> int:
        values.append(100)
        return len(values)

    case = ([1, 2],)
    assert validate_functional_equivalence(mutating, mutating, [case]).cases == 1
    assert case[0] == [1, 2]


def test_test_functional_equivalence_is_the_same_check_and_not_collected() -> None:
    assert test_functional_equivalence.__test__ is False  # type: ignore[attr-defined]
    assert test_functional_equivalence(baseline_sum, optimized_sum, CASES).cases == 3
    with pytest.raises(FunctionalEquivalenceError):
        test_functional_equivalence(lambda: 1, lambda: 2, [()])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"test_cases": []},
        {"comparison_mode": "series"},
        {"tolerance": Decimal("-1")},
        {"tolerance": Decimal("NaN")},
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"test_cases": [()], **kwargs}
    with pytest.raises(ParameterValidationError):
        validate_functional_equivalence(lambda: 1, lambda: 1, **arguments)


# --- the default mode follows the values (a frame compared as a frame) --------------


def mixed_frame() -> pd.DataFrame:
    """Every kind of column a performance frame holds: NaN, infinities, objects."""
    return pd.DataFrame(
        {
            "returns": [0.01, np.nan, np.inf, -np.inf],
            "count": [1, 2, 3, 4],
            "flag": [True, False, True, False],
            "symbol": ["A", None, "C", np.nan],
            "orders": [[], [{"amount": 10}], [], [{"amount": -5, "price": np.nan}]],
            "cash": [Decimal("1.00"), Decimal("NaN"), Decimal("Infinity"), Decimal("2")],
            "when": [pd.Timestamp("2024-01-02"), pd.NaT, pd.Timestamp("2024-01-04"), pd.NaT],
        },
        index=pd.date_range("2024-01-02", periods=4, tz="UTC"),
    )


def test_identical_frames_are_equivalent_under_the_default_mode() -> None:
    report = validate_functional_equivalence(
        lambda f: f, lambda f: f.copy(deep=True), [(mixed_frame(),)]
    )
    assert (report.cases, report.comparison_mode, report.max_difference) == (
        1,
        "auto",
        Decimal(0),
    )
    series = mixed_frame()["returns"]
    assert compare_results(series, series.copy()).within_tolerance
    nested = (mixed_frame(), {"x": np.array([1.0, np.nan])}, 2.5)
    assert compare_results(nested, (mixed_frame(), {"x": np.array([1.0, np.nan])}, 2.5)).size == 0


@pytest.mark.parametrize(
    ("column", "row", "value", "location"),
    [
        ("returns", 0, 0.02, "column 'returns', row Timestamp('2024-01-02 00:00:00+0000'"),
        ("returns", 1, 0.0, "column 'returns', row Timestamp('2024-01-03 00:00:00+0000'"),
        ("returns", 2, -np.inf, "column 'returns', row Timestamp('2024-01-04 00:00:00+0000'"),
        ("symbol", 1, "B", "column 'symbol', row Timestamp('2024-01-03 00:00:00+0000'"),
        ("orders", 1, [{"amount": 11}], "column 'orders', row Timestamp('2024-01-03"),
        ("cash", 3, Decimal("2.5"), "column 'cash', row Timestamp('2024-01-05"),
        ("flag", 0, False, "column 'flag', row Timestamp('2024-01-02"),
    ],
)
def test_genuinely_different_frames_are_named_under_the_default_mode(
    column: str, row: int, value: Any, location: str
) -> None:
    def changed(f: pd.DataFrame) -> pd.DataFrame:
        out = f.copy(deep=True)
        out.iloc[row, out.columns.get_loc(column)] = value
        return out

    with pytest.raises(FunctionalEquivalenceError) as info:
        validate_functional_equivalence(lambda f: f, changed, [(mixed_frame(),)])
    assert info.value.context["location"].startswith(location)
    assert info.value.context["comparison_mode"] == "auto"


def test_default_mode_names_a_frame_inside_a_container() -> None:
    before = {"perf": mixed_frame()}
    after = {"perf": mixed_frame().iloc[:, :-1]}
    diff = compare_results(before, after)
    assert (diff.within_tolerance, diff.location) == (False, "['perf']")
    assert diff.reason == "shape (4, 7) vs (4, 6)"
    grown = mixed_frame()
    grown.iloc[0, 0] = 0.5
    diff = compare_results([1, mixed_frame()], [1, grown])
    assert diff.location.startswith("[1] column 'returns', row Timestamp('2024-01-02")
    assert diff.size == Decimal("0.49")
