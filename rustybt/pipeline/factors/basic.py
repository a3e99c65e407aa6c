"""Built-in factors over prices and volumes: averages, returns, volatility, drawdown.

Each is computed by a kernel of :mod:`rustybt.pipeline.kernels.rolling` on a
stack of days at once (``batched``).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np

from rustybt.exceptions import PipelineError
from rustybt.pipeline.classifiers.classifier import group_codes
from rustybt.pipeline.data.equity_pricing import EquityPricing
from rustybt.pipeline.factors.custom import BuiltinFactor, CustomFactor
from rustybt.pipeline.kernels import cross_section, rolling

__all__ = [
    "EWMA",
    "EWMSTD",
    "VWAP",
    "AnnualizedVolatility",
    "AverageDollarVolume",
    "DailyReturns",
    "ExponentialWeightedMovingAverage",
    "ExponentialWeightedMovingStdDev",
    "LinearWeightedMovingAverage",
    "MaxDrawdown",
    "PeerCount",
    "PercentChange",
    "Returns",
    "SimpleMovingAverage",
    "WeightedAverageValue",
]


def _check_single_input(term: CustomFactor) -> None:
    if len(term.inputs) != 1:
        raise PipelineError(
            f"{type(term).__name__} takes exactly one input, got {len(term.inputs)}"
        )


class _SingleInput(BuiltinFactor):
    def _validate(self) -> None:
        super()._validate()
        _check_single_input(self)


class _TwoRowsAtLeast(BuiltinFactor):
    def _validate(self) -> None:
        super()._validate()
        if self.window_length < 2:
            raise PipelineError(
                f"{type(self).__name__} needs a window_length of at least 2,"
                f" got {self.window_length}"
            )


class Returns(_TwoRowsAtLeast):
    """Percent change in close price over the window."""

    inputs = (EquityPricing.close,)
    window_safe = True

    def compute(self, today: Any, assets: Any, out: Any, close: Any) -> None:
        out[:] = rolling.returns(close)


class DailyReturns(Returns):
    """Percent change in close price from the previous session."""

    window_length = 2


class PercentChange(_SingleInput, _TwoRowsAtLeast):
    """Percent change of the input over the window (relative to its first value's size)."""

    window_safe = True

    def compute(self, today: Any, assets: Any, out: Any, values: Any) -> None:
        out[:] = rolling.percent_change(values)


class SimpleMovingAverage(_SingleInput):
    """Average of the input over the window, ignoring missing values."""

    window_safe = True

    def compute(self, today: Any, assets: Any, out: Any, values: Any) -> None:
        out[:] = rolling.simple_moving_average(values)


class WeightedAverageValue(BuiltinFactor):
    """Average of the first input weighted by the second over the window."""

    def compute(self, today: Any, assets: Any, out: Any, base: Any, weight: Any) -> None:
        out[:] = rolling.weighted_average_value(base, weight)


class VWAP(WeightedAverageValue):
    """Volume-weighted average price over the window."""

    inputs = (EquityPricing.close, EquityPricing.volume)


class MaxDrawdown(_SingleInput):
    """Largest fall from a running peak of the input within the window."""

    window_safe = True

    def compute(self, today: Any, assets: Any, out: Any, values: Any) -> None:
        out[:] = rolling.max_drawdown(values)


class AverageDollarVolume(BuiltinFactor):
    """Average of close times volume over the window."""

    inputs = (EquityPricing.close, EquityPricing.volume)

    def compute(self, today: Any, assets: Any, out: Any, close: Any, volume: Any) -> None:
        out[:] = rolling.average_dollar_volume(close, volume)


class _ExponentialWeighted(_SingleInput):
    params = ("decay_rate",)

    @classmethod
    def from_span(cls, inputs: Any, window_length: int, span: float, **kwargs: Any) -> Any:
        """The factor with the decay rate of a pandas ``span``."""
        return cls(
            inputs=inputs,
            window_length=window_length,
            decay_rate=rolling.decay_rate_from_span(span),
            **kwargs,
        )

    @classmethod
    def from_halflife(cls, inputs: Any, window_length: int, halflife: float, **kwargs: Any) -> Any:
        """The factor with the decay rate of a ``halflife`` in sessions."""
        return cls(
            inputs=inputs,
            window_length=window_length,
            decay_rate=rolling.decay_rate_from_halflife(halflife),
            **kwargs,
        )

    @classmethod
    def from_center_of_mass(
        cls, inputs: Any, window_length: int, center_of_mass: float, **kwargs: Any
    ) -> Any:
        """The factor with the decay rate of a pandas ``com``."""
        return cls(
            inputs=inputs,
            window_length=window_length,
            decay_rate=rolling.decay_rate_from_center_of_mass(center_of_mass),
            **kwargs,
        )


class ExponentialWeightedMovingAverage(_ExponentialWeighted):
    """Exponentially weighted average of the input over the window."""

    def compute(self, today: Any, assets: Any, out: Any, values: Any, decay_rate: float) -> None:
        out[:] = rolling.exponential_weighted_moving_average(values, decay_rate)


class ExponentialWeightedMovingStdDev(_ExponentialWeighted):
    """Exponentially weighted standard deviation of the input over the window."""

    def compute(self, today: Any, assets: Any, out: Any, values: Any, decay_rate: float) -> None:
        out[:] = rolling.exponential_weighted_moving_std(values, decay_rate)


EWMA = ExponentialWeightedMovingAverage
EWMSTD = ExponentialWeightedMovingStdDev


class LinearWeightedMovingAverage(_SingleInput):
    """Average of the input with weights rising linearly to the newest row."""

    def compute(self, today: Any, assets: Any, out: Any, values: Any) -> None:
        out[:] = rolling.linear_weighted_moving_average(values)


class AnnualizedVolatility(BuiltinFactor):
    """Standard deviation of daily returns over the window, annualized."""

    inputs = (Returns(window_length=2),)
    params = MappingProxyType({"annualization_factor": 252.0})
    window_length = 252
    window_safe = True

    def compute(
        self, today: Any, assets: Any, out: Any, returns: Any, annualization_factor: float
    ) -> None:
        out[:] = rolling.annualized_volatility(returns, annualization_factor)


class PeerCount(CustomFactor):
    """How many assets share each asset's label of a classifier that day."""

    window_length = 1
    batched = True

    def _validate(self) -> None:
        super()._validate()
        _check_single_input(self)
        from rustybt.pipeline.classifiers.classifier import Classifier

        if not isinstance(self.inputs[0], Classifier):
            raise PipelineError(f"PeerCount takes a classifier, not {self.inputs[0]!r}")

    def compute(self, today: Any, assets: Any, out: Any, labels: Any) -> None:
        latest = labels[..., -1, :]
        codes = group_codes(np.atleast_2d(latest), self.inputs[0].missing_value)
        out[:] = cross_section.peer_count(codes, codes >= 0).reshape(out.shape)
