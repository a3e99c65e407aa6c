"""The ``rustybt`` command group: options shared by every verb, and error reporting.

The group knows none of its verbs: each verb module attaches its commands to
``main`` (``@main.command()``), and :mod:`rustybt.cli` imports them all, so
the import graph runs one way, from the verbs to the group.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import click

from rustybt import __version__
from rustybt.exceptions import RustyBTError
from rustybt.extensions import load_extensions, set_extension_args


def show_warning_line(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Print a warning as one line, ``Warning: ...``, on stderr (a ``warnings.showwarning``).

    The source file and code line Python prints are the library's, of no use
    to someone at the command line. A category other than UserWarning is named.
    """
    kind = "" if category is UserWarning else f"{category.__name__}: "
    click.secho(f"Warning: {kind}{message}", fg="yellow", err=True)


@contextmanager
def one_line_warnings() -> Iterator[None]:
    """Show warnings with :func:`show_warning_line` inside the block, as before after it.

    Which warnings are shown (the filters) does not change.
    """
    previous = warnings.showwarning
    warnings.showwarning = show_warning_line
    try:
        yield
    finally:
        warnings.showwarning = previous


class _Group(click.Group):
    """Turns rustybt errors into a one-line message and exit code 1, warnings into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with one_line_warnings():
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
