"""Stored bundles are checked on load, and ingests fail in one line without losing anything.

Every test ingests a small real bundle (two equities, one month of XNYS
sessions) into its own RUSTYBT_ROOT, then damages its files the way a disk, a
killed process or a user would.
"""

from __future__ import annotations

import errno
import json
import os
import random
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from rustybt.data import bundles
from rustybt.data.bundles.integrity import VERIFIED_FILE, remove_stale_ingest_folders
from rustybt.data.storage import ParquetDailyBarReader
from rustybt.exceptions import (
    BundleCorruptedError,
    BundleWriteError,
    DataNotFoundError,
    DataValidationError,
)
from tests.unit.data._bundle_kit import daily_frame

NAME = "integrity"
START = pd.Timestamp("2024-01-02")
END = pd.Timestamp("2024-01-31")
FIRST = pd.Timestamp("2025-01-01")
SECOND = pd.Timestamp("2025-02-01")
REMEDY = f"re-ingest: rustybt ingest -b {NAME}"


def _bars(sessions: pd.DatetimeIndex, base: float) -> pd.DataFrame:
    """Closes rising by 1 a session from ``base``, 1000 shares a session (the kit's bars)."""
    return daily_frame(sessions, base + np.arange(len(sessions)), np.full(len(sessions), 1000.0))


def make_ingest(symbols: tuple[str, ...] = ("AAA", "BBB"), before_write: Any = None) -> Any:
    """An ingest function (zipline's signature) writing ``symbols`` with daily bars.

    ``before_write(output_dir)`` runs once the bars are given, before any file is written.
    """

    def ingest(environ: Any, asset_db_writer: Any, minute_bar_writer: Any,
               daily_bar_writer: Any, adjustment_writer: Any, calendar: Any,
               start: pd.Timestamp, end: pd.Timestamp, *rest: Any) -> None:  # fmt: skip
        sessions = calendar.sessions_in_range(start, end)
        if symbols:
            asset_db_writer.write(
                equities=pd.DataFrame(
                    {
                        "symbol": list(symbols),
                        "start_date": sessions[0],
                        "end_date": sessions[-1],
                        "exchange": "NYSE",
                    },
                    index=range(len(symbols)),
                )
            )
        daily_bar_writer.write(
            (sid, _bars(sessions, 10.0 * (sid + 1))) for sid in range(len(symbols))
        )
        adjustment_writer.write(
            splits=pd.DataFrame({"sid": [0], "ratio": [0.5], "effective_date": [sessions[10]]})
        )
        if before_write is not None:
            before_write(Path(rest[-1]))

    return ingest


@pytest.fixture
def ingested(rustybt_root: Path) -> Iterator[Path]:
    """One good ingestion of the bundle ``integrity`` (made at FIRST); yields its folder."""
    bundles.register(NAME, make_ingest(), start_session=START, end_session=END)
    try:
        yield bundles.ingest(NAME, os.environ, FIRST)
    finally:
        bundles.unregister(NAME)


def _load_error(match: str = ".") -> BundleCorruptedError:
    with pytest.raises(BundleCorruptedError, match=match) as info:
        bundles.load(NAME).close()
    message = str(info.value)
    assert "\n" not in message
    assert message.endswith(REMEDY)
    return info.value


def _loads_closes() -> float:
    with bundles.load(NAME) as data:
        return float(data.equity_daily_bar_reader.panel("close").sum())


# --- 1. digests and page checksums ---------------------------------------------


def test_bundle_json_records_a_digest_per_file(ingested: Path) -> None:
    meta = json.loads((ingested / "bundle.json").read_text())
    assert set(meta["files"]) == {
        "assets.sqlite",
        "daily_equities.parquet",
        "minute_equities.parquet",
        "adjustments.sqlite",
    }
    for name, entry in meta["files"].items():
        assert entry["size"] == (ingested / name).stat().st_size
        assert len(entry["sha256"]) == 64
    assert pq.ParquetFile(ingested / "daily_equities.parquet").metadata.num_rows == 2 * 21


def test_every_bit_flip_in_a_stored_parquet_file_is_caught_naming_it(ingested: Path) -> None:
    """The probe: 174 of 200 random flips used to read back as silently changed prices."""
    daily = ingested / "daily_equities.parquet"
    pristine = daily.read_bytes()
    expected = _loads_closes()
    rng = random.Random(16)
    for _ in range(40):
        flipped = bytearray(pristine)
        position = rng.randrange(len(flipped))
        flipped[position] ^= 1 << rng.randrange(8)
        daily.write_bytes(bytes(flipped))
        error = _load_error()
        assert error.context["file"] == str(daily), position
        assert str(daily) in str(error)
        daily.write_bytes(pristine)  # restored: loads again (its digest matches)
    assert _loads_closes() == expected


def test_a_flip_hidden_by_restoring_the_mtime_is_caught(ingested: Path) -> None:
    daily = ingested / "daily_equities.parquet"
    before = daily.stat()
    flipped = bytearray(daily.read_bytes())
    flipped[len(flipped) // 3] ^= 0x10
    daily.write_bytes(bytes(flipped))
    os.utime(daily, ns=(before.st_atime_ns, before.st_mtime_ns))  # the ctime still moves
    _load_error("daily_equities.parquet: content differs from the digest recorded")


def test_the_page_checksums_catch_flips_in_bar_values_without_the_digest(ingested: Path) -> None:
    """A bar reader on its own (no bundle.json) verifies each page it reads.

    The checksums cover a page's values, not its header (whose statistics the
    reader does not use): a flip there either fails to parse or changes nothing
    read. No flip in the column's bytes changes a value silently.
    """
    daily = ingested / "daily_equities.parquet"
    pristine = daily.read_bytes()
    chunk = pq.ParquetFile(daily).metadata.row_group(0).column(5)
    assert chunk.path_in_schema == "close"
    first = chunk.dictionary_page_offset or chunk.data_page_offset
    expected = ParquetDailyBarReader(daily, _calendar(), START, END).panel("close")
    rng = random.Random(7)
    caught = 0
    for _ in range(60):
        flipped = bytearray(pristine)
        flipped[rng.randrange(first, first + chunk.total_compressed_size)] ^= 1 << rng.randrange(8)
        daily.write_bytes(bytes(flipped))
        reader = ParquetDailyBarReader(daily, _calendar(), START, END, remedy="fix it")
        try:
            panel = reader.panel("close")
        except BundleCorruptedError as exc:
            assert re.fullmatch(
                rf"{re.escape(str(daily))}: unreadable Parquet .*; fix it", str(exc)
            )
            caught += 1
        else:
            np.testing.assert_array_equal(panel, expected)
    assert caught >= 30


def _calendar() -> Any:
    from rustybt.calendars import get_calendar

    return get_calendar("XNYS")


def test_a_verified_file_is_not_digested_again_until_it_changes(ingested: Path) -> None:
    verified = json.loads((ingested / VERIFIED_FILE).read_text())
    assert set(verified) == set(json.loads((ingested / "bundle.json").read_text())["files"])
    (ingested / VERIFIED_FILE).write_text("not json")  # a lost record only costs a digest
    assert _loads_closes() > 0
    assert json.loads((ingested / VERIFIED_FILE).read_text()) == verified


# --- 2. missing or damaged files -----------------------------------------------


@pytest.mark.parametrize("file_name", ["assets.sqlite", "adjustments.sqlite"])
def test_a_truncated_database_is_named_with_the_remedy(ingested: Path, file_name: str) -> None:
    path = ingested / file_name
    path.write_bytes(path.read_bytes()[:3000])
    error = _load_error(f"{file_name}: content differs")
    assert error.context == {"file": str(path), "bundle": NAME}


@pytest.mark.parametrize("file_name", ["assets.sqlite", "adjustments.sqlite"])
def test_a_damaged_database_of_a_bundle_without_digests_is_named(
    ingested: Path, file_name: str
) -> None:
    """Ingestions made before digests existed: SQLite's own error, as one named line."""
    meta_file = ingested / "bundle.json"
    meta = json.loads(meta_file.read_text())
    del meta["files"]
    meta_file.write_text(json.dumps(meta))
    path = ingested / file_name
    path.write_bytes(b"\0" * 100 + path.read_bytes()[100:])  # its header gone
    with (
        pytest.raises(BundleCorruptedError, match="damaged SQLite database") as info,
        bundles.load(NAME) as data,
    ):
        data.adjustment_reader.get_adjustments_for_sid("splits", 0)
    assert str(info.value).startswith(f"{path}: ")
    assert str(info.value).endswith(REMEDY)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (None, "bundle.json: missing"),
        ('{"calendar_name": "XNYS", "start_ses', "bundle.json: not a valid bundle description"),
        ('{"calendar_name": "XNYS"}', "bundle.json: lacks the key 'start_session'"),
        ("[1, 2]", "bundle.json: not a valid bundle description"),
        (
            '{"calendar_name": "XNYS", "start_session": "2024-01-02", "end_session": "2024-01-31",'
            ' "files": ["assets.sqlite"]}',
            "bundle.json: its 'files' entry is not a table of file digests",
        ),
    ],
)
def test_a_broken_or_missing_bundle_json_is_named(
    ingested: Path, content: str | None, match: str
) -> None:
    meta_file = ingested / "bundle.json"
    if content is None:
        meta_file.unlink()
    else:
        meta_file.write_text(content)
    _load_error(match)


@pytest.mark.parametrize("digests", [True, False])
def test_a_missing_parquet_file_is_named(ingested: Path, digests: bool) -> None:
    if not digests:
        meta = json.loads((ingested / "bundle.json").read_text())
        del meta["files"]
        (ingested / "bundle.json").write_text(json.dumps(meta))
    (ingested / "daily_equities.parquet").unlink()
    _load_error("daily_equities.parquet: missing")


# --- 3. temporary folders of killed ingests ------------------------------------


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return int(child.stdout)


def _temp_folders(parent: Path) -> dict[str, Path]:
    host = socket.gethostname()
    folders = {
        "dead": parent / f".ingest-2025-03-01T00;00;00-{_dead_pid()}@{host}",
        "dead-old-style": parent / f".ingest-2025-03-02T00;00;00-{_dead_pid()}",
        "live": parent / f".ingest-2025-03-03T00;00;00-{os.getpid()}@{host}",
        "other-host": parent / f".ingest-2025-03-04T00;00;00-{_dead_pid()}@not-{host}",
    }
    for folder in folders.values():
        folder.mkdir(parents=True)
        (folder / "daily_equities.parquet.tmp").write_bytes(b"half a file")
    return folders


def test_the_next_ingest_removes_the_folders_of_dead_ingests(ingested: Path) -> None:
    folders = _temp_folders(ingested.parent)
    bundles.ingest(NAME, os.environ, SECOND)
    assert not folders["dead"].exists()
    assert not folders["dead-old-style"].exists()
    assert folders["live"].exists(), "a running ingest's folder is never touched"
    assert folders["other-host"].exists(), "another host's process cannot be checked"


def test_clean_removes_the_folders_of_dead_ingests(ingested: Path) -> None:
    folders = _temp_folders(ingested.parent)
    removed = bundles.clean(NAME, keep_last=1)
    assert removed == {folders["dead"], folders["dead-old-style"]}
    assert folders["live"].exists() and ingested.exists()
    assert remove_stale_ingest_folders(ingested.parent) == set()


# --- 4. disk full and permission errors during ingest ----------------------------


def _reregister(ingest: Any) -> None:
    """Make the next ingest of the bundle run ``ingest`` instead."""
    bundles.unregister(NAME)
    bundles.register(NAME, ingest, start_session=START, end_session=END)


def _assert_nothing_lost(ingested: Path) -> None:
    assert bundles.ingestions_for_bundle(NAME) == [FIRST]
    assert [p.name for p in ingested.parent.iterdir()] == [ingested.name]
    with bundles.load(NAME) as data:
        assert data.timestamp == FIRST
        assert data.asset_finder.lookup_symbol("BBB").sid == 1


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_disk_full_during_ingest_is_one_line_and_loses_nothing(ingested: Path) -> None:
    """The daily bar file is written through a link to /dev/full: a real ENOSPC."""

    def to_dev_full(output_dir: Path) -> None:
        (output_dir / "daily_equities.parquet.tmp").symlink_to("/dev/full")

    _reregister(make_ingest(before_write=to_dev_full))
    with pytest.raises(BundleWriteError) as info:
        bundles.ingest(NAME, os.environ, SECOND)
    message = str(info.value)
    assert message.startswith(f"cannot ingest bundle {NAME!r}: no space left on device writing ")
    assert str(ingested.parent) in message and "\n" not in message
    assert info.value.context["errno"] == "ENOSPC"
    _assert_nothing_lost(ingested)


# An extension registering "big": 40 equities over ten years, ~4 MB of daily bars.
BIG_BUNDLE = """
import numpy as np
import pandas as pd
from rustybt.data.bundles import register

def ingest(environ, asset_db_writer, minute_bar_writer, daily_bar_writer, adjustment_writer,
           calendar, *rest):
    days = calendar.sessions_in_range(pd.Timestamp("2010-01-04"), pd.Timestamp("2019-12-31"))
    rng = np.random.default_rng(0)
    frames = []
    for sid in range(40):
        close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, len(days))))
        bars = {"open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
                "volume": rng.integers(1, 10**6, len(days)).astype(float)}
        frames.append((sid, pd.DataFrame(bars, index=days)))
    asset_db_writer.write(equities=pd.DataFrame({
        "symbol": [f"S{sid}" for sid in range(40)], "start_date": days[0],
        "end_date": days[-1], "exchange": "NYSE"}))
    daily_bar_writer.write(frames)
    adjustment_writer.write()

register("big", ingest, calendar_name="XNYS")
"""


def _cli_ingest_big(
    tmp_path: Path, file_size_limit: int | None
) -> subprocess.CompletedProcess[str]:
    """``rustybt -e big.py ingest -b big`` in a child process, under a file-size limit if given."""
    import resource

    extension = tmp_path / "big.py"
    extension.write_text(BIG_BUNDLE)
    repo = Path(__file__).resolve().parents[4]
    env = dict(os.environ, RUSTYBT_ROOT=str(tmp_path / "root"), PYTHONPATH=str(repo))

    def limit() -> None:
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    command = [sys.executable, "-m", "rustybt", "-e", str(extension), "ingest", "-b", "big"]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, preexec_fn=limit, timeout=120
    )


@pytest.mark.skipif(sys.platform == "win32", reason="needs RLIMIT_FSIZE")
def test_a_file_size_limit_during_ingest_is_one_line_and_loses_nothing(tmp_path: Path) -> None:
    """A real EFBIG: the daily bar file outgrows the process's file-size limit (``ulimit -f``)."""
    first = _cli_ingest_big(tmp_path, None)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "root" / "data" / "big"
    good = sorted(folder.iterdir())
    limited = _cli_ingest_big(tmp_path, 1_000_000)
    assert limited.returncode == 1
    assert "Traceback" not in limited.stderr
    assert limited.stderr.strip().splitlines()[-1] == (
        f"Error: cannot ingest bundle 'big': file too large (over the file-size limit) writing "
        f"{folder}; raise the limit (ulimit -f) (or set RUSTYBT_ROOT elsewhere) and run "
        "`rustybt ingest -b big` again; nothing was changed (the newest earlier ingestion, if "
        "any, stays the newest)"
    )
    assert sorted(folder.iterdir()) == good


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_bundle_folder_is_one_line_and_loses_nothing(ingested: Path) -> None:
    ingested.parent.chmod(0o555)
    try:
        with pytest.raises(BundleWriteError, match="permission denied writing") as info:
            bundles.ingest(NAME, os.environ, SECOND)
    finally:
        ingested.parent.chmod(0o755)
    assert str(ingested.parent) in str(info.value)
    _assert_nothing_lost(ingested)


def test_a_refused_rename_is_one_line_and_loses_nothing(
    ingested: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same as the read-only folder, where root ignores permissions: os.rename refuses."""

    def refuse(src: Any, dst: Any) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    target = ingested.parent / "2025-02-01T00;00;00"
    with monkeypatch.context() as patch:
        patch.setattr(os, "rename", refuse)
        with pytest.raises(BundleWriteError) as info:
            bundles.ingest(NAME, os.environ, SECOND)
    assert str(info.value).startswith(
        f"cannot ingest bundle {NAME!r}: permission denied writing {target}; make it writable"
    )
    _assert_nothing_lost(ingested)


# --- 5. clean of an unknown bundle ------------------------------------------------


def test_clean_of_an_unknown_bundle_lists_the_known_ones(ingested: Path) -> None:
    with pytest.raises(DataNotFoundError) as info:
        bundles.clean("nosuchbundle", keep_last=1)
    message = str(info.value)
    assert message.startswith("no bundle named 'nosuchbundle'; known bundles: ")
    assert {"demo", "csvdir", NAME} <= set(message.split(": ", 1)[1].split(", "))


# --- 6. an ingestion with no assets ---------------------------------------------


def test_an_ingestion_without_assets_is_refused_so_keep_last_keeps_the_good_one(
    ingested: Path,
) -> None:
    _reregister(make_ingest(symbols=()))
    with pytest.raises(DataValidationError, match="the ingest wrote no assets, so it is refused"):
        bundles.ingest(NAME, os.environ, SECOND)
    _assert_nothing_lost(ingested)
    assert bundles.clean(NAME, keep_last=1) == set()
    assert bundles.ingestions_for_bundle(NAME) == [FIRST]
