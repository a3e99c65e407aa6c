"""Prove an optimization changes no result: run baseline and optimized side by side.

:func:`validate_functional_equivalence` calls both functions on every test
case and compares what they return; the first case whose results differ by
more than the tolerance raises :class:`~rustybt.exceptions.FunctionalEquivalenceError`
naming the case, where in the result the difference is and how large it is.

Comparison modes
----------------
``"auto"`` (the default)
    Each value by what it is: DataFrames and Series as in ``"dataframe"``,
    NumPy arrays as in ``"array"``, everything else as in ``"scalar"``, at
    any depth (a tuple of a frame and a float compares the frame as a frame
    and the float as a number).
``"scalar"``
    The same comparison as ``"auto"`` (one code path), under the name the
    default had before. Numbers (``Decimal``, ``int``, ``float``, NumPy
    scalars) are compared as ``Decimal``: ``abs(a - b) <= tolerance``, a
    float entering through its shortest repr (``0.1`` is ``Decimal("0.1")``).
    NaN equals NaN, an infinity
    equals the same infinity. Anything else must be ``==``. Lists, tuples and
    dicts are compared element by element (same length, same keys); arrays
    and frames found inside them are compared as in ``"array"`` and
    ``"dataframe"``.
``"array"``
    ``numpy.asarray`` of both: same shape; numeric arrays element-wise within
    the tolerance with NaN == NaN; object arrays element by element as in
    ``"scalar"``; other arrays (strings, datetimes) must be equal.
``"dataframe"``
    Two DataFrames (a Series counts as a one-column frame): same shape,
    columns and index; numeric columns within the tolerance (NaN == NaN),
    other columns value by value as in ``"scalar"`` (exactly equal unless
    the values are numbers such as ``Decimal``; missing equals missing).

Examples
--------
>>> from decimal import Decimal
>>> report = validate_functional_equivalence(
...     lambda x: sum(x), lambda x: Decimal(sum(x)), [([1, 2],), {"x": [3]}])
>>> report.cases, report.max_difference
(2, Decimal('0'))
>>> try:
...     validate_functional_equivalence(lambda x: x, lambda x: x + 1e-6, [(1.0,), (2.0,)])
... except FunctionalEquivalenceError as err:
...     print(err.context["case_index"], err.context["difference"])
0 0.000001
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.exceptions import FunctionalEquivalenceError, ParameterValidationError

__all__ = [
    "ComparisonMode",
    "EquivalenceReport",
    "FunctionalEquivalenceError",
    "compare_results",
    "test_functional_equivalence",
    "validate_functional_equivalence",
]

ComparisonMode = Literal["auto", "scalar", "array", "dataframe"]
COMPARISON_MODES: Final[tuple[str, ...]] = ("auto", "scalar", "array", "dataframe")
INFINITY: Final[Decimal] = Decimal("Infinity")
ZERO: Final[Decimal] = Decimal(0)
# How much of a case's repr an error message shows.
CASE_REPR_LIMIT: Final[int] = 200


@dataclass(frozen=True)
class EquivalenceReport:
    """What :func:`validate_functional_equivalence` checked.

    Attributes
    ----------
    cases
        Test cases run.
    comparison_mode, tolerance
        How results were compared.
    max_difference
        The largest difference seen over all cases (all within the tolerance).
    baseline_seconds, optimized_seconds
        Total time spent in each function over all cases.
    """

    cases: int
    comparison_mode: str
    tolerance: Decimal
    max_difference: Decimal
    baseline_seconds: float
    optimized_seconds: float

    @property
    def speedup(self) -> float:
        """``baseline_seconds / optimized_seconds`` (inf if the optimized took no time)."""
        if self.optimized_seconds <= 0.0:
            return math.inf
        return self.baseline_seconds / self.optimized_seconds


@dataclass(frozen=True)
class Difference:
    """The first difference beyond the tolerance, or the largest one within it.

    Attributes
    ----------
    size
        Absolute difference (``Decimal("Infinity")`` for a difference with no
        size: a shape, a key, a NaN against a number, unequal strings).
    location
        Where in the result (``"[2, 0]"``, ``"column 'close', row 3"``, ``""``).
    reason
        What differs, in words.
    within_tolerance
        Whether the whole result is within the tolerance.
    """

    size: Decimal
    location: str
    reason: str
    within_tolerance: bool


class _Tally:
    """Collects element differences: the largest, and the first beyond the tolerance."""

    def __init__(self, tolerance: Decimal) -> None:
        self.tolerance = tolerance
        self.largest = ZERO
        self.first: tuple[Decimal, str, str] | None = None

    def add(self, size: Decimal, location: str, reason: str) -> None:
        self.largest = max(self.largest, size)
        if size > self.tolerance and self.first is None:
            self.first = (size, location, reason)

    def mismatch(self, location: str, reason: str) -> None:
        self.add(INFINITY, location, reason)

    def result(self) -> Difference:
        if self.first is None:
            return Difference(self.largest, "", "", True)
        return Difference(*self.first, within_tolerance=False)


# --- scalars ------------------------------------------------------------------------


def _as_decimal(value: Any) -> Decimal | None:
    """``value`` as a Decimal if it is a number (not a bool), else None."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | np.integer):
        return Decimal(int(value))
    if isinstance(value, float | np.floating):
        return Decimal(repr(float(value)))
    return None


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number_difference(a: Decimal, b: Decimal) -> Decimal:
    if a.is_nan() or b.is_nan():
        return ZERO if a.is_nan() and b.is_nan() else INFINITY
    if a.is_infinite() or b.is_infinite():
        return ZERO if a == b else INFINITY
    try:
        return abs(a - b)
    except InvalidOperation:  # pragma: no cover - signalling NaNs
        return INFINITY


def _equal(a: Any, b: Any) -> bool:
    if _is_missing(a) and _is_missing(b):
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _compare_value(a: Any, b: Any, tally: _Tally, location: str) -> None:
    """Compare two values by what they are, recursing into containers (modes auto, scalar)."""
    if isinstance(a, pd.DataFrame | pd.Series) or isinstance(b, pd.DataFrame | pd.Series):
        _compare_frames(a, b, tally, prefix=location)
        return
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        _compare_mappings(a, b, tally, location)
        return
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        _compare_sequences(a, b, tally, location)
        return
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        _compare_arrays(a, b, tally, prefix=location)
        return
    x, y = _as_decimal(a), _as_decimal(b)
    if x is not None and y is not None:
        tally.add(_number_difference(x, y), location, f"{a!r} vs {b!r}")
    elif not _equal(a, b):
        tally.mismatch(location, f"{a!r} != {b!r}")
    else:
        tally.add(ZERO, location, "")


def _compare_mappings(a: Mapping[Any, Any], b: Mapping[Any, Any], tally: _Tally, at: str) -> None:
    if set(a) != set(b):
        extra, missing = sorted(map(repr, set(b) - set(a))), sorted(map(repr, set(a) - set(b)))
        tally.mismatch(at, f"keys differ: optimized adds {extra}, lacks {missing}")
        return
    for key in a:
        _compare_value(a[key], b[key], tally, f"{at}[{key!r}]")


def _compare_sequences(a: Any, b: Any, tally: _Tally, at: str) -> None:
    if len(a) != len(b):
        tally.mismatch(at, f"length {len(a)} vs {len(b)}")
        return
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        _compare_value(x, y, tally, f"{at}[{i}]")


# --- arrays -------------------------------------------------------------------------


def _numeric(array: npt.NDArray[Any]) -> bool:
    return array.dtype.kind in "iuf"


def _float_differences(x: npt.NDArray[Any], y: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Element-wise ``|x - y|``; 0 where both are NaN or the same infinity, inf for NaN vs not."""
    xf, yf = x.astype(np.float64), y.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(xf - yf)
    same = (np.isnan(xf) & np.isnan(yf)) | (xf == yf)
    diff = np.where(same, 0.0, diff)
    return np.where(np.isnan(diff), np.inf, diff)


def _compare_numeric(
    x: npt.NDArray[Any], y: npt.NDArray[Any], tally: _Tally, locate: Callable[[int], str]
) -> None:
    diff = _float_differences(x, y).ravel()
    if diff.size == 0:
        return
    worst = int(np.argmax(diff))
    beyond = np.flatnonzero(diff > float(tally.tolerance))
    if beyond.size:
        i = int(beyond[0])
        left, right = x.ravel()[i].item(), y.ravel()[i].item()
        tally.add(_float_to_decimal(diff[i]), locate(i), f"{left!r} vs {right!r}")
    tally.add(_float_to_decimal(diff[worst]), locate(worst), "largest difference")


def _float_to_decimal(value: float) -> Decimal:
    return INFINITY if math.isinf(value) else Decimal(repr(float(value)))


def _compare_arrays(a: Any, b: Any, tally: _Tally, prefix: str = "") -> None:
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        tally.mismatch(prefix, f"shape {x.shape} vs {y.shape}")
        return

    def where(i: int) -> str:
        return prefix + str([int(k) for k in np.unravel_index(i, x.shape)])

    if _numeric(x) and _numeric(y):
        _compare_numeric(x, y, tally, where)
        return
    for i, (u, v) in enumerate(zip(x.ravel().tolist(), y.ravel().tolist(), strict=True)):
        _compare_value(u, v, tally, where(i))


# --- frames -------------------------------------------------------------------------


def _as_frame(value: Any) -> pd.DataFrame | None:
    if isinstance(value, pd.Series):
        return value.to_frame()
    return value if isinstance(value, pd.DataFrame) else None


def _first_difference(a: pd.Index, b: pd.Index) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if not _equal(x, y):
            return f"position {i}: {x!r} vs {y!r}"
    return f"length {len(a)} vs {len(b)}"


def _compare_frames(a: Any, b: Any, tally: _Tally, prefix: str = "") -> None:
    # ``prefix`` locates a frame found inside a container ("[1] column 'x', row 3").
    at = f"{prefix} " if prefix else ""
    x, y = _as_frame(a), _as_frame(b)
    if x is None or y is None:
        tally.mismatch(prefix, f"not DataFrames: {type(a).__name__} vs {type(b).__name__}")
        return
    if x.shape != y.shape:
        tally.mismatch(prefix, f"shape {x.shape} vs {y.shape}")
        return
    if not x.columns.equals(y.columns):
        tally.mismatch(f"{at}columns", _first_difference(x.columns, y.columns))
        return
    if not x.index.equals(y.index):
        tally.mismatch(f"{at}index", _first_difference(x.index, y.index))
        return
    for position, name in enumerate(x.columns):
        _compare_column(x.iloc[:, position], y.iloc[:, position], f"{at}column {name!r}", tally)


def _compare_column(x: pd.Series, y: pd.Series, column: str, tally: _Tally) -> None:
    index = x.index

    def locate(i: int) -> str:
        return f"{column}, row {index[i]!r}"

    numeric = all(
        pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) for s in (x, y)
    )
    if numeric:
        _compare_numeric(x.to_numpy(np.float64), y.to_numpy(np.float64), tally, locate)
        return
    for i, (u, v) in enumerate(zip(x.tolist(), y.tolist(), strict=True)):
        _compare_value(u, v, tally, locate(i))


# --- the entry point ------------------------------------------------------------------


def compare_results(
    baseline: Any,
    optimized: Any,
    tolerance: Decimal = Decimal("1e-10"),
    comparison_mode: ComparisonMode = "auto",
) -> Difference:
    """Compare two results as :func:`validate_functional_equivalence` does.

    Examples
    --------
    >>> import numpy as np
    >>> diff = compare_results(np.array([1.0, np.nan]), np.array([1.5, np.nan]),
    ...                        comparison_mode="array")
    >>> diff.within_tolerance, diff.size, diff.location
    (False, Decimal('0.5'), '[0]')
    """
    _check_mode(comparison_mode)
    tally = _Tally(Decimal(tolerance))
    if comparison_mode in ("auto", "scalar"):
        _compare_value(baseline, optimized, tally, "")
    elif comparison_mode == "array":
        _compare_arrays(baseline, optimized, tally)
    else:
        _compare_frames(baseline, optimized, tally)
    return tally.result()


def _check_mode(mode: str) -> None:
    if mode not in COMPARISON_MODES:
        raise ParameterValidationError(
            f"comparison_mode must be one of {', '.join(COMPARISON_MODES)}, got {mode!r}",
            context={"comparison_mode": mode},
        )


def _call(fn: Callable[..., Any], case: Any) -> tuple[float, Any]:
    """Call ``fn`` on a private copy of ``case``; returns (seconds, result)."""
    try:
        args = copy.deepcopy(case)
    except Exception:  # not copyable (locks, connections): share it
        args = case
    start = time.perf_counter()
    if isinstance(args, Mapping):
        value = fn(**args)
    elif isinstance(args, tuple):
        value = fn(*args)
    else:
        value = fn(args)
    return time.perf_counter() - start, value


def _short(case: Any) -> str:
    text = repr(case)
    return text if len(text) <= CASE_REPR_LIMIT else text[: CASE_REPR_LIMIT - 3] + "..."


def _format_size(size: Decimal) -> str:
    return "inf" if size.is_infinite() else f"{size.normalize():f}"


def _failure(
    index: int, case: Any, diff: Difference, tolerance: Decimal, mode: str
) -> FunctionalEquivalenceError:
    where = f" at {diff.location}" if diff.location else ""
    return FunctionalEquivalenceError(
        f"case {index} {_short(case)}: the optimized result differs from the baseline by "
        f"{_format_size(diff.size)} (tolerance {tolerance}){where}: {diff.reason}",
        context={
            "case_index": index,
            "case": _short(case),
            "difference": _format_size(diff.size),
            "location": diff.location,
            "reason": diff.reason,
            "comparison_mode": mode,
        },
    )


def validate_functional_equivalence(
    baseline_fn: Callable[..., Any],
    optimized_fn: Callable[..., Any],
    test_cases: Iterable[Any],
    tolerance: Decimal = Decimal("1e-10"),
    comparison_mode: ComparisonMode = "auto",
) -> EquivalenceReport:
    """Run both functions on every case and require the same results.

    Parameters
    ----------
    baseline_fn, optimized_fn
        The reference and the optimized implementation.
    test_cases
        Each case a tuple of positional arguments or a dict of keyword
        arguments (any other value is passed as the single argument). Each
        function gets its own deep copy of the case, when it can be copied.
    tolerance
        The largest absolute difference allowed between numbers.
    comparison_mode
        ``"auto"`` (the default: each value compared by what it is), ``"scalar"``,
        ``"array"`` or ``"dataframe"`` (see the module docstring).

    Returns
    -------
    EquivalenceReport
        Cases run, the largest difference seen, and time spent in each function.

    Raises
    ------
    FunctionalEquivalenceError
        At the first case whose results differ beyond ``tolerance``, naming
        the case, the size of the difference and where it is.
    ParameterValidationError
        If there are no cases, or the mode or the tolerance is invalid.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"x": [1.0, 2.0]})
    >>> validate_functional_equivalence(
    ...     lambda f: f * 2, lambda f: f + f, [(frame,)], comparison_mode="dataframe").cases
    1
    """
    _check_mode(comparison_mode)
    tol = Decimal(tolerance)
    if not tol.is_finite() or tol < 0:
        raise ParameterValidationError(
            f"tolerance must be a finite number >= 0, got {tolerance}",
            context={"tolerance": str(tolerance)},
        )
    count, largest, base_time, opt_time = 0, ZERO, 0.0, 0.0
    for index, case in enumerate(test_cases):
        seconds, expected = _call(baseline_fn, case)
        base_time += seconds
        seconds, actual = _call(optimized_fn, case)
        opt_time += seconds
        diff = compare_results(expected, actual, tol, comparison_mode)
        if not diff.within_tolerance:
            raise _failure(index, case, diff, tol, comparison_mode)
        largest, count = max(largest, diff.size), count + 1
    if count == 0:
        raise ParameterValidationError("validate_functional_equivalence needs test cases")
    return EquivalenceReport(count, comparison_mode, tol, largest, base_time, opt_time)


def test_functional_equivalence(
    baseline_fn: Callable[..., Any],
    optimized_fn: Callable[..., Any],
    test_cases: Iterable[Any],
    tolerance: Decimal = Decimal("1e-10"),
    comparison_mode: ComparisonMode = "auto",
) -> EquivalenceReport:
    """:func:`validate_functional_equivalence` under the name the issue gives it.

    Not a test: ``__test__ = False`` keeps pytest from collecting it when it
    is imported into a test module.
    """
    return validate_functional_equivalence(
        baseline_fn, optimized_fn, test_cases, tolerance, comparison_mode
    )


test_functional_equivalence.__test__ = False  # type: ignore[attr-defined]
