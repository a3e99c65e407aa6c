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


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A RUSTYBT_ROOT holding one ingestion of the demo bundle (made once per worker)."""
    from rustybt.data import bundles

    root = tmp_path_factory.mktemp("demo-root")
    bundles.ingest("demo", {"RUSTYBT_ROOT": str(root)})
    return root


@pytest.fixture
def demo(demo_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point RUSTYBT_ROOT at the shared demo ingestion for this test."""
    monkeypatch.setenv("RUSTYBT_ROOT", str(demo_root))
    return demo_root
