"""``rustybt run``: backtest an algorithm file or text on a bundle."""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from rustybt.cli.main import main
from rustybt.exceptions import ConfigValidationError, ParameterValidationError
from rustybt.finance.ledger.records import Records


def _define(values: tuple[str, ...]) -> dict[str, Any]:
    """``-D name=value`` pairs, each value a Python expression evaluated in order."""
    namespace: dict[str, Any] = {}
    for item in values:
        name, sep, expr = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ParameterValidationError(
                f"-D/--define takes name=value, got {item!r}", context={"define": item}
            )
        try:
            namespace[name.strip()] = eval(expr, dict(namespace))  # the user's own CLI input
        except Exception as exc:
            raise ParameterValidationError(
                f"-D {item}: cannot evaluate {expr!r}: {exc}", context={"define": item}
            ) from exc
    return namespace


def _flatten(value: Any) -> Any:
    """Orders/transactions/positions columns as JSON text (assets by symbol)."""

    def plain(x: Any) -> Any:
        if hasattr(x, "sid") and hasattr(x, "symbol"):
            return x.symbol or int(x.sid)
        if isinstance(x, pd.Timestamp):
            return x.isoformat()
        if isinstance(x, np.generic):
            return x.item()
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, list | tuple | Records):
            return [plain(v) for v in x]
        if isinstance(x, int | float | str | bool) or x is None:
            return x
        return str(x)

    return json.dumps(plain(value))


def _for_files(perf: pd.DataFrame) -> pd.DataFrame:
    out = perf.copy()
    for column in out.columns:
        if out[column].dtype == object:
            sample = out[column].dropna()
            if len(sample) and isinstance(sample.iloc[0], list | dict | tuple | Records):
                out[column] = out[column].map(_flatten)
            else:
                out[column] = out[column].map(lambda v: v if v is None else _scalar(v))
    return out


def _scalar(value: Any) -> Any:
    if isinstance(value, int | float | bool | str):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def write_output(perf: pd.DataFrame, output: str) -> None:
    """Write ``perf`` by the output's suffix: .pickle/.pkl, .parquet, .csv; '-' prints it."""
    if output == "-":
        click.echo(perf.to_string())
        return
    path = Path(output)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if suffix in (".pickle", ".pkl"):
        perf.to_pickle(tmp)
    elif suffix == ".parquet":
        _for_files(perf).to_parquet(tmp)
    elif suffix == ".csv":
        _for_files(perf).to_csv(tmp, index_label="period_close")
    else:
        raise ConfigValidationError(
            f"-o {output}: unknown output type {suffix!r}; use .pickle, .parquet, .csv or -",
            context={"output": output},
        )
    os.replace(tmp, path)


def summary_rows(perf: pd.DataFrame) -> list[tuple[str, str]]:
    """The headline figures of a run."""
    last = perf.iloc[-1]
    trades = int(perf["transactions"].map(len).sum()) if "transactions" in perf else 0

    def pct(x: Any) -> str:
        return "n/a" if x is None or pd.isna(x) else f"{float(x):.2%}"

    def num(x: Any) -> str:
        return "n/a" if x is None or pd.isna(x) else f"{float(x):.2f}"

    return [
        ("sessions", f"{len(perf)} ({perf.index[0].date()} .. {perf.index[-1].date()})"),
        ("starting value", f"{perf['starting_cash'].iloc[0]:,.2f}"),
        ("final value", f"{last['portfolio_value']:,.2f}"),
        ("total return", pct(last.get("algorithm_period_return"))),
        ("sharpe", num(last.get("sharpe"))),
        ("max drawdown", pct(last.get("max_drawdown"))),
        ("trades", str(trades)),
    ]


def print_summary(perf: pd.DataFrame, title: str) -> None:
    """A rich table of the headline figures, on stderr."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    for name, value in summary_rows(perf):
        table.add_row(name, value)
    Console(stderr=True).print(table)


@main.command()
@click.option(
    "-f",
    "--algofile",
    type=click.File("r"),
    help="The file that holds the algorithm.",
)
@click.option("-t", "--algotext", help="The algorithm as text.")
@click.option(
    "-D",
    "--define",
    multiple=True,
    metavar="NAME=VALUE",
    help="Bind NAME to the Python expression VALUE before the algorithm runs.",
)
@click.option(
    "--data-frequency",
    type=click.Choice(["daily", "minute"]),
    default="daily",
    show_default=True,
)
@click.option("--capital-base", type=float, default=10_000_000.0, show_default=True)
@click.option("-b", "--bundle", default="demo", show_default=True, metavar="NAME")
@click.option(
    "--bundle-timestamp",
    type=pd.Timestamp,
    default=None,
    help="Use the ingestion made at or before this time.",
)
@click.option("--benchmark-symbol", default=None, help="Symbol of the benchmark asset.")
@click.option("--no-benchmark", is_flag=True, default=False, help="Zero benchmark returns.")
@click.option("-s", "--start", type=pd.Timestamp, required=True, help="First session.")
@click.option("-e", "--end", type=pd.Timestamp, required=True, help="Last session.")
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    metavar="FILENAME",
    help="Where to write the performance: .pickle, .parquet, .csv, or - for stdout.",
)
@click.option("--trading-calendar", default=None, metavar="NAME", help="Default: the bundle's.")
@click.option("--print-algo/--no-print-algo", default=False, help="Print the algorithm first.")
@click.option("--metrics-set", default="default", show_default=True)
@click.option(
    "--ledger-output",
    default=None,
    metavar="FILENAME",
    help="Also write the exact Decimal ledger (cash, positions, fills, cash journal) as JSON.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar (default: when stderr is a terminal).",
)
def run(
    algofile: Any,
    algotext: str | None,
    define: tuple[str, ...],
    data_frequency: str,
    capital_base: float,
    bundle: str,
    bundle_timestamp: pd.Timestamp | None,
    benchmark_symbol: str | None,
    no_benchmark: bool,
    start: pd.Timestamp,
    end: pd.Timestamp,
    output: str,
    trading_calendar: str | None,
    print_algo: bool,
    metrics_set: str,
    ledger_output: str | None,
    progress: bool | None,
) -> None:
    """Run a backtest and write its daily performance."""
    from rustybt.calendars import get_calendar
    from rustybt.utils.run_algo import run_algorithm

    if (algofile is None) == (algotext is None):
        raise click.UsageError("give exactly one of -f/--algofile and -t/--algotext")
    if benchmark_symbol and no_benchmark:
        raise click.UsageError("--benchmark-symbol and --no-benchmark exclude each other")
    text = algotext if algotext is not None else algofile.read()
    filename = "<algotext>" if algotext is not None else os.path.abspath(algofile.name)
    if print_algo:
        _print_algo(text)
    show_progress = sys.stderr.isatty() if progress is None else progress
    perf, algo = _run_with_progress(
        show_progress,
        lambda callback: run_algorithm(
            start,
            end,
            capital_base=capital_base,
            data_frequency=data_frequency,
            bundle=bundle,
            bundle_timestamp=bundle_timestamp,
            trading_calendar=get_calendar(trading_calendar) if trading_calendar else None,
            metrics_set=metrics_set,
            script=text,
            algo_filename=filename,
            namespace=_define(define),
            benchmark_symbol=benchmark_symbol,
            default_extension=False,  # the CLI group has loaded extensions already
            progress=callback,
            return_algorithm=True,
        ),
    )
    write_output(perf, output)
    if ledger_output:
        write_ledger(algo.ledger.export(), ledger_output)
    if output != "-":
        print_summary(perf, f"{Path(filename).name} on {bundle}")
        click.echo(f"Wrote {len(perf)} sessions of performance to {output}", err=True)


def write_ledger(export: dict[str, Any], output: str) -> None:
    """The ledger export as JSON: Decimals as exact strings, frames as lists of records."""

    def plain(x: Any) -> Any:
        if isinstance(x, pd.DataFrame):
            return [{k: plain(v) for k, v in row.items()} for row in x.to_dict("records")]
        if isinstance(x, Decimal):
            return str(x)
        if hasattr(x, "sid") and hasattr(x, "symbol"):
            return x.symbol or int(x.sid)
        if isinstance(x, pd.Timestamp):
            return x.isoformat()
        if isinstance(x, dict):
            return {str(k): plain(v) for k, v in x.items()}
        if isinstance(x, np.generic):
            return x.item()
        if x is None or isinstance(x, int | float | str | bool):
            return None if isinstance(x, float) and np.isnan(x) else x
        return str(x)

    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(plain(export), indent=1))
    os.replace(tmp, path)


def _run_with_progress(show: bool, run_fn: Any) -> Any:
    if not show:
        return run_fn(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("sessions", total=None)

        def callback(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run_fn(callback)


def _print_algo(text: str) -> None:
    from rich.console import Console
    from rich.syntax import Syntax

    Console().print(Syntax(text, "python"))
