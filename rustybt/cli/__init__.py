"""The ``rustybt`` command."""

from rustybt.cli.main import main

__all__ = ["main"]
