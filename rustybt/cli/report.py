"""``rustybt report``: the HTML report of a run, from the files ``rustybt run`` wrote.

``rustybt run -o`` writes the performance frame as a pickle, a Parquet or a
CSV file (see :func:`rustybt.cli.run.performance_bytes`): in the latter two
the per-session lists (``positions``, ``transactions``, ``orders``) are JSON
text, assets by symbol and times as ISO text. Reading undoes exactly that, so
a report from any of the three shows the same panels. ``--ledger-output``
writes the Decimal ledger as JSON; :func:`read_ledger` reads it back, Decimals
as Decimals.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pandas as pd

from rustybt.cli.main import main
from rustybt.cli.run import check_output_path, output_format, write_file
from rustybt.exceptions import ParameterValidationError

__all__ = ["read_ledger", "read_performance", "report_command", "with_assets_of"]

#: The performance frame's columns that hold a list of records per session.
LIST_COLUMNS = ("positions", "transactions", "orders")
#: Keys of those records (and columns of the ledger's frames) that hold a time.
TIME_KEYS = frozenset({"dt", "created", "last_sale_date", "session", "pay_date"})
#: The ledger's scalars, each a Decimal written as exact text.
LEDGER_SCALARS = (
    "capital_base",
    "cash",
    "cash_flow",
    "positions_value",
    "portfolio_value",
    "pnl",
    "returns",
)
#: Columns of the ledger's frames that hold Decimals written as exact text.
LEDGER_DECIMALS = frozenset(
    {"amount", "cost_basis", "last_sale_price", "unrealized_pnl", "price", "commission"}
)


def decoded_records(text: Any) -> Any:
    """One cell of a list column, as written to a CSV or Parquet file, back as records."""
    if not isinstance(text, str) or not text.startswith("["):
        return text  # a pickle's cell (the records themselves), or what record() put there
    records = json.loads(text)
    for record in records:
        for key in TIME_KEYS & record.keys():
            if isinstance(record[key], str):
                record[key] = pd.Timestamp(record[key])
    return records


def read_performance(path: str | Path) -> pd.DataFrame:
    """The performance frame ``rustybt run -o path`` wrote, read by the path's suffix.

    A ``.csv`` or ``.parquet`` file's list columns come back as lists of dicts
    (assets as their symbols, times as Timestamps) and its index as the UTC
    session closes; a pickle (any other suffix) comes back as it was written.

    Raises
    ------
    ParameterValidationError
        When the file cannot be read as the suffix says, naming the file.
    """
    kind = output_format(str(path))
    try:
        if kind == "csv":
            perf = pd.read_csv(path, index_col=0)
        elif kind == "parquet":
            perf = pd.read_parquet(path)
        else:
            perf = pd.read_pickle(path)
    except Exception as exc:  # whatever the reader raises, the user needs the file named
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]  # one line
        raise ParameterValidationError(
            f"{path}: cannot read it as a {kind} file of rustybt run -o: {reason}",
            context={"file": str(path)},
        ) from exc
    if not isinstance(perf, pd.DataFrame):
        raise ParameterValidationError(
            f"{path}: holds a {type(perf).__name__}, not the performance frame of rustybt run -o",
            context={"file": str(path)},
        )
    try:
        # The run's frame has nanosecond closes; a CSV's text parses to microseconds.
        perf.index = pd.to_datetime(perf.index, utc=True).as_unit("ns")
    except (ValueError, TypeError) as exc:
        raise ParameterValidationError(
            f"{path}: its first column is not the session closes of rustybt run -o",
            context={"file": str(path)},
        ) from exc
    from rustybt.analytics.tearsheet.document import REQUIRED_COLUMNS  # plotly: only when asked

    missing = [column for column in REQUIRED_COLUMNS if column not in perf.columns]
    if missing:
        raise ParameterValidationError(
            f"{path}: no {', '.join(missing)} column; not the performance frame of rustybt run -o",
            context={"file": str(path), "missing": missing},
        )
    if kind == "csv":  # the CSV holds the closes once, as its index (named period_close)
        perf.index.name = None
        perf["period_close"] = perf.index
    for column in ("period_open", "period_close"):
        if column in perf.columns:
            perf[column] = pd.to_datetime(perf[column], utc=True).dt.as_unit("ns")
    for column in LIST_COLUMNS:
        if column in perf.columns:
            perf[column] = perf[column].map(decoded_records).astype(object)
    return perf


def ledger_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One of the ledger's frames from its JSON records: Decimals and times restored."""
    frame = pd.DataFrame.from_records(records)
    for column in frame.columns:
        if column in LEDGER_DECIMALS:
            frame[column] = frame[column].map(lambda v: None if v is None else Decimal(v))
            frame[column] = frame[column].astype(object)
        elif column in TIME_KEYS:
            frame[column] = pd.to_datetime(frame[column])
    return frame


def read_ledger(path: str | Path) -> dict[str, Any]:
    """The ledger export ``rustybt run --ledger-output path`` wrote, as ``ledger.export()`` has it.

    Scalars and money columns come back as Decimals, the frames as DataFrames;
    assets are their symbols.

    Raises
    ------
    ParameterValidationError
        When the file is not such a JSON file, naming the file.
    """
    try:
        written = json.loads(Path(path).read_text(encoding="utf-8"))
        ledger: dict[str, Any] = {key: Decimal(written[key]) for key in LEDGER_SCALARS}
        for key in ("positions", "transactions", "cash_journal", "unpaid_dividends"):
            ledger[key] = ledger_frame(written[key])
    except (OSError, ValueError, KeyError, TypeError, ArithmeticError) as exc:
        raise ParameterValidationError(
            f"{path}: not a ledger written by rustybt run --ledger-output "
            f"({type(exc).__name__}: {exc})",
            context={"file": str(path)},
        ) from exc
    return ledger


def assets_by_symbol(perf: pd.DataFrame) -> dict[str, Any]:
    """The asset objects a pickled frame's positions and fills hold, by symbol (none in a file)."""
    found: dict[str, Any] = {}
    for column in ("positions", "transactions"):
        if column not in perf.columns:
            continue
        for records in perf[column]:
            for record in records:
                asset = record.get("sid")
                if getattr(asset, "symbol", None):
                    found[asset.symbol] = asset
    return found


def with_assets_of(ledger: dict[str, Any], perf: pd.DataFrame) -> dict[str, Any]:
    """``ledger`` (read from JSON: assets by symbol) naming assets as ``perf`` does.

    A pickled frame holds asset objects and the ledger file their symbols: the
    ledger's symbols become those objects, so that a fill and the position it
    opened name one asset. Beside a CSV or Parquet frame (symbols) nothing changes.
    """
    assets = assets_by_symbol(perf)
    if not assets:
        return ledger
    matched = dict(ledger)
    for key in ("positions", "transactions", "cash_journal", "unpaid_dividends"):
        frame = ledger[key]
        if "asset" in frame.columns:
            frame = frame.copy()
            frame["asset"] = frame["asset"].map(lambda s: assets.get(s, s)).astype(object)
            matched[key] = frame
    return matched


@main.command("report")
@click.argument("results", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="FILENAME",
    help="Where to write the report: one HTML file that opens offline.",
)
@click.option(
    "--ledger",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    help="The run's ledger (rustybt run --ledger-output): round trips from its exact fills.",
)
@click.option("--title", default=None, help="The report's title (default: the results' name).")
def report_command(results: str, output: str, ledger: str | None, title: str | None) -> None:
    """Write the HTML report of RESULTS, a file written by ``rustybt run -o``.

    RESULTS may be a pickle, a Parquet or a CSV file; all three hold the same
    panels.
    """
    from rustybt.analytics.tearsheet import report

    check_output_path(output, "-o")
    perf = read_performance(results)
    exported = with_assets_of(read_ledger(ledger), perf) if ledger else None
    page = report(perf, ledger=exported, title=title or Path(results).stem).html
    write_file(output, page.encode("utf-8"))
    click.echo(f"Wrote the report to {output}; open {Path(output).absolute().as_uri()}", err=True)
