"""Drawdown periods: a hand-built series with known peaks, troughs and recoveries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from rustybt.analytics.drawdowns import DRAWDOWN_COLUMNS, drawdown_periods
from rustybt.analytics.statistics import drawdown_series, max_drawdown
from rustybt.exceptions import ParameterValidationError
from tests.unit.analytics.returns_kit import return_lists, series_of

# Wealth (start 1): each factor 1 + r is a power-of-two fraction, so every value is exact.
#   session   0    1    2    3    4    5    6    7    8     9      10
#   return   +1  -.5  -.5   +1   +3 -.25  +.5    0  -.5   +.5    -.5
#   wealth    2    1   .5    1    4    3  4.5  4.5 2.25 3.375 1.6875
HAND_BUILT = [1.0, -0.5, -0.5, 1.0, 3.0, -0.25, 0.5, 0.0, -0.5, 0.5, -0.5]


def test_hand_built_periods_deepest_first_with_an_unrecovered_last_one() -> None:
    returns = series_of(HAND_BUILT)
    session = returns.index
    periods = drawdown_periods(returns)
    assert list(periods.columns) == list(DRAWDOWN_COLUMNS)
    # 2 -> 0.5 (-75%), back above 2 on session 4 (wealth 4: a recovery may overshoot).
    # 4.5 -> 1.6875 (-62.5%) from session 7 (flat at the high: the last session at it)
    # to the end, unrecovered. 4 -> 3 (-25%) on session 5, back on session 6.
    assert periods["peak"].tolist() == [session[0], session[7], session[4]]
    assert periods["trough"].tolist() == [session[2], session[10], session[5]]
    assert periods["recovery"].iloc[[0, 2]].tolist() == [session[4], session[6]]
    assert pd.isna(periods["recovery"].iloc[1])
    assert periods["drawdown"].tolist() == [-0.75, -0.625, -0.25]
    assert periods["duration"].tolist() == [4, 3, 2]  # sessions from the peak to the recovery/end
    assert periods["recovery"].dtype == periods["peak"].dtype == returns.index.dtype
    assert periods["drawdown"].iloc[0] == max_drawdown(returns)


def test_top_keeps_the_deepest_periods() -> None:
    periods = drawdown_periods(series_of(HAND_BUILT), top=2)
    assert periods["drawdown"].tolist() == [-0.75, -0.625]
    assert len(drawdown_periods(series_of(HAND_BUILT), top=10)) == 3


def test_a_fall_on_the_first_session_has_its_peak_there() -> None:
    returns = series_of([-0.5, 1.0, 0.5])  # 0.5, back to 1 on session 1
    periods = drawdown_periods(returns)
    assert periods[["drawdown", "duration"]].values.tolist() == [[-0.5, 1]]
    assert periods["peak"].iloc[0] == periods["trough"].iloc[0] == returns.index[0]
    assert periods["recovery"].iloc[0] == returns.index[1]


def test_returns_that_never_fall_have_no_period() -> None:
    for returns in ([], [0.01, 0.0, 0.02], [np.nan, 0.01]):
        periods = drawdown_periods(series_of(returns))
        assert periods.empty and list(periods.columns) == list(DRAWDOWN_COLUMNS)


def test_an_array_is_indexed_by_position() -> None:
    periods = drawdown_periods(np.array(HAND_BUILT), top=1)
    assert periods[["peak", "trough", "recovery", "duration"]].values.tolist() == [[0, 2, 4, 4]]


@pytest.mark.parametrize("top", [0, -1, 2.5, True, "5"])
def test_top_must_be_a_positive_whole_number(top: object) -> None:
    with pytest.raises(ParameterValidationError, match=r"^top: expected a positive whole number"):
        drawdown_periods(series_of(HAND_BUILT), top=top)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(returns=return_lists)
def test_periods_agree_with_the_underwater_curve(returns: list[float]) -> None:
    series = series_of(returns)
    underwater = drawdown_series(series)
    periods = drawdown_periods(series, top=len(returns) + 1)
    position = {session: i for i, session in enumerate(series.index)}
    if len(returns):
        deepest = periods["drawdown"].iloc[0] if len(periods) else 0.0
        assert deepest == max_drawdown(series)
    assert periods["drawdown"].is_monotonic_increasing
    # Every session under water lies in exactly one period, between peak and recovery.
    covered = np.zeros(len(returns), dtype=int)
    for row in periods.itertuples():
        start = position[row.peak] + (1 if underwater[row.peak] == 0 else 0)
        end = position[row.recovery] if not pd.isna(row.recovery) else len(returns)
        assert (underwater.iloc[start:end] < 0).all()
        assert underwater[row.trough] == row.drawdown == underwater.iloc[start:end].min()
        if not pd.isna(row.recovery):
            assert underwater[row.recovery] == 0.0
            assert row.duration == end - position[row.peak]
        else:
            assert row.duration == len(returns) - 1 - position[row.peak]
        covered[start:end] += 1
    assert (covered == (underwater < 0).to_numpy()).all()
