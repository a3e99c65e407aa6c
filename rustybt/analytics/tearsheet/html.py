"""One self-contained HTML page from a report's header and panels.

The page carries everything it needs: plotly's JavaScript, inlined once in the
head, each figure's data as JSON, a small script that draws them and makes the
tables sortable, and the styles. It loads nothing from anywhere, so it opens
from a file, offline, and can be mailed as it is.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from functools import cache
from importlib import resources

from rustybt.analytics.tearsheet.panels import KeyFigure, Panel, Table

__all__ = ["page", "plotly_javascript"]


@cache
def page_template() -> str:
    """The look of every figure (plotly's "plotly_white" template), as JSON, once per page."""
    import plotly.io

    return json.dumps(plotly.io.templates["plotly_white"].to_plotly_json())


@cache
def plotly_javascript() -> str:
    """plotly.js, minified, as the installed plotly package ships it (read once)."""
    return (resources.files("plotly") / "package_data" / "plotly.min.js").read_text("utf-8")


_STYLE = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;
 background:#f4f5f7;color:#222}
header.top{background:#1d2b3a;color:#fff;padding:18px 28px}
header.top h1{margin:0;font-size:22px;font-weight:600}
header.top p{margin:4px 0 0;color:#c9d3de;font-size:13px}
main{padding:16px 28px 40px;display:grid;grid-template-columns:1fr 1fr;gap:16px}
section{background:#fff;border-radius:6px;box-shadow:0 1px 2px rgba(0,0,0,.08);
 padding:12px 16px;min-width:0}
section.wide{grid-column:1 / -1}
section h2{font-size:15px;margin:0 0 6px;font-weight:600}
p.note{font-size:12px;color:#666;margin:6px 0 0}
dl.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));
 gap:10px;margin:0}
dl.figures div{background:#f7f9fb;border-radius:4px;padding:8px 10px}
dl.figures dt{font-size:11px;color:#667;text-transform:uppercase;letter-spacing:.03em}
dl.figures dd{margin:2px 0 0;font-size:18px;font-weight:600}
div.table{max-height:480px;overflow:auto}
table{border-collapse:collapse;font-size:12px;width:100%}
th,td{padding:3px 8px;text-align:right;border-bottom:1px solid #eee;white-space:nowrap}
th{position:sticky;top:0;background:#fff;cursor:pointer;user-select:none}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
td:first-child,th:first-child{text-align:left}
"""

# Draws every figure, then makes each table sort by the column whose title is clicked.
_SCRIPT = """
(function(){
  var figures = JSON.parse(document.getElementById("figures").textContent);
  var template = JSON.parse(document.getElementById("template").textContent);
  Object.keys(figures).forEach(function(id){
    var f = figures[id];
    f.layout.template = template;
    Plotly.newPlot(id, f.data, f.layout, {responsive: true, displaylogo: false});
  });
  document.querySelectorAll("table.sortable").forEach(function(table){
    var heads = table.querySelectorAll("th");
    heads.forEach(function(th, column){
      th.addEventListener("click", function(){
        var up = !th.classList.contains("asc");
        heads.forEach(function(h){ h.classList.remove("asc", "desc"); });
        th.classList.add(up ? "asc" : "desc");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function(a, b){
          var x = JSON.parse(a.cells[column].dataset.key);
          var y = JSON.parse(b.cells[column].dataset.key);
          var order = x < y ? -1 : x > y ? 1 : 0;
          return up ? order : -order;
        });
        rows.forEach(function(row){ body.appendChild(row); });
      });
    });
  });
})();
"""


def script_safe(text: str) -> str:
    """JSON text made safe inside a ``<script>`` element: no ``</`` to end it early."""
    return text.replace("</", "<\\/")


def figures_list(figures: Sequence[KeyFigure]) -> str:
    """Key figures, one labelled value each."""
    items = "".join(
        f'<div data-key="{html.escape(figure.key)}"><dt>{html.escape(figure.label)}</dt>'
        f"<dd>{html.escape(figure.text)}</dd></div>"
        for figure in figures
    )
    return f'<dl class="figures">{items}</dl>'


def header_section(figures: Sequence[KeyFigure]) -> str:
    """The report's header: the run's key figures."""
    return f'<section class="wide" id="panel-header">{figures_list(figures)}</section>'


def table_html(table: Table) -> str:
    """A sortable table: each cell keeps what it sorts by in ``data-key``."""
    head = "".join(f"<th>{html.escape(column)}</th>" for column in table.columns)
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td data-key='{html.escape(json.dumps(key), quote=True)}'>{html.escape(text)}</td>"
            for text, key in zip(cells, keys, strict=True)
        )
        + "</tr>"
        for cells, keys in zip(table.cells, table.keys, strict=True)
    )
    return (
        f'<div class="table"><table class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def panel_section(panel: Panel) -> str:
    """A panel's section: its title, plot area, table and note."""
    parts = [f"<h2>{html.escape(panel.title)}</h2>"]
    if panel.figures:
        parts.append(figures_list(panel.figures))
    if panel.figure is not None:
        parts.append(f'<div class="plot" id="plot-{html.escape(panel.key)}"></div>')
    if panel.table is not None:
        parts.append(table_html(panel.table))
    if panel.note:
        parts.append(f'<p class="note">{html.escape(panel.note)}</p>')
    wide = ' class="wide"' if panel.wide else ""
    return f'<section{wide} id="panel-{html.escape(panel.key)}">{"".join(parts)}</section>'


def page(title: str, subtitle: str, figures: Sequence[KeyFigure], panels: Sequence[Panel]) -> str:
    """The whole page: head (styles, plotly.js), header, panels, figure data, script."""
    # Each figure's own JSON (plotly's encoder: NumPy arrays as compact typed arrays).
    data = ",".join(
        f"{json.dumps(f'plot-{panel.key}')}:{panel.figure.to_json()}"
        for panel in panels
        if panel.figure is not None
    )
    body = header_section(figures) + "".join(panel_section(panel) for panel in panels)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
        # plotly.js reads this before it loads: no MathJax fetched from the network.
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
        f"<script>{plotly_javascript()}</script></head><body>"
        f'<header class="top"><h1>{html.escape(title)}</h1>'
        f"<p>{html.escape(subtitle)}</p></header>"
        f"<main>{body}</main>"
        f'<script type="application/json" id="figures">{script_safe("{" + data + "}")}</script>'
        f'<script type="application/json" id="template">{script_safe(page_template())}</script>'
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
