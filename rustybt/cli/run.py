"""``rustybt run``: backtest an algorithm file or text on a bundle."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from rustybt.cli.main import main
from rustybt.exceptions import ConfigValidationError, ParameterValidationError, RustyBTError
from rustybt.finance.ledger.records import Records


def define_namespace(values: tuple[str, ...]) -> dict[str, Any]:
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


class OutputWriteError(RustyBTError):
    """A result file of ``rustybt run`` could not be written (the other outputs were)."""


#: How ``-o`` writes a file, by its suffix; any other suffix is pickled, as zipline does.
_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pickle": "pickle", ".pkl": "pickle"}


def output_format(output: str) -> str:
    """How ``-o output`` is written: ``"stdout"``, ``"none"`` (os.devnull), or a file format.

    Examples
    --------
    >>> output_format("perf.csv"), output_format("perf.out"), output_format("-")
    ('csv', 'pickle', 'stdout')
    """
    if output == "-":
        return "stdout"
    if output == os.devnull:
        return "none"
    return _FORMATS.get(Path(output).suffix.lower(), "pickle")


def output_target(output: str) -> tuple[Path, bool]:
    """Where ``output`` is written, and whether it is written in place.

    A symlink is followed, so that the file it points to is the one replaced
    (the link stays a link). An existing target that is not a regular file (a
    FIFO, a character device such as ``/dev/stdout``) is written in place: a
    rename would put a plain file where it was. Anything else, a regular file
    or a new name, is replaced atomically.

    Raises
    ------
    OSError
        When the path cannot be looked at (a symlink loop, no permission).

    Examples
    --------
    >>> output_target("no/such/folder/perf.csv")[1]
    False
    """
    path = Path(output)
    try:
        mode = path.stat().st_mode  # follows symlinks
    except (FileNotFoundError, NotADirectoryError):  # a new file (its folder is checked)
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        # In place, through the path as given: the kernel follows the links (a
        # /proc/self/fd link has no name os.path.realpath could return).
        return path, True
    return Path(os.path.realpath(path)), False


def check_output_path(output: str, option: str) -> None:
    """Refuse, before the run, an output path that cannot be written.

    The file's folder may not exist yet (it is created when the results are
    written), but the nearest folder that does exist must be a folder one can
    create files in, and the path must not be a folder itself. A FIFO or a
    device (written in place) must be writable itself.

    Raises
    ------
    ConfigValidationError
        Naming the option, the path and what is wrong with it.
    """
    if output_format(output) in ("stdout", "none"):
        return
    where = {"option": option, "path": output}
    try:
        target, in_place = output_target(output)
    except OSError as exc:
        raise ConfigValidationError(
            f"{option} {output}: cannot look at it: {exc.strerror or exc}", context=where
        ) from exc
    if in_place:
        if not os.access(target, os.W_OK):
            raise ConfigValidationError(f"{option} {output}: not writable", context=where)
        return
    if target.is_dir():
        raise ConfigValidationError(
            f"{option} {output}: is a folder; give a file name", context=where
        )
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigValidationError(f"{option} {output}: {folder} is not a folder", context=where)
    try:  # the only sure test of writability (os.access says yes to root)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ConfigValidationError(
            f"{option} {output}: cannot write in {folder}: {exc.strerror or exc}", context=where
        ) from exc


def write_file(output: str, content: bytes) -> None:
    """Write ``content`` to ``output`` without leaving a half-written file.

    A regular file (or a new one) gets a temporary file beside it, renamed
    into place; through a symlink, the file it points to is replaced. A FIFO
    or a device is written in place (see :func:`output_target`).
    """
    target, in_place = output_target(output)
    if in_place:
        with open(target, "wb") as sink:
            sink.write(content)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # A fresh name opened here, so the file gets the mode any new file gets (the
    # umask's), not mkstemp's owner-only 0600.
    tmp = target.parent / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "xb") as sink:
            sink.write(content)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def performance_bytes(perf: pd.DataFrame, kind: str) -> bytes:
    """``perf`` as the bytes of a ``"csv"``, ``"parquet"`` or ``"pickle"`` file.

    The CSV holds ``period_close`` once, as its first column (the index; the
    frame's own ``period_close`` column holds the same closes), so that
    ``pd.read_csv(path, index_col=0, parse_dates=True)`` reads the frame back
    indexed by session close.
    """
    buffer = io.BytesIO()
    if kind == "pickle":
        perf.to_pickle(buffer)
    elif kind == "parquet":
        _for_files(perf).to_parquet(buffer)
    else:
        frame = _for_files(perf.drop(columns="period_close", errors="ignore"))
        frame.to_csv(buffer, index_label="period_close", encoding="utf-8")
    return buffer.getvalue()


def write_output(perf: pd.DataFrame, output: str) -> None:
    """Write ``perf`` by the output's suffix: .csv, .parquet, else a pickle; '-' prints it.

    The file is written atomically (see :func:`write_file`); ``os.devnull``
    writes nothing.
    """
    kind = output_format(output)
    if kind == "stdout":
        click.echo(perf.to_string())
    elif kind != "none":
        write_file(output, performance_bytes(perf, kind))


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
    help="Bind NAME to the Python expression VALUE before the algorithm runs: a name in "
    "the script's namespace, and an entry of context.params.",
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
@click.option(
    "-bf",
    "--benchmark-file",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    help="A CSV of the benchmark's daily returns: columns date and return, a row for "
    "every session of the run.",
)
@click.option("--benchmark-symbol", default=None, help="Symbol of the benchmark asset.")
@click.option("--benchmark-sid", type=int, default=None, help="Sid of the benchmark asset.")
@click.option("--no-benchmark", is_flag=True, default=False, help="Zero benchmark returns.")
@click.option("-s", "--start", type=pd.Timestamp, required=True, help="First session.")
@click.option("-e", "--end", type=pd.Timestamp, required=True, help="Last session.")
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    metavar="FILENAME",
    help="Where to write the performance: .csv, .parquet, - for stdout, else a pickle.",
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
    "--report",
    "report_output",
    default=None,
    metavar="FILENAME",
    help="Also write the run's HTML report: one file that opens offline in a browser.",
)
@click.option(
    "--blotter",
    default="default",
    show_default=True,
    help="The blotter: 'default' (the simulation blotter) is the only named one.",
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
    benchmark_file: str | None,
    benchmark_symbol: str | None,
    benchmark_sid: int | None,
    no_benchmark: bool,
    start: pd.Timestamp,
    end: pd.Timestamp,
    output: str,
    trading_calendar: str | None,
    print_algo: bool,
    metrics_set: str,
    ledger_output: str | None,
    report_output: str | None,
    blotter: str,
    progress: bool | None,
) -> pd.DataFrame:
    """Run a backtest and write its daily performance.

    The callback returns the performance DataFrame too, which a caller that
    invokes the command with ``standalone_mode=False`` receives (the
    ``%%rustybt`` magic does); the command line ignores it.
    """
    from rustybt.calendars import get_calendar
    from rustybt.utils.run_algo import run_algorithm

    if (algofile is None) == (algotext is None):
        raise click.UsageError("give exactly one of -f/--algofile and -t/--algotext")
    _check_one_benchmark(benchmark_file, benchmark_symbol, benchmark_sid, no_benchmark)
    _check_outputs(output, ledger_output, report_output)
    text = algotext if algotext is not None else algofile.read()
    filename = "<algotext>" if algotext is not None else os.path.abspath(algofile.name)
    if print_algo:
        _print_algo(text)
    show_progress = sys.stderr.isatty() if progress is None else progress
    with progress_bar("sessions", show_progress) as callback:
        perf, algo = run_algorithm(
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
            params=define_namespace(define),
            benchmark_symbol=benchmark_symbol,
            benchmark_sid=benchmark_sid,
            benchmark_file=benchmark_file,
            blotter=blotter,
            default_extension=False,  # the CLI group has loaded extensions already
            progress=callback,
            return_algorithm=True,
        )
    title = f"{Path(filename).name} on {bundle}"
    failures = _write_results(perf, algo, output, ledger_output, (report_output, title))
    if output != "-":
        print_summary(perf, title)
        if "-o" not in failures and output_format(output) != "none":
            click.echo(f"Wrote {len(perf)} sessions of performance to {output}", err=True)
    if report_output and "--report" not in failures:
        uri = Path(report_output).absolute().as_uri()
        click.echo(f"Wrote the report to {report_output}; open {uri}", err=True)
    if failures:
        raise OutputWriteError("; ".join(failures.values()), context={"failed": sorted(failures)})
    return perf


def _check_one_benchmark(
    benchmark_file: str | None,
    benchmark_symbol: str | None,
    benchmark_sid: int | None,
    no_benchmark: bool,
) -> None:
    """Refuse two ways of choosing the benchmark at once."""
    given = [
        name
        for name, value in (
            ("-bf/--benchmark-file", benchmark_file),
            ("--benchmark-symbol", benchmark_symbol),
            ("--benchmark-sid", benchmark_sid),
            ("--no-benchmark", no_benchmark or None),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise click.UsageError(f"{' and '.join(given)} exclude each other; give one")


#: What ``--ledger-output`` may not be named like: it is written as JSON.
_NOT_JSON = {".csv", ".parquet", ".pickle", ".pkl"}


def _check_outputs(output: str, ledger_output: str | None, report_output: str | None) -> None:
    """Check the output paths before the run, so that no result is lost at its end.

    Raises
    ------
    ConfigValidationError
        A path that cannot be written, a ledger file named as another format,
        or two outputs at one path.
    """
    check_output_path(output, "-o")
    if report_output is not None:
        check_report_output(report_output, {"-o": output, "--ledger-output": ledger_output})
    if ledger_output is None:
        return
    check_output_path(ledger_output, "--ledger-output")
    suffix = Path(ledger_output).suffix.lower()
    if suffix in _NOT_JSON:
        raise ConfigValidationError(
            f"--ledger-output {ledger_output}: the ledger is written as JSON, not {suffix}; "
            "name it .json",
            context={"option": "--ledger-output", "path": ledger_output},
        )
    if output_format(output) in ("stdout", "none"):
        return
    # One file would hold only the second output; a FIFO or a device takes both.
    perf_file, perf_in_place = output_target(output)
    ledger_file = output_target(ledger_output)[0]
    if not perf_in_place and perf_file.absolute() == ledger_file.absolute():
        raise ConfigValidationError(
            f"-o {output} and --ledger-output {ledger_output} are one file; give them "
            "different files",
            context={"option": "--ledger-output", "path": ledger_output},
        )


def check_report_output(report_output: str, others: dict[str, str | None]) -> None:
    """``--report``'s path: writable, an HTML file, and none of the run's other outputs."""
    check_output_path(report_output, "--report")
    where = {"option": "--report", "path": report_output}
    if output_format(report_output) in ("stdout", "none"):
        raise ConfigValidationError(
            f"--report {report_output}: the report is a file; give a file name", context=where
        )
    suffix = Path(report_output).suffix.lower()
    if suffix in _NOT_JSON or suffix == ".json":
        raise ConfigValidationError(
            f"--report {report_output}: the report is written as HTML, not {suffix}; name it .html",
            context=where,
        )
    report_file = output_target(report_output)[0].absolute()
    for option, path in others.items():
        if path is None or output_format(path) in ("stdout", "none"):
            continue
        if output_target(path)[0].absolute() == report_file:
            raise ConfigValidationError(
                f"{option} {path} and --report {report_output} are one file; give them "
                "different files",
                context=where,
            )


def _write_results(
    perf: pd.DataFrame,
    algo: Any,
    output: str,
    ledger_output: str | None,
    report_of: tuple[str | None, str] = (None, ""),
) -> dict[str, str]:
    """Write each output on its own: one that fails does not keep the others from being written.

    ``report_of`` is ``(--report's path or None, the report's title)``.

    Returns
    -------
    dict
        Per option that failed (``-o``, ``--ledger-output``), a one-line reason.
    """
    writes: list[tuple[str, str, Callable[[], None]]] = [
        ("-o", output, lambda: write_output(perf, output))
    ]
    if ledger_output:
        writes.append(
            (
                "--ledger-output",
                ledger_output,
                lambda: write_ledger(algo.ledger.export(), ledger_output),
            )
        )
    report_output, title = report_of
    if report_output:
        writes.append(
            (
                "--report",
                report_output,
                lambda: write_report(perf, algo.ledger.export(), report_output, title),
            )
        )
    failures: dict[str, str] = {}
    for option, path, write in writes:
        try:
            write()
        except Exception as exc:  # any failure: report it, and still write the other
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            failures[option] = f"{option} {path}: not written: {type(exc).__name__}: {reason}"
    written = [f"{option} {path}" for option, path, _ in writes if option not in failures]
    if failures and written:
        failures[next(iter(failures))] += f" ({', '.join(written)} written)"
    return failures


def write_report(perf: pd.DataFrame, ledger: Any, output: str, title: str) -> None:
    """The run's HTML report (:func:`rustybt.analytics.report`), written to ``output``."""
    from rustybt.analytics.tearsheet import (
        report,
    )  # plotly is loaded only when a report is asked for

    write_file(output, report(perf, ledger=ledger, title=title).html.encode("utf-8"))


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

    write_file(output, json.dumps(plain(export), indent=1).encode("utf-8"))


@contextmanager
def progress_bar(label: str, show: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar of ``label`` on stderr while the block runs.

    Yields its ``update(done, total)``, or None when it is not shown.
    """
    if not show:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _print_algo(text: str) -> None:
    from rich.console import Console
    from rich.syntax import Syntax

    Console().print(Syntax(text, "python"))
