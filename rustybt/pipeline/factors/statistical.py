"""Rolling correlations, regressions and beta against a target, per asset."""

from __future__ import annotations

from typing import Any

from rustybt.exceptions import PipelineError
from rustybt.pipeline.factors.basic import Returns
from rustybt.pipeline.factors.custom import BuiltinFactor
from rustybt.pipeline.filters.filter import SingleAsset
from rustybt.pipeline.kernels import statistical
from rustybt.pipeline.term import AssetExists, NotSpecified

__all__ = [
    "RollingLinearRegression",
    "RollingLinearRegressionOfReturns",
    "RollingPearson",
    "RollingPearsonOfReturns",
    "RollingSpearman",
    "RollingSpearmanOfReturns",
    "SimpleBeta",
]


def _check_pair(first: Any, second: Any, length: int, what: str) -> None:
    if length < 2:
        raise PipelineError(f"{what} needs a window of at least 2 sessions, got {length}")
    if second.ndim == 2 and first.mask is not second.mask:
        raise PipelineError(
            f"{what}: {first!r} and {second!r} have different masks, so their columns"
            " do not line up"
        )


class _RollingCorrelation(BuiltinFactor):
    window_safe = True

    def __new__(
        cls, base_factor: Any, target: Any, correlation_length: int, mask: Any = NotSpecified
    ) -> Any:
        _check_pair(base_factor, target, correlation_length, cls.__name__)
        return super().__new__(
            cls, inputs=(base_factor, target), window_length=correlation_length, mask=mask
        )


class RollingPearson(_RollingCorrelation):
    """Pearson correlation of a factor with a target over a trailing window."""

    def compute(self, today: Any, assets: Any, out: Any, base: Any, target: Any) -> None:
        out[:] = statistical.pearson_r(target, base)


class RollingSpearman(_RollingCorrelation):
    """Spearman rank correlation of a factor with a target over a trailing window."""

    def compute(self, today: Any, assets: Any, out: Any, base: Any, target: Any) -> None:
        out[:] = statistical.spearman_r(target, base)


class RollingLinearRegression(BuiltinFactor):
    """Regression of a factor (dependent) on a target (independent) over a window."""

    outputs = ("alpha", "beta", "r_value", "p_value", "stderr")

    def __new__(
        cls, dependent: Any, independent: Any, regression_length: int, mask: Any = NotSpecified
    ) -> Any:
        _check_pair(dependent, independent, regression_length, cls.__name__)
        return super().__new__(
            cls, inputs=(dependent, independent), window_length=regression_length, mask=mask
        )

    def compute(self, today: Any, assets: Any, out: Any, dependent: Any, independent: Any) -> None:
        for name, values in statistical.linear_regression(independent, dependent).items():
            out[name] = values


def _returns_with_target(target: Any, returns_length: int) -> Any:
    """Returns, alive wherever the target asset is (so its column always exists)."""
    return Returns(window_length=returns_length, mask=AssetExists() | SingleAsset(asset=target))


class RollingPearsonOfReturns(RollingPearson):
    """Pearson correlation of each asset's returns with one asset's returns."""

    def __new__(
        cls, target: Any, returns_length: int, correlation_length: int, mask: Any = NotSpecified
    ) -> Any:
        returns = _returns_with_target(target, returns_length)
        return super().__new__(cls, returns, returns[target], correlation_length, mask)


class RollingSpearmanOfReturns(RollingSpearman):
    """Spearman correlation of each asset's returns with one asset's returns."""

    def __new__(
        cls, target: Any, returns_length: int, correlation_length: int, mask: Any = NotSpecified
    ) -> Any:
        returns = _returns_with_target(target, returns_length)
        return super().__new__(cls, returns, returns[target], correlation_length, mask)


class RollingLinearRegressionOfReturns(RollingLinearRegression):
    """Regression of each asset's returns on one asset's returns."""

    window_safe = True

    def __new__(
        cls, target: Any, returns_length: int, regression_length: int, mask: Any = NotSpecified
    ) -> Any:
        returns = _returns_with_target(target, returns_length)
        return super().__new__(cls, returns, returns[target], regression_length, mask)


class SimpleBeta(BuiltinFactor):
    """Beta of each asset's daily returns against one asset's over a window."""

    window_safe = True
    params = ("allowed_missing_count",)

    def __new__(
        cls, target: Any, regression_length: int, allowed_missing_percentage: float = 0.25
    ) -> Any:
        returns = _returns_with_target(target, 2)
        return super().__new__(
            cls,
            inputs=(returns, returns[target]),
            window_length=regression_length,
            allowed_missing_count=statistical.allowed_missing_count(
                regression_length, allowed_missing_percentage
            ),
        )

    def compute(
        self,
        today: Any,
        assets: Any,
        out: Any,
        all_returns: Any,
        target_returns: Any,
        allowed_missing_count: int,
    ) -> None:
        out[:] = statistical.simple_beta(target_returns, all_returns, allowed_missing_count)
