"""Hypothesis: at every session end, portfolio_value == cash + sum(amount x last price), exactly.

Random order sequences run through the whole engine (blotter, slippage,
commissions, splits, dividends, the Decimal ledger) on the demo bundle, over a
span with AAPL's and TSLA's 2020 splits and several dividends earned and paid.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rustybt.algorithm import TradingAlgorithm
from rustybt.api import order, order_target_percent, symbols
from rustybt.finance.orders.execution import LimitOrder, StopOrder
from rustybt.utils.run_algo import run_algorithm

SYMBOLS = ("AAPL", "TSLA", "INTC", "NKE", "DIS", "JNJ")
START, END = "2020-08-12", "2020-09-25"

_ORDER = st.tuples(
    st.integers(0, 20),  # session index at which to place it
    st.integers(0, len(SYMBOLS) - 1),
    st.one_of(
        st.tuples(st.just("shares"), st.integers(-300, 300).filter(bool)),
        st.tuples(st.just("target"), st.sampled_from([-0.3, 0.0, 0.1, 0.25, 0.5])),
        st.tuples(st.just("limit"), st.integers(-200, 200).filter(bool), st.floats(0.9, 1.1)),
        st.tuples(st.just("stop"), st.integers(-200, 200).filter(bool), st.floats(0.9, 1.1)),
    ),
)


class _Checked(TradingAlgorithm):
    """Runs the random orders and checks the ledger identity at each session end."""

    def initialize(self, plan: list[Any]) -> None:  # type: ignore[override]
        self.stocks = symbols(*SYMBOLS)
        self.plan = plan
        self.session_index = -1
        self.checks = 0

    def before_trading_start(self, data: Any) -> None:
        self.session_index += 1

    def handle_data(self, data: Any) -> None:
        for when, which, (kind, *args) in self.plan:
            if when != self.session_index:
                continue
            asset = self.stocks[which]
            price = data.current(asset, "price")
            if kind == "shares":
                order(asset, args[0])
            elif kind == "target":
                order_target_percent(asset, args[0])
            elif kind == "limit":
                order(asset, args[0], style=LimitOrder(round(price * args[1], 2)))
            else:
                order(asset, args[0], style=StopOrder(round(price * args[1], 2)))

    def validate_account_controls(self) -> None:
        # The loop calls this at every session end, after the last fill of the
        # session and before the performance row is produced.
        super().validate_account_controls()
        ledger = self.ledger
        held = sum((p.amount * p.last_sale_price for p in ledger.positions.values()), Decimal(0))
        assert isinstance(ledger.cash, Decimal)
        assert ledger.portfolio_value == ledger.cash + held
        export = ledger.export()
        assert ledger.cash == export["capital_base"] + sum(
            export["cash_journal"]["amount"], Decimal(0)
        )
        self.checks += 1


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(plan=st.lists(_ORDER, min_size=1, max_size=25))
def test_ledger_identity_at_every_session_end(demo_root: Path, plan: list[Any]) -> None:
    perf, algo = run_algorithm(
        START,
        END,
        capital_base=1_000_000,
        environ={"RUSTYBT_ROOT": str(demo_root)},
        algorithm_class=_Checked,
        return_algorithm=True,
        plan=plan,
    )
    assert algo.checks == len(perf)  # checked at every session end
    # The performance rows report the same numbers (as floats).
    last = perf.iloc[-1]
    assert last["portfolio_value"] == float(algo.ledger.portfolio_value)
