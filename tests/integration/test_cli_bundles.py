"""The bundle verbs of the ``rustybt`` command, end to end on real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from rustybt.calendars import get_calendar
from rustybt.cli import main
from rustybt.data import bundles


def write_csvdir(root: Path, symbols: dict[str, float], sessions: pd.DatetimeIndex) -> Path:
    """A zipline-layout csvdir: <root>/daily/<SYMBOL>.csv."""
    daily = root / "daily"
    daily.mkdir(parents=True)
    for symbol, base in symbols.items():
        close = base + np.arange(len(sessions)) * 0.25
        frame = pd.DataFrame(
            {
                "date": sessions.strftime("%Y-%m-%d"),
                "open": close - 0.1,
                "high": close + 0.5,
                "low": close - 0.5,
                "close": close,
                "volume": 10_000,
                "dividend": 0.0,
                "split": 1.0,
            }
        )
        frame.to_csv(daily / f"{symbol}.csv", index=False)
    return root


@pytest.fixture
def csvdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    sessions = get_calendar("XNYS").sessions_in_range("2023-01-03", "2023-03-31")
    path = write_csvdir(tmp_path / "csvs", {"AAA": 10.0, "BBB": 50.0}, sessions)
    monkeypatch.setenv("CSVDIR", str(path))
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=dict(os.environ))
    return result.exit_code, result.output


def test_ingest_csvdir_then_bundles_then_clean(csvdir: Path, rustybt_root: Path) -> None:
    code, out = run("ingest", "-b", "csvdir", "--no-show-progress")
    assert code == 0, out
    assert "Ingested bundle 'csvdir'" in out
    code, out = run("bundles")
    assert code == 0
    lines = out.splitlines()
    csv_lines = [line for line in lines if line.startswith("csvdir ")]
    assert len(csv_lines) == 1 and csv_lines[0] != "csvdir <no ingestions>"
    assert "demo <no ingestions>" in lines
    with bundles.load("csvdir") as data:
        assert [a.symbol for a in data.asset_finder.retrieve_all(data.asset_finder.sids)] == [
            "AAA",
            "BBB",
        ]
    code, _ = run("ingest", "-b", "csvdir", "--no-show-progress")
    assert code == 0
    assert len(bundles.ingestions_for_bundle("csvdir")) == 2
    code, out = run("clean", "-b", "csvdir", "-k", "1")
    assert code == 0 and out.startswith("Removed ")
    assert len(bundles.ingestions_for_bundle("csvdir")) == 1
    code, out = run("clean", "-b", "csvdir", "--before", "2000-01-01")
    assert code == 0 and "Nothing to remove" in out
    code, out = run("clean", "-b", "csvdir", "-a", "2000-01-01")
    assert code == 0 and "Removed" in out
    assert bundles.ingestions_for_bundle("csvdir") == []


@pytest.mark.parametrize("defect", ["high_below_low", "duplicate_date"])
def test_bad_row_fails_and_keeps_earlier_ingestion(
    csvdir: Path, rustybt_root: Path, defect: str
) -> None:
    assert run("ingest", "-b", "csvdir", "--no-show-progress")[0] == 0
    [good] = bundles.ingestions_for_bundle("csvdir")
    bad_file = csvdir / "daily" / "BBB.csv"
    frame = pd.read_csv(bad_file)
    if defect == "high_below_low":
        frame.loc[6, "high"] = frame.loc[6, "low"] - 1.0
        expected_row = "row 7"  # the 7th data row, line 8 of the file
    else:
        frame.loc[7, "date"] = frame.loc[6, "date"]
        expected_row = "row 8"
    frame.to_csv(bad_file, index=False)

    code, out = run("ingest", "-b", "csvdir", "--no-show-progress")
    assert code == 1
    assert str(bad_file) in out
    assert expected_row in out
    entries = sorted(p.name for p in (rustybt_root / "data" / "csvdir").iterdir())
    assert [e for e in entries if not e.startswith(".cache")] == [
        good.isoformat().replace(":", ";")
    ]
    with bundles.load("csvdir") as data:
        assert data.timestamp == good
        assert len(data.asset_finder.sids) == 2


def test_unknown_bundle_is_a_clear_error() -> None:
    code, out = run("ingest", "-b", "nope")
    assert code == 1
    assert "no bundle registered as 'nope'" in out


def test_extension_file_registers_a_bundle(csvdir: Path, rustybt_root: Path) -> None:
    (rustybt_root / "extension.py").write_text(
        "from rustybt.data.bundles import register\n"
        "from rustybt.data.bundles.csvdir import csvdir_equities\n"
        f"register('from-extension', csvdir_equities(['daily'], {str(csvdir)!r}))\n"
    )
    code, out = run("ingest", "-b", "from-extension", "--no-show-progress")
    assert code == 0, out
    code, out = run("bundles")
    assert any(line.startswith("from-extension 2") for line in out.splitlines())
    bundles.unregister("from-extension")


def test_python_dash_m_and_console_script(rustybt_root: Path) -> None:
    env = {**os.environ, "RUSTYBT_ROOT": str(rustybt_root)}
    out = subprocess.run(
        [sys.executable, "-m", "rustybt", "bundles"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "demo <no ingestions>" in out.stdout
    import rustybt

    assert not hasattr(rustybt, "rust_sum") and not hasattr(rustybt, "_RUST_AVAILABLE")


def test_every_verb_is_attached_whatever_is_imported_first() -> None:
    # A fresh interpreter importing only the group's module still gets every
    # verb: the package (which attaches them) is imported before its modules.
    code = "from rustybt.cli.main import main\nprint(' '.join(sorted(main.commands)))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    verbs = ["benchmark", "bundles", "clean", "ingest", "optimize", "report", "run", "walk-forward"]
    assert out.stdout.split() == verbs
    help_text = subprocess.run(
        [sys.executable, "-m", "rustybt", "--help"], capture_output=True, text=True
    ).stdout
    for verb in verbs:
        assert f"  {verb} " in help_text


def _one_error_line(out: str) -> str:
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.mark.parametrize("damaged", ["assets.sqlite", "bundle.json", "daily_equities.parquet"])
def test_run_on_a_corrupt_bundle_prints_one_line_naming_file_and_remedy(
    csvdir: Path, tmp_path: Path, damaged: str
) -> None:
    """The probe: a raw sqlite3.DatabaseError / JSONDecodeError traceback naming no file."""
    assert run("ingest", "-b", "csvdir", "--no-show-progress")[0] == 0
    with bundles.load("csvdir") as data:
        path = data.path / damaged
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    algo = tmp_path / "algo.py"
    algo.write_text("def initialize(context):\n    pass\n")
    code, out = run("run", "-f", str(algo), "-b", "csvdir", "-s", "2023-01-04", "-e", "2023-03-30")
    assert code == 1
    line = _one_error_line(out)
    assert line.startswith(f"Error: {path}: ")
    assert line.endswith("; re-ingest: rustybt ingest -b csvdir")


def test_clean_of_an_unknown_bundle_lists_the_known_ones(rustybt_root: Path) -> None:
    code, out = run("clean", "-b", "nosuchbundle", "-k", "1")
    assert code == 1
    line = _one_error_line(out)
    assert line.startswith("Error: no bundle named 'nosuchbundle'; known bundles: ")
    assert {"csvdir", "demo"} <= set(line.split("known bundles: ")[1].split(", "))


def test_clean_removes_the_folder_of_a_killed_ingest(csvdir: Path, rustybt_root: Path) -> None:
    assert run("ingest", "-b", "csvdir", "--no-show-progress")[0] == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    leftover = rustybt_root / "data" / "csvdir" / f".ingest-2025-01-01T00;00;00-{dead}"
    leftover.mkdir()
    (leftover / "assets.sqlite").write_bytes(b"half")
    code, out = run("clean", "-b", "csvdir", "-k", "1")
    assert code == 0
    assert out.splitlines() == [f"Removed {leftover}"]
    assert not leftover.exists() and len(bundles.ingestions_for_bundle("csvdir")) == 1


def test_clean_with_no_criteria_removes_only_the_folders_of_killed_ingests(
    csvdir: Path, rustybt_root: Path
) -> None:
    """The probe: ``clean -b NAME`` alone exited 1 ("clean needs before, after or
    keep_last"), though its help says it removes killed ingests' folders."""
    assert run("ingest", "-b", "csvdir", "--no-show-progress")[0] == 0
    assert run("ingest", "-b", "csvdir", "--no-show-progress")[0] == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    leftover = rustybt_root / "data" / "csvdir" / f".ingest-2025-01-01T00;00;00-{dead}"
    leftover.mkdir()
    code, out = run("clean", "-b", "csvdir")
    assert (code, out.splitlines()) == (0, [f"Removed {leftover}"])
    assert not leftover.exists() and len(bundles.ingestions_for_bundle("csvdir")) == 2
    assert run("clean", "-b", "csvdir") == (0, "Nothing to remove\n")
    code, out = run("clean", "-b", "nosuchbundle")
    assert code == 1 and out.startswith("Error: no bundle named 'nosuchbundle'; known bundles: ")
    code, out = run("clean", "--help")
    assert code == 0 and "killed ingests" in out and "-k, --keep-last N" in out
