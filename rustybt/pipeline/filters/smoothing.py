"""Filters over a trailing window of another filter or term: All, Any, AtLeastN, AllPresent."""

from __future__ import annotations

from typing import Any as AnyValue

import numpy as np

from rustybt.exceptions import PipelineError
from rustybt.pipeline.filters.filter import CustomFilter, Filter
from rustybt.pipeline.term import is_missing

__all__ = ["All", "AllPresent", "Any", "AtLeastN"]


class _WindowOfFilter(CustomFilter):
    batched = True

    def _validate(self) -> None:
        super()._validate()
        if len(self.inputs) != 1 or not isinstance(self.inputs[0], Filter):
            raise PipelineError(f"{type(self).__name__} takes one filter as its input")


class All(_WindowOfFilter):
    """True where the input filter held on every day of the window."""

    def compute(self, today: AnyValue, assets: AnyValue, out: AnyValue, values: AnyValue) -> None:
        out[:] = np.all(values, axis=-2)


class Any(_WindowOfFilter):
    """True where the input filter held on at least one day of the window."""

    def compute(self, today: AnyValue, assets: AnyValue, out: AnyValue, values: AnyValue) -> None:
        out[:] = np.any(values, axis=-2)


class AtLeastN(_WindowOfFilter):
    """True where the input filter held on at least ``N`` days of the window."""

    params = ("N",)

    def compute(
        self, today: AnyValue, assets: AnyValue, out: AnyValue, values: AnyValue, N: int
    ) -> None:
        out[:] = np.count_nonzero(values, axis=-2) >= N


class AllPresent(CustomFilter):
    """True where the input term has a value on every day of the window."""

    batched = True

    def _validate(self) -> None:
        super()._validate()
        if len(self.inputs) != 1 or isinstance(self.inputs[0], Filter):
            raise PipelineError("AllPresent takes one input, which cannot be a filter")

    def compute(self, today: AnyValue, assets: AnyValue, out: AnyValue, values: AnyValue) -> None:
        out[:] = ~np.any(is_missing(values, self.inputs[0].missing_value), axis=-2)
