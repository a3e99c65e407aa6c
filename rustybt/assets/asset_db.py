"""The SQLite asset database: one file, three tables.

``exchanges`` (exchange, canonical_name, country_code), ``assets`` (one row a
sid, its current symbol and life span) and ``symbol_mappings`` (which sid held
which symbol when). Dates are ISO ``YYYY-MM-DD`` strings.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd

from rustybt.assets.asset_types import exchange_info_for
from rustybt.exceptions import AssetValidationError, ConfigValidationError

ASSET_DB_VERSION = 1

_SCHEMA = """
CREATE TABLE version_info (version INTEGER NOT NULL);
CREATE TABLE exchanges (
    exchange TEXT PRIMARY KEY,
    canonical_name TEXT NOT NULL,
    country_code TEXT NOT NULL
);
CREATE TABLE assets (
    sid INTEGER PRIMARY KEY,
    asset_type TEXT NOT NULL,
    symbol TEXT NOT NULL,
    asset_name TEXT NOT NULL,
    exchange TEXT NOT NULL REFERENCES exchanges(exchange),
    start_date TEXT,
    end_date TEXT,
    first_traded TEXT,
    auto_close_date TEXT,
    tick_size REAL NOT NULL,
    multiplier REAL NOT NULL
);
CREATE TABLE symbol_mappings (
    sid INTEGER NOT NULL REFERENCES assets(sid),
    symbol TEXT NOT NULL,
    start_date TEXT,
    end_date TEXT
);
CREATE INDEX symbol_mappings_symbol ON symbol_mappings(symbol);
"""

_EQUITY_DEFAULTS: dict[str, Any] = {
    "asset_name": "",
    "start_date": None,
    "end_date": None,
    "first_traded": None,
    "auto_close_date": None,
    "exchange": "UNKNOWN",
    "tick_size": 0.01,
    "multiplier": 1.0,
}


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    ts = value if isinstance(value, pd.Timestamp) else pd.Timestamp(value)
    if pd.isna(ts):
        return None
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    if 1000 <= ts.year <= 9999:
        # What strftime gives, without its cost (it is called per date of every asset).
        return f"{ts.year}-{ts.month:02d}-{ts.day:02d}"
    return ts.strftime("%Y-%m-%d")


class AssetDBWriter:
    """Writes assets in zipline's ``AssetDBWriter.write`` frame formats.

    Parameters
    ----------
    path
        The SQLite file to create.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._written = False

    def write(
        self,
        equities: pd.DataFrame | None = None,
        futures: pd.DataFrame | None = None,
        exchanges: pd.DataFrame | None = None,
        root_symbols: pd.DataFrame | None = None,
        equity_supplementary_mappings: pd.DataFrame | None = None,
        chunk_size: int | None = None,
    ) -> None:
        """Write the asset database.

        Parameters
        ----------
        equities
            Indexed by sid (or with a ``sid`` column); columns ``symbol``,
            ``asset_name``, ``start_date``, ``end_date``, ``first_traded``,
            ``auto_close_date``, ``exchange``. Several rows for one sid give
            its symbol history (each row's dates bound that symbol's use).
        futures, root_symbols
            Not stored yet: passing non-empty frames raises.
        exchanges
            Columns ``exchange``, ``canonical_name``, ``country_code``.
        equity_supplementary_mappings, chunk_size
            Accepted for zipline compatibility; unused.
        """
        has_futures = futures is not None and len(futures) > 0
        if has_futures or (root_symbols is not None and len(root_symbols) > 0):
            raise ConfigValidationError(
                "this asset database stores equities only; futures are not supported yet",
                context={"path": str(self.path)},
            )
        rows = _equity_rows(equities)
        exchange_rows = _exchange_rows(exchanges, {r["exchange"] for r in rows})
        conn = sqlite3.connect(self.path)
        try:
            # The writer makes a new file (its first write creates the schema),
            # which an ingest renames into place with its folder once complete:
            # syncing each statement to disk (every CREATE commits) only costs time.
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA journal_mode = MEMORY")
            if not self._written:
                conn.executescript(_SCHEMA)
                conn.execute("INSERT INTO version_info VALUES (?)", (ASSET_DB_VERSION,))
            conn.executemany(
                "INSERT OR REPLACE INTO exchanges VALUES (?, ?, ?)",
                [(e.name, e.canonical_name, e.country_code) for e in exchange_rows],
            )
            _insert_equities(conn, rows)
            conn.commit()
        finally:
            conn.close()
        self._written = True

    def init_db(self) -> None:
        """Create an empty database if nothing was written."""
        if not self._written:
            self.write()


def _equity_rows(equities: pd.DataFrame | None) -> list[dict[str, Any]]:
    if equities is None or len(equities) == 0:
        return []
    frame = equities.copy()
    if "sid" not in frame.columns:
        frame = frame.rename_axis("sid").reset_index()
    if "symbol" not in frame.columns:
        raise AssetValidationError(
            "equities frame has no 'symbol' column", context={"columns": list(frame.columns)}
        )
    rows = []
    for i, raw in enumerate(frame.to_dict("records")):
        given: dict[str, Any] = {str(k): v for k, v in raw.items() if not _missing(v)}
        row = {**_EQUITY_DEFAULTS, **given}
        try:
            row["sid"] = int(row["sid"])
        except (TypeError, ValueError) as exc:
            raise AssetValidationError(
                f"equities row {i}: sid {raw.get('sid')!r} is not an integer",
                context={"row": i, "sid": raw.get("sid")},
            ) from exc
        row["symbol"] = str(row["symbol"]).upper()
        rows.append(row)
    return rows


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _exchange_rows(exchanges: pd.DataFrame | None, used: set[str]) -> list[Any]:
    infos = {}
    if exchanges is not None and len(exchanges):
        for rec in exchanges.to_dict("records"):
            name = str(rec["exchange"])
            infos[name] = exchange_info_for(
                name, rec.get("canonical_name") or None, rec.get("country_code") or "??"
            )
    for name in used - set(infos):
        infos[name] = exchange_info_for(name)
    return list(infos.values())


def _insert_equities(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
    by_sid: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_sid.setdefault(row["sid"], []).append(row)
    for sid, history in by_sid.items():
        if len(history) > 1:
            history.sort(key=lambda r: pd.Timestamp(r["start_date"] or "1900-01-01"))
        latest = history[-1]
        starts = [r["start_date"] for r in history if r["start_date"] is not None]
        ends = [r["end_date"] for r in history if r["end_date"] is not None]
        start = min(pd.Timestamp(s) for s in starts) if starts else None
        end = max(pd.Timestamp(e) for e in ends) if ends else None
        auto_close = latest["auto_close_date"]
        if auto_close is None and end is not None:
            # zipline's default: positions close the day after the last bar.
            auto_close = end + pd.Timedelta(days=1)
        conn.execute(
            "INSERT OR REPLACE INTO assets VALUES (?, 'equity', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sid,
                latest["symbol"],
                str(latest["asset_name"]),
                str(latest["exchange"]),
                _iso(start),
                _iso(end),
                _iso(latest["first_traded"]),
                _iso(auto_close),
                float(latest["tick_size"]),
                float(latest["multiplier"]),
            ),
        )
        conn.execute("DELETE FROM symbol_mappings WHERE sid = ?", (sid,))
        conn.executemany(
            "INSERT INTO symbol_mappings VALUES (?, ?, ?, ?)",
            [(sid, r["symbol"], _iso(r["start_date"]), _iso(r["end_date"])) for r in history],
        )
