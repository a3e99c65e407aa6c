"""A bundle with only minute bars: minute runs (Python and CLI), daily roll-ups, daily refused.

The bundle's ingest writes minute bars and never calls ``daily_bar_writer``,
so its daily reader is empty (first trading day NaT). zipline runs such a
bundle in minute mode, taking the first trading day from the minute bars and
rolling minutes up into the daily bars that ``data.history(..., "1d")`` and
the benchmark need; so does rustybt. Daily mode on it is refused by name.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import rustybt
from rustybt.api import get_datetime, order, set_commission, set_slippage, symbol
from rustybt.calendars import get_calendar
from rustybt.cli import main
from rustybt.data import bundles
from rustybt.data.portal import DataPortal
from rustybt.exceptions import ConfigValidationError, HistoryWindowStartsBeforeData
from rustybt.finance.models import commission, slippage
from rustybt.sources.benchmark import BenchmarkSource

NAME = "minute-only-test"
CALENDAR = get_calendar("XNYS")
SESSIONS = pd.DatetimeIndex(CALENDAR.sessions_in_range("2024-01-02", "2024-01-05"))
SYMBOLS = {1: "AAA", 2: "BBB", 3: "CCC"}
FIELDS = ("open", "high", "low", "close", "volume")
CAPITAL = 100_000.0
# CCC trades only every 7th minute: its daily roll-ups must skip the gaps.
SPARSE_SID, SPARSE_EVERY = 3, 7


@dataclass(frozen=True)
class MinuteOnly:
    """The ingested bundle's name and the minute bars it holds, by symbol."""

    name: str
    frames: dict[str, pd.DataFrame]

    def session_minutes(self, symbol_: str, session: pd.Timestamp) -> pd.DataFrame:
        """The bars of one session."""
        frame = self.frames[symbol_]
        first, close = CALENDAR.session_first_minute(session), CALENDAR.session_close(session)
        return frame.loc[first:close]

    def day_bar(
        self, symbol_: str, session: pd.Timestamp, upto: pd.Timestamp | None = None
    ) -> dict[str, float]:
        """The session's bar rolled up from its minutes (those at or before ``upto``)."""
        bars = self.session_minutes(symbol_, session)
        if upto is not None:
            bars = bars.loc[:upto]
        return {
            "open": float(bars["open"].iloc[0]),
            "high": float(bars["high"].max()),
            "low": float(bars["low"].min()),
            "close": float(bars["close"].iloc[-1]),
            "volume": float(bars["volume"].sum()),
        }

    def close_at(self, symbol_: str, dt: pd.Timestamp) -> float:
        """The last close at or before ``dt``."""
        return float(self.frames[symbol_]["close"].loc[:dt].iloc[-1])


def _minute_frames() -> dict[str, pd.DataFrame]:
    """A random walk of cent prices per asset, every XNYS minute of SESSIONS."""
    minutes = CALENDAR.sessions_minutes(SESSIONS[0], SESSIONS[-1])
    frames = {}
    for sid, sym in SYMBOLS.items():
        rng = np.random.default_rng(sid)
        steps = rng.normal(0.0, 0.001, len(minutes))
        close = np.round((20.0 * sid) * np.exp(np.cumsum(steps)), 2)
        open_ = np.concatenate(([close[0]], close[:-1]))
        frame = pd.DataFrame(
            {
                "open": open_,
                "high": np.maximum(open_, close) + 0.01,
                "low": np.minimum(open_, close) - 0.01,
                "close": close,
                "volume": rng.integers(100, 1_000, len(minutes)).astype(np.float64),
            },
            index=minutes,
        )
        if sid == SPARSE_SID:
            frame = frame.iloc[::SPARSE_EVERY]
        frames[sym] = frame
    return frames


def _ingest_minute_only(frames: dict[str, pd.DataFrame]) -> Any:
    sid_of = {sym: sid for sid, sym in SYMBOLS.items()}

    def ingest(
        environ: Any,
        asset_db_writer: Any,
        minute_bar_writer: Any,
        daily_bar_writer: Any,
        adjustment_writer: Any,
        *_: Any,
    ) -> None:
        equities = pd.DataFrame(
            {
                "symbol": list(SYMBOLS.values()),
                "start_date": SESSIONS[0],
                "end_date": SESSIONS[-1],
                "exchange": "NYSE",
            },
            index=list(SYMBOLS),
        )
        asset_db_writer.write(equities=equities)
        minute_bar_writer.write((sid_of[sym], frame) for sym, frame in frames.items())
        adjustment_writer.write()
        # daily_bar_writer.write is never called: the bundle has minute bars only.

    return ingest


@pytest.fixture
def minute_only(rustybt_root: Path) -> Iterator[MinuteOnly]:
    """The minute-only bundle, registered and ingested into the test's RUSTYBT_ROOT."""
    frames = _minute_frames()
    bundles.register(
        NAME, _ingest_minute_only(frames), start_session=SESSIONS[0], end_session=SESSIONS[-1]
    )
    try:
        bundles.ingest(NAME)
        yield MinuteOnly(NAME, frames)
    finally:
        bundles.unregister(NAME)


def _minute(session: pd.Timestamp, index: int) -> pd.Timestamp:
    """The ``index``-th (0-based) trading minute of ``session``."""
    return pd.Timestamp(CALENDAR.session_minutes(session)[index])


def _value(data: MinuteOnly, cash: float, holdings: dict[str, int], session: pd.Timestamp) -> float:
    close = CALENDAR.session_close(session)
    return cash + sum(n * data.close_at(sym, close) for sym, n in holdings.items())


def test_the_bundle_really_has_no_daily_bars(minute_only: MinuteOnly) -> None:
    with bundles.load(minute_only.name) as data:
        assert pd.isna(data.equity_daily_bar_reader.first_trading_day)
        assert len(data.equity_daily_bar_reader.sids) == 0
        assert data.equity_minute_bar_reader is not None
        assert data.equity_minute_bar_reader.first_trading_day == SESSIONS[0]


def test_run_algorithm_minute_mode(minute_only: MinuteOnly) -> None:
    """Orders fill on the next minute's close; 1d history is rolled up from minutes."""
    seen: dict[str, Any] = {}
    order_minute = 29  # the 30th minute of the first simulated session

    def initialize(context: Any) -> None:
        context.assets = [symbol(s) for s in SYMBOLS.values()]
        context.bar = 0
        set_slippage(slippage.FixedSlippage(spread=0.0))
        set_commission(commission.NoCommission())

    def handle_data(context: Any, data: Any) -> None:
        if context.bar == order_minute:
            seen["dt"] = get_datetime()
            for field in FIELDS:
                seen[field] = data.history(context.assets, field, 3, "1d")
            seen["price"] = data.history(context.assets, "price", 3, "1d")
            seen["1m"] = data.history(context.assets[0], "close", 5, "1m")
            order(context.assets[0], 100)
            order(context.assets[1], 40)
        context.bar += 1

    start, end = SESSIONS[2], SESSIONS[3]
    perf = rustybt.run_algorithm(
        start,
        end,
        initialize,
        CAPITAL,
        handle_data,
        data_frequency="minute",
        bundle=minute_only.name,
    )

    # History, seen at the order minute: two whole sessions and today so far.
    now = _minute(start, order_minute)
    assert seen["dt"] == now
    days = [SESSIONS[0], SESSIONS[1], start]
    for field in FIELDS:
        frame = seen[field]
        assert list(frame.index) == days
        for sym in SYMBOLS.values():
            asset = next(a for a in frame.columns if a.symbol == sym)
            expected = [
                minute_only.day_bar(sym, day, upto=now if day == start else None)[field]
                for day in days
            ]
            np.testing.assert_allclose(frame[asset].to_numpy(), expected, rtol=0, atol=1e-9)
    price = seen["price"]
    assert price.iloc[-1].tolist() == pytest.approx(
        [minute_only.close_at(sym, now) for sym in SYMBOLS.values()]
    )
    aaa_minutes = minute_only.frames["AAA"].loc[:now, "close"].iloc[-5:]
    assert list(seen["1m"].index) == list(aaa_minutes.index)
    assert seen["1m"].tolist() == pytest.approx(aaa_minutes.tolist())

    # Fills: the next minute's close, the whole amount, no costs.
    fill_dt = _minute(start, order_minute + 1)
    txns = perf["transactions"].iloc[0]
    assert {t["sid"].symbol: t["amount"] for t in txns} == {"AAA": 100, "BBB": 40}
    for t in txns:
        assert t["dt"] == fill_dt
        assert t["price"] == pytest.approx(minute_only.close_at(t["sid"].symbol, fill_dt))
    assert perf["transactions"].iloc[1] == []

    cost = sum(t["amount"] * t["price"] for t in txns)
    cash = CAPITAL - cost
    holdings = {"AAA": 100, "BBB": 40}
    assert perf["ending_cash"].tolist() == pytest.approx([cash, cash])
    expected_values = [_value(minute_only, cash, holdings, day) for day in (start, end)]
    assert perf["portfolio_value"].tolist() == pytest.approx(expected_values, abs=1e-6)
    assert len(perf) == 2 and list(perf.index.normalize().tz_localize(None)) == [start, end]


def _benchmark_daily_returns(minute_only: MinuteOnly) -> list[float]:
    """BBB's daily returns from the bundle's first session: open-to-close, then close-to-close."""
    bars = [minute_only.day_bar("BBB", day) for day in SESSIONS]
    daily = [(bars[0]["close"] - bars[0]["open"]) / bars[0]["open"]]
    daily += [bars[i]["close"] / bars[i - 1]["close"] - 1 for i in range(1, len(bars))]
    return daily


@pytest.mark.parametrize("emission_rate", ["daily", "minute"])
def test_benchmark_from_a_minute_only_bundle(minute_only: MinuteOnly, emission_rate: str) -> None:
    """Benchmark returns are rolled up from minutes (open-to-close on its first day).

    With minute emission from the bundle's first session nothing precedes the
    first minute: its return is taken against the session's open (zipline's
    rule for a benchmark that starts on the first session).
    """
    perf = rustybt.run_algorithm(
        SESSIONS[0],
        SESSIONS[-1],
        lambda context: None,
        CAPITAL,
        data_frequency="minute",
        emission_rate=emission_rate,
        bundle=minute_only.name,
        benchmark_symbol="BBB",
    )
    expected = np.cumprod(1 + np.array(_benchmark_daily_returns(minute_only))) - 1
    np.testing.assert_allclose(perf["benchmark_period_return"].to_numpy(), expected, atol=1e-12)
    assert perf["portfolio_value"].tolist() == [CAPITAL] * len(SESSIONS)


def test_daily_mode_on_a_minute_only_bundle_is_refused(minute_only: MinuteOnly) -> None:
    with pytest.raises(ConfigValidationError, match="has no daily bars") as info:
        rustybt.run_algorithm(
            SESSIONS[1],
            SESSIONS[-1],
            lambda context: None,
            CAPITAL,
            data_frequency="daily",
            bundle=minute_only.name,
        )
    assert f"bundle {minute_only.name!r} has no daily bars" in str(info.value)
    assert "data_frequency='minute'" in str(info.value)
    assert info.value.context["bundle"] == minute_only.name
    assert info.value.context["has_minute_bars"] is True


def _portal(data: Any, first_trading_day: Any) -> DataPortal:
    """A DataPortal over a loaded bundle's readers, from ``first_trading_day``."""
    return DataPortal(
        data.asset_finder,
        data.calendar,
        first_trading_day,
        equity_daily_reader=data.equity_daily_bar_reader,
        equity_minute_reader=data.equity_minute_bar_reader,
        adjustment_reader=data.adjustment_reader,
    )


def test_portal_built_from_the_empty_daily_readers_first_day(minute_only: MinuteOnly) -> None:
    """zipline-style construction (the daily reader's NaT first day) still works."""
    with bundles.load(minute_only.name) as data:
        portal = _portal(data, data.equity_daily_bar_reader.first_trading_day)
        ccc = data.asset_finder.lookup_symbol("CCC", as_of_date=None)
        window = portal.get_history_window([ccc], SESSIONS[1], 2, "1d", "high", "daily")
        expected = [minute_only.day_bar("CCC", day)["high"] for day in SESSIONS[:2]]
        assert window[ccc].tolist() == pytest.approx(expected)
        with pytest.raises(HistoryWindowStartsBeforeData):
            portal.get_history_window([ccc], SESSIONS[1], 3, "1d", "high", "daily")


CLI_ALGO = """
from rustybt.api import order, record, set_commission, set_slippage, symbol
from rustybt.finance.models import commission, slippage


def initialize(context):
    context.aaa = symbol("AAA")
    context.bar = 0
    set_slippage(slippage.FixedSlippage(spread=0.0))
    set_commission(commission.NoCommission())


def handle_data(context, data):
    if context.bar == 0:
        order(context.aaa, SHARES)
    context.bar += 1
    # Recorded every minute: the session's row keeps the value at its close.
    record(
        yesterday_close=data.history(context.aaa, "close", 2, "1d").iloc[0],
        today_high=data.history(context.aaa, "high", 1, "1d").iloc[-1],
        today_volume=data.history(context.aaa, "volume", 1, "1d").iloc[-1],
    )
"""


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=dict(os.environ))
    return result.exit_code, result.stderr


def test_cli_run_minute_mode(minute_only: MinuteOnly, tmp_path: Path) -> None:
    out = tmp_path / "perf.pickle"
    code, stderr = run_cli(
        "run", "-t", textwrap.dedent(CLI_ALGO), "-D", "SHARES=250",
        "-b", minute_only.name, "--data-frequency", "minute",
        "-s", str(SESSIONS[1].date()), "-e", str(SESSIONS[-1].date()),
        "--capital-base", str(CAPITAL), "--benchmark-symbol", "BBB", "-o", str(out),
    )  # fmt: skip
    assert code == 0, stderr
    assert "final value" in stderr
    perf = pd.read_pickle(out)
    days = SESSIONS[1:]
    assert len(perf) == len(days)

    for i, day in enumerate(days):
        today = minute_only.day_bar("AAA", day)
        row = perf.iloc[i]
        assert row["yesterday_close"] == pytest.approx(
            minute_only.day_bar("AAA", SESSIONS[i])["close"]
        )
        assert row["today_high"] == pytest.approx(today["high"])
        assert row["today_volume"] == pytest.approx(today["volume"])

    # One fill, on the second minute of the first session, at that minute's close.
    fill_dt = _minute(days[0], 1)
    (txn,) = perf["transactions"].iloc[0]
    assert (txn["sid"].symbol, txn["amount"], txn["dt"]) == ("AAA", 250, fill_dt)
    assert txn["price"] == pytest.approx(minute_only.close_at("AAA", fill_dt))
    assert all(t == [] for t in perf["transactions"].iloc[1:])
    cash = CAPITAL - 250 * txn["price"]
    expected = [_value(minute_only, cash, {"AAA": 250}, day) for day in days]
    assert perf["portfolio_value"].tolist() == pytest.approx(expected, abs=1e-6)

    # The benchmark (BBB, alive before the first session): close-to-close roll-ups.
    closes = [minute_only.day_bar("BBB", day)["close"] for day in SESSIONS]
    bench = np.cumprod(np.array(closes[1:]) / np.array(closes[:-1])) - 1
    np.testing.assert_allclose(perf["benchmark_period_return"].to_numpy(), bench, atol=1e-12)


def test_cli_run_daily_on_a_minute_only_bundle(minute_only: MinuteOnly) -> None:
    code, stderr = run_cli(
        "run", "-t", "def initialize(context):\n    pass\n", "-b", minute_only.name,
        "-s", str(SESSIONS[1].date()), "-e", str(SESSIONS[-1].date()),
    )  # fmt: skip
    assert code == 1
    assert f"bundle {minute_only.name!r} has no daily bars" in stderr
    assert "--data-frequency minute" in stderr


def test_minute_benchmark_returns_from_the_first_session(minute_only: MinuteOnly) -> None:
    """The benchmark source's minute returns from the bundle's first session.

    The first minute is measured against the session's open, the others
    against the minute before; they compound to the daily returns.
    """
    bars = [minute_only.day_bar("BBB", day) for day in SESSIONS]
    daily = _benchmark_daily_returns(minute_only)

    with bundles.load(minute_only.name) as data:
        portal = _portal(data, data.equity_minute_bar_reader.first_trading_day)  # type: ignore[union-attr]
        bbb = data.asset_finder.lookup_symbol("BBB", as_of_date=None)
        source = BenchmarkSource(bbb, None, CALENDAR, SESSIONS, portal, emission_rate="minute")
    closes = minute_only.frames["BBB"]["close"]
    minutes = CALENDAR.sessions_minutes(SESSIONS[0], SESSIONS[-1])
    returns = source.get_range(minutes[0], minutes[-1])
    assert list(returns.index) == list(minutes)
    first = _minute(SESSIONS[0], 0)
    assert returns.loc[first] == pytest.approx(closes.loc[first] / bars[0]["open"] - 1, abs=1e-12)
    np.testing.assert_allclose(
        returns.iloc[1:].to_numpy(), closes.pct_change().iloc[1:].to_numpy(), atol=1e-12
    )
    np.testing.assert_allclose(
        source.daily_returns(SESSIONS[0], SESSIONS[-1]).to_numpy(), daily, atol=1e-12
    )


def test_open_ended_minute_only_bundle_records_the_minutes_span(rustybt_root: Path) -> None:
    """Registered without start/end sessions, the bundle spans the sessions of its minutes."""
    frames = _minute_frames()
    name = f"{NAME}-open-ended"
    bundles.register(name, _ingest_minute_only(frames))
    try:
        bundles.ingest(name)
        with bundles.load(name) as data:
            assert data.metadata["start_session"] == str(SESSIONS[0].date())
            assert data.metadata["end_session"] == str(SESSIONS[-1].date())
            assert list(data.equity_daily_bar_reader.sessions) == list(SESSIONS)
            assert data.equity_minute_bar_reader is not None
            assert list(data.equity_minute_bar_reader.sessions) == list(SESSIONS)
        perf = rustybt.run_algorithm(
            SESSIONS[1],
            SESSIONS[-1],
            lambda context: None,
            CAPITAL,
            data_frequency="minute",
            bundle=name,
            benchmark_symbol="BBB",
        )
        closes = [MinuteOnly(name, frames).day_bar("BBB", day)["close"] for day in SESSIONS]
        expected = np.cumprod(np.array(closes[1:]) / np.array(closes[:-1])) - 1
        np.testing.assert_allclose(perf["benchmark_period_return"].to_numpy(), expected, atol=1e-12)
    finally:
        bundles.unregister(name)
