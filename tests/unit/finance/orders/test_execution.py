"""Execution styles: tick rounding (checked against zipline 3.2.1's numbers) and validation."""

from __future__ import annotations

import math

import pytest

from rustybt.assets import Equity
from rustybt.assets.asset_types import exchange_info_for
from rustybt.exceptions import InvalidOrderError, OrderError
from rustybt.finance.orders.execution import (
    BracketOrder,
    LimitOrder,
    MarketOrder,
    OCOOrder,
    StopLimitOrder,
    StopOrder,
    TrailingStopOrder,
    asymmetric_round_price,
)

# (price, rounded preferring down, rounded preferring up) for a 0.01 tick, as zipline gives them.
ROUNDING_CASES = [
    (10.0149, 10.01, 10.02),
    (10.0095, 10.01, 10.01),
    (10.0094, 10.0, 10.01),
    (10.0195, 10.02, 10.02),
    (10.0194, 10.01, 10.02),
    (10.0105, 10.01, 10.01),
    (10.0106, 10.01, 10.02),
    (10.0005, 10.0, 10.0),
    (10.0006, 10.0, 10.01),
    (0.004, 0.0, 0.01),
    (100.124, 100.12, 100.13),
]


@pytest.mark.parametrize(("price", "down", "up"), ROUNDING_CASES)
def test_asymmetric_round_price_matches_zipline(price: float, down: float, up: float) -> None:
    assert asymmetric_round_price(price, True, 0.01) == down
    assert asymmetric_round_price(price, False, 0.01) == up


def test_asymmetric_round_price_other_ticks() -> None:
    # zipline returns 10.100000000000001 (tick * n in float); we return the clean decimal.
    assert asymmetric_round_price(10.12, True, 0.05) == 10.1
    assert asymmetric_round_price(10.12, False, 0.05) == 10.15
    assert asymmetric_round_price(1234.6, True, 1.0) == 1234.0
    assert asymmetric_round_price(1234.6, False, 1.0) == 1235.0


def test_limit_rounds_toward_the_trader_and_stop_the_other_way() -> None:
    # Buy limits lean down, sell limits up; stops the reverse.
    assert LimitOrder(10.0149).get_limit_price(is_buy=True) == 10.01
    assert LimitOrder(10.0149).get_limit_price(is_buy=False) == 10.02
    assert StopOrder(10.0149).get_stop_price(is_buy=True) == 10.02
    assert StopOrder(10.0149).get_stop_price(is_buy=False) == 10.01
    s = StopLimitOrder(limit_price=10.0149, stop_price=10.0149)
    assert (s.get_limit_price(True), s.get_stop_price(True)) == (10.01, 10.02)
    assert (s.get_limit_price(False), s.get_stop_price(False)) == (10.02, 10.01)
    assert LimitOrder(10.0).get_stop_price(True) is None
    assert StopOrder(10.0).get_limit_price(True) is None
    assert MarketOrder().get_limit_price(True) is None
    assert MarketOrder().get_stop_price(False) is None


def test_asset_tick_size_drives_rounding() -> None:
    coarse = Equity(1, exchange_info_for("NYSE"), symbol="X", tick_size=0.05)
    assert LimitOrder(10.12, asset=coarse).get_limit_price(False) == 10.15
    assert StopOrder(10.12, asset=coarse).get_stop_price(True) == 10.15


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, -math.inf, "ten", None, True])
def test_invalid_limit_and_stop_prices(bad: object) -> None:
    with pytest.raises(InvalidOrderError, match="limit price"):
        LimitOrder(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidOrderError, match="stop price"):
        StopOrder(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidOrderError):
        StopLimitOrder(10.0, bad)  # type: ignore[arg-type]


def test_invalid_order_error_is_an_order_error() -> None:
    with pytest.raises(OrderError):
        LimitOrder(-5)


def test_trailing_stop_validation() -> None:
    with pytest.raises(InvalidOrderError, match="exactly one"):
        TrailingStopOrder()
    with pytest.raises(InvalidOrderError, match="exactly one"):
        TrailingStopOrder(trail_amount=1.0, trail_percent=0.1)
    for bad in (0, -1.0, math.nan, math.inf):
        with pytest.raises(InvalidOrderError, match="trail_amount"):
            TrailingStopOrder(trail_amount=bad)
        with pytest.raises(InvalidOrderError, match="trail_percent"):
            TrailingStopOrder(trail_percent=bad)
    with pytest.raises(InvalidOrderError, match="fraction"):
        TrailingStopOrder(trail_percent=1.0)


def test_trailing_stop_levels() -> None:
    assert TrailingStopOrder(trail_amount=2.5).stop_level(100.0, is_buy=False) == 97.5
    assert TrailingStopOrder(trail_amount=2.5).stop_level(100.0, is_buy=True) == 102.5
    assert TrailingStopOrder(trail_percent=0.1).stop_level(50.0, is_buy=False) == 45.0
    assert TrailingStopOrder(trail_percent=0.1).stop_level(50.0, is_buy=True) == 55.0
    t = TrailingStopOrder(trail_amount=1.0)
    assert (t.get_limit_price(True), t.get_stop_price(True)) == (None, None)


def test_oco_and_bracket_styles() -> None:
    oco = OCOOrder(LimitOrder(110.0), TrailingStopOrder(trail_amount=1.0))
    assert oco.get_limit_price(False) is None
    with pytest.raises(InvalidOrderError, match="OCOOrder"):
        OCOOrder(oco, MarketOrder())
    with pytest.raises(InvalidOrderError, match="OCOOrder"):
        OCOOrder(BracketOrder(110.0, 90.0), MarketOrder())

    b = BracketOrder(take_profit_price=110.0, stop_loss_price=90.0)
    assert isinstance(b.entry_style(), MarketOrder)
    assert b.get_limit_price(True) is None
    assert b.take_profit_style(True).get_limit_price(is_buy=False) == 110.0
    assert b.stop_loss_style(True).get_stop_price(is_buy=False) == 90.0
    b.validate_direction(is_buy=True)
    with pytest.raises(InvalidOrderError, match="sell entry needs take_profit below"):
        b.validate_direction(is_buy=False, asset="AAA")
    limited = BracketOrder(90.0, 110.0, limit_price=100.0049)
    assert limited.get_limit_price(False) == 100.01
    limited.validate_direction(is_buy=False)
    with pytest.raises(InvalidOrderError, match="equal"):
        BracketOrder(100.0, 100.0)
    with pytest.raises(InvalidOrderError, match="take_profit"):
        BracketOrder(-1.0, 100.0)
    with pytest.raises(InvalidOrderError, match="stop_loss"):
        BracketOrder(100.0, math.nan)
