"""The demo bundle: deterministic, realistic synthetic data, ingested for real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rustybt.calendars import get_calendar
from rustybt.data import bundles
from rustybt.data.bundles.demo import (
    DEMO_END,
    DEMO_MINUTE_START,
    DEMO_START,
    DemoData,
    demo_ingest,
    generate_demo_data,
)
from rustybt.data.validation import validate_bars

CAL = get_calendar("XNYS")
SESSIONS = CAL.sessions_in_range(DEMO_START, DEMO_END)
YEAR = SESSIONS[SESSIONS >= DEMO_MINUTE_START]


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate_demo_data(CAL)


def sid_of(data: DemoData, symbol: str) -> int:
    return int(data.equities.index[data.equities["symbol"] == symbol][0])


# --- generation ------------------------------------------------------------------


def test_generation_is_deterministic(demo: DemoData) -> None:
    again = generate_demo_data(CAL)
    pd.testing.assert_frame_equal(demo.equities, again.equities)
    pd.testing.assert_frame_equal(demo.splits, again.splits)
    pd.testing.assert_frame_equal(demo.dividends, again.dividends)
    assert demo.daily.keys() == again.daily.keys()
    assert demo.minute.keys() == again.minute.keys()
    # Plain array comparisons: assert_frame_equal is slow on 30 x 97,740 minute bars.
    for ours, theirs in [(demo.daily, again.daily), (demo.minute, again.minute)]:
        for sid, frame in ours.items():
            assert frame.index.equals(theirs[sid].index)
            assert list(frame.columns) == list(theirs[sid].columns)
            np.testing.assert_array_equal(frame.to_numpy(), theirs[sid].to_numpy())


def test_the_universe(demo: DemoData) -> None:
    symbols = demo.equities["symbol"].tolist()
    assert 25 <= len(symbols) <= 40
    wanted = {"AAPL", "MSFT", "GOOG", "AMZN", "IBM", "GE", "JPM", "XOM", "KO", "PG", "SPY"}
    assert wanted <= set(symbols)
    assert symbols == sorted(symbols)
    assert demo.equities.index.tolist() == list(range(len(symbols)))
    assert set(demo.equities["exchange"]) == {"NYSE", "NASDAQ"}
    assert set(demo.exchanges["exchange"]) == {"NYSE", "NASDAQ"}
    assert demo.equities["asset_name"].str.len().min() > 2
    assert sorted(demo.daily) == demo.equities.index.tolist()
    assert YEAR[0] == DEMO_MINUTE_START


def test_every_frame_passes_validation_and_the_ohlc_invariants(demo: DemoData) -> None:
    minutes = CAL.sessions_minutes(YEAR[0], YEAR[-1])
    frames = [(f, "daily", SESSIONS) for f in demo.daily.values()]
    frames += [(f, "minute", minutes) for f in demo.minute.values()]
    for frame, frequency, valid in frames:
        validate_bars(frame, frequency=frequency, valid_index=valid, source="demo")  # type: ignore[arg-type]
        body_top = np.maximum(frame["open"], frame["close"])
        body_bottom = np.minimum(frame["open"], frame["close"])
        assert (frame["high"] >= body_top).all()
        assert (frame["low"] <= body_bottom).all()
        assert (frame["low"] > 0).all()
        volume = frame["volume"].to_numpy()
        assert (volume > 0).all()
        np.testing.assert_array_equal(volume, np.round(volume))
        assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
        assert (frame.dtypes == np.float64).all()


def test_2024_daily_bars_are_the_minute_aggregate(demo: DemoData) -> None:
    assert len(demo.minute) >= 25
    for sid, minute in demo.minute.items():
        session = pd.DatetimeIndex(minute.index).tz_convert(None).normalize()
        grouped = minute.groupby(session)
        aggregate = pd.DataFrame(
            {
                "open": grouped["open"].first(),
                "high": grouped["high"].max(),
                "low": grouped["low"].min(),
                "close": grouped["close"].last(),
                "volume": grouped["volume"].sum(),
            }
        )
        daily = demo.daily[sid]
        year = daily[daily.index >= DEMO_MINUTE_START]
        np.testing.assert_array_equal(year.index, aggregate.index)
        np.testing.assert_array_equal(year.to_numpy(), aggregate.to_numpy())


def test_minute_bars_cover_every_2024_session(demo: DemoData) -> None:
    full = demo.minute[sid_of(demo, "AAPL")]
    assert len(full) == 97_740  # 249 full days of 390 bars, 3 half days of 210
    assert full.index[0] == pd.Timestamp("2024-01-02 14:31", tz="UTC")
    assert full.index[-1] == pd.Timestamp("2024-12-31 21:00", tz="UTC")
    half_day = full.loc["2024-11-29"]
    assert len(half_day) == 210


def test_a_late_starter_and_an_early_stopper(demo: DemoData) -> None:
    uber, mon = sid_of(demo, "UBER"), sid_of(demo, "MON")
    assert demo.daily[uber].index[0] == pd.Timestamp("2019-05-10")
    assert demo.equities.loc[uber, "start_date"] == pd.Timestamp("2019-05-10")
    assert demo.daily[mon].index[-1] == pd.Timestamp("2018-06-06")
    assert demo.equities.loc[mon, "end_date"] == pd.Timestamp("2018-06-06")
    assert demo.equities.loc[mon, "auto_close_date"] == pd.Timestamp("2018-06-07")
    assert mon not in demo.minute
    assert uber in demo.minute
    others = demo.equities.drop(index=[uber, mon])
    assert (others["start_date"] == DEMO_START).all()
    assert (others["end_date"] == DEMO_END).all()


def test_one_asset_misses_a_few_sessions(demo: DemoData) -> None:
    gme = sid_of(demo, "GME")
    missing = SESSIONS.difference(demo.daily[gme].index)
    assert 2 <= len(missing) <= 10
    assert pd.Timestamp("2017-03-15") in missing
    assert pd.Timestamp("2024-05-14") in missing
    minute_days = pd.DatetimeIndex(demo.minute[gme].index).tz_convert(None).normalize().unique()
    assert YEAR.difference(minute_days).tolist() == [pd.Timestamp("2024-05-14")]
    full = [s for s in demo.daily if s != gme and len(demo.daily[s]) == len(SESSIONS)]
    assert len(full) == len(demo.daily) - 3  # GME, the late starter and the early stopper


def test_splits_show_as_price_drops_on_their_date(demo: DemoData) -> None:
    aapl = sid_of(demo, "AAPL")
    aapl_splits = demo.splits[demo.splits["sid"] == aapl]
    assert aapl_splits["effective_date"].tolist() == [
        pd.Timestamp("2014-06-09"),
        pd.Timestamp("2020-08-31"),
    ]
    assert aapl_splits["ratio"].tolist() == pytest.approx([1 / 7, 1 / 4])
    assert len(demo.splits) >= 3
    assert (demo.splits["ratio"] == 0.5).any()  # a 2-for-1 split
    for sid, ratio, date in demo.splits.itertuples(index=False):
        bars = demo.daily[sid]
        at = int(bars.index.searchsorted(date))
        assert bars.index[at] == date
        jump = bars["open"].iloc[at] / bars["close"].iloc[at - 1]
        # A day's move is far smaller than any split: the raw price jumps by ~ratio.
        assert 0.75 * ratio < jump < 1.33 * ratio, (sid, date, jump)


def test_a_split_inside_the_minute_year_shows_in_the_minute_bars(demo: DemoData) -> None:
    nvda = sid_of(demo, "NVDA")
    split = demo.splits[
        (demo.splits["sid"] == nvda) & (demo.splits["effective_date"].dt.year == 2024)
    ]
    assert split["ratio"].tolist() == [pytest.approx(0.1)]
    minute = demo.minute[nvda]
    day = pd.DatetimeIndex(minute.index).tz_convert(None).normalize()
    before = minute["close"].to_numpy()[day == pd.Timestamp("2024-06-07")][-1]
    after = minute["open"].to_numpy()[day == pd.Timestamp("2024-06-10")][0]
    assert 0.075 < after / before < 0.133


def test_quarterly_dividends(demo: DemoData) -> None:
    dividends = demo.dividends
    payers = dividends["sid"].unique()
    assert len(payers) >= 5
    ko = sid_of(demo, "KO")
    ko_2019 = dividends[(dividends["sid"] == ko) & (dividends["ex_date"].dt.year == 2019)]
    assert len(ko_2019) == 4
    for sid, amount, ex, record, declared, pay in zip(
        *(dividends[c].tolist() for c in dividends.columns), strict=True
    ):
        bars = demo.daily[sid]
        at = int(bars.index.searchsorted(ex))
        assert bars.index[at] == ex
        assert 0 < amount < 0.03 * bars["close"].to_numpy()[at - 1]
        assert declared < ex < record < pay
        assert CAL.is_session(pay)
    assert sid_of(demo, "AMZN") not in payers


def test_returns_share_a_market_factor(demo: DemoData) -> None:
    split_days = set(zip(demo.splits["sid"], demo.splits["effective_date"], strict=True))
    returns = {}
    for sid, bars in demo.daily.items():
        r = bars["close"].pct_change()
        r[[(sid, d) in split_days for d in r.index]] = np.nan
        returns[sid] = r
    frame = pd.DataFrame(returns)
    spy = sid_of(demo, "SPY")
    corr = frame.corr()[spy].drop(spy)
    assert corr.median() > 0.4
    vol = frame[spy].std() * np.sqrt(252)
    assert 0.1 < vol < 0.3
    growth = demo.daily[spy]["close"].iloc[-1] / demo.daily[spy]["close"].iloc[0]
    assert 1.5 < growth < 6.0


# --- ingest -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bundles.BundleData]:
    environ = {"RUSTYBT_ROOT": str(tmp_path_factory.mktemp("demo-root"))}
    bundles.ingest("demo", environ=environ)
    with bundles.load("demo", environ=environ) as data:
        yield data


def test_the_registered_demo_bundle_ingests_and_loads(
    ingested: bundles.BundleData, demo: DemoData
) -> None:
    finder = ingested.asset_finder
    assert len(finder.sids) == len(demo.equities)
    aapl = finder.lookup_symbol("AAPL", None)
    assert aapl.sid == sid_of(demo, "AAPL")
    assert aapl.asset_name == "Apple Inc."
    assert aapl.exchange == "NASDAQ"
    mon = finder.lookup_symbol("MON", None)
    assert mon.end_date == pd.Timestamp("2018-06-06")

    daily = ingested.equity_daily_bar_reader
    day = pd.Timestamp("2020-08-31")
    assert daily.get_value(aapl.sid, day, "close") == demo.daily[aapl.sid].loc[day, "close"]
    minutes = ingested.equity_minute_bar_reader
    assert minutes is not None
    minute = pd.Timestamp("2024-03-01 15:00", tz="UTC")
    assert minutes.get_value(aapl.sid, minute, "high") == demo.minute[aapl.sid].loc[minute, "high"]

    adjustments = ingested.adjustment_reader
    assert adjustments.get_splits([aapl.sid], day) == [(aapl.sid, 0.25)]
    payouts = adjustments.unpack_db_to_component_dfs()["dividend_payouts"]
    assert len(payouts) == len(demo.dividends)


def test_a_shorter_registration_clips_the_demo(tmp_path: Path) -> None:
    environ = {"RUSTYBT_ROOT": str(tmp_path / "root")}
    start, end = pd.Timestamp("2024-06-03"), pd.Timestamp("2024-06-28")
    bundles.register("demo-june", demo_ingest, "XNYS", start, end)
    try:
        bundles.ingest("demo-june", environ=environ)
        with bundles.load("demo-june", environ=environ) as data:
            symbols = {a.symbol for a in data.asset_finder.retrieve_all(data.asset_finder.sids)}
            assert "MON" not in symbols and "AAPL" in symbols
            aapl = data.asset_finder.lookup_symbol("AAPL", None)
            assert (aapl.start_date, aapl.end_date) == (start, end)
            splits = data.adjustment_reader.unpack_db_to_component_dfs()["splits"]
            assert splits["effective_date"].astype(str).tolist() == ["2024-06-10"]
            minutes = data.equity_minute_bar_reader
            assert minutes is not None
            assert minutes.first_trading_day == start
    finally:
        bundles.unregister("demo-june")
