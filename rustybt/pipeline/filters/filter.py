"""Filters: terms with True or False per (date, asset), to screen and mask."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.exceptions import PipelineError
from rustybt.pipeline.custom import CustomTermMixin, LatestMixin
from rustybt.pipeline.expression import Expression, build_expression
from rustybt.pipeline.kernels import cross_section
from rustybt.pipeline.term import ComputableTerm, Term, is_missing

__all__ = [
    "CustomFilter",
    "Filter",
    "FilterExpression",
    "Latest",
    "NotNullFilter",
    "NullFilter",
    "PercentileFilter",
    "SingleAsset",
    "StaticAssets",
    "StaticSids",
]


def _check_filter(filter_: Filter, op: str, other: Any) -> None:
    if not (isinstance(other, Term) and other.dtype == bool and other.ndim == 2):
        raise PipelineError(f"can't compute {filter_!r} {op} {other!r}: both sides must be filters")


class Filter(ComputableTerm):
    """A term with a boolean per date and asset.

    Filters combine with ``&``, ``|`` and ``~``; a pipeline's ``screen`` and
    every term's ``mask`` are filters.
    """

    dtype = bool
    missing_value = False
    window_safe = True

    def __and__(self, other: Any) -> Any:
        _check_filter(self, "&", other)
        return build_expression(FilterExpression, "&", self, other)

    def __or__(self, other: Any) -> Any:
        _check_filter(self, "|", other)
        return build_expression(FilterExpression, "|", self, other)

    def __rand__(self, other: Any) -> Any:
        _check_filter(self, "&", other)
        return build_expression(FilterExpression, "&", other, self)

    def __ror__(self, other: Any) -> Any:
        _check_filter(self, "|", other)
        return build_expression(FilterExpression, "|", other, self)

    def __invert__(self) -> Any:
        return build_expression(FilterExpression, "~", self)

    def if_else(self, if_true: Any, if_false: Any) -> Any:
        """``if_true``'s value where this filter holds, else ``if_false``'s (same kind of term)."""
        if not (isinstance(if_true, ComputableTerm) and isinstance(if_false, ComputableTerm)):
            raise PipelineError(
                f"if_else needs two terms of one kind and dtype, got {if_true!r} and {if_false!r}"
            )
        if if_true.dtype != if_false.dtype:
            raise PipelineError(
                f"if_else: {if_true!r} is {if_true.dtype} but {if_false!r} is {if_false.dtype}"
            )
        result = _expression_type(if_true)
        return build_expression(result, "where", self, if_true, if_false, dtype=if_true.dtype)


def _expression_type(term: Term) -> type[Expression]:
    from rustybt.pipeline.classifiers.classifier import Classifier, ClassifierExpression
    from rustybt.pipeline.factors.factor import Factor, FactorExpression

    if isinstance(term, Factor):
        return FactorExpression
    if isinstance(term, Filter):
        return FilterExpression
    if isinstance(term, Classifier):
        return ClassifierExpression
    raise PipelineError(f"if_else takes factors, filters or classifiers, not {term!r}")


class FilterExpression(Expression, Filter):
    """A filter computed element-wise (comparisons, ``&``, ``|``, ``~``)."""


class CustomFilter(CustomTermMixin, Filter):
    """A filter computed by your ``compute(self, today, assets, out, *inputs)`` over windows."""

    def _validate(self) -> None:
        super()._validate()
        self._validate_custom()


class Latest(LatestMixin, CustomFilter):
    """The most recent value of a boolean column."""


class NullFilter(Filter):
    """Whether each cell of a term holds its missing value."""

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        return is_missing(inputs[0], self.inputs[0].missing_value)


class NotNullFilter(Filter):
    """Whether each cell of a term holds a value."""

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        return ~is_missing(inputs[0], self.inputs[0].missing_value)


class PercentileFilter(Filter):
    """Whether each value lies between two daily percentiles of the masked values."""

    params = ("min_percentile", "max_percentile")

    def _validate(self) -> None:
        super()._validate()
        low, high = self.param("min_percentile"), self.param("max_percentile")
        if not 0.0 <= low < high <= 100.0:
            raise PipelineError(
                f"percentile_between needs 0 <= min_percentile < max_percentile <= 100,"
                f" got {low} and {high}"
            )

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        return cross_section.percentile_between(
            inputs[0].astype(np.float64, copy=False),
            mask,
            self.param("min_percentile"),
            self.param("max_percentile"),
        )


class StaticSids(Filter):
    """True for the given sids on every date.

    Parameters
    ----------
    sids
        The sids to keep.
    """

    params = ("sids",)

    def __new__(cls, sids: Any) -> Any:
        return super().__new__(cls, sids=frozenset(int(s) for s in sids))

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        keep = np.isin(assets, np.fromiter(self.param("sids"), dtype=np.int64))
        return np.broadcast_to(keep, mask.shape).copy()


class StaticAssets(StaticSids):
    """True for the given assets on every date."""

    def __new__(cls, assets: Any) -> Any:
        return super().__new__(cls, [getattr(a, "sid", a) for a in assets])


class SingleAsset(Filter):
    """True for one asset only; it must be alive on every date of the pipeline."""

    params = ("asset",)

    def __new__(cls, asset: Any) -> Any:
        return super().__new__(cls, asset=asset)

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        asset = self.param("asset")
        mine = assets == int(getattr(asset, "sid", asset))
        out = np.broadcast_to(mine, mask.shape) & mask
        if mine.sum() != 1 or out.sum() != len(dates):
            raise PipelineError(
                f"SingleAsset: asset {asset!r} is not alive on every date from"
                f" {dates[0].date()} to {dates[-1].date()}"
            )
        return out
