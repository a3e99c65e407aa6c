"""Loading user extensions: ``$RUSTYBT_ROOT/extension.py`` and ``-e`` files/modules.

Extensions are where users register their own bundles, as in zipline.
"""

from __future__ import annotations

import importlib
import os
import runpy
import warnings
from collections.abc import Iterable, Mapping

from rustybt.exceptions import ConfigValidationError
from rustybt.utils.paths import rustybt_root

_loaded: set[str] = set()


def load_extensions(
    default: bool = True,
    extensions: Iterable[str] = (),
    strict: bool = True,
    environ: Mapping[str, str] | None = None,
    reload: bool = False,
) -> None:
    """Run the default extension file and any extra ones.

    Parameters
    ----------
    default
        Also run ``$RUSTYBT_ROOT/extension.py`` if it exists.
    extensions
        Paths of ``.py`` files or dotted module names.
    strict
        Raise if an extension fails; otherwise warn and go on.
    environ
        The environment to read ``RUSTYBT_ROOT`` from.
    reload
        Run extensions again even if they already ran in this process.
    """
    env = os.environ if environ is None else environ
    todo = list(extensions)
    if default:
        default_file = rustybt_root(env) / "extension.py"
        if default_file.exists():
            todo.insert(0, str(default_file))
    for ext in todo:
        if ext in _loaded and not reload:
            continue
        try:
            if ext.endswith(".py"):
                runpy.run_path(ext, run_name="<extension>")
            else:
                importlib.import_module(ext)
        except Exception as exc:
            if strict:
                raise ConfigValidationError(
                    f"extension {ext} failed: {type(exc).__name__}: {exc}",
                    context={"extension": ext},
                ) from exc
            warnings.warn(f"extension {ext} failed: {exc}", stacklevel=2)
            continue
        _loaded.add(ext)
