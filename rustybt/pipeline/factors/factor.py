"""Factors: terms with a number per (date, asset), and what can be built from them."""

from __future__ import annotations

from collections.abc import Callable
from numbers import Number
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.exceptions import PipelineError
from rustybt.pipeline import expression
from rustybt.pipeline.classifiers.classifier import Classifier, Quantiles, group_codes
from rustybt.pipeline.expression import Expression, build_expression
from rustybt.pipeline.filters.filter import FilterExpression, PercentileFilter
from rustybt.pipeline.kernels import cross_section
from rustybt.pipeline.term import ComputableTerm, NotSpecified, Term

__all__ = ["Factor", "FactorExpression", "GroupedRowTransform", "Rank", "Slice"]


def _check_operand(factor: Factor, op: str, other: Any) -> None:
    if not isinstance(other, Factor | Number) or isinstance(other, Term | str):
        if isinstance(other, Factor):
            return
        raise PipelineError(
            f"can't compute {factor!r} {op} {other!r}: arithmetic and comparisons take"
            " factors or numbers"
        )


def _arithmetic(op: str, reflected: bool = False) -> Callable[[Factor, Any], Any]:
    def method(self: Factor, other: Any) -> Any:
        _check_operand(self, op, other)
        operands = (other, self) if reflected else (self, other)
        return build_expression(FactorExpression, op, *operands, dtype=np.float64)

    method.__name__ = f"__{'r' if reflected else ''}{op}__"
    return method


def _comparison(op: str) -> Callable[[Factor, Any], Any]:
    def method(self: Factor, other: Any) -> Any:
        _check_operand(self, op, other)
        return build_expression(FilterExpression, op, self, other)

    return method


def _math(name: str) -> Callable[[Factor], Any]:
    def method(self: Factor) -> Any:
        return build_expression(FactorExpression, name, self, dtype=np.float64)

    method.__name__ = name
    method.__doc__ = f"``numpy.{name}`` of this factor, cell by cell."
    return method


def _groups(groupby: Any) -> Any:
    if groupby is NotSpecified or groupby is None:
        return None
    if not isinstance(groupby, Classifier):
        raise PipelineError(f"groupby must be a Classifier, not {groupby!r}")
    return groupby


class Factor(ComputableTerm):
    """A term with a number (float64 by default) per date and asset.

    Factors combine with numbers and other factors through ``+ - * / ** %``
    and compare with ``< <= > >= !=`` into filters; the methods below rank,
    normalize, bucket and screen them across assets each day.
    """

    dtype = np.float64

    __add__ = _arithmetic("+")
    __sub__ = _arithmetic("-")
    __mul__ = _arithmetic("*")
    __truediv__ = _arithmetic("/")
    __pow__ = _arithmetic("**")
    __mod__ = _arithmetic("%")
    __radd__ = _arithmetic("+", reflected=True)
    __rsub__ = _arithmetic("-", reflected=True)
    __rmul__ = _arithmetic("*", reflected=True)
    __rtruediv__ = _arithmetic("/", reflected=True)
    __rpow__ = _arithmetic("**", reflected=True)
    __rmod__ = _arithmetic("%", reflected=True)
    __lt__ = _comparison("<")
    __le__ = _comparison("<=")
    __gt__ = _comparison(">")
    __ge__ = _comparison(">=")
    __ne__ = _comparison("!=")
    # ``==`` keeps its Python meaning: terms are looked up in dicts and tuples.
    __hash__ = ComputableTerm.__hash__

    for _name in expression.MATH_FUNCTIONS:
        locals()[_name] = _math(_name)
    del _name

    def __neg__(self) -> Any:
        return build_expression(FactorExpression, "neg", self, dtype=np.float64)

    def __abs__(self) -> Any:
        return build_expression(FactorExpression, "abs", self, dtype=np.float64)

    def __getitem__(self, asset: Any) -> Slice:
        """This factor's column of one asset (a one-column term, e.g. a correlation target)."""
        return Slice(inputs=(self,), asset=asset, window_safe=self.window_safe)

    # --- cross-sectional methods ------------------------------------------------------

    def rank(
        self,
        method: str = "ordinal",
        ascending: bool = True,
        mask: Any = NotSpecified,
        groupby: Any = NotSpecified,
    ) -> Any:
        """Each asset's rank among the assets in ``mask`` each day (within its group)."""
        groups = _groups(groupby)
        inputs = (self,) if groups is None else (self, groups)
        return Rank(inputs=inputs, mask=mask, method=method, ascending=ascending)

    def demean(self, mask: Any = NotSpecified, groupby: Any = NotSpecified) -> Any:
        """This factor minus its mean over the assets in ``mask`` each day (per group)."""
        return self._grouped("demean", mask, groupby)

    def zscore(self, mask: Any = NotSpecified, groupby: Any = NotSpecified) -> Any:
        """This factor's z-score over the assets in ``mask`` each day (per group)."""
        return self._grouped("zscore", mask, groupby)

    def winsorize(
        self,
        min_percentile: float,
        max_percentile: float,
        mask: Any = NotSpecified,
        groupby: Any = NotSpecified,
    ) -> Any:
        """This factor clipped at its daily ``min_percentile`` and ``max_percentile``."""
        return self._grouped(
            "winsorize",
            mask,
            groupby,
            min_percentile=float(min_percentile),
            max_percentile=float(max_percentile),
        )

    def _grouped(self, transform: str, mask: Any, groupby: Any, **arguments: Any) -> Any:
        groups = _groups(groupby)
        inputs = (self,) if groups is None else (self, groups)
        return GroupedRowTransform(
            inputs=inputs,
            mask=mask,
            transform=transform,
            arguments=tuple(sorted(arguments.items())),
            window_safe=self.window_safe,
            missing_value=self.missing_value,
        )

    def quantiles(self, bins: int, mask: Any = NotSpecified) -> Any:
        """A classifier of each asset's daily quantile (0 .. bins - 1) in ``mask``."""
        return Quantiles(inputs=(self,), bins=int(bins), mask=mask)

    def quartiles(self, mask: Any = NotSpecified) -> Any:
        """:meth:`quantiles` with 4 bins."""
        return self.quantiles(4, mask=mask)

    def quintiles(self, mask: Any = NotSpecified) -> Any:
        """:meth:`quantiles` with 5 bins."""
        return self.quantiles(5, mask=mask)

    def deciles(self, mask: Any = NotSpecified) -> Any:
        """:meth:`quantiles` with 10 bins."""
        return self.quantiles(10, mask=mask)

    def top(self, N: int, mask: Any = NotSpecified, groupby: Any = NotSpecified) -> Any:
        """A filter of the ``N`` largest values each day (per group)."""
        return self.rank(ascending=False, mask=mask, groupby=groupby) <= N

    def bottom(self, N: int, mask: Any = NotSpecified, groupby: Any = NotSpecified) -> Any:
        """A filter of the ``N`` smallest values each day (per group)."""
        return self.rank(ascending=True, mask=mask, groupby=groupby) <= N

    def percentile_between(
        self, min_percentile: float, max_percentile: float, mask: Any = NotSpecified
    ) -> Any:
        """A filter of the values between two daily percentiles (inclusive)."""
        return PercentileFilter(
            inputs=(self,),
            min_percentile=float(min_percentile),
            max_percentile=float(max_percentile),
            mask=mask,
        )

    def isnan(self) -> Any:
        """A filter of the cells that are NaN."""
        return build_expression(FilterExpression, "isnan", self)

    def notnan(self) -> Any:
        """A filter of the cells that are not NaN."""
        return build_expression(FilterExpression, "notnan", self)

    def isfinite(self) -> Any:
        """A filter of the cells that are neither NaN nor infinite."""
        return build_expression(FilterExpression, "isfinite", self)

    def fillna(self, fill_value: Any) -> Any:
        """This factor with its missing cells replaced by ``fill_value`` (a number or factor)."""
        return build_expression(
            FactorExpression, "fill", self, self.missing_value, fill_value, dtype=self.dtype
        )

    def clip(self, min_bound: float, max_bound: float, mask: Any = NotSpecified) -> Any:
        """This factor bounded to ``[min_bound, max_bound]`` (missing outside ``mask``)."""
        if min_bound > max_bound:
            raise PipelineError(
                f"clip: min_bound {min_bound} is greater than max_bound {max_bound}"
            )
        return build_expression(
            FactorExpression,
            "clip",
            self,
            float(min_bound),
            float(max_bound),
            dtype=np.float64,
            mask=mask,
        )

    # --- rolling statistics against a target -----------------------------------------

    def pearsonr(self, target: Any, correlation_length: int, mask: Any = NotSpecified) -> Any:
        """Rolling Pearson correlation of this factor with ``target`` over a window."""
        from rustybt.pipeline.factors.statistical import RollingPearson

        return RollingPearson(
            base_factor=self, target=target, correlation_length=correlation_length, mask=mask
        )

    def spearmanr(self, target: Any, correlation_length: int, mask: Any = NotSpecified) -> Any:
        """Rolling Spearman rank correlation of this factor with ``target``."""
        from rustybt.pipeline.factors.statistical import RollingSpearman

        return RollingSpearman(
            base_factor=self, target=target, correlation_length=correlation_length, mask=mask
        )

    def linear_regression(
        self, target: Any, regression_length: int, mask: Any = NotSpecified
    ) -> Any:
        """Rolling regression of this factor on ``target`` (alpha, beta, r_value, ...)."""
        from rustybt.pipeline.factors.statistical import RollingLinearRegression

        return RollingLinearRegression(
            dependent=self, independent=target, regression_length=regression_length, mask=mask
        )


def _group_input(term: Term, inputs: list[Any]) -> Any:
    """The group codes of a grouped term's classifier input (its second), or None."""
    if len(inputs) < 2:
        return None
    return group_codes(inputs[1], term.inputs[1].missing_value)


class FactorExpression(Expression, Factor):
    """A factor computed element-wise from other terms."""


class Rank(Factor):
    """Daily ranks of a factor over the assets in the mask (within groups)."""

    params = ("method", "ascending")
    window_safe = True

    def _validate(self) -> None:
        super()._validate()
        method = self.param("method")
        if method not in cross_section.RANK_METHODS:
            raise PipelineError(
                f"rank method must be one of {', '.join(cross_section.RANK_METHODS)};"
                f" got {method!r}"
            )

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        return cross_section.rank(
            inputs[0].astype(np.float64, copy=False),
            mask,
            method=self.param("method"),
            ascending=self.param("ascending"),
            groups=_group_input(self, inputs),
        )


class GroupedRowTransform(Factor):
    """A daily cross-sectional transform (demean, zscore, winsorize) within groups."""

    params = ("transform", "arguments")

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        transform = getattr(cross_section, self.param("transform"))
        values = inputs[0].astype(np.float64, copy=False)
        arguments = dict(self.param("arguments"))
        return transform(values, mask, groups=_group_input(self, inputs), **arguments)


class Slice(ComputableTerm):
    """One asset's column of a term: a one-column term (a target of correlations)."""

    params = ("asset",)
    ndim = 1
    dtype = np.float64

    @classmethod
    def _default_mask(cls) -> Term | None:
        return None

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        asset = self.param("asset")
        sid = int(getattr(asset, "sid", asset))
        where = np.flatnonzero(assets == sid)
        if not len(where):
            raise PipelineError(
                f"{self!r}: asset {asset!r} is not alive between {dates[0].date()} and"
                f" {dates[-1].date()}, so it has no column in this pipeline"
            )
        return inputs[0][:, where[:1]]

    def __repr__(self) -> str:
        return f"{self.inputs[0]!r}[{self.param('asset')!r}]"
