"""What the golden tests pin of a run: the exact final value and a digest of every fill.

``python -m tests.acceptance.golden`` prints the current figures in the form of
``GOLDEN`` in ``test_examples_golden.py`` (it needs the demo bundle ingested
under ``$RUSTYBT_ROOT``).
"""

from __future__ import annotations

import hashlib
import runpy
from pathlib import Path
from typing import Any

import rustybt

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: (example, data frequency, start, end, capital base)
CASES: list[tuple[str, str, str, str, int]] = [
    ("buyapple.py", "daily", "2016-01-04", "2016-12-30", 100_000),
    ("buy_and_hold.py", "daily", "2015-01-02", "2024-12-31", 100_000),
    ("dual_moving_average.py", "daily", "2015-01-02", "2024-12-31", 100_000),
    ("olmar.py", "daily", "2020-01-02", "2020-12-31", 100_000),
    ("buyapple.py", "minute", "2024-03-04", "2024-03-08", 1_000_000),
    ("olmar.py", "minute", "2024-03-04", "2024-03-08", 1_000_000),
    ("pipeline_momentum.py", "daily", "2015-01-02", "2024-12-31", 100_000),
    ("pipeline_momentum.py", "minute", "2024-03-04", "2024-04-30", 1_000_000),
]


def figures(name: str, frequency: str, start: str, end: str, capital: int) -> dict[str, Any]:
    """The final Decimal portfolio value, the fill count and a digest of the fills."""
    ns = runpy.run_path(str(EXAMPLES / name))
    perf, algo = rustybt.run_algorithm(
        start,
        end,
        ns["initialize"],
        capital,
        handle_data=ns.get("handle_data"),
        before_trading_start=ns.get("before_trading_start"),
        data_frequency=frequency,
        benchmark_symbol="SPY",
        return_algorithm=True,
    )
    fills = [t for day in perf["transactions"] for t in day]
    digest = hashlib.sha256()
    for t in fills:
        digest.update(f"{t['sid'].sid}|{t['amount']}|{t['price']!r}|{t['dt']}\n".encode())
    return {
        "final_value": str(algo.ledger.portfolio_value.quantize(rustybt_cent())),
        "fills": len(fills),
        "digest": digest.hexdigest()[:16],
        "final_returns": float(perf["algorithm_period_return"].iloc[-1]),
    }


def rustybt_cent() -> Any:
    from decimal import Decimal

    return Decimal("0.01")


if __name__ == "__main__":
    for case in CASES:
        f = figures(*case)
        print(f"    ({case!r}, {f['final_value']!r}, {f['fills']}, {f['digest']!r}),")
