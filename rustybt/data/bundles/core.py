"""The bundle registry and its verbs: register, ingest, load, clean.

An ingestion is written into a hidden temporary folder beside the others and
renamed into place only once every writer has finished: a failed ingest leaves
nothing behind, and earlier ingestions stay loadable. An ingestion records a
content digest of each of its files in ``bundle.json``; loading checks them
(see :mod:`rustybt.data.bundles.integrity`) and reports a missing or damaged
file as :class:`~rustybt.exceptions.BundleCorruptedError`.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import shutil
import sqlite3
import warnings
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import pandas as pd
import pyarrow.parquet as pq

from rustybt.assets import AssetDBWriter, AssetFinder
from rustybt.calendars import ExchangeCalendar, get_calendar
from rustybt.data.bundles.integrity import (
    DIGESTS_KEY,
    ingest_temp_name,
    record_verified,
    recorded_digests,
    remove_stale_ingest_folders,
    verify_files,
)
from rustybt.data.storage import (
    ParquetDailyBarReader,
    ParquetDailyBarWriter,
    ParquetMinuteBarReader,
    ParquetMinuteBarWriter,
    SQLiteAdjustmentReader,
    SQLiteAdjustmentWriter,
)
from rustybt.data.storage.integrity import corrupted_file_error, database_error
from rustybt.data.storage.panel_cache import prune_panel_cache
from rustybt.exceptions import (
    BundleWriteError,
    DataNotFoundError,
    DataValidationError,
    ParameterValidationError,
)
from rustybt.utils.paths import (
    bundle_dir,
    data_root,
    ingestion_dirname,
    parse_ingestion_dirname,
    rustybt_root,
)

ASSETS_FILE = "assets.sqlite"
DAILY_FILE = "daily_equities.parquet"
MINUTE_FILE = "minute_equities.parquet"
ADJUSTMENTS_FILE = "adjustments.sqlite"
METADATA_FILE = "bundle.json"
#: The files every ingestion made with the standard writers holds, digested at ingest.
STORED_FILES = (ASSETS_FILE, DAILY_FILE, MINUTE_FILE, ADJUSTMENTS_FILE)

IngestFunction = Callable[..., Any]
F = TypeVar("F", bound=IngestFunction)


@dataclass(frozen=True)
class RegisteredBundle:
    """A registered bundle: how to ingest it and on which calendar."""

    calendar_name: str
    start_session: pd.Timestamp | None
    end_session: pd.Timestamp | None
    minutes_per_day: int
    ingest: IngestFunction
    create_writers: bool


@dataclass
class BundleData:
    """The readers of one ingestion. Close it (or use ``with``) when done.

    Attributes
    ----------
    asset_finder, equity_daily_bar_reader, equity_minute_bar_reader, adjustment_reader
        zipline's names; the minute reader is None when the bundle has no minute bars.
    calendar, path, timestamp
        The bundle's trading calendar, the ingestion's folder and its timestamp.
    """

    asset_finder: AssetFinder
    equity_daily_bar_reader: ParquetDailyBarReader
    equity_minute_bar_reader: ParquetMinuteBarReader | None
    adjustment_reader: SQLiteAdjustmentReader
    calendar: ExchangeCalendar
    path: Path
    timestamp: pd.Timestamp
    metadata: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Release the SQLite connections."""
        self.adjustment_reader.close()

    def __enter__(self) -> BundleData:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_registry: dict[str, RegisteredBundle] = {}

#: Read-only view of the registered bundles, by name.
bundles: Mapping[str, RegisteredBundle] = MappingProxyType(_registry)


def register(
    name: str,
    f: IngestFunction | None = None,
    calendar_name: str = "XNYS",
    start_session: pd.Timestamp | str | None = None,
    end_session: pd.Timestamp | str | None = None,
    minutes_per_day: int = 390,
    create_writers: bool = True,
) -> Any:
    """Register an ingest function under ``name``; usable as a decorator.

    Parameters
    ----------
    name
        The bundle's name, as given to ``rustybt ingest -b``.
    f
        ``f(environ, asset_db_writer, minute_bar_writer, daily_bar_writer,
        adjustment_writer, calendar, start_session, end_session, cache,
        show_progress, output_dir)`` (zipline's ingest signature).
    calendar_name
        The exchange_calendars name of the bundle's calendar.
    start_session, end_session
        The bundle's first and last session; default: the data's own range.
    minutes_per_day
        Minutes in a full session (390 for US equities).
    create_writers
        If false, the function gets None writers and writes ``output_dir`` itself.

    Examples
    --------
    >>> from rustybt.data import bundles
    >>> @bundles.register("my-bundle")
    ... def my_ingest(environ, asset_db_writer, minute_bar_writer, daily_bar_writer,
    ...               adjustment_writer, calendar, start_session, end_session, cache,
    ...               show_progress, output_dir):
    ...     pass
    >>> "my-bundle" in bundles.bundles
    True
    >>> bundles.unregister("my-bundle")
    """
    if f is None:

        def decorator(func: F) -> F:
            register(
                name,
                func,
                calendar_name,
                start_session,
                end_session,
                minutes_per_day,
                create_writers,
            )
            return func

        return decorator
    if name in _registry:
        warnings.warn(f"overwriting bundle {name!r}", stacklevel=2)
    _registry[name] = RegisteredBundle(
        calendar_name=calendar_name,
        start_session=_session(start_session),
        end_session=_session(end_session),
        minutes_per_day=minutes_per_day,
        ingest=f,
        create_writers=create_writers,
    )
    return f


def unregister(name: str) -> None:
    """Forget the bundle ``name``.

    Raises
    ------
    DataNotFoundError
        If no bundle has that name.
    """
    _get_bundle(name)
    del _registry[name]


def _get_bundle(name: str) -> RegisteredBundle:
    try:
        return _registry[name]
    except KeyError:
        known = ", ".join(sorted(_registry)) or "none"
        raise DataNotFoundError(
            f"no bundle registered as {name!r} (registered: {known}); register it in "
            "$RUSTYBT_ROOT/extension.py",
            context={"bundle": name},
        ) from None


def _session(value: pd.Timestamp | str | None) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.normalize()


class DiskCache(MutableMapping[str, Any]):
    """A pickle-per-key cache folder handed to ingest functions as ``cache``.

    It survives a failed ingest so that downloads need not be repeated, and is
    removed after a successful one.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _file(self, key: str) -> Path:
        return self.path / f"{key}.pickle"

    def __getitem__(self, key: str) -> Any:
        try:
            with self._file(key).open("rb") as fh:
                return pickle.load(fh)
        except FileNotFoundError:
            raise KeyError(key) from None

    def __setitem__(self, key: str, value: Any) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self._file(key).with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(value, fh)
        os.replace(tmp, self._file(key))

    def __delitem__(self, key: str) -> None:
        try:
            self._file(key).unlink()
        except FileNotFoundError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return (p.stem for p in self.path.glob("*.pickle"))

    def __len__(self) -> int:
        return sum(1 for _ in self.path.glob("*.pickle"))


def ingest(
    name: str,
    environ: Mapping[str, str] = os.environ,
    timestamp: pd.Timestamp | None = None,
    assets_versions: tuple[int, ...] = (),
    show_progress: bool = False,
) -> Path:
    """Ingest bundle ``name`` into ``$RUSTYBT_ROOT/data/<name>/<timestamp>/``.

    Parameters
    ----------
    name
        A registered bundle.
    environ
        The environment (``RUSTYBT_ROOT``, and e.g. ``CSVDIR`` for csvdir).
    timestamp
        The ingestion's timestamp; default now (UTC).
    assets_versions
        Accepted for zipline compatibility; there is one asset db version.
    show_progress
        Show progress bars while writing.

    Returns
    -------
    Path
        The new ingestion's folder.

    Raises
    ------
    DataValidationError
        If the data breaks a validation rule; nothing is written then.
    """
    bundle = _get_bundle(name)
    ts = _utc_naive(timestamp or pd.Timestamp.now(tz="UTC"))
    parent = bundle_dir(name, environ)
    target = parent / ingestion_dirname(ts)
    if target.exists():
        raise ParameterValidationError(
            f"bundle {name!r} already has an ingestion at {ts}", context={"path": str(target)}
        )
    tmp = parent / ingest_temp_name(ingestion_dirname(ts))
    # The cache lives outside the data folder: it survives a failed ingest (so
    # downloads are not repeated) without leaving anything among the ingestions.
    cache = DiskCache(rustybt_root(environ) / "cache" / "bundles" / name)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_ingest_folders(parent)
        tmp.mkdir()
        _run_ingest(name, bundle, environ, tmp, cache, show_progress)
        os.rename(tmp, target)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        write_error = _write_error(name, parent, exc)
        if write_error is not None:
            raise write_error from exc
        raise
    finally:
        # Panels the ingest's checks read from the temporary folder (gone now).
        prune_panel_cache()
    shutil.rmtree(cache.path, ignore_errors=True)
    return target


#: errno -> (what happened, what to do) for the write failures an ingest reports in one line.
_WRITE_FAILURES = {
    errno.ENOSPC: ("no space left on device", "free space there"),
    errno.EDQUOT: ("disk quota exceeded", "free space there"),
    errno.EACCES: ("permission denied", "make it writable"),
    errno.EPERM: ("operation not permitted", "make it writable"),
    errno.EROFS: ("read-only file system", "make it writable"),
    # A file-size limit (`ulimit -f`, RLIMIT_FSIZE) or a file system's largest file.
    errno.EFBIG: ("file too large (over the file-size limit)", "raise the limit (ulimit -f)"),
}
#: SQLite's names for the same failures (its errors carry no errno).
_SQLITE_WRITE_FAILURES = {
    "SQLITE_FULL": errno.ENOSPC,
    "SQLITE_READONLY": errno.EROFS,
    "SQLITE_PERM": errno.EACCES,
    "SQLITE_CANTOPEN": errno.EACCES,
}


def _write_error(name: str, parent: Path, exc: BaseException) -> BundleWriteError | None:
    """The one-line error for an ingest that could not write (None for other failures)."""
    code: int | None = None
    if isinstance(exc, OSError):
        code = exc.errno
    elif isinstance(exc, sqlite3.OperationalError):
        code = _SQLITE_WRITE_FAILURES.get(getattr(exc, "sqlite_errorname", ""))
    if code not in _WRITE_FAILURES:
        return None
    what, fix = _WRITE_FAILURES[code]
    path = getattr(exc, "filename", None) or parent
    return BundleWriteError(
        f"cannot ingest bundle {name!r}: {what} writing {path}; {fix} (or set RUSTYBT_ROOT "
        f"elsewhere) and run `rustybt ingest -b {name}` again; nothing was changed (the "
        "newest earlier ingestion, if any, stays the newest)",
        context={"bundle": name, "path": str(path), "errno": errno.errorcode.get(code, code)},
    )


def _run_ingest(
    name: str,
    bundle: RegisteredBundle,
    environ: Mapping[str, str],
    out: Path,
    cache: DiskCache,
    show_progress: bool,
) -> None:
    calendar = get_calendar(bundle.calendar_name)
    start = bundle.start_session or calendar.first_session
    end = bundle.end_session or calendar.last_session
    start = calendar.date_to_session(max(start, calendar.first_session), "next")
    end = calendar.date_to_session(min(end, calendar.last_session), "previous")
    if not bundle.create_writers:
        bundle.ingest(
            environ, None, None, None, None, calendar, start, end, cache, show_progress, str(out)
        )
        return
    # The calendar `load` will want is built (and cached on disk) now rather than
    # at the first load: when its first year is known, in a thread alongside the
    # ingest (the CSV reader and the bar writers mostly run outside the GIL).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rustybt-calendar") as pool:
        prebuilt = (
            None
            if bundle.start_session is None
            else pool.submit(_load_calendar, bundle.calendar_name, bundle.start_session)
        )
        _ingest_with_writers(
            name, bundle, environ, out, cache, show_progress, calendar, start, end, prebuilt
        )


def _ingest_with_writers(
    name: str,
    bundle: RegisteredBundle,
    environ: Mapping[str, str],
    out: Path,
    cache: DiskCache,
    show_progress: bool,
    calendar: ExchangeCalendar,
    start: pd.Timestamp,
    end: pd.Timestamp,
    prebuilt: Future[ExchangeCalendar] | None,
) -> None:
    """Run the ingest function with the standard writers and finish every file."""
    asset_writer = AssetDBWriter(out / ASSETS_FILE)
    daily_writer = ParquetDailyBarWriter(out / DAILY_FILE, calendar, start, end)
    minute_writer = ParquetMinuteBarWriter(out / MINUTE_FILE, calendar, start, end)
    adjustment_writer = SQLiteAdjustmentWriter(
        out / ADJUSTMENTS_FILE, calendar, calendar.sessions_in_range(start, end)
    )
    try:
        bundle.ingest(
            environ,
            asset_writer,
            minute_writer,
            daily_writer,
            adjustment_writer,
            calendar,
            start,
            end,
            cache,
            show_progress,
            str(out),
        )
        asset_writer.init_db()
        _refuse_no_assets(name, out / ASSETS_FILE)
        # Both bar files are encoded in threads of their own (the ingest function
        # may have started one already) while the rest is finished here.
        daily_writer.start_finalize()
        minute_writer.start_finalize()
        # The session axis of the readers: the registered range, or the data's own
        # (the sessions of the daily and the minute bars written).
        data_start, data_end = bundle.start_session, bundle.end_session
        if data_start is None or data_end is None:
            data_start, data_end = _date_range(daily_writer, minute_writer, calendar)
        first_session = bundle.start_session or data_start or start
        last_session = bundle.end_session or data_end or end
        if prebuilt is None:
            _load_calendar(bundle.calendar_name, first_session)
        else:
            prebuilt.result()
        daily_reader = ParquetDailyBarReader(
            out / DAILY_FILE, calendar, first_session, last_session
        )
        early = not adjustment_writer.reads_daily_bars
        if early:  # no need to wait for the daily file
            adjustment_writer.finalize(daily_reader)
        daily_writer.finalize()
        minute_writer.finalize()
    except BaseException:
        # A bar file's write may still be going on in its thread: let it end
        # before the caller removes the folder.
        daily_writer.wait()
        minute_writer.wait()
        raise
    if not early:
        adjustment_writer.finalize(daily_reader)
    meta = {
        "bundle": name,
        "calendar_name": bundle.calendar_name,
        "start_session": str(first_session.date()),
        "end_session": str(last_session.date()),
        "minutes_per_day": bundle.minutes_per_day,
        "has_minute_bars": pq.read_metadata(out / MINUTE_FILE).num_rows > 0,
        DIGESTS_KEY: recorded_digests(out, STORED_FILES),
    }
    (out / METADATA_FILE).write_text(json.dumps(meta, indent=2))
    record_verified(out, STORED_FILES)


def _refuse_no_assets(name: str, assets_db: Path) -> None:
    """Refuse an ingestion without assets: it would become the newest, hiding the good one."""
    with closing(sqlite3.connect(assets_db)) as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM assets").fetchone()
    if count == 0:
        raise DataValidationError(
            f"bundle {name!r}: the ingest wrote no assets, so it is refused (the previous "
            "ingestion, if any, stays the newest); check that its source holds data",
            context={"bundle": name, "file": str(assets_db)},
        )


def _load_calendar(name: str, first_session: pd.Timestamp) -> ExchangeCalendar:
    """The calendar of a loaded bundle: it starts in the bundle's first year.

    Building a calendar costs time in proportion to its span, so not from 1990.
    """
    return get_calendar(name, start=pd.Timestamp(year=first_session.year, month=1, day=1))


def _date_range(
    daily: ParquetDailyBarWriter, minute: ParquetMinuteBarWriter, calendar: ExchangeCalendar
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The first and last session of the bars written, daily or minute (None, None if none).

    A minute bar belongs to the session the calendar puts its minute in (on
    24/7 a session's last minute is midnight of the next day).
    """
    spans: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    daily_span = daily.time_range()
    if daily_span is not None:  # tz-naive session labels
        spans.append((daily_span[0].normalize(), daily_span[1].normalize()))
    minute_span = minute.time_range()
    if minute_span is not None:  # UTC minutes
        first, last = (pd.Timestamp(calendar.minute_to_session(m)) for m in minute_span)
        spans.append((first, last))
    if not spans:
        return None, None
    return min(s for s, _ in spans), max(e for _, e in spans)


def _utc_naive(ts: pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def ingestions_for_bundle(
    bundle: str, environ: Mapping[str, str] = os.environ
) -> list[pd.Timestamp]:
    """Timestamps of the ingestions of ``bundle``, newest first."""
    parent = bundle_dir(bundle, environ)
    if not parent.is_dir():
        return []
    stamps = [parse_ingestion_dirname(p.name) for p in parent.iterdir() if p.is_dir()]
    return sorted((s for s in stamps if s is not None), reverse=True)


def _ingestion_path(
    name: str, environ: Mapping[str, str], timestamp: pd.Timestamp | None
) -> tuple[Path, pd.Timestamp]:
    stamps = ingestions_for_bundle(name, environ)
    if timestamp is not None:
        limit = _utc_naive(pd.Timestamp(timestamp))
        stamps = [s for s in stamps if s <= limit]
    if not stamps:
        when = f" on or before {timestamp}" if timestamp is not None else ""
        raise DataNotFoundError(
            f"no ingestion of bundle {name!r}{when} under {bundle_dir(name, environ)}; "
            f"run `rustybt ingest -b {name}`",
            context={"bundle": name, "timestamp": str(timestamp)},
        )
    return bundle_dir(name, environ) / ingestion_dirname(stamps[0]), stamps[0]


def load(
    name: str, environ: Mapping[str, str] = os.environ, timestamp: pd.Timestamp | None = None
) -> BundleData:
    """Open the newest ingestion of ``name`` made at or before ``timestamp``.

    Raises
    ------
    DataNotFoundError
        If the bundle has no such ingestion.
    BundleCorruptedError
        If a file of the ingestion is missing, cannot be parsed, or differs
        from the digest recorded at ingest; the message names the file and
        the command that re-ingests the bundle.
    """
    path, stamp = _ingestion_path(name, environ, timestamp)
    remedy = f"re-ingest: rustybt ingest -b {name}"
    meta, start, end = _read_metadata(path / METADATA_FILE, name, remedy)
    _check_files(path, meta, name, remedy)
    calendar = _load_calendar(meta["calendar_name"], start)
    minute_reader = (
        ParquetMinuteBarReader(path / MINUTE_FILE, calendar, start, end, remedy=remedy)
        if meta.get("has_minute_bars")
        else None
    )
    try:
        finder = AssetFinder(path / ASSETS_FILE)
    except sqlite3.DatabaseError as exc:
        raise database_error(path / ASSETS_FILE, exc, remedy, bundle=name) from exc
    return BundleData(
        asset_finder=finder,
        equity_daily_bar_reader=ParquetDailyBarReader(
            path / DAILY_FILE, calendar, start, end, remedy=remedy
        ),
        equity_minute_bar_reader=minute_reader,
        adjustment_reader=SQLiteAdjustmentReader(path / ADJUSTMENTS_FILE, remedy=remedy),
        calendar=calendar,
        path=path,
        timestamp=stamp,
        metadata=meta,
    )


def _read_metadata(
    file: Path, name: str, remedy: str
) -> tuple[dict[str, Any], pd.Timestamp, pd.Timestamp]:
    """``bundle.json`` of an ingestion, and its first and last session."""
    try:
        meta = json.loads(file.read_text())
        start, end = pd.Timestamp(meta["start_session"]), pd.Timestamp(meta["end_session"])
        if not isinstance(meta["calendar_name"], str):
            raise TypeError("calendar_name is not a string")
    except FileNotFoundError:
        raise corrupted_file_error(file, "missing", remedy, bundle=name) from None
    except KeyError as exc:
        raise corrupted_file_error(file, f"lacks the key {exc}", remedy, bundle=name) from exc
    except (ValueError, TypeError) as exc:  # JSONDecodeError and bad dates are ValueErrors
        why = f"not a valid bundle description ({exc})"
        raise corrupted_file_error(file, why, remedy, bundle=name) from exc
    return meta, start, end


def _check_files(path: Path, meta: dict[str, Any], name: str, remedy: str) -> None:
    """Check the ingestion's files against their digests (ingestions of older versions
    recorded none: for those, that each file exists)."""
    digests = meta.get(DIGESTS_KEY)
    if digests is not None:
        if not isinstance(digests, dict) or not all(isinstance(d, dict) for d in digests.values()):
            why = f"its {DIGESTS_KEY!r} entry is not a table of file digests"
            raise corrupted_file_error(path / METADATA_FILE, why, remedy, bundle=name)
        verify_files(path, digests, remedy, name)
        return
    for file_name in STORED_FILES:
        if not (path / file_name).exists():
            raise corrupted_file_error(path / file_name, "missing", remedy, bundle=name)


def clean(
    name: str,
    before: pd.Timestamp | None = None,
    after: pd.Timestamp | None = None,
    keep_last: int | None = None,
    environ: Mapping[str, str] = os.environ,
) -> set[Path]:
    """Remove ingestions of ``name``; returns the removed folders.

    Parameters
    ----------
    before
        Remove ingestions made strictly before this time.
    after
        Remove ingestions made strictly after this time.
    keep_last
        Keep only the newest ``keep_last`` ingestions (not with before/after).

    Temporary folders left by killed ingests of ``name`` are removed too
    (and returned with the rest), and so are the cached panels of bar files
    that no longer exist (:func:`~rustybt.data.storage.panel_cache.prune_panel_cache`).

    Raises
    ------
    ParameterValidationError
        If nothing or both kinds of criteria are given, or keep_last < 0.
    DataNotFoundError
        If ``name`` is neither registered nor has ingestions on disk; the
        message lists the known bundles.
    """
    _check_known(name, environ)
    if keep_last is not None and (before is not None or after is not None):
        raise ParameterValidationError(
            "clean takes either keep_last or before/after, not both",
            context={"bundle": name},
        )
    if keep_last is None and before is None and after is None:
        raise ParameterValidationError(
            "clean needs before, after or keep_last", context={"bundle": name}
        )
    if keep_last is not None and keep_last < 0:
        raise ParameterValidationError(
            f"keep_last must be >= 0, got {keep_last}", context={"keep_last": keep_last}
        )
    stamps = ingestions_for_bundle(name, environ)  # newest first
    if keep_last is not None:
        doomed = stamps[keep_last:]
    else:
        lo = None if before is None else _utc_naive(pd.Timestamp(before))
        hi = None if after is None else _utc_naive(pd.Timestamp(after))
        doomed = [s for s in stamps if (lo is not None and s < lo) or (hi is not None and s > hi)]
    removed = remove_stale_ingest_folders(bundle_dir(name, environ))
    for stamp in doomed:
        path = bundle_dir(name, environ) / ingestion_dirname(stamp)
        shutil.rmtree(path)
        removed.add(path)
    prune_panel_cache()  # the removed ingestions' panels
    return removed


def _check_known(name: str, environ: Mapping[str, str]) -> None:
    """Refuse a bundle name that is neither registered nor on disk, listing the known ones."""
    if name in _registry or bundle_dir(name, environ).is_dir():
        return
    on_disk = data_root(environ)
    stored = {p.name for p in on_disk.iterdir() if p.is_dir()} if on_disk.is_dir() else set()
    known = sorted(n for n in set(_registry) | stored if not n.startswith("."))
    raise DataNotFoundError(
        f"no bundle named {name!r}; known bundles: {', '.join(known) or 'none'}",
        context={"bundle": name, "known": known},
    )
