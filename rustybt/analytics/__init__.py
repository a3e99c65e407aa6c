"""Analytics of a finished run: statistics, round trips, exposure, attribution, reports.

:mod:`rustybt.analytics.round_trips` pairs a run's fills into closed trades
(first in, first out).
"""
