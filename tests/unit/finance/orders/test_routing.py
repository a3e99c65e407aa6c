"""OrderRouter: an order's checks before the broker, on a real asset DB and blotter."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from rustybt.assets import AssetDBWriter, AssetFinder
from rustybt.brokers.simulated import SimulationBlotter
from rustybt.exceptions import InvalidOrderError, OrderRejectedError
from rustybt.finance.orders.routing import BAR, OrderRouter
from rustybt.finance.orders.sizing import Unit


@pytest.fixture
def finder(tmp_path: Path) -> AssetFinder:
    path = tmp_path / "assets.sqlite"
    equities = pd.DataFrame(
        {
            "symbol": ["AAPL", "GONE"],
            "start_date": pd.to_datetime(["2014-01-02", "2014-01-02"]),
            "end_date": pd.to_datetime(["2024-12-31", "2018-06-29"]),
            "exchange": ["NASDAQ", "NASDAQ"],
        },
        index=[0, 1],
    )
    exchanges = pd.DataFrame(
        {"exchange": ["NASDAQ"], "canonical_name": ["XNYS"], "country_code": "US"}
    )
    AssetDBWriter(path).write(equities=equities, exchanges=exchanges)
    return AssetFinder(path)


def _router(finder: AssetFinder, session: str) -> OrderRouter:
    router = OrderRouter(SimulationBlotter(), finder)
    router.phase = BAR
    router.start_session(pd.Timestamp(session))
    return router


def _order(router: OrderRouter, asset: object, amount: int) -> str | None:
    return router.place("order", asset, amount, Unit.SHARES, False)


def test_an_order_in_the_assets_span_reaches_the_broker(finder: AssetFinder) -> None:
    router = _router(finder, "2018-06-29")
    gone = finder.retrieve_asset(1)
    first, second = _order(router, gone, 5), _order(router, gone, -3)
    orders = router.broker.open_orders[gone]
    assert [o.id for o in orders] == [first, second]
    assert [o.amount for o in orders] == [Decimal(5), Decimal(-3)]


def test_the_next_session_checks_the_span_again(finder: AssetFinder) -> None:
    # Found tradeable on its last session; refused on the next one (the
    # session's cache of tradeable assets starts empty every session).
    router = _router(finder, "2018-06-29")
    gone = finder.retrieve_asset(1)
    assert _order(router, gone, 5) is not None
    router.start_session(pd.Timestamp("2018-07-02"))
    with pytest.raises(OrderRejectedError, match="delisted"):
        _order(router, gone, 5)
    # Another asset still trades.
    assert _order(router, finder.retrieve_asset(0), 5) is not None


def test_a_session_before_the_start_is_refused_every_time(finder: AssetFinder) -> None:
    router = _router(finder, "2013-12-31")
    aapl = finder.retrieve_asset(0)
    for _ in range(2):
        with pytest.raises(OrderRejectedError, match="starts trading on 2014-01-02"):
            _order(router, aapl, 5)


def test_a_sid_is_not_an_asset_even_once_its_asset_was_found(finder: AssetFinder) -> None:
    router = _router(finder, "2018-06-29")
    assert _order(router, finder.retrieve_asset(0), 1) is not None
    with pytest.raises(InvalidOrderError, match="is not an Asset"):
        _order(router, 0, 1)


@pytest.mark.parametrize("amount", ["5", "abc"])
def test_an_amount_given_as_text_is_refused(finder: AssetFinder, amount: str) -> None:
    # zipline refuses text amounts; Decimal would read "5" as a number.
    router = _router(finder, "2018-06-29")
    aapl = finder.retrieve_asset(0)
    with pytest.raises(InvalidOrderError, match="must be a finite number"):
        router.place("order", aapl, amount, Unit.SHARES, False)
    assert not router.broker.open_orders.get(aapl)


def test_a_zero_order_places_nothing(finder: AssetFinder) -> None:
    router = _router(finder, "2018-06-29")
    assert _order(router, finder.retrieve_asset(0), 0) is None
    assert not router.broker.open_orders


def test_a_session_moved_back_checks_the_span_again(finder: AssetFinder) -> None:
    router = _router(finder, "2014-01-03")
    aapl = finder.retrieve_asset(0)
    assert _order(router, aapl, 5) is not None
    router.start_session(pd.Timestamp("2014-01-06"))
    assert _order(router, aapl, 5) is not None
    router.start_session(pd.Timestamp("2013-12-31"))
    with pytest.raises(OrderRejectedError, match="starts trading on 2014-01-02"):
        _order(router, aapl, 5)


def test_an_asset_delisted_later_than_another_is_still_checked(finder: AssetFinder) -> None:
    # Both found tradeable; once the earlier one's last session passes, both are
    # checked again: the later one still trades, the earlier one is refused.
    router = _router(finder, "2018-06-28")
    aapl, gone = finder.retrieve_asset(0), finder.retrieve_asset(1)
    assert _order(router, aapl, 1) is not None and _order(router, gone, 1) is not None
    router.start_session(pd.Timestamp("2018-07-02"))
    assert _order(router, aapl, 1) is not None
    with pytest.raises(OrderRejectedError, match="delisted"):
        _order(router, gone, 1)


def test_an_order_too_large_for_decimal_names_the_order(finder: AssetFinder) -> None:
    router = _router(finder, "2018-06-29")
    aapl = finder.retrieve_asset(0)
    with pytest.raises(InvalidOrderError) as raised:
        router.place("order", aapl, 1e30, Unit.SHARES, False)
    message = str(raised.value)
    assert message.startswith("order(Equity(0 [AAPL]), 1E+30) at ")
    assert "too large to size in exact Decimal arithmetic" in message
    assert "InvalidOperation" not in message


@pytest.mark.parametrize("call", ["order", "batch_market_order"])
@pytest.mark.parametrize("amount", [0.25, 1.75, -3.5])
def test_a_fraction_of_a_whole_share_is_refused_not_dropped(
    finder: AssetFinder, call: str, amount: float
) -> None:
    router = _router(finder, "2018-06-29")
    aapl = finder.retrieve_asset(0)
    with pytest.raises(InvalidOrderError) as raised:
        router.place(call, aapl, amount, Unit.SHARES, False)
    assert str(raised.value).startswith(
        f"{call}(Equity(0 [AAPL]), {amount}): Equity(0 [AAPL]) trades in whole units; "
        f"{amount} is not a whole number of units"
    )
    assert not router.broker.open_orders.get(aapl)


def test_a_count_within_zipline_s_tolerance_of_whole_is_that_count(finder: AssetFinder) -> None:
    router = _router(finder, "2018-06-29")
    aapl = finder.retrieve_asset(0)
    assert _order(router, aapl, 2.00001) is not None
    assert [o.amount for o in router.broker.open_orders[aapl]] == [Decimal(2)]
