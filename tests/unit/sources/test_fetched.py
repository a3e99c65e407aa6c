"""FetchedData: the latest row at or before now, never a later one; names, fields, replacement."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rustybt.assets import Asset, AssetDBWriter, AssetFinder
from rustybt.exceptions import ParameterValidationError, UnknownFieldError
from rustybt.sources.fetched import FetchedData

DAY_NS = 86_400 * 10**9
BASE = pd.Timestamp("2024-01-02", tz="UTC").value


def _rows(keys: list[object], days: list[int], values: list[float]) -> pd.DataFrame:
    index = pd.DatetimeIndex([BASE + d * DAY_NS for d in days], tz="UTC")
    return pd.DataFrame({"sid": keys, "x": values}, index=index)


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> list[Asset]:
    path = tmp_path_factory.mktemp("fetched") / "assets.sqlite"
    equities = pd.DataFrame(
        {
            "symbol": ["AAA", "BBB"],
            "start_date": pd.Timestamp("2020-01-02"),
            "end_date": pd.Timestamp("2024-12-31"),
            "exchange": "NYSE",
        },
        index=[1, 2],
    )
    AssetDBWriter(path).write(equities=equities)
    finder = AssetFinder(Path(path))
    return [finder.retrieve_asset(1), finder.retrieve_asset(2)]  # type: ignore[list-item]


def _expected(days: list[int], values: list[float], now: int) -> float:
    """The value a reader at ``now`` should see: brute force over the rows."""
    known = [(d, v) for d, v in zip(days, values, strict=True) if BASE + d * DAY_NS <= now]
    if not known:
        return math.nan
    latest = max(d for d, _ in known)
    same_time = [v for d, v in known if d == latest and not math.isnan(v)]
    return same_time[-1] if same_time else math.nan


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 20), st.one_of(st.floats(-1e6, 1e6), st.just(math.nan))),
        min_size=1,
        max_size=30,
    ),
    now_day=st.integers(-2, 25),
    now_offset=st.sampled_from([0, 1, DAY_NS // 2, DAY_NS - 1]),
)
def test_a_read_is_the_latest_row_at_or_before_now(
    rows: list[tuple[int, float]], now_day: int, now_offset: int
) -> None:
    days = [d for d, _ in rows]
    values = [v for _, v in rows]
    fetched = FetchedData()
    fetched.add(_rows(["vix"] * len(rows), days, values))
    now = BASE + now_day * DAY_NS + now_offset
    got = fetched.name_values(["vix"], "x", now)[0]
    want = _expected(days, values, now)
    assert (math.isnan(got) and math.isnan(want)) or got == want


def test_assets_read_their_own_rows_and_nan_without_any(assets: list[Asset]) -> None:
    aaa, bbb = assets
    fetched = FetchedData()
    fetched.add(_rows([aaa, bbb, aaa], [0, 1, 2], [1.0, 5.0, 2.0]))
    day = [BASE + d * DAY_NS for d in range(4)]
    first_day = fetched.asset_values([aaa, bbb], "x", day[0])
    assert first_day[0] == 1.0
    assert np.isnan(first_day[1])
    assert fetched.asset_values([aaa, bbb], "x", day[1]) == [1.0, 5.0]
    assert fetched.asset_values([aaa, bbb], "x", day[3]) == [2.0, 5.0]
    assert np.isnan(fetched.asset_values([aaa], "missing_field", day[3])[0])
    assert fetched.assets_as_of(day[0] - 1) == []
    assert fetched.assets_as_of(day[0]) == [aaa]
    assert fetched.assets_as_of(day[1]) == [aaa, bbb]
    assert fetched.fields == {"x"}
    assert fetched.names == frozenset()


def test_a_later_fetch_of_the_same_field_replaces_the_earlier(assets: list[Asset]) -> None:
    aaa, bbb = assets
    fetched = FetchedData()
    fetched.add(_rows([aaa, bbb], [0, 0], [1.0, 2.0]))
    fetched.add(_rows([aaa], [1], [9.0]))
    later = BASE + 2 * DAY_NS
    # AAA's series is the second CSV's (nothing before day 1); BBB keeps its own.
    assert np.isnan(fetched.asset_values([aaa], "x", BASE)[0])
    assert fetched.asset_values([aaa, bbb], "x", later) == [9.0, 2.0]


def test_text_columns_keep_their_values() -> None:
    fetched = FetchedData()
    rows = pd.DataFrame(
        {"sid": ["macro", "macro"], "regime": ["calm", "storm"]},
        index=pd.DatetimeIndex(["2024-01-02", "2024-01-05"], tz="UTC"),
    )
    fetched.add(rows)
    at = pd.Timestamp("2024-01-04", tz="UTC").value
    assert fetched.name_values(["macro"], "regime", at) == ["calm"]


def test_unknown_names_and_fields_of_a_name_are_errors() -> None:
    fetched = FetchedData()
    fetched.add(_rows(["vix"], [0], [1.0]))
    fetched.add(
        pd.DataFrame(
            {"sid": ["urban"], "cpi": [300.0]}, index=pd.DatetimeIndex(["2024-01-02"], tz="UTC")
        )
    )
    assert fetched.names == {"vix", "urban"}
    with pytest.raises(ParameterValidationError) as info:
        fetched.check_names(["vxx"])
    assert str(info.value) == (
        "no fetched data named 'vxx': the fetch_csv names are 'urban', 'vix'; "
        "look assets up with symbol() or sid()"
    )
    with pytest.raises(UnknownFieldError) as field_info:
        fetched.name_values(["urban"], "x", BASE)
    assert str(field_info.value) == (
        "current() got field 'x' for fetched data 'urban', which has fields cpi"
    )


def test_a_list_mixing_names_and_assets_is_refused(assets: list[Asset]) -> None:
    fetched = FetchedData()
    fetched.add(_rows(["vix"], [0], [1.0]))
    with pytest.raises(ParameterValidationError, match="ask for each kind in its own call"):
        fetched.check_names(["vix", assets[0]])


def test_many_assets_each_keep_their_own_series(assets: list[Asset]) -> None:
    aaa, bbb = assets
    days = list(range(10)) * 2
    keys: list[object] = [aaa] * 10 + [bbb] * 10
    fetched = FetchedData()
    fetched.add(_rows(keys, days, [float(d) for d in range(10)] + [100.0 + d for d in range(10)]))
    for d in range(10):
        now = BASE + d * DAY_NS
        assert fetched.asset_values([aaa, bbb], "x", now) == [float(d), 100.0 + d]
