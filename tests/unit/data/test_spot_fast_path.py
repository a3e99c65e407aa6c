"""The scalar spot fast path gives exactly what the array path gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.unit.data._bundle_kit import write_bundle

FIELDS = ("price", "open", "high", "low", "close", "volume")


@pytest.mark.parametrize("frequency", ["daily", "minute"])
def test_spot_equals_current_array(tmp_path: Path, frequency: str) -> None:
    bundle = write_bundle(tmp_path)
    portal = bundle.portal()
    n_rows = len(portal.sessions) if frequency == "daily" else 4 * 390
    cases = []
    for sid in (1, 2, 3, 4, 99):
        col = portal.column(sid)
        for row in range(-1, n_rows, 7 if frequency == "daily" else 97):
            session = row if frequency == "daily" else None
            for field in FIELDS:
                for perspective in {session, 14} - {None}:
                    cases.append((col, field, row, perspective))

    def by_array(col: int, field: str, row: int, perspective: int) -> float:
        cols = np.array([col], dtype=np.int64)
        return float(portal.current_array(cols, field, row, frequency, perspective)[0])

    def by_spot(col: int, field: str, row: int, perspective: int) -> float:
        return portal.spot(col, field, row, frequency, perspective)

    assert len(cases) > 100
    for case in cases:
        expected, got = by_array(*case), by_spot(*case)
        assert got == expected or (np.isnan(got) and np.isnan(expected)), case
