"""fetch_csv end to end on the demo bundle: CSVs over http (127.0.0.1) and from files.

The algorithms fetch per-asset signals and ``symbol=`` data, trade on them,
and note every value ``data.current`` showed them; each must equal the CSV's
latest row at or before that moment (an oracle computed here, row by row).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import rustybt
from rustybt.api import (
    fetch_csv,
    get_datetime,
    order_target_percent,
    record,
    symbol,
    symbols,
)
from rustybt.exceptions import DataAdapterError, ParameterValidationError, UnknownFieldError
from tests.unit.sources._loopback import serve_folder

# Times without a zone are UTC. AAPL's 2024-01-05 15:00 row (10:00 New York)
# is seen at that session's bar but not before its open; MSFT's 21:30 row
# comes after the close and is first seen the next session; ZZZZ is no asset.
SIGNALS = """symbol,date,signal
AAPL,2023-12-29,1
MSFT,2024-01-03,1
ZZZZ,2024-01-04,1
AAPL,2024-01-05 15:00,-1
MSFT,2024-01-05 21:30,-1
IBM,2024-01-09,1
AAPL,2024-01-10,1
AAPL,2024-02-01,-1
"""

VIX = """Date,Value
2023-12-28,13.0
2024-01-04,14.5
2024-01-09,12.1
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``(base URL, folder)``: an http server on 127.0.0.1 serving ``folder``, in a thread."""
    folder = tmp_path / "www"
    folder.mkdir()
    with serve_folder(folder) as url:
        yield url, folder


def _oracle(text: str, date_column: str, key_column: str, value_column: str) -> pd.DataFrame:
    rows = pd.read_csv(pd.io.common.StringIO(text))
    rows["at"] = pd.to_datetime(rows[date_column], utc=True, format="mixed")
    return rows.rename(columns={key_column: "key", value_column: "value"})[["key", "at", "value"]]


def _as_of(oracle: pd.DataFrame, key: str, when: pd.Timestamp) -> float:
    """The value of the key's latest row at or before ``when`` (NaN if none yet)."""
    known = oracle[(oracle["key"] == key) & (oracle["at"] <= when)]
    return float(known.sort_values("at", kind="stable")["value"].iloc[-1]) if len(known) else np.nan


def _same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b


def test_a_daily_backtest_trades_on_fetched_signals_with_no_look_ahead(
    demo: Path, served: tuple[str, Path], tmp_path: Path
) -> None:
    base, folder = served
    (folder / "signals.csv").write_text(SIGNALS)
    vix_path = tmp_path / "vix.csv"
    vix_path.write_text(VIX)
    seen: list[tuple[str, pd.Timestamp, dict[str, float]]] = []
    universe_seen: list[list[str]] = []

    def initialize(context: Any) -> None:
        fetch_csv(f"{base}/signals.csv")
        fetch_csv(
            str(vix_path),
            symbol="vix",
            date_column="Date",
            date_format="%Y-%m-%d",
            pre_func=lambda df: df.rename(columns={"Value": "close"}),
        )
        context.universe = symbols("AAPL", "MSFT", "IBM")

    def before_trading_start(context: Any, data: Any) -> None:
        values = {a.symbol: data.current(a, "signal") for a in context.universe}
        seen.append(("before", get_datetime(), {**values, "vix": data.current("vix", "close")}))

    def handle_data(context: Any, data: Any) -> None:
        signals = data.current(context.universe, "signal")
        vix = data.current("vix", "close")
        values = {a.symbol: signals[a] for a in context.universe}
        seen.append(("bar", get_datetime(), {**values, "vix": vix}))
        universe_seen.append([a.symbol for a in data.fetcher_assets])
        weight = 0.3 if vix < 14 else 0.15
        for asset, signal in signals.items():
            if data.can_trade(asset):
                order_target_percent(asset, weight if signal > 0 else 0.0)
        record(vix=vix, aapl_signal=signals[context.universe[0]])

    perf = rustybt.run_algorithm(
        "2024-01-02",
        "2024-01-12",
        initialize,
        100_000,
        handle_data=handle_data,
        before_trading_start=before_trading_start,
    )
    signals = _oracle(SIGNALS, "date", "symbol", "signal")
    vix = _oracle(VIX, "Date", "Date", "Value").assign(key="vix")
    assert len(seen) == 2 * len(perf) == 18
    for _, when, values in seen:
        for name in ("AAPL", "MSFT", "IBM"):
            assert _same(values[name], _as_of(signals, name, when)), (name, when, values)
        assert values["vix"] == _as_of(vix, "vix", when)
    by_moment = {(kind, when.date().isoformat()): values for kind, when, values in seen}
    # No look-ahead: a row stamped during a session is not seen before its open.
    assert by_moment[("before", "2024-01-05")]["AAPL"] == 1.0
    assert by_moment[("bar", "2024-01-05")]["AAPL"] == -1.0
    assert by_moment[("bar", "2024-01-05")]["MSFT"] == 1.0
    assert by_moment[("before", "2024-01-08")]["MSFT"] == -1.0
    assert np.isnan(by_moment[("bar", "2024-01-02")]["MSFT"])
    # data.fetcher_assets: the assets with rows so far (ZZZZ was masked out).
    assert universe_seen[0] == ["AAPL"]
    assert sorted(universe_seen[-1]) == ["AAPL", "IBM", "MSFT"]
    # The strategy traded on them: at the end it holds AAPL and IBM, not MSFT.
    held = {p["sid"].symbol for p in perf["positions"].iloc[-1] if p["amount"]}
    assert held == {"AAPL", "IBM"}
    assert perf["vix"].tolist()[:3] == [13.0, 13.0, 14.5]


def test_a_minute_backtest_sees_each_row_from_its_minute_on(demo: Path, tmp_path: Path) -> None:
    text = "symbol,date,signal\nAAPL,2024-01-02 15:00,1\nAAPL,2024-01-02 18:30,2\n"
    text += "AAPL,2024-01-03 14:31,3\nAAPL,2024-01-03 14:31,\n"
    path = tmp_path / "minute.csv"
    path.write_text(text)
    seen: list[tuple[pd.Timestamp, float]] = []

    def initialize(context: Any) -> None:
        fetch_csv(path.as_uri())
        context.aapl = symbol("AAPL")

    def handle_data(context: Any, data: Any) -> None:
        seen.append((get_datetime(), data.current(context.aapl, "signal")))

    rustybt.run_algorithm(
        "2024-01-02",
        "2024-01-03",
        initialize,
        10_000,
        handle_data=handle_data,
        data_frequency="minute",
    )
    assert len(seen) == 2 * 390
    values = dict(seen)
    assert np.isnan(values[pd.Timestamp("2024-01-02 14:59", tz="UTC")])
    assert values[pd.Timestamp("2024-01-02 15:00", tz="UTC")] == 1.0
    assert values[pd.Timestamp("2024-01-02 18:29", tz="UTC")] == 1.0
    assert values[pd.Timestamp("2024-01-02 18:30", tz="UTC")] == 2.0
    # Two rows at one time: the last non-missing value.
    assert values[pd.Timestamp("2024-01-03 14:31", tz="UTC")] == 3.0
    assert sum(1 for _, v in seen if v == 2.0) == 151  # 18:30 .. 21:00 on day one


ZIPLINE_STYLE = """
from rustybt.api import fetch_csv, record, symbol

def rename_col(df):
    df = df.rename(columns={'New York 15:00': 'price'})
    return df[['price', 'sid']]

def initialize(context):
    fetch_csv(PALLADIUM, date_column='Date', symbol='palladium', post_func=rename_col,
              date_format='%Y-%m-%d')
    context.stock = symbol('AAPL')

def handle_data(context, data):
    record(palladium=data.current('palladium', 'price'))
    record(aapl=data.current(context.stock, 'price'))
    record(both=data.current(['palladium'], ['price']).iloc[0, 0])
"""


def test_a_zipline_style_script_reads_a_pure_signal_and_keeps_market_prices(
    demo: Path, tmp_path: Path
) -> None:
    path = tmp_path / "pall.csv"
    path.write_text("Date,London 08:00,New York 15:00\n2024-01-03,1000,1010\n2024-01-02,990,995\n")
    perf = rustybt.run_algorithm(
        "2024-01-02",
        "2024-01-04",
        capital_base=10_000,
        script=ZIPLINE_STYLE.replace("PALLADIUM", repr(str(path))),
    )
    assert perf["palladium"].tolist() == [995.0, 1010.0, 1010.0]
    assert perf["both"].tolist() == [995.0, 1010.0, 1010.0]
    # The asset's 'price' is still the market's, not the fetched column.
    assert perf["aapl"].gt(100).all()
    assert perf["aapl"].tolist() != perf["palladium"].tolist()


def _failure(demo: Path, tmp_path: Path, handle_data: Any) -> None:
    path = tmp_path / "s.csv"
    path.write_text(SIGNALS)

    def initialize(context: Any) -> None:
        fetch_csv(str(path))
        fetch_csv(str(path), symbol="signals")
        context.aapl = symbol("AAPL")

    rustybt.run_algorithm("2024-01-02", "2024-01-03", initialize, 10_000, handle_data=handle_data)


def test_reading_what_was_not_fetched_names_the_mistake(demo: Path, tmp_path: Path) -> None:
    with pytest.raises(UnknownFieldError, match=r"unknown field 'signl'; valid fields .*signal"):
        _failure(demo, tmp_path, lambda c, data: data.current(c.aapl, "signl"))
    with pytest.raises(ParameterValidationError, match="no fetched data named 'signal'"):
        _failure(demo, tmp_path, lambda c, data: data.current("signal", "signal"))
    # zipline serves fetched fields through current only; history reads market data.
    with pytest.raises(UnknownFieldError, match="'signal' is a fetch_csv field: read it with"):
        _failure(demo, tmp_path, lambda c, data: data.history(c.aapl, "signal", 2, "1d"))
    with pytest.raises(ParameterValidationError, match="assets must be an Asset"):
        _failure(demo, tmp_path, lambda c, data: data.can_trade("signals"))


def test_a_fetch_error_stops_the_run_naming_the_url_and_the_line(
    demo: Path, served: tuple[str, Path]
) -> None:
    base, _ = served

    def initialize(context: Any) -> None:
        fetch_csv(f"{base}/nothing.csv")

    with pytest.raises(DataAdapterError) as info:
        rustybt.run_algorithm("2024-01-02", "2024-01-03", initialize, 10_000)
    message = str(info.value)
    assert message.startswith(
        f"fetch_csv({base}/nothing.csv): the server answered HTTP 404 File not found (in "
        f"initialize at {__file__}:"
    )


def test_without_fetch_csv_the_bar_data_is_as_before(demo: Path) -> None:
    fetched: list[Any] = []

    def handle_data(context: Any, data: Any) -> None:
        fetched.append((data.fetched, data.fetcher_assets))
        data.current(symbol("AAPL"), "signal")

    with pytest.raises(UnknownFieldError, match="valid fields are close, high, last_traded"):
        rustybt.run_algorithm("2024-01-02", "2024-01-03", None, 10_000, handle_data=handle_data)
    assert fetched == [(None, [])]


def test_the_api_function_has_ziplines_signature() -> None:
    params = inspect.signature(fetch_csv).parameters
    assert list(params) == [
        "url",
        "pre_func",
        "post_func",
        "date_column",
        "date_format",
        "timezone",
        "symbol",
        "mask",
        "symbol_column",
        "special_params_checker",
        "country_code",
        "kwargs",
    ]
    assert params["date_column"].default == "date"
    assert params["mask"].default is True
    assert params["timezone"].default == "UTC"
