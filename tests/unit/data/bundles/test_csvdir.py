"""The csvdir bundle, ingested and loaded through the real bundle machinery."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from rustybt.data import bundles
from rustybt.data.bundles import csvdir
from rustybt.data.bundles.csvdir import CSVDIRBundle, csvdir_equities
from rustybt.exceptions import ConfigValidationError, DataNotFoundError, DataValidationError

HEADER = "date,open,high,low,close,volume,dividend,split"
OHLCV = "date,open,high,low,close,volume"
START, END = pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-31")

AAPL_ROWS = [
    "2020-01-02,300.0,301.0,299.0,300.5,1000,0,1",
    "2020-01-03,300.5,302.0,300.0,301.0,1100,0,1",
    "2020-01-06,301.0,303.0,300.5,302.0,1200,0.77,1",  # a dividend
    "2020-01-07,151.0,152.0,150.5,151.5,2400,0,2",  # a 2:1 split
    "2020-01-08,151.5,153.0,151.0,152.5,2500,0,1",
]
MSFT_ROWS = [
    "2020-01-03,158.0,159.0,157.5,158.5,5000,0,1",
    "2020-01-06,158.5,160.0,158.0,159.5,5100,0,1",
    "2020-01-07,159.5,161.0,159.0,160.0,5200,0,1",
]

_names = itertools.count()

Env = dict[str, str]
Ingest = Callable[..., bundles.BundleData]


def write_csv(folder: Path, name: str, rows: list[str], header: str = HEADER) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return {"RUSTYBT_ROOT": str(tmp_path / "root")}


@pytest.fixture
def ingest_csvdir(env: Env) -> Iterator[Ingest]:
    """Register a csvdir bundle under a fresh name, ingest it, load it; clean up after."""
    registered: list[str] = []
    opened: list[bundles.BundleData] = []

    def run(
        function: Callable[..., None],
        start: pd.Timestamp | None = START,
        end: pd.Timestamp | None = END,
        environ: Env | None = None,
        show_progress: bool = False,
    ) -> bundles.BundleData:
        name = f"csvdir-test-{next(_names)}"
        bundles.register(name, function, calendar_name="XNYS", start_session=start, end_session=end)
        registered.append(name)
        bundles.ingest(name, environ=environ or env, show_progress=show_progress)
        data = bundles.load(name, environ=environ or env)
        opened.append(data)
        return data

    yield run
    for data in opened:
        data.close()
    for name in registered:
        bundles.unregister(name)


@pytest.fixture
def csv_root(tmp_path: Path) -> Path:
    root = tmp_path / "csvs"
    write_csv(root / "daily", "aapl", AAPL_ROWS)  # lower-case file name: symbol is upper-cased
    write_csv(root / "daily", "MSFT", [r.rsplit(",", 2)[0] for r in MSFT_ROWS], header=OHLCV)
    return root


# --- a good folder -----------------------------------------------------------


def test_daily_folder_ingests_and_loads(csv_root: Path, ingest_csvdir: Ingest) -> None:
    data = ingest_csvdir(csvdir_equities(["daily"], str(csv_root)))
    finder = data.asset_finder
    aapl, msft = finder.retrieve_all([0, 1])
    assert (aapl.symbol, msft.symbol) == ("AAPL", "MSFT")  # sids in sorted symbol order
    assert aapl.start_date == pd.Timestamp("2020-01-02")
    assert aapl.end_date == pd.Timestamp("2020-01-08")
    assert msft.start_date == pd.Timestamp("2020-01-03")
    assert aapl.auto_close_date == pd.Timestamp("2020-01-09")  # the next session
    assert aapl.exchange == "CSVDIR"
    assert finder.lookup_symbol("MSFT", None).sid == 1

    reader = data.equity_daily_bar_reader
    close, volume = reader.load_raw_arrays(
        ["close", "volume"], pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-08"), [0, 1]
    )
    np.testing.assert_array_equal(close[:, 0], [300.5, 301.0, 302.0, 151.5, 152.5])
    assert np.isnan(close[0, 1])  # MSFT starts a day later
    np.testing.assert_array_equal(close[1:4, 1], [158.5, 159.5, 160.0])
    assert volume[3, 0] == 2400.0
    assert data.equity_minute_bar_reader is None


def test_splits_and_dividends_land_in_the_adjustments_db(
    csv_root: Path, ingest_csvdir: Ingest
) -> None:
    data = ingest_csvdir(csvdir_equities(["daily"], str(csv_root)))
    adjustments = data.adjustment_reader
    assert adjustments.get_splits([0, 1], pd.Timestamp("2020-01-07")) == [(0, 0.5)]
    assert adjustments.get_splits([0, 1], pd.Timestamp("2020-01-06")) == []
    tables = adjustments.unpack_db_to_component_dfs()
    payouts = tables["dividend_payouts"]
    assert payouts["sid"].tolist() == [0]
    assert payouts["amount"].tolist() == [0.77]
    for column in ("ex_date", "record_date", "declared_date", "pay_date"):
        assert pd.Timestamp(payouts[column].iloc[0]) == pd.Timestamp("2020-01-06")
    # The dividend's price ratio uses the close before the ex date (301.0).
    ratio = tables["dividends"]["ratio"].iloc[0]
    assert ratio == pytest.approx(1.0 - 0.77 / 301.0)


def test_rows_outside_the_bundle_range_are_dropped(tmp_path: Path, ingest_csvdir: Ingest) -> None:
    rows = ["2019-12-31,9.0,9.5,8.5,9.0,100,0,1", *AAPL_ROWS, "2020-02-03,9.0,9.5,8.5,9.0,100,0,1"]
    write_csv(tmp_path / "daily", "AAPL", rows)
    data = ingest_csvdir(csvdir_equities(["daily"], str(tmp_path)), START, END)
    aapl = data.asset_finder.retrieve_asset(0)
    assert aapl is not None
    assert aapl.start_date == pd.Timestamp("2020-01-02")
    assert aapl.end_date == pd.Timestamp("2020-01-08")


def test_daily_and_minute_share_sids_and_minute_times_are_utc(
    tmp_path: Path, ingest_csvdir: Ingest, env: Env
) -> None:
    write_csv(tmp_path / "daily", "AAPL", AAPL_ROWS[:2])
    write_csv(tmp_path / "daily", "MSFT", MSFT_ROWS[:1])
    minute_rows = [
        "2020-01-02 14:31:00,300.0,300.2,299.9,300.1,10",
        "2020-01-02T09:32:00-05:00,300.1,300.3,300.0,300.2,11",  # 14:32 UTC, given in New York time
        "2020-01-02 14:33:00+00:00,300.2,300.4,300.1,300.3,12",
    ]
    write_csv(tmp_path / "minute", "AAPL", minute_rows, header=OHLCV)
    # Only in the minute folder: it still gets the sid of its sorted place.
    write_csv(tmp_path / "minute", "ZZZ", minute_rows[:1], header=OHLCV)
    data = ingest_csvdir(CSVDIRBundle(csvdir=str(tmp_path)))  # both timeframes by default
    assert [a.symbol for a in data.asset_finder.retrieve_all([0, 1, 2])] == ["AAPL", "MSFT", "ZZZ"]
    minutes = data.equity_minute_bar_reader
    assert minutes is not None
    first = pd.Timestamp("2020-01-02 14:31", tz="UTC")
    for offset, close in enumerate([300.1, 300.2, 300.3]):
        dt = first + pd.Timedelta(minutes=offset)
        assert minutes.get_value(0, dt, "close") == close
    assert minutes.get_value(2, first, "volume") == 10.0
    assert data.equity_daily_bar_reader.get_value(0, pd.Timestamp("2020-01-03"), "close") == 301.0


def test_csvdir_from_the_environment_and_a_progress_bar(
    csv_root: Path, ingest_csvdir: Ingest, env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {**env, "CSVDIR": str(csv_root)}
    data = ingest_csvdir(csvdir_equities(), environ=environ, show_progress=True)
    assert len(data.asset_finder.sids) == 2
    assert "csvdir daily" in capsys.readouterr().out


def test_no_progress_output_when_not_asked(
    csv_root: Path, ingest_csvdir: Ingest, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest_csvdir(csvdir_equities(["daily"], str(csv_root)))
    assert capsys.readouterr().out == ""


def test_a_zipline_style_first_column_and_header_case_are_accepted(
    tmp_path: Path, ingest_csvdir: Ingest
) -> None:
    rows = [r.rsplit(",", 2)[0] for r in MSFT_ROWS]
    write_csv(tmp_path / "daily", "MSFT", rows, header="Date, Open,High,Low,Close,Volume")
    data = ingest_csvdir(csvdir_equities(["daily"], str(tmp_path)))
    reader = data.equity_daily_bar_reader
    assert reader.get_value(0, pd.Timestamp("2020-01-07"), "open") == 159.5


# --- the bulk path and the per-file path write the same bundle ------------------

ADJUSTED = [
    "2020-01-02,10.0,10.5,9.5,10.2,100,,1",  # an empty dividend cell: no dividend
    "2020-01-03,10.2,10.6,10.0,10.4,0,0.5,",  # an empty split cell: no split
    "2020-01-06,5.2,5.4,5.0,5.3,250,0,2",
]
# name -> files (name -> text); whether the bulk path can read the folder.
FOLDERS: dict[str, tuple[dict[str, str], bool]] = {
    "one header, adjustments": (
        {
            "AAPL": "\n".join([HEADER, *AAPL_ROWS]) + "\n",
            "MSFT": "\n".join([HEADER, *MSFT_ROWS]) + "\n",
            "IBM": "\n".join([HEADER, *ADJUSTED]) + "\n",
        },
        True,
    ),
    "several headers, clipping, odd files": (
        {
            "aapl": "\n".join([HEADER, "2019-12-31,1,2,1,1,5,0,1", *AAPL_ROWS]),  # no last newline
            "MSFT": "\n".join(["Day, Open,HIGH,low,close,volume", *MSFT_ROWS]).replace(",0,1", ""),
            "OLD": "\n".join([HEADER, "2019-12-30,1,2,1,1,5,0,2"]) + "\n",  # all clipped
            "XTRA": "\n".join(
                ["symbol,date,open,high,low,close,volume,adj close"]
                + [f"X,{r.rsplit(',', 2)[0]},1.5" for r in MSFT_ROWS]
            )
            + "\n",
        },
        True,
    ),
    "times and zones": (
        {
            "A": "\n".join(
                [OHLCV, "2020-01-02 00:00:00,1,2,1,1,5", "2020-01-03 16:00:00,1,2,1,1,5"]
            ),
            "B": "\n".join(
                [OHLCV.title(), "2020-01-02T00:00:00Z,1,2,1,1,5", "2020-01-06T00:00Z,1,2,1,1,6"]
            ),
        },
        # Arrow turns zoned times into UTC instants: the per-file path keeps the
        # dates as written.
        False,
    ),
    # Naive and zoned times in one column (one header): Arrow reads them as text.
    "naive and zoned times": (
        {
            "A": "\n".join([OHLCV, "2020-01-02 00:00:00,1,2,1,1,5"]),
            "B": "\n".join([OHLCV, "2020-01-02T00:00:00Z,1,2,1,1,5"]),
        },
        False,
    ),
    "windows line ends": (
        {
            "A": "\r\n".join([HEADER, *AAPL_ROWS]) + "\r\n",
            "B": "\n".join([HEADER, *MSFT_ROWS]),
        },
        True,
    ),
    "a quoted column that is not read": (
        {"A": "\n".join([OHLCV + ",name", *[f'{r.rsplit(",", 2)[0]},"x"' for r in MSFT_ROWS]])},
        True,
    ),
    "quoted numbers": (
        {"A": "\n".join([HEADER, *AAPL_ROWS]).replace("300.5,", '"300.5",')},
        False,
    ),
    "a quoted header": ({"A": "\n".join([HEADER.replace("date", '"date"'), *AAPL_ROWS])}, False),
    "a lone carriage return": (
        {"A": "\n".join([HEADER, AAPL_ROWS[0] + "\r" + AAPL_ROWS[1], *AAPL_ROWS[2:]])},
        False,
    ),
    "old mac line ends": ({"A": "\r".join([HEADER, *AAPL_ROWS])}, False),
    "a blank line": ({"A": "\n".join([HEADER, AAPL_ROWS[0], "", *AAPL_ROWS[1:]])}, False),
    "US dates": ({"A": "\n".join([OHLCV, "01/02/2020,1,2,1,1,5", "01/03/2020,1,2,1,1,5"])}, False),
    "a volume of -0": ({"A": "\n".join([OHLCV, "2020-01-02,1,2,1,1,-0"])}, False),
}


def bundle_contents(path: Path) -> dict[str, object]:
    """Everything an ingestion wrote, in comparable form."""
    table = pq.read_table(path / "daily_equities.parquet")
    out: dict[str, object] = {"bars": table, "bars metadata": table.schema.metadata}
    for db in ("assets.sqlite", "adjustments.sqlite"):
        with closing(sqlite3.connect(path / db)) as conn:
            query = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            for (name,) in conn.execute(query).fetchall():
                out[f"{db}:{name}"] = conn.execute(f"SELECT * FROM {name}").fetchall()
    meta = json.loads((path / "bundle.json").read_text())
    out["bundle.json"] = {key: value for key, value in meta.items() if key != "bundle"}
    return out


@pytest.mark.parametrize("name", list(FOLDERS))
def test_bulk_and_per_file_paths_write_the_same_bundle(
    name: str, tmp_path: Path, ingest_csvdir: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, bulk = FOLDERS[name]
    for symbol, text in files.items():
        (tmp_path / "daily").mkdir(exist_ok=True)
        (tmp_path / "daily" / f"{symbol}.csv").write_text(text, newline="")
    used: list[bool] = []
    real = csvdir.write_in_bulk

    def spy(*args: object) -> bool:
        used.append(real(*args))  # type: ignore[arg-type]
        return used[-1]

    monkeypatch.setattr(csvdir, "write_in_bulk", spy)
    fast = ingest_csvdir(csvdir_equities(["daily"], str(tmp_path)))
    assert used == [bulk]
    monkeypatch.setattr(csvdir, "write_in_bulk", lambda *args: False)
    slow = ingest_csvdir(csvdir_equities(["daily"], str(tmp_path)))
    expected, got = bundle_contents(slow.path), bundle_contents(fast.path)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == value or (key == "bars" and got[key].equals(value)), key  # type: ignore[attr-defined]
    assert len(got["assets.sqlite:assets"]) > 0  # type: ignore[arg-type]


def test_an_empty_file_is_named(tmp_path: Path, ingest_csvdir: Ingest) -> None:
    write_csv(tmp_path / "daily", "AAPL", AAPL_ROWS)
    empty = tmp_path / "daily" / "EMPTY.csv"
    empty.write_text("")
    message = ingest_error(tmp_path, ingest_csvdir)
    assert message.startswith(f"{empty}: not a readable CSV file")


def test_the_bulk_path_gives_way_to_report_every_bad_file(
    tmp_path: Path, ingest_csvdir: Ingest
) -> None:
    bad_split = list(AAPL_ROWS)
    bad_split[1] = "2020-01-03,300.5,302.0,300.0,301.0,1100,0,-2"
    bad_high = list(AAPL_ROWS)
    bad_high[2] = "2020-01-06,301.0,299.0,300.5,302.0,1200,0,1"
    write_csv(tmp_path / "daily", "AAA", AAPL_ROWS)
    first = write_csv(tmp_path / "daily", "BBB", bad_split)
    message = ingest_error(tmp_path, ingest_csvdir)
    assert message == f"{first}: 1 invalid row: row 2 (line 3, 2020-01-03): split -2.0 <= 0"
    second = write_csv(tmp_path / "daily", "CCC", bad_high)
    message = ingest_error(tmp_path, ingest_csvdir)
    assert message == (
        f"invalid data in 2 files: {first} (1 invalid row), {second} (1 invalid row); "
        f"first: {first}: 1 invalid row: row 2 (line 3, 2020-01-03): split -2.0 <= 0"
    )


# --- bad input ----------------------------------------------------------------


def ingest_error(root: Path, ingest: Ingest, tframes: list[str] | None = None) -> str:
    with pytest.raises(DataValidationError) as info:
        ingest(csvdir_equities(tframes or ["daily"], str(root)))
    return info.value.message


def test_high_below_low_names_the_file_row_and_line(tmp_path: Path, ingest_csvdir: Ingest) -> None:
    rows = list(AAPL_ROWS)
    rows[2] = "2020-01-06,301.0,299.0,300.5,302.0,1200,0,1"
    path = write_csv(tmp_path / "daily", "AAPL", rows)
    message = ingest_error(tmp_path, ingest_csvdir)
    assert message == f"{path}: 1 invalid row: row 3 (line 4, 2020-01-06): high 299.0 < low 300.5"


def test_duplicate_and_unsorted_dates_are_reported_in_file_order(
    tmp_path: Path, ingest_csvdir: Ingest
) -> None:
    rows = [AAPL_ROWS[0], AAPL_ROWS[2], AAPL_ROWS[1], AAPL_ROWS[3], AAPL_ROWS[3]]
    path = write_csv(tmp_path / "daily", "AAPL", rows)
    message = ingest_error(tmp_path, ingest_csvdir)
    assert message.startswith(f"{path}: 2 invalid rows: ")
    assert (
        "row 3 (line 4, 2020-01-03): date is earlier than the previous row's 2020-01-06" in message
    )
    assert "row 5 (line 6, 2020-01-07): duplicate date (same as row 4)" in message


def test_row_numbers_stay_those_of_the_file_after_clipping(
    tmp_path: Path, ingest_csvdir: Ingest
) -> None:
    early = ["2019-12-30,9.0,9.5,8.5,9.0,100,0,1", "2019-12-31,9.0,9.5,8.5,9.0,100,0,1"]
    rows = [*early, *AAPL_ROWS]
    rows[4] = "2020-01-06,301.0,303.0,300.5,302.0,-5,0,1"  # the fifth data row
    write_csv(tmp_path / "daily", "AAPL", rows)
    message = ingest_error(tmp_path, ingest_csvdir)
    assert "row 5 (line 6, 2020-01-06): volume -5.0 < 0" in message


def test_a_bad_split_value_names_the_file_and_row(tmp_path: Path, ingest_csvdir: Ingest) -> None:
    rows = list(AAPL_ROWS)
    rows[1] = "2020-01-03,300.5,302.0,300.0,301.0,1100,0,-2"
    path = write_csv(tmp_path / "daily", "AAPL", rows)
    message = ingest_error(tmp_path, ingest_csvdir)
    assert message == f"{path}: 1 invalid row: row 2 (line 3, 2020-01-03): split -2.0 <= 0"


def test_a_non_numeric_dividend_names_the_file_and_row(
    tmp_path: Path, ingest_csvdir: Ingest
) -> None:
    rows = list(AAPL_ROWS)
    rows[3] = "2020-01-07,151.0,152.0,150.5,151.5,2400,abc,2"
    write_csv(tmp_path / "daily", "AAPL", rows)
    message = ingest_error(tmp_path, ingest_csvdir)
    assert "row 4 (line 5, 2020-01-07): dividend 'abc' is not a number" in message


def test_an_unparseable_date_is_reported_not_dropped(tmp_path: Path, ingest_csvdir: Ingest) -> None:
    rows = list(AAPL_ROWS)
    rows[1] = "2020-13-45,300.5,302.0,300.0,301.0,1100,0,1"
    write_csv(tmp_path / "daily", "AAPL", rows)
    message = ingest_error(tmp_path, ingest_csvdir)
    assert "row 2 (line 3, NaT): date is missing or could not be parsed" in message


def test_rows_longer_than_the_header_are_refused(tmp_path: Path, ingest_csvdir: Ingest) -> None:
    path = write_csv(tmp_path / "daily", "MSFT", MSFT_ROWS, header=OHLCV)
    message = ingest_error(tmp_path, ingest_csvdir)
    assert message.startswith(f"{path}: rows have more fields than the header")


def test_a_missing_column_names_the_file(tmp_path: Path, ingest_csvdir: Ingest) -> None:
    path = write_csv(
        tmp_path / "daily", "AAPL", ["2020-01-02,1,1,1,1"], header="date,open,high,low,close"
    )
    message = ingest_error(tmp_path, ingest_csvdir)
    assert message.startswith(f"{path}: missing required column(s) volume")


def test_a_failed_ingest_leaves_no_ingestion(
    tmp_path: Path, ingest_csvdir: Ingest, env: Env
) -> None:
    rows = list(AAPL_ROWS)
    rows[0] = "2020-01-02,300.0,301.0,299.0,300.5,1000,0,0"  # split 0 is meaningless
    write_csv(tmp_path / "daily", "AAPL", rows)
    ingest_error(tmp_path, ingest_csvdir)
    ingestions = (Path(env["RUSTYBT_ROOT"]) / "data").glob("csvdir-test-*/*")
    assert [p for p in ingestions if not p.name.startswith(".")] == []


def test_unset_csvdir_variable_is_named(ingest_csvdir: Ingest, env: Env) -> None:
    with pytest.raises(DataNotFoundError, match=r"\$CSVDIR is not set"):
        ingest_csvdir(csvdir_equities(), environ=env)


def test_missing_folder_is_named(tmp_path: Path, ingest_csvdir: Ingest, env: Env) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DataNotFoundError, match=rf"\$CSVDIR={missing} does not exist"):
        ingest_csvdir(csvdir_equities(), environ={**env, "CSVDIR": str(missing)})
    with pytest.raises(DataNotFoundError, match="has no 'daily' or 'minute' subfolder"):
        ingest_csvdir(csvdir_equities(csvdir=str(tmp_path)))
    (tmp_path / "daily").mkdir()
    with pytest.raises(DataNotFoundError, match=r"minute does not exist"):
        ingest_csvdir(csvdir_equities(["minute"], str(tmp_path)))
    with pytest.raises(DataNotFoundError, match=r"no \.csv files"):
        ingest_csvdir(csvdir_equities(["daily"], str(tmp_path)))


def test_unknown_timeframe_is_refused() -> None:
    with pytest.raises(ConfigValidationError, match="unknown timeframe"):
        csvdir_equities(["hourly"])
