"""BarData (``data`` in handle_data) against the ``_bundle_kit`` bundle.

See ``_bundle_kit`` for the bundle: AAA splits 2:1 on session 8, BBB misses
session 5 and goes ex-dividend (ratio 0.98) on session 10, CCC lives on
sessions 4..12 (auto-close 13), DDD never trades; minute bars on 7..10.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rustybt.assets import Asset
from rustybt.data.bar_data import BarData
from rustybt.data.portal import DataPortal
from rustybt.exceptions import ParameterValidationError, UnknownFieldError
from tests.unit.data._bundle_kit import Bundle, write_bundle


class Clock:
    """A settable simulation time."""

    def __init__(self, dt: pd.Timestamp) -> None:
        self.dt = dt

    def __call__(self) -> pd.Timestamp:
        return self.dt


class Restricted:
    """Restricts one sid, always."""

    def __init__(self, sid: int) -> None:
        self.sid = sid

    def is_restricted(self, asset: Asset, dt: pd.Timestamp) -> bool:
        return asset.sid == self.sid


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    written = write_bundle(tmp_path_factory.mktemp("bundle"))
    yield written
    written.close()


@pytest.fixture(scope="module")
def portal(bundle: Bundle) -> DataPortal:
    return bundle.portal()


def daily_data(
    bundle: Bundle, portal: DataPortal, session: int, restrictions: Any = None
) -> BarData:
    """Daily-mode BarData at the close of ``session`` (zipline's handle_data time)."""
    close = bundle.minutes(session)[-1]
    return BarData(portal, Clock(close), "daily", bundle.calendar, restrictions)


def minute_data(bundle: Bundle, portal: DataPortal, session: int, minute: int) -> BarData:
    clock = Clock(bundle.minutes(session)[minute])
    return BarData(portal, clock, "minute", bundle.calendar)


# --- current ---------------------------------------------------------------------


def test_current_shapes(bundle: Bundle, portal: DataPortal) -> None:
    data = daily_data(bundle, portal, 5)
    aaa, bbb, ccc, ddd = bundle.assets()
    assert data.current(aaa, "price") == 105.0
    assert isinstance(data.current(aaa, "price"), float)
    assert data.current(bbb, "last_traded") == bundle.sessions[4]
    assert data.current(ddd, "last_traded") is pd.NaT

    by_field = data.current(bbb, ["price", "close", "volume"])
    assert isinstance(by_field, pd.Series)
    assert list(by_field.index) == ["price", "close", "volume"]
    assert by_field.name == "BBB"
    assert by_field["price"] == 45.0 and np.isnan(by_field["close"]) and by_field["volume"] == 0

    by_asset = data.current([ccc, aaa, ddd], "price")
    assert isinstance(by_asset, pd.Series)
    assert list(by_asset.index) == [ccc, aaa, ddd]
    assert by_asset.name == "price"
    np.testing.assert_array_equal(by_asset.to_numpy(), [25.0, 105.0, np.nan])

    frame = data.current([aaa, bbb], ["open", "high", "low", "close", "volume", "last_traded"])
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == [aaa, bbb]
    assert list(frame.columns) == ["open", "high", "low", "close", "volume", "last_traded"]
    first, second = frame.iloc[0], frame.iloc[1]
    assert first["open"] == 104.5 and first["high"] == 106.0
    assert first["low"] == 104.0 and first["volume"] == 3900.0
    assert np.isnan(second["open"])
    assert second["last_traded"] == bundle.sessions[4]


def test_current_after_split_and_around_life_span(bundle: Bundle, portal: DataPortal) -> None:
    aaa, _, ccc, _ = bundle.assets()
    assert daily_data(bundle, portal, 8).current(aaa, "close") == 58.0
    assert daily_data(bundle, portal, 8).current(aaa, "volume") == 7800.0
    assert np.isnan(daily_data(bundle, portal, 3).current(ccc, "price"))
    assert daily_data(bundle, portal, 3).current(ccc, "volume") == 0.0
    assert np.isnan(daily_data(bundle, portal, 13).current(ccc, "price"))


def test_current_in_minute_mode(bundle: Bundle, portal: DataPortal) -> None:
    aaa, bbb, _, _ = bundle.assets()
    data = minute_data(bundle, portal, 9, 10)
    assert data.current(aaa, "close") == pytest.approx(59.0 - 0.001 * 379)
    assert data.current(aaa, "volume") == 20.0
    assert data.current(bbb, "price") == pytest.approx(49.0)
    assert np.isnan(data.current(bbb, "close"))
    assert data.current(bbb, "last_traded") == bundle.minutes(8)[-1]
    assert data.current(aaa, "last_traded") == bundle.minutes(9)[10]


# --- history ---------------------------------------------------------------------


def test_history_shapes(bundle: Bundle, portal: DataPortal) -> None:
    data = daily_data(bundle, portal, 10)
    aaa, bbb, ccc, _ = bundle.assets()
    days = pd.DatetimeIndex(bundle.sessions[8:11])

    series = data.history(aaa, "price", 3, "1d")
    assert isinstance(series, pd.Series)
    assert series.index.equals(days) and series.name == aaa
    np.testing.assert_array_equal(series.to_numpy(), [58.0, 59.0, 60.0])

    by_field = data.history(bbb, ["close", "volume"], 3, "1d")
    assert isinstance(by_field, pd.DataFrame)
    assert by_field.index.equals(days) and list(by_field.columns) == ["close", "volume"]
    np.testing.assert_allclose(by_field["close"], [49 * 0.98, 50 * 0.98, 51.0])
    np.testing.assert_array_equal(by_field["volume"], [1950.0, 1800.0, 1950.0])

    by_asset = data.history([bbb, aaa], "close", 3, "1d")
    assert isinstance(by_asset, pd.DataFrame)
    assert by_asset.index.equals(days) and list(by_asset.columns) == [bbb, aaa]

    stacked = data.history([ccc, aaa], ["close", "volume"], 2, "1d")
    assert isinstance(stacked.index, pd.MultiIndex)
    assert list(stacked.index.names) == ["date", "asset"]
    assert list(stacked.columns) == ["close", "volume"]
    assert stacked.columns.name == "fields"
    assert list(stacked.index) == [
        (bundle.sessions[9], aaa),
        (bundle.sessions[9], ccc),
        (bundle.sessions[10], aaa),
        (bundle.sessions[10], ccc),
    ]
    np.testing.assert_array_equal(stacked["close"], [59.0, 29.0, 60.0, 30.0])
    np.testing.assert_array_equal(stacked["volume"], [7800.0, 780.0, 7800.0, 780.0])


def test_minute_history_shapes(bundle: Bundle, portal: DataPortal) -> None:
    data = minute_data(bundle, portal, 8, 1)
    aaa, bbb, _, _ = bundle.assets()
    minutes = bundle.minutes(7)[-2:].append(bundle.minutes(8)[:2])
    frame = data.history([aaa, bbb], "price", 4, "1m")
    assert isinstance(frame, pd.DataFrame) and frame.index.equals(minutes)
    np.testing.assert_allclose(frame.iloc[:, 0], [106.999 * 0.5, 53.5, 57.611, 57.612])
    stacked = data.history([aaa, bbb], ["price", "volume"], 2, "1m")
    assert list(stacked.index.names) == ["date_time", "asset"]
    assert len(stacked) == 4
    daily = data.history(aaa, ["close", "volume"], 2, "1d")
    assert daily.index.equals(pd.DatetimeIndex(bundle.sessions[7:9]))
    np.testing.assert_allclose(daily["close"], [53.5, 57.612])
    np.testing.assert_array_equal(daily["volume"], [7800.0, 40.0])


# --- can_trade / is_stale ------------------------------------------------------------


def test_can_trade(bundle: Bundle, portal: DataPortal) -> None:
    aaa, bbb, ccc, ddd = bundle.assets()
    assert daily_data(bundle, portal, 5).can_trade(aaa) is True
    # BBB has no bar on session 5 but a forward-filled price: tradable.
    assert daily_data(bundle, portal, 5).can_trade(bbb) is True
    assert daily_data(bundle, portal, 3).can_trade(ccc) is False
    assert daily_data(bundle, portal, 12).can_trade(ccc) is True
    assert daily_data(bundle, portal, 13).can_trade(ccc) is False
    assert daily_data(bundle, portal, 5).can_trade(ddd) is False
    series = daily_data(bundle, portal, 13).can_trade([ccc, aaa, ddd])
    assert isinstance(series, pd.Series) and series.dtype == bool
    assert list(series.index) == [ccc, aaa, ddd]
    assert series.tolist() == [False, True, False]
    restricted = daily_data(bundle, portal, 5, Restricted(1))
    assert restricted.can_trade([aaa, bbb]).tolist() == [False, True]
    assert minute_data(bundle, portal, 9, 10).can_trade([aaa, bbb]).tolist() == [True, True]


def test_is_stale(bundle: Bundle, portal: DataPortal) -> None:
    aaa, bbb, ccc, ddd = bundle.assets()
    data = daily_data(bundle, portal, 5)
    assert data.is_stale(bbb) is True
    assert data.is_stale(aaa) is False
    assert data.is_stale(ddd) is False  # never traded
    assert daily_data(bundle, portal, 3).is_stale(ccc) is False  # not alive yet
    series = data.is_stale([aaa, bbb, ddd])
    assert series.tolist() == [False, True, False] and series.dtype == bool
    assert minute_data(bundle, portal, 9, 10).is_stale([aaa, bbb]).tolist() == [False, True]
    assert minute_data(bundle, portal, 9, 30).is_stale(bbb) is False


# --- time properties and validation --------------------------------------------------


def test_time_properties(bundle: Bundle, portal: DataPortal) -> None:
    data = minute_data(bundle, portal, 9, 10)
    assert data.current_dt == bundle.minutes(9)[10]
    assert data.current_session == bundle.sessions[9]
    assert data.current_session_minutes.equals(bundle.minutes(9))
    morning = BarData(
        portal, Clock(pd.Timestamp("2024-01-12 13:45", tz="UTC")), "daily", bundle.calendar
    )
    assert morning.current_session == bundle.sessions[8]
    # Before the open of the split day: yesterday's bar, seen after the split.
    assert morning.current(bundle.asset(1), "price") == pytest.approx(53.5)
    labelled = BarData(portal, Clock(bundle.sessions[4]), "daily", bundle.calendar)
    assert labelled.current_session == bundle.sessions[4]
    assert labelled.current(bundle.asset(1), "close") == 104.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda d, a: d.current("AAA", "price"), ParameterValidationError, "assets"),
        (lambda d, a: d.current([a, 2], "price"), ParameterValidationError, r"assets\[1\]"),
        (lambda d, a: d.current(a, "vwap"), UnknownFieldError, "vwap"),
        (lambda d, a: d.current(a, ["price", 3]), UnknownFieldError, "3"),
        (lambda d, a: d.history(a, "last_traded", 2, "1d"), UnknownFieldError, "last_traded"),
        (lambda d, a: d.history(a, "price", 0, "1d"), ParameterValidationError, "bar_count"),
        (lambda d, a: d.history(a, "price", 2.5, "1d"), ParameterValidationError, "bar_count"),
        (lambda d, a: d.history(a, "price", 2, "5m"), ParameterValidationError, "frequency"),
        (lambda d, a: d.history(a, "price", 2, "1m"), ParameterValidationError, "'1m'"),
        (lambda d, a: d.can_trade(None), ParameterValidationError, "assets"),
    ],
)
def test_bad_arguments_are_named(
    bundle: Bundle, portal: DataPortal, call: Any, error: type[Exception], match: str
) -> None:
    data = daily_data(bundle, portal, 5)
    with pytest.raises(error, match=match):
        call(data, bundle.asset(1))


def test_unknown_field_is_a_key_error(bundle: Bundle, portal: DataPortal) -> None:
    with pytest.raises(KeyError):
        daily_data(bundle, portal, 5).current(bundle.asset(1), "vwap")


# --- properties ----------------------------------------------------------------


def _ratio_product(bundle: Bundle, sid: int, row: int, now: int) -> float:
    """Product of the ratios of ``sid``'s adjustments effective in (row, now], by hand."""
    s = bundle.sessions
    ratio = 1.0
    if sid == 1 and row < 8 <= now:
        ratio *= 0.5
    if sid == 2 and row < 10 <= now:
        ratio *= 1.0 - 1.0 / 50.0
    assert s[8] == pd.Timestamp("2024-01-12") and s[10] == pd.Timestamp("2024-01-17")
    return ratio


@settings(max_examples=60, deadline=None)
@given(session=st.integers(0, 14), sid=st.integers(1, 4), count=st.integers(1, 15))
def test_daily_history_ends_with_current_and_never_looks_ahead(
    bundle: Bundle, portal: DataPortal, session: int, sid: int, count: int
) -> None:
    count = min(count, session + 1)
    data = daily_data(bundle, portal, session)
    asset = bundle.asset(sid)
    price = data.history(asset, "price", count, "1d")
    np.testing.assert_array_equal(price.iloc[-1], data.current(asset, "price"))
    # Each adjusted close is the raw close times exactly the adjustments
    # effective after its session and no later than the current one.
    close = data.history(asset, "close", count, "1d")
    raw = (
        bundle.daily_reader.panel("close")[:, bundle.daily_reader.sid_to_col[sid]]
        if sid != 4
        else None
    )
    for offset, label in enumerate(close.index):
        row = session - count + 1 + offset
        assert label == bundle.sessions[row]
        expected = np.nan if raw is None else raw[row] * _ratio_product(bundle, sid, row, session)
        np.testing.assert_allclose(close.iloc[offset], expected, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    session=st.integers(7, 10),
    minute=st.integers(0, 389),
    sid=st.integers(1, 4),
    count=st.integers(1, 400),
    frequency=st.sampled_from(["1m", "1d"]),
)
def test_minute_history_ends_with_current(
    bundle: Bundle,
    portal: DataPortal,
    session: int,
    minute: int,
    sid: int,
    count: int,
    frequency: str,
) -> None:
    available = (session - 7) * 390 + minute + 1 if frequency == "1m" else session + 1
    count = min(count, available)
    data = minute_data(bundle, portal, session, minute)
    asset = bundle.asset(sid)
    window = data.history(asset, "price", count, frequency)
    assert len(window) == count
    np.testing.assert_allclose(window.iloc[-1], data.current(asset, "price"), rtol=1e-12)


def test_spot_is_the_bars_row_at_the_assets_column(bundle: Bundle, portal: DataPortal) -> None:
    """BarData.spot reads the portal's row of the current bar; a new bar reads a new row."""
    assets = bundle.assets()
    clock = Clock(bundle.minutes(8)[0])
    data = BarData(portal, clock, "minute", bundle.calendar)
    fields = ("price", "close", "volume")
    checked = priced = 0
    last_rows: dict[str, list[float]] = {}
    for minute in bundle.minutes(8)[:40]:
        clock.dt = minute
        row, perspective = portal.resolve(minute, "minute")
        for field in fields:
            values = data.spot_row(field)
            assert values is not last_rows.get(field)  # the clock moved: this bar's row
            assert values == portal.spot_row(field, row, "minute", perspective)
            last_rows[field] = values
            for asset in assets:
                cols = portal.asset_columns([asset])
                expected = float(portal.current_array(cols, field, row, "minute", perspective)[0])
                got = data.spot(asset, field)
                assert got is values[portal.column(asset)]  # the same float object
                assert got == expected or (np.isnan(got) and np.isnan(expected)), (minute, field)
                checked += 1
                priced += bool(got > 0)
    assert checked == 40 * len(fields) * len(assets) and priced > checked // 2
