"""A progress bar over the files or symbols of an ingest, shown only when asked for."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

__all__ = ["Advance", "progress_bar"]

#: Called with the symbol just done, to move the bar on.
Advance = Callable[[str], None]


@contextlib.contextmanager
def progress_bar(show: bool, total: int, description: str) -> Iterator[Advance]:
    """A rich progress bar over the files when ``show``; a no-op otherwise."""
    if not show:
        yield lambda _symbol: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[symbol]}"),
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=total, symbol="")

        def advance(symbol: str) -> None:
            progress.update(task, advance=1, symbol=symbol)

        yield advance
