"""The ledger package: every name importable from ``rustybt.finance.ledger``, small modules."""

from __future__ import annotations

from pathlib import Path

import rustybt.finance.ledger as ledger_package


def test_public_names_come_from_the_package() -> None:
    from rustybt.finance.ledger import (  # noqa: F401
        CashEntry,
        CashJournal,
        Ledger,
        LedgerExport,
        MarkingPlan,
        PositionStats,
        PositionTracker,
        position_stats,
    )

    for name in ledger_package.__all__:
        assert getattr(ledger_package, name) is not None


def test_every_module_is_well_under_800_lines() -> None:
    folder = Path(ledger_package.__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in folder.glob("*.py")}
    modules = {"facade.py", "tracker.py", "marking.py", "stats.py", "journal.py", "export.py"}
    assert modules <= set(sizes)
    assert max(sizes.values()) < 700, sizes
