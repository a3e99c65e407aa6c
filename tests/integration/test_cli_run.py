"""``rustybt run`` end to end, and a zipline script run with only its imports renamed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from rustybt.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=dict(os.environ))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("frequency", "start", "end"),
    [("daily", "2016-01-04", "2017-06-30"), ("minute", "2024-05-01", "2024-05-02")],
)
@pytest.mark.parametrize(
    "example", ["buyapple.py", "buy_and_hold.py", "dual_moving_average.py", "olmar.py"]
)
def test_run_example_to_csv(
    demo: Path, tmp_path: Path, example: str, frequency: str, start: str, end: str
) -> None:
    out = tmp_path / "results" / "perf.csv"
    ledger = tmp_path / "results" / "ledger.json"
    code, _, stderr = run_cli(
        "run",
        "-f",
        str(EXAMPLES / example),
        "-b",
        "demo",
        "-s",
        start,
        "-e",
        end,
        "--data-frequency",
        frequency,
        "--capital-base",
        "100000",
        "--benchmark-symbol",
        "SPY",
        "-o",
        str(out),
        "--ledger-output",
        str(ledger),
    )
    assert code == 0, stderr
    assert "total return" in stderr and "max drawdown" in stderr and "trades" in stderr
    perf = pd.read_csv(out, index_col=0)
    assert len(perf) == len(pd.read_csv(out)) > 0
    assert {"portfolio_value", "sharpe", "transactions"} <= set(perf.columns)
    exported = json.loads(ledger.read_text())
    assert exported["cash"] == f"{float(exported['cash']):.2f}"  # exact cents, as text
    if example == "dual_moving_average.py" and frequency == "daily":
        return  # its 300-session warm-up outlasts this span: no trades to check
    first_txns = json.loads(next(t for t in perf["transactions"] if t != "[]"))
    assert {"sid", "amount", "price", "dt", "order_id", "commission"} <= set(first_txns[0])
    assert exported["transactions"], "the ledger export lists the fills"


def test_run_text_with_defines_to_stdout(demo: Path) -> None:
    algo = textwrap.dedent(
        """
        from rustybt.api import order_target, record, symbol

        def initialize(context):
            context.asset = symbol(TICKER)

        def handle_data(context, data):
            order_target(context.asset, SHARES)
            record(shares=context.portfolio.positions[context.asset].amount)
        """
    )
    code, stdout, stderr = run_cli(
        "run", "-t", algo, "-D", "TICKER='MSFT'", "-D", "SHARES=7", "-s", "2019-01-02",
        "-e", "2019-01-08", "--no-benchmark", "-o", "-",
    )  # fmt: skip
    assert code == 0, stderr
    assert "portfolio_value" in stdout and "shares" in stdout


def test_run_pickle_and_parquet(demo: Path, tmp_path: Path) -> None:
    for suffix in ("pickle", "parquet"):
        out = tmp_path / f"perf.{suffix}"
        code, _, stderr = run_cli(
            "run", "-f", str(EXAMPLES / "buyapple.py"), "-s", "2016-01-04", "-e", "2016-02-01",
            "-o", str(out),
        )  # fmt: skip
        assert code == 0, stderr
        perf = pd.read_pickle(out) if suffix == "pickle" else pd.read_parquet(out)
        assert len(perf) == 20 and perf["AAPL"].notna().all()


def test_run_reports_algorithm_errors_with_location(demo: Path, tmp_path: Path) -> None:
    algo = tmp_path / "broken.py"
    algo.write_text(
        "def initialize(context):\n    pass\n\ndef handle_data(context, data):\n    return 1 / 0\n"
    )
    code, _, stderr = run_cli("run", "-f", str(algo), "-s", "2019-01-02", "-e", "2019-01-04")
    assert code == 1
    assert "ZeroDivisionError" in stderr
    assert f"{algo}, line 5" in stderr
    assert "2019-01-02 21:00:00+00:00" in stderr


def test_run_usage_errors(demo: Path) -> None:
    code, _, stderr = run_cli("run", "-s", "2019-01-02", "-e", "2019-01-04")
    assert code == 2 and "exactly one of -f/--algofile and -t/--algotext" in stderr
    code, _, stderr = run_cli(
        "run", "-t", "x = 1", "-s", "2019-01-02", "-e", "2019-01-04", "-o", "out.xlsx"
    )
    assert code == 1 and "unknown output type" in stderr


ZIPLINE_SCRIPT = """
import pandas as pd
from zipline import run_algorithm
from zipline.api import order_target_percent, record, symbol
from zipline.data.bundles import ingest, register
from zipline.data.bundles.csvdir import csvdir_equities

register(
    "my-csvdir",
    csvdir_equities(["daily"], {path!r}),
    calendar_name="XNYS",
    start_session=pd.Timestamp("2023-01-03"),
    end_session=pd.Timestamp("2023-03-31"),
)
ingest("my-csvdir")


def initialize(context):
    context.asset = symbol("AAA")


def handle_data(context, data):
    order_target_percent(context.asset, 0.9)
    record(price=data.current(context.asset, "price"))


perf = run_algorithm(
    start=pd.Timestamp("2023-01-03"),
    end=pd.Timestamp("2023-03-31"),
    initialize=initialize,
    handle_data=handle_data,
    capital_base=100_000,
    data_frequency="daily",
    bundle="my-csvdir",
    benchmark_returns=pd.Series(0.0, index=pd.date_range("2023-01-01", "2023-04-01", tz="UTC")),
)
print("FINAL", perf.portfolio_value.iloc[-1], len(perf))
"""


def test_zipline_script_runs_with_imports_renamed(tmp_path: Path, rustybt_root: Path) -> None:
    from rustybt.calendars import get_calendar
    from tests.integration.test_cli_bundles import write_csvdir

    sessions = get_calendar("XNYS").sessions_in_range("2023-01-03", "2023-03-31")
    csvs = write_csvdir(tmp_path / "csvs", {"AAA": 20.0, "BBB": 40.0}, sessions)
    # Rename the imports, and nothing else.
    script = ZIPLINE_SCRIPT.format(path=str(csvs)).replace("from zipline", "from rustybt")
    algo = tmp_path / "zipline_algo.py"
    algo.write_text(script)
    out = subprocess.run(
        [sys.executable, str(algo)],
        env={**os.environ, "RUSTYBT_ROOT": str(rustybt_root)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    final_line = next(line for line in out.stdout.splitlines() if line.startswith("FINAL"))
    _, value, sessions_run = final_line.split()
    assert int(sessions_run) == len(sessions)
    assert float(value) != 100_000.0  # it traded
