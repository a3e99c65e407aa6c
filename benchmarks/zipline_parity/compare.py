"""Compare the daily portfolio_value of rustybt and zipline-reloaded, case by case.

    python compare.py OUT [--tolerance 1e-6] [--strict] [--markdown FILE]

Reads the runners' CSVs from ``OUT/<dataset>/<framework>/`` and prints one
table per comparison. Per algorithm: sessions; the largest absolute and
relative difference of portfolio_value over all sessions (relative:
|rustybt - zipline| / |zipline|); the session of the largest relative one; how
many fills differ (session, symbol, shares, or price beyond 1e-9 relative); and
the largest relative difference left once the cent rounding is taken out.

Cent rounding: rustybt's ledger rounds each fill's cash (price x shares) and
each commission to its cash places (2 by default, half-even); zipline keeps
floats. When the fills are the same, the sum of those roundings, recomputed
from rustybt's fills (commission = 0.001 x |shares|, the default PerShare), is
the whole expected difference; "net of rounding" subtracts it.

Comparisons:
  nodiv / rustybt          no dividends, rustybt's default precision: passes when
                           the raw difference is within the tolerance, or, unless
                           --strict, when the same fills leave nothing but cent
                           rounding (result "PASS*")                       [gate]
  nodiv / rustybt-cash10   no dividends, rustybt with 10 cash places: raw
                           difference within the tolerance                  [gate]
  div   / rustybt          with dividends (informational). zipline's csvdir leaves
                           pay_date NaT, so zipline never pays the cash; rustybt
                           pays it on the ex date. Shown raw, and with zipline's
                           portfolio_value plus the dividends its positions were
                           owed ("zipline + owed"), rebuilt from zipline's fills
                           and the csvdir's dividend and split columns. That
                           makes the two comparable only while the extra cash
                           does not change what the algorithm orders (olmar's
                           order_target_percent sizes do change).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import CASES

PER_SHARE = Decimal("0.001")


@dataclass
class Row:
    case: str
    sessions: int = 0
    max_abs: float = np.nan
    max_rel: float = np.nan
    worst_session: str = ""
    txn_diffs: int = 0
    net_rel: float = np.nan
    result: str = "FAIL"
    notes: tuple[str, ...] = ()


# --- reading -----------------------------------------------------------------


def _perf(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"session": str}).set_index("session")


def _transactions(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"session": str, "symbol": str, "price": str})
    frame["price_text"] = frame["price"]
    frame["price"] = frame["price"].astype(np.float64)
    return frame.sort_values(["session", "symbol", "amount"], kind="stable").reset_index(drop=True)


def _error(directory: Path, case: str) -> str:
    path = directory / f"{case}.error.txt"
    if not path.exists():
        return ""
    lines = path.read_text().strip().splitlines()
    return lines[-1] if lines else "error"


# --- fills ---------------------------------------------------------------------


def _fills(rows: pd.DataFrame, price: str) -> str:
    if rows.empty:
        return "no fill"
    return ", ".join(f"{a:+g} @ {p!r}" for a, p in zip(rows["amount"], rows[price], strict=True))


def transaction_diffs(zdir: Path, rdir: Path, case: str) -> tuple[int, str]:
    """How many fills differ, and a description of the first one that does."""
    z = _transactions(zdir / f"{case}.transactions.csv")
    r = _transactions(rdir / f"{case}.transactions.csv")
    merged = z.merge(
        r, on=["session", "symbol", "amount"], how="outer", suffixes=("_z", "_r"), indicator=True
    )
    both = merged["_merge"] == "both"
    price_off = ~np.isclose(merged["price_z"], merged["price_r"], rtol=1e-9, atol=0.0)
    bad = merged[~both | (both & price_off)]
    if bad.empty:
        return 0, ""
    b = bad.iloc[0]
    if b["_merge"] == "both":
        return len(bad), (
            f"first fill that differs: {b.session} {b.symbol} {b.amount:+g} shares, "
            f"zipline at {b.price_z!r}, rustybt at {b.price_r!r}"
        )
    same = bad[(bad.session == b.session) & (bad.symbol == b.symbol)]
    return len(bad), (
        f"first fill that differs: {b.session} {b.symbol}: zipline "
        f"{_fills(same[same['_merge'] == 'left_only'], 'price_z')}, rustybt "
        f"{_fills(same[same['_merge'] == 'right_only'], 'price_r')}"
    )


def cent_rounding(rdir: Path, case: str, sessions: pd.Index, places: int) -> np.ndarray:
    """Cumulative cash rustybt's rounding adds, by session, recomputed from its fills."""
    fills = _transactions(rdir / f"{case}.transactions.csv")
    quantum = Decimal(1).scaleb(-places)
    per_session: dict[str, Decimal] = {}
    for session, amount, price in zip(
        fills["session"], fills["amount"], fills["price_text"], strict=True
    ):
        shares = Decimal(int(amount))
        flow = -(Decimal(price) * shares)
        commission = abs(shares) * PER_SHARE
        err = (flow.quantize(quantum, ROUND_HALF_EVEN) - flow) - (
            commission.quantize(quantum, ROUND_HALF_EVEN) - commission
        )
        per_session[session] = per_session.get(session, Decimal(0)) + err
    step = np.array([float(per_session.get(s, 0)) for s in sessions])
    return np.cumsum(step)


def owed_dividends(zdir: Path, csvdir: Path, case: str, sessions: pd.Index) -> np.ndarray:
    """Cumulative dividend cash zipline's positions were owed, by session (paid on the ex date).

    Holdings are rebuilt from zipline's fills: a session's dividend is paid on
    the shares held at the previous session's close, after that session's split.
    """
    fills = _transactions(zdir / f"{case}.transactions.csv")
    owed = pd.Series(0.0, index=sessions)
    for symbol in sorted(set(fills["symbol"])):
        bars = pd.read_csv(csvdir / "daily" / f"{symbol}.csv", dtype={"date": str})
        bars = bars.set_index("date")
        traded = fills[fills["symbol"] == symbol].groupby("session")["amount"].sum()
        held = 0.0
        for session in sessions:
            if session in bars.index:
                split = float(bars.at[session, "split"])
                if split != 1.0:
                    held = np.floor(held * split)
                owed[session] += held * float(bars.at[session, "dividend"])
            held += float(traded.get(session, 0.0))
    return owed.cumsum().to_numpy()


# --- one case ------------------------------------------------------------------


def compare_case(
    zdir: Path,
    rdir: Path,
    case: str,
    tolerance: float,
    *,
    places: int,
    allow_rounding: bool,
    owed_from: Path | None = None,
) -> Row:
    errors = [
        f"{name} raised: {_error(d, case)}"
        for name, d in (("zipline", zdir), ("rustybt", rdir))
        if _error(d, case)
    ]
    if errors:
        return Row(case, notes=tuple(errors))
    z = _perf(zdir / f"{case}.perf.csv")
    r = _perf(rdir / f"{case}.perf.csv")
    if list(z.index) != list(r.index):
        odd = sorted(set(z.index) ^ set(r.index))
        return Row(case, len(z), notes=(f"the sessions differ, e.g. {odd[:5]}",))
    zv = z["portfolio_value"].to_numpy(dtype=np.float64)
    if owed_from is not None:
        zv = zv + owed_dividends(zdir, owed_from, case, z.index)
    rv = r["portfolio_value"].to_numpy(dtype=np.float64)
    diff = rv - zv
    rel = np.abs(diff) / np.abs(zv)
    net_rel = np.abs(diff - cent_rounding(rdir, case, z.index, places)) / np.abs(zv)
    worst = int(np.argmax(rel))
    n_txn, first_txn = transaction_diffs(zdir, rdir, case)
    notes = []
    off = np.flatnonzero(rel > tolerance)
    if off.size:
        s = int(off[0])
        notes.append(
            f"first session off by more than {tolerance:g}: {z.index[s]}, "
            f"zipline {float(zv[s])!r}, rustybt {float(rv[s])!r}"
        )
    if first_txn:
        notes.append(first_txn)
    if rel.max() <= tolerance:
        result = "PASS"
    elif allow_rounding and n_txn == 0 and net_rel.max() <= tolerance:
        result = "PASS*"
        notes.append(
            f"the difference is rustybt's rounding of cash to {places} places "
            f"(net of it: {net_rel.max():.1e})"
        )
    else:
        result = "FAIL"
    return Row(
        case,
        len(z),
        float(np.abs(diff).max()),
        float(rel.max()),
        str(z.index[worst]),
        n_txn,
        float(net_rel.max()),
        result,
        tuple(notes),
    )


def table(title: str, rows: list[Row], tolerance: float) -> str:
    lines = [
        f"### {title}",
        "",
        "| algorithm | sessions | max abs diff ($) | max rel diff | at session | fills differing "
        f"| max rel diff net of cent rounding | result at {tolerance:g} |",
        "|---|---:|---:|---:|---|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.case} | {r.sessions} | {r.max_abs:.4g} | {r.max_rel:.2e} | {r.worst_session} "
            f"| {r.txn_diffs} | {r.net_rel:.2e} | {r.result} |"
        )
    notes = [f"- {r.case}: {note}" for r in rows for note in r.notes]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    parser.add_argument("--strict", action="store_true", help="no PASS* at default precision")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    out, tol = args.out, args.tolerance
    nodiv, div = out / "nodiv", out / "div"
    comparisons = [
        # title, zipline dir, rustybt dir, cash places, PASS* allowed, owed-from csvdir, gate
        (
            "No dividends: rustybt default precision (cash to cents) vs zipline [gate]",
            nodiv / "zipline", nodiv / "rustybt", 2, not args.strict, None, True,
        ),
        (
            "No dividends: rustybt cash_places=10 vs zipline [gate]",
            nodiv / "zipline", nodiv / "rustybt-cash10", 10, False, None, True,
        ),
        (
            "With dividends, raw (informational: zipline never pays csvdir dividends, "
            "rustybt pays them on the ex date)",
            div / "zipline", div / "rustybt", 2, False, None, False,
        ),
        (
            "With dividends: rustybt vs zipline + the dividends it was owed (informational)",
            div / "zipline", div / "rustybt", 2, True, div / "csvdir", False,
        ),
    ]  # fmt: skip
    failed = False
    blocks = []
    for title, zdir, rdir, places, allow, owed_from, gate in comparisons:
        if not (zdir.is_dir() and rdir.is_dir()):
            if gate:
                print(f"missing results for: {title}")
                failed = True
            continue
        rows = [
            compare_case(
                zdir, rdir, case, tol, places=places, allow_rounding=allow, owed_from=owed_from
            )
            for case in CASES
        ]
        block = table(title, rows, tol)
        print(block)
        blocks.append(block)
        if gate and not all(r.result.startswith("PASS") for r in rows):
            failed = True
    if args.markdown:
        args.markdown.write_text("\n".join(blocks))
    print("RESULT:", "FAIL" if failed else "PASS", "(gated comparisons)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
