"""What a default run imports: no scipy, no empyrical, no HTTP client.

empyrical (and through it scipy) took about 40% of a short run's time just to
import; the default metrics now stream their statistics without it. The HTTP
client (http.client, urllib.request) is fetch_csv's, loaded when it reads a URL. Each
check runs in a fresh interpreter, so that nothing the test session imported
counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

RUNS = """
import json, sys
import pandas as pd
from rustybt import run_algorithm
from rustybt.api import order_target_percent, set_benchmark, symbol

def initialize(context):
    context.asset = symbol("AAPL")
    if {benchmark!r}:
        set_benchmark(symbol("SPY"))

def handle_data(context, data):
    order_target_percent(context.asset, 0.5)

perf = run_algorithm(
    pd.Timestamp({start!r}), pd.Timestamp({end!r}), initialize, 100_000,
    handle_data=handle_data, bundle="demo",
    data_frequency={frequency!r}, emission_rate={frequency!r},
)
assert perf["sharpe"].notna().any()
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("scipy", "empyrical", "http"))
heavy += [m for m in ("urllib.request",) if m in sys.modules]
print(json.dumps(heavy))
"""


def modules_after_run(demo: Path, **run: object) -> list[str]:
    """The scipy, empyrical and HTTP modules a fresh interpreter holds after one default run."""
    env = dict(os.environ, RUSTYBT_ROOT=str(demo), PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", RUNS.format(**run)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    heavy: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return heavy


def test_a_default_daily_run_imports_no_scipy_nor_http_client(demo: Path) -> None:
    assert (
        modules_after_run(
            demo, start="2019-01-02", end="2019-03-29", frequency="daily", benchmark=False
        )
        == []
    )


def test_a_minute_run_with_a_benchmark_asset_imports_no_scipy_nor_http_client(demo: Path) -> None:
    assert (
        modules_after_run(
            demo, start="2024-01-02", end="2024-01-04", frequency="minute", benchmark=True
        )
        == []
    )
