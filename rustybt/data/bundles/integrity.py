"""Checks that an ingestion on disk is the one that was ingested, and tidying after dead ingests.

Every file of an ingestion gets a content digest in ``bundle.json`` at ingest.
Digesting a 500-asset, 10-year bundle (43 MB) takes ~30 ms, a fifth of the
time to open it, so opening does not re-digest a file it has already verified
unchanged: ``verified.json`` beside it records, per file, the size, inode,
mtime and ctime seen when its digest last matched. Any write to a file (even one
that restores its mtime afterwards) changes its ctime, and any copy changes
its inode, so a file whose stat differs from that record is digested again
before it is used. Damage that bypasses the file system (media bit rot) is left
to the Parquet page checksums, verified on every page the bar readers read.

An ingest writes into ``.ingest-<timestamp>-<pid>@<host>`` and renames it into
place; a folder of that form whose process is gone (killed ingest) is removed by
the next ingest and by ``clean``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from rustybt.data.storage.integrity import DIGEST_ALGORITHM, corrupted_file_error, file_digest

__all__ = [
    "DIGESTS_KEY",
    "TEMP_PREFIX",
    "VERIFIED_FILE",
    "ingest_temp_name",
    "recorded_digests",
    "remove_stale_ingest_folders",
    "verify_files",
]

#: The key of ``bundle.json`` holding ``{file name: {DIGEST_ALGORITHM: ..., "size": ...}}``.
DIGESTS_KEY: Final[str] = "files"
#: Per-file stat signatures of the files whose digests were last found to match.
VERIFIED_FILE: Final[str] = "verified.json"
TEMP_PREFIX: Final[str] = ".ingest-"

# ".ingest-<timestamp>-<pid>[@<host>]"; folders of older versions lack the host.
_TEMP_NAME = re.compile(r"^\.ingest-.+-(?P<pid>\d+)(?:@(?P<host>[^@/]+))?$")


def recorded_digests(folder: Path, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Digest and size of each named file of ``folder``, for ``bundle.json``."""
    return {
        name: {DIGEST_ALGORITHM: file_digest(folder / name), "size": (folder / name).stat().st_size}
        for name in names
    }


def record_verified(folder: Path, names: Iterable[str]) -> None:
    """Note the named files of ``folder`` as verified as they are now (best effort)."""
    _write_verified(folder, {name: _signature(folder / name) for name in names})


def verify_files(
    folder: Path, digests: Mapping[str, Mapping[str, Any]], remedy: str, bundle: str
) -> None:
    """Check each file of ``digests`` exists and, unless verified unchanged, its digest.

    Raises
    ------
    BundleCorruptedError
        Naming the first file that is missing or whose content differs.
    """
    verified = _read_verified(folder)
    changed = False
    for name, expected in digests.items():
        path = folder / name
        try:
            signature = _signature(path)
        except FileNotFoundError:
            raise corrupted_file_error(path, "missing", remedy, bundle=bundle) from None
        if verified.get(name) == signature:
            continue
        recorded = expected.get(DIGEST_ALGORITHM)
        if signature[0] != expected.get("size") or file_digest(path) != recorded:
            raise corrupted_file_error(
                path,
                "content differs from the digest recorded in bundle.json at ingest",
                remedy,
                bundle=bundle,
            )
        verified[name] = signature
        changed = True
    if changed:
        _write_verified(folder, verified)


def _signature(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]


def _read_verified(folder: Path) -> dict[str, Any]:
    """The record of verified files; empty if absent or unreadable (all get digested)."""
    try:
        record = json.loads((folder / VERIFIED_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _write_verified(folder: Path, record: Mapping[str, Any]) -> None:
    """Replace the record atomically; a read-only folder just means digesting again."""
    tmp = folder / f".{VERIFIED_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        tmp.write_text(json.dumps(record))
        os.replace(tmp, folder / VERIFIED_FILE)
    except OSError:
        tmp.unlink(missing_ok=True)


def ingest_temp_name(dirname: str) -> str:
    """The temporary folder name of an ingestion into ``dirname`` by this process."""
    return f"{TEMP_PREFIX}{dirname}-{os.getpid()}@{socket.gethostname()}"


def remove_stale_ingest_folders(parent: Path) -> set[Path]:
    """Remove the temporary ingest folders in ``parent`` whose process is gone.

    A folder is kept when its process is alive, when it was made on another
    host (its process cannot be checked from here), or when its name does not
    say who made it.

    Returns
    -------
    set of Path
        The folders removed.
    """
    if not parent.is_dir():
        return set()
    here = socket.gethostname()
    removed = set()
    for path in parent.iterdir():
        match = _TEMP_NAME.match(path.name)
        if match is None or not path.is_dir():
            continue
        if match["host"] not in (None, here) or _process_alive(int(match["pid"])):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.add(path)
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only checks the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    except OverflowError:
        return False  # not a pid this system can have
    return True
