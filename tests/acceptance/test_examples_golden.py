"""Golden results of the five examples on the demo bundle: the final value to the
cent, the fill count and a digest of every fill (asset, amount, price, time).

A change to the engine that moves any of these changes what users get; refresh
them (``python -m tests.acceptance.golden``) only for a change meant to do that.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.acceptance.golden import CASES, figures

GOLDEN: dict[tuple[str, str, str, str, int], tuple[str, int, str]] = {
    ("buyapple.py", "daily", "2016-01-04", "2016-12-30", 100000): (
        "166535.38",
        251,
        "690e599c3fb625d6",
    ),
    ("buy_and_hold.py", "daily", "2015-01-02", "2024-12-31", 100000): (
        "597588.36",
        5,
        "23295766e60d1fff",
    ),
    ("dual_moving_average.py", "daily", "2015-01-02", "2024-12-31", 100000): (
        "141332.52",
        11,
        "055d8cc4eb573033",
    ),
    ("olmar.py", "daily", "2020-01-02", "2020-12-31", 100000): (
        "124776.86",
        725,
        "fa38a21898dfbb81",
    ),
    ("buyapple.py", "minute", "2024-03-04", "2024-03-08", 1000000): (
        "945708.26",
        1949,
        "ba4b00120277004f",
    ),
    ("olmar.py", "minute", "2024-03-04", "2024-03-08", 1000000): (
        "989391.49",
        1621,
        "efcf7f88fb289501",
    ),
    ("pipeline_momentum.py", "daily", "2015-01-02", "2024-12-31", 100000): (
        "501847.31",
        827,
        "0f9d9b3c3f87494c",
    ),
    ("pipeline_momentum.py", "minute", "2024-03-04", "2024-04-30", 1000000): (
        "1051919.46",
        5,
        "6763df512b908d4b",
    ),
}


def test_every_case_is_pinned() -> None:
    assert set(GOLDEN) == set(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_example_matches_golden(demo: Path, case: tuple[str, str, str, str, int]) -> None:
    got = figures(*case)
    assert (got["final_value"], got["fills"], got["digest"]) == GOLDEN[case]
