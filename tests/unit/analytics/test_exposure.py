"""Exposure, turnover, concentration and attribution, checked by hand on a small perf frame."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from rustybt.analytics.exposure import (
    EXPOSURE_COLUMNS,
    concentration,
    exposures,
    fills_panel,
    long_short_contribution,
    pnl_by_asset,
    positions_panel,
    top_positions,
    turnover,
)
from rustybt.exceptions import ParameterValidationError
from tests.unit.analytics._perf_kit import SESSIONS, hand_perf, perf_from

# hand_perf's position values (amount * mark) at each close, from its table.
VALUES = {
    "A": [1000.0, 900.0, 1200.0, 0.0, 0.0],
    "B": [500.0, 550.0, 360.0, 240.0, 0.0],
    "C": [0.0, -100.0, -110.0, -90.0, 0.0],
    "D": [100.0, 120.0, -55.0, -45.0, 0.0],
    "E": [1000.0, 1200.0, 1040.0, 900.0, 0.0],
}
VALUE = [1000.0, 1100.0, 1200.0, 1000.0, 900.0]


def test_positions_panel_lays_out_amounts_marks_and_values() -> None:
    panel = positions_panel(hand_perf())
    assert panel.values.columns.tolist() == ["A", "B", "D", "E", "C"]  # first held first
    for asset, values in VALUES.items():
        assert panel.values[asset].tolist() == values
    assert panel.amounts["E"].tolist() == [10.0, 10.0, 20.0, 20.0, 0.0]
    assert np.isnan(panel.prices["C"].iloc[0]) and panel.prices["C"].iloc[2] == 22.0


def test_exposures_by_hand() -> None:
    frame = exposures(hand_perf())
    assert list(frame.columns) == list(EXPOSURE_COLUMNS)
    long = [2600 / 1000, 2770 / 1100, 2600 / 1200, 1140 / 1000, 0.0]
    short = [0.0, -100 / 1100, -165 / 1200, -135 / 1000, 0.0]
    np.testing.assert_allclose(frame["long"], long, atol=1e-15)
    np.testing.assert_allclose(frame["short"], short, atol=1e-15)
    np.testing.assert_allclose(frame["net"], np.add(long, short), atol=1e-15)
    np.testing.assert_allclose(frame["gross"], np.subtract(long, short), atol=1e-15)
    assert frame["leverage"].equals(frame["gross"])
    assert frame.index.equals(SESSIONS)


def test_futures_count_at_their_notional_value() -> None:
    class Future:
        multiplier = 50.0

        def __repr__(self) -> str:
            return "ES"

    perf = perf_from({}, [], [10_000.0], SESSIONS[:1])
    perf.at[SESSIONS[0], "positions"] = [{"sid": Future(), "amount": -2, "last_sale_price": 40.0}]
    assert exposures(perf)["short"].tolist() == [-2 * 40.0 * 50 / 10_000]


def test_turnover_by_hand() -> None:
    # Session 2: B sells 4 at 60 and D 15 at 11, 405 traded on a value of 1200.
    traded = [
        1000.0 + 500.0 + 100.0 + 1000.0,
        100.0,
        240.0 + 165.0,
        1100.0,
        270.0 + 95.0 + 50.0 + 1100.0,
    ]
    np.testing.assert_allclose(turnover(hand_perf()), np.divide(traded, VALUE), atol=1e-15)
    assert turnover(hand_perf()).name == "turnover"


def test_concentration_by_hand() -> None:
    # Session 2 holds |values| 1200, 1040, 360, 110, 55: the top 2 hold 2240 of 2765.
    shares = concentration(hand_perf(), top=2)
    assert shares.iloc[2] == pytest.approx(2240 / 2765)
    assert shares.iloc[0] == pytest.approx(2000 / 2600)
    assert np.isnan(shares.iloc[4])  # holding nothing
    assert concentration(hand_perf(), top=10).iloc[:4].tolist() == [1.0] * 4


def test_top_positions_keeps_the_largest_average_weights_in_order() -> None:
    weights = top_positions(hand_perf(), top=2)
    # Average |weight|: E (1 + 12/11 + 1040/1200 + .9 + 0) / 5 beats A's (1 + 9/11 + 1) / 5.
    assert weights.columns.tolist() == ["E", "A"]
    assert weights["A"].tolist() == pytest.approx([1.0, 900 / 1100, 1.0, 0.0, 0.0])
    shorts = top_positions(hand_perf(), top=5)["C"]
    assert shorts.iloc[1] == pytest.approx(-100 / 1100)  # a short weighs negative


def test_pnl_by_asset_by_hand() -> None:
    pnl = pnl_by_asset(hand_perf())
    # A: -1000 + 1100; B: -500 + 240 + 270; C: +100 - 95; D: -100 + 165 - 50; E: -1000 + 1100.
    assert pnl.to_dict() == pytest.approx({"A": 100.0, "E": 100.0, "D": 15.0, "B": 10.0, "C": 5.0})
    assert pnl.index.tolist() == ["A", "E", "D", "B", "C"]  # largest first
    assert pnl.name == "pnl"


def test_pnl_by_asset_counts_an_open_position_at_its_last_value() -> None:
    perf = perf_from({"A": [(3, 10.0), (3, 12.0)]}, [(0, "A", 3, 10.0)], [100.0] * 2, SESSIONS[:2])
    assert pnl_by_asset(perf).to_dict() == {"A": 6.0}


def test_pnl_by_asset_adds_a_ledgers_dividends_and_split_cash_to_their_assets() -> None:
    journal = pd.DataFrame(
        {
            "session": [None] * 4,
            "kind": ["dividend", "split_cash", "commission", "capital_change"],
            "asset": ["A", "E", "A", None],
            "amount": [Decimal("2.50"), Decimal("1.25"), Decimal("-9"), Decimal("100")],
            "reference": [None] * 4,
        }
    )
    pnl = pnl_by_asset(hand_perf(), {"cash_journal": journal})
    assert pnl.to_dict() == pytest.approx({"A": 102.5, "E": 101.25, "D": 15.0, "B": 10.0, "C": 5.0})
    with pytest.raises(ParameterValidationError, match="ledger export"):
        pnl_by_asset(hand_perf(), {"positions": journal})


def test_long_short_contribution_by_hand() -> None:
    frame = long_short_contribution(hand_perf())
    # Session 2: D's long loses 10 closing at 11 from 12 (the short it opens is even); C -10.
    assert frame["long"].tolist() == pytest.approx([0.0, 170.0, 180.0, -360.0, 230.0])
    assert frame["short"].tolist() == pytest.approx([0.0, 0.0, -10.0, 30.0, -10.0])
    assert frame.to_numpy().sum() == pytest.approx(pnl_by_asset(hand_perf()).sum())


def test_a_trade_within_one_session_counts_on_its_first_fills_side() -> None:
    perf = perf_from(
        {"A": [None, None]}, [(1, "A", -3, 8.0), (1, "A", 3, 7.0)], [100.0] * 2, SESSIONS[:2]
    )
    assert long_short_contribution(perf).iloc[1].to_dict() == {"long": 0.0, "short": 3.0}
    assert fills_panel(perf).first_side["A"].tolist() == [0.0, -1.0]


def test_commissions_come_off_the_cash_of_the_fills() -> None:
    perf = hand_perf()
    perf["orders"] = [[] for _ in SESSIONS]
    perf.at[SESSIONS[0], "transactions"][0].update(order_id="o1")
    perf.at[SESSIONS[0], "orders"] = [{"id": "o1", "commission": 1.5, "filled": 10}]
    assert fills_panel(perf).cash["A"].iloc[0] == -1001.5
    assert pnl_by_asset(perf)["A"] == pytest.approx(98.5)


def test_bad_input_names_the_argument_or_column() -> None:
    with pytest.raises(ParameterValidationError, match="no column 'portfolio_value'"):
        exposures(hand_perf().drop(columns="portfolio_value"))
    with pytest.raises(ParameterValidationError, match="not list"):
        turnover([])  # type: ignore[arg-type]
    for top in (0, -1, 2.5, True):
        with pytest.raises(ParameterValidationError, match="top must be a positive integer"):
            concentration(hand_perf(), top=top)  # type: ignore[arg-type]
    with pytest.raises(ParameterValidationError, match="top_positions: top"):
        top_positions(hand_perf(), top=0)
