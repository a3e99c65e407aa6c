"""``rustybt optimize`` and ``rustybt walk-forward`` on the demo bundle, as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from rustybt.cli import main
from tests.unit.optimization._algos import CROSSOVER

#: The search every command here runs: the crossover over a 3 x 2 grid on the demo bundle.
SEARCH = ["-f", CROSSOVER, "-b", "demo", "--param", "fast=int:10:30:10",
          "--param", "slow=int:40:60:20", "--method", "grid"]  # fmt: skip


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_optimize_writes_the_trials_and_shows_the_best(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "trials.csv"
    storage = f"sqlite:///{tmp_path / 's.db'}"
    result = invoke("optimize", *SEARCH, "-s", "2015-01-02", "-e", "2015-12-31", "--jobs", "1",
                    "--objective", "sharpe", "--storage", storage, "-o", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    trials = pd.read_csv(out)
    assert len(trials) == 6 and (trials["status"] == "complete").all()
    assert "Best 6 of 6 trials by sharpe" in result.output
    assert "Wrote 6 trials to" in result.output
    assert "6 trials (6 complete)" in result.output


def test_optimize_refuses_a_bad_parameter_in_one_line(demo: Path) -> None:
    result = invoke("optimize", "-f", CROSSOVER, "-s", "2015-01-02", "-e", "2015-12-31",
                    "--param", "fast=int:10:abc")  # fmt: skip
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "fast=int:10:abc" in lines[0]


def test_walk_forward_prints_its_windows(demo: Path, tmp_path: Path) -> None:
    out, perf = tmp_path / "windows.parquet", tmp_path / "oos.csv"
    result = invoke("walk-forward", *SEARCH, "-s", "2015-01-02", "-e", "2016-12-30",
                    "--train", "1Y", "--test", "6M", "--storage", ":memory:",
                    "-o", str(out), "--perf-output", str(perf))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 walk-forward windows" in result.output
    assert "Walk-forward efficiency" in result.output
    assert len(pd.read_parquet(out)) == 2
    assert len(pd.read_csv(perf)) == 252
