"""The ``rustybt`` command group: options shared by every verb, and error reporting.

The group knows none of its verbs: each verb module attaches its commands to
``main`` (``@main.command()``), and :mod:`rustybt.cli` imports them all, so
the import graph runs one way, from the verbs to the group.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from rustybt import __version__
from rustybt.exceptions import RustyBTError
from rustybt.extensions import load_extensions, set_extension_args


class _Group(click.Group):
    """Turns rustybt errors into a one-paragraph message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RustyBTError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=_Group)
@click.option(
    "-e",
    "--extension",
    multiple=True,
    help="A .py file or module to run first (e.g. one registering bundles).",
)
@click.option(
    "--strict-extensions/--non-strict-extensions",
    default=True,
    help="Fail (default) or warn when an extension fails.",
)
@click.option(
    "--default-extension/--no-default-extension",
    default=True,
    help="Run $RUSTYBT_ROOT/extension.py (default) or not.",
)
@click.option(
    "-x",
    "extension_arg",
    multiple=True,
    metavar="KEY=VALUE",
    help="An argument for extensions, read as rustybt.extension_args.KEY (as zipline's -x).",
)
@click.version_option(__version__, prog_name="rustybt")
def main(
    extension: tuple[str, ...],
    strict_extensions: bool,
    default_extension: bool,
    extension_arg: tuple[str, ...],
) -> None:
    """rustybt: zipline-compatible backtesting in pure Python."""
    # The arguments first: extensions read them while they load.
    set_extension_args(extension_arg)
    load_extensions(default_extension, extension, strict_extensions, os.environ)
