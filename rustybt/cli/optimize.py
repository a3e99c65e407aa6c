"""``rustybt optimize`` and ``rustybt walk-forward``: parameter searches from the command line."""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import pandas as pd

from rustybt.cli.main import main
from rustybt.cli.run import (
    check_output_path,
    check_report_output,
    define_namespace,
    output_format,
    progress_bar,
    write_file,
    write_output,
)

#: The columns the best-trials table shows after the parameters and objectives.
_SHOWN = ("total_return", "max_drawdown", "trades", "duration")


def _search_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``optimize`` and ``walk-forward`` share (the backtest and the search)."""
    options = [
        click.option(
            "-f",
            "--algofile",
            required=True,
            type=click.Path(exists=True, dir_okay=False, path_type=str),
            help="The file that holds the algorithm.",
        ),
        click.option("-b", "--bundle", default="demo", show_default=True, metavar="NAME"),
        click.option("-s", "--start", type=pd.Timestamp, required=True, help="First session."),
        click.option("-e", "--end", type=pd.Timestamp, required=True, help="Last session."),
        click.option(
            "--param",
            "params",
            multiple=True,
            required=True,
            metavar="NAME=KIND:...",
            help="A parameter to search: NAME=int:LOW:HIGH[:STEP], "
            "NAME=float:LOW:HIGH[:STEP], NAME=logfloat:LOW:HIGH or NAME=cat:A,B,C. "
            "Repeat for each.",
        ),
        click.option(
            "-D",
            "--define",
            multiple=True,
            metavar="NAME=VALUE",
            help="A fixed parameter, the Python expression VALUE, passed to every trial.",
        ),
        click.option(
            "--method",
            type=click.Choice(["grid", "random", "tpe", "cmaes", "nsga2"]),
            default="tpe",
            show_default=True,
        ),
        click.option(
            "--objective",
            "objectives",
            multiple=True,
            default=("sharpe",),
            show_default=True,
            help="A statistic (sharpe, sortino, calmar, total_return, max_drawdown, ...) or "
            "a perf column, optionally NAME:min or NAME:max. Repeat for several objectives.",
        ),
        click.option("--trials", type=int, default=None, help="Default: the grid's size, else 50."),
        click.option(
            "--jobs", type=int, default=1, show_default=True, help="Workers; -1: every core."
        ),
        click.option(
            "--ray-address",
            default=None,
            help="Run the trials on Ray: 'local', 'auto' or a cluster's address.",
        ),
        click.option(
            "--storage", default=None, help="An optuna storage URL (default: under the root)."
        ),
        click.option("--study-name", default=None, help="Resume or start this study."),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--capital-base", type=float, default=10_000_000.0, show_default=True),
        click.option(
            "--data-frequency",
            type=click.Choice(["daily", "minute"]),
            default="daily",
            show_default=True,
        ),
        click.option("--benchmark-symbol", default=None, help="Symbol of the benchmark asset."),
        click.option(
            "--progress/--no-progress",
            default=None,
            help="Progress bar (default: when stderr is a terminal).",
        ),
        click.option(
            "--report",
            "report_output",
            default=None,
            metavar="FILENAME",
            help="Also write the HTML report of the search: one file that opens offline.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _search_arguments(options: dict[str, Any]) -> dict[str, Any]:
    """The shared options as the keyword arguments of ``optimize``/``walk_forward``."""
    from rustybt.optimization import ParameterSpace

    objectives = options.pop("objectives")
    return {
        "algorithm": options.pop("algofile"),
        "space": ParameterSpace.from_specs(options.pop("params")),
        "params": define_namespace(options.pop("define")),
        "objective": list(objectives) if len(objectives) > 1 else objectives[0],
        **{
            key: options.pop(key)
            for key in (
                "bundle",
                "start",
                "end",
                "method",
                "trials",
                "jobs",
                "ray_address",
                "storage",
                "study_name",
                "seed",
                "capital_base",
                "data_frequency",
                "benchmark_symbol",
            )
        },
    }


@main.command()
@_search_options
@click.option(
    "-o",
    "--output",
    default=None,
    metavar="FILENAME",
    help="Write the trials table: .csv, .parquet, else a pickle.",
)
@click.option("--top", type=int, default=10, show_default=True, help="Best trials shown.")
def optimize(
    output: str | None,
    top: int,
    progress: bool | None,
    report_output: str | None,
    **options: Any,
) -> Any:
    """Search an algorithm's parameters; every trial is a backtest.

    A study of the same name (by default: the algorithm, bundle, dates, method
    and objectives) is resumed: its finished trials are kept.
    """
    from rustybt.optimization import optimize as run_search

    arguments = _search_arguments(options)
    if output is not None:
        check_output_path(output, "-o")
    if report_output is not None:
        check_report_output(report_output, {"-o": output})
    with _trial_progress(_shown(progress)) as on_trial:
        result = run_search(**arguments, progress=on_trial)
    _print_best(result, top)
    click.echo(_study_line(result), err=True)
    _write_table(result.trials, output, "trials")
    _write_report(result, report_output, _report_title(arguments, "search"))
    return result


def _report_title(arguments: dict[str, Any], what: str) -> str:
    """The report's title: what was searched, on which bundle, how."""
    name = Path(arguments["algorithm"]).name
    return f"{name} on {arguments['bundle']}: {arguments['method']} {what}"


def _write_report(result: Any, report_output: str | None, title: str) -> None:
    """The search's HTML report (:func:`rustybt.analytics.report`), and where to open it."""
    if report_output is None:
        return
    from rustybt.analytics.tearsheet import report  # plotly: only when a report is asked for

    write_file(report_output, report(result, title=title).html.encode("utf-8"))
    uri = Path(report_output).absolute().as_uri()
    click.echo(f"Wrote the report to {report_output}; open {uri}", err=True)


def _study_line(result: Any) -> str:
    """Where the study is kept and what it holds (run the command again to resume it)."""
    counts = result.trials["status"].value_counts()
    held = ", ".join(f"{counts[status]} {status}" for status in counts.index)
    return f"Study {result.study.study_name!r}: {len(result.trials)} trials ({held})"


@main.command("walk-forward")
@_search_options
@click.option("--train", default="2Y", show_default=True, help="Training span: 2Y, 6M, 90D, ...")
@click.option("--test", default="6M", show_default=True, help="Test span.")
@click.option("--step", default=None, help="Between windows' starts (default: the test span).")
@click.option("--anchored", is_flag=True, default=False, help="Training spans start at START.")
@click.option(
    "-o",
    "--output",
    default=None,
    metavar="FILENAME",
    help="Write the windows table: .csv, .parquet, else a pickle.",
)
@click.option(
    "--perf-output",
    default=None,
    metavar="FILENAME",
    help="Write the stitched out-of-sample performance (as rustybt run -o writes one).",
)
def walk_forward(
    train: str,
    test: str,
    step: str | None,
    anchored: bool,
    output: str | None,
    perf_output: str | None,
    progress: bool | None,
    report_output: str | None,
    **options: Any,
) -> Any:
    """Optimize on each window's training span, run the winner on its test span."""
    from rustybt.optimization import walk_forward as run_walk_forward

    arguments = _search_arguments(options)
    for path, option in ((output, "-o"), (perf_output, "--perf-output")):
        if path is not None:
            check_output_path(path, option)
    if report_output is not None:
        check_report_output(report_output, {"-o": output, "--perf-output": perf_output})
    with _trial_progress(_shown(progress)) as on_trial:
        result = run_walk_forward(
            **arguments,
            train=_span(train),
            test=_span(test),
            step=None if step is None else _span(step),
            anchored=anchored,
            progress=None if on_trial is None else lambda w, o, d, t: on_trial(o, d, t),
        )
    _print_windows(result)
    _write_table(result.windows, output, "windows")
    if perf_output is not None:
        write_output(result.oos_perf, perf_output)
        click.echo(
            f"Wrote {len(result.oos_perf)} out-of-sample sessions to {perf_output}", err=True
        )
    _write_report(result, report_output, _report_title(arguments, "walk-forward"))
    return result


def _span(text: str) -> str | int:
    """A window length as given: a number of sessions, or a length such as 6M."""
    return int(text) if text.strip().isdigit() else text


def _shown(progress: bool | None) -> bool:
    return sys.stderr.isatty() if progress is None else progress


def _write_table(frame: pd.DataFrame, output: str | None, what: str) -> None:
    if output is None or output_format(output) == "none":
        return
    write_file(output, _table_bytes(frame, output_format(output)))
    click.echo(f"Wrote {len(frame)} {what} to {output}", err=True)


def _print_windows(result: Any) -> None:
    """The windows, the parameter stability and the efficiency, on stderr."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    windows = result.windows
    objective = result.objectives[0].name
    columns = ["window", "test_start", "test_end", *result.space.names]
    columns += [f"is_{objective}", f"oos_{objective}", "oos_total_return"]
    table = Table(title=f"{len(windows)} walk-forward windows (the full table: -o)")
    for column in columns:
        table.add_column(column, justify="right")
    for _, row in windows.iterrows():
        table.add_row(*(_cell(row[c]) for c in columns))
    console.print(table)
    stability = Table(title="Parameter stability")
    stability.add_column("parameter")
    for column in result.parameter_stability.columns:
        stability.add_column(str(column), justify="right")
    for name, row in result.parameter_stability.iterrows():
        stability.add_row(str(name), *(_cell(v) for v in row))
    console.print(stability)
    console.print(f"Walk-forward efficiency: {_cell(result.efficiency)}")


@contextmanager
def _trial_progress(show: bool) -> Iterator[Callable[[Any, int, int], None] | None]:
    """A progress bar of trials while the block runs: yields the search's ``progress``."""
    with progress_bar("trials", show) as update:
        if update is None:
            yield None
        else:
            yield lambda outcome, done, total: update(done, total)


def _print_best(result: Any, top: int) -> None:
    """The best trials (or the Pareto front), one row each, on stderr."""
    from rich.console import Console
    from rich.table import Table

    names = [o.name for o in result.objectives]
    if len(names) > 1:
        frame, title = result.pareto_front, "Pareto front"
    else:
        frame = result.ranked().head(top)
        title = f"Best {len(frame)} of {len(result.trials)} trials by {names[0]}"
    columns = ["number", *result.space.names, *names]
    columns += [c for c in _SHOWN if c in frame and c not in columns]
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right")
    for _, row in frame.iterrows():
        table.add_row(*(_cell(row[c]) for c in columns))
    Console(stderr=True).print(table)


def _cell(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return str(value.date())
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _table_bytes(frame: pd.DataFrame, kind: str) -> bytes:
    """The trials table as a ``"csv"``, ``"parquet"`` or ``"pickle"`` file's bytes."""
    buffer = io.BytesIO()
    if kind == "csv":
        frame.to_csv(buffer, index=False)
    elif kind == "parquet":
        frame.to_parquet(buffer, index=False)
    else:
        frame.to_pickle(buffer)
    return buffer.getvalue()
