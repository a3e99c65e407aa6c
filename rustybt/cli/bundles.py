"""Bundle verbs: ``ingest``, ``bundles``, ``clean``."""

from __future__ import annotations

import os

import click
import pandas as pd

from rustybt.cli.main import main
from rustybt.data import bundles as bundles_module


@main.command()
@click.option(
    "-b", "--bundle", default="demo", show_default=True, metavar="NAME", help="Bundle to ingest."
)
@click.option(
    "--assets-version",
    type=int,
    multiple=True,
    help="Accepted for zipline compatibility (one asset db version exists).",
)
@click.option(
    "--show-progress/--no-show-progress",
    default=True,
    show_default=True,
    help="Show progress bars.",
)
def ingest(bundle: str, assets_version: tuple[int, ...], show_progress: bool) -> None:
    """Ingest the data of a bundle."""
    path = bundles_module.ingest(
        bundle, os.environ, pd.Timestamp.now(tz="UTC"), assets_version, show_progress
    )
    click.echo(f"Ingested bundle {bundle!r} into {path}")


@main.command(name="bundles")
def bundles_command() -> None:
    """List the registered bundles and their ingestions."""
    for name in sorted(bundles_module.bundles):
        # Hidden helper bundles (names starting with '.') are not shown, as in zipline.
        if name.startswith("."):
            continue
        stamps = bundles_module.ingestions_for_bundle(name, os.environ)
        if not stamps:
            click.echo(f"{name} <no ingestions>")
        for stamp in stamps:
            click.echo(f"{name} {stamp:%Y-%m-%d %H:%M:%S.%f}")


@main.command()
@click.option("-b", "--bundle", default="demo", show_default=True, metavar="NAME")
@click.option(
    "-e",
    "--before",
    type=pd.Timestamp,
    help="Clear ingestions made strictly before this date/time.",
)
@click.option(
    "-a",
    "--after",
    type=pd.Timestamp,
    help="Clear ingestions made strictly after this date/time.",
)
@click.option("-k", "--keep-last", type=int, metavar="N", help="Keep only the last N ingestions.")
def clean(
    bundle: str, before: pd.Timestamp | None, after: pd.Timestamp | None, keep_last: int | None
) -> None:
    """Remove killed ingests' temporary folders, and ingestions chosen by -e, -a or -k.

    Alone, clean -b NAME removes only the temporary folders that killed ingests
    of NAME left behind. With -e/--before, -a/--after or -k/--keep-last (as in
    zipline) it removes those ingestions too.
    """
    if before is None and after is None and keep_last is None:
        # No ingestion is made after the end of time: this removes only the
        # folders of killed ingests, after clean's own checks (a known bundle).
        after = pd.Timestamp.max
    removed = bundles_module.clean(bundle, before, after, keep_last, os.environ)
    for path in sorted(removed):
        click.echo(f"Removed {path}")
    if not removed:
        click.echo("Nothing to remove")
