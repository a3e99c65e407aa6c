"""Every built-in factor, run by the engine, equals its kernel on windows built by hand.

The kernels are checked against plain references in ``tests/unit/pipeline/kernels``;
here the windows are: a synthetic bundle with splits, a dividend, an asset
that lists and one that delists mid-span; each date's window is rebuilt from
the raw bars with the adjustments known that day, and the kernel applied one
day at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rustybt.pipeline import Pipeline, bundle_engine
from rustybt.pipeline.data import EquityPricing as EP
from rustybt.pipeline.factors import (
    EWMA,
    EWMSTD,
    RSI,
    VWAP,
    AnnualizedVolatility,
    Aroon,
    AverageDollarVolume,
    BollingerBands,
    DailyReturns,
    FastStochasticOscillator,
    IchimokuKinkoHyo,
    LinearWeightedMovingAverage,
    MACDSignal,
    MaxDrawdown,
    PercentChange,
    RateOfChangePercentage,
    Returns,
    RollingLinearRegressionOfReturns,
    RollingPearsonOfReturns,
    RollingSpearmanOfReturns,
    SimpleBeta,
    SimpleMovingAverage,
    TrueRange,
)
from rustybt.pipeline.kernels import rolling, statistical, technical
from tests.unit.data._bundle_kit import Bundle, synthetic_spec, write_bundle

N_ASSETS = 6
FIRST, LAST = 70, 95  # output dates (session indices)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    spec = synthetic_spec(N_ASSETS, "2023-01-03", "2023-06-30", seed=7)
    days = spec.sessions
    spec.splits = pd.DataFrame(
        {"sid": [1, 3, 1], "ratio": [0.5, 0.25, 2.0], "effective_date": days[[60, 80, 90]]}
    )
    spec.dividends = pd.DataFrame(
        {
            "sid": [2],
            "amount": [1.5],
            "ex_date": [days[85]],
            "record_date": [days[86]],
            "declared_date": [days[70]],
            "pay_date": [days[88]],
        }
    )
    # Sid 5 lists at session 75; sid 6 delists at session 88.
    spec.assets[4].start = 75
    spec.daily[5] = spec.daily[5].iloc[75:]
    spec.assets[5].end = 88
    spec.daily[6] = spec.daily[6].iloc[:89]
    written = write_bundle(tmp_path_factory.mktemp("builtins"), spec)
    yield written
    written.close()


def hand_window(bundle: Bundle, field: str, date: int, length: int) -> np.ndarray:
    """Rows of dates ``date - length + 1 .. date`` (the bars of the sessions before), as of
    ``date``."""
    spec = bundle.spec
    days = bundle.sessions
    bars = np.full((length, N_ASSETS), 0.0 if field == "volume" else np.nan)
    for col, sid in enumerate(range(1, N_ASSETS + 1)):
        rows = spec.daily[sid][field].reindex(days[date - length : date]).to_numpy()
        bars[:, col] = np.where(np.isnan(rows), bars[:, col], rows)
    ratios: list[tuple[int, int, float]] = []  # (sid, effective session, ratio)
    for sid, ratio, when in spec.splits[["sid", "ratio", "effective_date"]].itertuples(False):
        ratios.append((sid, days.get_loc(when), ratio))
    for when, amount in zip(spec.dividends["ex_date"], spec.dividends["amount"], strict=True):
        e = days.get_loc(when)
        ratios.append((2, e, 1 - amount / spec.daily[2].loc[days[e - 1], "close"]))
    for sid, effective, ratio in ratios:
        is_split = any(
            s == sid and days.get_loc(w) == effective
            for s, w in zip(spec.splits["sid"], spec.splits["effective_date"], strict=True)
        )
        if effective > date or (field == "volume" and not is_split):
            continue
        for row, session in enumerate(range(date - length, date)):
            if session < effective:
                if field == "volume":
                    bars[row, sid - 1] /= ratio
                else:
                    bars[row, sid - 1] *= ratio
    return bars


def alive(bundle: Bundle, date: int) -> np.ndarray:
    return np.array([a.start < date <= a.end for a in bundle.spec.assets])


def reference(
    bundle: Bundle, fields: tuple[str, ...], length: int, kernel: Callable[..., Any]
) -> dict[int, Any]:
    return {
        d: kernel(*(hand_window(bundle, f, d, length) for f in fields))
        for d in range(FIRST, LAST + 1)
    }


def engine_frame(bundle: Bundle, columns: dict[str, Any]) -> pd.DataFrame:
    engine = bundle_engine(bundle.portal(), "XNYS")
    return engine.run_pipeline(Pipeline(columns), bundle.sessions[FIRST], bundle.sessions[LAST])


def check(bundle: Bundle, out: pd.Series, expected: dict[int, np.ndarray]) -> None:
    for d, values in expected.items():
        live = alive(bundle, d)
        got = out.xs(bundle.sessions[d], level=0)
        assert [a.sid for a in got.index] == [s for s in range(1, N_ASSETS + 1) if live[s - 1]]
        np.testing.assert_allclose(got.to_numpy(), values[live], rtol=1e-12, equal_nan=True)


PRICE_CASES: list[tuple[str, Any, tuple[str, ...], int, Callable[..., Any]]] = [
    (
        "sma",
        SimpleMovingAverage(inputs=[EP.close], window_length=10),
        ("close",),
        10,
        rolling.simple_moving_average,
    ),
    (
        "ewma",
        EWMA.from_span([EP.close], 20, 8),
        ("close",),
        20,
        lambda c: rolling.exponential_weighted_moving_average(c, rolling.decay_rate_from_span(8)),
    ),
    (
        "ewmstd",
        EWMSTD(inputs=[EP.close], window_length=12, decay_rate=0.9),
        ("close",),
        12,
        lambda c: rolling.exponential_weighted_moving_std(c, 0.9),
    ),
    (
        "lwma",
        LinearWeightedMovingAverage(inputs=[EP.close], window_length=7),
        ("close",),
        7,
        rolling.linear_weighted_moving_average,
    ),
    ("returns", Returns(window_length=15), ("close",), 15, rolling.returns),
    ("daily", DailyReturns(), ("close",), 2, rolling.returns),
    ("pct", PercentChange(inputs=[EP.open], window_length=5), ("open",), 5, rolling.percent_change),
    (
        "adv",
        AverageDollarVolume(window_length=10),
        ("close", "volume"),
        10,
        rolling.average_dollar_volume,
    ),
    ("vwap", VWAP(window_length=8), ("close", "volume"), 8, rolling.weighted_average_value),
    ("mdd", MaxDrawdown(inputs=[EP.close], window_length=20), ("close",), 20, rolling.max_drawdown),
    ("rsi", RSI(), ("close",), 15, technical.rsi),
    (
        "bb",
        BollingerBands(window_length=20, k=1.5).upper,
        ("close",),
        20,
        lambda c: technical.bollinger_bands(c, 1.5)[2],
    ),
    (
        "macd",
        MACDSignal(fast_period=5, slow_period=10, signal_period=4),
        ("close",),
        13,
        lambda c: technical.macd_signal(c, 5, 10, 4),
    ),
    (
        "aroon",
        Aroon(window_length=9).up,
        ("low", "high"),
        9,
        lambda lo, hi: technical.aroon(lo, hi)[1],
    ),
    (
        "fso",
        FastStochasticOscillator(),
        ("close", "low", "high"),
        14,
        technical.fast_stochastic_oscillator,
    ),
    (
        "ichimoku",
        IchimokuKinkoHyo().senkou_span_b,
        ("high", "low", "close"),
        52,
        lambda h, lo, c: technical.ichimoku_kinko_hyo(h, lo, c, 9, 26, 26)["senkou_span_b"],
    ),
    ("tr", TrueRange(), ("high", "low", "close"), 2, technical.true_range),
    (
        "roc",
        RateOfChangePercentage(inputs=[EP.close], window_length=6),
        ("close",),
        6,
        technical.rate_of_change_percentage,
    ),
]


@pytest.mark.parametrize(("name", "term", "fields", "length", "kernel"), PRICE_CASES)
def test_price_factor_equals_its_kernel_on_hand_built_windows(
    bundle: Bundle, name: str, term: Any, fields: tuple[str, ...], length: int, kernel: Any
) -> None:
    out = engine_frame(bundle, {name: term})[name]
    check(bundle, out, reference(bundle, fields, length, kernel))


def returns_by_date(bundle: Bundle, first: int, last: int, length: int) -> np.ndarray:
    """Each date's ``length``-row returns, as of that date (a computed input's rows)."""
    return np.array(
        [rolling.returns(hand_window(bundle, "close", d, length)) for d in range(first, last + 1)]
    )


@pytest.mark.parametrize("kind", ["pearson", "spearman", "regression", "beta", "volatility"])
def test_factors_over_returns_windows(bundle: Bundle, kind: str) -> None:
    target = bundle.asset(1)
    length = 10
    terms = {
        "pearson": RollingPearsonOfReturns(target, returns_length=3, correlation_length=length),
        "spearman": RollingSpearmanOfReturns(target, returns_length=3, correlation_length=length),
        "regression": RollingLinearRegressionOfReturns(target, 3, length).beta,
        "beta": SimpleBeta(target, regression_length=length),
        "volatility": AnnualizedVolatility(window_length=length),
    }
    out = engine_frame(bundle, {kind: terms[kind]})[kind]
    returns_length = 2 if kind in ("beta", "volatility") else 3
    kernels: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
        "pearson": statistical.pearson_r,
        "spearman": statistical.spearman_r,
        "regression": lambda t, w: statistical.linear_regression(t, w)["beta"],
        "beta": lambda t, w: statistical.simple_beta(
            t, w, statistical.allowed_missing_count(length, 0.25)
        ),
        "volatility": lambda t, w: rolling.annualized_volatility(w, 252.0),
    }
    expected = {}
    for d in range(FIRST, LAST + 1):
        window = returns_by_date(bundle, d - length + 1, d, returns_length)
        expected[d] = kernels[kind](window[:, :1], window)
    check(bundle, out, expected)
