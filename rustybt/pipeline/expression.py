"""Element-wise expressions of terms: arithmetic, comparisons, logic, math functions.

``close.latest / sma - 1`` builds expression terms. Each applies one NumPy
operation to its operands: input terms' arrays (all over the same dates) and
constants.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Number
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.exceptions import PipelineError
from rustybt.pipeline.term import ComputableTerm, NotSpecified, Term, is_missing

__all__ = ["MATH_FUNCTIONS", "Expression", "build_expression"]


def _fill(values: npt.NDArray[Any], missing: Any, fill: Any) -> npt.NDArray[Any]:
    return np.where(is_missing(values, missing), fill, values)


#: Operation name -> the NumPy function applied to the operands.
OPERATIONS: dict[str, Callable[..., Any]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.true_divide,
    "**": np.power,
    "%": np.mod,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "!=": np.not_equal,
    "==": np.equal,
    "&": np.logical_and,
    "|": np.logical_or,
    "~": np.logical_not,
    "neg": np.negative,
    "isnan": np.isnan,
    "notnan": lambda x: ~np.isnan(x),
    "isfinite": np.isfinite,
    "clip": np.clip,
    "where": np.where,
    "fill": _fill,
}

#: zipline's math methods of factors: name -> NumPy function.
MATH_FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: getattr(np, name)
    for name in [
        "sin",
        "cos",
        "tan",
        "arcsin",
        "arccos",
        "arctan",
        "sinh",
        "cosh",
        "tanh",
        "arcsinh",
        "arccosh",
        "arctanh",
        "log",
        "log10",
        "log1p",
        "exp",
        "expm1",
        "sqrt",
    ]
}
MATH_FUNCTIONS["abs"] = np.abs
OPERATIONS.update(MATH_FUNCTIONS)


class Expression(ComputableTerm):
    """One NumPy operation over operands.

    ``operands`` lists, in call order, ``("term", i)`` for ``inputs[i]`` and
    ``("constant", value)`` for a constant.
    """

    params = ("operation", "operands")

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        args = [
            inputs[value] if kind == "term" else value for kind, value in self.param("operands")
        ]
        out = OPERATIONS[self.param("operation")](*args)
        return np.asarray(out, dtype=self.dtype)

    def __repr__(self) -> str:
        shown = [
            repr(self.inputs[value]) if kind == "term" else repr(value)
            for kind, value in self.param("operands")
        ]
        return f"{type(self).__name__}({self.param('operation')}: {', '.join(shown)})"


def build_expression(
    result_type: type[Expression],
    operation: str,
    *operands: Any,
    dtype: Any = None,
    mask: Any = NotSpecified,
) -> Any:
    """An expression term of ``result_type`` applying ``operation`` to ``operands``.

    Operands are terms or plain numbers (or booleans/strings where the
    operation takes them); cells outside ``mask`` (default: every asset
    alive) are missing.
    """
    if operation not in OPERATIONS:
        raise PipelineError(f"unknown pipeline operation {operation!r}")
    inputs: list[Term] = []
    layout: list[tuple[str, Any]] = []
    for operand in operands:
        if isinstance(operand, Term):
            if operand.ndim != 2:
                raise PipelineError(
                    f"{operand!r} has one column: it cannot take part in {operation!r}"
                )
            if operand not in inputs:
                inputs.append(operand)
            layout.append(("term", inputs.index(operand)))
        elif isinstance(operand, Number | str | bool | np.generic):
            layout.append(("constant", operand))
        else:
            raise PipelineError(
                f"can't compute {operation!r} with {type(operand).__name__} {operand!r}:"
                " operands must be pipeline terms or numbers"
            )
    window_safe = (np.dtype(dtype or result_type.dtype) == bool) or all(
        t.window_safe for t in inputs
    )
    kwargs: dict[str, Any] = {} if dtype is None else {"dtype": dtype}
    return result_type(
        inputs=tuple(inputs),
        operation=operation,
        operands=tuple(layout),
        window_safe=window_safe,
        mask=mask,
        **kwargs,
    )
