"""zipline-reloaded's own example algorithms run on rustybt with only their imports renamed.

The examples are stored byte for byte in ``zipline_examples/`` (see the NOTICE
there). Each test reads one, renames ``zipline`` to ``rustybt`` in its import
lines (and replaces tickers the demo bundle lacks), and runs it the way
zipline's own ``zipline.examples.run_example`` does: its ``initialize``,
``handle_data`` and ``analyze`` (plots drawn on matplotlib's Agg backend), a
capital base of 1e7 unless the example sets one, and the example's own
``_test_args()`` dates when the demo bundle (2014-2024) covers them, else a
short span of the demo's.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import rustybt

EXAMPLES = Path(__file__).resolve().parent / "zipline_examples"

#: Tickers of olmar.py that the demo bundle lacks -> demo tickers of a similar kind.
DEMO_TICKERS = {
    "AMD": "NVDA",
    "CERN": "JNJ",
    "COST": "WMT",
    "DELL": "CSCO",
    "GPS": "NKE",
    "MMM": "GE",
}

#: The examples whose ``_test_args()`` dates the demo bundle cannot serve: the
#: span of the demo's they run on instead. (buyapple runs on its own span: its
#: start, 2014-01-01, is a holiday and rolls forward to the first session.)
DEMO_SPANS = {
    # Its first bar asks for 40 sessions of history: the demo has them from 2014-03-03.
    "dual_ema_talib": ("2014-03-03", "2014-11-01"),
    "buy_and_hold": ("2014-01-02", "2014-06-30"),
    # 300 sessions of warm-up before its first order, then a year of trading.
    "dual_moving_average": ("2014-01-02", "2015-12-31"),
    "olmar": ("2020-01-02", "2020-06-30"),
    # Its dates (autumn 2013) precede the demo; RSI needs 15 sessions of history.
    "momentum_pipeline": ("2014-03-03", "2014-06-30"),
}

IMPORT_LINE = re.compile(r"^(\s*(?:from|import)\s+)zipline\b", re.MULTILINE)
TICKER = re.compile(r"""(["'])(""" + "|".join(DEMO_TICKERS) + r")\1")


def renamed_source(name: str) -> str:
    """The example's text with ``zipline`` renamed in imports and demo tickers substituted."""
    text = (EXAMPLES / f"{name}.py").read_text()
    text = IMPORT_LINE.sub(r"\1rustybt", text)
    text = TICKER.sub(lambda m: m.group(1) + DEMO_TICKERS[m.group(2)] + m.group(1), text)
    assert "zipline" not in "\n".join(
        line for line in text.splitlines() if re.match(r"\s*(from|import)\s", line)
    )
    return text


def load_example(name: str) -> types.ModuleType:
    """The renamed example as a module (its functions see its own globals)."""
    module = types.ModuleType(f"zipline_example_{name}")
    module.__file__ = str(EXAMPLES / f"{name}.py")
    exec(compile(renamed_source(name), module.__file__, "exec"), module.__dict__)
    return module


@pytest.fixture(autouse=True)
def agg_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Plots drawn off screen; every figure closed after the test."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def run_example(name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Run the example as zipline's run_example does; the performance and the run's arguments."""
    module = load_example(name)
    args: dict[str, Any] = {"capital_base": 1e7, **module._test_args()}
    if name in DEMO_SPANS:
        args["start"], args["end"] = map(pd.Timestamp, DEMO_SPANS[name])
    perf = rustybt.run_algorithm(
        initialize=module.initialize,
        handle_data=getattr(module, "handle_data", None),
        before_trading_start=getattr(module, "before_trading_start", None),
        analyze=module.analyze if hasattr(module, "analyze") else None,
        bundle="demo",
        benchmark_symbol="SPY",
        **args,
    )
    return perf, args


def assert_sane(perf: pd.DataFrame, capital_base: float) -> int:
    """A complete, finite run that traded; the number of fills."""
    assert len(perf) > 0
    assert perf["starting_cash"].iloc[0] == capital_base
    for column in ("portfolio_value", "ending_cash", "returns", "algorithm_period_return"):
        assert np.isfinite(perf[column].astype(float)).all(), column
    assert (perf["portfolio_value"] > 0).all()
    assert (perf["max_drawdown"] <= 0).all() and (perf["max_drawdown"] > -1).all()
    fills = [t for day in perf["transactions"] for t in day]
    assert fills, "the example made no trade"
    for fill in fills:
        assert fill["amount"] != 0 and fill["price"] > 0
    # The books balance: cash plus positions is the portfolio value, every session.
    value = perf["ending_cash"] + perf["ending_value"]
    np.testing.assert_allclose(value, perf["portfolio_value"], rtol=1e-9)
    return len(fills)


@pytest.mark.usefixtures("demo")
# dual_moving_average's analyze() plots dates on an axis that already holds dates.
@pytest.mark.filterwarnings("ignore:This axis already has a converter:UserWarning")
class TestZiplineExamples:
    def test_buyapple(self) -> None:
        perf, args = run_example("buyapple")
        fills = assert_sane(perf, args["capital_base"])
        # 10 AAPL every session; each fills a bar later. The demo's AAPL splits
        # 7-for-1 on 2014-06-09, as Apple did: shares bought before count 7 times.
        assert len(perf) == 211 and fills == len(perf) - 1
        split = pd.Timestamp("2014-06-09", tz="UTC")
        bought = sum(
            t["amount"] * (7 if t["dt"] < split else 1) for day in perf["transactions"] for t in day
        )
        assert perf["positions"].iloc[-1][0]["amount"] == bought
        assert perf["AAPL"].notna().all()

    def test_buy_and_hold(self) -> None:
        perf, args = run_example("buy_and_hold")
        assert assert_sane(perf, args["capital_base"]) == 2
        held = {p["sid"].symbol: p["amount"] for p in perf["positions"].iloc[-1]}
        # 100 of each, once; AAPL's 7-for-1 split of 2014-06-09 makes 700 of its 100.
        assert held == {"AAPL": 700, "MSFT": 100}

    def test_dual_moving_average(self) -> None:
        perf, args = run_example("dual_moving_average")
        assert_sane(perf, args["capital_base"])
        recorded = perf[["short_mavg", "long_mavg"]].dropna()
        assert len(recorded) == len(perf) - 299  # from the 300th session on
        positions = [sum(p["amount"] for p in day) for day in perf["positions"]]
        assert set(positions) <= {0, 100}

    def test_dual_ema_talib(self) -> None:
        pytest.importorskip("talib", reason="TA-Lib is in the dev extra")
        perf, args = run_example("dual_ema_talib")
        fills = assert_sane(perf, args["capital_base"])
        assert perf["buy"].sum() >= 1 and fills == perf["buy"].sum() + perf["sell"].sum()
        # Orders of +-100; one open across AAPL's 7-for-1 split of 2014-06-09 fills
        # as 700 (zipline adjusts open orders for splits too).
        amounts = {t["amount"] for day in perf["transactions"] for t in day}
        assert {100, -100} & amounts and amounts <= {100, -100, 700, -700}
        assert np.isfinite(perf[["short_ema", "long_ema"]].to_numpy(float)).all()

    def test_olmar(self) -> None:
        perf, args = run_example("olmar")
        fills = assert_sane(perf, args["capital_base"])
        assert fills > 100  # rebalances the seven stocks most sessions
        held = {p["sid"].symbol for p in perf["positions"].iloc[-1]}
        assert held <= {"NVDA", "JNJ", "WMT", "CSCO", "NKE", "INTC", "GE"}
        assert perf["gross_leverage"].max() < 1.5

    def test_momentum_pipeline(self) -> None:
        perf, args = run_example("momentum_pipeline")
        assert_sane(perf, args["capital_base"])
        # The example's own notes: every asset in the universe (the demo's 29 alive
        # then), 3 longs and 3 shorts at a third each, so gross leverage near 2.
        assert (perf["universe_size"] == 29).all()
        held = [day for day in perf["positions"].iloc[2:]]
        assert all(sum(p["amount"] > 0 for p in day) == 3 for day in held)
        assert all(sum(p["amount"] < 0 for p in day) == 3 for day in held)
        assert perf["gross_leverage"].iloc[2:].between(1.8, 2.2).all()


def test_the_renaming_touches_only_imports_and_tickers() -> None:
    original = (EXAMPLES / "olmar.py").read_text()
    renamed = renamed_source("olmar")
    changed = [
        (a, b) for a, b in zip(original.splitlines(), renamed.splitlines(), strict=True) if a != b
    ]
    assert changed == [
        (
            "from zipline.finance import commission, slippage",
            "from rustybt.finance import commission, slippage",
        ),
        (
            'STOCKS = ["AMD", "CERN", "COST", "DELL", "GPS", "INTC", "MMM"]',
            'STOCKS = ["NVDA", "JNJ", "WMT", "CSCO", "NKE", "INTC", "GE"]',
        ),
    ]
    # The commented-out logger names mention zipline; they are not imports.
    assert "zipline_logging" in renamed


@pytest.mark.usefixtures("demo")
def test_buyapple_as_a_notebook_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=config)
    try:
        shell.run_line_magic("load_ext", "rustybt")
        cell = "%%rustybt --start 2014-01-01 --end 2014-11-01 -o perf\n" + renamed_source(
            "buyapple"
        )
        result = shell.run_cell(cell)
        assert result.success, result.error_in_exec
        perf = shell.user_ns["perf"]
        assert perf is result.result
        direct, args = run_example("buyapple")
        assert perf["starting_cash"].iloc[0] == 1e7  # zipline's CLI default capital base
        columns = ["portfolio_value", "ending_cash", "AAPL"]
        pd.testing.assert_frame_equal(perf[columns], direct[columns])
        assert args["capital_base"] == 1e7
    finally:
        InteractiveShell.clear_instance()
