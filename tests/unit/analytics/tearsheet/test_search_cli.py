"""``rustybt optimize --report`` and ``rustybt walk-forward --report`` on the demo bundle."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from rustybt.cli import main
from tests.unit.optimization._algos import CROSSOVER

#: A 3 x 2 grid of the crossover, as the optimization CLI tests run it.
SEARCH = ["-f", CROSSOVER, "-b", "demo", "--param", "fast=int:10:30:10",
          "--param", "slow=int:40:60:20", "--method", "grid", "--storage", ":memory:"]  # fmt: skip


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_optimize_writes_the_search_report(demo: Path, tmp_path: Path) -> None:
    page = tmp_path / "out" / "search.html"
    result = invoke("optimize", *SEARCH, "-s", "2015-01-02", "-e", "2015-12-31",
                    "--report", str(page))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Wrote the report to {page}; open {page.as_uri()}" in result.output
    html = page.read_text(encoding="utf-8")
    assert "<title>crossover.py on demo: grid search</title>" in html
    assert 'id="plot-search-objective"' in html and 'id="panel-search-trials"' in html


def test_walk_forward_writes_its_report(demo: Path, tmp_path: Path) -> None:
    page = tmp_path / "wf.html"
    result = invoke("walk-forward", *SEARCH, "-s", "2015-01-02", "-e", "2016-12-30",
                    "--train", "1Y", "--test", "6M", "--report", str(page))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"open {page.as_uri()}" in result.output
    html = page.read_text(encoding="utf-8")
    for key in ("wf-equity", "wf-windows-chart", "wf-stability", "cumulative", "round-trips"):
        assert f'id="panel-{key}"' in html


def test_a_report_path_that_is_not_html_is_refused_before_the_search(
    demo: Path, tmp_path: Path
) -> None:
    trials = tmp_path / "trials.csv"
    result = invoke("optimize", *SEARCH, "-s", "2015-01-02", "-e", "2015-12-31",
                    "-o", str(trials), "--report", str(trials))  # fmt: skip
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and re.search(r"--report .*trials\.csv.*name it \.html", lines[0])
    assert not trials.exists()  # refused before any trial ran
