"""Daily prices and volumes: the dataset every bundle provides."""

from __future__ import annotations

import numpy as np

from rustybt.pipeline.data.dataset import Column, DataSet

__all__ = ["EquityPricing", "USEquityPricing"]


class EquityPricing(DataSet):
    """Daily open, high, low, close and volume of every asset of the bundle.

    A value on a date is the previous session's bar, adjusted for the
    splits, mergers and dividends effective by that date.
    """

    open = Column(np.float64)
    high = Column(np.float64)
    low = Column(np.float64)
    close = Column(np.float64)
    volume = Column(np.float64)


class USEquityPricing(EquityPricing):
    """:class:`EquityPricing` under zipline's US name (the same bars)."""
