"""Datasets and their columns: what a pipeline can load.

A :class:`DataSet` subclass declares :class:`Column` attributes; reading one
from the class gives that dataset's :class:`BoundColumn`, a term a loader
fills. Subclassing a dataset binds its columns anew, so a subclass is a
dataset of its own (``USEquityPricing`` is ``EquityPricing`` under another
name, loaded by the same loader).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from rustybt.exceptions import PipelineError
from rustybt.pipeline.term import LoadableTerm, NotSpecified, default_missing_value

__all__ = ["BoundColumn", "Column", "DataSet"]


class Column:
    """A column declared on a :class:`DataSet`.

    Parameters
    ----------
    dtype
        The column's dtype: float64, int64, bool, datetime64[ns] or object
        (text labels).
    missing_value
        The value of a cell without data; default: NaN, -1, False, NaT or None
        by dtype.
    doc
        A description.
    """

    def __init__(self, dtype: Any, missing_value: Any = NotSpecified, doc: str | None = None):
        self.dtype = np.dtype(dtype)
        self.missing_value = (
            default_missing_value(self.dtype) if missing_value is NotSpecified else missing_value
        )
        self.doc = doc

    def bind(self, dataset: type[DataSet], name: str) -> BoundColumn:
        """This column bound to ``dataset`` under ``name``."""
        return BoundColumn(
            dtype=self.dtype, missing_value=self.missing_value, dataset=dataset, name=name
        )


class BoundColumn(LoadableTerm):
    """A dataset's column, as a pipeline term.

    Its values on a date are those known at the start of that date: for
    pricing columns, the previous session's bar, adjusted for everything
    effective by that date.
    """

    params = ("dataset", "name")

    def __repr__(self) -> str:
        return self.qualname

    @property
    def dataset(self) -> type[DataSet]:
        """The dataset this column belongs to."""
        return self.param("dataset")

    @property
    def name(self) -> str:
        """The column's attribute name."""
        return self.param("name")

    @property
    def qualname(self) -> str:
        """``Dataset.column``."""
        return f"{self.dataset.__name__}.{self.name}"

    def dataset_key(self) -> Any:
        return self.dataset

    @property
    def latest(self) -> Any:
        """The column's most recent value: a Factor, Filter or Classifier by dtype."""
        from rustybt.pipeline.classifiers.classifier import Latest as LatestClassifier
        from rustybt.pipeline.factors.custom import Latest as LatestFactor
        from rustybt.pipeline.filters.filter import Latest as LatestFilter

        kind = self.dtype.kind
        if kind == "b":
            return LatestFilter(inputs=(self,))
        if kind in "iuOUS":
            return LatestClassifier(
                inputs=(self,), dtype=self.dtype, missing_value=self.missing_value
            )
        return LatestFactor(inputs=(self,), dtype=self.dtype, missing_value=self.missing_value)


class _DataSetMeta(type):
    """Binds every :class:`Column` of a dataset class, the subclass's own copy."""

    _declared_columns: dict[str, Column]
    _bound: dict[str, BoundColumn]

    def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        cls = super().__new__(mcls, name, bases, namespace)
        declared: dict[str, Column] = {}
        for base in reversed(cls.__mro__[1:]):
            declared.update(getattr(base, "_declared_columns", {}))
        declared.update({k: v for k, v in namespace.items() if isinstance(v, Column)})
        cls._declared_columns = declared
        cls._bound = {k: col.bind(cls, k) for k, col in declared.items()}  # type: ignore[arg-type]
        for key, bound in cls._bound.items():
            type.__setattr__(cls, key, bound)
        return cls

    @property
    def columns(cls) -> frozenset[BoundColumn]:
        """Every column of the dataset."""
        return frozenset(cls._bound.values())

    @property
    def qualname(cls) -> str:
        return cls.__name__

    def get_column(cls, name: str) -> BoundColumn:
        """The column called ``name``; a :class:`PipelineError` naming the dataset if none."""
        try:
            return cls._bound[name]
        except KeyError:
            known = ", ".join(sorted(cls._bound))
            raise PipelineError(
                f"{cls.__name__} has no column {name!r}; its columns are {known}"
            ) from None

    def __repr__(cls) -> str:
        return f"<DataSet: {cls.__name__!r}>"


class DataSet(metaclass=_DataSetMeta):
    """A set of columns loaded together. Subclass it and declare :class:`Column` s.

    Examples
    --------
    >>> from rustybt.pipeline.data import Column, DataSet
    >>> class Fundamentals(DataSet):
    ...     pe_ratio = Column(float)
    ...     sector = Column(object)
    >>> Fundamentals.pe_ratio
    Fundamentals.pe_ratio
    >>> sorted(c.name for c in Fundamentals.columns)
    ['pe_ratio', 'sector']
    """

    _declared_columns: ClassVar[dict[str, Column]] = {}
    _bound: ClassVar[dict[str, BoundColumn]] = {}
