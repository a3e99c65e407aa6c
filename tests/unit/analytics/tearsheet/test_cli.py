"""``rustybt report`` from each file ``rustybt run -o`` writes, and ``rustybt run --report``."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from rustybt.cli import main
from rustybt.cli.report import read_ledger, read_performance
from rustybt.cli.run import performance_bytes, write_ledger

Run = tuple[pd.DataFrame, dict[str, Any]]
EXAMPLES = Path(__file__).resolve().parents[4] / "examples"


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=dict(os.environ))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def written(demo_run: Run, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo run as ``rustybt run`` writes it: each -o format and the ledger JSON."""
    perf, ledger = demo_run
    folder = tmp_path_factory.mktemp("written")
    files = {kind: folder / f"perf.{kind}" for kind in ("csv", "parquet", "pickle")}
    for kind, path in files.items():
        path.write_bytes(performance_bytes(perf, kind))
    files["ledger"] = folder / "ledger.json"
    write_ledger(ledger, str(files["ledger"]))
    return files


@pytest.mark.parametrize("kind", ["csv", "parquet", "pickle"])
def test_read_performance_undoes_the_write(demo_run: Run, written: dict[str, Path], kind: str):
    perf = demo_run[0]
    back = read_performance(written[kind])
    assert back.index.equals(perf.index)
    pd.testing.assert_series_equal(back["returns"], perf["returns"])
    pd.testing.assert_series_equal(back["portfolio_value"], perf["portfolio_value"])
    assert back["period_open"].equals(perf["period_open"])
    assert back["period_close"].equals(perf["period_close"])
    day = next(i for i, fills in enumerate(perf["transactions"]) if fills)
    ours, theirs = back["transactions"].iloc[day][0], perf["transactions"].iloc[day][0]
    symbol = theirs["sid"].symbol
    assert ours["sid"] in (theirs["sid"], symbol)  # a pickle keeps the asset, a file its symbol
    assert ours["dt"] == theirs["dt"] and ours["price"] == theirs["price"]
    assert ours["amount"] == theirs["amount"]
    held = back["positions"].iloc[-1]
    assert [p["amount"] for p in held] == [p["amount"] for p in perf["positions"].iloc[-1]]


def test_read_ledger_gives_back_decimals(demo_run: Run, written: dict[str, Path]) -> None:
    ledger = demo_run[1]
    back = read_ledger(written["ledger"])
    assert back["cash"] == ledger["cash"] and isinstance(back["cash"], Decimal)
    fills = back["transactions"]
    assert len(fills) == len(ledger["transactions"])
    assert list(fills["amount"]) == list(ledger["transactions"]["amount"])
    assert list(fills["price"]) == list(ledger["transactions"]["price"])
    assert list(fills["dt"]) == list(ledger["transactions"]["dt"])
    assert list(fills["asset"]) == [a.symbol for a in ledger["transactions"]["asset"]]


def test_report_verb_gives_one_page_whatever_the_format(written: dict[str, Path], tmp_path: Path):
    pages = {}
    for kind in ("csv", "parquet", "pickle"):
        out = tmp_path / f"{kind}.html"
        code, stdout, stderr = run_cli(
            "report", str(written[kind]), "-o", str(out), "--ledger", str(written["ledger"]),
            "--title", "OLMAR",
        )  # fmt: skip
        assert code == 0, stderr
        assert f"Wrote the report to {out}; open {out.as_uri()}" in stderr and stdout == ""
        pages[kind] = out.read_text(encoding="utf-8")
    assert pages["csv"] == pages["parquet"] == pages["pickle"]
    assert "<title>OLMAR</title>" in pages["csv"]


def test_report_verb_default_title_and_no_ledger(written: dict[str, Path], tmp_path: Path):
    out = tmp_path / "sub" / "r.html"
    code, _, stderr = run_cli("report", str(written["csv"]), "-o", str(out))
    assert code == 0, stderr
    assert "<title>perf</title>" in out.read_text(encoding="utf-8")


def test_report_verb_refuses_bad_files(written: dict[str, Path], tmp_path: Path) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\nx,1\n")
    code, _, stderr = run_cli("report", str(junk), "-o", str(tmp_path / "r.html"))
    assert code == 1 and stderr.count("\n") == 1
    assert f"Error: {junk}: its first column is not the session closes" in stderr
    bad_ledger = tmp_path / "ledger.json"
    bad_ledger.write_text('{"cash": "1"}')
    args = ("report", str(written["csv"]), "-o", str(tmp_path / "r.html"))
    code, _, stderr = run_cli(*args, "--ledger", str(bad_ledger))
    assert code == 1 and f"Error: {bad_ledger}: not a ledger written by rustybt run" in stderr
    for name in ("junk.parquet", "junk.pickle"):
        (tmp_path / name).write_bytes(b"not\nwhat it says\n")
        code, _, stderr = run_cli("report", str(tmp_path / name), "-o", str(tmp_path / "r.html"))
        kind = name.split(".")[1]
        assert code == 1 and stderr.count("\n") == 1
        assert f"Error: {tmp_path / name}: cannot read it as a {kind} file" in stderr
    pickled_series = tmp_path / "series.pkl"
    pd.Series([1.0]).to_pickle(pickled_series)
    code, _, stderr = run_cli("report", str(pickled_series), "-o", str(tmp_path / "r.html"))
    assert code == 1 and "holds a Series, not the performance frame" in stderr
    no_returns = tmp_path / "other.csv"
    pd.DataFrame({"x": [1]}, index=pd.to_datetime(["2020-01-02"], utc=True)).to_csv(no_returns)
    code, _, stderr = run_cli("report", str(no_returns), "-o", str(tmp_path / "r.html"))
    assert code == 1 and f"{no_returns}: no returns, portfolio_value column" in stderr
    code, _, stderr = run_cli("report", str(written["csv"]), "-o", str(tmp_path))
    assert code == 1 and "is a folder; give a file name" in stderr
    assert not (tmp_path / "r.html").exists()


def run_args(*extra: str) -> list[str]:
    return [
        "run", "-f", str(EXAMPLES / "buy_and_hold.py"), "-b", "demo", "-s", "2016-01-04",
        "-e", "2016-06-30", "--capital-base", "100000", "--benchmark-symbol", "SPY", *extra,
    ]  # fmt: skip


def test_run_writes_its_report(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "results" / "report.html"
    perf_file = tmp_path / "results" / "perf.csv"
    code, _, stderr = run_cli(*run_args("-o", str(perf_file), "--report", str(out)))
    assert code == 0, stderr
    assert f"Wrote the report to {out}; open {out.as_uri()}" in stderr
    page = out.read_text(encoding="utf-8")
    assert "<title>buy_and_hold.py on demo</title>" in page
    # The report of the run and the report of its -o file show the same panels.
    again = tmp_path / "again.html"
    assert (
        run_cli("report", str(perf_file), "-o", str(again), "--title", "buy_and_hold.py on demo")[0]
        == 0
    )
    assert again.read_text(encoding="utf-8") == page


@pytest.mark.parametrize(
    ("report", "other", "message"),
    [
        ("r.csv", (), "--report {0}: the report is written as HTML, not .csv; name it .html"),
        ("same.html", ("-o", "same.html"), "-o {1} and --report {0} are one file"),
        ("l.json", (), "not .json; name it .html"),
        ("-", (), "the report is a file; give a file name"),
    ],
)
def test_run_checks_the_report_path_first(
    demo: Path, tmp_path: Path, report: str, other: tuple[str, ...], message: str
) -> None:
    path = report if report == "-" else str(tmp_path / report)
    other = tuple(str(tmp_path / o) if o.endswith(".html") else o for o in other)
    code, _, stderr = run_cli(*run_args("--report", path, *other))
    assert code == 1 and message.format(path, path) in stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "rustybt-root"]  # nothing ran, nothing written
