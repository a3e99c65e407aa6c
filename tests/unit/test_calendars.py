"""Calendars: zipline's minute labels, aliases, and the on-disk cache of built calendars."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rustybt import calendars
from rustybt.calendars import get_calendar
from rustybt.exceptions import ConfigValidationError
from rustybt.utils.paths import cache_root


def test_minute_labels_are_zipline_s() -> None:
    minutes = get_calendar("XNYS").session_minutes("2024-01-02")
    assert minutes[0] == pd.Timestamp("2024-01-02 14:31", tz="UTC")
    assert minutes[-1] == pd.Timestamp("2024-01-02 21:00", tz="UTC")
    assert len(minutes) == 390
    assert len(get_calendar("NYSE").session_minutes("2024-11-29")) == 210  # half day


def test_twenty_four_seven() -> None:
    cal = get_calendar("24/7", start="2024-01-01")
    assert len(cal.session_minutes("2024-01-06")) == 1440  # a Saturday


def test_unknown_calendar() -> None:
    with pytest.raises(ConfigValidationError, match="unknown trading calendar 'NOPE'"):
        get_calendar("NOPE")


def test_built_calendars_are_cached_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUSTYBT_CACHE_DIR", str(tmp_path / "cache"))
    calendars._cached_calendar.cache_clear()
    start = pd.Timestamp("2016-01-01")
    first = get_calendar("XNYS", start=start)
    [path] = (tmp_path / "cache" / "calendars").glob("XNYS_2016-01-01_*.pickle")
    calendars._cached_calendar.cache_clear()
    again = get_calendar("XNYS", start=start)
    assert again is not first  # a new object, read back from the file
    assert again.sessions.equals(first.sessions)
    assert again.closes.equals(first.closes)
    # A damaged file is rebuilt, not trusted.
    path.write_bytes(b"not a pickle")
    calendars._cached_calendar.cache_clear()
    rebuilt = get_calendar("XNYS", start=start)
    assert rebuilt.sessions.equals(first.sessions)
    assert path.read_bytes() != b"not a pickle"
    calendars._cached_calendar.cache_clear()


def test_the_cache_folder_is_shared_by_roots_and_follows_the_environment(
    tmp_path: Path,
) -> None:
    assert cache_root({"RUSTYBT_CACHE_DIR": str(tmp_path / "c")}) == tmp_path / "c"
    assert cache_root({"XDG_CACHE_HOME": str(tmp_path / "x")}) == tmp_path / "x" / "rustybt"
    assert cache_root({}) == Path.home() / ".cache" / "rustybt"
    # Not under RUSTYBT_ROOT: a fresh root reuses what another root built.
    assert cache_root({"RUSTYBT_ROOT": str(tmp_path / "r")}) == Path.home() / ".cache" / "rustybt"
