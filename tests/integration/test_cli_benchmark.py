"""``rustybt benchmark`` end to end on tiny workloads."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rustybt.benchmarks import workloads
from rustybt.cli import main

TINY = ["--assets", "3", "--sessions", "55", "--runs", "2", "--in-process"]


def run(*args: str) -> Any:
    return CliRunner().invoke(
        main, ["--no-default-extension", "benchmark", *args], env=dict(os.environ)
    )


def test_table_lists_each_workload_with_its_timings_and_result() -> None:
    result = run("-w", "W1", "-w", "w3", "-w", "W4", *TINY)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for header in ("workload", "size", "runs", "mean", "std", "min", "max", "peak mem (rss)"):
        assert header in out
    for row in ("W1", "W3", "W4", "3 x 55d"):
        assert row in out
    assert "fills" in out and "165 bars" in out and "window 50x3" in out
    assert "W1: daily dual moving-average crossover" in out  # the caption
    assert "W2" not in out


def test_json_output_parses_and_honours_the_options(tmp_path: Path) -> None:
    result = run("-w", "W4", "-w", "W3", *TINY, "--output", "json", "--memory", "none",
                 "--output-dir", str(tmp_path))  # fmt: skip
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert [r["workload"] for r in reports] == ["W4", "W3"]
    w4, w3 = (r["benchmark"] for r in reports)
    assert w4["num_runs"] == 2 and len(w4["run_times"]) == 2 and w4["warmup"] == 0
    assert w4["peak_memory_bytes"] is None and w4["memory_method"] == "none"
    assert w4["result"]["window_shape"] == [50, 3]
    assert w3["result"] == {"bars": 165, "assets": 3}
    files = sorted(p.name for p in tmp_path.glob("*.json"))
    assert len(files) == 2 and files[0].startswith("W3-3x55_W3_")
    assert json.loads((tmp_path / files[1]).read_text())["configuration_name"] == "W4-3x55"


def test_profile_prints_categories_and_top_functions() -> None:
    result = run("-w", "W1", *TINY, "--profile", "--top", "7")
    assert result.exit_code == 0, result.output
    assert "W1-3x55: time by category" in result.stdout
    assert "W1-3x55: top 7 functions by own time" in result.stdout
    for category in ("data", "ledger", "metrics", "loop", "user"):
        assert category in result.stdout


def test_crossover_workloads_run_and_say_what_they_are() -> None:
    result = run("-w", "W5", "-w", "w6", "--assets", "2", "--sessions", "2", "--runs", "1",
                 "--in-process", "--memory", "none")  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2 x 2d" in out and "2 x 2d 1m" in out and "fills" in out
    assert "W5: daily crossover, orders on signal changes" in out
    assert "W6: minute crossover, orders on signal changes" in out


def test_search_workloads_run_at_the_size_given() -> None:
    # wf5's first training span is half the 200 sessions: both slow windows trade in it.
    result = run("-w", "grid100", "-w", "WF5", "--assets", "2", "--sessions", "200", "--grid",
                 "2", "--trials", "2", "--jobs", "1", "--runs", "1", "--in-process", "--output",
                 "json", "--memory", "none")  # fmt: skip
    assert result.exit_code == 0, result.output
    grid, wf = json.loads(result.stdout)
    assert (grid["workload"], wf["workload"]) == ("grid100", "wf5")
    assert grid["size"] == "2 assets x 200 sessions, 2x2 grid, 1 jobs"
    found = grid["benchmark"]["result"]
    assert found["trials"] == found["complete"] == 4
    assert found["best_params"] in [{"fast": f, "slow": s} for f in (4, 8) for s in (50, 70)]
    chosen = wf["benchmark"]["result"]
    assert chosen["windows"] == 5 and chosen["trials"] == 10 and len(chosen["chosen"]) == 5
    assert grid["benchmark"]["configuration_name"] == "grid100-2x200-g2-j1"


def test_search_workloads_print_what_they_found() -> None:
    result = run("-w", "grid100", "--assets", "2", "--sessions", "120", "--grid", "1", "--jobs",
                 "1", "--runs", "1", "--in-process", "--memory", "none")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "best fast=4, slow=50: sharpe" in result.stdout
    assert "grid100: grid search of W5's windows" in result.stdout


def test_a_search_size_out_of_range_is_a_clear_error() -> None:
    result = run("-w", "grid100", "--grid", "12", "--in-process")
    assert result.exit_code == 1
    assert "grid100: grid must be 1 .. 10" in result.output


def test_default_is_all_eight_workloads(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run_workloads(names: list[str], **kwargs: Any) -> list[Any]:
        seen.update(names=names, **kwargs)
        return []

    monkeypatch.setattr(workloads, "run_workloads", fake_run_workloads)
    result = run("--output", "json")
    assert result.exit_code == 0, result.output
    assert seen["names"] == ["W1", "W2", "W3", "W4", "W5", "W6", "grid100", "wf5"]
    assert seen["search"] == {"grid": None, "trials": None, "jobs": None}
    assert seen["runs"] == 3 and seen["isolate"] is True and seen["memory"] == "rss"
    assert seen["assets"] is None and seen["years"] is None


def test_too_short_for_w4_is_a_clear_error() -> None:
    result = run("-w", "W4", "--sessions", "10", "--in-process")
    assert result.exit_code == 1
    assert "W4 serves a 50-session history window" in result.output


def test_unknown_workload_is_a_usage_error() -> None:
    result = run("-w", "W7")
    assert result.exit_code == 2
    assert "W7" in result.output
