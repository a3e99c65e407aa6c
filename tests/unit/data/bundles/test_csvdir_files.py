"""Tests of rustybt.data.bundles.csvdir_files: the errors of many files combined into one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rustybt.data.bundles.csvdir_files import combine_errors
from rustybt.data.validation import validate_bars
from rustybt.exceptions import DataValidationError


def test_errors_of_many_files_combine_into_one_naming_each() -> None:
    close = np.array([10.0, 10.1, 10.2])
    bars = pd.DataFrame(
        {"open": close, "high": close + 0.5, "low": close - 0.5, "close": close, "volume": 100.0},
        index=pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06"]),
    )
    bars.iloc[1, bars.columns.get_loc("high")] = 1.0
    with pytest.raises(DataValidationError) as first:
        validate_bars(bars, frequency="daily", valid_index=None, source="a.csv")
    unreadable = DataValidationError("b.csv: not a readable CSV file", context={"source": "b.csv"})
    combined = combine_errors([first.value, unreadable])
    assert combined.message == (
        "invalid data in 2 files: a.csv (1 invalid row), b.csv (not a readable CSV file); "
        f"first: {first.value.message}"
    )
    rows = combined.invalid_rows
    assert rows["source"].tolist() == ["a.csv", "b.csv"]
    assert rows["reason"].iloc[1] == "not a readable CSV file"
    assert combined.context["n_files"] == 2
    assert combine_errors([unreadable]) is unreadable


def test_a_combined_error_counts_the_files_it_does_not_name() -> None:
    errors = [
        DataValidationError(f"f{k}.csv: empty", context={"source": f"f{k}.csv"}) for k in range(25)
    ]
    message = combine_errors(errors).message
    assert message.startswith("invalid data in 25 files: f0.csv (empty), f1.csv (empty)")
    assert message.endswith("f19.csv (empty) and 5 more")
