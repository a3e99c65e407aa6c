"""Where rustybt keeps its files: ``$RUSTYBT_ROOT`` (default ``~/.rustybt``).

Files any root can rebuild at will (built trading calendars) go to the user's
cache folder instead, shared by every root: see :func:`cache_root`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd


def rustybt_root(environ: Mapping[str, str] | None = None) -> Path:
    """The root folder: ``$RUSTYBT_ROOT`` or ``~/.rustybt``."""
    env = os.environ if environ is None else environ
    root = env.get("RUSTYBT_ROOT")
    return Path(root).expanduser() if root else Path.home() / ".rustybt"


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """The cache folder shared by every root: files rustybt can always rebuild.

    ``$RUSTYBT_CACHE_DIR``, else ``$XDG_CACHE_HOME/rustybt``, else
    ``~/.cache/rustybt``. Deleting it at any time only costs rebuilding.
    """
    env = os.environ if environ is None else environ
    explicit = env.get("RUSTYBT_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "rustybt"


def data_root(environ: Mapping[str, str] | None = None) -> Path:
    """The folder holding every bundle's ingestions."""
    return rustybt_root(environ) / "data"


def bundle_dir(name: str, environ: Mapping[str, str] | None = None) -> Path:
    """The folder holding the ingestions of bundle ``name``."""
    return data_root(environ) / name


def ingestion_dirname(timestamp: pd.Timestamp) -> str:
    """Folder name of an ingestion: its ISO timestamp with ``;`` for ``:`` (zipline's form)."""
    return timestamp.isoformat().replace(":", ";")


def parse_ingestion_dirname(name: str) -> pd.Timestamp | None:
    """The timestamp an ingestion folder is named after, or None if it is not one."""
    if name.startswith("."):
        return None
    try:
        return pd.Timestamp(name.replace(";", ":"))
    except ValueError:
        return None
