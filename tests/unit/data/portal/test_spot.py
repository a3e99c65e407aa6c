"""The spot rule: every form of a spot value is the row's, and the row is the rule.

The expected values are worked out here cell by cell from the readers' raw
panels, the asset finder's life spans and the adjustments table (walk back
to the last close, multiply the ratios effective between the bar's session
and the perspective), independently of the portal's multiplier panels.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rustybt.data.bar_data import BarData
from rustybt.data.portal import DataPortal
from rustybt.exceptions import UnknownFieldError
from tests.unit.data._bundle_kit import Bundle, write_bundle

FIELDS = ("price", "open", "high", "low", "close", "volume")
SIDS = (1, 2, 3, 4, 99)  # 99: a sid nobody knows


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    written = write_bundle(tmp_path_factory.mktemp("bundle"))
    yield written
    written.close()


class Oracle:
    """The spot rule, one cell at a time, from the bundle's raw parts."""

    def __init__(self, bundle: Bundle, frequency: str) -> None:
        self.sessions = pd.DatetimeIndex(bundle.sessions)
        if frequency == "daily":
            self.reader = bundle.daily_reader
            self.row_session = np.arange(len(self.sessions))
        else:
            reader = bundle.minute_reader
            assert reader is not None
            self.reader = reader  # type: ignore[assignment]
            offset = self.sessions.get_loc(pd.Timestamp(reader.sessions[0]))
            self.row_session = np.asarray(reader.minute_session) + offset
        self.finder = bundle.asset_finder
        frame = bundle.adjustment_reader.load_adjustments_frame()
        effective = pd.DatetimeIndex(frame["effective_date"]).as_unit("ns").asi8
        sessions_ns = self.sessions.as_unit("ns").asi8
        self.adjustments = [
            (int(sid), int(np.searchsorted(sessions_ns, e)), float(ratio), kind)
            for sid, e, ratio, kind in zip(
                frame["sid"], effective, frame["ratio"], frame["kind"], strict=True
            )
        ]

    def factor(self, sid: int, field: str, source: int, perspective: int) -> float:
        out = 1.0
        for a_sid, effective, ratio, kind in self.adjustments:
            if a_sid == sid and source < effective <= perspective:
                if field == "volume":
                    out *= 1.0 / ratio if kind == "split" else 1.0
                else:
                    out *= ratio
        return out

    def value(self, sid: int, field: str, row: int, perspective: int) -> float:
        empty = 0.0 if field == "volume" else math.nan
        if row < 0:
            return empty
        session = int(self.row_session[row])
        asset = self.finder.retrieve_asset(sid, default_none=True)
        if asset is not None:
            start = self.sessions.searchsorted(asset.start_date, side="left")
            end = self.sessions.searchsorted(asset.end_date, side="right") - 1
            if not start <= session <= end:
                return empty
        col = self.reader.sid_to_col.get(sid)
        if col is None:
            return empty
        if field == "price":
            close = self.reader.panel("close")[:, col]
            source = row
            while source >= 0 and math.isnan(close[source]):
                source -= 1
            if source < 0:
                return math.nan
            value = float(close[source])
            session = int(self.row_session[source])
        else:
            value = float(self.reader.panel(field)[row, col])
        return value * self.factor(sid, field, session, perspective)


def same(got: float, expected: float) -> bool:
    if math.isnan(expected):
        return math.isnan(got)
    return got == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("frequency", ["daily", "minute"])
def test_spot_row_is_the_rule_cell_by_cell(bundle: Bundle, frequency: str) -> None:
    portal = bundle.portal()
    oracle = Oracle(bundle, frequency)
    n_rows = len(oracle.row_session)
    checked = valued = 0
    for row in range(-1, n_rows, 1 if frequency == "daily" else 97):
        own = int(oracle.row_session[row]) if row >= 0 else 0
        for perspective in sorted({own, 14}):
            for field in FIELDS:
                values = portal.spot_row(field, row, frequency, perspective)
                assert len(values) == portal.no_data_column + 1
                assert same(values[-1], 0.0 if field == "volume" else math.nan)
                for sid in SIDS:
                    expected = oracle.value(sid, field, row, perspective)
                    got = values[portal.column(sid)]
                    assert type(got) is float
                    assert same(got, expected), (frequency, row, perspective, field, sid)
                    checked += 1
                    valued += not math.isnan(expected) and expected != 0.0
    assert checked > 500 and valued > checked // 3  # real bars, not only gaps


@pytest.mark.parametrize("frequency", ["daily", "minute"])
def test_every_form_reads_the_row(bundle: Bundle, frequency: str) -> None:
    """current_array, get_spot_value, BarData.spot/current and a one-bar price
    history are the row at the asset's column."""
    portal = bundle.portal()
    assets = bundle.assets()
    session_range = range(15) if frequency == "daily" else range(7, 11)
    for session in session_range:
        dts = [bundle.sessions[session]]
        if frequency == "minute":
            dts = [bundle.minutes(session)[m] for m in (0, 10, 35, 389)]
        for dt in dts:
            data = BarData(portal, lambda dt=dt: dt, frequency, bundle.calendar)
            row, perspective = portal.resolve(dt, frequency)
            cols = portal.asset_columns(assets)
            for field in FIELDS:
                values = portal.spot_row(field, row, frequency, perspective)
                expected = [values[portal.column(a)] for a in assets]
                array = portal.current_array(cols, field, row, frequency, perspective)
                np.testing.assert_array_equal(array, expected)
                np.testing.assert_array_equal(
                    portal.get_spot_value(assets, field, dt, frequency), expected
                )
                np.testing.assert_array_equal(data.current(assets, field).to_numpy(), expected)
                for asset, value in zip(assets, expected, strict=True):
                    assert same(data.spot(asset, field), value)
                    assert same(data.current(asset, field), value)
                    assert same(portal.get_spot_value(asset, field, dt, frequency), value)
            one = "1d" if frequency == "daily" else "1m"
            window = portal.history_array(cols, "price", 1, row, one, frequency, perspective)
            np.testing.assert_array_equal(
                window[0], portal.current_array(cols, "price", row, frequency, perspective)
            )


def test_a_row_is_read_once_per_bar_and_field(bundle: Bundle) -> None:
    portal = bundle.portal()
    s = bundle.sessions
    row, perspective = portal.resolve(s[9], "daily")
    first = portal.spot_row("price", row, "daily", perspective)
    assert portal.spot_row("price", row, "daily", perspective) is first
    # Another perspective is another row: the split of session 8 seen from 14.
    seen_later = portal.spot_row("price", 5, "daily", 14)
    assert seen_later is not first
    assert seen_later[portal.column(1)] == pytest.approx(105.0 * 0.5)
    # A caller's array is its own: changing it changes no later answer.
    cols = portal.asset_columns(bundle.assets())
    mine = portal.current_array(cols, "close", row, "daily", perspective)
    mine[:] = -1.0
    assert (portal.current_array(cols, "close", row, "daily", perspective) != -1.0).any()


@pytest.mark.parametrize("frequency", ["daily", "minute"])
def test_rows_read_bar_after_bar_are_the_rows_read_alone(bundle: Bundle, frequency: str) -> None:
    """Bars read one after another come from one read of the rows ahead (across
    sessions and the split of session 8 when each row is seen from its own session):
    the same values as each row read alone, in a portal that read nothing before."""
    oracle = Oracle(bundle, frequency)
    compared = 0
    for fixed in (None, 14):  # each row seen from its own session, then from session 14
        # Forward (bar after bar) in one portal, backward (each row alone) in another.
        walking, alone = bundle.portal(), bundle.portal()
        rows = range(len(oracle.row_session))
        for field in ("price", "volume"):
            perspectives = [int(oracle.row_session[r]) if fixed is None else fixed for r in rows]
            walked = [walking.spot_row(field, r, frequency, perspectives[r]) for r in rows]
            for r in reversed(rows):
                # NaN cells compare equal here, as they should.
                np.testing.assert_array_equal(
                    alone.spot_row(field, r, frequency, perspectives[r]), walked[r]
                )
                compared += 1
    assert compared > 40


def test_unknown_field_of_a_row_raises(bundle: Bundle) -> None:
    portal = bundle.portal()
    with pytest.raises(UnknownFieldError, match="vwap"):
        portal.spot_row("vwap", 3, "daily", 3)


def test_spot_of_a_small_custom_bundle(tmp_path: Path) -> None:
    """The rule holds on a second bundle written from scratch (not only the kit's)."""
    written = write_bundle(tmp_path)
    try:
        portal: DataPortal = written.portal(adjustment_reader=None)
        aaa = written.asset(1)
        s = written.sessions
        row, perspective = portal.resolve(s[9], "daily")
        # Without adjustments, AAA's close after the split is the raw 59.0.
        assert portal.spot_row("close", row, "daily", perspective)[portal.column(aaa)] == 59.0
    finally:
        written.close()
