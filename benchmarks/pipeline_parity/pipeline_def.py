"""The pipelines of the parity run, written once for both frameworks.

Each function takes the framework's pipeline modules (``framework_modules``:
zipline's or rustybt's, which mirrors zipline's import paths) and builds the
same terms from them. Imports nothing of either framework at module level, so
that each worker loads it in its own venv.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

# The regressions' and correlations' target (gen_csvdir.py gives it bars on every session).
TARGET_SYMBOL = "S0000"
# The ranking backtest: how many assets it holds.
HOLDINGS = 50


def framework_modules(framework: str) -> SimpleNamespace:
    """``pipeline``, ``factors``, ``filters``, ``classifiers`` and ``data`` of ``framework``."""
    return SimpleNamespace(
        name=framework,
        pipeline=importlib.import_module(f"{framework}.pipeline"),
        factors=importlib.import_module(f"{framework}.pipeline.factors"),
        filters=importlib.import_module(f"{framework}.pipeline.filters"),
        classifiers=importlib.import_module(f"{framework}.pipeline.classifiers"),
        data=importlib.import_module(f"{framework}.pipeline.data"),
    )


def _pipeline(fw: SimpleNamespace, columns: dict[str, Any], screen: Any, domain: Any) -> Any:
    """A Pipeline, on ``domain`` when one is given (zipline's csvdir needs one)."""
    if domain is None:
        return fw.pipeline.Pipeline(columns=columns, screen=screen)
    return fw.pipeline.Pipeline(columns=columns, screen=screen, domain=domain)


def _outputs(prefix: str, factor: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The outputs of a multiple-output factor as columns ``prefix.output``."""
    return {f"{prefix}.{name}": getattr(factor, name) for name in names}


def price_factors(fw: SimpleNamespace) -> dict[str, Any]:
    """Every built-in price factor, with default and non-default windows."""
    f = fw.factors
    px = fw.data.EquityPricing
    close, open_, high, low = px.close, px.open, px.high, px.low
    columns: dict[str, Any] = {
        "close.latest": close.latest,
        "volume.latest": px.volume.latest,
        "sma_10": f.SimpleMovingAverage(inputs=[close], window_length=10),
        "sma_63_open": f.SimpleMovingAverage(inputs=[open_], window_length=63),
        "ewma_span15": f.ExponentialWeightedMovingAverage.from_span(
            inputs=[close], window_length=30, span=15
        ),
        "ewma_halflife10": f.ExponentialWeightedMovingAverage.from_halflife(
            inputs=[close], window_length=60, halflife=10
        ),
        "ewmstd_span15": f.ExponentialWeightedMovingStdDev.from_span(
            inputs=[close], window_length=30, span=15
        ),
        "ewmstd_decay0.9": f.ExponentialWeightedMovingStdDev(
            inputs=[close], window_length=20, decay_rate=0.9
        ),
        "lwma_10": f.LinearWeightedMovingAverage(inputs=[close], window_length=10),
        "lwma_30_high": f.LinearWeightedMovingAverage(inputs=[high], window_length=30),
        "returns_2": f.Returns(window_length=2),
        "returns_21": f.Returns(window_length=21),
        "daily_returns": f.DailyReturns(),
        "daily_returns_open": f.DailyReturns(inputs=[open_]),
        "pct_change_10": f.PercentChange(inputs=[close], window_length=10),
        "adv_20": f.AverageDollarVolume(window_length=20),
        "adv_5": f.AverageDollarVolume(window_length=5),
        "ann_vol": f.AnnualizedVolatility(),
        "ann_vol_63": f.AnnualizedVolatility(window_length=63, annualization_factor=52.0),
        "vwap_10": f.VWAP(window_length=10),
        "vwap_30": f.VWAP(window_length=30),
        "maxdd_30": f.MaxDrawdown(inputs=[close], window_length=30),
        "maxdd_126_low": f.MaxDrawdown(inputs=[low], window_length=126),
        "rsi": f.RSI(),
        "rsi_30": f.RSI(window_length=30),
        "macd": f.MACDSignal(),
        "macd_5_20_5": f.MACDSignal(fast_period=5, slow_period=20, signal_period=5),
        "fso": f.FastStochasticOscillator(),
        "fso_30": f.FastStochasticOscillator(window_length=30),
        "true_range": f.TrueRange(),
        "roc_10": f.RateOfChangePercentage(inputs=[close], window_length=10),
        "roc_30_open": f.RateOfChangePercentage(inputs=[open_], window_length=30),
    }
    bands = ("lower", "middle", "upper")
    columns |= _outputs("bb_20", f.BollingerBands(window_length=20, k=2.0), bands)
    columns |= _outputs("bb_50_k1.5", f.BollingerBands(window_length=50, k=1.5), bands)
    columns |= _outputs("aroon_25", f.Aroon(window_length=25), ("down", "up"))
    columns |= _outputs("aroon_14", f.Aroon(window_length=14), ("down", "up"))
    ichimoku = ("tenkan_sen", "kijun_sen", "senkou_span_a", "senkou_span_b", "chikou_span")
    columns |= _outputs("ichimoku", f.IchimokuKinkoHyo(), ichimoku)
    short_ichimoku = f.IchimokuKinkoHyo(
        window_length=30, tenkan_sen_length=5, kijun_sen_length=15, chikou_span_length=10
    )
    columns |= _outputs("ichimoku_30", short_ichimoku, ichimoku)
    return columns


def target_factors(fw: SimpleNamespace, target: Any, universe: Any) -> dict[str, Any]:
    """The correlations and regressions of every asset's returns on ``target``'s."""
    f = fw.factors
    regression = f.RollingLinearRegressionOfReturns(
        target=target, returns_length=10, regression_length=30
    )
    columns = {
        "pearson_10_30": f.RollingPearsonOfReturns(
            target=target, returns_length=10, correlation_length=30
        ),
        "pearson_2_63_masked": f.RollingPearsonOfReturns(
            target=target, returns_length=2, correlation_length=63, mask=universe
        ),
        "spearman_10_30": f.RollingSpearmanOfReturns(
            target=target, returns_length=10, correlation_length=30
        ),
        "beta_60": f.SimpleBeta(target=target, regression_length=60),
        "beta_120_strict": f.SimpleBeta(
            target=target, regression_length=120, allowed_missing_percentage=0.0
        ),
    }
    outputs = ("alpha", "beta", "r_value", "p_value", "stderr")
    return columns | _outputs("linreg_10_30", regression, outputs)


def cross_sectional_terms(fw: SimpleNamespace, universe: Any) -> dict[str, Any]:
    """Ranks, normalizations, classifiers and filters over the day's assets."""
    f = fw.factors
    adv = f.AverageDollarVolume(window_length=20)
    ret = f.Returns(window_length=21)
    rsi = f.RSI()
    quintiles = adv.quintiles()
    trend = f.SimpleMovingAverage(
        inputs=[fw.data.EquityPricing.close], window_length=10
    ) / f.SimpleMovingAverage(inputs=[fw.data.EquityPricing.close], window_length=50)
    return {
        "rank_ret21_masked": ret.rank(mask=universe),
        "rank_vwap_desc": f.VWAP(window_length=10).rank(ascending=False),
        "rank_close_dense": fw.data.EquityPricing.close.latest.rank(method="dense"),
        "zscore_ret21_by_adv_quintile": ret.zscore(groupby=quintiles),
        "zscore_ret21_masked_by_quintile": ret.zscore(
            mask=universe, groupby=adv.quintiles(mask=universe)
        ),
        "demean_trend": (trend - 1.0).demean(),
        "demean_pct_by_quintile": f.PercentChange(
            inputs=[fw.data.EquityPricing.close], window_length=10
        ).demean(groupby=quintiles),
        "winsorize_ret21": ret.winsorize(min_percentile=0.05, max_percentile=0.95),
        "winsorize_ret21_masked_grouped": ret.winsorize(
            min_percentile=0.1, max_percentile=0.9, mask=universe, groupby=quintiles
        ),
        "quintiles_adv": quintiles,
        "deciles_ret21_masked": ret.deciles(mask=universe),
        "quantiles7_rsi": rsi.quantiles(7),
        "top10_ret21_masked": ret.top(10, mask=universe),
        "bottom5_rsi": rsi.bottom(5),
        "between_20_80_vol": f.AnnualizedVolatility(window_length=63).percentile_between(20, 80),
    }


def parity_pipeline(fw: SimpleNamespace, target: Any, n_assets: int, domain: Any = None) -> Any:
    """The parity pipeline: every built-in factor and the cross-sectional methods.

    Screened to the top 80% of assets by 20-day average dollar volume (a top-N
    screen), which is also the mask of the masked terms.
    """
    universe = fw.factors.AverageDollarVolume(window_length=20).top(max(2, n_assets * 4 // 5))
    columns = price_factors(fw)
    columns |= target_factors(fw, target, universe)
    columns |= cross_sectional_terms(fw, universe)
    return _pipeline(fw, columns, universe, domain)


def ranking_pipeline(fw: SimpleNamespace, domain: Any = None) -> Any:
    """The backtest's pipeline: 126-day momentum of every asset trading over $1M a day,
    ranked, screened to the ``HOLDINGS`` best."""
    f = fw.factors
    tradable = f.AverageDollarVolume(window_length=20) > 1e6
    momentum = f.Returns(window_length=126, mask=tradable)
    columns = {"momentum": momentum, "rank": momentum.rank(mask=tradable, ascending=False)}
    return _pipeline(fw, columns, momentum.top(HOLDINGS, mask=tradable), domain)
