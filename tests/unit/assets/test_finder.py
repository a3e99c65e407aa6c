"""AssetDBWriter + AssetFinder on a real SQLite file."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest

from rustybt.assets import AssetDBWriter, AssetFinder, Equity
from rustybt.exceptions import (
    AssetValidationError,
    DataNotFoundError,
    MultipleSymbolsFoundError,
    SidNotFoundError,
    SymbolNotFoundError,
)


@pytest.fixture
def finder(tmp_path: Path) -> AssetFinder:
    path = tmp_path / "assets.sqlite"
    equities = pd.DataFrame(
        {
            "symbol": ["AAPL", "MSFT", "FB", "META", "brk.a"],
            "asset_name": ["Apple", "Microsoft", "Facebook", "Meta", "Berkshire"],
            "start_date": pd.to_datetime(
                ["2014-01-02", "2014-01-02", "2014-01-02", "2022-06-09", "2014-01-02"]
            ),
            "end_date": pd.to_datetime(
                ["2024-12-31", "2024-12-31", "2022-06-08", "2024-12-31", "2020-01-02"]
            ),
            "exchange": ["NASDAQ", "NASDAQ", "NASDAQ", "NASDAQ", "NYSE"],
        },
        index=[0, 1, 2, 2, 3],
    )
    exchanges = pd.DataFrame(
        {"exchange": ["NASDAQ", "NYSE"], "canonical_name": ["XNYS", "XNYS"], "country_code": "US"}
    )
    AssetDBWriter(path).write(equities=equities, exchanges=exchanges)
    return AssetFinder(path)


def test_retrieve_by_sid(finder: AssetFinder) -> None:
    aapl, msft = finder.retrieve_all([0, 1])
    assert isinstance(aapl, Equity)
    assert (aapl.symbol, msft.symbol) == ("AAPL", "MSFT")
    assert aapl.asset_name == "Apple"
    assert aapl.exchange == "NASDAQ"
    assert aapl.exchange_full == "XNYS"
    assert aapl.country_code == "US"
    assert aapl.start_date == pd.Timestamp("2014-01-02")
    assert aapl.end_date == pd.Timestamp("2024-12-31")
    # zipline's default: positions close the day after the last bar.
    assert aapl.auto_close_date == pd.Timestamp("2025-01-01")
    assert finder.sids == [0, 1, 2, 3]


def test_assets_compare_and_hash_by_sid(finder: AssetFinder) -> None:
    aapl = finder.retrieve_asset(0)
    assert aapl == 0 and hash(aapl) == 0
    assert {aapl: 1}[finder.retrieve_asset(0)] == 1
    assert sorted(finder.retrieve_all([3, 1, 0])) == finder.retrieve_all([0, 1, 3])
    clone = pickle.loads(pickle.dumps(aapl))
    assert clone == aapl and clone.symbol == "AAPL" and clone.end_date == aapl.end_date
    assert repr(aapl) == "Equity(0 [AAPL])"


def test_unknown_sid(finder: AssetFinder) -> None:
    with pytest.raises(SidNotFoundError, match="sid 99"):
        finder.retrieve_asset(99)
    assert finder.retrieve_asset(99, default_none=True) is None


def test_lookup_symbol_case_insensitive_and_fuzzy(finder: AssetFinder) -> None:
    assert finder.lookup_symbol("aapl").sid == 0
    assert finder.lookup_symbol("BRK.A").sid == 3
    assert finder.lookup_symbol("BRK_A", fuzzy=True).sid == 3
    assert [a.sid for a in finder.lookup_symbols(["MSFT", "AAPL"])] == [1, 0]


def test_symbol_history_as_of_date(finder: AssetFinder) -> None:
    assert finder.lookup_symbol("FB", as_of_date="2020-01-02").sid == 2
    assert finder.lookup_symbol("META", as_of_date="2023-01-03").sid == 2
    # The asset carries its latest symbol.
    assert finder.retrieve_asset(2).symbol == "META"
    with pytest.raises(SymbolNotFoundError, match="not held by any asset on 2020-01-02"):
        finder.lookup_symbol("META", as_of_date="2020-01-02")


def test_unknown_symbol_lists_close_matches(finder: AssetFinder) -> None:
    with pytest.raises(SymbolNotFoundError, match="close matches: AAPL") as info:
        finder.lookup_symbol("APPL")
    assert "AAPL" in info.value.context["close_matches"]
    assert isinstance(info.value, AssetValidationError)


def test_symbol_reused_by_two_assets_needs_a_date(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    AssetDBWriter(path).write(
        equities=pd.DataFrame(
            {
                "symbol": ["XYZ", "XYZ"],
                "start_date": pd.to_datetime(["2010-01-04", "2016-01-04"]),
                "end_date": pd.to_datetime(["2014-12-31", "2020-12-31"]),
                "exchange": "NYSE",
            },
            index=[5, 6],
        )
    )
    finder = AssetFinder(path)
    with pytest.raises(MultipleSymbolsFoundError, match="several assets"):
        finder.lookup_symbol("XYZ")
    assert finder.lookup_symbol("XYZ", as_of_date="2012-06-01").sid == 5
    assert finder.lookup_symbol("XYZ", as_of_date="2018-06-01").sid == 6
    # Between owners, the latest earlier holder answers (zipline's rule).
    assert finder.lookup_symbol("XYZ", as_of_date="2015-06-01").sid == 5


def test_alive_for_session(finder: AssetFinder) -> None:
    brk = finder.retrieve_asset(3)
    assert brk is not None
    assert brk.is_alive_for_session(pd.Timestamp("2015-01-02"))
    assert not brk.is_alive_for_session(pd.Timestamp("2021-01-04"))
    assert not brk.is_alive_for_session(pd.Timestamp("2013-12-31"))


def test_missing_db_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="does not exist"):
        AssetFinder(tmp_path / "nope.sqlite")


def test_bad_equities_frame(tmp_path: Path) -> None:
    with pytest.raises(AssetValidationError, match="symbol"):
        AssetDBWriter(tmp_path / "x.sqlite").write(equities=pd.DataFrame({"name": ["x"]}))
