"""Classifiers: terms with a label per (date, asset), to group and bucket assets.

A label is an int64 (missing: -1) or a text (dtype object, missing: None).
Grouped factor methods (``rank``, ``zscore``, ``demean``, ``winsorize``,
``top`` ... with ``groupby=``) read a classifier's labels as group codes.
"""

from __future__ import annotations

import re
from numbers import Number
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.exceptions import PipelineError
from rustybt.pipeline.custom import CustomTermMixin, LatestMixin
from rustybt.pipeline.expression import Expression, build_expression
from rustybt.pipeline.filters.filter import FilterExpression
from rustybt.pipeline.kernels import cross_section
from rustybt.pipeline.term import ComputableTerm, is_missing

__all__ = [
    "Classifier",
    "ClassifierExpression",
    "CustomClassifier",
    "Everything",
    "Latest",
    "Quantiles",
    "group_codes",
]

_Int64Array = npt.NDArray[np.int64]


def group_codes(labels: npt.NDArray[Any], missing_value: Any) -> _Int64Array:
    """Labels as int64 group codes, -1 where the label is missing."""
    missing = is_missing(labels, missing_value)
    if labels.dtype.kind in "iu":
        return np.where(missing, -1, labels).astype(np.int64)
    codes = np.full(labels.shape, -1, dtype=np.int64)
    present = ~missing
    if present.any():
        _, inverse = np.unique(labels[present].astype(str), return_inverse=True)
        codes[present] = inverse
    return codes


class Classifier(ComputableTerm):
    """A term with a label per date and asset (int64 by default, -1 missing)."""

    dtype: Any = np.int64
    window_safe = False

    def _check_compared(self, other: Any) -> None:
        if isinstance(other, Number) != (self.dtype.kind in "iu"):
            raise PipelineError(
                f"can't compare {self!r} ({self.dtype}) with {other!r}: int labels compare"
                " with numbers, text labels with text"
            )

    def eq(self, other: Any) -> Any:
        """A filter of the cells whose label equals ``other``."""
        if other == self.missing_value:
            raise PipelineError(
                f"{self!r}.eq({other!r}) compares with the missing value, which never"
                " matches: use isnull()"
            )
        self._check_compared(other)
        return build_expression(FilterExpression, "==", self, other)

    def __ne__(self, other: Any) -> Any:
        self._check_compared(other)
        return build_expression(
            FilterExpression,
            "&",
            self.notnull(),
            build_expression(FilterExpression, "!=", self, other),
        )

    __hash__ = ComputableTerm.__hash__

    def _text_predicate(self, name: str, test: Any) -> Any:
        if self.dtype.kind != "O":
            raise PipelineError(f"{name} needs a classifier of text labels, not {self!r}")
        return TextPredicate(inputs=(self,), test=test)

    def startswith(self, prefix: str) -> Any:
        """A filter of the labels starting with ``prefix``."""
        return self._text_predicate("startswith", ("startswith", prefix))

    def endswith(self, suffix: str) -> Any:
        """A filter of the labels ending with ``suffix``."""
        return self._text_predicate("endswith", ("endswith", suffix))

    def has_substring(self, substring: str) -> Any:
        """A filter of the labels containing ``substring``."""
        return self._text_predicate("has_substring", ("contains", substring))

    def matches(self, pattern: str) -> Any:
        """A filter of the labels matching the regular expression ``pattern``."""
        return self._text_predicate("matches", ("matches", pattern))

    def element_of(self, choices: Any) -> Any:
        """A filter of the labels in ``choices``."""
        choices = tuple(choices)
        for choice in choices:
            self._check_compared(choice)
        return TextPredicate(inputs=(self,), test=("in", frozenset(choices)))

    def peer_count(self, mask: Any = None) -> Any:
        """A factor: how many assets (in ``mask``) share each cell's label that day."""
        from rustybt.pipeline.factors.basic import PeerCount

        return PeerCount(inputs=(self,)) if mask is None else PeerCount(inputs=(self,), mask=mask)


class ClassifierExpression(Expression, Classifier):
    """A classifier computed element-wise (``if_else``)."""


class TextPredicate(ComputableTerm):
    """A filter testing each label (text tests, membership)."""

    params = ("test",)
    dtype = bool
    missing_value = False
    window_safe = True

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        labels = inputs[0]
        kind, argument = self.param("test")
        present = ~is_missing(labels, self.inputs[0].missing_value)
        if kind == "in":
            return present & np.isin(labels, list(argument))
        test = _TEXT_TESTS[kind]
        out = np.zeros(labels.shape, dtype=bool)
        out[present] = [test(str(label), argument) for label in labels[present]]
        return out


_TEXT_TESTS = {
    "startswith": lambda label, arg: label.startswith(arg),
    "endswith": lambda label, arg: label.endswith(arg),
    "contains": lambda label, arg: arg in label,
    "matches": lambda label, arg: re.match(arg, label) is not None,
}


class CustomClassifier(CustomTermMixin, Classifier):
    """A classifier computed by your ``compute(self, today, assets, out, *inputs)``."""

    def _validate(self) -> None:
        super()._validate()
        self._validate_custom()


class Latest(LatestMixin, CustomClassifier):
    """The most recent value of an integer or text column."""


class Everything(Classifier):
    """One label (0) for every asset: grouping by it is no grouping."""

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        return np.where(mask, 0, -1).astype(np.int64)


class Quantiles(Classifier):
    """Each asset's daily quantile of a factor (0 .. bins - 1) among the masked assets."""

    params = ("bins",)

    def _validate(self) -> None:
        super()._validate()
        if self.param("bins") < 1:
            raise PipelineError(f"Quantiles needs at least 1 bin, got {self.param('bins')}")

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        return cross_section.quantiles(
            inputs[0].astype(np.float64, copy=False), mask, self.param("bins")
        )
