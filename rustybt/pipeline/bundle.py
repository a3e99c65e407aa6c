"""Pipelines on a bundle: the engine a run builds, and ``run_pipeline`` for notebooks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from rustybt.data import bundles
from rustybt.data.portal import DataPortal
from rustybt.data.portal.from_bundle import bundle_portal
from rustybt.pipeline.data.equity_pricing import EquityPricing
from rustybt.pipeline.domain import Domain
from rustybt.pipeline.engine import SimplePipelineEngine
from rustybt.pipeline.loaders.pricing import EquityPricingLoader
from rustybt.pipeline.pipeline import Pipeline

__all__ = ["bundle_engine", "run_pipeline"]


def bundle_engine(
    portal: DataPortal, calendar_name: str, custom_loader: Mapping[Any, Any] | None = None
) -> SimplePipelineEngine:
    """The engine of a portal's bundle: pricing from its bars, other columns from
    ``custom_loader`` (column -> loader), every asset on the calendar's sessions."""
    pricing = EquityPricingLoader(portal)
    custom = dict(custom_loader or {})

    def get_loader(column: Any) -> Any:
        if column in custom:
            return custom[column]
        if isinstance(column.dataset, type) and issubclass(column.dataset, EquityPricing):
            return pricing
        return None

    return SimplePipelineEngine(get_loader, portal.asset_finder, Domain(calendar_name))


def run_pipeline(
    pipeline: Pipeline,
    start_date: Any,
    end_date: Any,
    bundle: str = "demo",
    custom_loader: Mapping[Any, Any] | None = None,
    chunksize: int | None = None,
) -> pd.DataFrame:
    """Run ``pipeline`` on an ingested bundle, outside any algorithm.

    Returns zipline's frame: indexed by (date, asset), a column per
    pipeline column, the rows that pass the screen.

    Examples
    --------
    >>> from rustybt.pipeline import Pipeline, run_pipeline
    >>> from rustybt.pipeline.factors import Returns
    >>> frame = run_pipeline(Pipeline({"ret": Returns(window_length=5)}),
    ...                      "2024-01-08", "2024-01-31", bundle="demo")  # doctest: +SKIP
    """
    data = bundles.load(bundle)
    try:
        portal = bundle_portal(data)
        engine = bundle_engine(portal, data.calendar.name, custom_loader)
        if chunksize is None:
            return engine.run_pipeline(pipeline, start_date, end_date)
        return engine.run_chunked_pipeline(pipeline, start_date, end_date, chunksize)
    finally:
        data.close()
