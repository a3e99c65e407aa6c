"""History windows' pandas objects equal what pandas' constructors build."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from rustybt.data.portal import window_frame
from rustybt.data.portal.axes import Axes
from rustybt.data.portal.frames import FrameBuilder, WindowLabels
from tests.unit.data._bundle_kit import Bundle, write_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    written = write_bundle(tmp_path_factory.mktemp("bundle"))
    yield written
    written.close()


def portal_axes(bundle: Bundle) -> Axes:
    return Axes(
        bundle.asset_finder,
        bundle.calendar,
        bundle.sessions[0],
        bundle.daily_reader,
        bundle.minute_reader,
    )


def test_window_frames_are_the_constructors_frames(bundle: Bundle) -> None:
    """History frames built from their block equal ``pd.DataFrame(values, ...)``."""
    portal = bundle.portal()
    aaa, bbb = bundle.asset(1), bundle.asset(2)
    minutes = bundle.minutes(9)
    cols, columns = portal.asset_columns_with_index([aaa, bbb])
    row, perspective = portal.resolve(minutes[30], "minute")
    values = portal.history_array(cols, "close", 20, row, "1m", "minute", perspective)
    index = portal.history_index(20, row, "1m", "minute")
    built = window_frame(values, index, columns)
    assert window_frame.direct  # this pandas takes the direct build
    expected = pd.DataFrame(values, index=index, columns=columns, copy=False)
    pd.testing.assert_frame_equal(built, expected)
    assert built.index is index and built.columns is columns
    assert np.shares_memory(built.to_numpy(), values)
    # A write to the frame does to its array what a write to the constructor's does.
    ours, theirs = values.copy(), values.copy()
    built = window_frame(ours, index, columns)
    expected = pd.DataFrame(theirs, index=index, columns=columns, copy=False)
    built.iloc[0, 0] = expected.iloc[0, 0] = -1.0
    assert np.array_equal(ours, theirs, equal_nan=True)
    pd.testing.assert_frame_equal(built, expected)
    # Anything but a 2-D float64 array of the labels' shape goes to the constructor.
    ints = np.arange(4).reshape(2, 2)
    frame = window_frame(ints, index[:2], columns)
    assert frame.dtypes.tolist() == [np.int64, np.int64]
    with pytest.raises(ValueError):
        window_frame(values, index[:3], columns)
    # A builder whose check fails keeps to the constructor.
    broken = FrameBuilder(direct=False)
    assert not broken.direct
    constructed = pd.DataFrame(values, index=index, columns=columns)
    pd.testing.assert_frame_equal(broken(values, index, columns), constructed)


def test_window_labels_are_pandas_slices(bundle: Bundle) -> None:
    """History windows' labels, built from the nanoseconds, equal pandas' slices."""
    axes = portal_axes(bundle)
    cases = [
        axes.minute_bars().window_labels,
        axes.window_sessions,
        WindowLabels(pd.DatetimeIndex(list(bundle.sessions), name="when").as_unit("ns")),
        WindowLabels(pd.DatetimeIndex(bundle.sessions).as_unit("us")),
        WindowLabels(pd.date_range("2024-01-02", periods=30, freq="D", tz="UTC").as_unit("us")),
        WindowLabels(pd.date_range("2024-01-02", periods=30, freq="D", tz="UTC").as_unit("ns")),
    ]
    # Nanosecond labels are built, with or without a frequency to carry (the
    # calendar's sessions, a date range); other units are sliced.
    assert axes.window_sessions.index.freq is not None
    assert cases[0].direct and cases[1].direct and cases[2].direct and cases[5].direct
    assert not cases[3].direct and not cases[4].direct
    for labels in cases:
        n = len(labels.index)
        for start, stop in [(0, 1), (0, n), (n - 50, n), (3, 3), (5, 2), (n - 1, n + 5), (-4, n)]:
            got, expected = labels(start, stop), labels.index[start:stop]
            assert type(got) is type(expected)
            assert got.equals(expected) and got.dtype == expected.dtype
            assert got.name == expected.name and got.freq == expected.freq
