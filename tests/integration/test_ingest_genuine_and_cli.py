"""csvdir ingest end to end: genuine data ingests; the CLI refuses bad data in one line."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from rustybt.cli import main
from rustybt.data import bundles
from rustybt.data.bundles.csvdir import csvdir_equities

# A week of the demo's minute bars: enough to compare every symbol's minutes
# with its daily bars, small enough to write quickly.
MINUTE_DAYS = ("2024-01-02", "2024-01-08")


def export_demo(demo_root: Path, out: Path) -> tuple[pa.Table, pa.Table]:
    """Write the demo ingestion's bars as a zipline-layout csvdir; return (daily, minute)."""
    ingestion = max((demo_root / "data" / "demo").iterdir())
    daily = pq.read_table(ingestion / "daily_equities.parquet")
    first, last = (pd.Timestamp(day, tz="UTC") for day in MINUTE_DAYS)
    minute = pq.read_table(
        ingestion / "minute_equities.parquet", filters=[("dt", ">=", first), ("dt", "<", last)]
    )
    with bundles.load("demo", environ={"RUSTYBT_ROOT": str(demo_root)}) as data:
        symbols = {a.sid: a.symbol for a in data.asset_finder.retrieve_all(data.asset_finder.sids)}
    for tframe, table in (("daily", daily), ("minute", minute)):
        (out / tframe).mkdir(parents=True)
        # Rows are sorted by sid: each sid's rows are one slice.
        sids = table.column("sid").to_numpy()
        starts = np.flatnonzero(np.r_[True, sids[1:] != sids[:-1]])
        ends = np.r_[starts[1:], sids.size]
        bars = table.drop_columns(["sid"])
        bars = bars.rename_columns(["date", *bars.column_names[1:]])
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            path = out / tframe / f"{symbols[int(sids[start])]}.csv"
            pacsv.write_csv(bars.slice(start, end - start), path)
    return daily, minute


def test_the_demo_data_as_csv_ingests_unchanged(demo_root: Path, tmp_path: Path) -> None:
    daily, minute = export_demo(demo_root, tmp_path / "csvs")
    env = {"RUSTYBT_ROOT": str(tmp_path / "root")}
    # Registered as the built-in csvdir bundle is: no range, default limits.
    bundles.register("demo-as-csv", csvdir_equities(None, str(tmp_path / "csvs")))
    try:
        path = bundles.ingest("demo-as-csv", environ=env)
    finally:
        bundles.unregister("demo-as-csv")
    stored = pq.read_table(path / "daily_equities.parquet")
    assert stored.num_rows == daily.num_rows
    assert stored.column("close").equals(daily.column("close"))
    stored_minutes = pq.read_table(path / "minute_equities.parquet")
    assert stored_minutes.num_rows == minute.num_rows > 0
    assert stored_minutes.column("close").equals(minute.column("close"))


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=dict(os.environ))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (["1985-01-02,1,2,1,1,5"], "row 1 (line 2, 1985-01-02): before the calendar's first"),
        ([], "the file has a header but no rows"),
        (["2020-01-02,1,1e308,1,1e308,5"], "above the price ceiling 1e+09"),
    ],
    ids=["before 1990", "header only", "close 1e308"],
)
def test_the_cli_refuses_in_one_line_and_keeps_the_good_ingestion(
    rows: list[str],
    expected: str,
    tmp_path: Path,
    rustybt_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    daily = tmp_path / "csvs" / "daily"
    daily.mkdir(parents=True)
    (daily / "AAA.csv").write_text("date,open,high,low,close,volume\n2020-01-02,1,2,1,1,5\n")
    monkeypatch.setenv("CSVDIR", str(tmp_path / "csvs"))
    code, out = run("ingest", "-b", "csvdir", "--no-show-progress")
    assert code == 0, out
    good = bundles.ingestions_for_bundle("csvdir")
    bad = daily / "BAD.csv"
    bad.write_text("\n".join(["date,open,high,low,close,volume", *rows]) + "\n")
    code, out = run("ingest", "-b", "csvdir", "--no-show-progress")
    assert code != 0
    assert out.startswith(f"Error: {bad}: ")
    assert expected in out
    assert out.count("\n") == 1
    assert bundles.ingestions_for_bundle("csvdir") == good
