"""Filters: True or False per (date, asset), to screen rows and mask terms."""

from rustybt.pipeline.filters.filter import (
    CustomFilter,
    Filter,
    Latest,
    NotNullFilter,
    NullFilter,
    PercentileFilter,
    SingleAsset,
    StaticAssets,
    StaticSids,
)
from rustybt.pipeline.filters.smoothing import All, AllPresent, Any, AtLeastN

__all__ = [
    "All",
    "AllPresent",
    "Any",
    "AtLeastN",
    "CustomFilter",
    "Filter",
    "Latest",
    "NotNullFilter",
    "NullFilter",
    "PercentileFilter",
    "SingleAsset",
    "StaticAssets",
    "StaticSids",
]
