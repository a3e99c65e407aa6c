"""The HTML report of a run: key figures and plotly panels in one self-contained file.

Write the report of a run (``perf`` as ``run_algorithm`` returns it)::

    from rustybt.analytics import report

    report(perf, ledger=algo.ledger.export(), title="my strategy").write("report.html")

A parameter search or a walk-forward gets its own pages: ``report(result)``
for the search alone (a walk-forward's with the run panels of its stitched
out-of-sample record), ``report(perf, optimization=result)`` after a run's.

The page inlines plotly.js once and loads nothing else: it opens from a file,
offline. :mod:`.document` builds the report from the analytics functions,
:mod:`.panels` and :mod:`.trade_panels` draw the panels, :mod:`.header` writes
the figures, :mod:`.searches` and :mod:`.search_panels` build and draw the
pages of a search, :mod:`.html` assembles the page and :mod:`.decimate` thins long
traces. ``rustybt report`` and ``rustybt run --report`` write it from the
command line.
"""

from rustybt.analytics.tearsheet.document import Report, report

__all__ = ["Report", "report"]
