"""CustomFactor (your own window computation), Latest, and fields of multi-output factors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.exceptions import PipelineError
from rustybt.pipeline.custom import CustomTermMixin, LatestMixin
from rustybt.pipeline.factors.factor import Factor

__all__ = ["BuiltinFactor", "CustomFactor", "Latest", "RecarrayField"]


class CustomFactor(CustomTermMixin, Factor):
    """A factor computed by your ``compute`` over trailing windows.

    Set ``inputs``, ``window_length`` (and optionally ``outputs``, ``params``,
    ``mask``, ``dtype``, ``window_safe``) as class attributes or constructor
    arguments, and define ``compute(self, today, assets, out, *inputs)``.

    Examples
    --------
    >>> import numpy as np
    >>> from rustybt.pipeline import CustomFactor
    >>> from rustybt.pipeline.data import EquityPricing
    >>> class MedianClose(CustomFactor):
    ...     inputs = [EquityPricing.close]
    ...     window_length = 10
    ...     def compute(self, today, assets, out, close):
    ...         out[:] = np.nanmedian(close, axis=0)
    >>> MedianClose().window_length
    10
    """

    window_length: Any = 0

    def _validate(self) -> None:
        super()._validate()
        self._validate_custom()

    def __getattr__(self, name: str) -> Any:
        # A multi-output factor's outputs read as attributes (``bbands.upper``).
        outputs = self.__dict__.get("outputs")
        if outputs and name in outputs:
            return RecarrayField(inputs=(self,), field=name, window_safe=self.window_safe)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __iter__(self) -> Iterator[RecarrayField]:
        if not self.outputs:
            raise PipelineError(f"{self!r} has one output; it cannot be unpacked")
        return iter(getattr(self, name) for name in self.outputs)


class BuiltinFactor(CustomFactor):
    """A built-in factor: computed on a stack of days at once, from numeric inputs."""

    batched = True

    def _validate(self) -> None:
        super()._validate()
        for term in self.inputs:
            if term.dtype.kind not in "fiub":
                raise PipelineError(
                    f"{type(self).__name__}: input {term!r} holds {term.dtype} values;"
                    " it needs numbers"
                )


class RecarrayField(Factor):
    """One output of a factor with several ``outputs``."""

    params = ("field",)

    def _compute(
        self,
        inputs: list[Any],
        dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_],
    ) -> npt.NDArray[Any]:
        return np.asarray(inputs[0][self.param("field")])

    def __repr__(self) -> str:
        return f"{self.inputs[0]!r}.{self.param('field')}"


class Latest(LatestMixin, CustomFactor):
    """The most recent value of a column (``column.latest``)."""

    def __repr__(self) -> str:
        return f"{self.inputs[0]!r}.latest"
