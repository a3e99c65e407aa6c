"""Save and load a pipeline's output frame the same way in both venvs (numpy, pandas only).

A frame indexed by (date, asset) is saved as an ``.npz``: ``dates`` (YYYY-MM-DD),
``symbols``, ``columns``, ``kinds`` (numpy dtype kind per column: f, b, i) and
one array per column (``c0``, ``c1``, ...), values exact (no text round trip).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _symbol(asset: Any) -> str:
    return str(getattr(asset, "symbol", asset))


def save_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write a (date, asset)-indexed frame to ``path`` (.npz)."""
    dates = pd.DatetimeIndex(frame.index.get_level_values(0))
    if dates.tz is not None:
        dates = dates.tz_convert("UTC").tz_localize(None)
    arrays: dict[str, np.ndarray] = {
        "dates": np.asarray(dates.normalize().strftime("%Y-%m-%d"), dtype=str),
        "symbols": np.asarray([_symbol(a) for a in frame.index.get_level_values(1)], dtype=str),
        "columns": np.asarray([str(c) for c in frame.columns], dtype=str),
    }
    kinds = []
    for i, column in enumerate(frame.columns):
        values = frame[column].to_numpy()
        if values.dtype == object:
            raise SystemExit(
                f"column {column!r} holds objects; only numbers and booleans are saved"
            )
        kinds.append(values.dtype.kind)
        arrays[f"c{i}"] = values
    arrays["kinds"] = np.asarray(kinds, dtype=str)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def load_frame(path: Path) -> pd.DataFrame:
    """The frame ``save_frame`` wrote, indexed by (date, symbol) strings, sorted."""
    with np.load(path) as data:
        index = pd.MultiIndex.from_arrays(
            [data["dates"], data["symbols"]], names=["date", "symbol"]
        )
        frame = pd.DataFrame(
            {column: data[f"c{i}"] for i, column in enumerate(data["columns"])}, index=index
        )
    return frame.sort_index()
