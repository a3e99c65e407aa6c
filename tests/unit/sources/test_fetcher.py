"""read_fetched_csv on real files and a real http server on 127.0.0.1: rows read, and errors."""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from rustybt.assets import AssetDBWriter, AssetFinder
from rustybt.exceptions import (
    DataAdapterError,
    DataNotFoundError,
    DataValidationError,
    ParameterValidationError,
)
from rustybt.sources.fetcher import FetchedCSV, read_fetched_csv
from tests.unit.sources._loopback import QuietHandler, serve_folder

SIGNALS = """symbol,date,signal,note
aaa,2024-01-03,2,b
AAA,2024-01-02,1,a
bbb,2024-01-02,5,c
"""


@pytest.fixture
def finder(tmp_path: Path) -> AssetFinder:
    """AAA (sid 1), BBB (2), NA (5: a ticker pandas would read as missing), and OLD:
    held by sid 3 in 2020-2021 and by sid 4 from 2022."""
    equities = pd.DataFrame(
        {
            "symbol": ["AAA", "BBB", "OLD", "OLD", "NA"],
            "start_date": pd.to_datetime(
                ["2020-01-02", "2020-01-02", "2020-01-02", "2022-01-03", "2020-01-02"]
            ),
            "end_date": pd.to_datetime(
                ["2024-12-31", "2024-12-31", "2021-12-31", "2024-12-31", "2024-12-31"]
            ),
            "exchange": ["NYSE"] * 5,
        },
        index=[1, 2, 3, 4, 5],
    )
    path = tmp_path / "assets.sqlite"
    AssetDBWriter(path).write(equities=equities)
    return AssetFinder(path)


class _Handler(QuietHandler):
    """Serves the test's folder and remembers each request's path and headers."""

    seen: ClassVar[list[tuple[str, dict[str, str]]]] = []

    def do_GET(self) -> None:
        type(self).seen.append((self.path, dict(self.headers.items())))
        super().do_GET()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``(base URL, served folder)`` of a server on 127.0.0.1 in a thread."""
    folder = tmp_path / "www"
    folder.mkdir()
    _Handler.seen = []
    with serve_folder(folder, _Handler) as url:
        yield url, folder


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _assert_signals(source: FetchedCSV, finder: AssetFinder) -> None:
    df = source.df
    aaa, bbb = finder.retrieve_asset(1), finder.retrieve_asset(2)
    # Sorted by time (stable), the symbol and date columns gone, symbols mapped.
    assert list(df.columns) == ["signal", "note", "sid"]
    assert source.fields == ["signal", "note"]
    assert df.index.tolist() == list(
        pd.DatetimeIndex(["2024-01-02", "2024-01-02", "2024-01-03"], tz="UTC")
    )
    assert df["sid"].tolist() == [aaa, bbb, aaa]
    assert df["signal"].tolist() == [1, 5, 2]
    assert df["note"].tolist() == ["a", "c", "b"]


@pytest.mark.parametrize("form", ["path", "file_url", "http"])
def test_a_path_a_file_url_and_an_http_url_read_the_same_rows(
    form: str, finder: AssetFinder, server: tuple[str, Path]
) -> None:
    base, folder = server
    path = _write(folder, "signals.csv", SIGNALS)
    url = {"path": str(path), "file_url": path.as_uri(), "http": f"{base}/signals.csv"}[form]
    source = read_fetched_csv(url, finder)
    assert source.url == url
    _assert_signals(source, finder)


def test_symbol_names_data_that_is_not_about_assets(tmp_path: Path) -> None:
    path = _write(tmp_path, "cpi.csv", "Date,Value\n2024-02-01,310.3\n2024-01-01,309.7\n")
    source = read_fetched_csv(
        str(path),
        None,
        symbol="urban",
        date_column="Date",
        pre_func=lambda df: df.rename(columns={"Value": "cpi"}),
    )
    assert source.fields == ["cpi"]
    assert source.df["sid"].tolist() == ["urban", "urban"]
    assert source.df["cpi"].tolist() == [309.7, 310.3]


def test_post_func_sees_the_time_index_and_the_sid_column(
    tmp_path: Path, finder: AssetFinder
) -> None:
    seen: list[Any] = []

    def scale(df: pd.DataFrame) -> pd.DataFrame:
        seen.append((df.index.tz, "sid" in df.columns))
        return df.assign(scaled=df["signal"] * 10)

    source = read_fetched_csv(str(_write(tmp_path, "s.csv", SIGNALS)), finder, post_func=scale)
    assert seen == [(source.df.index.tz, True)]
    assert source.df["scaled"].tolist() == [10, 50, 20]


def test_dates_without_an_offset_are_read_in_the_timezone(
    tmp_path: Path, finder: AssetFinder
) -> None:
    naive = _write(tmp_path, "n.csv", "symbol,date,signal\nAAA,2024-01-03 10:00,1\n")
    source = read_fetched_csv(str(naive), finder, timezone="US/Eastern")
    # 10:00 in New York (EST) is 15:00 UTC.
    assert source.df.index.tolist() == [pd.Timestamp("2024-01-03 15:00", tz="UTC")]
    offset = _write(tmp_path, "o.csv", "symbol,date,signal\nAAA,2024-07-03 10:00+00:00,1\n")
    source = read_fetched_csv(str(offset), finder, timezone="US/Eastern")
    assert source.df.index.tolist() == [pd.Timestamp("2024-07-03 10:00", tz="UTC")]


def test_date_format_is_used_and_a_date_it_does_not_fit_is_refused(
    tmp_path: Path, finder: AssetFinder
) -> None:
    path = _write(tmp_path, "s.csv", "symbol,date,signal\nAAA,7/31/13,1\nAAA,2013-08-15,2\n")
    with pytest.raises(DataValidationError) as info:
        read_fetched_csv(str(path), finder, date_format="%m/%d/%y")
    assert str(info.value) == (
        f"fetch_csv({path}): 1 row(s) with a date in column 'date' that cannot be read "
        "with format '%m/%d/%y': data row 2 '2013-08-15'"
    )
    assert info.value.invalid_rows["signal"].tolist() == [2]
    ok = _write(tmp_path, "ok.csv", "symbol,date,signal\nAAA,7/31/13,1\n")
    source = read_fetched_csv(str(ok), finder, date_format="%m/%d/%y")
    assert source.df.index[0] == pd.Timestamp("2013-07-31", tz="UTC")


def test_unreadable_dates_are_named_by_row(tmp_path: Path, finder: AssetFinder) -> None:
    text = "symbol,date,signal\nAAA,2024-01-02,1\nAAA,soon,2\nBBB,,3\n"
    path = _write(tmp_path, "s.csv", text)
    with pytest.raises(DataValidationError) as info:
        read_fetched_csv(str(path), finder)
    message = str(info.value)
    assert message.startswith(f"fetch_csv({path}): 2 row(s) with a date in column 'date'")
    assert "data row 2 'soon'" in message
    assert "\n" not in message
    assert info.value.invalid_rows["signal"].tolist() == [2, 3]


def test_a_missing_date_column_is_named(tmp_path: Path, finder: AssetFinder) -> None:
    path = _write(tmp_path, "s.csv", "symbol,day,signal\nAAA,2024-01-02,1\n")
    with pytest.raises(DataValidationError) as info:
        read_fetched_csv(str(path), finder)
    assert str(info.value) == (
        f"fetch_csv({path}): no date column 'date'; the columns are "
        "['symbol', 'day', 'signal'] (pass date_column=)"
    )
    assert read_fetched_csv(str(path), finder, date_column="day").fields == ["signal"]


def test_unknown_symbols_are_dropped_with_a_warning_when_masked(
    tmp_path: Path, finder: AssetFinder, caplog: pytest.LogCaptureFixture
) -> None:
    text = SIGNALS + "zzz,2024-01-02,7,x\nzzz,2024-01-03,8,y\n"
    path = _write(tmp_path, "s.csv", text)
    with caplog.at_level(logging.WARNING, logger="rustybt.sources.fetcher"):
        source = read_fetched_csv(str(path), finder)
    _assert_signals(source, finder)
    assert f"fetch_csv({path}): dropped 2 row(s) whose symbol matches no asset: 'zzz'" in (
        caplog.text
    )


def test_unknown_symbols_are_an_error_without_mask(tmp_path: Path, finder: AssetFinder) -> None:
    path = _write(tmp_path, "s.csv", SIGNALS + "zzz,2024-01-02,7,x\n")
    with pytest.raises(DataValidationError) as info:
        read_fetched_csv(str(path), finder, mask=False)
    assert str(info.value) == (
        f"fetch_csv({path}): 1 row(s) whose symbol matches no asset: 'zzz' (1 rows) "
        "(pass mask=True to drop them)"
    )
    assert info.value.invalid_rows["symbol"].tolist() == ["zzz"]


def test_a_symbol_two_assets_held_resolves_at_each_rows_date(
    tmp_path: Path, finder: AssetFinder
) -> None:
    path = _write(tmp_path, "s.csv", "symbol,date,x\nOLD,2021-06-01,1\nOLD,2023-06-01,2\n")
    source = read_fetched_csv(str(path), finder)
    assert [a.sid for a in source.df["sid"]] == [3, 4]


def test_a_ticker_that_reads_as_missing_still_maps(tmp_path: Path, finder: AssetFinder) -> None:
    path = _write(tmp_path, "s.csv", "symbol,date,x\nNA,2024-01-02,\nNA,2024-01-03,2\n")
    source = read_fetched_csv(str(path), finder)
    assert [a.sid for a in source.df["sid"]] == [5, 5]
    # Other columns keep pandas' missing values: an empty cell is NaN.
    assert np.isnan(source.df["x"].iloc[0])


def test_a_sid_column_maps_rows_to_assets(tmp_path: Path, finder: AssetFinder) -> None:
    path = _write(tmp_path, "s.csv", "sid,date,x\n2,2024-01-02,1\n1,2024-01-03,2\n")
    source = read_fetched_csv(str(path), finder)
    assert [a.sid for a in source.df["sid"]] == [2, 1]
    assert source.fields == ["x"]


def test_no_symbol_column_is_an_error_that_says_what_to_pass(
    tmp_path: Path, finder: AssetFinder
) -> None:
    path = _write(tmp_path, "s.csv", "ticker,date,x\nAAA,2024-01-02,1\n")
    with pytest.raises(DataValidationError, match="no 'symbol' or 'sid' column") as info:
        read_fetched_csv(str(path), finder)
    assert "symbol_column=" in str(info.value)
    source = read_fetched_csv(str(path), finder, symbol_column="ticker")
    assert source.df["sid"].iloc[0].sid == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("symbol,date,signal\n", "no data rows"),
        ("", "cannot read it as CSV: No columns to parse from file"),
        ('symbol,date\n"AAA,2024-01-02\n', "cannot read it as CSV"),
    ],
)
def test_empty_or_broken_files_are_refused(
    tmp_path: Path, finder: AssetFinder, text: str, expected: str
) -> None:
    path = _write(tmp_path, "s.csv", text)
    with pytest.raises(DataValidationError) as info:
        read_fetched_csv(str(path), finder)
    assert str(info.value).startswith(f"fetch_csv({path}): {expected}")


def test_a_missing_file_is_named(tmp_path: Path, finder: AssetFinder) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(DataNotFoundError) as info:
        read_fetched_csv(path.as_uri(), finder)
    assert str(info.value) == f"fetch_csv({path.as_uri()}): no file at {path}"


def test_an_http_error_is_named(server: tuple[str, Path], finder: AssetFinder) -> None:
    base, _ = server
    with pytest.raises(DataAdapterError) as info:
        read_fetched_csv(f"{base}/missing.csv", finder)
    assert str(info.value) == (
        f"fetch_csv({base}/missing.csv): the server answered HTTP 404 File not found"
    )
    assert info.value.context["status"] == 404


def test_an_unreachable_server_is_named(finder: AssetFinder) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/s.csv"
    with pytest.raises(DataAdapterError) as info:
        read_fetched_csv(url, finder)
    assert str(info.value).startswith(f"fetch_csv({url}): cannot reach the server: ")
    assert "\n" not in str(info.value)


def test_params_headers_auth_and_the_params_checker_reach_the_server(
    server: tuple[str, Path], finder: AssetFinder
) -> None:
    base, folder = server
    _write(folder, "signals.csv", SIGNALS)

    def checker(url: str) -> tuple[str, dict[str, Any]]:
        return url, {"token": "t1"}

    source = read_fetched_csv(
        f"{base}/signals.csv",
        finder,
        special_params_checker=checker,
        params={"day": "2024-01-02"},
        headers={"X-Probe": "yes"},
        auth=("ann", "secret"),
    )
    _assert_signals(source, finder)
    path, headers = _Handler.seen[-1]
    assert path == "/signals.csv?day=2024-01-02&token=t1"
    assert headers["X-Probe"] == "yes"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"ann:secret").decode()
    # The URL in messages and on the source is the one given, without params.
    assert source.url == f"{base}/signals.csv"


def test_read_csv_arguments_pass_through_and_usecols_keeps_the_dates(
    tmp_path: Path, finder: AssetFinder
) -> None:
    path = _write(tmp_path, "s.csv", SIGNALS.replace(",", ";"))
    source = read_fetched_csv(str(path), finder, sep=";", usecols=["symbol", "signal"])
    assert source.fields == ["signal"]
    assert source.df["signal"].tolist() == [1, 5, 2]


@pytest.mark.parametrize(
    ("url", "kwargs", "expected"),
    [
        ("s.csv", {"timeout": 3}, "unknown keyword argument(s) timeout"),
        ("ftp://host/s.csv", {}, "cannot read ftp:// URLs"),
        ("s.csv", {"headers": {"a": "b"}}, "headers apply to http(s) URLs, not to files"),
    ],
)
def test_arguments_fetch_csv_cannot_use_are_refused(
    tmp_path: Path, finder: AssetFinder, url: str, kwargs: dict[str, Any], expected: str
) -> None:
    _write(tmp_path, "s.csv", SIGNALS)
    where = url if "://" in url else str(tmp_path / url)
    with pytest.raises(ParameterValidationError) as info:
        read_fetched_csv(where, finder, **kwargs)
    assert str(info.value).startswith(f"fetch_csv({where}): {expected}")


@pytest.mark.parametrize("hook", ["pre_func", "post_func"])
def test_a_hook_that_returns_no_frame_is_named(
    tmp_path: Path, finder: AssetFinder, hook: str
) -> None:
    path = _write(tmp_path, "s.csv", SIGNALS)
    with pytest.raises(ParameterValidationError) as info:
        read_fetched_csv(str(path), finder, **{hook: lambda df: None})
    assert str(info.value) == f"fetch_csv({path}): {hook} returned NoneType, not a DataFrame"


def test_post_func_must_keep_the_sid_column(tmp_path: Path, finder: AssetFinder) -> None:
    path = _write(tmp_path, "s.csv", SIGNALS)
    with pytest.raises(ParameterValidationError, match="without the 'sid' column"):
        read_fetched_csv(str(path), finder, post_func=lambda df: df[["signal"]])
    with pytest.raises(ParameterValidationError, match="rows whose sid is missing"):
        read_fetched_csv(str(path), finder, post_func=lambda df: df.assign(sid=None))
