"""run_algorithm end to end on the demo bundle: examples, fills, errors, the API surface."""

from __future__ import annotations

import gc
import runpy
import threading
import weakref
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import rustybt
from rustybt import api
from rustybt.algorithm import API_METHODS, TradingAlgorithm
from rustybt.api import (
    order,
    order_target_percent,
    record,
    schedule_function,
    set_commission,
    set_max_order_size,
    set_slippage,
    set_symbol_lookup_date,
    symbol,
)
from rustybt.calendars import get_calendar
from rustybt.data import bundles
from rustybt.exceptions import (
    ConfigValidationError,
    InvalidOrderError,
    OrderRejectedError,
    StrategyError,
    TradingControlViolation,
)
from rustybt.finance.models import commission, slippage
from rustybt.finance.orders import execution
from rustybt.finance.orders.order import OrderStatus
from rustybt.sim.events import date_rules
from tests.unit.finance.metrics.test_metrics import COLUMNS as ZIPLINE_COLUMNS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _example(name: str) -> dict[str, Any]:
    return runpy.run_path(str(EXAMPLES / name))


@pytest.mark.parametrize(
    ("name", "start", "end", "recorded"),
    [
        ("buyapple.py", "2016-01-04", "2016-06-30", {"AAPL"}),
        ("buy_and_hold.py", "2019-01-02", "2019-12-31", {"cash", "positions"}),
        ("dual_moving_average.py", "2016-01-04", "2018-12-31", {"AAPL", "short_mavg"}),
        ("olmar.py", "2020-01-02", "2020-06-30", {"max_weight"}),
    ],
)
def test_examples_daily(demo: Path, name: str, start: str, end: str, recorded: set[str]) -> None:
    ns = _example(name)
    collector_before = (gc.isenabled(), gc.get_freeze_count(), gc.get_threshold())
    perf = rustybt.run_algorithm(
        start,
        end,
        ns["initialize"],
        100_000,
        handle_data=ns["handle_data"],
        analyze=ns.get("analyze"),
        benchmark_symbol="SPY",
    )
    with bundles.load("demo") as data:
        sessions = data.calendar.sessions_in_range(start, end)
    assert len(perf) == len(sessions)
    # The run leaves the collector as it found it.
    assert (gc.isenabled(), gc.get_freeze_count(), gc.get_threshold()) == collector_before
    assert set(perf.columns) >= ZIPLINE_COLUMNS
    assert recorded <= set(perf.columns)
    assert perf["transactions"].map(len).sum() > 0
    assert np.isfinite(perf["portfolio_value"].to_numpy(dtype=float)).all()
    assert perf.index.tz is not None and str(perf.index.tz) == "UTC"
    # the benchmark was SPY: its returns are not all zero
    assert perf["benchmark_period_return"].abs().sum() > 0
    # accounting identity of every row
    np.testing.assert_allclose(
        perf["portfolio_value"], perf["ending_cash"] + perf["ending_value"], rtol=1e-12
    )


@pytest.mark.parametrize(
    "name", ["buyapple.py", "buy_and_hold.py", "dual_moving_average.py", "olmar.py"]
)
def test_examples_minute(demo: Path, name: str) -> None:
    ns = _example(name)
    perf = rustybt.run_algorithm(
        "2024-03-04",
        "2024-03-06",
        ns["initialize"],
        1_000_000,
        handle_data=ns["handle_data"],
        data_frequency="minute",
    )
    assert len(perf) == 3
    txns = [t for day in perf["transactions"] for t in day]
    assert txns
    # minute fills happen at minute bars inside the sessions, not at midnight
    assert all(t["dt"].hour != 0 for t in txns)


def test_buyapple_fills_at_next_close_with_default_costs(demo: Path) -> None:
    """Orders placed at bar t fill at bar t+1's close + 5 bp, PerShare(0.001) commission."""
    ns = _example("buyapple.py")
    perf, algo = rustybt.run_algorithm(
        "2016-01-04",
        "2016-01-08",
        ns["initialize"],
        10_000,
        handle_data=ns["handle_data"],
        return_algorithm=True,
    )
    with bundles.load("demo") as data:
        aapl = data.asset_finder.lookup_symbol("AAPL")
        reader = data.equity_daily_bar_reader
        sessions = list(perf.index.tz_convert(None).normalize())
        closes = [reader.get_value(aapl.sid, s, "close") for s in sessions]
    assert perf["transactions"].iloc[0] == []  # nothing fills on the first bar
    for day in range(1, 5):
        [txn] = perf["transactions"].iloc[day]
        assert txn["amount"] == 10
        assert txn["price"] == pytest.approx(closes[day] * 1.0005, rel=1e-12)
    ledger = algo.ledger
    export = ledger.export()
    fills = export["transactions"]
    assert len(fills) == 4
    cash = Decimal(10_000)
    for price in fills["price"]:
        notional = (Decimal(10) * price).quantize(Decimal("0.01"))
        cash -= notional + Decimal("0.01")  # 10 shares x 0.001, rounded to the cent
    assert ledger.cash == cash
    assert isinstance(ledger.cash, Decimal)
    assert ledger.positions[aapl].amount == Decimal(40)
    assert (
        export["portfolio_value"]
        == ledger.cash + Decimal(40) * ledger.positions[aapl].last_sale_price
    )


def test_get_order_finds_old_filled_orders(demo: Path) -> None:
    """Filled orders leave the live book but get_order still answers for them."""
    seen: dict[str, Any] = {}

    def initialize(context: Any) -> None:
        context.aapl = api.symbol("AAPL")
        context.ids = []

    def handle_data(context: Any, data: Any) -> None:
        if len(context.ids) < 3:
            context.ids.append(api.order(context.aapl, 5))
        else:
            for oid in context.ids:
                o = api.get_order(oid)
                seen[oid] = (o.id, o.status, o.amount, o.filled, o.asset)

    perf = rustybt.run_algorithm(
        "2016-01-04", "2016-01-12", initialize, 10_000, handle_data=handle_data
    )
    fills = {t["order_id"]: t for day in perf["transactions"] for t in day}
    assert set(seen) == set(fills) and len(seen) == 3
    for oid, (id_, status, amount, filled, asset) in seen.items():
        assert id_ == oid and status == OrderStatus.FILLED
        assert amount == filled == Decimal(5) and asset.symbol == "AAPL"


def test_class_based_algorithm(demo: Path) -> None:
    class Momentum(TradingAlgorithm):
        def initialize(self) -> None:
            self.asset = self.symbol("MSFT")
            self.calls = 0

        def handle_data(self, data: Any) -> None:
            self.calls += 1
            if self.calls == 2:
                self.order_target_percent(self.asset, 0.5)
            self.record(weight=self.portfolio.current_portfolio_weights.get(self.asset, 0.0))

    perf = rustybt.run_algorithm(
        "2018-01-02", "2018-01-31", capital_base=50_000, algorithm_class=Momentum
    )
    assert perf["weight"].iloc[0] == 0.0
    assert perf["weight"].iloc[-1] == pytest.approx(0.5, abs=0.05)


def test_scheduled_function_and_commission_models(demo: Path) -> None:
    fired: list[pd.Timestamp] = []

    def initialize(context: Any) -> None:
        context.asset = symbol("KO")
        set_commission(us_equities=commission.PerTrade(cost=1.0))
        set_slippage(us_equities=slippage.NoSlippage())
        schedule_function(rebalance, date_rules.week_start())

    def rebalance(context: Any, data: Any) -> None:
        fired.append(context.get_datetime())
        order(context.asset, 5)

    perf = rustybt.run_algorithm("2019-01-07", "2019-01-25", initialize, 10_000)
    assert [d.day_name() for d in fired] == ["Monday", "Monday", "Tuesday"]  # MLK day 01-21
    txns = [t for day in perf["transactions"] for t in day]
    assert len(txns) == 3  # each fills at the next session's close
    with bundles.load("demo") as data:
        ko = data.asset_finder.lookup_symbol("KO")
        for t in txns:
            close = data.equity_daily_bar_reader.get_value(
                ko.sid, t["dt"].tz_convert(None).normalize(), "close"
            )
            assert t["price"] == pytest.approx(close)  # NoSlippage: the close itself
    orders = [o for day in perf["orders"] for o in day if o["filled"]]
    assert {o["commission"] for o in orders} == {1.0}


def _run_with(handle_data: Any, initialize: Any = None, **kwargs: Any) -> pd.DataFrame:
    def init(context: Any) -> None:
        context.asset = symbol("AAPL")
        if initialize is not None:
            initialize(context)

    return rustybt.run_algorithm(
        "2018-01-02", "2018-01-10", init, 10_000, handle_data=handle_data, **kwargs
    )


def test_the_collector_stays_on_and_is_left_as_it_was(demo: Path) -> None:
    """The collector runs in the user's code; a reference cycle dropped in a session is
    freed by the session's end (its survivors are frozen then, and unfrozen after the
    run); the collector's state after the run is the state before it."""

    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: reference counting alone never frees it

    seen: list[tuple[pd.Timestamp, bool, bool | None]] = []
    dropped: list[tuple[pd.Timestamp, weakref.ref[Node]]] = []

    def handle_data(context: Any, data: Any) -> None:
        now = context.get_datetime()
        alive = dropped[-1][1]() is not None if dropped else None
        seen.append((now, gc.isenabled(), alive))
        if not dropped or dropped[-1][0].date() != now.date():
            dropped.append((now, weakref.ref(Node())))

    before = (gc.isenabled(), gc.get_freeze_count(), gc.get_threshold())
    # The demo's minute bars start in 2024: the run says so, and goes on.
    with pytest.warns(UserWarning, match="7 of 7 sessions without any minute bar"):
        _run_with(handle_data, data_frequency="minute")
    assert (gc.isenabled(), gc.get_freeze_count(), gc.get_threshold()) == before
    assert seen and all(enabled for _, enabled, _ in seen)
    firsts = [i for i, (now, _, _) in enumerate(seen) if i and seen[i - 1][0].date() != now.date()]
    assert firsts and all(seen[i][2] is False for i in firsts)


def test_a_callers_frozen_objects_stay_frozen(demo: Path) -> None:
    """With objects frozen by the caller, the run freezes nothing and unfreezes nothing."""
    counts: list[int] = []
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        _run_with(lambda context, data: counts.append(gc.get_freeze_count()))
        # (The count drops when a frozen object is freed; it never grows.)
        assert counts and max(counts) <= frozen
        assert frozen // 2 < gc.get_freeze_count() <= frozen  # not unfrozen
    finally:
        gc.unfreeze()


def test_every_tenth_run_of_a_process_begins_by_freeing_what_earlier_runs_left(
    demo: Path,
) -> None:
    """A dropped run's objects (in reference cycles, unfrozen into the oldest
    generation) are freed by a full collection at the start of every tenth run."""
    from rustybt.sim import loop

    def order_once(context: Any, data: Any) -> None:
        order(context.asset, 1)

    gc.disable()  # no collection of Python's own in between (the test process has run others)
    try:
        gc.collect()
        loop._runs_since_collection[0] = 0
        for _ in range(loop.COLLECT_EVERY_RUNS):
            _run_with(order_once)
        left = gc.collect()  # nothing freed them: every run's cycles
        assert left > 1000
        loop._runs_since_collection[0] = 0
        for _ in range(loop.COLLECT_EVERY_RUNS + 1):
            _run_with(order_once)
        assert gc.collect() < left / 5  # the eleventh run began with a full collection
    finally:
        gc.enable()


def test_user_exception_names_file_line_and_time(demo: Path) -> None:
    def handle_data(context: Any, data: Any) -> None:
        if context.get_datetime().day == 4:
            raise ZeroDivisionError("boom")

    with pytest.raises(StrategyError) as info:
        _run_with(handle_data)
    message = str(info.value)
    assert "ZeroDivisionError: boom" in message
    assert __file__ in message
    assert "2018-01-04 21:00:00+00:00" in message
    assert info.value.context["user_line"] > 0
    assert isinstance(info.value.__cause__, ZeroDivisionError)


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        (lambda c, d: order(c.asset, float("nan")), InvalidOrderError, ["nan", "AAPL"]),
        (lambda c, d: order(c.asset, 10, limit_price=0), InvalidOrderError, ["limit"]),
        (lambda c, d: order("AAPL", 10), InvalidOrderError, ["not an Asset"]),
    ],
)
def test_bad_orders_are_clear_errors(
    demo: Path, body: Any, error: type[Exception], words: list[str]
) -> None:
    with pytest.raises(error) as info:
        _run_with(body)
    message = str(info.value)
    for word in words:
        assert word in message
    assert "2018-01-02" in message  # the simulation time
    assert __file__ in message  # and where in the algorithm


@pytest.mark.parametrize(
    ("ticker", "lookup", "start", "words"),
    [
        ("MON", "2018-01-02", "2019-01-02", ["MON", "delisted"]),
        ("UBER", "2020-01-02", "2018-01-02", ["UBER", "starts trading on 2019-05-10"]),
    ],
)
def test_ordering_outside_an_assets_life(
    demo: Path, ticker: str, lookup: str, start: str, words: list[str]
) -> None:
    def initialize(context: Any) -> None:
        set_symbol_lookup_date(lookup)
        context.asset = symbol(ticker)

    def handle_data(context: Any, data: Any) -> None:
        order(context.asset, 10)

    with pytest.raises(OrderRejectedError) as info:
        rustybt.run_algorithm(start, pd.Timestamp(start) + pd.Timedelta(days=5), initialize,
                              10_000, handle_data=handle_data)  # fmt: skip
    message = str(info.value)
    for word in words:
        assert word in message
    assert start in message


def test_unknown_asset_object(demo: Path) -> None:
    from rustybt.assets import Equity
    from rustybt.assets.asset_types import exchange_info_for

    ghost = Equity(9999, exchange_info_for("NYSE"), "GHOST")
    with pytest.raises(InvalidOrderError, match="unknown asset Equity\\(9999 \\[GHOST\\]\\)"):
        _run_with(lambda c, d: order(ghost, 1))


def test_trading_control_fail_and_log(demo: Path, caplog: pytest.LogCaptureFixture) -> None:
    def init_fail(context: Any) -> None:
        set_max_order_size(max_shares=5)

    with pytest.raises(TradingControlViolation) as info:
        _run_with(lambda c, d: order(c.asset, 10), init_fail)
    assert "AAPL" in str(info.value) and "10" in str(info.value)

    def init_log(context: Any) -> None:
        set_max_order_size(max_shares=5, on_error="log")

    with caplog.at_level("WARNING"):
        perf = _run_with(lambda c, d: order(c.asset, 10), init_log)
    assert any("MaxOrderSize" in r.getMessage() for r in caplog.records)
    assert perf["transactions"].map(len).sum() > 0


def test_configuration_only_in_initialize(demo: Path) -> None:
    with pytest.raises(
        ConfigValidationError, match="set_commission can only be called in initialize"
    ):
        _run_with(lambda c, d: set_commission(us_equities=commission.NoCommission()))


def test_no_ordering_in_before_trading_start(demo: Path) -> None:
    def before(context: Any, data: Any) -> None:
        order(context.asset, 1)

    def init(context: Any) -> None:
        context.asset = symbol("AAPL")

    with pytest.raises(OrderRejectedError, match="before_trading_start"):
        rustybt.run_algorithm("2018-01-02", "2018-01-05", init, 10_000, before_trading_start=before)


def test_api_outside_an_algorithm() -> None:
    with pytest.raises(StrategyError, match="only be called while an algorithm runs"):
        record(x=1)


def test_api_covers_every_api_method() -> None:
    for name in API_METHODS:
        assert callable(getattr(api, name)), name
        assert name in api.__all__
    assert {"attach_pipeline", "pipeline_output"} <= set(api.__all__)


def test_two_simulations_in_threads_do_not_mix(demo: Path) -> None:
    def make(weight: float) -> Any:
        def initialize(context: Any) -> None:
            context.asset = symbol("JPM")

        def handle_data(context: Any, data: Any) -> None:
            order_target_percent(context.asset, weight)
            record(weight=weight)

        return initialize, handle_data

    results: dict[float, pd.DataFrame] = {}

    def run(weight: float) -> None:
        init, hd = make(weight)
        results[weight] = rustybt.run_algorithm(
            "2019-03-01", "2019-04-30", init, 100_000, handle_data=hd
        )

    threads = [threading.Thread(target=run, args=(w,)) for w in (0.25, 0.75)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sequential = rustybt.run_algorithm(
        "2019-03-01", "2019-04-30", *make(0.25)[:1], 100_000, handle_data=make(0.25)[1]
    )
    assert set(results[0.25]["weight"]) == {0.25}
    assert set(results[0.75]["weight"]) == {0.75}
    pd.testing.assert_series_equal(results[0.25]["portfolio_value"], sequential["portfolio_value"])


def test_bracket_order_through_the_api(demo: Path) -> None:
    """A bracket entry fills, then exactly one of its exits closes the position."""
    from rustybt.finance.orders.execution import BracketOrder

    def initialize(context: Any) -> None:
        context.asset = symbol("TSLA")
        context.placed = False

    def handle_data(context: Any, data: Any) -> None:
        if not context.placed:
            price = data.current(context.asset, "price")
            order(context.asset, 100, style=BracketOrder(price * 1.03, price * 0.97))
            context.placed = True
        record(held=context.portfolio.positions[context.asset].amount)

    perf = rustybt.run_algorithm("2021-03-01", "2021-06-30", initialize, 1_000_000,
                                 handle_data=handle_data)  # fmt: skip
    txns = [t for day in perf["transactions"] for t in day]
    assert [t["amount"] for t in txns] == [100, -100]  # entry, then one exit
    assert perf["held"].iloc[-1] == 0
    entry, exit_ = txns
    ratio = exit_["price"] / entry["price"]
    assert ratio > 1.02 or ratio < 0.98  # the take-profit or the stop-loss, not a random sale


def test_risk_metrics_match_empyrical(demo: Path) -> None:
    import empyrical as ep

    ns = _example("buy_and_hold.py")
    perf = rustybt.run_algorithm(
        "2017-01-03", "2018-12-31", ns["initialize"], 100_000,
        handle_data=ns["handle_data"], benchmark_symbol="SPY",
    )  # fmt: skip
    returns = perf["returns"].to_numpy(dtype=float)
    with bundles.load("demo") as data:
        spy = data.asset_finder.lookup_symbol("SPY")
        sessions = perf.index.tz_convert(None).normalize()
        reader = data.equity_daily_bar_reader
        before = data.calendar.previous_session(sessions[0])
        first_close = reader.get_value(spy.sid, before, "close")
        last_close = reader.get_value(spy.sid, sessions[-1], "close")
        ratios = [
            r
            for when, r in data.adjustment_reader.get_adjustments_for_sid("dividends", spy.sid)
            if before < when <= sessions[-1]
        ]
    last = perf.iloc[-1]
    assert last["sharpe"] == pytest.approx(ep.sharpe_ratio(returns), rel=1e-9)
    assert last["sortino"] == pytest.approx(ep.sortino_ratio(returns), rel=1e-9)
    assert last["max_drawdown"] == pytest.approx(ep.max_drawdown(returns), rel=1e-9)
    assert last["algo_volatility"] == pytest.approx(ep.annual_volatility(returns), rel=1e-9)
    # The benchmark is SPY's dividend-adjusted daily return, as zipline's: its
    # total is the close ratio (from the session before the start, since the
    # first day's return counts) times 1/ratio of each dividend in the span.
    expected = last_close / first_close / float(np.prod(ratios)) - 1
    assert ratios and last["benchmark_period_return"] == pytest.approx(expected, rel=1e-9)
    cumulative = perf["benchmark_period_return"].to_numpy(dtype=float) + 1
    bench = np.concatenate([[cumulative[0] - 1], cumulative[1:] / cumulative[:-1] - 1])
    alpha, beta = ep.alpha_beta_aligned(returns, bench)
    assert last["beta"] == pytest.approx(beta, rel=1e-6)
    assert last["alpha"] == pytest.approx(alpha, rel=1e-6)


def test_minute_emission_benchmark_from_the_first_minute_session(demo: Path) -> None:
    """set_benchmark with minute emission, starting on the demo's first minute-bar session.

    No minute bar precedes the first minute; the benchmark's first return is
    taken from the previous session's daily close, so the daily benchmark
    returns are those of daily emission.
    """

    def initialize(context: Any) -> None:
        api.set_benchmark(symbol("SPY"))

    start, end = "2024-01-02", "2024-01-05"
    perfs = {
        rate: rustybt.run_algorithm(
            start, end, initialize, 100_000, data_frequency="minute", emission_rate=rate
        )
        for rate in ("minute", "daily")
    }
    minute, daily = perfs["minute"], perfs["daily"]
    assert len(minute) == len(daily) == 4
    np.testing.assert_allclose(
        minute["benchmark_period_return"].to_numpy(dtype=float),
        daily["benchmark_period_return"].to_numpy(dtype=float),
        atol=1e-12,
    )
    # The first session's return is close to close, from the session before it.
    with bundles.load("demo") as data:
        spy = data.asset_finder.lookup_symbol("SPY")
        reader = data.equity_daily_bar_reader
        first = pd.Timestamp(start)
        before = data.calendar.previous_session(first)
        ratio = reader.get_value(spy.sid, first, "close") / reader.get_value(
            spy.sid, before, "close"
        )
        dividends = data.adjustment_reader.get_adjustments_for_sid("dividends", spy.sid)
    assert not [when for when, _ in dividends if before < when <= pd.Timestamp(end)]
    assert minute["benchmark_period_return"].iloc[0] == pytest.approx(ratio - 1, rel=1e-9)


@pytest.mark.parametrize("call", ["order_target_percent", "order_target_value"])
def test_zero_target_closes_the_position_then_places_nothing(demo: Path, call: str) -> None:
    ids: list[str | None] = []

    def handle_data(context: Any, data: Any) -> None:
        context.bar = getattr(context, "bar", 0) + 1
        if context.bar == 1:
            order(context.asset, 7)
        elif context.bar in (3, 5):
            ids.append(getattr(api, call)(context.asset, 0.0))

    perf = _run_with(handle_data)
    fills = [t["amount"] for day in perf["transactions"] for t in day]
    assert fills == [7, -7]
    assert ids[0] is not None and ids[1] is None  # flat: nothing to order
    assert perf["positions"].iloc[-1] == []


def test_target_orders_size_exactly_and_keep_their_style(demo: Path) -> None:
    """Targets size with Decimals from the bar's price; a limit price rides along."""
    seen: dict[str, Any] = {}

    def handle_data(context: Any, data: Any) -> None:
        context.bar = getattr(context, "bar", 0) + 1
        if context.bar != 2:
            return
        price = Decimal(repr(data.current(context.asset, "price")))
        value = context.ledger.portfolio_value
        seen["percent"] = (value * Decimal("0.3") / price).to_integral_value(rounding="ROUND_DOWN")
        seen["value"] = (Decimal(2000) / price).to_integral_value(rounding="ROUND_DOWN")
        first = api.order_target_percent(context.asset, 0.3, limit_price=1.0)
        second = api.order_target_value(context.asset, 2000)
        seen["orders"] = [context.get_order(first), context.get_order(second)]

    _run_with(handle_data)
    limit_order, market_order = seen["orders"]
    # Nothing is held yet (orders fill at the next bar): each target is sized from flat.
    assert limit_order.amount == seen["percent"] > 0 and limit_order.limit == 1.0
    assert market_order.amount == seen["value"] > 0 and market_order.limit is None


def test_market_targets_size_as_the_checked_path_does(demo: Path) -> None:
    """A plain target order takes the inlined path; an explicit MarketOrder style the
    checked one. In one bar both see the same holdings and value: equal amounts."""
    targets = [0.3, 0.0, 0.05, 1.0, 0.25, -0.2, 0.0, 0.1]
    pairs: list[tuple[Any, Any]] = []

    def handle_data(context: Any, data: Any) -> None:
        context.bar = getattr(context, "bar", 0) + 1
        if context.bar > len(targets):
            return
        target = targets[context.bar - 1]
        for call, amount in (
            (api.order_target_percent, target),
            (api.order_target_value, target * 10_000),
        ):
            inlined = call(context.asset, amount)
            checked = call(context.asset, amount, style=execution.MarketOrder())
            pairs.append(
                tuple(
                    None if i is None else context.get_order(i).amount for i in (inlined, checked)
                )
            )
            for order_id in (inlined, checked):
                if order_id is not None:
                    context.cancel_order(order_id)
        # Then hold the target, so the next bar sizes against a position.
        api.order_target_percent(context.asset, target)

    perf = _run_with(handle_data)
    assert sum(len(day) for day in perf["transactions"]) > 3
    assert any(a is not None for a, _ in pairs) and any(a is None for a, _ in pairs)
    for inlined, checked in pairs:
        assert inlined == checked


def test_api_target_calls_reach_a_subclass_override(demo: Path) -> None:
    """The api's target functions take the plain path straight to the algorithm,
    unless a subclass overrides the method: then the override is called."""
    calls: list[tuple[str, Any]] = []

    class Halving(TradingAlgorithm):
        def initialize(self) -> None:
            self.asset = self.symbol("MSFT")

        def order_target_percent(self, asset: Any, target: float, *args: Any) -> Any:
            calls.append(("percent", target))
            return super().order_target_percent(asset, target / 2, *args)

        def order_target_value(self, asset: Any, target: float, *args: Any) -> Any:
            calls.append(("value", target))
            return super().order_target_value(asset, target, *args)

        def handle_data(self, data: Any) -> None:
            if not calls:
                api.order_target_percent(self.asset, 0.5)
                api.order_target_value(asset=self.asset, target=0.0)

    perf = rustybt.run_algorithm(
        "2018-01-02", "2018-01-31", capital_base=50_000, algorithm_class=Halving
    )
    assert calls == [("percent", 0.5), ("value", 0.0)]
    (fill,) = [t for day in perf["transactions"] for t in day]
    # Sized as a quarter of the portfolio (the override halved the half), and
    # the zero target placed nothing (its order was not filled yet).
    assert 0.23 < fill["amount"] * fill["price"] / 50_000 < 0.27


def test_zero_target_on_a_flat_position_still_meets_the_controls(demo: Path) -> None:
    """zipline's controls see zero orders too: one zero target uses up a count of one."""

    def initialize(context: Any) -> None:
        api.set_max_order_count(1)

    def handle_data(context: Any, data: Any) -> None:
        assert api.order_target_percent(context.asset, 0.0) is None
        order(context.asset, 1)

    with pytest.raises(TradingControlViolation, match="MaxOrderCount"):
        _run_with(handle_data, initialize)


def test_order_session_is_the_calendars_at_every_minute(demo: Path) -> None:
    """The session orders are checked against (the loop's, set at each session's
    start) is the calendar's ``minute_to_session`` at every bar and before every open."""
    seen: list[tuple[pd.Timestamp, pd.Timestamp | None]] = []

    def before_trading_start(context: Any, data: Any) -> None:
        seen.append((context.datetime, context.router.session))

    def handle_data(context: Any, data: Any) -> None:
        seen.append((context.datetime, context.router.session))

    rustybt.run_algorithm(
        "2024-03-04",
        "2024-03-06",
        lambda context: None,
        100_000,
        handle_data=handle_data,
        before_trading_start=before_trading_start,
        data_frequency="minute",
    )
    calendar = get_calendar("XNYS")
    assert len(seen) == 3 * 391
    assert len({session for _, session in seen}) == 3
    for dt, session in seen:
        assert session == calendar.minute_to_session(dt, direction="next"), dt


def test_the_rooms_import_neither_the_algorithm_nor_the_runner() -> None:
    """The loop and the broker do not import the algorithm (it imports the loop to run
    itself), and nothing the runner assembles imports the runner."""
    import subprocess
    import sys

    code = (
        "import sys, rustybt.sim.loop, rustybt.brokers.simulated, rustybt.brokers\n"
        "assert 'rustybt.algorithm' not in sys.modules\n"
        "import rustybt.algorithm, rustybt.api\n"
        "assert 'rustybt.runner' not in sys.modules\n"
        "from rustybt.utils.run_algo import run_algorithm\n"
        "import rustybt.runner\n"
        "assert run_algorithm is rustybt.runner.run_algorithm\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
