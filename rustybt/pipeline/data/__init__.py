"""Datasets a pipeline loads: daily pricing, and your own."""

from rustybt.pipeline.data.dataset import BoundColumn, Column, DataSet
from rustybt.pipeline.data.equity_pricing import EquityPricing, USEquityPricing

__all__ = ["BoundColumn", "Column", "DataSet", "EquityPricing", "USEquityPricing"]
