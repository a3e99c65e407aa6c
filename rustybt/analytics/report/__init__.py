"""The HTML report of a run: key figures and plotly panels in one self-contained file.

>>> from rustybt.analytics.report import report  # doctest: +SKIP
>>> report(perf, title="my strategy").write("report.html")  # doctest: +SKIP

The page inlines plotly.js once and loads nothing else: it opens from a file,
offline. :mod:`.panels` draws each panel, :mod:`.html` assembles the page,
:mod:`.decimate` thins long traces.
"""

from rustybt.analytics.report.document import Report, report

__all__ = ["Report", "report"]
