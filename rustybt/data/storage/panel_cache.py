"""Panels kept as memory-mapped ``.npy`` files, so processes reading one bundle share them.

A reader builds a field's panel from its Parquet file once; the panel is then
written to the cache folder (:func:`rustybt.utils.paths.cache_root`) and read
back memory-mapped. Every later reader of the same file, in this process or
another (a parameter search's workers), maps the same file: its pages sit in
the operating system's page cache once, however many processes read them,
and a reader skips decoding the Parquet column. A file is keyed by the bar
file's identity (path, size, modification and change times, inode) and the panel's axis
and columns, so a changed or re-ingested file never meets an old panel.
Deleting the cache folder at any time only costs rebuilding.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rustybt.utils.paths import cache_root

__all__ = ["cached_panel", "panel_key"]


def panel_key(path: Path, axis: npt.NDArray[np.int64], sids: npt.NDArray[np.int64]) -> str:
    """The cache key of the panels of bar file ``path`` on ``axis`` x ``sids``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     key = panel_key(Path(f.name), np.arange(3), np.array([1, 2]))
    >>> len(key)
    40
    """
    stat = path.stat()
    identity = "|".join(
        map(str, (path.resolve(), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino))
    )
    digest = hashlib.sha1(identity.encode(), usedforsecurity=False)
    digest.update(np.ascontiguousarray(axis).tobytes())
    digest.update(np.ascontiguousarray(sids).tobytes())
    return digest.hexdigest()


def cached_panel(key: str, name: str, build: Callable[[], npt.NDArray]) -> npt.NDArray:
    """Panel ``name`` of ``key``: the cached file memory-mapped, else ``build()``'s
    array, written to the cache and mapped back.

    The array is read-only either way. A cache that cannot be written (a
    read-only or full disk) leaves the built array in this process's memory.
    """
    path = cache_root() / "panels" / key / f"{name}.npy"
    try:
        return _mapped(path)
    except (OSError, ValueError):  # not cached yet (or a torn file: rebuilt below)
        pass
    panel = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.{os.getpid()}.{uuid.uuid4().hex}.tmp.npy")
        try:
            np.save(tmp, panel)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return _mapped(path)
    except OSError:
        return panel


def _mapped(path: Path) -> npt.NDArray:
    """``path``'s array, memory-mapped read-only (a plain ndarray over the mapping)."""
    return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
