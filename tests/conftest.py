"""Test-wide fixtures: every test gets its own RUSTYBT_ROOT, never ~/.rustybt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def rustybt_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private ``$RUSTYBT_ROOT`` for the test."""
    root = tmp_path / "rustybt-root"
    root.mkdir()
    monkeypatch.setenv("RUSTYBT_ROOT", str(root))
    yield root
