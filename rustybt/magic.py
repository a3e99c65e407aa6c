"""The ``%%rustybt`` cell magic: run the algorithm written in a notebook cell.

``%load_ext rustybt`` registers it. The first line takes ``rustybt run``'s
flags, which are zipline's ``%%zipline`` flags (``--start``, ``--end``,
``--bundle``, ``--capital-base``, ``--data-frequency``, ``-D``,
``--benchmark-symbol``, ``--no-benchmark``, ``--trading-calendar``,
``--metrics-set``, ...); the rest of the cell is the algorithm, as a file
given to ``rustybt run -f`` would hold it::

    %%rustybt --start 2016-01-04 --end 2016-12-30 -o perf
    from rustybt.api import order, symbol

    def initialize(context):
        context.asset = symbol("AAPL")

    def handle_data(context, data):
        order(context.asset, 10)

The cell's value is the performance DataFrame. ``-o``/``--output`` says where
else it goes: a Python name (``-o perf``) binds the frame to that notebook
variable, as zipline's tutorial describes; anything else is a path the frame
is written to, checked before the run and written as ``rustybt run -o``
writes it (``-o perf.pickle``, as zipline's magic does). The run itself is
``rustybt run``'s: the magic hands the flags and the cell to that command,
so both take the same flags and give the same results. Its errors are one
line, as on the command line: IPython's UsageError, ``%%rustybt: ...``.
"""

from __future__ import annotations

import os
import shlex
from typing import Any

import click
import pandas as pd
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class

from rustybt.cli.main import one_line_warnings
from rustybt.cli.run import run as run_command
from rustybt.exceptions import RustyBTError
from rustybt.extensions import load_extensions

__all__ = ["RustybtMagics", "load_ipython_extension"]

OUTPUT_FLAGS = ("-o", "--output")


def split_output(args: list[str]) -> tuple[list[str], str | None]:
    """The magic's arguments without ``-o``/``--output``, and that option's value (last wins).

    Examples
    --------
    >>> split_output(["--start", "2016-01-04", "-o", "perf", "--output=out.csv"])
    (['--start', '2016-01-04'], 'out.csv')
    >>> split_output(["-operf"])
    ([], 'perf')
    """
    rest: list[str] = []
    output = None
    words = iter(args)
    for word in words:
        flag, equals, value = word.partition("=")
        if word in OUTPUT_FLAGS:
            output = next(words, None)
            if output is None:
                raise UsageError(f"%%rustybt: {word} needs a value (a variable name or a path)")
        elif equals and flag == "--output":
            output = value
        elif word.startswith("-o") and not word.startswith("--") and len(word) > 2:
            output = word[2:]
        else:
            rest.append(word)
    return rest, output


@magics_class
class RustybtMagics(Magics):
    """The ``%%rustybt`` magic (see the module docstring)."""

    @cell_magic
    def rustybt(self, line: str, cell: str) -> pd.DataFrame | None:
        """Run the cell's algorithm with ``rustybt run``'s flags; return the performance.

        Errors are one line, as on the command line: bad flags, and the run's
        errors (a RustyBTError: a bad argument, an unknown bundle, a syntax
        error in the cell, and an exception of the algorithm's own code, which
        the run reports with its line) raise IPython's UsageError, the error
        its ``__cause__``.
        """
        try:
            words = shlex.split(line)
        except ValueError as exc:  # an unclosed quote
            raise UsageError(f"%%rustybt: {exc}") from None
        args, output = split_output(words)
        to_variable = output is not None and output.isidentifier()
        # A path goes to the command's own -o: checked before the run, written
        # atomically. os.devnull: the command writes no file, it returns the frame.
        target = output if output is not None and not to_variable else os.devnull
        # zipline's magic runs the default extension (bundles registered there) first.
        load_extensions(default=True, extensions=(), strict=True, environ=os.environ)
        try:
            with one_line_warnings():
                result = run_command.main(
                    ["--algotext", cell, *args, "--output", target],
                    prog_name="%%rustybt",
                    standalone_mode=False,
                )
        except click.ClickException as exc:
            raise UsageError(f"%%rustybt: {exc.format_message()}") from None
        except RustyBTError as exc:
            raise UsageError(f"%%rustybt: {exc}") from exc
        if not isinstance(result, pd.DataFrame):
            # Outside standalone mode click returns an exit's code (0 after --help).
            if result:
                raise UsageError(f"%%rustybt exited with status {result}")
            return None
        if to_variable:
            assert self.shell is not None  # set by register_magics
            assert output is not None
            self.shell.user_ns[output] = result
        return result


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%%rustybt`` in ``ipython`` (what ``%load_ext rustybt`` calls)."""
    ipython.register_magics(RustybtMagics)
