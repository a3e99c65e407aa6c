"""Adjustments without an adjustments table: every factor is 1 (None), for any window."""

from __future__ import annotations

import numpy as np
import pytest

from rustybt.data.portal.adjustments import Adjustments


@pytest.mark.parametrize("field", ["price", "close", "volume"])
def test_no_adjustments_give_no_factor(field: str) -> None:
    sessions_ns = np.arange(5, dtype=np.int64) * 86_400_000_000_000
    adjustments = Adjustments(None, sessions_ns, np.array([1, 2], dtype=np.int64))
    cols = np.array([0, 1])
    rows = np.array([0, 1, 1, 2, 3])  # several sessions, some shared (minutes)
    assert adjustments.factor(field, rows[:, None], cols, 4) is None
    assert adjustments.window_factor(field, rows, cols, 4) is None
    assert adjustments.window_factor(field, rows[:0], cols, 4) is None
    assert adjustments.between(field, cols, 0, 4) == [1.0, 1.0]
