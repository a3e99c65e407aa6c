"""Loading user extensions: ``$RUSTYBT_ROOT/extension.py`` and ``-e`` files/modules.

Extensions are where users register their own bundles, as in zipline. The
``-x key=value`` arguments of the ``rustybt`` command reach them as attributes
of :data:`extension_args` (``rustybt.extension_args.key``), zipline's
``zipline.extension_args``; dotted keys make nested namespaces
(``-x db.host=local`` gives ``extension_args.db.host``).
"""

from __future__ import annotations

import importlib
import os
import re
import runpy
import warnings
from collections.abc import Iterable, Mapping
from types import SimpleNamespace

from rustybt.exceptions import ConfigValidationError, ParameterValidationError
from rustybt.utils.paths import rustybt_root

_loaded: set[str] = set()

#: The ``-x key=value`` arguments of the ``rustybt`` command, as attributes.
extension_args = SimpleNamespace()

_EXTENSION_ARG = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)=(.*)$", re.DOTALL)


def set_extension_args(args: Iterable[str], root: SimpleNamespace = extension_args) -> None:
    """Bind each ``key=value`` (or ``key.sub=value``) of ``args`` on ``root`` as a string.

    Parameters
    ----------
    args
        The ``-x`` arguments.
    root
        Where to bind them (default :data:`extension_args`).

    Raises
    ------
    ParameterValidationError
        For an argument not of that form, or a key that is both a value and
        a namespace (``-x a=1 -x a.b=2``), naming the argument.

    Examples
    --------
    >>> ns = SimpleNamespace()
    >>> set_extension_args(["db.host=localhost", "mode=fast"], ns)
    >>> ns.db.host, ns.mode
    ('localhost', 'fast')
    """
    pairs: dict[str, str] = {}
    for arg in args:
        match = _EXTENSION_ARG.match(arg)
        if match is None:
            # zipline's -x is this too; files and modules to load are -e's.
            hint = "; to load an extension file or module use -e" if "=" not in arg else ""
            raise ParameterValidationError(
                f"-x {arg!r}: an extension argument is key=value or key.sub=value{hint}",
                context={"argument": arg},
            )
        pairs[match.group(1)] = match.group(2)
    # Shorter keys first, so that a namespace exists before its members are set.
    for key in sorted(pairs, key=len):
        *parents, leaf = key.split(".")
        node = root
        for name in parents:
            child = getattr(node, name, None)
            if child is None:
                child = SimpleNamespace()
                setattr(node, name, child)
            elif not isinstance(child, SimpleNamespace):
                raise ParameterValidationError(
                    f"-x {key}={pairs[key]}: {name!r} is already a value, not a namespace",
                    context={"argument": key},
                )
            node = child
        setattr(node, leaf, pairs[key])


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
