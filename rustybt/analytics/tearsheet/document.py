"""The report of a run: :func:`report` builds it, :class:`Report` writes or shows it."""

from __future__ import annotations

import html
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from rustybt.analytics.drawdowns import drawdown_periods
from rustybt.analytics.exposure import (
    exposures,
    long_short_contribution,
    pnl_by_asset,
    top_positions,
)
from rustybt.analytics.relative import rolling_beta
from rustybt.analytics.statistics import (
    ROLLING_WINDOW,
    drawdown_series,
    rolling_sharpe,
    rolling_volatility,
)
from rustybt.analytics.summary import benchmark_returns_of, performance_summary, returns_of
from rustybt.analytics.tearsheet.header import SUMMARY_LABELS, figure_text
from rustybt.analytics.tearsheet.html import page
from rustybt.analytics.tearsheet.panels import (
    KeyFigure,
    Panel,
    annual_returns_panel,
    cumulative_returns_panel,
    log_growth_panel,
    monthly_returns_panel,
    returns_distribution_panel,
    rolling_panel,
    underwater_panel,
)
from rustybt.analytics.tearsheet.searches import (
    checked_search,
    is_search,
    is_walk_forward,
    search_figures,
    search_panels,
    search_subtitle,
    search_title,
    stitched_run,
)
from rustybt.analytics.tearsheet.trade_panels import (
    excursions_panel,
    exposure_panel,
    long_short_panel,
    pnl_by_asset_panel,
    round_trips_panel,
    top_positions_panel,
)
from rustybt.analytics.trades import round_trip_table, trade_statistics
from rustybt.exceptions import ParameterValidationError

if TYPE_CHECKING:
    from rustybt.optimization.study import OptimizationResult
    from rustybt.optimization.walkforward import WalkForwardResult

__all__ = ["Report", "report"]

#: The columns a performance frame must have to be reported on.
REQUIRED_COLUMNS = ("returns", "portfolio_value")
#: The columns the holdings and trades panels read.
HOLDINGS_COLUMNS = ("positions", "transactions")


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


def starting_value(perf: pd.DataFrame) -> float:
    """The portfolio's value before the first session."""
    first = perf.iloc[0]
    if {"starting_cash", "starting_value"} <= set(perf.columns):
        return float(first["starting_cash"]) + float(first["starting_value"])
    return float(first["portfolio_value"]) / (1.0 + float(first["returns"]))


def subtitle_of(perf: pd.DataFrame) -> str:
    """What the run was: its span and its first and last value."""
    dates = pd.DatetimeIndex(perf.index)
    final = float(perf["portfolio_value"].iloc[-1])
    return (
        f"{dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d} · {len(perf):,} sessions · "
        f"value {starting_value(perf):,.2f} → {final:,.2f}"
    )


def header_figures(summary: dict[str, float]) -> tuple[KeyFigure, ...]:
    """The header: every figure of :func:`performance_summary`, in its order."""
    return tuple(
        KeyFigure(key, SUMMARY_LABELS.get(key, key.replace("_", " ")), figure_text(key, value))
        for key, value in summary.items()
    )


def returns_panels(
    returns: pd.Series, benchmark: pd.Series | None, summary: dict[str, float]
) -> list[Panel]:
    """The panels of the daily returns: growth, drawdowns, calendar, distribution, rolling."""
    growth = growth_of_one(returns)
    benchmark_growth = None if benchmark is None else growth_of_one(benchmark)
    var_lines = {
        "VaR 5%": summary["value_at_risk"],
        "CVaR 5%": summary["conditional_value_at_risk"],
    }
    rolling_beta_series = None if benchmark is None else rolling_beta(returns, benchmark)
    return [
        cumulative_returns_panel(growth, benchmark_growth),
        log_growth_panel(growth, benchmark_growth),
        underwater_panel(drawdown_series(returns), drawdown_periods(returns, top=5)),
        monthly_returns_panel(returns),
        annual_returns_panel(returns),
        returns_distribution_panel(returns, var_lines),
        rolling_panel(
            rolling_sharpe(returns),
            rolling_volatility(returns),
            rolling_beta_series,
            ROLLING_WINDOW,
        ),
    ]


def holds_records(column: pd.Series) -> bool:
    """Whether each cell of ``column`` is a list of records (an algorithm's ``record()`` of
    the same name puts its own values there instead)."""
    return bool(
        column.map(lambda cell: isinstance(cell, Sequence) and not isinstance(cell, str)).all()
    )


def holdings_panels(
    perf: pd.DataFrame, ledger: Mapping[str, Any] | None, runs: pd.Series | None = None
) -> list[Panel]:
    """The panels of what the run held and traded; a note instead without those columns.

    ``runs`` labels the rows of a frame that strings several runs end to end
    (a walk-forward's test runs): each run's trades and P&L are measured on its
    own rows, since no position carries from one run into the next.
    """
    unusable = [
        column
        for column in HOLDINGS_COLUMNS
        if column not in perf.columns or not holds_records(perf[column])
    ]
    if unusable:
        note = (
            "Exposure, positions, round trips and P&L by asset need the frame's "
            f"{' and '.join(HOLDINGS_COLUMNS)} columns, per session a list of records; "
            f"this frame's {', '.join(unusable)} "
            + ("is missing or holds" if len(unusable) == 1 else "are missing or hold")
            + " other values (an algorithm's record() of that name replaces the column)."
        )
        return [Panel("holdings", "Holdings and trades", note=note)]
    if runs is None:
        trips = round_trip_table(perf, ledger)
        contribution = long_short_contribution(perf)
        pnl = pnl_by_asset(perf, ledger)
    else:
        parts = [part for _, part in perf.groupby(runs, sort=False)]
        trips = pd.concat([round_trip_table(part) for part in parts], ignore_index=True)
        contribution = pd.concat([long_short_contribution(part) for part in parts])
        summed = pd.concat([pnl_by_asset(part) for part in parts]).groupby(level=0, sort=False)
        pnl = summed.sum().sort_values(ascending=False, kind="stable").rename("pnl")
    return [
        exposure_panel(exposures(perf)),
        top_positions_panel(top_positions(perf, top=10)),
        long_short_panel(contribution),
        pnl_by_asset_panel(pnl.rename_axis("asset")),
        round_trips_panel(trips, trade_statistics(trips)),
        excursions_panel(trips),
    ]


def run_panels(
    perf: pd.DataFrame,
    ledger: Mapping[str, Any] | None,
    benchmark: pd.Series | None,
    runs: pd.Series | None = None,
) -> tuple[tuple[KeyFigure, ...], list[Panel]]:
    """A run's header figures and panels (``runs`` as :func:`holdings_panels` takes it)."""
    returns = returns_of(perf)
    summary = performance_summary(perf, benchmark)
    panels = returns_panels(returns, benchmark, summary) + holdings_panels(perf, ledger, runs)
    return header_figures(summary), panels


def search_section(
    result: OptimizationResult | WalkForwardResult, described: bool = True
) -> list[Panel]:
    """A search's panels, its key figures first in a panel of their own; ``described``:
    with what was searched under them (when the page's subtitle is a run's)."""
    note = search_subtitle(result) if described else ""
    summary = Panel("search", search_title(result), note=note, figures=search_figures(result))
    return [summary, *search_panels(result)]


def report(
    perf: pd.DataFrame | OptimizationResult | WalkForwardResult,
    ledger: Mapping[str, Any] | None = None,
    benchmark: pd.Series | None = None,
    title: str | None = None,
    *,
    optimization: OptimizationResult | WalkForwardResult | None = None,
) -> Report:
    """The report of a run, of a parameter search or of both: key figures and panels.

    For a run the header shows
    :func:`~rustybt.analytics.summary.performance_summary`; the panels draw
    cumulative returns against the benchmark (linear and log), the underwater
    curve with the deepest drawdowns, monthly and annual returns, the
    distribution of daily returns with its VaR and CVaR, rolling Sharpe,
    volatility and beta, exposure and leverage, the top positions, long and
    short contribution, P&L by asset, the round trips (a sortable table with
    the trade statistics) and their MAE/MFE.

    An optimization's pages draw the objective against the parameters (a line
    for one, a heatmap for two, parallel coordinates for more), the Pareto
    front of a multi-objective search and a sortable table of the trials. A
    walk-forward's draw the stitched out-of-sample equity with the windows'
    boundaries, each window's in-sample and out-of-sample figures, the
    windows' table, the parameters chosen by window and their stability; its
    report alone also has the run panels of the out-of-sample record (each
    window's trades measured within it).

    Parameters
    ----------
    perf
        The performance frame of a run (``run_algorithm``'s, or one read back
        from ``rustybt run -o``); or, for a report of a search alone, the
        result of :func:`rustybt.optimization.optimize` or
        :func:`rustybt.optimization.walk_forward`.
    ledger
        The run's ledger export (``algorithm.ledger.export()``): round trips
        and P&L by asset then use its exact fills, commissions and dividends.
    benchmark
        Daily benchmark returns indexed by session; default: the frame's own
        (:func:`~rustybt.analytics.summary.benchmark_returns_of`).
    title
        The page's title; default "Backtest report", "Parameter search" or
        "Walk-forward analysis".
    optimization
        An optimization's or walk-forward's result whose pages follow the run's.

    Returns
    -------
    Report

    Raises
    ------
    ParameterValidationError
        When ``perf`` is neither a run's performance frame nor a search's
        result, or ``optimization`` is not a search's result.

    Examples
    --------
    >>> import numpy as np
    >>> days = pd.bdate_range("2024-01-01 21:00", periods=60, tz="UTC")
    >>> growth = 1.001 ** np.arange(1, 61)
    >>> perf = pd.DataFrame({"returns": 0.001, "portfolio_value": 1e5 * growth}, index=days)
    >>> page = report(perf, title="steady").html
    >>> page.count('id="plot-'), "<title>steady</title>" in page
    (7, True)
    """
    search = None if optimization is None else checked_search(optimization, "optimization")
    if is_search(perf):
        if search is not None:
            raise ParameterValidationError(
                "perf: a search's result; pass a run's performance frame with optimization=, "
                "or the result alone",
                context={"argument": "perf"},
            )
        return search_report(perf, title)  # type: ignore[arg-type]
    perf = check_performance(perf)
    if benchmark is None:
        benchmark = benchmark_returns_of(perf)
    elif isinstance(benchmark, pd.Series):
        benchmark = benchmark.reindex(perf.index)
    figures, panels = run_panels(perf, ledger, benchmark)
    if search is not None:
        panels += search_section(search)
    return Report(title or "Backtest report", subtitle_of(perf), figures, tuple(panels))


def search_report(result: OptimizationResult | WalkForwardResult, title: str | None) -> Report:
    """The report of a search alone: a walk-forward's has the run panels of its record."""
    title = title or search_title(result)
    if not is_walk_forward(result):
        return Report(
            title, search_subtitle(result), search_figures(result), tuple(search_panels(result))
        )
    run = stitched_run(result)
    figures, panels = run_panels(run.perf, None, run.benchmark, run.runs)
    return Report(
        title,
        search_subtitle(result),
        figures,
        tuple(search_section(result, described=False) + panels),
    )
