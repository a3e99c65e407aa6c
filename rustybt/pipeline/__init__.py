"""The Pipeline API: zipline's cross-sectional factor engine, in NumPy.

Describe what to compute for every asset each day as a :class:`Pipeline` of
factors, filters and classifiers; run it in an algorithm
(``attach_pipeline`` / ``pipeline_output`` in :mod:`rustybt.api`) or on a
bundle with :func:`run_pipeline`.
"""

from rustybt.pipeline.bundle import bundle_engine, run_pipeline
from rustybt.pipeline.classifiers import Classifier, CustomClassifier
from rustybt.pipeline.domain import US_EQUITIES, Domain, EquityCalendarDomain
from rustybt.pipeline.engine import SimplePipelineEngine
from rustybt.pipeline.factors import CustomFactor, Factor
from rustybt.pipeline.filters import CustomFilter, Filter
from rustybt.pipeline.graph import TermGraph
from rustybt.pipeline.pipeline import Pipeline
from rustybt.pipeline.term import ComputableTerm, LoadableTerm, Term

__all__ = [
    "US_EQUITIES",
    "Classifier",
    "ComputableTerm",
    "CustomClassifier",
    "CustomFactor",
    "CustomFilter",
    "Domain",
    "EquityCalendarDomain",
    "Factor",
    "Filter",
    "LoadableTerm",
    "Pipeline",
    "SimplePipelineEngine",
    "Term",
    "TermGraph",
    "bundle_engine",
    "run_pipeline",
]
