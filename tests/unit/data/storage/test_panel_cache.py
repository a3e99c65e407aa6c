"""Panels as memory-mapped cache files: the same values, shared, rebuilt when the file changes."""

from __future__ import annotations

import json
import mmap
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rustybt.calendars import get_calendar
from rustybt.data import bundles
from rustybt.data.storage import ParquetDailyBarReader, ParquetDailyBarWriter
from rustybt.data.storage.panel_cache import prune_panel_cache
from rustybt.utils.paths import cache_root

CAL = get_calendar("XNYS")
START, END = pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-31")
SESSIONS = CAL.sessions_in_range(START, END)


def write(path: Path, base: float) -> None:
    close = base + np.arange(len(SESSIONS), dtype=float)
    frame = pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 100.0},
        index=SESSIONS,
    )
    writer = ParquetDailyBarWriter(path, CAL, START, END)
    writer.write([(1, frame), (2, frame * 2)])
    writer.finalize()


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache folder of this test's own (the worker's holds other tests' panels)."""
    monkeypatch.setenv("RUSTYBT_CACHE_DIR", str(tmp_path / "cache"))


def mapped(array: np.ndarray) -> bool:
    """Whether ``array``'s memory is a file mapping."""
    base = array
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    return isinstance(base, mmap.mmap)


def test_a_panel_is_mapped_from_the_cache_and_shared_by_later_readers(tmp_path: Path) -> None:
    path = tmp_path / "daily_equities.parquet"
    write(path, 10.0)
    first = ParquetDailyBarReader(path, CAL, START, END).panel("close")
    files = list((cache_root() / "panels").glob("*/close.npy"))
    assert len(files) == 1
    assert mapped(first) and not first.flags.writeable
    assert first[0].tolist() == [10.0, 20.0] and first.shape == (len(SESSIONS), 2)
    built_at = files[0].stat().st_mtime_ns
    again = ParquetDailyBarReader(path, CAL, START, END).panel("close")
    assert mapped(again) and np.array_equal(again, first)
    assert files[0].stat().st_mtime_ns == built_at  # read back, not built again


def test_a_rewritten_file_never_meets_its_old_panels(tmp_path: Path) -> None:
    path = tmp_path / "daily_equities.parquet"
    write(path, 10.0)
    assert ParquetDailyBarReader(path, CAL, START, END).panel("close")[0, 0] == 10.0
    write(path, 50.0)
    assert ParquetDailyBarReader(path, CAL, START, END).panel("close")[0, 0] == 50.0


def test_a_torn_cache_file_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "daily_equities.parquet"
    write(path, 10.0)
    expected = ParquetDailyBarReader(path, CAL, START, END).panel("volume").copy()
    (cached,) = (cache_root() / "panels").glob("*/volume.npy")
    cached.write_bytes(cached.read_bytes()[:40])
    rebuilt = ParquetDailyBarReader(path, CAL, START, END).panel("volume")
    assert np.array_equal(rebuilt, expected) and mapped(rebuilt)


def test_an_unwritable_cache_leaves_the_panel_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "daily_equities.parquet"
    write(path, 10.0)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("RUSTYBT_CACHE_DIR", str(blocked))
    panel = ParquetDailyBarReader(path, CAL, START, END).panel("close")
    assert panel[0].tolist() == [10.0, 20.0] and not mapped(panel)
    assert not panel.flags.writeable
    assert os.path.isfile(blocked)


def test_pruning_removes_the_panels_of_gone_or_changed_files(tmp_path: Path) -> None:
    kept, gone, changed = (tmp_path / f"{n}.parquet" for n in ("kept", "gone", "changed"))
    for path in (kept, gone, changed):
        write(path, 10.0)
        ParquetDailyBarReader(path, CAL, START, END).panel("close")
    assert len(list((cache_root() / "panels").iterdir())) == 3
    gone.unlink()
    write(changed, 20.0)  # a new file under the old name
    assert prune_panel_cache() == 2
    (left,) = (cache_root() / "panels").iterdir()
    assert json.loads((left / "source.json").read_text())["path"] == str(kept.resolve())
    assert prune_panel_cache() == 0


def test_clean_prunes_the_panels_of_the_ingestions_it_removes(rustybt_root: Path) -> None:
    environ = {"RUSTYBT_ROOT": str(rustybt_root), "RUSTYBT_CACHE_DIR": str(cache_root())}
    for _ in range(2):
        bundles.ingest("demo", environ)
        with bundles.load("demo", environ) as data:
            data.equity_daily_bar_reader.panel("close")
    assert len(list((cache_root() / "panels").iterdir())) == 2
    bundles.clean("demo", keep_last=1, environ=environ)
    assert len(list((cache_root() / "panels").iterdir())) == 1
