"""An ingest stores every row it was given or refuses, naming every bad row.

Each test ingests a good folder first, then breaks it the way a probe of the
issue did, and checks that the ingest is refused with a message naming the
file and rows, and that the bundle's stored ingestions are unchanged: the good
ingestion is still the newest and still loads. Most tests use a csvdir bundle;
the last ones a bundle with its own ingest function writing through the daily
bar writer, as a user's would.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rustybt.calendars import get_calendar
from rustybt.data import bundles
from rustybt.data.bundles.csvdir import csvdir_equities
from rustybt.data.plausibility import PriceLimits
from rustybt.exceptions import ConfigValidationError, DataValidationError

OHLCV = "date,open,high,low,close,volume"
GOOD = ["2020-01-02,10.0,10.5,9.5,10.2,100", "2020-01-03,10.2,10.6,10.0,10.4,200"]

_names = itertools.count()


def write(folder: Path, symbol: str, rows: list[str], header: str = OHLCV) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{symbol}.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


class Bundle:
    """A csvdir bundle registered on a folder, with a good ingestion already stored."""

    def __init__(self, root: Path, env: dict[str, str], **options: object) -> None:
        self.folder = root / "csvs"
        self.env = env
        self.name = f"ingest-refusal-{next(_names)}"
        self.options = options
        write(self.folder / "daily", "GOOD", GOOD)
        self.register(None, None)
        bundles.ingest(self.name, environ=env)
        self.good = bundles.ingestions_for_bundle(self.name, env)
        assert len(self.good) == 1

    def register(
        self, start: pd.Timestamp | None, end: pd.Timestamp | None, **options: object
    ) -> None:
        if self.name in bundles.bundles:
            bundles.unregister(self.name)
        bundles.register(
            self.name,
            csvdir_equities(None, str(self.folder), **{**self.options, **options}),  # type: ignore[arg-type]
            calendar_name="XNYS",
            start_session=start,
            end_session=end,
        )

    def ingest(self) -> bundles.BundleData:
        bundles.ingest(self.name, environ=self.env)
        return bundles.load(self.name, environ=self.env)

    def refused(self) -> DataValidationError:
        """Ingest, expect a refusal; check the good ingestion is untouched."""
        with pytest.raises(DataValidationError) as info:
            bundles.ingest(self.name, environ=self.env)
        assert bundles.ingestions_for_bundle(self.name, self.env) == self.good
        data = bundles.load(self.name, environ=self.env)
        try:
            close = data.equity_daily_bar_reader.get_value(0, pd.Timestamp("2020-01-03"), "close")
            assert close == 10.4
        finally:
            data.close()
        return info.value


@pytest.fixture
def bundle(tmp_path: Path) -> Iterator[Bundle]:
    made = Bundle(tmp_path, {"RUSTYBT_ROOT": str(tmp_path / "root")})
    yield made
    bundles.unregister(made.name)


@pytest.fixture
def make_bundle(tmp_path: Path) -> Iterator[Callable[..., Bundle]]:
    made: list[Bundle] = []

    def run(**options: object) -> Bundle:
        made.append(Bundle(tmp_path / f"b{len(made)}", {"RUSTYBT_ROOT": str(tmp_path)}, **options))
        return made[-1]

    yield run
    for one in made:
        bundles.unregister(one.name)


# --- rows outside the calendar ------------------------------------------------


def test_a_file_dated_before_1990_is_refused_not_dropped(bundle: Bundle) -> None:
    path = write(bundle.folder / "daily", "OLD", ["1985-01-02,1,2,1,1,5", "1985-01-03,1,2,1,1,5"])
    error = bundle.refused()
    held = "XNYS holds 1990-01-02 .. "
    assert error.message.startswith(
        f"{path}: 2 invalid rows: row 1 (line 2, 1985-01-02): before the calendar's first "
        f"session ({held}"
    )
    assert "row 2 (line 3, 1985-01-03)" in error.message
    assert error.invalid_rows["row"].tolist() == [1, 2]


def test_a_row_after_the_calendar_is_refused(bundle: Bundle) -> None:
    last = get_calendar("XNYS").last_session
    late = f"{last + pd.Timedelta(days=400):%Y-%m-%d}"
    path = write(bundle.folder / "daily", "LATE", [GOOD[0], f"{late},1,2,1,1,5"])
    error = bundle.refused()
    assert error.message.startswith(f"{path}: 1 invalid row: row 2 (line 3, {late}): after")
    assert f"last session (XNYS holds 1990-01-02 .. {last:%Y-%m-%d})" in error.message


def test_rows_outside_a_registered_range_are_left_out_with_a_warning(
    bundle: Bundle, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(bundle.folder / "daily", "WIDE", ["2019-12-31,1,2,1,1,5", *GOOD])
    bundle.register(pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-31"))
    with caplog.at_level(logging.WARNING, logger="rustybt.data.bundles.csvdir"):
        data = bundle.ingest()
    try:
        wide = data.asset_finder.lookup_symbol("WIDE", None)
        assert wide.start_date == pd.Timestamp("2020-01-02")
    finally:
        data.close()
    assert (
        "csvdir bundle: left out 1 rows outside the bundle's sessions 2020-01-02 .. 2020-01-31 "
        f"(its start_session/end_session): {path} (1)"
    ) in caplog.text


def test_rows_the_calendar_cannot_hold_are_refused_even_with_a_registered_range(
    bundle: Bundle,
) -> None:
    path = write(bundle.folder / "daily", "OLD", ["1985-01-02,1,2,1,1,5", *GOOD])
    bundle.register(pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-31"))
    error = bundle.refused()
    assert error.message.startswith(f"{path}: 1 invalid row: row 1 (line 2, 1985-01-02): before")


def test_a_range_that_leaves_no_row_is_refused(bundle: Bundle) -> None:
    bundle.register(pd.Timestamp("2021-01-04"), pd.Timestamp("2021-01-29"))
    error = bundle.refused()
    assert error.message == (
        f"csvdir bundle: no row of {bundle.folder / 'daily'} falls in the bundle's sessions "
        "2021-01-04 .. 2021-01-29; nothing to ingest"
    )


# --- empty files ----------------------------------------------------------------


def test_a_header_only_file_is_refused(bundle: Bundle) -> None:
    path = write(bundle.folder / "daily", "EMPTY", [])
    error = bundle.refused()
    assert error.message == f"{path}: the file has a header but no rows"


def test_a_folder_of_header_only_files_stores_nothing_and_names_each(bundle: Bundle) -> None:
    (bundle.folder / "daily" / "GOOD.csv").write_text(OHLCV + "\n")
    other = write(bundle.folder / "daily", "OTHER", [])
    good = bundle.folder / "daily" / "GOOD.csv"
    error = bundle.refused()
    why = "the file has a header but no rows"
    assert error.message == f"invalid data in 2 files: {good} ({why}), {other} ({why})"
    assert error.invalid_rows["source"].tolist() == [str(good), str(other)]


# --- every bad file in one error -------------------------------------------------


def test_every_bad_file_and_row_is_reported_in_one_error(bundle: Bundle) -> None:
    daily = bundle.folder / "daily"
    crossed = write(daily, "AAA", [GOOD[0], "2020-01-03,10.2,9.0,10.0,10.4,200"])
    empty = write(daily, "BBB", [])
    old = write(daily, "CCC", ["1985-01-02,1,2,1,1,5", "1985-01-03,1,2,1,1,5", *GOOD])
    huge = write(daily, "DDD", [GOOD[0], "2020-01-03,10.2,1e308,10.0,1e308,200"])
    error = bundle.refused()
    assert error.message.startswith(
        f"invalid data in 4 files: {crossed} (1 invalid row), "
        f"{empty} (the file has a header but no rows), {old} (2 invalid rows), "
        f"{huge} (1 invalid row); first: {crossed}: 1 invalid row: row 2 (line 3, 2020-01-03): "
        "high 9.0 < low 10.0"
    )
    assert "\n" not in error.message
    rows = error.invalid_rows
    assert rows["source"].tolist() == [str(crossed), str(empty), str(old), str(old), str(huge)]
    assert rows["row"].tolist()[2:] == [1, 2, 2]
    assert rows["reason"].iloc[-1] == "high 1e+308, close 1e+308 above the price ceiling 1e+09"
    assert error.context["n_files"] == 4


# --- implausible prices ------------------------------------------------------------


def test_a_close_of_1e308_is_refused(bundle: Bundle) -> None:
    path = write(bundle.folder / "daily", "HUGE", [GOOD[0], "2020-01-03,10.2,1e308,10.0,1e308,1"])
    error = bundle.refused()
    assert error.message == (
        f"{path}: 1 invalid row: row 2 (line 3, 2020-01-03): "
        "high 1e+308, close 1e+308 above the price ceiling 1e+09"
    )


def test_the_ceiling_is_a_parameter(make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle(price_ceiling=100.0)
    path = write(bundle.folder / "daily", "PRICEY", [GOOD[0], "2020-01-03,99,101,98,99,1"])
    error = bundle.refused()
    assert error.message == (
        f"{path}: 1 invalid row: row 2 (line 3, 2020-01-03): high 101.0 above the price ceiling 100"
    )


def test_a_one_bar_spike_is_refused(bundle: Bundle) -> None:
    rows = [GOOD[0], "2020-01-03,100,103,99,102,1", "2020-01-06,10.2,10.6,10.0,10.4,1"]
    path = write(bundle.folder / "daily", "SPIKE", rows)
    error = bundle.refused()
    assert error.message == (
        f"{path}: 1 invalid row: row 2 (line 3, 2020-01-03): close 102.0 is 10x the previous "
        "close 10.2 and reverts to 10.4 on the next bar (a one-bar spike beyond the factor 5)"
    )


def test_a_one_bar_dip_is_refused_but_not_under_a_larger_factor(
    make_bundle: Callable[..., Bundle],
) -> None:
    rows = [GOOD[0], "2020-01-03,1.0,1.1,0.9,1.0,1", "2020-01-06,10.2,10.6,10.0,10.4,1"]
    strict = make_bundle()
    write(strict.folder / "daily", "DIP", rows)
    assert "is 1/10.2x the previous close" in strict.refused().message
    lenient = make_bundle(spike_factor=20.0)
    write(lenient.folder / "daily", "DIP", rows)
    lenient.ingest().close()
    off = make_bundle(spike_factor=None)
    write(off.folder / "daily", "DIP", rows)
    off.ingest().close()


def test_large_moves_that_do_not_revert_are_kept(bundle: Bundle) -> None:
    # A collapse to a tenth that stays, then a takeover premium of 8x that stays.
    rows = [
        "2020-01-02,50,51,49,50,1",
        "2020-01-03,5,5.5,4.5,5,1",
        "2020-01-06,5,5.5,4.5,5.1,1",
        "2020-01-07,40,41,39,40,1",
        "2020-01-08,40,41,39,40.5,1",
    ]
    write(bundle.folder / "daily", "MOVER", rows)
    data = bundle.ingest()
    try:
        reader = data.equity_daily_bar_reader
        mover = data.asset_finder.lookup_symbol("MOVER", None)
        assert reader.get_value(mover.sid, pd.Timestamp("2020-01-07"), "close") == 40.0
    finally:
        data.close()


def test_an_infinite_close_is_reported_once_as_not_finite(bundle: Bundle) -> None:
    rows = [GOOD[0], "2020-01-03,10.2,inf,10.0,inf,1", "2020-01-06,10.2,10.6,10.0,10.4,1"]
    path = write(bundle.folder / "daily", "INF", rows)
    error = bundle.refused()
    assert error.message == (
        f"{path}: 1 invalid row: row 2 (line 3, 2020-01-03): high is inf, close is inf"
    )
    assert error.invalid_rows["reason"].tolist() == ["high is inf", "close is inf"]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("price_ceiling", 0.0),
        ("price_ceiling", float("inf")),
        ("spike_factor", 1.0),
        ("spike_factor", float("nan")),
        ("minute_daily_tolerance", -0.1),
    ],
)
def test_limits_out_of_range_are_refused_when_registering(option: str, value: float) -> None:
    with pytest.raises(ConfigValidationError, match=f"^{option} must be"):
        csvdir_equities(["daily"], "/nowhere", **{option: value})  # type: ignore[arg-type]


# --- file format ------------------------------------------------------------------


def test_a_semicolon_separated_file_names_the_separator(bundle: Bundle) -> None:
    header = OHLCV.replace(",", ";")
    path = write(bundle.folder / "daily", "SEMI", [r.replace(",", ";") for r in GOOD], header)
    error = bundle.refused()
    assert error.message == (
        f"{path}: the header {header!r} is a single column: its fields are separated by ';'; "
        "csvdir files separate fields with commas (',')"
    )


def test_daily_dates_with_a_utc_offset_are_reported_as_written(bundle: Bundle) -> None:
    rows = ["2020-01-02T00:00:00+01:00,1,2,1,1,5", "2020-01-03T00:00:00+01:00,1,0.5,1,1,5"]
    path = write(bundle.folder / "daily", "ZONED", rows)
    error = bundle.refused()
    assert error.message == f"{path}: 1 invalid row: row 2 (line 3, 2020-01-03): high 0.5 < low 1.0"


def test_daily_dates_with_a_utc_offset_are_stored_as_written(bundle: Bundle) -> None:
    rows = ["2020-01-02T00:00:00+01:00,1,2,1,1.5,5", "2020-01-03T00:00:00-05:00,1,2,1,1.25,5"]
    write(bundle.folder / "daily", "ZONED", rows)
    data = bundle.ingest()
    try:
        zoned = data.asset_finder.lookup_symbol("ZONED", None)
        reader = data.equity_daily_bar_reader
        assert reader.get_value(zoned.sid, pd.Timestamp("2020-01-02"), "close") == 1.5
        assert reader.get_value(zoned.sid, pd.Timestamp("2020-01-03"), "close") == 1.25
    finally:
        data.close()


# --- minute bars against daily bars -------------------------------------------------


def minute_rows(session: str, close: float) -> list[str]:
    """A session's first and last XNYS minute (UTC labels) around ``close``."""
    calendar = get_calendar("XNYS")
    first = calendar.session_first_minute(session)
    last = calendar.session_close(session)
    return [
        f"{first:%Y-%m-%d %H:%M:%S},{close},{close * 1.01},{close * 0.99},{close},10",
        f"{last:%Y-%m-%d %H:%M:%S},{close},{close * 1.01},{close * 0.99},{close},10",
    ]


def test_minute_bars_three_times_the_daily_bars_are_refused(bundle: Bundle) -> None:
    minute = bundle.folder / "minute"
    path = write(minute, "GOOD", minute_rows("2020-01-02", 30.6) + minute_rows("2020-01-03", 10.4))
    error = bundle.refused()
    daily = bundle.folder / "daily" / "GOOD.csv"
    assert error.message.startswith(
        f"{path}: GOOD's minute bars disagree with its daily bars ({daily}) by more than 5% "
        "in 1 session: 2020-01-02: last minute close 30.6 vs daily close 10.2, minute high "
    )
    assert error.invalid_rows["dt"].tolist() == [pd.Timestamp("2020-01-02")]


def test_agreeing_minute_bars_and_minute_only_symbols_ingest(bundle: Bundle) -> None:
    minute = bundle.folder / "minute"
    write(minute, "GOOD", minute_rows("2020-01-02", 10.2) + minute_rows("2020-01-06", 30.0))
    write(minute, "ONLY", minute_rows("2020-01-02", 500.0))
    data = bundle.ingest()
    try:
        only = data.asset_finder.lookup_symbol("ONLY", None)
        minutes = data.equity_minute_bar_reader
        assert minutes is not None
        dt = pd.Timestamp("2020-01-02 21:00", tz="UTC")
        assert minutes.get_value(only.sid, dt, "close") == 500.0
    finally:
        data.close()


def test_the_minute_daily_tolerance_is_a_parameter(make_bundle: Callable[..., Bundle]) -> None:
    rows = minute_rows("2020-01-02", 10.2 * 1.03) + minute_rows("2020-01-03", 10.4)
    strict = make_bundle(minute_daily_tolerance=0.01)
    write(strict.folder / "minute", "GOOD", rows)
    assert "by more than 1% in 1 session: 2020-01-02" in strict.refused().message
    off = make_bundle(minute_daily_tolerance=None)
    write(off.folder / "minute", "GOOD", minute_rows("2020-01-02", 31.5))
    off.ingest().close()


# --- one pass over the folder --------------------------------------------------------


def test_a_thousand_bad_rows_are_counted_not_listed(bundle: Bundle) -> None:
    days = pd.date_range("1980-01-01", periods=1000, freq="D")
    lines = [f"{d:%Y-%m-%d},1,2,1,1,5" for d in days]
    path = write(bundle.folder / "daily", "OLD", lines)
    error = bundle.refused()
    assert error.message.endswith("; and 990 more invalid rows")
    assert error.message.startswith(f"{path}: 1000 invalid rows: row 1 (line 2, 1980-01-01)")
    assert len(error.invalid_rows) == 1000
    assert np.array_equal(error.invalid_rows["row"].to_numpy(), np.arange(1, 1001))


def test_minute_rows_outside_a_registered_range_are_left_out_with_a_warning(
    bundle: Bundle, caplog: pytest.LogCaptureFixture
) -> None:
    rows = minute_rows("2019-12-31", 10.0) + minute_rows("2020-01-02", 10.2)
    path = write(bundle.folder / "minute", "GOOD", rows)
    bundle.register(pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-31"))
    with caplog.at_level(logging.WARNING, logger="rustybt.data.bundles.csvdir"):
        data = bundle.ingest()
    try:
        minutes = data.equity_minute_bar_reader
        assert minutes is not None
        assert minutes.get_value(0, pd.Timestamp("2020-01-02 21:00", tz="UTC"), "close") == 10.2
    finally:
        data.close()
    assert "left out 2 rows outside the bundle's sessions 2020-01-02 .. 2020-01-31 " in caplog.text
    assert f"{path} (2)" in caplog.text


# --- a bundle with its own ingest function ---------------------------------------------


def own_ingest(change: Callable[[pd.DataFrame], None], **write_options: object) -> Any:
    """An ingest function of a user's own (zipline's signature), as the audit's probe wrote it.

    Its one equity, AAA, closes at 100.0 every session of January 2020 but for
    what ``change`` does to the frame; the bars go through the real daily writer.
    """

    def ingest(environ: Any, asset_db_writer: Any, minute_bar_writer: Any,
               daily_bar_writer: Any, adjustment_writer: Any, calendar: Any,
               *rest: Any) -> None:  # fmt: skip
        days = calendar.sessions_in_range(pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-31"))
        bars = pd.DataFrame(
            {"open": 100.0, "high": 101.0, "low": 99.0, "close": 100.0, "volume": 1000.0},
            index=days,
        )
        change(bars)
        equities = pd.DataFrame(
            {"symbol": ["AAA"], "start_date": [days[0]], "end_date": [days[-1]], "exchange": "NYSE"}
        )
        asset_db_writer.write(equities=equities)
        daily_bar_writer.write([(0, bars)], **write_options)
        adjustment_writer.write()

    return ingest


def _unchanged(bars: pd.DataFrame) -> None:
    """Leave the bars as they are."""


def _set_row_5(*values: float) -> Callable[[pd.DataFrame], None]:
    def change(bars: pd.DataFrame) -> None:
        bars.iloc[5, : len(values)] = values

    return change


@pytest.fixture
def own_bundle(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A bundle with its own ingest function and one good ingestion."""
    name, env = f"own-ingest-{next(_names)}", {"RUSTYBT_ROOT": str(tmp_path)}
    bundles.register(name, own_ingest(_unchanged), calendar_name="XNYS")
    bundles.ingest(name, environ=env, timestamp=pd.Timestamp("2025-01-01"))
    yield name, env
    bundles.unregister(name)


def _refused(name: str, env: dict[str, str], ingest: Any) -> DataValidationError:
    bundles.unregister(name)
    bundles.register(name, ingest, calendar_name="XNYS")
    with pytest.raises(DataValidationError) as info:
        bundles.ingest(name, environ=env, timestamp=pd.Timestamp("2025-02-01"))
    assert bundles.ingestions_for_bundle(name, env) == [pd.Timestamp("2025-01-01")]
    with bundles.load(name, environ=env) as data:
        reader = data.equity_daily_bar_reader
        assert reader.get_value(0, pd.Timestamp("2020-01-09"), "close") == 100.0
    return info.value


@pytest.mark.parametrize(
    ("change", "reasons"),
    [
        (
            _set_row_5(1e308, 1e308, 1e308, 1e308),
            ["open 1e+308, high 1e+308, low 1e+308, close 1e+308 above the price ceiling 1e+09"],
        ),
        (
            _set_row_5(10000.0, 10000.0, 10000.0, 10000.0),
            [
                "close 10000.0 is 100x the previous close 100.0 and reverts to 100.0 on the next "
                "bar (a one-bar spike beyond the factor 5)"
            ],
        ),
        # Once each, as not finite: not also as a spike or above the ceiling.
        (_set_row_5(100.0, np.inf, 99.0, np.inf), ["high is inf", "close is inf"]),
    ],
)
def test_an_own_ingest_function_writing_implausible_prices_is_refused(
    own_bundle: tuple[str, dict[str, str]],
    change: Callable[[pd.DataFrame], None],
    reasons: list[str],
) -> None:
    name, env = own_bundle
    error = _refused(name, env, own_ingest(change))
    assert error.message == f"sid 0: 1 invalid row: row 6 (2020-01-09): {', '.join(reasons)}"
    assert error.invalid_rows["reason"].tolist() == reasons
    assert set(error.invalid_rows["row"]) == {6}


def test_an_own_ingest_function_sets_its_limits_when_it_writes(
    own_bundle: tuple[str, dict[str, str]],
) -> None:
    name, env = own_bundle
    spike = _set_row_5(1000.0, 1000.0, 1000.0, 1000.0)
    error = _refused(name, env, own_ingest(spike, price_limits=PriceLimits(spike_factor=5.0)))
    assert "one-bar spike beyond the factor 5" in error.message
    bundles.unregister(name)
    bundles.register(
        name, own_ingest(spike, price_limits=PriceLimits(spike_factor=20.0)), calendar_name="XNYS"
    )
    bundles.ingest(name, environ=env, timestamp=pd.Timestamp("2025-02-01"))
    with bundles.load(name, environ=env) as data:
        reader = data.equity_daily_bar_reader
        assert reader.get_value(0, pd.Timestamp("2020-01-09"), "close") == 1000.0
