"""Round trips: FIFO pairing checked by hand on small cases, and against a real run's ledger."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from rustybt import run_algorithm
from rustybt.analytics.round_trips import ROUND_TRIP_COLUMNS, round_trips
from rustybt.exceptions import ParameterValidationError
from rustybt.finance.orders.transaction import Transaction

D = Decimal


def fill(dt: int, amount: str | int, price: str, sid: str = "AAA") -> dict[str, object]:
    return {"sid": sid, "dt": dt, "amount": D(str(amount)), "price": D(price)}


def test_a_partial_close_makes_a_round_trip_of_the_part_it_closes() -> None:
    trips = round_trips([fill(1, 100, "10.00"), fill(2, -30, "12.00"), fill(3, -70, "9.00")])
    assert list(trips.columns) == list(ROUND_TRIP_COLUMNS)
    assert trips["open_dt"].tolist() == [1, 1]
    assert trips["close_dt"].tolist() == [2, 3]
    assert trips["amount"].tolist() == [D(30), D(70)]
    assert trips["pnl"].tolist() == [D("60.00"), D("-70.00")]  # 30 * 2, 70 * -1
    assert trips["entry_price"].tolist() == [D("10.00"), D("10.00")]
    assert trips["exit_price"].tolist() == [D("12.00"), D("9.00")]
    assert trips["return"].tolist() == pytest.approx([0.2, -0.1])
    assert all(isinstance(p, Decimal) for p in trips["pnl"])


def test_fifo_closes_the_oldest_lots_first_at_their_weighted_price() -> None:
    fills = [fill(1, 10, "10.00"), fill(2, 10, "20.00"), fill(3, -15, "30.00"), fill(4, -5, "5")]
    trips = round_trips(fills)
    # The first close takes all of lot 1 and half of lot 2: (10*10 + 5*20) / 15.
    assert trips["open_dt"].tolist() == [1, 2]
    assert trips["entry_price"].iloc[0] == D("200.00") / D(15)
    assert trips["pnl"].tolist() == [D("250.00"), D("-75.00")]  # 15*30 - 200; 5*(5 - 20)


def test_a_reversal_closes_the_long_and_opens_a_short_with_the_rest() -> None:
    trips = round_trips([fill(1, 10, "50.00"), fill(2, -25, "55.00"), fill(3, 15, "60.00")])
    assert trips["amount"].tolist() == [D(10), D(-15)]
    assert trips["open_dt"].tolist() == [1, 2]
    assert trips["pnl"].tolist() == [D("50.00"), D("-75.00")]  # long +5 x 10; short -5 x 15
    assert trips["entry_price"].tolist() == [D("50.00"), D("55.00")]
    assert trips["return"].tolist() == pytest.approx([0.1, -5 / 55])


def test_shorts_gain_when_the_price_falls_and_are_negative_amounts() -> None:
    trips = round_trips([fill(1, -8, "40.00"), fill(2, 3, "30.00"), fill(3, 5, "44.00")])
    assert trips["amount"].tolist() == [D(-3), D(-5)]
    assert trips["pnl"].tolist() == [D("30.00"), D("-20.00")]
    assert trips["return"].tolist() == pytest.approx([0.25, -0.1])


def test_assets_are_booked_apart_and_open_positions_make_no_row() -> None:
    fills = [
        fill(1, 5, "10", "AAA"),
        fill(1, -5, "20", "BBB"),
        fill(2, -5, "11", "AAA"),
        fill(3, 7, "1", "CCC"),  # still open at the end
    ]
    trips = round_trips(fills)
    assert trips["asset"].tolist() == ["AAA"]
    assert trips["pnl"].tolist() == [D(5)]


def test_commissions_are_shared_by_amount_between_round_trips() -> None:
    def charged(dt: int, amount: int, price: str, commission: str) -> dict[str, object]:
        return {**fill(dt, amount, price), "commission": D(commission)}

    trips = round_trips(
        [
            charged(1, 10, "10.00", "1.00"),
            charged(2, -4, "11.00", "0.50"),
            charged(3, -6, "11.00", "0.50"),
            charged(4, -5, "12.00", "2.00"),  # opens a short
            charged(5, 5, "11.00", "0.40"),
        ]
    )
    assert trips["commission"].tolist() == [D("0.90"), D("1.10"), D("2.40")]
    # Net of them: 4 * 1 - 0.90, 6 * 1 - 1.10, 5 * 1 - 2.40.
    assert trips["pnl"].tolist() == [D("3.10"), D("4.90"), D("2.60")]


def test_a_reversal_splits_its_fills_commission_by_amount() -> None:
    trips = round_trips(
        [
            {**fill(1, 10, "50.00"), "commission": D("1.00")},
            {**fill(2, -25, "55.00"), "commission": D("2.50")},  # closes 10, opens 15 short
            {**fill(3, 15, "50.00"), "commission": D("0.30")},
        ]
    )
    assert trips["commission"].tolist() == [D("2.00"), D("1.80")]  # 1 + 1.0; 1.5 + 0.3
    assert trips["pnl"].tolist() == [D("48.00"), D("73.20")]


def test_a_perf_frame_takes_commissions_from_its_orders() -> None:
    def filled(dt: int, amount: int, price: float, order_id: str) -> dict[str, object]:
        # As in a performance frame: the fill's own commission is None.
        return {"sid": "A", "dt": dt, "amount": amount, "price": price, "order_id": order_id,
                "commission": None}  # fmt: skip

    perf = pd.DataFrame(
        {
            "transactions": [
                [filled(1, 6, 10.0, "o1")],
                [filled(2, 4, 10.0, "o1"), filled(2, -10, 12.0, "o2")],
            ],
            "orders": [
                [{"id": "o1", "commission": 0.6, "filled": 6}],
                [{"id": "o1", "commission": 1.0, "filled": 10},
                 {"id": "o2", "commission": 3.0, "filled": -10}],
            ],
        }
    )  # fmt: skip
    trips = round_trips(perf)
    assert trips["commission"].tolist() == pytest.approx([4.0])  # o1's final 1.0 and o2's 3.0
    assert trips["pnl"].tolist() == pytest.approx([16.0])


def test_float_fills_give_float_pnl() -> None:
    fills = [
        {"sid": "X", "dt": 1, "amount": 0.5, "price": 100.0},
        {"sid": "X", "dt": 2, "amount": -0.5, "price": 110.0},
    ]
    trips = round_trips(fills)
    assert trips["pnl"].dtype == np.float64
    assert trips["pnl"].tolist() == [5.0]


def test_fill_objects_frames_and_perf_frames_give_the_same_trips() -> None:
    objects = [
        Transaction("AAA", D(4), 1, D("2.50"), "o1"),
        Transaction("AAA", D(-4), 2, D("3.00"), "o2"),
    ]
    export_like = pd.DataFrame(
        {
            "dt": [1, 2],
            "asset": ["AAA", "AAA"],
            "sid": [7, 7],
            "amount": [D(4), D(-4)],
            "price": [D("2.50"), D("3.00")],
        }
    )
    perf_like = pd.DataFrame({"transactions": [[objects[0].to_dict()], [], [objects[1].to_dict()]]})
    from_objects = round_trips(objects)
    assert from_objects["pnl"].tolist() == [D("2.00")]
    pd.testing.assert_frame_equal(round_trips(export_like), from_objects)
    assert round_trips(perf_like)["pnl"].tolist() == [2.0]


def test_no_fills_give_an_empty_frame_with_the_columns() -> None:
    trips = round_trips([])
    assert trips.empty
    assert list(trips.columns) == list(ROUND_TRIP_COLUMNS)


def test_bad_input_names_the_fill_at_fault() -> None:
    with pytest.raises(ParameterValidationError, match=r"^fill 1 .* has no price$"):
        round_trips([fill(1, 1, "1"), {"sid": "A", "dt": 2, "amount": 1}])
    with pytest.raises(ParameterValidationError, match="must be numbers"):
        round_trips([{"sid": "A", "dt": 2, "amount": 1, "price": "abc"}])
    with pytest.raises(ParameterValidationError, match="not int"):
        round_trips(5)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-50, 50).filter(bool),
            st.integers(100, 20_000),  # price in cents
        ),
        min_size=1,
        max_size=25,
    )
)
def test_a_flat_book_realizes_exactly_the_cash_it_moved(trades: list[tuple[int, int]]) -> None:
    fills = [fill(i, amount, f"{cents / 100:.2f}") for i, (amount, cents) in enumerate(trades)]
    held = sum(amount for amount, _ in trades)
    if held:
        fills.append(fill(len(fills), -held, "77.77"))  # flatten
    trips = round_trips(fills)
    cash = -sum(f["amount"] * f["price"] for f in fills)  # type: ignore[operator]
    assert sum(trips["pnl"], D(0)) == cash
    # Every share bought or sold short is closed exactly once.
    opened = sum(abs(a) for a in trips["amount"])
    assert opened * 2 == sum(abs(f["amount"]) for f in fills)  # type: ignore[arg-type]


FLAT_BY = pd.Timestamp("2017-12-27")
ALGORITHM = f"""
import pandas as pd
from rustybt.api import get_datetime, order_target_percent, set_commission, set_slippage, symbol
from rustybt.finance import commission, slippage


def initialize(context):
    context.assets = [symbol("AMZN"), symbol("META"), symbol("TSLA")]
    context.session = 0
    set_commission(commission.NoCommission())
    set_slippage(slippage.NoSlippage())


def handle_data(context, data):
    context.session += 1
    today = get_datetime().tz_convert(None).normalize()
    for k, asset in enumerate(context.assets):
        if today >= pd.Timestamp("{FLAT_BY.date()}"):
            order_target_percent(asset, 0.0)  # filled on the next session: flat at the end
            continue
        phase = (context.session // (7 + 3 * k)) % 3
        order_target_percent(asset, (0.3, -0.2, 0.1)[phase])
"""


def test_round_trips_of_a_real_run_add_up_to_the_ledgers_realized_pnl(
    demo: Path, tmp_path: Path
) -> None:
    script = tmp_path / "cycle.py"
    script.write_text(ALGORITHM)
    perf, algo = run_algorithm(
        "2016-01-04",
        "2017-12-29",
        capital_base=100_000,
        bundle="demo",
        script=ALGORITHM,
        algo_filename=str(script),
        return_algorithm=True,
    )
    ledger = algo.ledger
    assert perf["positions"].iloc[-1] == []  # flat: every P&L is realized
    exact = round_trips(ledger.export()["transactions"])
    assert len(exact) > 100
    assert set(np.sign([float(a) for a in exact["amount"]])) == {-1.0, 1.0}  # longs and shorts
    assert sum(exact["pnl"], D(0)) == ledger.realized_pnl
    from_perf = round_trips(perf)
    assert len(from_perf) == len(exact)
    assert round(from_perf["pnl"].sum(), 2) == float(ledger.realized_pnl)


def perf_frame(
    sessions: list[tuple[list[dict[str, object]], list[dict[str, object]]]],
) -> pd.DataFrame:
    """A performance-frame-like table: each session's fills and closing positions."""
    return pd.DataFrame(
        {
            "transactions": [fills for fills, _ in sessions],
            "positions": [held for _, held in sessions],
        },
        index=pd.Index([10, 20, 30][: len(sessions)]),
    )


def test_a_split_between_open_and_close_scales_the_open_lots() -> None:
    perf = perf_frame(
        [
            ([{"sid": "A", "dt": 1, "amount": 10, "price": 100.0}],
             [{"sid": "A", "amount": 10, "last_sale_price": 100.0}]),
            ([], [{"sid": "A", "amount": 20, "last_sale_price": 51.0}]),  # 2-for-1 at the open
            ([{"sid": "A", "dt": 3, "amount": -20, "price": 55.0}], []),
        ]
    )  # fmt: skip
    trips = round_trips(perf)
    assert trips[["amount", "entry_price", "exit_price", "pnl"]].values.tolist() == [
        [20.0, 50.0, 55.0, 100.0]
    ]
    assert trips["return"].tolist() == pytest.approx([0.1])


def test_a_position_gone_without_a_fill_closes_at_its_last_mark() -> None:
    perf = perf_frame(
        [
            ([{"sid": "A", "dt": 1, "amount": -10, "price": 10.0}],
             [{"sid": "A", "amount": -10, "last_sale_price": 9.0}]),
            ([], []),
        ]
    )  # fmt: skip
    trips = round_trips(perf)
    assert trips[["close_dt", "amount", "exit_price", "pnl"]].values.tolist() == [
        [20, -10.0, 9.0, 10.0]
    ]


def test_round_trips_of_a_real_run_across_a_split(demo: Path, tmp_path: Path) -> None:
    script = tmp_path / "split.py"
    script.write_text(
        "import pandas as pd\n"
        "from rustybt.api import get_datetime, order_target, set_commission, set_slippage, symbol\n"
        "from rustybt.finance import slippage\n"
        "def initialize(context):\n"
        "    set_slippage(slippage.NoSlippage())  # commission: the default, $0.001 a share\n"
        "def handle_data(context, data):\n"
        "    today = get_datetime().tz_convert(None).normalize()\n"
        "    if today < pd.Timestamp('2020-08-20'):\n"
        "        order_target(symbol('TSLA'), 101)\n"
        "    elif today >= pd.Timestamp('2020-09-10'):\n"
        "        order_target(symbol('TSLA'), 0)\n"
    )
    perf, algo = run_algorithm(
        "2020-08-03",
        "2020-09-30",
        capital_base=100_000,
        bundle="demo",
        script=script.read_text(),
        algo_filename=str(script),
        return_algorithm=True,
    )
    trips = round_trips(perf)
    assert trips["amount"].tolist() == [505.0]  # 101 shares, split 5-for-1 on 2020-08-31
    assert trips["commission"].tolist() == pytest.approx([0.606])  # 101 bought, 505 sold
    # The ledger books each commission rounded to the cent (0.10 and 0.50).
    assert trips["pnl"].sum() == pytest.approx(float(algo.ledger.realized_pnl), abs=0.01)
