"""Test-wide fixtures: every test gets its own RUSTYBT_ROOT, never ~/.rustybt.

The cache folder (built calendars) is one per test worker, never ~/.cache/rustybt.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``$RUSTYBT_CACHE_DIR`` of this test worker's tests."""
    return tmp_path_factory.mktemp("rustybt-cache")


@pytest.fixture(autouse=True)
def rustybt_root(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A private ``$RUSTYBT_ROOT`` for the test (and the worker's cache folder)."""
    root = tmp_path / "rustybt-root"
    root.mkdir()
    monkeypatch.setenv("RUSTYBT_ROOT", str(root))
    monkeypatch.setenv("RUSTYBT_CACHE_DIR", str(cache_dir))
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
