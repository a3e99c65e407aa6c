"""A real demo backtest, run once per module: the frame and ledger every report test reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"


@pytest.fixture(scope="module")
def demo_run(demo_root: Path, cache_dir: Path) -> Iterator[tuple[pd.DataFrame, dict[str, Any]]]:
    """OLMAR on the demo bundle over 2016-2017 against SPY: ``(perf, ledger export)``.

    It trades most sessions and holds several assets, so every panel has data.
    """
    from rustybt.runner import run_algorithm

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUSTYBT_ROOT", str(demo_root))
        patch.setenv("RUSTYBT_CACHE_DIR", str(cache_dir))
        perf, algo = run_algorithm(
            pd.Timestamp("2016-01-04"),
            pd.Timestamp("2017-12-29"),
            capital_base=100_000,
            bundle="demo",
            script=(EXAMPLES / "olmar.py").read_text(),
            benchmark_symbol="SPY",
            return_algorithm=True,
        )
        yield perf, algo.ledger.export()
