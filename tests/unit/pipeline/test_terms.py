"""Factor arithmetic, filters and classifiers, computed on the ``_bundle_kit`` bundle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rustybt.exceptions import PipelineError
from rustybt.pipeline import CustomClassifier, CustomFilter, Pipeline, bundle_engine
from rustybt.pipeline.classifiers import Everything
from rustybt.pipeline.data import EquityPricing
from rustybt.pipeline.factors import CustomFactor
from rustybt.pipeline.filters import (
    All,
    AllPresent,
    AtLeastN,
    SingleAsset,
    StaticAssets,
    StaticSids,
)
from rustybt.pipeline.filters import (
    Any as AnyOf,
)
from tests.unit.data._bundle_kit import Bundle, write_bundle

CLOSE = EquityPricing.close.latest


@pytest.fixture
def bundle(tmp_path: Path) -> Iterator[Bundle]:
    written = write_bundle(tmp_path / "bundle")
    yield written
    written.close()


def frame(bundle: Bundle, columns: dict[str, Any], start: int, end: int) -> pd.DataFrame:
    engine = bundle_engine(bundle.portal(), "XNYS")
    return engine.run_pipeline(Pipeline(columns), bundle.sessions[start], bundle.sessions[end])


def by_symbol(out: pd.DataFrame, bundle: Bundle, i: int, column: str) -> dict[str, Any]:
    day = out.xs(bundle.sessions[i], level=0)[column]
    return {asset.symbol: value for asset, value in day.items()}


def test_arithmetic_and_math_functions(bundle: Bundle) -> None:
    out = frame(
        bundle,
        {
            "expr": (CLOSE * 2 - 1) / 4,
            "reflected": 10 - CLOSE,
            "power": CLOSE**2 % 7,
            "neg": -CLOSE,
            "log": CLOSE.log(),
            "abs": abs(10 - CLOSE),
            "both": CLOSE / CLOSE.rank(),
        },
        9,
        9,
    )
    aaa = {c: by_symbol(out, bundle, 9, c)["AAA"] for c in out.columns}
    assert aaa["expr"] == (58 * 2 - 1) / 4
    assert aaa["reflected"] == -48.0
    assert aaa["power"] == 58.0**2 % 7
    assert aaa["neg"] == -58.0
    assert aaa["log"] == pytest.approx(np.log(58.0))
    assert aaa["abs"] == 48.0
    assert aaa["both"] == 58.0 / 3  # AAA 58 > BBB 49 > CCC 28: rank 3 ascending


def test_comparisons_logic_and_null_filters(bundle: Bundle) -> None:
    out = frame(
        bundle,
        {
            "gt": CLOSE > 40,
            "and": (CLOSE > 40) & (CLOSE < 55),
            "or": (CLOSE < 30) | (CLOSE > 55),
            "not": ~(CLOSE > 40),
            "ne": CLOSE != 58,
            "nan": CLOSE.isnan(),
            "notnan": CLOSE.notnan(),
            "null": CLOSE.isnull(),
            "finite": CLOSE.isfinite(),
        },
        9,
        9,
    )
    expect = {
        "gt": {"AAA": True, "BBB": True, "CCC": False, "DDD": False},
        "and": {"AAA": False, "BBB": True, "CCC": False, "DDD": False},
        "or": {"AAA": True, "BBB": False, "CCC": True, "DDD": False},
        "not": {"AAA": False, "BBB": False, "CCC": True, "DDD": True},
        "ne": {"AAA": False, "BBB": True, "CCC": True, "DDD": True},
        "nan": {"AAA": False, "BBB": False, "CCC": False, "DDD": True},
        "notnan": {"AAA": True, "BBB": True, "CCC": True, "DDD": False},
        "null": {"AAA": False, "BBB": False, "CCC": False, "DDD": True},
        "finite": {"AAA": True, "BBB": True, "CCC": True, "DDD": False},
    }
    for column, values in expect.items():
        assert by_symbol(out, bundle, 9, column) == values, column


def test_fillna_clip_and_if_else(bundle: Bundle) -> None:
    out = frame(
        bundle,
        {
            "filled": CLOSE.fillna(-1.0),
            "clipped": CLOSE.clip(30.0, 55.0),
            "masked_clip": CLOSE.clip(30.0, 55.0, mask=CLOSE > 40),
            "chosen": (CLOSE > 50).if_else(CLOSE, -CLOSE),
        },
        9,
        9,
    )
    assert by_symbol(out, bundle, 9, "filled")["DDD"] == -1.0
    assert by_symbol(out, bundle, 9, "clipped") == pytest.approx(
        {"AAA": 55.0, "BBB": 49.0, "CCC": 30.0, "DDD": np.nan}, nan_ok=True
    )
    assert by_symbol(out, bundle, 9, "masked_clip") == pytest.approx(
        {"AAA": 55.0, "BBB": 49.0, "CCC": np.nan, "DDD": np.nan}, nan_ok=True
    )
    assert by_symbol(out, bundle, 9, "chosen")["AAA"] == 58.0
    assert by_symbol(out, bundle, 9, "chosen")["CCC"] == -28.0


def test_static_and_single_asset_filters(bundle: Bundle) -> None:
    aaa, ccc = bundle.asset(1), bundle.asset(3)
    out = frame(
        bundle,
        {
            "static": StaticAssets([aaa, ccc]),
            "sids": StaticSids([2]),
            "single": SingleAsset(aaa),
        },
        5,
        9,
    )
    assert by_symbol(out, bundle, 9, "static") == {
        "AAA": True,
        "BBB": False,
        "CCC": True,
        "DDD": False,
    }
    assert [k for k, v in by_symbol(out, bundle, 6, "sids").items() if v] == ["BBB"]
    assert [k for k, v in by_symbol(out, bundle, 6, "single").items() if v] == ["AAA"]
    with pytest.raises(PipelineError, match=r"SingleAsset: asset .*CCC.* not alive on every date"):
        frame(bundle, {"single": SingleAsset(ccc)}, 2, 9)


def test_window_filters(bundle: Bundle) -> None:
    above = CLOSE > 47.5
    out = frame(
        bundle,
        {
            "all": All(inputs=[above], window_length=3),
            "any": AnyOf(inputs=[above], window_length=3),
            "atleast": AtLeastN(inputs=[above], window_length=3, N=2),
            "present": AllPresent(inputs=[EquityPricing.close], window_length=3),
        },
        7,
        9,
    )
    # BBB's latest close on dates 7, 8, 9: 47, 48, 49 (sessions 6, 7, 8).
    bbb = {c: by_symbol(out, bundle, 9, c)["BBB"] for c in out.columns}
    assert bbb == {"all": False, "any": True, "atleast": True, "present": True}
    assert not by_symbol(out, bundle, 8, "atleast")["BBB"]
    # BBB has no bar on session 5: dates 6..8 see it in their windows.
    assert not by_symbol(out, bundle, 7, "present")["BBB"]
    assert by_symbol(out, bundle, 9, "all")["AAA"]
    assert not by_symbol(out, bundle, 9, "any")["CCC"]


class Parity(CustomClassifier):
    inputs = (EquityPricing.close,)
    window_length = 1

    def compute(self, today: Any, assets: Any, out: Any, close: Any) -> None:
        out[:] = np.where(np.isnan(close[-1]), -1, close[-1] % 2).astype(np.int64)


class Cheap(CustomFilter):
    inputs = (EquityPricing.close,)
    window_length = 1

    def compute(self, today: Any, assets: Any, out: Any, close: Any) -> None:
        out[:] = close[-1] < 30


def test_classifiers_group_custom_terms_and_compare(bundle: Bundle) -> None:
    parity = Parity()
    out = frame(
        bundle,
        {
            "parity": parity,
            "even": parity.eq(0),
            "odd": parity != 0,
            "in": parity.element_of([1]),
            "everything": Everything(),
            "peers": parity.peer_count(),
            "cheap": Cheap(),
            "ranked": CLOSE.rank(groupby=parity),
            "quartile": CLOSE.quartiles(),
        },
        10,
        10,
    )
    # Date 10 sees AAA 59, BBB 50 * 0.98 = 49, CCC 29, and DDD no close.
    assert by_symbol(out, bundle, 10, "parity") == {"AAA": 1, "BBB": 1, "CCC": 1, "DDD": -1}
    assert by_symbol(out, bundle, 10, "odd") == {
        "AAA": True,
        "BBB": True,
        "CCC": True,
        "DDD": False,
    }
    assert not any(by_symbol(out, bundle, 10, "even").values())
    assert by_symbol(out, bundle, 10, "in")["AAA"]
    assert set(by_symbol(out, bundle, 10, "everything").values()) == {0}
    assert by_symbol(out, bundle, 10, "peers") == pytest.approx(
        {"AAA": 3.0, "BBB": 3.0, "CCC": 3.0, "DDD": np.nan}, nan_ok=True
    )
    assert [k for k, v in by_symbol(out, bundle, 10, "cheap").items() if v] == ["CCC"]
    assert by_symbol(out, bundle, 10, "ranked") == pytest.approx(
        {"AAA": 3.0, "BBB": 2.0, "CCC": 1.0, "DDD": np.nan}, nan_ok=True
    )
    quartiles = by_symbol(out, bundle, 10, "quartile")
    assert quartiles["CCC"] < quartiles["BBB"] < quartiles["AAA"] and quartiles["DDD"] == -1


class Bands(CustomFactor):
    inputs = (EquityPricing.close,)
    window_length = 2
    outputs = ("low", "high")

    def compute(self, today: Any, assets: Any, out: Any, close: Any) -> None:
        out.low[:] = np.nanmin(close, axis=0)
        out.high[:] = np.nanmax(close, axis=0)


@pytest.mark.filterwarnings("ignore:All-NaN slice:RuntimeWarning")  # DDD has no bars
def test_multiple_outputs_read_as_attributes_and_unpack(bundle: Bundle) -> None:
    low, high = Bands()
    assert low is Bands().low
    out = frame(bundle, {"low": low, "high": high, "width": high - low}, 9, 9)
    assert by_symbol(out, bundle, 9, "low")["AAA"] == 53.5
    assert by_symbol(out, bundle, 9, "width")["AAA"] == 4.5
    with pytest.raises(AttributeError):
        Bands().middle  # noqa: B018


def test_bad_terms_raise_one_line_errors() -> None:
    with pytest.raises(PipelineError, match="take factors or numbers"):
        CLOSE + "x"
    with pytest.raises(PipelineError, match="both sides must be filters"):
        (CLOSE > 1) & CLOSE  # type: ignore[operator]
    with pytest.raises(PipelineError, match="percentile_between needs"):
        CLOSE.percentile_between(50, 10)
    with pytest.raises(PipelineError, match="clip: min_bound 5 is greater than max_bound 1"):
        CLOSE.clip(5, 1)
    with pytest.raises(PipelineError, match="needs a window_length of at least 1"):
        Bands(window_length=0)
    with pytest.raises(PipelineError, match="unexpected keyword argument"):
        Bands(colour="red")
    with pytest.raises(PipelineError, match="compares with the missing value"):
        Parity().eq(-1)


def test_pipelines_add_remove_and_screen_columns() -> None:
    pipe = Pipeline({"close": CLOSE})
    pipe.add(CLOSE.rank(), "rank")
    assert list(pipe.columns) == ["close", "rank"]
    with pytest.raises(PipelineError, match="already has a column 'rank'"):
        pipe.add(CLOSE, "rank")
    pipe.add(-CLOSE, "rank", overwrite=True)
    assert pipe.remove("rank") is -CLOSE
    with pytest.raises(PipelineError, match="has no column 'rank'"):
        pipe.remove("rank")
    pipe.set_screen(CLOSE > 1)
    with pytest.raises(PipelineError, match="already has a screen"):
        pipe.set_screen(CLOSE > 2)
    pipe.set_screen(CLOSE > 2, overwrite=True)
    assert pipe.screen is (CLOSE > 2)
