"""The parity cases: which example runs over which span with how much capital.

Imported by both runners (rustybt's venv and zipline's venv), so it uses the
standard library only. Each case names an example under ``examples/``; its
source is run unchanged in rustybt and with ``rustybt`` -> ``zipline`` in its
import lines in zipline.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

# The symbols the examples trade, plus SPY; written to the csvdir.
SYMBOLS = ("AAPL", "AMZN", "IBM", "JPM", "KO", "MSFT", "PG", "SPY", "XOM")
# The csvdir bundle's range (the demo data's daily range).
BUNDLE_START = "2014-01-02"
BUNDLE_END = "2024-12-31"

# name -> (example file, start, end, capital_base).
# Spans and capital follow each example's _test_args(), except:
#  * buyapple buys 10 AAPL ($190-$830 a share in these spans) every session
#    whatever its cash, so with _test_args()' $10,000 it would spend $640k-$1.2M
#    it does not have, and its portfolio value (capital + P&L) can approach or
#    cross zero, where a relative difference means nothing; it runs with
#    $1,000,000 instead.
#  * buyapple_2020 adds a span that crosses AAPL's 4:1 split (2020-08-31), which
#    buyapple's own 2016 span does not.
CASES: dict[str, tuple[str, str, str, float]] = {
    "buyapple": ("buyapple.py", "2016-01-04", "2016-12-30", 1_000_000.0),
    "buyapple_2020": ("buyapple.py", "2020-01-02", "2020-12-31", 1_000_000.0),
    "buy_and_hold": ("buy_and_hold.py", "2015-01-02", "2024-12-31", 100_000.0),
    "dual_moving_average": ("dual_moving_average.py", "2015-01-02", "2024-12-31", 100_000.0),
    "olmar": ("olmar.py", "2020-01-02", "2020-12-31", 100_000.0),
}

_IMPORT = re.compile(r"^(\s*(?:from|import)\s+)rustybt\b", re.MULTILINE)


def example_source(filename: str, framework: str) -> str:
    """The example's source for ``framework`` ("rustybt" or "zipline")."""
    text = (EXAMPLES / filename).read_text()
    if framework == "zipline":
        text = _IMPORT.sub(r"\1zipline", text)
    return text


def load_example(filename: str, framework: str) -> dict[str, object]:
    """Execute the example's source and return its namespace (initialize, handle_data, ...)."""
    namespace: dict[str, object] = {"__name__": f"parity_{Path(filename).stem}"}
    code = compile(example_source(filename, framework), str(EXAMPLES / filename), "exec")
    exec(code, namespace)
    return namespace


# Scalar perf columns written out (both frameworks have them); the rest of the
# frame (orders, positions, recorded variables) is not compared.
PERF_COLUMNS = (
    "portfolio_value",
    "ending_cash",
    "ending_value",
    "capital_used",
    "pnl",
    "returns",
    "starting_cash",
    "starting_value",
)
