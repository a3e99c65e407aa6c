"""Compare two pipeline outputs cell by cell: zipline-reloaded's (the reference) and rustybt's.

    python compare.py ZIPLINE.npz RUSTYBT.npz [--rtol 1e-9] [--atol 1e-12]

Rows are matched by (date, symbol). A float cell passes when both are NaN, or
both are equal (infinities included), or ``|r - z| <= rtol * max(|r|, |z|)``,
or ``|r - z| <= atol`` (a floor for results that are zero up to rounding, such
as a demeaned value: relative error means nothing there). Boolean and integer
cells (filters, classifiers' labels) must be equal. A row one side has and the
other lacks counts against every column (the screen or the asset lifetimes
differ); a column one side lacks fails.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

RTOL = 1e-9
ATOL = 1e-12
SHOWN_DIFFERENCES = 5  # first differing cells kept per column, for the report

# Cells where zipline-reloaded 3.2.1 is wrong, not rustybt: its non-ordinal
# ranks (method "dense", "min", "max", "average") call scipy.stats.rankdata row
# by row (np.apply_along_axis) after setting the masked-out and missing cells
# to NaN. SciPy >= 1.10 then returns NaN for the whole row, so every asset's
# rank is NaN on any day when one of the engine's assets is missing or masked;
# and when the first row of the block had no NaN, apply_along_axis stores the
# later all-NaN rows in an int64 array: those ranks come out as -2**63
# (-9.2e18). Such cells (zipline NaN or -2**63, rustybt a number) are counted
# apart as "zipline defect" and do not fail the column; every other cell of
# the column is compared as usual.
INT64_MIN_AS_FLOAT = float(np.iinfo(np.int64).min)
ZIPLINE_DEFECTS = {
    "rank_close_dense": "zipline's non-ordinal rank is NaN for the whole day (run_pipeline), "
    "or -2**63 (a backtest's later days in a chunk), when one asset is missing: scipy >= "
    "1.10 rankdata propagates NaN, and np.apply_along_axis casts it into an int64 array",
}


@dataclass
class ColumnResult:
    column: str
    kind: str
    cells: int = 0
    max_rel: float = 0.0
    nan_mismatches: int = 0
    value_mismatches: int = 0
    zipline_defect_cells: int = 0
    missing: str = ""
    differences: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and self.nan_mismatches == 0 and self.value_mismatches == 0


@dataclass
class FrameComparison:
    rows_zipline: int
    rows_rustybt: int
    rows_only_zipline: int
    rows_only_rustybt: int
    columns: list[ColumnResult]
    rows_only_examples: list[str]

    @property
    def cells(self) -> int:
        return sum(c.cells for c in self.columns)

    @property
    def ok(self) -> bool:
        rows_ok = self.rows_only_zipline == 0 and self.rows_only_rustybt == 0
        return rows_ok and all(c.ok for c in self.columns)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["cells"] = self.cells
        out["ok"] = self.ok
        return out


def _examples(index: pd.Index, where: np.ndarray, z: np.ndarray, r: np.ndarray) -> list[dict]:
    rows = np.flatnonzero(where)[:SHOWN_DIFFERENCES]
    return [
        {"date": index[i][0], "symbol": index[i][1], "zipline": z[i].item(), "rustybt": r[i].item()}
        for i in rows
    ]


def compare_column(name: str, z: np.ndarray, r: np.ndarray, index: pd.Index) -> ColumnResult:
    """Compare one column over matched rows (``z`` zipline's values, ``r`` rustybt's)."""
    result = ColumnResult(name, z.dtype.kind, cells=z.size)
    if z.dtype.kind != "f" and r.dtype.kind != "f":
        differ = z != r
        result.value_mismatches = int(differ.sum())
        result.differences = _examples(index, differ, z, r)
        return result
    z = z.astype(np.float64)
    r = r.astype(np.float64)
    z_nan, r_nan = np.isnan(z), np.isnan(r)
    nan_differ = z_nan != r_nan
    if name in ZIPLINE_DEFECTS:
        defect = (z_nan | (z == INT64_MIN_AS_FLOAT)) & ~r_nan
        result.zipline_defect_cells = int(defect.sum())
        nan_differ &= ~defect
    else:
        defect = np.zeros_like(z_nan)
    both = ~z_nan & ~r_nan & ~defect
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(z - r)
        scale = np.maximum(np.abs(z), np.abs(r))
        equal = z == r
        rel = np.where(equal, 0.0, gap / np.where(scale > 0, scale, 1.0))
        close = equal | (gap <= RTOL * scale) | (gap <= ATOL)
    finite = both & np.isfinite(rel)
    result.max_rel = float(rel[finite].max()) if finite.any() else 0.0
    if (both & ~np.isfinite(rel)).any():  # an infinity on one side only
        result.max_rel = float("inf")
    value_differ = both & ~close
    result.nan_mismatches = int(nan_differ.sum())
    result.value_mismatches = int(value_differ.sum())
    result.differences = _examples(index, nan_differ | value_differ, z, r)
    return result


def compare_frames(zipline: pd.DataFrame, rustybt: pd.DataFrame) -> FrameComparison:
    """Every cell of zipline's frame against rustybt's, column by column."""
    common = zipline.index.intersection(rustybt.index)
    only_z = zipline.index.difference(rustybt.index)
    only_r = rustybt.index.difference(zipline.index)
    z_rows, r_rows = zipline.loc[common], rustybt.loc[common]
    columns = []
    for name in zipline.columns:
        if name not in rustybt.columns:
            columns.append(ColumnResult(name, zipline[name].dtype.kind, missing="not in rustybt"))
            continue
        columns.append(
            compare_column(name, z_rows[name].to_numpy(), r_rows[name].to_numpy(), common)
        )
    for name in rustybt.columns.difference(zipline.columns):
        columns.append(ColumnResult(name, rustybt[name].dtype.kind, missing="not in zipline"))
    examples = [f"zipline only: {d} {s}" for d, s in list(only_z)[:SHOWN_DIFFERENCES]]
    examples += [f"rustybt only: {d} {s}" for d, s in list(only_r)[:SHOWN_DIFFERENCES]]
    return FrameComparison(len(zipline), len(rustybt), len(only_z), len(only_r), columns, examples)


def _rel(value: float) -> str:
    return "0" if value == 0 else f"{value:.1e}"


def comparison_markdown(title: str, comparison: FrameComparison) -> list[str]:
    """A section: the rows, then one table line per column."""
    c = comparison
    lines = [
        f"### {title}: {'PASS' if c.ok else 'FAIL'}",
        "",
        f"{c.cells:,} cells compared; rows: zipline {c.rows_zipline:,}, rustybt "
        f"{c.rows_rustybt:,}, only in zipline {c.rows_only_zipline:,}, only in rustybt "
        f"{c.rows_only_rustybt:,}.",
        "",
        "| term | cells | max rel diff | NaN mismatches | value mismatches | result |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for col in c.columns:
        if col.missing:
            lines.append(f"| `{col.column}` | | | | | FAIL ({col.missing}) |")
            continue
        rel = _rel(col.max_rel) if col.kind == "f" or col.max_rel else "exact"
        verdict = "ok" if col.ok else "FAIL"
        if col.zipline_defect_cells:
            verdict += f" ({col.zipline_defect_cells:,} zipline-defect cells, see below)"
        lines.append(
            f"| `{col.column}` | {col.cells:,} | {rel} | {col.nan_mismatches:,} | "
            f"{col.value_mismatches:,} | {verdict} |"
        )
    failing = [col for col in c.columns if col.differences]
    if failing or c.rows_only_examples:
        lines += ["", "First differing cells (date, symbol: zipline vs rustybt):", ""]
        lines += [f"- {row}" for row in c.rows_only_examples]
        for col in failing:
            cells = "; ".join(
                f"{d['date']} {d['symbol']}: {d['zipline']!r} vs {d['rustybt']!r}"
                for d in col.differences
            )
            lines.append(f"- `{col.column}`: {cells}")
    defects = [col for col in c.columns if col.zipline_defect_cells]
    if defects:
        lines += [""]
        lines += [
            f"- zipline defect in `{col.column}`: {ZIPLINE_DEFECTS[col.column]}" for col in defects
        ]
    return lines


def zipline_only_markdown(title: str, zipline: pd.DataFrame, why: str) -> list[str]:
    """A section for a run where rustybt's side did not run: zipline's cells per term."""
    lines = [
        f"### {title}: rustybt not compared ({why})",
        "",
        f"zipline-reloaded: {len(zipline):,} rows x {len(zipline.columns)} terms.",
        "",
        "| term | cells | NaN cells in zipline |",
        "|---|---:|---:|",
    ]
    for name in zipline.columns:
        values = zipline[name].to_numpy()
        nans = int(np.isnan(values).sum()) if values.dtype.kind == "f" else 0
        lines.append(f"| `{name}` | {values.size:,} | {nans:,} |")
    return lines


def main() -> None:
    from frameio import load_frame

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zipline", type=Path)
    parser.add_argument("rustybt", type=Path)
    args = parser.parse_args()
    comparison = compare_frames(load_frame(args.zipline), load_frame(args.rustybt))
    print("\n".join(comparison_markdown(f"{args.rustybt} vs {args.zipline}", comparison)))
    raise SystemExit(0 if comparison.ok else 1)


if __name__ == "__main__":
    main()
