"""Pipeline loaders: where columns get their values."""

from rustybt.pipeline.loaders.base import AdjustedColumn, PipelineLoader
from rustybt.pipeline.loaders.frame import DataFrameLoader
from rustybt.pipeline.loaders.pricing import EquityPricingLoader

__all__ = ["AdjustedColumn", "DataFrameLoader", "EquityPricingLoader", "PipelineLoader"]
