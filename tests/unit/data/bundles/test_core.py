"""The bundle registry and its verbs, on real Parquet and SQLite files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rustybt.calendars import get_calendar
from rustybt.data import bundles
from rustybt.exceptions import DataNotFoundError, DataValidationError, ParameterValidationError
from tests.unit.data._bundle_kit import daily_frame

START = pd.Timestamp("2024-01-02")
END = pd.Timestamp("2024-01-31")


def _bars(sessions: pd.DatetimeIndex, base: float) -> pd.DataFrame:
    """Closes rising by 1 a session from ``base``, 1000 shares a session (the kit's bars)."""
    return daily_frame(sessions, base + np.arange(len(sessions)), np.full(len(sessions), 1000.0))


def _write_assets(writer: Any, symbols: list[str], sessions: pd.DatetimeIndex) -> None:
    """Equities with sids 0, 1, ... alive over ``sessions`` (an ingestion needs assets)."""
    writer.write(
        equities=pd.DataFrame(
            {
                "symbol": symbols,
                "start_date": sessions[0],
                "end_date": sessions[-1],
                "exchange": "NYSE",
            },
            index=range(len(symbols)),
        )
    )


def make_ingest(
    fail_with: Exception | None = None, bad_row: bool = False, background: bool = False
) -> Any:
    """An ingest function in zipline's signature writing two equities.

    ``background``: start the daily file's write in a thread once the bars are in.
    """

    def ingest(
        environ: Any,
        asset_db_writer: Any,
        minute_bar_writer: Any,
        daily_bar_writer: Any,
        adjustment_writer: Any,
        calendar: Any,
        start_session: pd.Timestamp,
        end_session: pd.Timestamp,
        cache: Any,
        show_progress: bool,
        output_dir: str,
    ) -> None:
        sessions = calendar.sessions_in_range(start_session, end_session)
        asset_db_writer.write(
            equities=pd.DataFrame(
                {
                    "symbol": ["AAA", "BBB"],
                    "asset_name": ["A Inc", "B Corp"],
                    "start_date": [sessions[0]] * 2,
                    "end_date": [sessions[-1]] * 2,
                    "exchange": "NYSE",
                },
                index=[0, 1],
            )
        )
        frames = {0: _bars(sessions, 10.0), 1: _bars(sessions, 100.0)}
        if bad_row:
            frames[1].iloc[3, frames[1].columns.get_loc("high")] = 1.0  # high < low
        daily_bar_writer.write(frames.items(), show_progress=show_progress)
        if background:
            daily_bar_writer.start_finalize()
        if fail_with is not None:
            raise fail_with
        adjustment_writer.write(
            splits=pd.DataFrame({"sid": [1], "ratio": [0.5], "effective_date": [sessions[10]]}),
            dividends=pd.DataFrame(
                {
                    "sid": [0],
                    "amount": [0.2],
                    "ex_date": [sessions[5]],
                    "record_date": [sessions[5]],
                    "declared_date": [sessions[5]],
                    "pay_date": [sessions[7]],
                }
            ),
        )

    return ingest


@pytest.fixture
def test_bundle() -> Iterator[str]:
    name = "core-test"
    bundles.register(name, make_ingest(), start_session=START, end_session=END)
    yield name
    bundles.unregister(name)


def test_builtin_bundles_registered() -> None:
    assert {"demo", "csvdir"} <= set(bundles.bundles)
    assert bundles.bundles["demo"].calendar_name == "XNYS"


def test_register_as_decorator_and_unregister() -> None:
    @bundles.register("decorated", calendar_name="24/7")
    def f(*args: Any) -> None:
        pass

    assert bundles.bundles["decorated"].ingest is f
    assert bundles.bundles["decorated"].calendar_name == "24/7"
    with pytest.warns(UserWarning, match="overwriting bundle 'decorated'"):
        bundles.register("decorated", f)
    bundles.unregister("decorated")
    assert "decorated" not in bundles.bundles
    with pytest.raises(DataNotFoundError, match="no bundle registered as 'decorated'"):
        bundles.unregister("decorated")


def test_ingest_then_load(test_bundle: str, rustybt_root: Path) -> None:
    path = bundles.ingest(test_bundle, os.environ, pd.Timestamp("2025-01-01 10:00"))
    assert path.parent == rustybt_root / "data" / test_bundle
    assert sorted(p.name for p in path.iterdir()) == [
        "adjustments.sqlite",
        "assets.sqlite",
        "bundle.json",
        "daily_equities.parquet",
        "minute_equities.parquet",
        "verified.json",
    ]
    with bundles.load(test_bundle) as data:
        assert data.timestamp == pd.Timestamp("2025-01-01 10:00")
        assert data.equity_minute_bar_reader is None
        reader = data.equity_daily_bar_reader
        sessions = get_calendar("XNYS").sessions_in_range(START, END)
        assert list(reader.sessions) == list(sessions)
        bbb = data.asset_finder.lookup_symbol("BBB")
        assert reader.get_value(bbb.sid, sessions[2], "close") == 102.0
        assert reader.panel("close")[4, reader.sid_to_col[0]] == 14.0
        assert data.adjustment_reader.get_adjustments_for_sid("splits", 1) == [(sessions[10], 0.5)]
        # dividend ratio from the close of the session before the ex-date (14.0)
        [(when, ratio)] = data.adjustment_reader.get_adjustments_for_sid("dividends", 0)
        assert when == sessions[5]
        assert ratio == pytest.approx(1 - 0.2 / 14.0, rel=1e-12)


def test_an_open_ended_bundle_spans_the_sessions_written(rustybt_root: Path) -> None:
    name = "core-open-ended"
    sessions = get_calendar("XNYS").sessions_in_range(START, END)

    def ingest(*args: Any) -> None:
        daily_bar_writer = args[3]
        _write_assets(args[1], ["AAA", "BBB"], sessions)
        daily_bar_writer.write([(0, _bars(sessions[3:8], 10.0)), (1, _bars(sessions[5:], 20.0))])
        daily_bar_writer.start_finalize()  # the core waits for it

    bundles.register(name, ingest)  # no start or end session: the data's own range
    try:
        bundles.ingest(name, os.environ, pd.Timestamp("2025-01-01"))
        with bundles.load(name) as data:
            assert data.metadata["start_session"] == str(sessions[3].date())
            assert data.metadata["end_session"] == str(sessions[-1].date())
            reader = data.equity_daily_bar_reader
            assert list(reader.sessions) == list(sessions[3:])
            assert reader.get_value(1, sessions[6], "close") == 21.0
    finally:
        bundles.unregister(name)


def _minute_bars(minutes: pd.DatetimeIndex, base: float) -> pd.DataFrame:
    close = base + 0.01 * np.arange(len(minutes), dtype=float)
    return pd.DataFrame(
        {
            "open": close,
            "high": close + 0.05,
            "low": close - 0.05,
            "close": close,
            "volume": np.full(len(minutes), 10.0),
        },
        index=minutes,
    )


@pytest.mark.parametrize("calendar_name", ["XNYS", "24/7"])
def test_an_open_ended_minute_only_bundle_spans_the_sessions_written(
    rustybt_root: Path, calendar_name: str
) -> None:
    """Without daily bars the recorded span is the minute bars' sessions, not the calendar's.

    On 24/7 a session's last minute is labelled midnight of the next day: it
    still belongs to its session.
    """
    name = "core-open-ended-minutes"
    calendar = get_calendar(calendar_name)
    sessions = calendar.sessions_in_range(START, END)
    first, last = sessions[3], sessions[8]

    def ingest(*args: Any) -> None:
        minute_bar_writer = args[2]
        _write_assets(args[1], ["AAA", "BBB"], sessions)
        minute_bar_writer.write(
            [
                (0, _minute_bars(calendar.sessions_minutes(first, sessions[5]), 10.0)),
                (1, _minute_bars(calendar.sessions_minutes(sessions[4], last), 20.0)),
            ]
        )
        # daily_bar_writer.write is never called: minute bars only.

    bundles.register(name, ingest, calendar_name=calendar_name)  # no start or end session
    try:
        bundles.ingest(name, os.environ, pd.Timestamp("2025-01-01"))
        with bundles.load(name) as data:
            assert data.metadata["start_session"] == str(first.date())
            assert data.metadata["end_session"] == str(last.date())
            assert data.metadata["has_minute_bars"] is True
            assert data.calendar.first_session.year == first.year
            minute_reader = data.equity_minute_bar_reader
            assert minute_reader is not None
            assert list(minute_reader.sessions) == list(sessions[3:9])
            assert minute_reader.get_value(1, calendar.session_close(last), "close") == (
                pytest.approx(20.0 + 0.01 * (len(calendar.sessions_minutes(sessions[4], last)) - 1))
            )
            assert list(data.equity_daily_bar_reader.sessions) == list(sessions[3:9])
    finally:
        bundles.unregister(name)


def test_load_picks_newest_at_or_before_timestamp(test_bundle: str) -> None:
    stamps = [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01"), pd.Timestamp("2025-03-01")]
    for ts in stamps:
        bundles.ingest(test_bundle, os.environ, ts)
    assert bundles.ingestions_for_bundle(test_bundle) == stamps[::-1]
    with bundles.load(test_bundle) as data:
        assert data.timestamp == stamps[2]
    with bundles.load(test_bundle, timestamp=pd.Timestamp("2025-02-15")) as data:
        assert data.timestamp == stamps[1]
    with pytest.raises(DataNotFoundError, match="on or before 2024"):
        bundles.load(test_bundle, timestamp=pd.Timestamp("2024-06-01"))


def test_load_without_ingestion_names_the_command() -> None:
    with pytest.raises(DataNotFoundError, match="rustybt ingest -b demo"):
        bundles.load("demo")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"fail_with": RuntimeError("source went away")}, RuntimeError),
        ({"fail_with": RuntimeError("source went away"), "background": True}, RuntimeError),
        ({"bad_row": True}, DataValidationError),
    ],
)
def test_failed_ingest_leaves_nothing(
    kwargs: dict[str, Any], error: type[Exception], rustybt_root: Path
) -> None:
    name = "core-fail"
    bundles.register(name, make_ingest(), start_session=START, end_session=END)
    try:
        good = bundles.ingest(name, os.environ, pd.Timestamp("2025-01-01"))
        with pytest.warns(UserWarning, match="overwriting"):
            bundles.register(name, make_ingest(**kwargs), start_session=START, end_session=END)
        with pytest.raises(error):
            bundles.ingest(name, os.environ, pd.Timestamp("2025-02-01"))
        leftovers = [p.name for p in (rustybt_root / "data" / name).iterdir()]
        assert leftovers == [good.name]
        with bundles.load(name) as data:
            assert data.path == good
            assert data.asset_finder.sids == [0, 1]
    finally:
        with pytest.warns(UserWarning):
            bundles.register(name, make_ingest())
        bundles.unregister(name)


def test_validation_error_names_row(rustybt_root: Path) -> None:
    name = "core-bad"
    bundles.register(name, make_ingest(bad_row=True), start_session=START, end_session=END)
    try:
        with pytest.raises(DataValidationError, match="sid 1") as info:
            bundles.ingest(name)
        assert len(info.value.invalid_rows) >= 1
        assert not any((rustybt_root / "data" / name).iterdir())
    finally:
        bundles.unregister(name)


def test_clean(test_bundle: str) -> None:
    stamps = [pd.Timestamp(f"2025-0{m}-01") for m in (1, 2, 3, 4)]
    for ts in stamps:
        bundles.ingest(test_bundle, os.environ, ts)
    removed = bundles.clean(test_bundle, before=pd.Timestamp("2025-02-01"))
    assert [p.name for p in removed] == ["2025-01-01T00;00;00"]
    removed = bundles.clean(test_bundle, after=pd.Timestamp("2025-03-01"))
    assert [p.name for p in removed] == ["2025-04-01T00;00;00"]
    assert bundles.ingestions_for_bundle(test_bundle) == [stamps[2], stamps[1]]
    assert len(bundles.clean(test_bundle, keep_last=1)) == 1
    assert bundles.ingestions_for_bundle(test_bundle) == [stamps[2]]
    with pytest.raises(ParameterValidationError, match="not both"):
        bundles.clean(test_bundle, before=stamps[0], keep_last=1)
    with pytest.raises(ParameterValidationError, match="needs"):
        bundles.clean(test_bundle)


def test_create_writers_false_gets_output_dir(rustybt_root: Path) -> None:
    seen: dict[str, Any] = {}

    def ingest(environ: Any, asset_db_writer: Any, *args: Any) -> None:
        seen["writer"] = asset_db_writer
        seen["output_dir"] = args[-1]
        Path(args[-1], "raw.txt").write_text("mine")

    bundles.register("raw", ingest, create_writers=False)
    try:
        path = bundles.ingest("raw")
        assert seen["writer"] is None
        assert (path / "raw.txt").read_text() == "mine"
    finally:
        bundles.unregister("raw")


def test_cache_survives_a_failed_ingest(rustybt_root: Path) -> None:
    calls: list[Any] = []

    def ingest(environ: Any, *args: Any) -> None:
        cache = args[7]
        calls.append(cache.get("download"))
        cache["download"] = {"rows": 3}
        raise RuntimeError("network dropped")

    bundles.register("cached", ingest)
    try:
        for _ in range(2):
            with pytest.raises(RuntimeError):
                bundles.ingest("cached")
        assert calls == [None, {"rows": 3}]
    finally:
        bundles.unregister("cached")
