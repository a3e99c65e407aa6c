"""Built-in technical indicators, each a kernel of :mod:`rustybt.pipeline.kernels.technical`."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from rustybt.exceptions import PipelineError
from rustybt.pipeline.data.equity_pricing import EquityPricing
from rustybt.pipeline.factors.custom import BuiltinFactor
from rustybt.pipeline.kernels import technical

__all__ = [
    "RSI",
    "Aroon",
    "BollingerBands",
    "FastStochasticOscillator",
    "IchimokuKinkoHyo",
    "MACDSignal",
    "MovingAverageConvergenceDivergenceSignal",
    "RateOfChangePercentage",
    "TrueRange",
]


def _fill_outputs(out: Any, values: dict[str, Any]) -> None:
    for name, array in values.items():
        out[name] = array


class RSI(BuiltinFactor):
    """Relative strength index over the window (15 sessions: 14 changes)."""

    window_length = 15
    inputs = (EquityPricing.close,)
    window_safe = True

    def compute(self, today: Any, assets: Any, out: Any, closes: Any) -> None:
        out[:] = technical.rsi(closes)


class BollingerBands(BuiltinFactor):
    """Moving average of close, and bands ``k`` standard deviations around it."""

    params = ("k",)
    inputs = (EquityPricing.close,)
    outputs = ("lower", "middle", "upper")

    def compute(self, today: Any, assets: Any, out: Any, closes: Any, k: float) -> None:
        lower, middle, upper = technical.bollinger_bands(closes, k)
        _fill_outputs(out, {"lower": lower, "middle": middle, "upper": upper})


class Aroon(BuiltinFactor):
    """Sessions since the window's lowest low and highest high, as percentages."""

    inputs = (EquityPricing.low, EquityPricing.high)
    outputs = ("down", "up")

    def compute(self, today: Any, assets: Any, out: Any, lows: Any, highs: Any) -> None:
        down, up = technical.aroon(lows, highs)
        _fill_outputs(out, {"down": down, "up": up})


class FastStochasticOscillator(BuiltinFactor):
    """Where the last close sits in the window's low-high range, in percent."""

    inputs = (EquityPricing.close, EquityPricing.low, EquityPricing.high)
    window_safe = True
    window_length = 14

    def compute(
        self, today: Any, assets: Any, out: Any, closes: Any, lows: Any, highs: Any
    ) -> None:
        out[:] = technical.fast_stochastic_oscillator(closes, lows, highs)


class IchimokuKinkoHyo(BuiltinFactor):
    """The five lines of the Ichimoku cloud."""

    params = MappingProxyType(
        {"tenkan_sen_length": 9, "kijun_sen_length": 26, "chikou_span_length": 26}
    )
    inputs = (EquityPricing.high, EquityPricing.low, EquityPricing.close)
    outputs = ("tenkan_sen", "kijun_sen", "senkou_span_a", "senkou_span_b", "chikou_span")
    window_length = 52

    def _validate(self) -> None:
        super()._validate()
        for name in self.params:
            if self.param(name) > self.window_length:
                raise PipelineError(
                    f"IchimokuKinkoHyo: {name}={self.param(name)} is longer than"
                    f" window_length={self.window_length}"
                )

    def compute(
        self,
        today: Any,
        assets: Any,
        out: Any,
        highs: Any,
        lows: Any,
        closes: Any,
        tenkan_sen_length: int,
        kijun_sen_length: int,
        chikou_span_length: int,
    ) -> None:
        lines = technical.ichimoku_kinko_hyo(
            highs,
            lows,
            closes,
            tenkan_sen_length=tenkan_sen_length,
            kijun_sen_length=kijun_sen_length,
            chikou_span_length=chikou_span_length,
        )
        _fill_outputs(out, lines)


class RateOfChangePercentage(BuiltinFactor):
    """Percent change of the input from the window's first row to its last."""

    def compute(self, today: Any, assets: Any, out: Any, closes: Any) -> None:
        out[:] = technical.rate_of_change_percentage(closes)


class TrueRange(BuiltinFactor):
    """The largest of high - low and the moves from the previous close."""

    inputs = (EquityPricing.high, EquityPricing.low, EquityPricing.close)
    window_length = 2

    def compute(
        self, today: Any, assets: Any, out: Any, highs: Any, lows: Any, closes: Any
    ) -> None:
        out[:] = technical.true_range(highs, lows, closes)


class MovingAverageConvergenceDivergenceSignal(BuiltinFactor):
    """MACD minus its signal line (EWMAs of close with spans of the three periods)."""

    inputs = (EquityPricing.close,)
    params = ("fast_period", "slow_period", "signal_period")

    def __new__(
        cls, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9, **kwargs: Any
    ) -> Any:
        for name, value in (
            ("fast_period", fast_period),
            ("slow_period", slow_period),
            ("signal_period", signal_period),
        ):
            if value < 1:
                raise PipelineError(f"MACDSignal: {name} must be at least 1, got {value}")
        if slow_period <= fast_period:
            raise PipelineError(
                f"MACDSignal: slow_period ({slow_period}) must be greater than"
                f" fast_period ({fast_period})"
            )
        return super().__new__(
            cls,
            fast_period=fast_period,
            slow_period=slow_period,
            signal_period=signal_period,
            window_length=slow_period + signal_period - 1,
            **kwargs,
        )

    def compute(
        self,
        today: Any,
        assets: Any,
        out: Any,
        closes: Any,
        fast_period: int,
        slow_period: int,
        signal_period: int,
    ) -> None:
        out[:] = technical.macd_signal(closes, fast_period, slow_period, signal_period)


MACDSignal = MovingAverageConvergenceDivergenceSignal
