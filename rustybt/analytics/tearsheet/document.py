"""The report of a run: :func:`report` builds it, :class:`Report` writes or shows it."""

from __future__ import annotations

import html
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

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


def holdings_panels(perf: pd.DataFrame, ledger: Mapping[str, Any] | None) -> list[Panel]:
    """The panels of what the run held and traded; a note instead without those columns."""
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
    trips = round_trip_table(perf, ledger)
    return [
        exposure_panel(exposures(perf)),
        top_positions_panel(top_positions(perf, top=10)),
        long_short_panel(long_short_contribution(perf)),
        pnl_by_asset_panel(pnl_by_asset(perf, ledger)),
        round_trips_panel(trips, trade_statistics(trips)),
        excursions_panel(trips),
    ]


def report(
    perf: pd.DataFrame,
    ledger: Mapping[str, Any] | None = None,
    benchmark: pd.Series | None = None,
    title: str = "Backtest report",
) -> Report:
    """The report of a run: its key figures and panels, ready to write or show.

    The header shows :func:`~rustybt.analytics.summary.performance_summary`;
    the panels draw cumulative returns against the benchmark (linear and
    log), the underwater curve with the deepest drawdowns, monthly and annual
    returns, the distribution of daily returns with its VaR and CVaR, rolling
    Sharpe, volatility and beta, exposure and leverage, the top positions,
    long and short contribution, P&L by asset, the round trips (a sortable
    table with the trade statistics) and their MAE/MFE.

    Parameters
    ----------
    perf
        The performance frame of a run (``run_algorithm``'s, or one read back
        from ``rustybt run -o``).
    ledger
        The run's ledger export (``algorithm.ledger.export()``): round trips
        and P&L by asset then use its exact fills, commissions and dividends.
    benchmark
        Daily benchmark returns indexed by session; default: the frame's own
        (:func:`~rustybt.analytics.summary.benchmark_returns_of`).
    title
        The page's title.

    Returns
    -------
    Report

    Raises
    ------
    ParameterValidationError
        When ``perf`` is not a run's performance frame.

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
    perf = check_performance(perf)
    returns = returns_of(perf)
    if benchmark is None:
        benchmark = benchmark_returns_of(perf)
    elif isinstance(benchmark, pd.Series):
        benchmark = benchmark.reindex(perf.index)
    summary = performance_summary(perf, benchmark)
    panels = returns_panels(returns, benchmark, summary) + holdings_panels(perf, ledger)
    return Report(title, subtitle_of(perf), header_figures(summary), tuple(panels))
