"""The ``benchmark`` verb: time the standard workloads (W1-W6, grid100, wf5) and print a table."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from rustybt.cli.main import main

if TYPE_CHECKING:
    from rich.table import Table

    from rustybt.benchmarks.workloads import WorkloadReport

WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6", "grid100", "wf5")


def format_seconds(seconds: float) -> str:
    """``0.0123`` -> ``"12.3 ms"``, ``12.345`` -> ``"12.35 s"``.

    Examples
    --------
    >>> format_seconds(0.0123), format_seconds(12.345)
    ('12.3 ms', '12.35 s')
    """
    if seconds < 1.0:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def format_bytes(count: int | None) -> str:
    """Bytes in MiB, or ``"-"`` when not measured.

    Examples
    --------
    >>> format_bytes(3 * 1024**2), format_bytes(None)
    ('3.0 MiB', '-')
    """
    return "-" if count is None else f"{count / 1024**2:,.1f} MiB"


def format_result(workload: str, result: Any) -> str:
    """A workload's result in a few words.

    Examples
    --------
    >>> format_result("W1", {"final_portfolio_value": 10123456.789, "fills": 5})
    'value 10,123,456.79, 5 fills'
    >>> format_result("W3", {"bars": 1260000, "assets": 500})
    '1,260,000 bars'
    >>> format_result("grid100", {"best_params": {"fast": 8, "slow": 50}, "best_sharpe": 0.91,
    ...                           "best_final_value": 12345678.9, "trials": 100})
    'best fast=8, slow=50: sharpe 0.910, value 12,345,678.90 (100 trials)'
    """
    if not isinstance(result, dict):
        return str(result)
    if "best_params" in result:
        params = ", ".join(f"{k}={v}" for k, v in result["best_params"].items())
        return (
            f"best {params}: sharpe {result['best_sharpe']:.3f}, value "
            f"{result['best_final_value']:,.2f} ({result['trials']} trials)"
        )
    if "chosen" in result:
        return (
            f"{result['windows']} windows, {result['trials']} trials, efficiency "
            f"{result['efficiency']:.2f}, out-of-sample equity {result['oos_final_equity']:,.2f}"
        )
    if "final_portfolio_value" in result:
        return f"value {result['final_portfolio_value']:,.2f}, {result['fills']:,} fills"
    if "bars" in result:
        return f"{result['bars']:,} bars"
    if "window_shape" in result:
        rows, cols = result["window_shape"]
        return f"window {rows}x{cols}, sum {result['window_sum']:,.2f}"
    return json.dumps(result)


def _ci_half_width(ci: tuple[float, float] | None) -> str:
    return "-" if ci is None else "± " + format_seconds((ci[1] - ci[0]) / 2.0)


def results_table(reports: Sequence[WorkloadReport]) -> Table:
    """The summary table: one row per workload."""
    from rich.table import Table

    method = reports[0].benchmark.memory_method if reports else "rss"
    captions = sorted({f"{r.spec.name}: {r.spec.description}" for r in reports})
    table = Table(title="rustybt benchmark", caption="; ".join(captions))
    for header in ("workload", "size", "runs", "mean", "std", "95% CI", "min", "max"):
        table.add_column(header, justify="left" if header in ("workload", "size") else "right")
    table.add_column(f"peak mem ({method})", justify="right")
    table.add_column("result")
    for report in reports:
        bench = report.benchmark
        table.add_row(
            report.spec.name,
            report.spec.short_size,
            str(bench.num_runs),
            format_seconds(bench.mean_seconds),
            format_seconds(bench.std_seconds),
            _ci_half_width(bench.ci95),
            format_seconds(bench.min_seconds),
            format_seconds(bench.max_seconds),
            format_bytes(bench.peak_memory_bytes),
            format_result(report.spec.name, bench.result),
        )
    return table


def profile_tables(report: WorkloadReport) -> list[Table]:
    """The profile of one workload: time by category, then the top functions."""
    from rich.table import Table

    profile = report.benchmark.profile
    if profile is None:
        return []
    name = report.spec.configuration_name
    categories = Table(title=f"{name}: time by category (library time charged to its callers)")
    for header in ("category", "seconds", "share", "own seconds"):
        categories.add_column(header, justify="left" if header == "category" else "right")
    shares = profile.shares()
    for category, seconds in sorted(profile.categories.items(), key=lambda kv: -kv[1]):
        own = profile.own_categories.get(category)
        categories.add_row(
            category,
            f"{seconds:.3f}",
            f"{shares[category]:.1%}",
            "-" if own is None else f"{own:.3f}",
        )
    categories.add_row("library (own)", "", "", f"{profile.own_categories.get('library', 0):.3f}")
    functions = Table(title=f"{name}: top {len(profile.top_functions)} functions by own time")
    for header in ("function", "category", "calls", "tottime", "cumtime"):
        functions.add_column(
            header, justify="left" if header in ("function", "category") else "right"
        )
    for stat in profile.top_functions:
        functions.add_row(
            stat.function,
            stat.category,
            f"{stat.ncalls:,}",
            f"{stat.tottime:.3f}",
            f"{stat.cumtime:.3f}",
        )
    return [categories, functions]


@main.command()
@click.option(
    "-w",
    "--workload",
    "workloads",
    multiple=True,
    type=click.Choice(WORKLOADS, case_sensitive=False),
    help="Workload to run (repeatable); default all eight.",
)
@click.option("-n", "--runs", default=3, show_default=True, help="Timed runs per workload.")
@click.option(
    "--warmup",
    default=0,
    show_default=True,
    help="Untimed runs first (0: the first run is cold, as a user's first run is).",
)
@click.option(
    "--assets",
    type=int,
    help="Assets in every workload (default 500; W2, W5, W6, grid100, wf5 50).",
)
@click.option(
    "--years", type=float, help="Years of 252 sessions (default 10; W2 1; W6 21 sessions)."
)
@click.option("--sessions", type=int, help="Length in sessions instead of years.")
@click.option(
    "--grid",
    type=int,
    help="grid100 and wf5: search the first N fast and N slow windows (default 10: 10 x 10).",
)
@click.option("--trials", type=int, help="wf5: trials per walk-forward window (default 20).")
@click.option("--jobs", type=int, help="grid100 and wf5: worker processes (default 2).")
@click.option(
    "--output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Print a table or JSON.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    help="Also write each workload's result as a JSON file here.",
)
@click.option(
    "--memory",
    type=click.Choice(["rss", "tracemalloc", "none"]),
    default="rss",
    show_default=True,
    help="Peak memory: process max RSS, or tracemalloc's peak over one extra run.",
)
@click.option(
    "--isolate/--in-process",
    default=True,
    show_default=True,
    help="Time each workload in a fresh Python process (its RSS is its own).",
)
@click.option("--profile", is_flag=True, help="Profile one extra run per workload (cProfile).")
@click.option("--top", default=25, show_default=True, help="Functions listed by --profile.")
def benchmark(
    workloads: tuple[str, ...],
    runs: int,
    warmup: int,
    assets: int | None,
    years: float | None,
    sessions: int | None,
    grid: int | None,
    trials: int | None,
    jobs: int | None,
    output: str,
    output_dir: str | None,
    memory: str,
    isolate: bool,
    profile: bool,
    top: int,
) -> None:
    """Run the standard workloads on generated data and print their timings.

    W1: daily dual moving-average crossover, re-targeting every asset every bar
    (500 assets x 10 years); W2: the same on minute bars (50 assets x 1 year);
    W3: csvdir ingest (500 x 10); W4: open that bundle and serve the first
    50-day history window; W5: the crossover trading only when a signal flips,
    daily (50 x 10); W6: the same on minute bars (50 assets x 21 sessions);
    grid100: a 10 x 10 grid search of W5's fast and slow windows on 2 workers
    (50 x 10); wf5: a walk-forward of 5 windows of 20 trials each (50 x 10).
    Data lives in a temporary RUSTYBT_ROOT; preparing it is not timed.
    """
    from rich.console import Console

    from rustybt.benchmarks.workloads import run_workloads

    names = list(workloads) or list(WORKLOADS)
    err = Console(stderr=True)

    def done(report: WorkloadReport) -> None:
        mean = format_seconds(report.benchmark.mean_seconds)
        err.print(f"{report.spec.name} ({report.spec.size}): mean {mean}")

    reports = run_workloads(
        names,
        assets=assets,
        years=years,
        sessions=sessions,
        search={"grid": grid, "trials": trials, "jobs": jobs},
        on_report=done,
        runs=runs,
        warmup=warmup,
        profile=profile,
        memory=memory,
        output_dir=output_dir,
        isolate=isolate,
        top=top,
    )
    if output == "json":
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2))
        return
    # Piped output is not cut to 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(results_table(reports))
    for report in reports:
        for table in profile_tables(report):
            console.print(table)
