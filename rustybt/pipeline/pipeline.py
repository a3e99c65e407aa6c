"""Pipeline: named terms to compute every day, and a screen of the rows to keep."""

from __future__ import annotations

from typing import Any

from rustybt.exceptions import PipelineError
from rustybt.pipeline.term import ComputableTerm, Term

__all__ = ["Pipeline"]


def _check_column(name: str, term: Any) -> None:
    if isinstance(term, Term) and not isinstance(term, ComputableTerm):
        raise PipelineError(
            f"pipeline column {name!r} is the column {term!r} itself; add {term!r}.latest"
        )
    if not isinstance(term, ComputableTerm) or term.ndim != 2:
        raise PipelineError(
            f"pipeline column {name!r} must be a factor, filter or classifier, not {term!r}"
        )


def _check_screen(screen: Any) -> None:
    from rustybt.pipeline.filters.filter import Filter

    if screen is not None and not isinstance(screen, Filter):
        raise PipelineError(f"a pipeline's screen must be a Filter, not {screen!r}")


class Pipeline:
    """Terms to compute for every asset each day, and a screen of the rows to keep.

    Parameters
    ----------
    columns
        Output name -> factor, filter or classifier.
    screen
        A filter: only the (date, asset) rows where it is True are output.
    domain
        The calendar and assets to compute over; default: the engine's (the
        bundle's calendar, every asset).

    Examples
    --------
    >>> from rustybt.pipeline import Pipeline
    >>> from rustybt.pipeline.data import EquityPricing
    >>> from rustybt.pipeline.factors import SimpleMovingAverage
    >>> sma = SimpleMovingAverage(inputs=[EquityPricing.close], window_length=10)
    >>> pipe = Pipeline(columns={"sma": sma}, screen=sma > 5)
    >>> sorted(pipe.columns)
    ['sma']
    """

    def __init__(
        self,
        columns: dict[str, Any] | None = None,
        screen: Any = None,
        domain: Any = None,
    ) -> None:
        columns = dict(columns or {})
        for name, term in columns.items():
            _check_column(name, term)
        _check_screen(screen)
        self._columns = columns
        self._screen = screen
        self._domain = domain

    @property
    def columns(self) -> dict[str, Any]:
        """The output columns (a copy)."""
        return dict(self._columns)

    @property
    def screen(self) -> Any:
        """The screen filter, or None."""
        return self._screen

    @property
    def domain(self) -> Any:
        """The domain given, or None (the engine's default)."""
        return self._domain

    def add(self, term: Any, name: str, overwrite: bool = False) -> None:
        """Add ``term`` as column ``name`` (``overwrite`` to replace an existing one)."""
        _check_column(name, term)
        if name in self._columns and not overwrite:
            raise PipelineError(
                f"pipeline already has a column {name!r}; pass overwrite=True to replace it"
            )
        self._columns[name] = term

    def remove(self, name: str) -> Any:
        """Remove column ``name`` and return its term."""
        try:
            return self._columns.pop(name)
        except KeyError:
            raise PipelineError(f"pipeline has no column {name!r}") from None

    def set_screen(self, screen: Any, overwrite: bool = False) -> None:
        """Set the screen (``overwrite`` to replace an existing one)."""
        if self._screen is not None and not overwrite:
            raise PipelineError("pipeline already has a screen; pass overwrite=True to replace it")
        _check_screen(screen)
        self._screen = screen

    def __repr__(self) -> str:
        return f"Pipeline(columns={sorted(self._columns)}, screen={self._screen!r})"
