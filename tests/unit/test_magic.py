"""The %%rustybt cell magic in a real in-process IPython shell, on the demo bundle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from rustybt.magic import split_output

ALGORITHM = """
from rustybt.api import order, record, symbol

def initialize(context):
    context.asset = symbol("AAPL")

def handle_data(context, data):
    order(context.asset, SHARES)
    record(AAPL=data.current(context.asset, "price"))
"""


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo: Path) -> Iterator[Any]:
    """A fresh IPython shell (its profile under tmp_path, history in memory)."""
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=config)
    result = ip.run_line_magic("load_ext", "rustybt")
    assert result is None
    yield ip
    InteractiveShell.clear_instance()


def run_cell(shell: Any, line: str, body: str = ALGORITHM) -> Any:
    return shell.run_cell(f"%%rustybt {line}\n{body}")


def test_a_cell_runs_and_its_performance_is_the_cell_value_and_a_variable(shell: Any) -> None:
    result = run_cell(
        shell, "--start 2016-01-04 --end 2016-01-29 --capital-base 100000 -D SHARES=10 -o perf"
    )
    assert result.success, result.error_in_exec
    perf = result.result
    assert isinstance(perf, pd.DataFrame) and shell.user_ns["perf"] is perf
    assert len(perf) == 19
    assert perf["starting_cash"].iloc[0] == 100_000
    assert int(perf["transactions"].map(len).sum()) == 18
    assert perf["AAPL"].notna().all() and perf["portfolio_value"].gt(0).all()


def test_the_cell_is_the_same_run_as_the_command_line(shell: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from rustybt.cli import main

    script = tmp_path / "algo.py"
    script.write_text(ALGORITHM)
    cli_file = tmp_path / "cli.pickle"
    args = "-s 2016-03-01 -e 2016-03-31 -D SHARES=5 --no-benchmark --capital-base 50000"
    cli = CliRunner().invoke(main, ["run", "-f", str(script), "-o", str(cli_file), *args.split()])
    assert cli.exit_code == 0, cli.output
    magic_file = tmp_path / "magic.pickle"
    result = run_cell(shell, f"{args} -o {magic_file}")
    assert result.success, result.error_in_exec
    from_cli = pd.read_pickle(cli_file)
    pd.testing.assert_frame_equal(pd.read_pickle(magic_file), result.result)
    columns = ["portfolio_value", "ending_cash", "returns", "AAPL"]
    pd.testing.assert_frame_equal(result.result[columns], from_cli[columns])


def test_zipline_flags_minute_data_and_the_bundle(shell: Any) -> None:
    result = run_cell(
        shell,
        "-s 2024-03-04 -e 2024-03-05 --data-frequency minute -b demo "
        "--benchmark-symbol SPY --trading-calendar XNYS -D SHARES=1",
    )
    assert result.success, result.error_in_exec
    perf = result.result
    assert len(perf) == 2
    # One share ordered every minute bar: hundreds of fills in two sessions.
    assert int(perf["transactions"].map(len).sum()) > 700


def test_bad_arguments_are_one_line_usage_errors(shell: Any, capsys: Any) -> None:
    from IPython.core.error import UsageError

    result = run_cell(shell, "--end 2016-01-29 -D SHARES=1")
    assert isinstance(result.error_in_exec, UsageError)
    assert str(result.error_in_exec) == "%%rustybt: Missing option '-s' / '--start'."
    result = run_cell(shell, "-s 2016-01-04 -e 2016-01-29 --data-frequency hourly")
    assert isinstance(result.error_in_exec, UsageError)
    assert "'hourly' is not one of 'daily', 'minute'" in str(result.error_in_exec)
    result = run_cell(shell, "-s 2016-01-04 -e 2016-01-29 -o")
    assert isinstance(result.error_in_exec, UsageError)
    assert "variable name or a path" in str(result.error_in_exec)
    capsys.readouterr()


def test_help_prints_the_flags_and_gives_no_value(shell: Any, capsys: Any) -> None:
    result = run_cell(shell, "--help")
    assert result.error_in_exec is None and result.result is None
    assert "--capital-base" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("line", "body", "cause", "message"),
    [
        ("--capital-base 1e300", ALGORITHM, "ParameterValidationError",
         "capital_base 1e+300 is too large: exact Decimal cash"),
        ("-b nosuchbundle", ALGORITHM, "DataNotFoundError",
         "no ingestion of bundle 'nosuchbundle'"),
        ("", "def initialize(context):\n    x = (\n", "StrategyError",
         "<algotext>:2: SyntaxError: '(' was never closed"),
        ("", ALGORITHM.replace('symbol("AAPL")', 'symbol("NOSUCH")'), "SymbolNotFoundError",
         "NOSUCH"),
    ],
)  # fmt: skip
def test_an_error_of_the_run_is_one_line(
    shell: Any, capsys: Any, line: str, body: str, cause: str, message: str
) -> None:
    """The probe: 30 to 140 lines of traceback; now one line, as the command line prints."""
    from IPython.core.error import UsageError

    capsys.readouterr()
    result = run_cell(shell, f"-s 2016-01-04 -e 2016-01-29 -D SHARES=1 -o perf {line}", body)
    assert isinstance(result.error_in_exec, UsageError)
    assert str(result.error_in_exec).startswith("%%rustybt: ")
    assert message in str(result.error_in_exec)
    assert type(result.error_in_exec.__cause__).__name__ == cause  # the error, for code
    shown = capsys.readouterr().err.strip().splitlines()
    assert shown == [f"UsageError: {result.error_in_exec}"]
    assert "perf" not in shell.user_ns


def test_an_output_path_is_checked_before_the_run(shell: Any, tmp_path: Path) -> None:
    """The probe: the whole run, then its results lost to a FileExistsError traceback."""
    from IPython.core.error import UsageError

    (tmp_path / "a_file").write_text("not a folder")
    marker = tmp_path / "started"
    body = f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n" + ALGORITHM
    bad = tmp_path / "a_file" / "perf.csv"
    result = run_cell(shell, f"-s 2016-01-04 -e 2016-01-08 -D SHARES=1 -o {bad}", body)
    assert isinstance(result.error_in_exec, UsageError)
    assert (
        str(result.error_in_exec) == f"%%rustybt: -o {bad}: {tmp_path / 'a_file'} is not a folder"
    )
    assert not marker.exists(), "the backtest ran before the path was checked"


def test_split_output() -> None:
    assert split_output(["-s", "2016-01-04", "--output", "a.csv"]) == (
        ["-s", "2016-01-04"],
        "a.csv",
    )
    assert split_output(["-o", "x", "-o", "y"]) == ([], "y")
    assert split_output(["-D", "x=1"]) == (["-D", "x=1"], None)


def test_output_to_a_csv_path(shell: Any, tmp_path: Path) -> None:
    target = tmp_path / "out" / "perf.csv"
    result = run_cell(shell, f"-s 2016-01-04 -e 2016-01-15 -D SHARES=3 -o {target}")
    assert result.success, result.error_in_exec
    written = pd.read_csv(target, index_col="period_close")
    assert len(written) == len(result.result) == 10
    assert written["portfolio_value"].tolist() == result.result["portfolio_value"].tolist()


def test_warnings_of_the_run_are_one_line(shell: Any, capsys: Any) -> None:
    import warnings

    showwarning = warnings.showwarning
    capsys.readouterr()
    result = run_cell(
        shell,
        "-s 2023-12-28 -e 2024-01-03 --data-frequency minute",
        "def initialize(context):\n    pass\n",
    )
    assert result.success, result.error_in_exec
    shown = [line for line in capsys.readouterr().err.splitlines() if "minute bar" in line]
    assert len(shown) == 1 and shown[0].startswith("Warning: minute run over 2 of 4 sessions")
    assert warnings.showwarning is showwarning
