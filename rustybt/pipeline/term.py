"""Terms: the nodes of a pipeline's graph (columns to load, things to compute).

A term is immutable and interned: building the same term twice (same type,
inputs, window, mask, dtype and parameters) returns the same object, so a
term shared by several pipeline columns is computed once. Every term has an
output per (date, asset) cell of its ``dtype``, ``missing_value`` where it has
no value.
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable, Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.exceptions import PipelineError

__all__ = [
    "AssetExists",
    "ComputableTerm",
    "LoadableTerm",
    "NotSpecified",
    "Term",
    "default_missing_value",
    "is_missing",
]


class _NotSpecifiedType:
    """The sentinel of a constructor argument left to the class's default."""

    _instance: _NotSpecifiedType | None = None

    def __new__(cls) -> _NotSpecifiedType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NotSpecified"

    def __reduce__(self) -> str:
        return "NotSpecified"


NotSpecified: Any = _NotSpecifiedType()


def default_missing_value(dtype: np.dtype[Any]) -> Any:
    """The missing value zipline uses for ``dtype``: NaN, False, -1, NaT or None."""
    if dtype.kind == "f":
        return np.nan
    if dtype.kind == "b":
        return False
    if dtype.kind in "iu":
        return -1
    if dtype.kind == "M":
        return np.datetime64("NaT", "ns")
    return None


def is_missing(values: npt.NDArray[Any], missing_value: Any) -> npt.NDArray[np.bool_]:
    """Which cells of ``values`` hold ``missing_value`` (NaN and NaT match themselves)."""
    if isinstance(missing_value, float) and np.isnan(missing_value):
        return np.isnan(values)
    if values.dtype.kind == "M":
        return np.isnat(values)
    if missing_value is None:
        return np.asarray(np.frompyfunc(lambda v: v is None, 1, 1)(values), dtype=bool)
    return np.asarray(values == missing_value)


def _frozen(value: Any) -> Hashable:
    """A hashable stand-in of a parameter value, for a term's identity."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(_frozen(v) for v in value)
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    try:
        hash(value)
    except TypeError:
        raise PipelineError(
            f"term parameter value {value!r} is not hashable: pass a tuple, number or string"
        ) from None
    if isinstance(value, float) and np.isnan(value):
        return ("nan",)
    return value


class Term:
    """A node of a pipeline's graph.

    Subclasses set the defaults as class attributes; constructor arguments
    override them. ``params`` declares the extra keyword arguments a class
    takes: a tuple of required names, or a dict of names and defaults.
    """

    inputs: Any = ()
    outputs: Any = NotSpecified
    window_length: Any = 0
    mask: Any = NotSpecified
    dtype: Any = NotSpecified
    missing_value: Any = NotSpecified
    ndim: int = 2
    window_safe: bool = False
    params: Any = ()

    _interned: ClassVar[weakref.WeakValueDictionary[Hashable, Term]] = weakref.WeakValueDictionary()

    def __new__(
        cls,
        inputs: Any = NotSpecified,
        outputs: Any = NotSpecified,
        window_length: Any = NotSpecified,
        mask: Any = NotSpecified,
        dtype: Any = NotSpecified,
        missing_value: Any = NotSpecified,
        ndim: Any = NotSpecified,
        window_safe: Any = NotSpecified,
        **kwargs: Any,
    ) -> Any:
        spec = cls._resolve(
            inputs=inputs,
            outputs=outputs,
            window_length=window_length,
            mask=mask,
            dtype=dtype,
            missing_value=missing_value,
            ndim=ndim,
            window_safe=window_safe,
            params=kwargs,
        )
        key = cls._identity(spec)
        existing = cls._interned.get(key)
        if existing is not None:
            return existing
        term = super().__new__(cls)
        for name, value in spec.items():
            setattr(term, name, value)
        term._validate()
        cls._interned[key] = term
        return term

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Everything is set by __new__ (an interned term may be returned again).
        pass

    # --- construction ---------------------------------------------------------------

    @classmethod
    def _resolve(cls, **given: Any) -> dict[str, Any]:
        """The term's attributes from constructor arguments and class defaults."""
        spec: dict[str, Any] = {}
        for name in (
            "inputs",
            "outputs",
            "window_length",
            "mask",
            "dtype",
            "missing_value",
            "ndim",
            "window_safe",
        ):
            value = given[name]
            spec[name] = getattr(cls, name) if value is NotSpecified else value
        spec["inputs"] = tuple(spec["inputs"] or ())
        dtype = spec["dtype"]
        if dtype is NotSpecified:
            raise PipelineError(f"{cls.__name__} has no dtype: pass dtype=")
        spec["dtype"] = np.dtype(dtype)
        if spec["missing_value"] is NotSpecified:
            spec["missing_value"] = default_missing_value(spec["dtype"])
        if spec["outputs"] is not NotSpecified and spec["outputs"] is not None:
            spec["outputs"] = tuple(spec["outputs"])
        else:
            spec["outputs"] = None
        spec["window_length"] = int(spec["window_length"] or 0)
        spec["mask"] = cls._default_mask() if spec["mask"] is NotSpecified else spec["mask"]
        spec["params"] = cls._resolve_params(given["params"])
        return spec

    @classmethod
    def _default_mask(cls) -> Term | None:
        return None

    @classmethod
    def _resolve_params(cls, given: dict[str, Any]) -> dict[str, Any]:
        """Declared parameters with their defaults, refusing unknown or missing ones."""
        declared = cls.params
        defaults: dict[str, Any] = (
            dict(declared)
            if isinstance(declared, Mapping)
            else dict.fromkeys(declared, NotSpecified)
        )
        unknown = sorted(set(given) - set(defaults))
        if unknown:
            raise PipelineError(
                f"{cls.__name__} got unexpected keyword argument(s) {', '.join(unknown)};"
                f" its params are {tuple(defaults) or '()'}"
            )
        out = {**defaults, **given}
        missing = sorted(k for k, v in out.items() if v is NotSpecified)
        if missing:
            raise PipelineError(f"{cls.__name__} needs parameter(s) {', '.join(missing)}")
        return out

    @classmethod
    def _identity(cls, spec: dict[str, Any]) -> Hashable:
        return (
            cls,
            spec["inputs"],
            spec["outputs"],
            spec["window_length"],
            spec["mask"],
            spec["dtype"],
            _frozen(spec["missing_value"]),
            spec["ndim"],
            spec["window_safe"],
            _frozen(spec["params"]),
        )

    def _validate(self) -> None:
        """Check the term's own consistency (subclasses extend)."""
        for term in self.inputs:
            if not isinstance(term, Term):
                raise PipelineError(f"{self!r}: input {term!r} is not a pipeline term")
        # A one-row window holds one date's values: no mix of views.
        if self.window_length > 1:
            for term in self.inputs:
                if not term.window_safe:
                    raise PipelineError(
                        f"{self!r}: input {term!r} is not window-safe, so it cannot be an"
                        " input of a window (its values would depend on the day the window"
                        " is seen from); use a window-safe term such as a column,"
                        " Returns or a rank"
                    )
        if self.mask is not None and not (isinstance(self.mask, Term) and self.mask.dtype == bool):
            raise PipelineError(f"{self!r}: mask {self.mask!r} is not a Filter")

    def param(self, name: str) -> Any:
        """The value of parameter ``name`` (``params`` is the dict of them all)."""
        return self.params[name]

    # --- graph ------------------------------------------------------------------------

    @property
    def dependencies(self) -> dict[Term, int]:
        """Each term this one reads, with the extra rows before its first date it needs."""
        extra = max(0, self.window_length - 1)
        deps: dict[Term, int] = {}
        for term in self.inputs:
            deps[term] = max(deps.get(term, 0), extra)
        if self.mask is not None:
            deps.setdefault(self.mask, 0)
        return deps

    @property
    def windowed(self) -> bool:
        """Whether the term's inputs reach it as trailing windows."""
        return self.window_length > 0

    def __repr__(self) -> str:
        args = [f"{len(self.inputs)} input(s)"] if self.inputs else []
        if self.window_length:
            args.append(f"window_length={self.window_length}")
        return f"{type(self).__name__}({', '.join(args)})"

    def __reduce__(self) -> Any:
        raise TypeError(f"{self!r}: pipeline terms are not picklable")


class LoadableTerm(Term):
    """A term whose values a loader provides (a dataset's column)."""

    window_safe = True

    def dataset_key(self) -> Any:
        """What groups terms loaded together (their dataset)."""
        raise NotImplementedError


class ComputableTerm(Term):
    """A term computed from its inputs.

    ``_compute(inputs, dates, assets, mask)`` returns a ``(len(dates),
    len(assets))`` array (``(len(dates), 1)`` for a one-column term). Each
    input is a :class:`~rustybt.pipeline.windows.Windows` when the term is
    windowed, else the input's array over ``dates``. Cells outside ``mask``
    are set to the missing value afterwards.
    """

    @classmethod
    def _default_mask(cls) -> Term | None:
        return AssetExists()

    def isnull(self) -> Any:
        """A filter of the cells that hold this term's missing value."""
        from rustybt.pipeline.filters.filter import NullFilter

        return NullFilter(inputs=(self,))

    def notnull(self) -> Any:
        """A filter of the cells that hold a value."""
        from rustybt.pipeline.filters.filter import NotNullFilter

        return NotNullFilter(inputs=(self,))

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        raise NotImplementedError


class AssetExists(Term):
    """Whether each asset is alive on each date (the root of every mask).

    An asset is in the pipeline of a date when it started trading before the
    date and had not ended before it, as zipline reads asset life spans.
    """

    dtype = bool
    missing_value = False
    window_safe = True

    @classmethod
    def _default_mask(cls) -> Term | None:
        return None

    def __repr__(self) -> str:
        return "AssetExists()"
