"""Classifiers: a label per (date, asset), to group and bucket assets."""

from rustybt.pipeline.classifiers.classifier import (
    Classifier,
    CustomClassifier,
    Everything,
    Latest,
    Quantiles,
)

__all__ = ["Classifier", "CustomClassifier", "Everything", "Latest", "Quantiles"]
