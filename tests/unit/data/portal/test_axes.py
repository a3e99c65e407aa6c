"""The portal's axes: a dt resolved to a data row and a perspective session,
minute bars loaded on first need. The bundle is described in ``_bundle_kit``."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rustybt.data.portal.axes import Axes
from rustybt.data.storage import ParquetMinuteBarReader
from tests.unit.data._bundle_kit import Bundle, write_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    written = write_bundle(tmp_path_factory.mktemp("bundle"))
    yield written
    written.close()


def portal_axes(bundle: Bundle, **kwargs: object) -> Axes:
    options: dict[str, object] = {
        "asset_finder": bundle.asset_finder,
        "trading_calendar": bundle.calendar,
        "first_trading_day": bundle.sessions[0],
        "daily_reader": bundle.daily_reader,
        "minute_reader": bundle.minute_reader,
    }
    options.update(kwargs)
    return Axes(**options)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.sampled_from([1, 1, 1, 2, 29, 200, 391, -1]), min_size=1, max_size=80))
def test_resolve_of_each_following_minute_is_the_searched_answer(
    bundle: Bundle, steps: list[int]
) -> None:
    """A minute run resolves its bars in turn (two array reads, not two searches):
    the answers equal the searched ones across gaps (BBB's missing minutes are
    still rows), session ends, hours between sessions and a daily lookup between."""
    axes = portal_axes(bundle)
    minutes = [m for session in range(7, 11) for m in bundle.minutes(session)]
    at, asked = 0, []
    for step in steps:
        if step == -1:  # a time between sessions, then a daily lookup
            between = minutes[at].normalize() + pd.Timedelta(hours=3)
            asked += [(between, "minute"), (bundle.sessions[8], "daily")]
            continue
        at = min(at + step, len(minutes) - 1)
        asked.append((minutes[at], "minute"))
    for dt, frequency in asked:
        assert axes.resolve(dt, frequency) == axes.search(dt, frequency), dt


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.sampled_from([0, 1, 1, 1, 2, 5, -1]), min_size=1, max_size=40))
def test_resolve_of_each_following_session_close_is_the_searched_answer(
    bundle: Bundle, steps: list[int]
) -> None:
    """A daily run resolves its bars (the sessions' closes) in turn: the answers
    equal the searched ones, with midnights, labels and the last session between."""
    axes = portal_axes(bundle)
    closes = [pd.Timestamp(ns, tz="UTC") for ns in axes.closes_ns.tolist()]
    at, asked = 0, []
    for step in steps:
        if step == -1:  # the session's UTC midnight, then its label
            asked += [(closes[at].normalize(), "daily"), (bundle.sessions[at], "daily")]
            continue
        at = min(at + step, len(closes) - 1)
        asked.append((closes[at], "daily"))
    for dt, frequency in asked:
        assert axes.resolve(dt, frequency) == axes.search(dt, frequency), dt


def test_resolve_walks_every_minute_as_the_search_does(bundle: Bundle) -> None:
    axes = portal_axes(bundle)
    minutes = [m for session in range(7, 11) for m in bundle.minutes(session)]
    sessions = {axes.resolve(m, "minute")[1] for m in minutes}
    assert sessions == {7, 8, 9, 10}
    for m in minutes:
        assert axes.resolve(m, "minute") == axes.search(m, "minute"), m


def test_minute_bars_load_only_when_first_needed(bundle: Bundle) -> None:
    # Minute panels can be gigabytes; a daily simulation must not pay for them.
    minute_reader = ParquetMinuteBarReader(
        bundle.root / "minute_equities.parquet",
        bundle.calendar,
        bundle.sessions[0],
        bundle.sessions[-1],
    )
    axes = portal_axes(bundle, minute_reader=minute_reader)
    assert axes.resolve(bundle.sessions[9], "daily") == (9, 9)
    assert axes.bars("daily") is axes.daily
    assert not axes.minute_loaded
    row, session = axes.resolve(bundle.minutes(9)[0], "minute")
    assert axes.minute_loaded
    assert session == 9 and axes.minute_bars().labels[row] == bundle.minutes(9)[0]


def test_columns_of_known_and_unknown_sids(bundle: Bundle) -> None:
    axes = portal_axes(bundle)
    cols = axes.columns_of((4, 1, 99))
    assert cols.tolist() == [axes.sid_columns[4], axes.sid_columns[1], axes.no_data_column]
    assert not cols.flags.writeable
    assert axes.all_columns.tolist() == list(range(axes.no_data_column + 1))
    # CCC (sid 3) lives on sessions 4..12; unknown sids live throughout.
    alive = [axes.alive_mask(axes.columns_of((3, 99)), s).tolist() for s in (3, 4, 12, 13)]
    assert alive == [[False, True], [True, True], [True, True], [False, True]]
    np.testing.assert_array_equal(axes.asset_columns([1, 2]), axes.columns_of((1, 2)))
    assert pd.Timestamp(axes.sessions[0]) == bundle.sessions[0]
