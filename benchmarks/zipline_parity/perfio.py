"""Write a perf DataFrame to CSV files, the same way for both frameworks.

Imported by both runners, so it needs pandas only. Floats are written with 17
significant digits (exact round trip); Decimals as their exact text.

Files, under ``out/``:
``<case>.perf.csv``          one row per session: ``session`` + ``cases.PERF_COLUMNS``
``<case>.transactions.csv``  ``session, symbol, amount, price, commission``
``<case>.positions.csv``     end-of-session positions:
                             ``session, symbol, amount, cost_basis, last_sale_price``
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from cases import CASES, PERF_COLUMNS, load_example


def _session(index: pd.Index) -> list[str]:
    stamps = pd.DatetimeIndex(index)
    if stamps.tz is not None:
        stamps = stamps.tz_convert("UTC").tz_localize(None)
    return [s.strftime("%Y-%m-%d") for s in stamps.normalize()]


def _symbol(asset: Any) -> str:
    return str(getattr(asset, "symbol", asset))


def _num(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _records(cell: Any) -> bool:
    """A cell of dicts: zipline's list, or rustybt's column-stored Records (a Sequence)."""
    return isinstance(cell, Sequence) and not isinstance(cell, str)


def write_perf(perf: pd.DataFrame, out: Path, case: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    sessions = _session(perf.index)
    frame = pd.DataFrame({c: [_num(v) for v in perf[c]] for c in PERF_COLUMNS})
    frame.insert(0, "session", sessions)
    frame.to_csv(out / f"{case}.perf.csv", index=False)

    rows = []
    for session, txns in zip(sessions, perf["transactions"], strict=True):
        for t in txns if _records(txns) else ():
            rows.append(
                {
                    "session": session,
                    "symbol": _symbol(t["sid"]),
                    "amount": _num(t["amount"]),
                    "price": _num(t["price"]),
                    "commission": _num(t.get("commission")),
                }
            )
    pd.DataFrame(rows, columns=["session", "symbol", "amount", "price", "commission"]).to_csv(
        out / f"{case}.transactions.csv", index=False
    )

    # An algorithm that records a variable named "positions" (buy_and_hold) replaces
    # this column by its own values in both frameworks: then there is no positions file.
    rows = []
    for session, positions in zip(sessions, perf["positions"], strict=True):
        if not _records(positions):
            rows = None
            break
        for p in positions:
            rows.append(
                {
                    "session": session,
                    "symbol": _symbol(p["sid"]),
                    "amount": _num(p["amount"]),
                    "cost_basis": _num(p["cost_basis"]),
                    "last_sale_price": _num(p["last_sale_price"]),
                }
            )
    if rows is not None:
        pd.DataFrame(
            rows, columns=["session", "symbol", "amount", "cost_basis", "last_sale_price"]
        ).to_csv(out / f"{case}.positions.csv", index=False)


def run_cases(framework: str, run_one: Any, out: Path, only: list[str] | None = None) -> None:
    """Run every case through ``run_one(namespace, start, end, capital)`` and write its perf.

    A case that raises leaves ``<case>.error.txt`` (the traceback) instead of its CSVs.
    """
    for case, (filename, start, end, capital) in CASES.items():
        if only and case not in only:
            continue
        out.mkdir(parents=True, exist_ok=True)
        error_file = out / f"{case}.error.txt"
        error_file.unlink(missing_ok=True)
        began = time.perf_counter()
        try:
            namespace = load_example(filename, framework)
            perf = run_one(namespace, pd.Timestamp(start), pd.Timestamp(end), capital)
        except Exception as exc:
            error_file.write_text(traceback.format_exc())
            print(f"  {framework:8s} {case:22s} ERROR {type(exc).__name__}: {exc}", flush=True)
            continue
        took = time.perf_counter() - began
        write_perf(perf, out, case)
        print(f"  {framework:8s} {case:22s} {len(perf):5d} sessions  {took:6.1f}s", flush=True)
