"""The report's panels: each a titled plotly figure (or a table) built from a run's series.

A panel function takes the series it draws, already computed by the analytics
functions that own them (:mod:`rustybt.analytics.statistics`,
:mod:`rustybt.analytics.trades`, :mod:`rustybt.analytics.exposure`), and only
shapes them for the eye: it thins long traces (:mod:`.decimate`), scales
fractions to percent and lays out axes. Nothing here computes a statistic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rustybt.analytics.report.decimate import decimate

__all__ = [
    "Panel",
    "Table",
    "annual_returns_panel",
    "calendar_returns",
    "cumulative_returns_panel",
    "log_growth_panel",
    "monthly_returns_panel",
    "returns_distribution_panel",
]

STRATEGY_COLOR = "#1f5fa8"
BENCHMARK_COLOR = "#8c8c8c"
GAIN_COLOR = "#2e8b57"
LOSS_COLOR = "#c0392b"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Table:
    """A table a reader can sort by clicking a column's title.

    ``cells`` are the texts shown, row by row; ``keys`` what each cell sorts by
    (a number, or the text).
    """

    columns: tuple[str, ...]
    cells: list[list[str]]
    keys: list[list[float | str]]


@dataclass(frozen=True)
class Panel:
    """One section of the report: a title, a figure and/or a table, and a note under them.

    ``key`` names the section in the page (its element ids are ``panel-KEY``
    and ``plot-KEY``).
    """

    key: str
    title: str
    figure: go.Figure | None = None
    table: Table | None = None
    note: str = ""
    wide: bool = field(default=True)


def session_dates(index: pd.Index) -> list[str]:
    """The x values of a trace: each session's date (the close's UTC date), as ``YYYY-MM-DD``."""
    return list(pd.DatetimeIndex(index).strftime("%Y-%m-%d"))


def figure_layout(figure: go.Figure, *, height: int = 340, **layout: object) -> go.Figure:
    """The look every panel shares: white, compact margins, the legend above the plot."""
    shared: dict[str, object] = {
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "hovermode": "x unified",
    }
    figure.update_layout(shared | layout)
    return figure


def line(series: pd.Series, name: str, color: str, **trace: object) -> go.Scatter:
    """A time series as a line, thinned to what a screen shows."""
    thin = decimate(series)
    return go.Scatter(
        x=session_dates(thin.index),
        y=thin.to_numpy(dtype=np.float64),
        name=name,
        mode="lines",
        line={"color": color, "width": 1.5},
        **trace,
    )


def cumulative_returns_panel(growth: pd.Series, benchmark_growth: pd.Series | None) -> Panel:
    """Cumulative returns of the strategy and the benchmark, linear, in percent.

    Parameters
    ----------
    growth, benchmark_growth
        The value of 1 invested at the start, per session (1.0 = no change).
    """
    figure = go.Figure([line((growth - 1) * 100, "strategy", STRATEGY_COLOR)])
    if benchmark_growth is not None:
        figure.add_trace(line((benchmark_growth - 1) * 100, "benchmark", BENCHMARK_COLOR))
    figure_layout(figure, yaxis={"title": "cumulative return (%)", "ticksuffix": "%"})
    return Panel("cumulative", "Cumulative returns", figure)


def log_growth_panel(growth: pd.Series, benchmark_growth: pd.Series | None) -> Panel:
    """The value of 1 invested, strategy and benchmark, on a log scale.

    Equal percentage moves take equal heights, so a decade's early years are as
    readable as its last.
    """
    figure = go.Figure([line(growth, "strategy", STRATEGY_COLOR)])
    if benchmark_growth is not None:
        figure.add_trace(line(benchmark_growth, "benchmark", BENCHMARK_COLOR))
    figure_layout(figure, yaxis={"title": "value of 1 invested", "type": "log"})
    return Panel("cumulative-log", "Cumulative returns, log scale", figure)


def calendar_returns(returns: pd.Series, period: str) -> pd.Series:
    """Daily returns compounded over each calendar ``"month"`` or ``"year"``.

    Returns
    -------
    pandas.Series
        Indexed by ``(year, month)`` for months, by year for years; a period with
        no return that is a number is left out.

    Examples
    --------
    >>> days = pd.to_datetime(["2020-01-30", "2020-01-31", "2020-02-03"], utc=True)
    >>> calendar_returns(pd.Series([0.10, 0.10, -0.50], index=days), "month").round(4)
    2020  1    0.21
          2   -0.50
    dtype: float64
    """
    index = pd.DatetimeIndex(returns.index)
    keys = [index.year] if period == "year" else [index.year, index.month]
    compounded = (1.0 + returns).groupby(keys).prod(min_count=1) - 1.0
    return compounded.dropna().rename(None)


def monthly_returns_panel(returns: pd.Series) -> Panel:
    """A heatmap of each month's return, years down, months across."""
    monthly = calendar_returns(returns, "month") * 100
    grid = monthly.unstack().reindex(columns=range(1, 13))
    years = [str(year) for year in grid.index]
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(dtype=np.float64),
            x=list(MONTHS),
            y=years,
            colorscale=[[0.0, LOSS_COLOR], [0.5, "#ffffff"], [1.0, GAIN_COLOR]],
            zmid=0.0,
            texttemplate="%{z:.1f}",
            hovertemplate="%{y} %{x}: %{z:.2f}%<extra></extra>",
            colorbar={"ticksuffix": "%"},
        )
    )
    figure_layout(
        figure,
        height=max(220, 40 + 24 * len(years)),
        yaxis={"autorange": "reversed", "type": "category"},
        hovermode="closest",
    )
    return Panel("monthly", "Monthly returns (%)", figure, wide=False)


def annual_returns_panel(returns: pd.Series) -> Panel:
    """A bar per calendar year: the year's compounded return."""
    annual = calendar_returns(returns, "year") * 100
    figure = go.Figure(
        go.Bar(
            x=[str(year) for year in annual.index],
            y=annual.to_numpy(dtype=np.float64),
            marker_color=[GAIN_COLOR if value >= 0 else LOSS_COLOR for value in annual],
            hovertemplate="%{x}: %{y:.2f}%<extra></extra>",
            name="annual return",
        )
    )
    figure_layout(
        figure,
        yaxis={"title": "return (%)", "ticksuffix": "%"},
        xaxis={"type": "category"},
        hovermode="closest",
    )
    return Panel("annual", "Annual returns", figure, wide=False)


def returns_distribution_panel(
    returns: pd.Series, markers: dict[str, float] | None = None, bins: int = 60
) -> Panel:
    """A histogram of daily returns, with vertical lines at ``markers`` (label: a fraction).

    The returns are binned here (``bins`` bins), so the file holds the counts,
    not every day's return.
    """
    values = returns.to_numpy(dtype=np.float64)
    values = values[np.isfinite(values)] * 100
    counts, edges = np.histogram(values, bins=bins) if len(values) else (np.array([]), [0.0])
    centers = (np.asarray(edges[:-1]) + np.asarray(edges[1:])) / 2 if len(counts) else []
    figure = go.Figure(
        go.Bar(
            x=np.asarray(centers, dtype=np.float64),
            y=counts,
            width=float(edges[1] - edges[0]) if len(counts) else None,
            marker_color=STRATEGY_COLOR,
            name="sessions",
            hovertemplate="%{x:.2f}%: %{y} sessions<extra></extra>",
        )
    )
    for number, (label, fraction) in enumerate((markers or {}).items()):
        if not np.isfinite(fraction):
            continue
        figure.add_vline(
            x=fraction * 100,
            line={"color": LOSS_COLOR, "dash": "dash" if number % 2 else "solid"},
            annotation={"text": f"{label} {fraction:.2%}", "yshift": -14 * number},
        )
    figure_layout(
        figure,
        xaxis={"title": "daily return (%)", "ticksuffix": "%"},
        yaxis={"title": "sessions"},
        hovermode="closest",
        bargap=0.02,
    )
    return Panel("distribution", "Distribution of daily returns", figure)
