"""MetricsTracker packets, the metrics registry and BenchmarkSource, on the ``_bundle_kit`` bundle.

Statistics are checked against empyrical called directly on the ledger's
daily returns, as zipline's metrics call it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import empyrical as ep
import numpy as np
import pandas as pd
import pytest

from rustybt.data.portal import DataPortal
from rustybt.exceptions import AssetValidationError
from rustybt.finance import metrics
from rustybt.finance.metrics import MetricsTracker, daily_stats_frame
from rustybt.finance.orders.order import Order
from rustybt.finance.orders.transaction import Transaction
from rustybt.sources import BenchmarkSource
from tests.unit.data._bundle_kit import Bundle, write_bundle

D = Decimal

COLUMNS = {
    "algo_volatility",
    "algorithm_period_return",
    "alpha",
    "benchmark_period_return",
    "benchmark_volatility",
    "beta",
    "capital_used",
    "ending_cash",
    "ending_exposure",
    "ending_value",
    "excess_return",
    "gross_leverage",
    "long_exposure",
    "long_value",
    "longs_count",
    "max_drawdown",
    "max_leverage",
    "net_leverage",
    "orders",
    "period_close",
    "period_label",
    "period_open",
    "pnl",
    "portfolio_value",
    "positions",
    "returns",
    "sharpe",
    "short_exposure",
    "short_value",
    "shorts_count",
    "sortino",
    "starting_cash",
    "starting_exposure",
    "starting_value",
    "trading_days",
    "transactions",
    "treasury_period_return",
}

# session index -> [(sid, amount, price, commission)], filled at the session's close
TRADES = {
    0: [(1, 10, "100", "1.00")],
    1: [(2, -20, "42", "0.50")],
    3: [(1, 5, "103", "0.25")],
    6: [(2, 20, "47", "0.50")],
}
BENCH = [0.001 * ((i % 5) - 2) for i in range(15)]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    b = write_bundle(tmp_path_factory.mktemp("metrics-bundle"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def portal(bundle: Bundle) -> DataPortal:
    return bundle.portal()


def run_daily(
    bundle: Bundle, portal: DataPortal, metrics_set: str = "default"
) -> tuple[MetricsTracker, list[dict[str, Any]]]:
    """Drive a tracker through every session the way the simulation loop does."""
    cal, sessions = bundle.calendar, bundle.sessions
    bench = BenchmarkSource(None, pd.Series(BENCH, index=sessions), cal, sessions, portal)
    tracker = MetricsTracker(
        cal,
        sessions[0],
        sessions[-1],
        10_000.0,
        "daily",
        "daily",
        bundle.asset_finder,
        metrics.load(metrics_set),
    )
    tracker.handle_start_of_simulation(bench)
    packets = []
    for i, session in enumerate(sessions):
        tracker.handle_market_open(session, portal)
        splits = portal.get_splits(list(tracker.positions), session)
        if splits:
            tracker.handle_splits(splits)
        close = cal.session_close(session)
        for sid, amount, price, cost in TRADES.get(i, []):
            asset = bundle.asset(sid)
            order = Order(dt=close, asset=asset, amount=amount)
            tracker.process_order(order)
            txn = Transaction(asset, D(amount), close, D(price), order.id)
            tracker.process_transaction(txn)
            order.filled = D(amount)
            tracker.process_order(order)
            tracker.process_commission({"asset": asset, "order": order, "cost": D(cost)})
        packets.append(tracker.handle_market_close(close, portal))
    assert tracker.handle_simulation_end(portal) == {}
    return tracker, packets


@pytest.fixture(scope="module")
def daily_run(bundle: Bundle, portal: DataPortal) -> tuple[MetricsTracker, list[dict[str, Any]]]:
    return run_daily(bundle, portal)


def rows(packets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for p in packets:
        row = dict(p["daily_perf"])
        row.update(p["cumulative_risk_metrics"])
        out.append(row)
    return out


def test_every_default_column_every_session(daily_run: Any, bundle: Bundle) -> None:
    _, packets = daily_run
    assert len(packets) == 15
    for i, packet in enumerate(packets):
        assert set(packet) == {
            "period_start",
            "period_end",
            "capital_base",
            "daily_perf",
            "cumulative_perf",
            "progress",
            "cumulative_risk_metrics",
        }
        assert packet["progress"] == (i + 1) / 15
    for row in rows(packets):
        assert set(row) == COLUMNS
    first = rows(packets)[0]
    assert first["period_open"] == pd.Timestamp("2024-01-02 14:31", tz="UTC")
    assert first["period_close"] == pd.Timestamp("2024-01-02 21:00", tz="UTC")


def test_first_day_conventions(daily_run: Any) -> None:
    first = rows(daily_run[1])[0]
    for field in ("algo_volatility", "sharpe", "sortino", "alpha", "beta", "benchmark_volatility"):
        assert first[field] is None, field
    assert first["max_drawdown"] == pytest.approx(-0.0001)  # day one lost 1.00 of 10000
    assert first["excess_return"] == first["treasury_period_return"] == 0.0
    assert first["trading_days"] == 1
    assert first["period_label"] == "2024-01"
    assert first["benchmark_period_return"] == pytest.approx(BENCH[0])


def test_hand_computed_money_fields(daily_run: Any) -> None:
    r = rows(daily_run[1])
    # day 0: buy 10 AAA at 100, commission 1; AAA closes 100
    assert r[0]["capital_used"] == -1001.0
    assert (r[0]["starting_cash"], r[0]["ending_cash"]) == (10_000.0, 8999.0)
    assert (r[0]["starting_value"], r[0]["ending_value"]) == (0.0, 1000.0)
    assert r[0]["portfolio_value"] == 9999.0
    assert r[0]["pnl"] == -1.0
    assert r[0]["returns"] == pytest.approx(-0.0001, rel=1e-12)
    assert r[0]["positions"] == [
        {
            "sid": r[0]["positions"][0]["sid"],
            "amount": 10,
            "cost_basis": 100.1,
            "last_sale_price": 100.0,
        }
    ]
    assert int(r[0]["positions"][0]["sid"]) == 1
    assert [t["amount"] for t in r[0]["transactions"]] == [10]
    assert [(o["amount"], o["filled"]) for o in r[0]["orders"]] == [(10, 10)]
    # day 1: short 20 BBB at 42 (close 42), commission 0.50; AAA 101
    assert r[1]["capital_used"] == 839.5
    assert r[1]["ending_cash"] == 9838.5
    assert r[1]["starting_value"] == 1000.0
    assert r[1]["ending_value"] == 1010.0 - 840.0
    assert (r[1]["long_value"], r[1]["short_value"]) == (1010.0, -840.0)
    assert (r[1]["longs_count"], r[1]["shorts_count"]) == (1, 1)
    assert r[1]["portfolio_value"] == 10_008.5
    assert r[1]["pnl"] == 9.5
    assert r[1]["returns"] == pytest.approx(10_008.5 / 9999 - 1, rel=1e-12)
    assert r[1]["gross_leverage"] == pytest.approx(1850 / 10_008.5, rel=1e-12)
    assert r[1]["net_leverage"] == pytest.approx(170 / 10_008.5, rel=1e-12)
    assert r[1]["algorithm_period_return"] == pytest.approx(0.00085, rel=1e-12)
    # no trades on day 2: nothing listed
    assert r[2]["orders"] == [] and r[2]["transactions"] == [] and r[2]["capital_used"] == 0.0
    # money fields are floats in the packet
    assert all(type(r[1][k]) is float for k in ("ending_cash", "pnl", "long_value", "returns"))


def test_statistics_match_empyrical(daily_run: Any) -> None:
    tracker, packets = daily_run
    returns = tracker.ledger.daily_returns_array
    values = [row["portfolio_value"] for row in rows(packets)]
    expected_returns = np.array(values) / np.r_[10_000.0, values[:-1]] - 1
    np.testing.assert_allclose(returns, expected_returns, rtol=1e-9, atol=1e-15)
    bench = np.array(BENCH)
    max_lev = 0.0
    for ix, row in enumerate(rows(packets)):
        r = returns[: ix + 1]

        def same(value: Any, expected: Any) -> None:
            if not np.isfinite(expected):
                assert value is None
            else:
                assert value == pytest.approx(float(expected), rel=1e-12, abs=1e-15)

        same(row["algo_volatility"], ep.annual_volatility(r))
        same(row["sharpe"], ep.sharpe_ratio(r))
        same(row["sortino"], ep.sortino_ratio(r))
        same(row["max_drawdown"], ep.max_drawdown(r))
        alpha, beta = ep.alpha_beta_aligned(r, bench[: ix + 1])
        same(row["alpha"], alpha)
        same(row["beta"], beta)
        same(row["benchmark_volatility"], ep.annual_volatility(bench[: ix + 1]))
        same(row["benchmark_period_return"], np.prod(1 + bench[: ix + 1]) - 1)
        assert row["algorithm_period_return"] == pytest.approx(
            np.prod(1 + r) - 1, rel=1e-9, abs=1e-15
        )
        max_lev = max(max_lev, row["gross_leverage"])
        assert row["max_leverage"] == max_lev
        assert row["trading_days"] == ix + 1


def test_daily_stats_frame(daily_run: Any) -> None:
    frame = daily_stats_frame(daily_run[1] + [{}])
    assert set(frame.columns) == COLUMNS
    # In name order, whatever order the metrics (a set) wrote them in.
    assert list(frame.columns) == sorted(COLUMNS)
    reordered = [dict(p, daily_perf=dict(reversed(p["daily_perf"].items()))) for p in daily_run[1]]
    assert list(daily_stats_frame(reordered).columns) == list(frame.columns)
    assert len(frame) == 15
    assert str(pd.DatetimeIndex(frame.index).tz) == "UTC"
    assert frame["portfolio_value"].dtype == np.float64
    packet = dict(daily_run[1][0])
    packet["daily_perf"] = dict(packet["daily_perf"], recorded_vars={"x": 1.5})
    one = daily_stats_frame([packet], [{"y": 2}])
    assert set(one.columns) == COLUMNS | {"x", "y"}
    assert "recorded_vars" in packet["daily_perf"]  # not modified


def test_none_metrics_set_has_only_period_fields(bundle: Bundle, portal: DataPortal) -> None:
    tracker, packets = run_daily(bundle, portal, "none")
    for packet in packets:
        assert set(packet["daily_perf"]) == {"period_open", "period_close"}
        assert packet["cumulative_risk_metrics"] == {}
    # the ledger still keeps the books
    assert tracker.portfolio.portfolio_value == float(tracker.ledger.portfolio_value)
    assert not np.isnan(tracker.ledger.daily_returns_array).any()


def test_registry() -> None:
    assert {"default", "none"} <= set(metrics.metrics_sets)
    assert metrics.load("none") == set()
    with pytest.raises(ValueError, match="already registered"):
        metrics.register("default", set)
    with pytest.raises(ValueError, match="not already registered"):
        metrics.unregister("no-such-set")
    with pytest.raises(ValueError, match="options are"):
        metrics.load("no-such-set")

    @metrics.register("test-returns-only")
    def returns_only() -> set[Any]:
        return {metrics.Returns()}

    try:
        assert [type(m) for m in metrics.load("test-returns-only")] == [metrics.Returns]
    finally:
        metrics.unregister("test-returns-only")
    assert "test-returns-only" not in metrics.metrics_sets
    with pytest.raises(TypeError):
        metrics.metrics_sets["x"] = set  # type: ignore[index]


# --- the benchmark -----------------------------------------------------------------------


def test_benchmark_from_an_asset(bundle: Bundle, portal: DataPortal) -> None:
    cal, sessions = bundle.calendar, bundle.sessions
    aaa = bundle.asset(1)
    src = BenchmarkSource(aaa, None, cal, sessions, portal)
    returns = src.daily_returns(sessions[0], sessions[-1])
    assert returns.index.equals(sessions)
    # starts on the first session: open-to-close (close 100, open 99.5)
    assert returns.iloc[0] == pytest.approx(0.5 / 99.5)
    assert returns.iloc[1] == pytest.approx(101 / 100 - 1)
    # across the 2:1 split, prices are adjusted as of the last session
    assert returns.iloc[8] == pytest.approx(58 / 53.5 - 1)
    assert src.daily_returns(sessions[8]) == pytest.approx(58 / 53.5 - 1)
    # an asset that traded before the first session: close-to-close
    later = BenchmarkSource(aaa, None, cal, sessions[2:], portal)
    assert later.daily_returns(sessions[2]) == pytest.approx(102 / 101 - 1)


def test_benchmark_asset_must_cover_the_simulation(bundle: Bundle, portal: DataPortal) -> None:
    cal, sessions = bundle.calendar, bundle.sessions
    ccc = bundle.asset(3)  # sessions 4..12
    with pytest.raises(AssetValidationError, match="starts trading"):
        BenchmarkSource(ccc, None, cal, sessions, portal)
    with pytest.raises(AssetValidationError, match="stops trading"):
        BenchmarkSource(ccc, None, cal, sessions[4:], portal)


def test_benchmark_returns_series_and_zeros(bundle: Bundle) -> None:
    cal, sessions = bundle.calendar, bundle.sessions
    given = pd.Series([0.01, 0.02], index=sessions[[1, 3]].tz_localize("UTC"))
    src = BenchmarkSource(None, given, cal, sessions)
    out = src.daily_returns(sessions[0], sessions[4])
    assert out.tolist() == [0.0, 0.01, 0.0, 0.02, 0.0]
    zeros = BenchmarkSource(None, None, cal, sessions)
    assert (zeros.daily_returns(sessions[0], sessions[-1]) == 0).all()
    assert zeros.get_value(sessions[3]) == 0.0


# --- minute emission -------------------------------------------------------------------


def test_minute_emission(bundle: Bundle) -> None:
    cal = bundle.calendar
    sessions = bundle.sessions[7:9]  # minute bars exist for sessions 7..10
    portal = bundle.portal()
    aaa = bundle.asset(1)
    bench = BenchmarkSource(
        None, pd.Series([0.01, -0.02], index=sessions), cal, sessions, portal, "minute"
    )
    tracker = MetricsTracker(
        cal,
        sessions[0],
        sessions[-1],
        10_000.0,
        "minute",
        "minute",
        bundle.asset_finder,
        "default",
    )
    tracker.handle_start_of_simulation(bench)
    daily = []
    for i, session in enumerate(sessions):
        tracker.handle_market_open(session, portal)
        splits = portal.get_splits(list(tracker.positions), session)
        if splits:
            tracker.handle_splits(splits)
        minutes = cal.session_minutes(session)
        for j, minute in enumerate(minutes):
            if i == 0 and j == 0:
                tracker.process_transaction(Transaction(aaa, D(10), minute, D("106.6"), "o"))
            packet = tracker.handle_minute_close(minute, portal)
            assert packet["minute_perf"]["period_close"] == minute
        assert set(packet["minute_perf"]) | set(packet["cumulative_risk_metrics"]) == COLUMNS
        daily.append(tracker.handle_market_close(minutes[-1], portal))
    last = daily[-1]["daily_perf"]
    # session 8: AAA split 2:1 at the open; minute closes end at the daily close 58
    assert last["positions"][0]["amount"] == 20
    assert last["positions"][0]["last_sale_price"] == 58.0
    assert last["portfolio_value"] == pytest.approx(10_000 - 1066 + 20 * 58)
    risk = daily[-1]["cumulative_risk_metrics"]
    assert risk["benchmark_period_return"] == pytest.approx(1.01 * 0.98 - 1)
    assert risk["trading_days"] == 2


def assert_statistic(value: Any, expected: Any, keep_infinite: bool = False) -> None:
    """A packet's statistic against empyrical's: None where that is not finite."""
    expected = float(expected)
    if math.isnan(expected) or (math.isinf(expected) and not keep_infinite):
        assert value is None
    else:
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_minute_emission_statistics_every_minute(bundle: Bundle) -> None:
    """Each minute's risk fields are empyrical's over the completed sessions plus today so far."""
    cal = bundle.calendar
    sessions = bundle.sessions[7:11]  # the sessions with minute bars
    portal = bundle.portal()
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    bench = BenchmarkSource(aaa, None, cal, sessions, portal, "minute")
    bench_daily = bench.daily_returns(sessions[0], sessions[-1]).to_numpy(dtype=float)
    bench_minute = bench.get_range(
        cal.session_first_minute(sessions[0]), cal.session_close(sessions[-1])
    )
    tracker = MetricsTracker(
        cal, sessions[0], sessions[-1], 10_000.0, "minute", "minute", bundle.asset_finder, "default"
    )
    tracker.handle_start_of_simulation(bench)
    checked = 0
    for i, session in enumerate(sessions):
        tracker.handle_market_open(session, portal)
        splits = portal.get_splits(list(tracker.positions), session)
        if splits:
            tracker.handle_splits(splits)
        minutes = cal.session_minutes(session)
        for j, minute in enumerate(minutes):
            if j == 7:
                amount = 10 if i % 2 == 0 else -5
                tracker.process_transaction(Transaction(bbb, D(amount), minute, D("45"), "o"))
            risk = tracker.handle_minute_close(minute, portal)["cumulative_risk_metrics"]
            if j % 37 and j != len(minutes) - 1:
                continue  # empyrical over every minute would be slow; every 37th and the last
            r = tracker.ledger.daily_returns_array[: i + 1].copy()
            assert_statistic(risk["algo_volatility"], ep.annual_volatility(r))
            assert_statistic(risk["sharpe"], ep.sharpe_ratio(r))
            assert_statistic(risk["sortino"], ep.sortino_ratio(r))
            assert_statistic(risk["max_drawdown"], ep.max_drawdown(r))
            alpha, beta = ep.alpha_beta_aligned(r, bench_daily[: i + 1])
            assert_statistic(risk["alpha"], alpha)
            assert_statistic(risk["beta"], beta, keep_infinite=True)
            so_far = bench_minute.loc[:minute].to_numpy(dtype=float)
            assert_statistic(risk["benchmark_period_return"], np.prod(1 + so_far) - 1)
            today = np.prod(1 + bench_minute.loc[minutes[0] : minute].to_numpy(dtype=float)) - 1
            expected_vol = ep.annual_volatility(np.r_[bench_daily[:i], today])
            assert_statistic(risk["benchmark_volatility"], expected_vol)
            checked += risk["sharpe"] is not None and risk["beta"] is not None
        tracker.handle_market_close(minutes[-1], portal)
    assert checked > 25  # statistics exist from the second session


def _ledger_fields() -> list[Any]:
    return [
        metrics.StartOfPeriodLedgerField("portfolio.cash", "starting_cash"),
        metrics.DailyLedgerField("portfolio.cash", "ending_cash"),
        metrics.SimpleLedgerField("portfolio.portfolio_value", "value_now"),
        metrics.DailyLedgerField("position_tracker.stats.shorts_count"),
        metrics.DailyLedgerField("account.net_leverage"),
        metrics.DailyLedgerField("pnl", "ledger_pnl"),
    ]


def test_ledger_fields_together_write_what_they_write_apart(
    bundle: Bundle, portal: DataPortal
) -> None:
    """LedgerFields reads each owner once and writes the packet the fields write alone."""
    metrics.register("fields-apart", lambda: set(_ledger_fields()))
    metrics.register("fields-together", lambda: {metrics.LedgerFields(_ledger_fields())})
    try:
        _, apart = run_daily(bundle, portal, "fields-apart")
        _, together = run_daily(bundle, portal, "fields-together")
    finally:
        metrics.unregister("fields-apart")
        metrics.unregister("fields-together")
    assert len(apart) == len(together) == len(bundle.sessions)
    for one, other in zip(apart, together, strict=True):
        assert one["daily_perf"] == other["daily_perf"]
        assert one["cumulative_perf"] == other["cumulative_perf"]
    last = together[-1]
    assert set(last["daily_perf"]) >= {"starting_cash", "ending_cash", "value_now", "ledger_pnl"}
    assert "value_now" not in last["cumulative_perf"]  # a simple field: the period only
    assert last["cumulative_perf"]["starting_cash"] == 10_000.0
    assert isinstance(last["daily_perf"]["ledger_pnl"], float)
    assert [p["daily_perf"]["shorts_count"] for p in together][:8] == [0, 1, 1, 1, 1, 1, 0, 0]


def test_period_label_follows_the_month() -> None:
    """The label is made once a month and changes with the session's month (and year)."""
    label = metrics.PeriodLabel()
    seen = []
    for day in ["2023-12-29", "2024-01-02", "2024-01-31", "2024-02-01", "2025-02-03"]:
        label.start_of_session(None, pd.Timestamp(day), None)
        packet: dict[str, Any] = {"cumulative_risk_metrics": {}}
        label.end_of_session(packet, None, None, 0, None)
        seen.append(packet["cumulative_risk_metrics"]["period_label"])
    assert seen == ["2023-12", "2024-01", "2024-01", "2024-02", "2025-02"]


def test_portfolio_figures_come_from_the_ledger_decimals(
    bundle: Bundle, portal: DataPortal
) -> None:
    """The default set reads the portfolio's figures from the ledger's Decimals:
    the same floats as the portfolio view's."""
    tracker, packets = run_daily(bundle, portal)
    ledger, last = tracker.ledger, packets[-1]["daily_perf"]
    portfolio = ledger.portfolio
    assert last["ending_cash"] == portfolio.cash
    assert last["ending_value"] == portfolio.positions_value
    assert last["ending_exposure"] == portfolio.positions_exposure
    assert last["portfolio_value"] == portfolio.portfolio_value
    assert last["gross_leverage"] == ledger.account.gross_leverage
