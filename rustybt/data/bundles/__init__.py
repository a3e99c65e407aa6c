"""Data bundles: zipline's bundle API on Parquet + SQLite storage.

Examples
--------
>>> from rustybt.data import bundles
>>> sorted(name for name in bundles.bundles if name in {"csvdir", "demo"})
['csvdir', 'demo']
"""

from rustybt.data.bundles.core import (
    BundleData,
    RegisteredBundle,
    bundles,
    clean,
    ingest,
    ingestions_for_bundle,
    load,
    register,
    unregister,
)
from rustybt.data.bundles.csvdir import csvdir_equities
from rustybt.data.bundles.demo import DEMO_END, DEMO_START, demo_ingest

__all__ = [
    "BundleData",
    "RegisteredBundle",
    "bundles",
    "clean",
    "csvdir_equities",
    "ingest",
    "ingestions_for_bundle",
    "load",
    "register",
    "unregister",
]

register("demo", demo_ingest, calendar_name="XNYS", start_session=DEMO_START, end_session=DEMO_END)
register("csvdir", csvdir_equities(), calendar_name="XNYS")
