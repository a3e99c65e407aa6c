"""The report of a run: :func:`report` builds it, :class:`Report` writes or shows it."""

from __future__ import annotations

import html
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rustybt.analytics.report.html import page
from rustybt.analytics.report.panels import (
    KeyFigure,
    Panel,
    annual_returns_panel,
    cumulative_returns_panel,
    log_growth_panel,
    monthly_returns_panel,
    returns_distribution_panel,
)
from rustybt.exceptions import ParameterValidationError

__all__ = ["Report", "report"]

#: The columns a performance frame must have to be reported on.
REQUIRED_COLUMNS = ("returns", "portfolio_value")


@dataclass(frozen=True)
class Report:
    """A run's report: key figures and panels, as one self-contained HTML page.

    Build it with :func:`report`. ``html`` is the page; :meth:`write` saves it;
    in Jupyter the report shows itself inline.
    """

    title: str
    subtitle: str
    figures: tuple[KeyFigure, ...]
    panels: tuple[Panel, ...]

    @cached_property
    def html(self) -> str:
        """The page: plotly.js inlined once, every panel's data in it; it loads nothing."""
        return page(self.title, self.subtitle, self.figures, self.panels)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` atomically (a temporary file beside it, renamed).

        Returns
        -------
        pathlib.Path
            The absolute path written (open it as ``path.as_uri()``).

        Raises
        ------
        ParameterValidationError
            When ``path`` is a folder.
        """
        target = Path(path).absolute()
        if target.is_dir():
            raise ParameterValidationError(
                f"{path}: is a folder; give a file name", context={"path": str(path)}
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
        try:
            tmp.write_text(self.html, encoding="utf-8")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def _repr_html_(self) -> str:
        """Jupyter's view: the page in a frame of its own, so its script and styles stay in it."""
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            'style="width:100%;height:900px;border:0" sandbox="allow-scripts"></iframe>'
        )


def check_performance(perf: Any) -> pd.DataFrame:
    """Refuse what is not a run's performance frame, naming what is missing."""
    if not isinstance(perf, pd.DataFrame):
        raise ParameterValidationError(
            f"perf: expected the performance DataFrame of a run, got {type(perf).__name__}",
            context={"argument": "perf"},
        )
    missing = [column for column in REQUIRED_COLUMNS if column not in perf.columns]
    if missing:
        raise ParameterValidationError(
            f"perf: no {', '.join(missing)} column; pass the performance frame of a run",
            context={"argument": "perf", "missing": missing},
        )
    if not isinstance(perf.index, pd.DatetimeIndex) or perf.empty:
        raise ParameterValidationError(
            "perf: expected one row per session indexed by the session close; "
            f"got {len(perf)} rows indexed by {type(perf.index).__name__}",
            context={"argument": "perf"},
        )
    return perf


def growth_of_one(returns: pd.Series) -> pd.Series:
    """The value of 1 invested at the start, session by session (a missing return: no change)."""
    return (1.0 + returns.fillna(0.0)).cumprod()


def benchmark_from_perf(perf: pd.DataFrame) -> pd.Series | None:
    """The benchmark's value of 1 invested, from the frame's cumulative benchmark return."""
    if "benchmark_period_return" not in perf.columns:
        return None
    cumulative = pd.to_numeric(perf["benchmark_period_return"], errors="coerce")
    if cumulative.isna().all():
        return None
    return 1.0 + cumulative.ffill().fillna(0.0)


def facts(perf: pd.DataFrame) -> tuple[KeyFigure, ...]:
    """What the run was, not how it did: its span and its start and end value."""
    dates = pd.DatetimeIndex(perf.index)
    first = perf.iloc[0]
    if {"starting_cash", "starting_value"} <= set(perf.columns):
        start_value = float(first["starting_cash"]) + float(first["starting_value"])
    else:  # the first session's value before its return
        start_value = float(first["portfolio_value"]) / (1.0 + float(first["returns"]))
    return (
        KeyFigure("sessions", "Sessions", f"{len(perf):,}"),
        KeyFigure("start", "Start", dates[0].strftime("%Y-%m-%d")),
        KeyFigure("end", "End", dates[-1].strftime("%Y-%m-%d")),
        KeyFigure("starting_value", "Starting value", f"{start_value:,.2f}"),
        KeyFigure("final_value", "Final value", f"{float(perf['portfolio_value'].iloc[-1]):,.2f}"),
    )


def report(
    perf: pd.DataFrame,
    ledger: dict[str, Any] | None = None,
    benchmark: pd.Series | None = None,
    title: str = "Backtest report",
) -> Report:
    """The report of a run: key figures and the issue's panels, ready to write or show.

    Parameters
    ----------
    perf
        The performance frame of a run (``run_algorithm``'s, or one read back
        from ``rustybt run -o``).
    ledger
        The run's ledger export (``algorithm.ledger.export()``): round trips
        then use its exact Decimal fills.
    benchmark
        Daily benchmark returns indexed by session; default: the frame's own
        benchmark.
    title
        The page's title.

    Returns
    -------
    Report
    """
    perf = check_performance(perf)
    returns = pd.to_numeric(perf["returns"], errors="coerce").astype(np.float64)
    benchmark_growth = (
        growth_of_one(benchmark.reindex(perf.index))
        if benchmark is not None
        else benchmark_from_perf(perf)
    )
    growth = growth_of_one(returns)
    panels: Sequence[Panel] = (
        cumulative_returns_panel(growth, benchmark_growth),
        log_growth_panel(growth, benchmark_growth),
        monthly_returns_panel(returns),
        annual_returns_panel(returns),
        returns_distribution_panel(returns),
    )
    dates = pd.DatetimeIndex(perf.index)
    subtitle = f"{dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d}, {len(perf):,} sessions"
    return Report(title, subtitle, facts(perf), tuple(panels))
