"""Fractional counts of units on whole-unit assets: refused, never silently rounded.

The probe of issue 16: crypto on a 24/7 csvdir bundle, where every asset is an
equity that trades whole units. ``order(BTC, 0.25)`` used to place nothing and
``order(BTC, 1.75)`` to buy 1, both with exit code 0.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from rustybt import run_algorithm
from rustybt.api import (
    batch_market_order,
    order,
    order_target,
    order_target_percent,
    order_target_value,
    order_value,
    record,
    symbol,
)
from rustybt.calendars import get_calendar
from rustybt.cli import main
from rustybt.data import bundles
from rustybt.exceptions import InvalidOrderError
from tests.integration.test_cli_bundles import write_csvdir

BUNDLE = "crypto-24-7-test"


@pytest.fixture(scope="module")
def crypto_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A RUSTYBT_ROOT holding a 24/7 csvdir bundle: BTC at 42,000, every day of January 2024,
    an equity of whole units (ingested once for the module)."""
    from rustybt.data.bundles.csvdir import csvdir_equities

    sessions = get_calendar("24/7", start="2024-01-01").sessions_in_range(
        "2024-01-01", "2024-01-31"
    )
    base = tmp_path_factory.mktemp("crypto")
    path = write_csvdir(base / "csvs", {"BTC": 42_000.0}, sessions)
    bundles.register(
        BUNDLE,
        csvdir_equities(["daily"], str(path)),
        calendar_name="24/7",
        start_session=sessions[0],
        end_session=sessions[-1],
    )
    root = base / "root"
    try:
        bundles.ingest(BUNDLE, {"RUSTYBT_ROOT": str(root)})
        yield root
    finally:
        bundles.unregister(BUNDLE)


@pytest.fixture
def crypto(crypto_root: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The bundle's name, with RUSTYBT_ROOT pointed at its ingestion for this test."""
    monkeypatch.setenv("RUSTYBT_ROOT", str(crypto_root))
    return BUNDLE


def _initialize(context: Any) -> None:
    context.btc = symbol("BTC")


def _run(bundle: str, handle_data: Callable[[Any, Any], None]) -> pd.DataFrame:
    return run_algorithm(
        "2024-01-02", "2024-01-05", _initialize, 1_000_000, handle_data=handle_data,
        bundle=bundle,
    )  # fmt: skip


#: The order calls a user gives a count of units to, with a count that is not whole.
FRACTIONAL_CALLS: dict[str, Callable[[Any], None]] = {
    "order(Equity(0 [BTC]), 1.75): Equity(0 [BTC]) trades in whole units; 1.75 is not a "
    "whole number of units (order 1 or 2)": lambda btc: order(btc, 1.75),
    "order(Equity(0 [BTC]), 0.25): Equity(0 [BTC]) trades in whole units; 0.25 is not a "
    "whole number of units (order 0 or 1)": lambda btc: order(btc, 0.25),
    "order(Equity(0 [BTC]), -1.75): Equity(0 [BTC]) trades in whole units; -1.75 is not a "
    "whole number of units (order -2 or -1)": lambda btc: order(btc, -1.75),
    "order_target(Equity(0 [BTC]), 2.5): Equity(0 [BTC]) trades in whole units; 2.5 is not a "
    "whole number of units (order_target 2 or 3)": lambda btc: order_target(btc, 2.5),
    "batch_market_order(Equity(0 [BTC]), 1.5): Equity(0 [BTC]) trades in whole units; 1.5 is "
    "not a whole number of units (batch_market_order 1 or 2)": lambda btc: batch_market_order(
        {btc: 1.5}
    ),
}


@pytest.mark.parametrize("expected", list(FRACTIONAL_CALLS))
def test_a_fraction_of_a_whole_unit_asset_is_refused_not_dropped(
    crypto: str, expected: str
) -> None:
    place = FRACTIONAL_CALLS[expected]

    def handle_data(context: Any, data: Any) -> None:
        place(context.btc)

    with pytest.raises(InvalidOrderError) as raised:
        _run(crypto, handle_data)
    assert str(raised.value).startswith(expected + " (in handle_data at ")
    assert raised.value.context["asset"] == "Equity(0 [BTC])"


def test_a_fraction_after_whole_orders_stops_the_run_at_that_order(crypto: str) -> None:
    days: list[pd.Timestamp] = []

    def handle_data(context: Any, data: Any) -> None:
        days.append(data.current_dt)
        order(context.btc, 1 if len(days) < 3 else 1.75)

    with pytest.raises(InvalidOrderError) as raised:
        _run(crypto, handle_data)
    assert len(days) == 3 and str(raised.value).endswith(f"simulation time {days[-1]})")


def test_whole_and_near_whole_counts_trade_as_given(crypto: str) -> None:
    def handle_data(context: Any, data: Any) -> None:
        day = len(context.recorded_vars) and context.recorded_vars["day"] + 1
        if day == 0:
            order(context.btc, 2)
        elif day == 1:
            order(context.btc, 0.99999)  # zipline's rule: within 1e-4 of 1 is 1
        elif day == 2:
            order_target(context.btc, 5.00004)
        record(day=day, held=context.portfolio.positions[context.btc].amount)

    perf = _run(crypto, handle_data)
    assert perf["held"].tolist() == [0, 2, 3, 5]


def test_sizing_from_a_value_or_a_fraction_rounds_toward_zero_without_error(crypto: str) -> None:
    def handle_data(context: Any, data: Any) -> None:
        day = len(context.recorded_vars) and context.recorded_vars["day"] + 1
        if day == 0:
            order_value(context.btc, 100_000)  # 2.38 coins at about 42,000: 2
        elif day == 1:
            order_target_percent(context.btc, 0.1)  # 2.38 coins, 2 held: 0.38, no order
        elif day == 2:
            order_target_value(context.btc, 10_000)  # 0.24 coins, 2 held: -1.76 sells 1
        record(day=day, held=context.portfolio.positions[context.btc].amount)

    perf = _run(crypto, handle_data)
    assert perf["held"].tolist() == [0, 2, 2, 1]


def test_rustybt_run_prints_the_refusal_as_one_line_and_fails(crypto: str) -> None:
    algo = textwrap.dedent(
        """
        from rustybt.api import order, symbol
        def initialize(context):
            context.btc = symbol("BTC")
        def handle_data(context, data):
            order(context.btc, 1.75)
        """
    )
    result = CliRunner().invoke(
        main,
        ["run", "-t", algo, "-b", crypto, "-s", "2024-01-02", "-e", "2024-01-05"],
        env=dict(os.environ),
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: order(Equity(0 [BTC]), 1.75): Equity(0 [BTC]) trades in whole units; 1.75 is "
        "not a whole number of units (order 1 or 2)"
    )
    assert result.stderr.count("\n") == 1
