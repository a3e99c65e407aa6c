"""The ledger tests' bundle: written once per test module, with a DataPortal over it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rustybt.data.portal import DataPortal
from tests.unit.data._bundle_kit import Bundle, write_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundle]:
    b = write_bundle(tmp_path_factory.mktemp("ledger-bundle"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def portal(bundle: Bundle) -> DataPortal:
    return bundle.portal()
