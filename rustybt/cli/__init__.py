"""The ``rustybt`` command: the group of :mod:`rustybt.cli.main` with every verb attached.

Importing a verb module attaches its commands to the group; this is the one
place that imports them all, so ``rustybt`` (``rustybt.cli:main``) and
``python -m rustybt`` always have every verb.
"""

from rustybt.cli import benchmark, bundles, optimize, report, run
from rustybt.cli.main import main

__all__ = ["VERB_MODULES", "main"]

#: The modules whose commands make up ``rustybt`` (imported for that alone).
VERB_MODULES = (benchmark, bundles, optimize, report, run)
