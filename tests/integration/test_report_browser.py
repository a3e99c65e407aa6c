"""The HTML report in a real browser: Debian's chromium, headless, driven by Playwright.

Each report is written by the command line, as a user writes it, opened from
its file:// URL with the network unused, and checked for what a reader sees:
no script error, every panel drawn, the header's figures those of the
analytics functions. A screenshot of each page is kept in the test's folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rustybt.analytics.summary import performance_summary
from rustybt.analytics.tearsheet import report
from rustybt.analytics.tearsheet.header import (
    TRADE_LABELS,
    figure_text,
    trade_figure_text,
)
from rustybt.analytics.tearsheet.trade_panels import MAX_TABLE_TRIPS, TRIP_COLUMNS
from rustybt.analytics.trades import round_trip_table, trade_statistics
from rustybt.cli import main
from rustybt.cli.report import read_ledger, read_performance, with_assets_of

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: The flags of a browser that talks to nobody: no updates, sync or background fetches.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: True once plotly has drawn every plot of a report page.
ALL_PLOTS_DRAWN = (
    "Array.from(document.querySelectorAll('div.plot'))"
    ".every(div => div.querySelector('.main-svg') !== null)"
)


def chromium_path() -> str:
    """Debian's chromium. Without it the tests skip, naming the fix, unless
    ``RUSTYBT_BROWSER_TESTS=required`` (CI sets it, after installing chromium)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium is not installed: run `apt-get install -y chromium` (.ci/run does)"
        if os.environ.get("RUSTYBT_BROWSER_TESTS") == "required":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright gives the browser a fresh profile folder of its own.
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True
        )
        yield launched
        launched.close()


@dataclass
class Seen:
    """What the browser saw of a page."""

    problems: list[str]
    requests: list[str]
    plots: dict[str, int]
    header: dict[str, str]
    trade_figures: dict[str, str]
    pnl_keys: list[float]
    pnl_keys_sorted: list[float]


def open_report(browser: Any, path: Path, screenshot: Path) -> Seen:
    """Open ``path`` as file://, wait until plotly drew every plot, look, take a screenshot."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function(ALL_PLOTS_DRAWN, timeout=20_000)
    plots = page.eval_on_selector_all(
        "div.plot", "divs => Object.fromEntries(divs.map(d => [d.id, "
        "d.querySelectorAll('.main-svg').length]))",
    )  # fmt: skip
    header = page.eval_on_selector_all(
        "#panel-header dl.figures > div",
        "items => Object.fromEntries(items.map(i => [i.dataset.key, "
        "i.querySelector('dd').textContent]))",
    )
    trade_figures = page.eval_on_selector_all(
        "#panel-round-trips dl.figures > div",
        "items => Object.fromEntries(items.map(i => [i.dataset.key, "
        "i.querySelector('dd').textContent]))",
    )
    pnl_column = (
        "rows => rows.map(r => JSON.parse(r.cells[" + str(TRIP_COLUMNS.index("P&L")) + "]"
        ".dataset.key))"
    )
    pnl_keys = page.eval_on_selector_all("#panel-round-trips tbody tr", pnl_column)
    page.screenshot(path=str(screenshot), full_page=True)
    pnl_sorted: list[float] = []
    if pnl_keys:  # a click on the P&L column's title sorts the trips by it
        page.click("#panel-round-trips th:text-is('P&L')")
        pnl_sorted = page.eval_on_selector_all("#panel-round-trips tbody tr", pnl_column)
    page.close()
    return Seen(problems, requests, plots, header, trade_figures, pnl_keys, pnl_sorted)


def run_cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=dict(os.environ))
    assert result.exit_code == 0, result.stderr
    return result.stderr


def assert_clean_and_drawn(seen: Seen, path: Path, expected_plots: set[str]) -> None:
    assert seen.problems == []
    assert seen.requests == [path.as_uri()]  # the file itself, nothing else
    assert set(seen.plots) == expected_plots
    assert all(count >= 1 for count in seen.plots.values()), seen.plots


def plot_ids(perf: Any, **options: Any) -> set[str]:
    """The plots the report of ``perf`` has (each panel with a figure draws one)."""
    return {f"plot-{p.key}" for p in report(perf, **options).panels if p.figure is not None}


def test_readme_command_report_opens_offline_and_draws(
    demo: Path, tmp_path: Path, request: pytest.FixtureRequest, browser: Any
) -> None:
    results = tmp_path / "results"
    stderr = run_cli(
        "run", "-f", str(EXAMPLES / "dual_moving_average.py"), "-b", "demo",
        "-s", "2015-01-02", "-e", "2024-12-31", "--capital-base", "100000",
        "--benchmark-symbol", "SPY", "-o", str(results / "dual_moving_average.csv"),
        "--ledger-output", str(results / "ledger.json"),
        "--report", str(results / "report.html"),
    )  # fmt: skip
    page = results / "report.html"
    assert f"open {page.as_uri()}" in stderr
    seen = open_report(browser, page, tmp_path / "report.png")
    perf = read_performance(results / "dual_moving_average.csv")
    assert_clean_and_drawn(seen, page, plot_ids(perf))
    summary = performance_summary(perf)
    assert seen.header == {key: figure_text(key, value) for key, value in summary.items()}
    assert seen.header["sessions"] == "2,516" and seen.header["beta"] != "n/a"
    trips = round_trip_table(perf, with_assets_of(read_ledger(results / "ledger.json"), perf))
    statistics = trade_statistics(trips)
    assert seen.trade_figures == {
        key: trade_figure_text(key, statistics[key]) for key in TRADE_LABELS if key in statistics
    }
    assert seen.pnl_keys == [float(pnl) for pnl in trips["pnl"].iloc[::-1]]
    assert seen.pnl_keys_sorted == sorted(seen.pnl_keys)
    assert (tmp_path / "report.png").read_bytes().startswith(b"\x89PNG")


def test_report_verb_from_csv_and_ledger(demo: Path, tmp_path: Path, browser: Any) -> None:
    perf_file, ledger_file, page = (
        tmp_path / "olmar.csv", tmp_path / "ledger.json", tmp_path / "olmar.html"
    )  # fmt: skip
    run_cli(
        "run", "-f", str(EXAMPLES / "olmar.py"), "-b", "demo", "-s", "2016-01-04",
        "-e", "2017-12-29", "--capital-base", "100000", "--benchmark-symbol", "SPY",
        "-o", str(perf_file), "--ledger-output", str(ledger_file),
    )  # fmt: skip
    run_cli("report", str(perf_file), "--ledger", str(ledger_file), "-o", str(page))
    seen = open_report(browser, page, tmp_path / "olmar.png")
    assert_clean_and_drawn(seen, page, plot_ids(read_performance(perf_file)))
    perf = read_performance(perf_file)
    summary = performance_summary(perf)
    assert seen.header == {key: figure_text(key, value) for key, value in summary.items()}
    assert len(seen.pnl_keys) == MAX_TABLE_TRIPS  # the most recent trips
    assert seen.pnl_keys_sorted == sorted(seen.pnl_keys)


#: The crossover of the optimization tests over a 3 x 2 grid, as a user searches it.
SEARCH = ["-f", str(Path(__file__).parents[1] / "unit" / "optimization" / "algos" / "crossover.py"),
          "-b", "demo", "--param", "fast=int:10:30:10", "--param", "slow=int:40:60:20",
          "--method", "grid", "--storage", ":memory:"]  # fmt: skip


def test_optimization_report_opens_offline_and_draws(
    demo: Path, tmp_path: Path, browser: Any
) -> None:
    page = tmp_path / "search.html"
    stderr = run_cli("optimize", *SEARCH, "-s", "2015-01-02", "-e", "2015-12-31",
                     "--report", str(page))  # fmt: skip
    assert f"open {page.as_uri()}" in stderr
    seen = open_report(browser, page, tmp_path / "search.png")
    assert_clean_and_drawn(seen, page, {"plot-search-objective"})
    assert seen.header["trials"] == "6" and seen.header["complete"] == "6"


def test_walk_forward_report_opens_offline_and_draws(
    demo: Path, tmp_path: Path, browser: Any
) -> None:
    page, perf_file = tmp_path / "walk-forward.html", tmp_path / "oos.pickle"
    stderr = run_cli("walk-forward", *SEARCH, "-s", "2015-01-02", "-e", "2016-12-30",
                     "--train", "1Y", "--test", "6M", "--benchmark-symbol", "SPY",
                     "--perf-output", str(perf_file), "--report", str(page))  # fmt: skip
    assert f"open {page.as_uri()}" in stderr
    seen = open_report(browser, page, tmp_path / "walk-forward.png")
    search_plots = {"plot-wf-equity", "plot-wf-windows-chart", "plot-wf-stability"}
    run_plots = plot_ids(read_performance(perf_file))
    assert_clean_and_drawn(seen, page, search_plots | run_plots)
    assert seen.header["sessions"] == "252" and seen.header["beta"] != "n/a"
