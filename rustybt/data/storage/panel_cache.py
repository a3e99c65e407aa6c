"""Panels kept as memory-mapped ``.npy`` files, so processes reading one bundle share them.

A reader builds a field's panel from its Parquet file once; the panel is then
written to the cache folder (:func:`rustybt.utils.paths.cache_root`) and read
back memory-mapped. Every later reader of the same file, in this process or
another (a parameter search's workers), maps the same file: its pages sit in
the operating system's page cache once, however many processes read them,
and a reader skips decoding the Parquet column. A file's panels are keyed by
the bar file's identity (path, size, modification and change times, inode)
and the panel's axis and columns, so a changed or re-ingested file never
meets an old panel. Deleting the cache folder at any time only costs
rebuilding; :func:`prune_panel_cache` (run by ``rustybt clean``) removes the
panels of bar files that are gone or changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rustybt.utils.paths import cache_root

__all__ = ["cached_panel", "panel_key", "prune_panel_cache"]

# In each key's folder: the bar file the panels come from, and its identity.
_SOURCE = "source.json"


def _identity(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _panels_folder(environ: Mapping[str, str] | None = None) -> Path:
    return cache_root(environ) / "panels"


def panel_key(source: Path, axis: npt.NDArray[np.int64], sids: npt.NDArray[np.int64]) -> str:
    """The cache key of bar file ``source``'s panels on ``axis`` x ``sids``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     len(panel_key(Path(f.name), np.arange(3), np.array([1, 2])))
    40
    """
    source = source.resolve()
    digest = hashlib.sha1(repr((str(source), _identity(source))).encode(), usedforsecurity=False)
    digest.update(np.ascontiguousarray(axis).tobytes())
    digest.update(np.ascontiguousarray(sids).tobytes())
    return digest.hexdigest()


def cached_panel(
    source: Path, key: str, name: str, build: Callable[[], npt.NDArray]
) -> npt.NDArray:
    """Panel ``name`` of bar file ``source`` under ``key`` (:func:`panel_key`): the
    cached file memory-mapped, else ``build()``'s array, written to the cache and
    mapped back.

    The array is read-only either way. A cache that cannot be written (a
    read-only or full disk) leaves the built array in this process's memory.
    """
    folder = _panels_folder() / key
    path = folder / f"{name}.npy"
    try:
        return _mapped(path)
    except (OSError, ValueError):  # not cached yet (or a torn file: rebuilt below)
        pass
    panel = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        source = source.resolve()
        record = json.dumps({"path": str(source), "identity": _identity(source)}).encode()
        _write_atomically(folder / _SOURCE, lambda tmp: tmp.write_bytes(record))
        _write_atomically(path, lambda tmp: np.save(tmp, panel))
        return _mapped(path)
    except OSError:
        return panel


def prune_panel_cache(environ: Mapping[str, str] | None = None) -> int:
    """Remove the cached panels of bar files that are gone or changed; how many sets.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as cache:
    ...     prune_panel_cache({"RUSTYBT_CACHE_DIR": cache})
    0
    """
    folder = _panels_folder(environ)
    removed = 0
    for key in folder.iterdir() if folder.is_dir() else ():
        try:
            record = json.loads((key / _SOURCE).read_text())
            current = _identity(Path(record["path"]))
        except (OSError, ValueError, KeyError, TypeError):
            current, record = None, {}
        if current is None or current != record.get("identity"):
            shutil.rmtree(key, ignore_errors=True)
            removed += 1
    return removed


def _write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` a temporary file beside ``path``, then rename it into place."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _mapped(path: Path) -> npt.NDArray:
    """``path``'s array, memory-mapped read-only (a plain ndarray over the mapping)."""
    return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
