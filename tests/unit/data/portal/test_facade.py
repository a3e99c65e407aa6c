"""DataPortal against a hand-built bundle written with the real writers.

The bundle is described in ``_bundle_kit``: AAA (sid 1) splits 2:1 on
session 8, BBB (sid 2) misses session 5 and pays a 1.00 dividend with
ex_date session 10 on a 50.00 prior close (ratio 0.98), CCC (sid 3) lives on
sessions 4..12 only, DDD (sid 4) never trades. Minute bars cover sessions
7..10. Expected numbers below are worked out by hand from those rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rustybt.assets import Asset
from rustybt.calendars import get_calendar
from rustybt.data.portal import DataPortal
from rustybt.exceptions import (
    DataError,
    DataNotFoundError,
    HistoryWindowStartsBeforeData,
    ParameterValidationError,
    UnknownFieldError,
)
from tests.unit.data._bundle_kit import AssetSpec, Bundle, BundleSpec, daily_frame, write_bundle

IDX = np.arange(15, dtype=np.float64)
AAA_CLOSE = np.where(IDX < 8, 100 + IDX, 50 + IDX)
BBB_CLOSE = 41 + IDX
CCC_CLOSE = 20 + IDX


def minute_close(daily_close: float, j: int) -> float:
    """The close of minute ``j`` of a session whose daily close is ``daily_close``."""
    return daily_close - 0.001 * (389 - j)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    written = write_bundle(tmp_path_factory.mktemp("bundle"))
    yield written
    written.close()


@pytest.fixture(scope="module")
def portal(bundle: Bundle) -> DataPortal:
    return bundle.portal()


@pytest.fixture(scope="module")
def assets(bundle: Bundle) -> list[Asset]:
    return bundle.assets()


def history(
    portal: DataPortal,
    asset: Asset,
    end: pd.Timestamp,
    count: int,
    field: str,
    frequency: str = "1d",
    data_frequency: str = "daily",
) -> np.ndarray:
    frame = portal.get_history_window([asset], end, count, frequency, field, data_frequency)
    return frame[asset].to_numpy()


# --- daily history: adjustments ------------------------------------------------


def test_history_before_split_is_unadjusted(portal: DataPortal, bundle: Bundle) -> None:
    aaa, s = bundle.asset(1), bundle.sessions
    np.testing.assert_array_equal(history(portal, aaa, s[7], 8, "close"), 100 + IDX[:8])
    np.testing.assert_array_equal(history(portal, aaa, s[7], 8, "volume"), np.full(8, 3900.0))


@pytest.mark.parametrize("end", [8, 9, 14])
def test_history_on_and_after_split_halves_earlier_prices(
    portal: DataPortal, bundle: Bundle, end: int
) -> None:
    aaa, s = bundle.asset(1), bundle.sessions
    count = end + 1
    expected_close = np.concatenate([(100 + IDX[:8]) * 0.5, 50 + IDX[8:count]])
    np.testing.assert_allclose(history(portal, aaa, s[end], count, "close"), expected_close)
    np.testing.assert_allclose(history(portal, aaa, s[end], count, "price"), expected_close)
    np.testing.assert_allclose(
        history(portal, aaa, s[end], count, "open"),
        expected_close - np.where(IDX[:count] < 8, 0.25, 0.5),
    )
    # Volume goes the other way: 3900 shares before a 2:1 split are 7800 after it.
    np.testing.assert_array_equal(
        history(portal, aaa, s[end], count, "volume"), np.full(count, 7800.0)
    )


def test_dividend_applies_from_ex_date_only(portal: DataPortal, bundle: Bundle) -> None:
    bbb, s = bundle.asset(2), bundle.sessions
    before = history(portal, bbb, s[9], 10, "close")
    expected = BBB_CLOSE[:10].copy()
    expected[5] = np.nan
    np.testing.assert_array_equal(before, expected)
    on = history(portal, bbb, s[10], 11, "close")
    expected_on = np.concatenate([BBB_CLOSE[:10] * 0.98, [51.0]])
    expected_on[5] = np.nan
    np.testing.assert_allclose(on, expected_on)
    # The prior close really was 50: 1 - 1/50.
    assert on[9] == pytest.approx(50.0 * 0.98)
    # Dividends never touch volume (session 9 rolls up 360 minutes of 5 shares).
    expected_volume = np.full(11, 1950.0)
    expected_volume[5], expected_volume[9] = 0.0, 1800.0
    np.testing.assert_array_equal(history(portal, bbb, s[10], 11, "volume"), expected_volume)


def test_price_forward_fills_missing_session(portal: DataPortal, bundle: Bundle) -> None:
    bbb, s = bundle.asset(2), bundle.sessions
    np.testing.assert_array_equal(history(portal, bbb, s[6], 3, "price"), [45.0, 45.0, 47.0])
    # Seen from the ex-date, the carried 45 is adjusted like the session it came from.
    np.testing.assert_allclose(
        history(portal, bbb, s[10], 7, "price"),
        [45 * 0.98, 45 * 0.98, 47 * 0.98, 48 * 0.98, 49 * 0.98, 50 * 0.98, 51.0],
    )
    for field in ("open", "high", "low", "close"):
        assert np.isnan(history(portal, bbb, s[6], 3, field)[1])
    assert history(portal, bbb, s[6], 3, "volume")[1] == 0.0


def test_ffilled_price_across_split_takes_the_earlier_sessions_factor(tmp_path: Path) -> None:
    # One asset with no bar on its split day (session 2): the price carried
    # into the split session comes from session 1, so it must be halved. A
    # 1.10 dividend goes ex on session 3; its prior close is session 1's 11.00
    # (the last bar before it), so its ratio is 1 - 1.1/11 = 0.9.
    sessions = pd.DatetimeIndex(get_calendar("XNYS").sessions_in_range("2024-01-02", "2024-01-05"))
    frame = daily_frame(sessions, np.array([10.0, 11.0, 0.0, 6.0]), np.full(4, 100.0))
    frame = frame.drop(sessions[2])
    spec = BundleSpec(
        "XNYS",
        sessions,
        [AssetSpec(1, "SPL", 0, 3)],
        {1: frame},
        splits=pd.DataFrame({"sid": [1], "ratio": [0.5], "effective_date": [sessions[2]]}),
        dividends=pd.DataFrame(
            {
                "sid": [1],
                "amount": [1.1],
                "ex_date": [sessions[3]],
                "record_date": [sessions[3]],
                "declared_date": [sessions[0]],
                "pay_date": [sessions[3]],
            }
        ),
    )
    small = write_bundle(tmp_path / "split", spec)
    portal, spl = small.portal(), small.asset(1)
    np.testing.assert_allclose(history(portal, spl, sessions[1], 2, "price"), [10.0, 11.0])
    np.testing.assert_allclose(history(portal, spl, sessions[2], 3, "price"), [5.0, 5.5, 5.5])
    assert portal.get_spot_value(spl, "price", sessions[2], "daily") == pytest.approx(5.5)
    assert np.isnan(portal.get_spot_value(spl, "close", sessions[2], "daily"))
    # Both adjustments compound for rows before both: 0.5 * 0.9 = 0.45.
    np.testing.assert_allclose(
        history(portal, spl, sessions[3], 4, "price"), [4.5, 4.95, 4.95, 6.0], rtol=1e-12
    )
    np.testing.assert_allclose(
        history(portal, spl, sessions[3], 4, "volume"), [200.0, 200.0, 0.0, 100.0]
    )
    small.close()


# --- daily history: life spans, missing assets, window bounds ------------------------


def test_late_starting_asset_has_empty_rows_before_start(
    portal: DataPortal, bundle: Bundle
) -> None:
    ccc, s = bundle.asset(3), bundle.sessions
    price = history(portal, ccc, s[6], 7, "price")
    np.testing.assert_array_equal(price, [np.nan] * 4 + [24.0, 25.0, 26.0])
    np.testing.assert_array_equal(history(portal, ccc, s[6], 7, "volume"), [0.0] * 4 + [780.0] * 3)


def test_price_is_nan_after_end_date(portal: DataPortal, bundle: Bundle) -> None:
    ccc, s = bundle.asset(3), bundle.sessions
    np.testing.assert_array_equal(
        history(portal, ccc, s[14], 4, "price"), [31.0, 32.0, np.nan, np.nan]
    )
    assert np.isnan(portal.get_spot_value(ccc, "price", s[13], "daily"))
    assert portal.get_spot_value(ccc, "volume", s[13], "daily") == 0.0
    assert np.isnan(portal.get_spot_value(ccc, "price", s[2], "daily"))


def test_never_traded_asset(portal: DataPortal, bundle: Bundle) -> None:
    ddd, s = bundle.asset(4), bundle.sessions
    assert np.isnan(history(portal, ddd, s[14], 15, "price")).all()
    assert (history(portal, ddd, s[14], 15, "volume") == 0).all()
    assert portal.get_spot_value(ddd, "last_traded", s[14], "daily") is pd.NaT


def test_window_reaching_before_first_trading_day_raises(bundle: Bundle) -> None:
    s, aaa = bundle.sessions, bundle.asset(1)
    portal = bundle.portal()
    assert history(portal, aaa, s[4], 5, "close")[0] == 100.0
    with pytest.raises(HistoryWindowStartsBeforeData, match="2024-01-02"):
        portal.get_history_window([aaa], s[4], 6, "1d", "close", "daily")
    later = bundle.portal(first_trading_day=s[3])
    with pytest.raises(HistoryWindowStartsBeforeData) as info:
        later.get_history_window([aaa], s[4], 3, "1d", "close", "daily")
    assert isinstance(info.value, DataError)
    assert info.value.context["first_trading_day"] == "2024-01-05"


def test_history_index_and_columns(portal: DataPortal, bundle: Bundle, assets: list[Asset]) -> None:
    s = bundle.sessions
    frame = portal.get_history_window(assets, s[9], 3, "1d", "price", "daily")
    assert frame.shape == (3, 4)
    assert list(frame.columns) == assets
    assert frame.index.equals(pd.DatetimeIndex(s[7:10]))
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.tz is None
    minutes = bundle.minutes(8)
    minute_frame = portal.get_history_window(assets, minutes[4], 5, "1m", "close", "minute")
    assert minute_frame.index.equals(minutes[:5])
    assert isinstance(minute_frame.index, pd.DatetimeIndex)
    assert str(minute_frame.index.tz) == "UTC"


# --- spot values ---------------------------------------------------------------


def test_spot_values_scalar_and_list(
    portal: DataPortal, bundle: Bundle, assets: list[Asset]
) -> None:
    s = bundle.sessions
    aaa = assets[0]
    assert portal.get_spot_value(aaa, "close", s[3], "daily") == 103.0
    assert isinstance(portal.get_spot_value(aaa, "close", s[3], "daily"), float)
    values = portal.get_spot_value(assets, "price", s[5], "daily")
    assert isinstance(values, list)
    np.testing.assert_array_equal(values, [105.0, 45.0, 25.0, np.nan])
    assert portal.get_spot_value(assets, "volume", s[5], "daily") == [3900.0, 0.0, 780.0, 0.0]
    ohlc = [portal.get_spot_value(assets[1], f, s[5], "daily") for f in ("open", "high", "low")]
    assert np.isnan(ohlc).all()


def test_last_traded(portal: DataPortal, bundle: Bundle, assets: list[Asset]) -> None:
    s = bundle.sessions
    traded = portal.get_spot_value(assets, "last_traded", s[5], "daily")
    assert traded[:3] == [s[5], s[4], s[5]]
    assert traded[3] is pd.NaT
    assert portal.get_last_traded_dt(assets[1], s[5], "daily") == s[4]
    minute = bundle.minutes(9)
    assert portal.get_last_traded_dt(assets[1], minute[10], "minute") == bundle.minutes(8)[-1]
    assert portal.get_last_traded_dt(assets[1], minute[30], "minute") == minute[30]


def test_session_close_minute_and_label_agree_in_daily_mode(
    portal: DataPortal, bundle: Bundle
) -> None:
    s, aaa = bundle.sessions, bundle.asset(1)
    close_minute = bundle.minutes(3)[-1]
    assert portal.get_spot_value(aaa, "close", close_minute, "daily") == 103.0
    assert portal.resolve(close_minute, "daily") == portal.resolve(s[3], "daily") == (3, 3)


def test_before_the_open_of_a_split_day(portal: DataPortal, bundle: Bundle) -> None:
    # Before the open of session 8 the last bar is session 7's, but the split
    # effective today already applies (zipline's before_trading_start view).
    aaa, s = bundle.asset(1), bundle.sessions
    morning = pd.Timestamp("2024-01-12 13:45", tz="UTC")
    assert portal.resolve(morning, "daily") == (7, 8)
    assert portal.get_spot_value(aaa, "price", morning, "daily") == pytest.approx(53.5)
    assert portal.get_spot_value(aaa, "volume", morning, "daily") == 7800.0
    window = portal.get_history_window([aaa], morning, 2, "1d", "close", "daily")
    assert window.index.equals(pd.DatetimeIndex(s[6:8]))
    np.testing.assert_allclose(window[aaa], [53.0, 53.5])


def test_adjustment_queries(portal: DataPortal, bundle: Bundle, assets: list[Asset]) -> None:
    s = bundle.sessions
    assert portal.get_adjustments(assets, "close", s[7], s[10]) == pytest.approx([0.5, 0.98, 1, 1])
    assert portal.get_adjustments(assets, "volume", s[7], s[10]) == pytest.approx([2.0, 1, 1, 1])
    assert portal.get_adjustments(assets, "close", s[8], s[9]) == [1.0, 1.0, 1.0, 1.0]
    assert portal.get_adjustments(assets, "close", s[10], s[7]) == [1.0, 1.0, 1.0, 1.0]
    assert portal.get_adjusted_value(assets[0], "close", s[7], s[8], "daily") == pytest.approx(53.5)
    assert portal.get_adjusted_value(
        assets[1], "price", s[9], s[12], "daily", spot_value=50.0
    ) == pytest.approx(49.0)
    assert portal.get_splits(assets, s[8]) == [(assets[0], 0.5)]
    assert portal.get_splits(assets[1:], s[8]) == []
    assert portal.get_splits(assets, s[9]) == []


# --- minute data ---------------------------------------------------------------


def test_minute_spot_values(portal: DataPortal, bundle: Bundle) -> None:
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    minutes = bundle.minutes(7)
    assert portal.get_spot_value(aaa, "close", minutes[5], "minute") == pytest.approx(
        minute_close(107.0, 5)
    )
    assert portal.get_spot_value(aaa, "volume", minutes[5], "minute") == 10.0
    # BBB has no bars in the first 30 minutes of session 9: close NaN, volume 0,
    # price carried from session 8's last minute (no adjustment in between).
    early = bundle.minutes(9)[10]
    assert np.isnan(portal.get_spot_value(bbb, "close", early, "minute"))
    assert portal.get_spot_value(bbb, "volume", early, "minute") == 0.0
    assert portal.get_spot_value(bbb, "price", early, "minute") == pytest.approx(49.0)


def test_minute_history_across_split(portal: DataPortal, bundle: Bundle) -> None:
    aaa = bundle.asset(1)
    end = bundle.minutes(8)[1]
    expected = [
        minute_close(107.0, 388) * 0.5,
        107.0 * 0.5,
        minute_close(58.0, 0),
        minute_close(58.0, 1),
    ]
    for field in ("close", "price"):
        np.testing.assert_allclose(history(portal, aaa, end, 4, field, "1m", "minute"), expected)
    np.testing.assert_array_equal(
        history(portal, aaa, end, 4, "volume", "1m", "minute"), [20.0, 20.0, 20.0, 20.0]
    )
    # Seen from the day before, the same session-7 minutes are raw.
    seen_before = history(portal, aaa, bundle.minutes(7)[-1], 2, "close", "1m", "minute")
    np.testing.assert_allclose(seen_before, [minute_close(107.0, 388), 107.0])


def test_daily_history_in_minute_mode_ends_with_partial_session(
    portal: DataPortal, bundle: Bundle
) -> None:
    aaa, bbb, s = bundle.asset(1), bundle.asset(2), bundle.sessions
    now = bundle.minutes(9)[35]
    frame = {
        f: portal.get_history_window([aaa, bbb], now, 3, "1d", f, "minute")
        for f in ("open", "high", "low", "close", "volume", "price")
    }
    assert frame["close"].index.equals(pd.DatetimeIndex(s[7:10]))
    # AAA: full sessions 7 (pre-split, halved) and 8, then 36 minutes of session 9.
    np.testing.assert_allclose(frame["close"][aaa], [53.5, 58.0, minute_close(59.0, 35)])
    np.testing.assert_allclose(frame["price"][aaa], [53.5, 58.0, minute_close(59.0, 35)])
    np.testing.assert_allclose(frame["open"][aaa], [106.5 * 0.5, 57.5, 58.5])
    np.testing.assert_allclose(frame["high"][aaa], [108.0 * 0.5, 59.0, minute_close(59.0, 35)])
    np.testing.assert_allclose(frame["low"][aaa], [106.0 * 0.5, 57.0, 58.5])
    np.testing.assert_array_equal(frame["volume"][aaa], [7800.0, 7800.0, 36 * 20.0])
    # BBB's session 9 starts at minute 30: its open is minute 30's open.
    assert frame["open"][bbb].iloc[-1] == pytest.approx(minute_close(50.0, 29))
    assert frame["volume"][bbb].iloc[-1] == 6 * 5.0
    # Before BBB's first bar of the day, the partial row's price is yesterday's close.
    early = portal.get_history_window([bbb], bundle.minutes(9)[5], 2, "1d", "price", "minute")
    np.testing.assert_allclose(early[bbb], [49.0, 49.0])
    assert np.isnan(
        portal.get_history_window([bbb], bundle.minutes(9)[5], 1, "1d", "close", "minute")[
            bbb
        ].iloc[0]
    )


def test_daily_history_in_minute_mode_on_ex_date(portal: DataPortal, bundle: Bundle) -> None:
    bbb = bundle.asset(2)
    now = bundle.minutes(10)[0]
    window = history(portal, bbb, now, 3, "close", "1d", "minute")
    np.testing.assert_allclose(window, [49.0 * 0.98, 50.0 * 0.98, minute_close(51.0, 0)])


def test_minute_window_before_minute_data_raises(portal: DataPortal, bundle: Bundle) -> None:
    aaa = bundle.asset(1)
    with pytest.raises(HistoryWindowStartsBeforeData, match="first minute"):
        portal.get_history_window([aaa], bundle.minutes(7)[3], 5, "1m", "close", "minute")


# --- errors and the fast paths -----------------------------------------------------


def test_unknown_field_is_a_key_error_from_the_hierarchy(
    portal: DataPortal, bundle: Bundle
) -> None:
    aaa, s = bundle.asset(1), bundle.sessions
    with pytest.raises(UnknownFieldError, match="'vwap'") as info:
        portal.get_spot_value(aaa, "vwap", s[3], "daily")
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, DataError)
    with pytest.raises(ValueError, match="last_traded"):
        portal.get_history_window([aaa], s[3], 2, "1d", "last_traded", "daily")


def test_bad_window_parameters(portal: DataPortal, bundle: Bundle) -> None:
    aaa, s = bundle.asset(1), bundle.sessions
    with pytest.raises(ParameterValidationError, match="bar_count"):
        portal.get_history_window([aaa], s[3], 0, "1d", "close", "daily")
    with pytest.raises(ParameterValidationError, match="frequency"):
        portal.get_history_window([aaa], s[3], 2, "1h", "close", "daily")


def test_dt_after_the_data_raises(portal: DataPortal, bundle: Bundle) -> None:
    aaa = bundle.asset(1)
    with pytest.raises(DataNotFoundError, match="2024-01-23"):
        portal.get_spot_value(aaa, "price", pd.Timestamp("2024-01-24"), "daily")
    with pytest.raises(DataNotFoundError, match="minute"):
        portal.get_spot_value(aaa, "price", bundle.minutes(11)[0], "minute")


def test_array_forms_match_the_wrappers(
    portal: DataPortal, bundle: Bundle, assets: list[Asset]
) -> None:
    s = bundle.sessions
    cols = portal.asset_columns(assets)
    assert cols is portal.asset_columns(list(assets))  # cached
    row, perspective = portal.resolve(s[10], "daily")
    np.testing.assert_array_equal(
        portal.current_array(cols, "price", row, "daily", perspective),
        portal.get_spot_value(assets, "price", s[10], "daily"),
    )
    window = portal.history_array(cols, "price", 5, row, "1d", "daily", perspective)
    expected = portal.get_history_window(assets, s[10], 5, "1d", "price", "daily").to_numpy()
    np.testing.assert_array_equal(window, expected)
    assert portal.history_index(5, row, "1d").equals(pd.DatetimeIndex(s[6:11]))
    np.testing.assert_array_equal(portal.alive_mask(cols, 13), [True, True, False, True])
    np.testing.assert_array_equal(
        portal.alive_mask(cols, 12, before_auto_close=True), [True, True, True, True]
    )


# --- other reader combinations ------------------------------------------------------


def test_without_adjustments_history_is_raw(bundle: Bundle) -> None:
    portal = bundle.portal(adjustment_reader=None)
    aaa, s = bundle.asset(1), bundle.sessions
    np.testing.assert_array_equal(history(portal, aaa, s[9], 10, "close"), AAA_CLOSE[:10])
    np.testing.assert_array_equal(
        history(portal, aaa, s[9], 10, "volume"), [3900.0] * 8 + [7800.0] * 2
    )
    assert portal.get_adjustments([aaa], "close", s[0], s[14]) == [1.0]
    assert portal.get_splits([aaa], s[8]) == []


def test_last_available_session_bounds_reads(bundle: Bundle) -> None:
    s = bundle.sessions
    portal = bundle.portal(last_available_session=s[10])
    assert portal.get_spot_value(bundle.asset(1), "close", s[10], "daily") == 60.0
    with pytest.raises(DataNotFoundError, match="2024-01-17"):
        portal.get_spot_value(bundle.asset(1), "close", s[11], "daily")


def test_minute_only_portal_rolls_up_daily_history(bundle: Bundle) -> None:
    portal = bundle.portal(equity_daily_reader=None)
    aaa = bundle.asset(1)
    now = bundle.minutes(9)[35]
    np.testing.assert_allclose(
        history(portal, aaa, now, 3, "close", "1d", "minute"), [53.5, 58.0, minute_close(59.0, 35)]
    )
    np.testing.assert_allclose(
        history(portal, aaa, now, 3, "price", "1d", "minute"), [53.5, 58.0, minute_close(59.0, 35)]
    )
    np.testing.assert_array_equal(
        history(portal, aaa, now, 3, "volume", "1d", "minute"), [7800.0, 7800.0, 720.0]
    )
    with pytest.raises(DataNotFoundError, match="daily bars"):
        portal.get_spot_value(aaa, "close", now, "daily")


@pytest.mark.parametrize("sids", [[1, 2, 3, 4], [2, 3], [4, 2, 1], [3, 3, 1], [1, 99, 2], [99]])
@pytest.mark.parametrize("field", ["close", "volume", "price"])
def test_windows_of_many_assets_are_their_single_windows(
    bundle: Bundle, sids: list[int], field: str
) -> None:
    """Consecutive columns are read as a slice, others gathered, unknown ones blank:
    each column equals the asset's own window, asked for twice in a row."""
    portal = bundle.portal()
    s = bundle.sessions
    unknown = Asset(99, bundle.asset(1).exchange_info, symbol="ZZZ")
    assets = [unknown if sid == 99 else bundle.asset(sid) for sid in sids]
    for _ in range(2):  # the second call reads through the kept column plan
        frame = portal.get_history_window(assets, s[12], 6, "1d", field, "daily")
        for i, asset in enumerate(assets):
            got = frame.iloc[:, i].to_numpy()
            if asset is unknown:
                expected = np.full(6, 0.0 if field == "volume" else np.nan)
            else:
                expected = history(portal, asset, s[12], 6, field)
            np.testing.assert_array_equal(got, expected)
        frame.iloc[0, 0] = -1.0  # a window is a copy: the next one is unchanged
