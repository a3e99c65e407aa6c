"""The report object: one self-contained page, written atomically, shown in Jupyter."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rustybt.analytics.summary import performance_summary
from rustybt.analytics.tearsheet import Report, report
from rustybt.analytics.tearsheet.header import figure_text
from rustybt.analytics.tearsheet.html import plotly_javascript
from rustybt.analytics.trades import round_trip_table, trade_statistics
from rustybt.exceptions import ParameterValidationError

Run = tuple[pd.DataFrame, dict[str, Any]]


@pytest.fixture(scope="module")
def demo_report(demo_run: Run) -> Report:
    perf, ledger = demo_run
    return report(perf, ledger=ledger, title="OLMAR <demo>")


def test_page_inlines_plotly_once_and_loads_nothing(demo_report: Report) -> None:
    page = demo_report.html
    assert page.count(plotly_javascript()) == 1
    markup = page.replace(plotly_javascript(), "")
    assert not re.search(r"<(script|img|iframe)[^>]*\bsrc=|<link\b", markup)
    assert "http://" not in markup and "https://" not in markup
    assert "<title>OLMAR &lt;demo&gt;</title>" in page  # the title is escaped


def test_every_panel_has_its_section_and_figure(demo_report: Report) -> None:
    page = demo_report.html
    figures = re.search(r'<script type="application/json" id="figures">(.*?)</script>', page)
    assert figures is not None
    for panel in demo_report.panels:
        assert f'id="panel-{panel.key}"' in page
        if panel.figure is not None:
            assert f'id="plot-{panel.key}"' in page and f'"plot-{panel.key}":' in figures[1]


def test_header_shows_performance_summary(demo_run: Run, demo_report: Report) -> None:
    perf = demo_run[0]
    summary = performance_summary(perf)
    shown = {figure.key: figure.text for figure in demo_report.figures}
    assert shown == {key: figure_text(key, value) for key, value in summary.items()}
    assert list(shown) == list(summary)  # in the summary's order
    assert shown["sessions"] == "503" and shown["beta"] != "n/a"  # a benchmark was given
    value = f"{perf['portfolio_value'].iloc[-1]:,.2f}"
    assert demo_report.subtitle == (
        f"2016-01-04 to 2017-12-29 · 503 sessions · value 100,000.00 → {value}"
    )


def test_every_panel_of_the_issue(demo_report: Report) -> None:
    assert [panel.key for panel in demo_report.panels] == [
        "cumulative", "cumulative-log", "underwater", "monthly", "annual", "distribution",
        "rolling", "exposure", "top-positions", "long-short", "pnl-by-asset", "round-trips",
        "excursions",
    ]  # fmt: skip


def test_round_trips_from_the_ledger(demo_run: Run, demo_report: Report) -> None:
    perf, ledger = demo_run
    trips = round_trip_table(perf, ledger)
    panel = next(p for p in demo_report.panels if p.key == "round-trips")
    shown = {figure.key: figure.text for figure in panel.figures}
    assert shown["total_pnl"] == f"{trade_statistics(trips)['total_pnl']:,.2f}"
    assert shown["count"] == f"{len(trips):,}"


def test_a_frame_without_holdings_gets_the_returns_panels(demo_run: Run) -> None:
    perf = demo_run[0].drop(columns=["positions", "transactions"])
    shown = report(perf)
    assert [p.key for p in shown.panels][-1] == "holdings"
    assert "this frame's positions, transactions are missing or hold" in shown.panels[-1].note
    assert all(p.figure is not None for p in shown.panels[:-1])
    # An algorithm that record()s "positions" replaces the column (as in zipline).
    recorded = demo_run[0].assign(positions=5)
    note = report(recorded).panels[-1].note
    assert "this frame's positions is missing or holds other values" in note


def test_without_a_benchmark(demo_run: Run) -> None:
    perf = demo_run[0].drop(columns=["benchmark_period_return"])
    shown = report(perf)
    assert {f.key: f.text for f in shown.figures}["beta"] == "n/a"
    assert len(shown.panels[0].figure.data) == 1  # no benchmark line
    assert len(shown.panels[6].figure.data) == 2  # rolling: no beta


def test_write_is_atomic_and_returns_the_path(demo_report: Report, tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder" / "report.html"
    written = demo_report.write(target)
    assert written == target and target.read_text(encoding="utf-8") == demo_report.html
    target.write_text("old")
    demo_report.write(str(target))
    assert target.read_text(encoding="utf-8") == demo_report.html
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]  # no temp file left


def test_a_folder_is_refused_and_left_alone(demo_report: Report, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "old.html").write_text("old")
    with pytest.raises(ParameterValidationError, match="reports: is a folder; give a file name"):
        demo_report.write(folder)
    assert [p.name for p in folder.iterdir()] == ["old.html"]


def test_jupyter_shows_the_page_in_a_frame(demo_report: Report) -> None:
    shown = demo_report._repr_html_()
    assert shown.startswith("<iframe srcdoc=")
    source = re.search(r'srcdoc="([^"]*)"', shown)
    assert source is not None and html.unescape(source[1]) == demo_report.html


def test_not_a_performance_frame() -> None:
    with pytest.raises(ParameterValidationError, match="perf: expected the performance DataFrame"):
        report([1, 2, 3])  # type: ignore[arg-type]
    days = pd.bdate_range("2024-01-01", periods=3, tz="UTC")
    with pytest.raises(ParameterValidationError, match="perf: no portfolio_value column"):
        report(pd.DataFrame({"returns": [0.0, 0.01, 0.0]}, index=days))
    with pytest.raises(ParameterValidationError, match="one row per session"):
        report(pd.DataFrame({"returns": [0.1], "portfolio_value": [1.0]}))


def test_a_given_benchmark_replaces_the_frames(demo_run: Run) -> None:
    perf = demo_run[0]
    flat = pd.Series(0.0, index=perf.index)
    panel = report(perf, benchmark=flat).panels[0]
    assert np.allclose(panel.figure.data[1].y, 0.0)


def test_a_one_session_run_without_trades(demo: Path) -> None:
    from rustybt.runner import run_algorithm

    script = (Path(__file__).resolve().parents[4] / "examples" / "buyapple.py").read_text()
    day = pd.Timestamp("2016-01-04")
    perf, algo = run_algorithm(
        day, day, capital_base=100_000, bundle="demo", script=script, return_algorithm=True
    )
    shown = report(perf, algo.ledger.export())
    notes = {panel.key: panel.note for panel in shown.panels}
    assert notes["underwater"] == "The run never fell below a peak."
    assert notes["round-trips"] == "The run closed no trade."
    assert "shorter than the 126-session window" in notes["rolling"]
    assert {f.key: f.text for f in shown.figures}["sessions"] == "1"
    assert shown.html.count('id="plot-') == 12
