"""The panels of a parameter search and of a walk-forward analysis.

An optimization's trials are drawn against their parameters: a line of the
objective for one parameter, a heatmap for two, parallel coordinates for three
or more, the Pareto front for several objectives, and a sortable table of the
trials. A walk-forward's stitched out-of-sample equity is drawn with its
windows' boundaries, beside each window's in-sample and out-of-sample figures
and the parameters each window chose. These functions only draw what
:mod:`.searches` hands them (the results' own tables); nothing is computed here.

Parallel coordinates are drawn as plain lines (SVG), not with plotly's
``parcoords`` trace, which needs WebGL: the page must draw in any browser.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rustybt.analytics.tearsheet.decimate import decimate
from rustybt.analytics.tearsheet.header import PERCENT_KEYS, figure_text
from rustybt.analytics.tearsheet.panels import (
    BENCHMARK_COLOR,
    LOSS_COLOR,
    STRATEGY_COLOR,
    Panel,
    Table,
    date_key,
    date_text,
    figure_layout,
    new_figure,
    session_dates,
)

__all__ = [
    "MAX_HEATMAP_VALUES",
    "MAX_LINES",
    "MAX_TABLE_TRIALS",
    "axis_values",
    "objective_heatmap_panel",
    "objective_line_panel",
    "oos_equity_panel",
    "parallel_coordinates_panel",
    "pareto_panel",
    "stability_panel",
    "trials_panel",
    "value_text",
    "window_comparison_panel",
    "windows_panel",
]

#: The most trials the trials table lists (the best first).
MAX_TABLE_TRIALS = 1000
#: The most distinct values of a parameter a heatmap's axis lists (else: parallel coordinates).
MAX_HEATMAP_VALUES = 40
#: The most trials parallel coordinates draw (the best): one trace each.
MAX_LINES = 500
#: The colors of the objective, worst to best.
SCALE = "Viridis"
#: Shades of the alternating out-of-sample windows.
WINDOW_SHADES = ("#1f5fa8", "#e67e22")


def value_text(value: Any) -> str:
    """A parameter's value as a label: a whole number plainly, a float to 6 figures.

    Examples
    --------
    >>> value_text(20), value_text(20.0), value_text(0.0123456789), value_text("ema")
    ('20', '20', '0.0123457', 'ema')
    """
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        return str(int(value)) if float(value).is_integer() else f"{value:.6g}"
    return str(value)


def is_numeric(column: pd.Series) -> bool:
    """Whether a parameter's values are numbers (not categories, not booleans)."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def axis_values(column: pd.Series) -> list[Any]:
    """A parameter's distinct values in axis order: ascending numbers, categories by name."""
    distinct = list(pd.unique(column.dropna()))
    return sorted(distinct) if is_numeric(column) else sorted(distinct, key=str)


def metric_text(name: str, value: float) -> str:
    """An objective's or statistic's value as a cell shows it (percent for fractions)."""
    if name in PERCENT_KEYS or value is None or not math.isfinite(value):
        return figure_text(name, value)
    return f"{value:.4g}"


def objective_line_panel(
    trials: pd.DataFrame, parameter: str, objective: str, direction: str
) -> Panel:
    """One parameter: the objective of each complete trial against the parameter's value.

    Parameters
    ----------
    trials
        The complete trials (rows of ``OptimizationResult.trials``).
    parameter, objective
        The column of the parameter and of the objective.
    direction
        ``"maximize"`` or ``"minimize"`` (named on the axis).
    """
    ordered = (
        trials.sort_values(parameter, kind="stable") if is_numeric(trials[parameter]) else trials
    )
    numeric = is_numeric(trials[parameter])
    x = (
        ordered[parameter].to_numpy(dtype=np.float64)
        if numeric
        else np.asarray([value_text(v) for v in ordered[parameter]], dtype=object)
    )
    figure = new_figure(
        go.Scatter(
            x=x,
            y=ordered[objective].to_numpy(dtype=np.float64),
            mode="lines+markers",
            name=objective,
            line={"color": STRATEGY_COLOR, "width": 1.5},
            customdata=ordered["number"].to_numpy(dtype=np.int64),
            hovertemplate=f"{parameter} %{{x}}: {objective} %{{y:.4g}}"
            "<br>trial %{customdata}<extra></extra>",
        )
    )
    figure_layout(
        figure,
        xaxis={"title": parameter, "type": "linear" if numeric else "category"},
        yaxis={"title": f"{objective} ({direction})"},
        hovermode="closest",
        showlegend=False,
    )
    return Panel("search-objective", f"{objective} by {parameter}", figure)


def objective_heatmap_panel(
    cells: pd.Series, x_values: Sequence[Any], y_values: Sequence[Any], direction: str
) -> Panel:
    """Two parameters: a heatmap of the objective, one cell per pair of values tried.

    Parameters
    ----------
    cells
        The objective indexed by ``(x value, y value)``: the best of the trials at
        that pair (a search may try a pair more than once).
    x_values, y_values
        Each parameter's values in axis order (:func:`axis_values`).
    direction
        ``"maximize"`` or ``"minimize"``: the best cells are the brightest either way.
    """
    x_name, y_name = (str(name) for name in cells.index.names)
    objective = str(cells.name)
    grid = cells.unstack(0).reindex(index=list(y_values), columns=list(x_values))
    figure = new_figure(
        go.Heatmap(
            z=grid.to_numpy(dtype=np.float64),
            x=[value_text(v) for v in x_values],
            y=[value_text(v) for v in y_values],
            colorscale=SCALE,
            reversescale=direction == "minimize",
            texttemplate="%{z:.3g}",
            hovertemplate=f"{x_name} %{{x}}, {y_name} %{{y}}: {objective} %{{z:.4g}}"
            "<extra></extra>",
            colorbar={"title": {"text": objective}, "len": 0.9},
        )
    )
    figure_layout(
        figure,
        height=max(340, 80 + 26 * len(y_values)),
        xaxis={"title": x_name, "type": "category"},
        yaxis={"title": y_name, "type": "category"},
        hovermode="closest",
    )
    note = (
        f"Each cell is the {objective} of the trial at that pair of values "
        f"(the best one where a pair was tried more than once; blank: never tried)."
    )
    return Panel("search-objective", f"{objective} by {x_name} and {y_name}", figure, note=note)


def dimension_positions(column: pd.Series) -> tuple[np.ndarray, str, str]:
    """Where each trial sits on a parallel-coordinates axis (0 bottom, 1 top), and the
    labels of the axis' bottom and top."""
    values = axis_values(column)
    if is_numeric(column):
        numbers = column.to_numpy(dtype=np.float64)
        finite = numbers[np.isfinite(numbers)]
        if not len(finite):  # nothing to place: a missing value leaves a gap in its line
            return np.full(len(numbers), np.nan), "", ""
        low, high = float(finite.min()), float(finite.max())
        span = high - low
        where = (numbers - low) / span if span else np.where(np.isfinite(numbers), 0.5, np.nan)
        return where, value_text(low), value_text(high)
    codes = {value: number for number, value in enumerate(values)}
    last = max(len(values) - 1, 1)
    where = np.asarray([codes.get(v, math.nan) / last for v in column], dtype=np.float64)
    return where, value_text(values[0]) if values else "", value_text(values[-1]) if values else ""


def parallel_coordinates_panel(
    trials: pd.DataFrame, dimensions: Sequence[str], objective: str, direction: str
) -> Panel:
    """Three parameters or more: each complete trial a line across one axis per parameter
    and objective, colored from its worst (dark) to its best (bright) ``objective``.

    Each axis runs from its lowest value (bottom) to its highest (top); a
    category axis lists its values by name.
    """
    from plotly.colors import sample_colorscale

    total = len(trials)
    trials = trials.sort_values(objective, ascending=direction == "minimize", kind="stable")
    trials = trials.iloc[:MAX_LINES]
    scores = trials[objective].to_numpy(dtype=np.float64)
    finite = scores[np.isfinite(scores)]
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    span = (high - low) or 1.0
    goodness = (scores - low) / span if direction == "maximize" else (high - scores) / span
    goodness = np.clip(np.nan_to_num(goodness, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    positions = [dimension_positions(trials[name]) for name in dimensions]
    x = np.arange(len(dimensions), dtype=np.float64)
    figure = new_figure()
    # Worst first, so that the best lines are drawn on top.
    for row in np.argsort(goodness, kind="stable"):
        color = sample_colorscale(SCALE, [float(goodness[row])])[0]
        values = [value_text(trials[name].iloc[row]) for name in dimensions]
        figure.add_trace(
            go.Scatter(
                x=x,
                y=np.asarray([where[row] for where, _, _ in positions], dtype=np.float64),
                mode="lines+markers",
                line={"color": color, "width": 1.2},
                marker={"size": 4, "color": color},
                name=f"trial {int(trials['number'].iloc[row])}",
                text=np.asarray(values, dtype=object),
                hovertemplate="%{text}<extra>%{fullData.name}</extra>",
                showlegend=False,
            )
        )
    for number, (_, bottom, top) in enumerate(positions):
        figure.add_vline(x=float(number), line={"color": "#999", "width": 1})
        figure.add_annotation(x=float(number), y=1.0, text=top, yshift=10, showarrow=False)
        figure.add_annotation(x=float(number), y=0.0, text=bottom, yshift=-10, showarrow=False)
    figure_layout(
        figure,
        height=420,
        xaxis={"tickvals": x, "ticktext": list(dimensions), "showgrid": False},
        yaxis={"visible": False, "range": [-0.12, 1.12]},
        hovermode="closest",
        showlegend=False,
    )
    note = (
        f"One line per complete trial; the brighter, the better its {objective}. "
        "Each axis runs from its lowest value (bottom) to its highest (top)."
    )
    if total > len(trials):
        note += f" The {len(trials):,} best of {total:,} trials are drawn."
    return Panel("search-objective", "Parameters and objectives of the trials", figure, note=note)


def pareto_panel(trials: pd.DataFrame, front: pd.DataFrame, objectives: Sequence[str]) -> Panel:
    """Several objectives: every complete trial on the first two, the Pareto front marked."""
    x_name, y_name = objectives[0], objectives[1]
    others = [name for name in objectives[2:]]

    def points(frame: pd.DataFrame, name: str, color: str, size: int) -> go.Scatter:
        hover = [
            f"trial {int(row['number'])}"
            + "".join(f"<br>{other} {metric_text(other, float(row[other]))}" for other in others)
            for row in frame.to_dict("records")
        ]
        return go.Scatter(
            x=frame[x_name].to_numpy(dtype=np.float64),
            y=frame[y_name].to_numpy(dtype=np.float64),
            mode="markers",
            name=name,
            marker={"color": color, "size": size},
            text=np.asarray(hover, dtype=object),
            hovertemplate=f"{x_name} %{{x:.4g}}, {y_name} %{{y:.4g}}<br>%{{text}}<extra></extra>",
        )

    ordered_front = front.sort_values(x_name, kind="stable")
    figure = new_figure(
        [
            points(trials, "trials", BENCHMARK_COLOR, 7),
            points(ordered_front, "Pareto front", LOSS_COLOR, 10),
        ]
    )
    figure.data[1].update(mode="lines+markers", line={"color": LOSS_COLOR, "dash": "dot"})
    figure_layout(figure, xaxis={"title": x_name}, yaxis={"title": y_name}, hovermode="closest")
    note = f"{len(front)} of {len(trials)} complete trials are on the front: no trial beats them "
    note += "on every objective."
    return Panel("search-pareto", "Pareto front", figure, note=note)


def trials_panel(
    trials: pd.DataFrame, parameters: Sequence[str], metrics: Sequence[str], total: int
) -> Panel:
    """A sortable table of the trials: number, parameters, metrics, status.

    Parameters
    ----------
    trials
        The rows to list, in the order listed (at most :data:`MAX_TABLE_TRIALS`).
    parameters, metrics
        The columns shown after the trial's number.
    total
        How many trials the search ran (to say when the table lists fewer).
    """
    columns = ("trial", *parameters, *metrics, "seconds", "status")
    cells: list[list[str]] = []
    keys: list[list[float | str]] = []
    for row in trials.to_dict("records"):
        values = [float(row[name]) for name in metrics]
        seconds = float(row["duration"]) if row.get("duration") is not None else math.nan
        cells.append(
            [
                str(int(row["number"])),
                *(value_text(row[name]) for name in parameters),
                *(metric_text(name, v) for name, v in zip(metrics, values, strict=True)),
                "" if math.isnan(seconds) else f"{seconds:.2f}",
                status_text(row["status"], row.get("error")),
            ]
        )
        keys.append(
            [
                int(row["number"]),
                *(sort_key(row[name]) for name in parameters),
                *(v if math.isfinite(v) else -1e300 for v in values),
                seconds if math.isfinite(seconds) else -1.0,
                str(row["status"]),
            ]
        )
    note = "Complete trials best first, then the others. Click a column's title to sort."
    if total > len(trials):
        note = f"The {len(trials):,} best of {total:,} trials. " + note
    table = Table(columns, cells, keys) if cells else None
    return Panel("search-trials", "Trials", table=table, note=note)


def status_text(status: str, error: Any) -> str:
    """A trial's status, with its error when it failed (a missing error is None or NaN)."""
    return f"{status}: {error}" if isinstance(error, str) and error else str(status)


def sort_key(value: Any) -> float | str:
    """What a parameter's cell sorts by: its number, else its text."""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return float(value) if math.isfinite(float(value)) else -1e300
    return str(value)


def oos_equity_panel(equity: pd.Series, windows: pd.DataFrame) -> Panel:
    """The stitched out-of-sample equity, each window's test span shaded, its start a line.

    Parameters
    ----------
    equity
        ``WalkForwardResult.oos_perf["equity"]``: the capital compounded through
        every test run, indexed by session close.
    windows
        ``WalkForwardResult.windows`` (``window``, ``test_start``, ``test_end``).
    """
    thin = decimate(equity)
    figure = new_figure(
        go.Scatter(
            x=session_dates(thin.index),
            y=thin.to_numpy(dtype=np.float64),
            mode="lines",
            name="out-of-sample equity",
            line={"color": STRATEGY_COLOR, "width": 1.5},
        )
    )
    for row in windows.to_dict("records"):
        start, end = date_text(row["test_start"]), date_text(row["test_end"])
        shade = WINDOW_SHADES[int(row["window"]) % len(WINDOW_SHADES)]
        figure.add_vrect(x0=start, x1=end, fillcolor=shade, opacity=0.07, line_width=0)
        figure.add_vline(
            x=start,
            line={"color": "#555", "width": 1, "dash": "dot"},
            annotation={"text": f"w{int(row['window'])}", "font": {"size": 10}},
            annotation_position="top right",
        )
    figure_layout(figure, yaxis={"title": "equity"}, showlegend=False)
    note = (
        "Each window's test run, end to end: the capital compounded through their daily "
        "returns. A dotted line marks where a window's test span starts."
    )
    return Panel("wf-equity", "Out-of-sample equity, window by window", figure, note=note)


def window_comparison_panel(windows: pd.DataFrame, objective: str) -> Panel:
    """Each window's in-sample (its search's best) and out-of-sample objective and
    annual return, side by side, and its efficiency."""
    from plotly.subplots import make_subplots

    labels = [f"w{int(w)}" for w in windows["window"]]
    rows = [
        (objective, f"is_{objective}", f"oos_{objective}", 1.0),
        ("annual return (%)", "is_annual_return", "oos_annual_return", 100.0),
    ]
    figure = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.09,
        subplot_titles=[title for title, _, _, _ in rows] + ["efficiency (out / in)"],
        figure=new_figure(),
    )
    for number, (_, in_sample, out_of_sample, scale) in enumerate(rows, start=1):
        for column, name, color in (
            (in_sample, "in sample", BENCHMARK_COLOR),
            (out_of_sample, "out of sample", STRATEGY_COLOR),
        ):
            figure.add_trace(
                go.Bar(
                    x=labels,
                    y=windows[column].to_numpy(dtype=np.float64) * scale,
                    name=name,
                    marker_color=color,
                    legendgroup=name,
                    showlegend=number == 1,
                    hovertemplate=f"%{{x}} {name}: %{{y:.4g}}<extra></extra>",
                ),
                row=number,
                col=1,
            )
    figure.add_trace(
        go.Bar(
            x=labels,
            y=windows["efficiency"].to_numpy(dtype=np.float64),
            name="efficiency",
            marker_color=LOSS_COLOR,
            showlegend=False,
            hovertemplate="%{x} efficiency: %{y:.3g}<extra></extra>",
        ),
        row=3,
        col=1,
    )
    figure_layout(figure, height=560, barmode="group", hovermode="closest")
    figure.update_xaxes(type="category")
    return Panel("wf-windows-chart", "In sample against out of sample, by window", figure)


def windows_panel(windows: pd.DataFrame, parameters: Sequence[str], objective: str) -> Panel:
    """A sortable table of the windows: spans, chosen parameters, in and out of sample."""
    figures = [
        f"is_{objective}",
        f"oos_{objective}",
        "is_annual_return",
        "oos_annual_return",
        "oos_total_return",
        "oos_max_drawdown",
        "efficiency",
    ]
    headers = [
        f"in-sample {objective}",
        f"out-of-sample {objective}",
        "in-sample annual return",
        "out-of-sample annual return",
        "out-of-sample return",
        "out-of-sample max drawdown",
        "efficiency",
    ]
    dates = ["train_start", "train_end", "test_start", "test_end"]
    columns = ("window", "train from", "train to", "test from", "test to", *parameters, *headers)
    cells: list[list[str]] = []
    keys: list[list[float | str]] = []
    for row in windows.to_dict("records"):
        values = [float(row[name]) for name in figures]
        # is_sharpe shows as sharpe, oos_total_return as total_return (a percentage).
        texts = [
            metric_text(name.split("_", 1)[1] if "_" in name else name, value)
            for name, value in zip(figures, values, strict=True)
        ]
        cells.append(
            [
                f"w{int(row['window'])}",
                *(date_text(row[name]) for name in dates),
                *(value_text(row[name]) for name in parameters),
                *texts,
            ]
        )
        keys.append(
            [
                int(row["window"]),
                *(date_key(row[name]) for name in dates),
                *(sort_key(row[name]) for name in parameters),
                *(v if math.isfinite(v) else -1e300 for v in values),
            ]
        )
    table = Table(columns, cells, keys)
    note = "Each window's parameters are its in-sample search's best. Click a title to sort."
    return Panel("wf-windows", "Windows", table=table, note=note)


def stability_panel(
    windows: pd.DataFrame, parameters: Sequence[str], stability: pd.DataFrame
) -> Panel:
    """The parameters each window chose, one plot per parameter, and how stable they are.

    Parameters
    ----------
    windows
        ``WalkForwardResult.windows``.
    parameters
        The space's parameter names.
    stability
        ``WalkForwardResult.parameter_stability``.
    """
    from plotly.subplots import make_subplots

    labels = [f"w{int(w)}" for w in windows["window"]]
    figure = make_subplots(
        rows=len(parameters),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=min(0.08, 0.3 / max(len(parameters), 1)),
        subplot_titles=list(parameters),
        figure=new_figure(),
    )
    for number, name in enumerate(parameters, start=1):
        chosen = windows[name]
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=np.asarray([value_text(v) for v in chosen], dtype=object)
                if not is_numeric(chosen)
                else chosen.to_numpy(dtype=np.float64),
                mode="lines+markers",
                name=name,
                line={"color": STRATEGY_COLOR, "width": 1.2},
                hovertemplate=f"%{{x}}: {name} %{{y}}<extra></extra>",
            ),
            row=number,
            col=1,
        )
    figure_layout(figure, height=120 + 130 * len(parameters), showlegend=False)
    figure.update_xaxes(type="category")
    columns = ("parameter", "distinct", "mode", "mode share", "mean", "std", "cv")
    cells: list[list[str]] = []
    keys: list[list[float | str]] = []
    for parameter, row in stability.iterrows():
        numbers = [float(row[k]) for k in ("mean", "std", "cv")]
        cells.append(
            [
                str(parameter),
                str(int(row["distinct"])),
                value_text(row["mode"]),
                f"{float(row['mode_share']):.0%}",
                *("" if math.isnan(v) else f"{v:.4g}" for v in numbers),
            ]
        )
        keys.append(
            [
                str(parameter),
                float(row["distinct"]),
                sort_key(row["mode"]),
                float(row["mode_share"]),
                *(v if math.isfinite(v) else -1e300 for v in numbers),
            ]
        )
    note = (
        "Mode share: the windows that chose the most frequent value (100%: every window "
        "chose it); cv: the standard deviation over the absolute mean."
    )
    return Panel(
        "wf-stability",
        "Parameters chosen by window, and their stability",
        figure,
        Table(columns, cells, keys),
        note,
    )
