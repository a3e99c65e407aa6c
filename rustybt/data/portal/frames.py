"""Pandas objects of history windows, built without the constructors' checks.

``data.history`` returns a frame every bar; pandas' general constructors
spend more time checking their input than the window took to read. The
builders here construct the same objects directly, check once that they
equal what pandas builds, and fall back to pandas otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rustybt.data.portal.fields import FloatArray

__all__ = ["FrameBuilder", "WindowLabels", "window_frame"]

_FLOAT64 = np.dtype(np.float64)


class WindowLabels:
    """``index[start:stop]`` of a DatetimeIndex, for the history window of every bar.

    A pandas slice re-derives the frequency and checks the indexer: about
    15 us for a 50-bar window, once a bar. The window is just the
    nanoseconds of those rows with the index's dtype and its frequency (a
    contiguous slice of a regular index keeps it, as pandas' slice does), so
    it is built from them directly. That build uses pandas' ``_simple_new``
    constructors; it is checked once against pandas' own slice, and a pandas
    that builds a different index (or lacks them) gets the slice.
    """

    def __init__(self, index: pd.DatetimeIndex) -> None:
        self.index = index
        self._parts: tuple[Any, Any, Any, Any] | None = None
        try:
            if index.unit == "ns" and len(index):
                self._parts = (
                    index.asi8.view("M8[ns]"),
                    index.dtype,
                    type(index.array),
                    index.freq,
                )
                probe, expected = self(0, 3), index[0:3]
                same = (
                    type(probe) is type(expected)
                    and probe.equals(expected)
                    and probe.dtype == expected.dtype
                    and probe.name == expected.name
                    and probe.freq == expected.freq
                )
                if not same:
                    self._parts = None
        except Exception:  # a pandas without these constructors: slice as usual
            self._parts = None

    @property
    def direct(self) -> bool:
        """Whether windows are built from the nanoseconds (else sliced by pandas)."""
        return self._parts is not None

    def __call__(self, start: int, stop: int) -> pd.DatetimeIndex:
        parts = self._parts
        if parts is None:
            return self.index[start:stop]
        values, dtype, array_type, freq = parts
        window = array_type._simple_new(values[start:stop], dtype=dtype)
        labels = pd.DatetimeIndex._simple_new(window, name=self.index.name)  # type: ignore[attr-defined]
        if freq is not None:
            labels._freq = freq  # what pandas' slice sets
        return labels


class FrameBuilder:
    """``pd.DataFrame(values, index=index, columns=columns, copy=False)`` for a 2-D
    float64 window, the frame ``data.history`` returns at every bar.

    The constructor checks its input's every possible shape and kind: about
    20 us for a 50 x 50 window, and twice that in a running simulation, where
    its code is out of the processor's caches. The frame it builds from a
    float64 array is one block holding ``values.T``; that block and its
    manager are built here directly with pandas' internal constructors. The
    result is checked once against the constructor's, and a pandas that
    builds anything different (or lacks them) gets the constructor.

    Parameters
    ----------
    direct
        Build frames directly when the check passes; False: always the
        constructor.
    """

    def __init__(self, direct: bool = True) -> None:
        self._parts: tuple[Any, Any, Any, Any] | None = None
        # Not direct: checked already, with no parts: always the constructor.
        self._checked = not direct

    @property
    def direct(self) -> bool:
        """Whether frames are built from their block (checked on first use)."""
        self._check()
        return self._parts is not None

    def _check(self) -> None:
        if not self._checked:
            self._checked = True
            self._parts = self._checked_parts()

    def __call__(self, values: FloatArray, index: pd.Index, columns: pd.Index) -> pd.DataFrame:
        parts = self._parts
        if parts is None and not self._checked:
            self._check()
            parts = self._parts
        # The float64 dtype is one object: an identity test, not a dtype comparison.
        if (
            parts is None
            or values.dtype is not _FLOAT64
            or values.ndim != 2
            or values.shape != (len(index), len(columns))
        ):
            return pd.DataFrame(values, index=index, columns=columns, copy=False)
        block_type, placement, manager, frame = parts
        # What pandas' new_block_2d does for a float64 array (no coercion to do).
        block = block_type(values.T, ndim=2, placement=placement(slice(0, values.shape[1])))
        mgr = manager((block,), [columns, index], verify_integrity=False)
        return frame._from_mgr(mgr, axes=mgr.axes)

    def _checked_parts(self) -> tuple[Any, Any, Any, Any] | None:
        try:
            from pandas._libs.internals import BlockPlacement
            from pandas.core.internals.blocks import get_block_type
            from pandas.core.internals.managers import BlockManager

            block_type = get_block_type(_FLOAT64)
            self._parts = (block_type, BlockPlacement, BlockManager, pd.DataFrame)
            values = np.arange(6.0).reshape(3, 2)
            index = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"], tz="UTC")
            columns = pd.Index(["a", "b"], dtype=object)
            built = self(values, index, columns)
            expected = pd.DataFrame(values, index=index, columns=columns, copy=False)
            same = (
                type(built) is type(expected)
                and built.equals(expected)
                and built.index is expected.index
                and built.columns is expected.columns
                and built.dtypes.equals(expected.dtypes)
                and built.flags == expected.flags
                and built._mgr.nblocks == expected._mgr.nblocks == 1
                and type(built._mgr.blocks[0]) is type(expected._mgr.blocks[0])
                and built._mgr.blocks[0].mgr_locs.as_slice
                == expected._mgr.blocks[0].mgr_locs.as_slice
                and np.shares_memory(built.to_numpy(), values)
                == np.shares_memory(expected.to_numpy(), values)
                and built.to_numpy().flags.f_contiguous == expected.to_numpy().flags.f_contiguous
            )
            return self._parts if same else None
        except Exception:  # a pandas without these internals: the constructor
            return None


#: Builds every history window's frame (one per process: the check runs once).
window_frame = FrameBuilder()
