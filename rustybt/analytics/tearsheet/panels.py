"""The report's panels: each a titled plotly figure (or a table) built from a run's series.

A panel function takes the series it draws, already computed by the analytics
functions that own them (:mod:`rustybt.analytics.statistics`,
:mod:`rustybt.analytics.trades`, :mod:`rustybt.analytics.exposure`), and only
shapes them for the eye: it thins long traces (:mod:`.decimate`), scales
fractions to percent and lays out axes. Nothing here computes a statistic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rustybt.analytics.tearsheet.decimate import decimate

__all__ = [
    "KeyFigure",
    "Panel",
    "Table",
    "annual_returns_panel",
    "calendar_returns",
    "cumulative_returns_panel",
    "log_growth_panel",
    "monthly_returns_panel",
    "new_figure",
    "returns_distribution_panel",
]

STRATEGY_COLOR = "#1f5fa8"
BENCHMARK_COLOR = "#8c8c8c"
GAIN_COLOR = "#2e8b57"
LOSS_COLOR = "#c0392b"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class KeyFigure:
    """One labelled figure: its key (the page's ``data-key``), label and text as shown."""

    key: str
    label: str
    text: str


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
    """One section of the report: a title, key figures, a plot, a table, and a note under them.

    ``key`` names the section in the page (its element ids are ``panel-KEY``
    and ``plot-KEY``). A narrow panel takes half the page's width.
    """

    key: str
    title: str
    figure: go.Figure | None = None
    table: Table | None = None
    note: str = ""
    wide: bool = True
    figures: tuple[KeyFigure, ...] = field(default=())


def session_dates(index: pd.Index) -> np.ndarray:
    """The x values of a trace: each session's date (the close's UTC date), as ``YYYY-MM-DD``.

    An array, not a list: plotly checks an array at once, a list item by item.
    """
    return np.asarray(pd.DatetimeIndex(index).strftime("%Y-%m-%d"), dtype=object)


def new_figure(data: object = None) -> go.Figure:
    """A figure without a template of its own: the page gives every figure one, once.

    (A template per figure would be copied into each: slower, and a larger file.)
    """
    return go.Figure(data, layout={"template": "none"})


def figure_layout(figure: go.Figure, *, height: int = 340, **layout: object) -> go.Figure:
    """The look every panel shares: compact margins, the legend above the plot."""
    shared: dict[str, object] = {
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
    figure = new_figure([line((growth - 1) * 100, "strategy", STRATEGY_COLOR)])
    if benchmark_growth is not None:
        figure.add_trace(line((benchmark_growth - 1) * 100, "benchmark", BENCHMARK_COLOR))
    figure_layout(figure, yaxis={"title": "cumulative return (%)", "ticksuffix": "%"})
    return Panel("cumulative", "Cumulative returns", figure)


def log_growth_panel(growth: pd.Series, benchmark_growth: pd.Series | None) -> Panel:
    """The value of 1 invested, strategy and benchmark, on a log scale.

    Equal percentage moves take equal heights, so a decade's early years are as
    readable as its last.
    """
    figure = new_figure([line(growth, "strategy", STRATEGY_COLOR)])
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
    figure = new_figure(
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
        height=max(340, 40 + 24 * len(years)),
        yaxis={"autorange": "reversed", "type": "category"},
        hovermode="closest",
    )
    return Panel("monthly", "Monthly returns (%)", figure, wide=False)


def annual_returns_panel(returns: pd.Series) -> Panel:
    """A bar per calendar year: the year's compounded return."""
    annual = calendar_returns(returns, "year") * 100
    figure = new_figure(
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
    figure = new_figure(
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
            annotation={"text": f"{label} {fraction:.2%}"},
            # The lines sit close together: one label to the right, the next to the left.
            annotation_position="top right" if number % 2 == 0 else "top left",
        )
    figure_layout(
        figure,
        xaxis={"title": "daily return (%)", "ticksuffix": "%"},
        yaxis={"title": "sessions"},
        hovermode="closest",
        bargap=0.02,
    )
    return Panel("distribution", "Distribution of daily returns", figure)


def date_text(value: Any) -> str:
    """A table cell's date (``YYYY-MM-DD``), empty for a missing one."""
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def date_key(value: Any) -> str:
    """What a date cell sorts by: its ISO text (a missing date, last)."""
    return "9999" if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


@dataclass(frozen=True)
class PeriodRow:
    """One row of :func:`rustybt.analytics.drawdowns.drawdown_periods`."""

    peak: Any
    trough: Any
    recovery: Any
    drawdown: float
    duration: float


def underwater_panel(underwater: pd.Series, periods: pd.DataFrame) -> Panel:
    """The fall from the running peak each session, the deepest periods shaded and listed.

    Parameters
    ----------
    underwater
        :func:`rustybt.analytics.statistics.drawdown_series` of the run (<= 0).
    periods
        :func:`rustybt.analytics.drawdowns.drawdown_periods` of the run, deepest first.
    """
    figure = new_figure(
        [line(underwater * 100, "drawdown", LOSS_COLOR, fill="tozeroy", hoverinfo="x+y")]
    )
    last = date_text(underwater.index[-1])
    cells: list[list[str]] = []
    keys: list[list[float | str]] = []
    for rank, row in enumerate(periods.to_dict("records"), start=1):
        period = PeriodRow(**{str(k): v for k, v in row.items()})
        end = date_text(period.recovery) or last
        figure.add_vrect(
            x0=date_text(period.peak),
            x1=end,
            fillcolor=LOSS_COLOR,
            opacity=0.10,
            line_width=0,
            annotation={"text": f"#{rank}", "font": {"size": 10}},
            annotation_position="top left",
        )
        cells.append(
            [
                f"#{rank}",
                date_text(period.peak),
                date_text(period.trough),
                date_text(period.recovery) or "not recovered",
                f"{period.drawdown:.2%}",
                f"{period.duration:,.0f}",
            ]
        )
        keys.append(
            [
                rank,
                date_key(period.peak),
                date_key(period.trough),
                date_key(period.recovery),
                float(period.drawdown),
                float(period.duration),
            ]
        )
    figure_layout(figure, yaxis={"title": "below peak (%)", "ticksuffix": "%"}, showlegend=False)
    columns = ("period", "peak", "trough", "recovery", "drawdown", "sessions")
    table = Table(columns, cells, keys) if cells else None
    note = "" if cells else "The run never fell below a peak."
    return Panel("underwater", "Underwater (drawdown from peak)", figure, table, note)


def rolling_panel(
    sharpe: pd.Series, volatility: pd.Series, beta: pd.Series | None, window: int
) -> Panel:
    """Rolling Sharpe ratio, annual volatility and beta over ``window`` sessions, stacked."""
    from plotly.subplots import make_subplots

    rows = 3 if beta is not None else 2
    titles = ["Sharpe", "volatility (annual, %)", "beta to the benchmark"][:rows]
    figure = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=titles,
        figure=new_figure(),
    )
    figure.add_trace(line(sharpe.dropna(), "Sharpe", STRATEGY_COLOR), row=1, col=1)
    figure.add_trace(line(volatility.dropna() * 100, "volatility", "#8e44ad"), row=2, col=1)
    if beta is not None:
        figure.add_trace(line(beta.dropna(), "beta", BENCHMARK_COLOR), row=3, col=1)
    figure_layout(figure, height=130 + 150 * rows, showlegend=False)
    note = "" if sharpe.notna().any() else f"The run is shorter than the {window}-session window."
    return Panel("rolling", f"Rolling statistics ({window} sessions)", figure, note=note)
