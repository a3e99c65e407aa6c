"""BenchmarkSource on the demo bundle's real readers: minute emission from the first minute bars.

The demo bundle has daily bars from 2014 and minute bars from 2024-01-02 on. A
minute-emission benchmark over a simulation that starts on 2024-01-02 has no
minute bar before its first minute: the first minute's return is taken against
the previous session's daily close (what daily emission uses too).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rustybt.data import bundles
from rustybt.data.bundles.demo import DEMO_MINUTE_START
from rustybt.data.portal import DataPortal
from rustybt.exceptions import HistoryWindowStartsBeforeData
from rustybt.sources.benchmark import BenchmarkSource


@pytest.fixture
def demo_data(demo: Path) -> Iterator[bundles.BundleData]:
    with bundles.load("demo") as data:
        yield data


@pytest.fixture
def portal(demo_data: bundles.BundleData) -> DataPortal:
    """The portal run_algorithm builds for the demo bundle."""
    return DataPortal(
        demo_data.asset_finder,
        demo_data.calendar,
        demo_data.equity_daily_bar_reader.first_trading_day,
        equity_daily_reader=demo_data.equity_daily_bar_reader,
        equity_minute_reader=demo_data.equity_minute_bar_reader,
        adjustment_reader=demo_data.adjustment_reader,
    )


def _sessions(data: bundles.BundleData, count: int) -> pd.DatetimeIndex:
    start = data.calendar.date_to_session(DEMO_MINUTE_START, "next")
    return pd.DatetimeIndex(data.calendar.sessions_window(start, count))


def _source(data: bundles.BundleData, portal: DataPortal, sessions: Any, rate: str) -> Any:
    spy = data.asset_finder.lookup_symbol("SPY", as_of_date=None)
    return BenchmarkSource(spy, None, data.calendar, sessions, portal, emission_rate=rate)


def test_no_minute_bar_before_the_first_session(
    demo_data: bundles.BundleData, portal: DataPortal
) -> None:
    """The window the minute returns would need reaches before the minute bars."""
    sessions = _sessions(demo_data, 3)
    minutes = demo_data.calendar.sessions_minutes(sessions[0], sessions[-1])
    spy = demo_data.asset_finder.lookup_symbol("SPY", as_of_date=None)
    with pytest.raises(HistoryWindowStartsBeforeData):
        portal.get_history_window([spy], minutes[-1], len(minutes) + 1, "1m", "price", "minute")


def test_minute_emission_from_the_first_minute_session(
    demo_data: bundles.BundleData, portal: DataPortal
) -> None:
    sessions = _sessions(demo_data, 3)
    cal = demo_data.calendar
    minutes = cal.sessions_minutes(sessions[0], sessions[-1])
    spy = demo_data.asset_finder.lookup_symbol("SPY", as_of_date=None)

    source = _source(demo_data, portal, sessions, "minute")

    prices = portal.get_history_window([spy], minutes[-1], len(minutes), "1m", "price", "minute")[
        spy
    ].to_numpy()
    # The session before the first one, from the daily bars, as of the last session.
    daily = portal.get_history_window(
        [spy], sessions[-1], len(sessions) + 1, "1d", "price", "daily"
    )[spy]
    assert daily.index[0] == cal.previous_session(sessions[0])
    previous = np.concatenate(([daily.iloc[0]], prices[:-1]))
    minute_returns = source.get_range(minutes[0], minutes[-1])
    assert list(minute_returns.index) == list(minutes)
    np.testing.assert_allclose(minute_returns.to_numpy(), prices / previous - 1, atol=1e-12)
    assert source.get_value(minutes[0]) == pytest.approx(prices[0] / daily.iloc[0] - 1, abs=1e-12)

    # Day by day, the minutes compound to the close-to-close return, the same
    # as daily emission's.
    expected = daily.pct_change().iloc[1:].to_numpy()
    by_day = source.daily_returns(sessions[0], sessions[-1])
    np.testing.assert_allclose(by_day.to_numpy(), expected, atol=1e-12)
    daily_source = _source(demo_data, portal, sessions, "daily")
    np.testing.assert_allclose(
        daily_source.daily_returns(sessions[0], sessions[-1]).to_numpy(), expected, atol=1e-12
    )
    for session, day_return in zip(sessions, expected, strict=True):
        day = minute_returns.loc[cal.session_first_minute(session) : cal.session_close(session)]
        assert float(np.prod(1 + day.to_numpy())) - 1 == pytest.approx(day_return, abs=1e-12)


def test_minute_emission_later_is_unchanged(
    demo_data: bundles.BundleData, portal: DataPortal
) -> None:
    """With a minute bar before the first session, its price is the reference."""
    sessions = _sessions(demo_data, 3)[1:]
    cal = demo_data.calendar
    minutes = cal.sessions_minutes(sessions[0], sessions[-1])
    spy = demo_data.asset_finder.lookup_symbol("SPY", as_of_date=None)
    prices = portal.get_history_window(
        [spy], minutes[-1], len(minutes) + 1, "1m", "price", "minute"
    )[spy]
    source = _source(demo_data, portal, sessions, "minute")
    np.testing.assert_allclose(
        source.get_range(minutes[0], minutes[-1]).to_numpy(),
        prices.pct_change().iloc[1:].to_numpy(),
        atol=1e-12,
    )
