"""``rustybt run`` end to end, and a zipline script run with only its imports renamed."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import numpy as np
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


# --- the outputs: checked before the run, written each on its own ---------------------

MARKER_ALGO = """
from pathlib import Path
from rustybt.api import order, symbol

def initialize(context):
    Path(MARKER).write_text("the run started")
    context.asset = symbol("AAPL")

def handle_data(context, data):
    order(context.asset, 1)
"""


def run_marker(marker: Path, *args: str) -> tuple[int, str, str]:
    return run_cli(
        "run", "-t", MARKER_ALGO, "-D", f"MARKER={str(marker)!r}", "-s", "2019-01-02",
        "-e", "2019-01-08", "--no-progress", *args,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("option", "name", "message"),
    [
        ("-o", "a_file/perf.csv", "a_file is not a folder"),
        ("--ledger-output", "a_file/ledger.json", "a_file is not a folder"),
        ("-o", ".", "is a folder; give a file name"),
        ("--ledger-output", "ledger.csv", "the ledger is written as JSON, not .csv"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_the_run(
    demo: Path, tmp_path: Path, option: str, name: str, message: str
) -> None:
    (tmp_path / "a_file").write_text("not a folder")
    marker = tmp_path / "started"
    code, _, stderr = run_marker(marker, option, str(tmp_path / name))
    assert code == 1
    assert stderr.startswith(f"Error: {option} ") and message in stderr
    assert stderr.count("\n") == 1  # one line
    assert not marker.exists(), "the backtest ran before the path was checked"


def test_both_outputs_at_one_path_are_refused(demo: Path, tmp_path: Path) -> None:
    same = str(tmp_path / "out.json")
    code, _, stderr = run_marker(tmp_path / "started", "-o", same, "--ledger-output", same)
    assert code == 1
    assert stderr == (
        f"Error: -o {same} and --ledger-output {same} are one file; give them different files\n"
    )
    # A symlink to the other output is the same file.
    link = tmp_path / "link.json"
    link.symlink_to(same)
    code, _, stderr = run_marker(tmp_path / "started", "-o", same, "--ledger-output", str(link))
    assert code == 1 and "are one file" in stderr
    assert not (tmp_path / "started").exists()


BREAK_OUTPUT_ALGO = """
import shutil
from rustybt.api import order, symbol

def initialize(context):
    context.asset = symbol("AAPL")

def handle_data(context, data):
    order(context.asset, 1)

def analyze(context, perf):
    # The output folder is replaced by a file after the run: the write must fail.
    shutil.rmtree(OUT_DIR)
    open(OUT_DIR, "w").close()
"""


@pytest.mark.parametrize("broken", ["-o", "--ledger-output"])
def test_a_failed_write_keeps_the_other_output(demo: Path, tmp_path: Path, broken: str) -> None:
    doomed, safe = tmp_path / "doomed", tmp_path / "safe"
    doomed.mkdir()
    safe.mkdir()
    perf_path = (doomed if broken == "-o" else safe) / "perf.csv"
    ledger_path = (doomed if broken == "--ledger-output" else safe) / "ledger.json"
    code, _, stderr = run_cli(
        "run", "-t", BREAK_OUTPUT_ALGO, "-D", f"OUT_DIR={str(doomed)!r}", "-s", "2019-01-02",
        "-e", "2019-01-08", "--no-progress", "-o", str(perf_path),
        "--ledger-output", str(ledger_path),
    )  # fmt: skip
    assert code == 1
    error = next(line for line in stderr.splitlines() if line.startswith("Error: "))
    assert error.startswith(f"Error: {broken} {doomed}") and "not written" in error
    if broken == "-o":
        assert "(--ledger-output" in error and "written)" in error
        assert json.loads(ledger_path.read_text())["transactions"]
    else:
        assert "(-o" in error and "written)" in error
        assert len(pd.read_csv(perf_path)) == 5
    assert not [p for p in safe.iterdir() if p.name.startswith(".")], "a temporary file is left"


def test_any_other_output_name_is_a_pickle_as_in_zipline(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.out"
    code, _, stderr = run_marker(tmp_path / "started", "-o", str(out))
    assert code == 0, stderr
    perf = pd.read_pickle(out)
    assert len(perf) == 5 and "portfolio_value" in perf
    # os.devnull writes nothing (what zipline's notebook magic passes).
    code, _, stderr = run_marker(tmp_path / "started", "-o", os.devnull)
    assert code == 0 and "Wrote" not in stderr


def test_outputs_get_the_mode_of_any_new_file(demo: Path, tmp_path: Path) -> None:
    # Written through a temporary file, yet readable as any file the user makes (not 0600).
    out, ledger = tmp_path / "perf.csv", tmp_path / "ledger.json"
    code, _, stderr = run_marker(
        tmp_path / "started", "-o", str(out), "--ledger-output", str(ledger)
    )
    assert code == 0, stderr
    umask = os.umask(0)
    os.umask(umask)
    for path in (out, ledger):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path


def read_fifo_in_thread(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    """A thread that reads ``fifo`` to its end (a FIFO's writer blocks until it is read)."""
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    return reader, got


@pytest.mark.parametrize("fifo_option", ["-o", "--ledger-output"])
def test_a_symlink_is_followed_and_a_fifo_written_in_place(
    demo: Path, tmp_path: Path, fifo_option: str
) -> None:
    """The probe: the temporary file renamed over the path put a plain file in place of a
    symlink (its real target left empty) and of a FIFO (nothing reached the reader)."""
    real = tmp_path / "real"
    real.mkdir()
    link_option = "--ledger-output" if fifo_option == "-o" else "-o"
    name = {"-o": "perf.csv", "--ledger-output": "ledger.json"}
    fifo = tmp_path / name[fifo_option]
    os.mkfifo(fifo)
    link, target = tmp_path / name[link_option], real / name[link_option]
    target.write_text("old results")
    link.symlink_to(target)
    reader, got = read_fifo_in_thread(fifo)
    code, _, stderr = run_marker(
        tmp_path / "started", fifo_option, str(fifo), link_option, str(link)
    )
    assert code == 0, stderr
    reader.join(timeout=60)
    assert not reader.is_alive() and got, "nothing was written to the FIFO"
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the FIFO was replaced"
    assert link.is_symlink() and link.resolve() == target, "the symlink was replaced"
    assert sorted(p.name for p in real.iterdir()) == [target.name], "a temporary file is left"
    through_fifo, through_link = got[0].decode(), target.read_text()
    perf, ledger = (through_fifo, through_link) if fifo_option == "-o" else (
        through_link, through_fifo)  # fmt: skip
    assert json.loads(ledger)["transactions"]
    assert len(pd.read_csv(io.StringIO(perf), index_col=0)) == 5


def test_csv_output_holds_period_close_once_and_reads_back(demo: Path, tmp_path: Path) -> None:
    """The probe: period_close as index label and column, read back as period_close.1."""
    as_csv, as_pickle = tmp_path / "perf.csv", tmp_path / "perf.pickle"
    for out in (as_csv, as_pickle):
        code, _, stderr = run_marker(tmp_path / "started", "-o", str(out))
        assert code == 0, stderr
    header = as_csv.read_text().splitlines()[0].split(",")
    assert header[0] == "period_close" and header.count("period_close") == 1
    perf = pd.read_pickle(as_pickle)
    back = pd.read_csv(as_csv, index_col=0, parse_dates=True)
    pd.testing.assert_index_equal(back.index.as_unit("ns"), perf.index.rename("period_close"))
    # (Two runs may order the columns differently: zipline's metrics set is a set.)
    assert sorted(back.columns) == sorted(c for c in perf.columns if c != "period_close")
    assert back["portfolio_value"].tolist() == perf["portfolio_value"].tolist()
    assert (perf["period_close"] == perf.index).all()  # what the index already says


# --- the algorithm's own errors, one line -------------------------------------------


def test_a_syntax_error_is_one_line(demo: Path, tmp_path: Path) -> None:
    algo = tmp_path / "broken.py"
    algo.write_text("def initialize(context):\n    x = (\n")
    code, _, stderr = run_cli("run", "-f", str(algo), "-s", "2019-01-02", "-e", "2019-01-04")
    assert code == 1
    assert stderr == f"Error: {algo}:2: SyntaxError: '(' was never closed\n"


def test_decimal_overflow_names_the_order_or_the_argument(demo: Path) -> None:
    algo = (
        "from rustybt.api import order, symbol\n"
        "def initialize(context):\n    context.asset = symbol('AAPL')\n"
        "def handle_data(context, data):\n    order(context.asset, 1e30)\n"
    )
    code, _, stderr = run_cli("run", "-t", algo, "-s", "2019-01-02", "-e", "2019-01-04")
    assert code == 1 and "InvalidOperation" not in stderr
    assert stderr.startswith("Error: order(Equity(0 [AAPL]), 1E+30) at 2019-01-02 21:00:00+00:00")
    assert "too large to size in exact Decimal arithmetic" in stderr
    code, _, stderr = run_cli(
        "run", "-t", algo, "-s", "2019-01-02", "-e", "2019-01-04", "--capital-base", "1e300"
    )
    assert code == 1
    assert stderr.startswith("Error: capital_base 1e+300 is too large: exact Decimal cash")


def test_an_end_past_the_bundle_is_refused_at_start(demo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    code, _, stderr = run_cli(
        "run", "-t", MARKER_ALGO, "-D", f"MARKER={str(marker)!r}", "-s", "2024-12-02",
        "-e", "2025-01-10",
    )  # fmt: skip
    assert code == 1 and not marker.exists()
    assert stderr == (
        "Error: end 2025-01-10 is after the last session of bundle 'demo' (2024-12-31, the "
        "end of its data); end on or before 2024-12-31\n"
    )


# --- zipline's run flags ---------------------------------------------------------------


def test_benchmark_file_sid_and_symbol(demo: Path, tmp_path: Path) -> None:
    bench = tmp_path / "bench.csv"
    bench.write_text(
        "date,return\n2019-01-02,0.01\n2019-01-03,-0.02\n2019-01-04,0.03\n2019-01-07,0\n"
        "2019-01-08,0.02\n"
    )
    out = tmp_path / "perf.csv"
    base = ("run", "-f", str(EXAMPLES / "buyapple.py"), "-s", "2019-01-02", "-e", "2019-01-08")
    code, _, stderr = run_cli(*base, "-bf", str(bench), "-o", str(out))
    assert code == 0, stderr
    expected = np.cumprod([1.01, 0.98, 1.03, 1.0, 1.02])
    got = pd.read_csv(out)["benchmark_period_return"].to_numpy() + 1
    assert got == pytest.approx(expected)
    by_sid, by_symbol = tmp_path / "sid.csv", tmp_path / "symbol.csv"
    assert run_cli(*base, "--benchmark-sid", "23", "-o", str(by_sid))[0] == 0
    assert run_cli(*base, "--benchmark-symbol", "SPY", "-o", str(by_symbol))[0] == 0
    returns = pd.read_csv(by_sid)["benchmark_period_return"]
    assert returns.tolist() == pd.read_csv(by_symbol)["benchmark_period_return"].tolist()
    assert returns.abs().sum() > 0
    code, _, stderr = run_cli(*base, "--benchmark-sid", "23", "--no-benchmark")
    assert code == 2 and "--benchmark-sid and --no-benchmark exclude each other" in stderr
    bench.write_text("day,ret\n2019-01-02,0.01\n")
    code, _, stderr = run_cli(*base, "-bf", str(bench))
    assert code == 1
    assert stderr == (
        f"Error: benchmark file {bench}: needs columns date and return, missing date, return "
        "(found day, ret)\n"
    )
    bench.write_text("date,return\n2019-01-02,0.01\n2019-01-03,nan\nsoon,0.1\n")
    code, _, stderr = run_cli(*base, "-bf", str(bench))
    assert code == 1 and "2 row(s)" in stderr and "row 3: '2019-01-03','nan'" in stderr


@pytest.mark.parametrize(
    ("rows", "lacking"),
    [
        # The probe: the benchmark went flat after the file's last date.
        (["2019-01-02", "2019-01-03", "2019-01-04"], "2 of the run's 5 sessions "
         "(2019-01-02..2019-01-08): the first 2019-01-07, the last 2019-01-08"),
        (["2019-01-02", "2019-01-03", "2019-01-07", "2019-01-08"], "1 of the run's 5 sessions "
         "(2019-01-02..2019-01-08): 2019-01-04"),
    ],
)  # fmt: skip
def test_a_benchmark_file_lacking_sessions_is_refused_at_start(
    demo: Path, tmp_path: Path, rows: list[str], lacking: str
) -> None:
    bench = tmp_path / "bench.csv"
    bench.write_text("date,return\n" + "".join(f"{day},0.01\n" for day in rows))
    marker = tmp_path / "started"
    code, _, stderr = run_marker(marker, "-bf", str(bench), "-o", str(tmp_path / "perf.csv"))
    assert code == 1 and not marker.exists()
    assert stderr == (
        f"Error: benchmark file {bench}: no return for {lacking}; give a return for every "
        "session of the run\n"
    )


def test_blotter_default_is_accepted_and_others_refused(demo: Path, tmp_path: Path) -> None:
    base = ("run", "-f", str(EXAMPLES / "buyapple.py"), "-s", "2019-01-02", "-e", "2019-01-04")
    code, _, stderr = run_cli(*base, "--blotter", "default", "-o", str(tmp_path / "p.csv"))
    assert code == 0, stderr
    code, _, stderr = run_cli(*base, "--blotter", "ib")
    assert code == 1
    assert stderr.startswith("Error: unknown blotter 'ib': the only named blotter is 'default'")


def test_extension_files_and_x_arguments_load_before_the_command(
    demo: Path, tmp_path: Path
) -> None:
    seen = tmp_path / "seen.txt"
    ext = tmp_path / "ext.py"
    ext.write_text(
        "import rustybt\n"
        "args = rustybt.extension_args\n"
        f"open({str(seen)!r}, 'w').write(args.db.host + ' ' + args.mode)\n"
    )
    algo = (
        "import rustybt\nfrom rustybt.api import record\n"
        "def initialize(context):\n    context.mode = rustybt.extension_args.mode\n"
        "def handle_data(context, data):\n    record(fast=context.mode == 'fast')\n"
    )
    out = tmp_path / "perf.csv"
    result = CliRunner().invoke(
        main,
        ["-x", "db.host=local", "-x", "mode=fast", "-e", str(ext), "run", "-t", algo,
         "-s", "2019-01-02", "-e", "2019-01-04", "-o", str(out)],
        env=dict(os.environ),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert seen.read_text() == "local fast"
    assert pd.read_csv(out)["fast"].all()
    code, _, stderr = run_cli("-x", "no-equals-sign", "bundles")
    assert code == 1
    assert (
        stderr
        == "Error: -x 'no-equals-sign': an extension argument is key=value or key.sub=value; "
        "to load an extension file or module use -e\n"
    )


def test_a_minute_run_over_sessions_without_minute_bars_warns(demo: Path, tmp_path: Path) -> None:
    showwarning = warnings.showwarning
    code, _, stderr = run_cli(
        "run", "-f", str(EXAMPLES / "buyapple.py"), "-s", "2023-12-28", "-e", "2024-01-03",
        "--data-frequency", "minute", "-o", str(tmp_path / "perf.csv"),
    )  # fmt: skip
    assert code == 0, stderr
    # One line, without Python's source path and code line.
    assert stderr.splitlines()[0] == (
        "Warning: minute run over 2 of 4 sessions without any minute bar: 2023-12-28, "
        "2023-12-29 (the minute bars cover 2024-01-02..2024-12-31); orders placed then fill at "
        "the first bar with data"
    )
    assert ".py:" not in stderr and "UserWarning" not in stderr
    assert warnings.showwarning is showwarning, "the CLI left its warning hook installed"


def test_run_defines_fill_context_params(demo: Path, tmp_path: Path) -> None:
    algo = textwrap.dedent(
        """
        from rustybt.api import record

        FAST = globals().get("fast", 10)  # a default when run without -D fast=...

        def handle_data(context, data):
            record(fast=FAST, fast_param=context.params.get("fast", -1),
                   names=",".join(sorted(context.params)))
        """
    )
    out = tmp_path / "perf.csv"
    for defines, fast, param, names in (
        (["-D", "fast=3", "-D", "tag='x'"], 3, 3, "fast,tag"),
        ([], 10, -1, ""),
    ):
        code, _, stderr = run_cli(
            "run", "-t", algo, *defines, "-s", "2019-01-02", "-e", "2019-01-04",
            "--no-benchmark", "-o", str(out),
        )  # fmt: skip
        assert code == 0, stderr
        perf = pd.read_csv(out, index_col=0, keep_default_na=False)
        assert perf["fast"].tolist() == [fast] * 3
        assert perf["fast_param"].tolist() == [param] * 3
        assert perf["names"].tolist() == [names] * 3
