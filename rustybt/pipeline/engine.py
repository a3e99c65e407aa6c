"""The engine: computes a pipeline's terms over a range of dates, in NumPy.

Each term is computed once for all dates (and the extra dates its
consumers' windows reach back to), as one ``(dates, assets)`` array; inputs
come first, and an array is dropped once its last consumer has read it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.exceptions import PipelineError
from rustybt.pipeline.domain import Domain
from rustybt.pipeline.graph import TermGraph
from rustybt.pipeline.loaders.base import AdjustedColumn
from rustybt.pipeline.pipeline import Pipeline
from rustybt.pipeline.term import AssetExists, LoadableTerm, Term
from rustybt.pipeline.windows import Windows
from rustybt.sim.params import session_day

__all__ = ["SimplePipelineEngine"]


class SimplePipelineEngine:
    """Runs pipelines over a bundle's assets.

    Parameters
    ----------
    get_loader
        ``column -> loader`` (a :class:`~rustybt.pipeline.loaders.PipelineLoader`).
    asset_finder
        The bundle's asset finder (asset life spans and countries).
    default_domain
        The domain of pipelines that name none.
    """

    def __init__(
        self, get_loader: Callable[[Any], Any], asset_finder: Any, default_domain: Domain
    ) -> None:
        self._get_loader = get_loader
        self._finder = asset_finder
        self._default_domain = default_domain
        self._lifetimes: dict[Domain, tuple[Any, ...]] = {}

    # --- public API ---------------------------------------------------------------

    def run_pipeline(self, pipeline: Pipeline, start_date: Any, end_date: Any) -> pd.DataFrame:
        """The pipeline's output for every session from ``start_date`` to ``end_date``.

        Returns a DataFrame indexed by (date, asset), one row per asset that
        passes the screen on that date, one column per pipeline column.
        """
        domain = pipeline.domain or self._default_domain
        dates = self._dates(domain, start_date, end_date)
        graph = TermGraph(self._terms(pipeline))
        results, assets, root = self._compute(graph, domain, dates)
        return self._frame(pipeline, results, assets, root, dates)

    def run_chunked_pipeline(
        self, pipeline: Pipeline, start_date: Any, end_date: Any, chunksize: int
    ) -> pd.DataFrame:
        """:meth:`run_pipeline` in chunks of ``chunksize`` sessions, concatenated.

        Bounds memory on long spans; the result equals one run's.
        """
        if chunksize < 1:
            raise PipelineError(f"chunksize must be at least 1, got {chunksize}")
        domain = pipeline.domain or self._default_domain
        dates = self._dates(domain, start_date, end_date)
        parts = [
            self.run_pipeline(pipeline, dates[i], dates[min(i + chunksize, len(dates)) - 1])
            for i in range(0, len(dates), chunksize)
        ]
        return pd.concat(parts) if len(parts) > 1 else parts[0]

    # --- dates, assets -------------------------------------------------------------

    @staticmethod
    def _dates(domain: Domain, start_date: Any, end_date: Any) -> pd.DatetimeIndex:
        start, end = session_day(start_date), session_day(end_date)
        if start > end:
            raise PipelineError(
                f"pipeline start_date {start.date()} is after end_date {end.date()}"
            )
        sessions = domain.sessions()
        dates = sessions[(sessions >= start) & (sessions <= end)]
        if not len(dates):
            raise PipelineError(
                f"no {domain.calendar_name} session between {start.date()} and {end.date()}"
            )
        return dates

    def _lifetime_arrays(self, domain: Domain) -> tuple[Any, ...]:
        """Sids of the domain, with each asset's first and last day (ns), computed once."""
        kept = self._lifetimes.get(domain)
        if kept is None:
            assets = self._finder.retrieve_all(self._finder.sids)
            assets = [a for a in assets if domain.covers(a.country_code)]
            sids = np.array([a.sid for a in assets], dtype=np.int64)
            starts = _ns([a.start_date for a in assets], np.iinfo(np.int64).min)
            ends = _ns([a.end_date for a in assets], np.iinfo(np.int64).max)
            order = np.argsort(sids)
            kept = self._lifetimes[domain] = (sids[order], starts[order], ends[order])
        return kept

    def _root_mask(
        self, domain: Domain, dates: pd.DatetimeIndex
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """The assets alive on some date, and whether each is alive on each date.

        An asset is in a date's pipeline once it started trading before that
        date, through its last day (zipline's reading of life spans).
        """
        sids, starts, ends = self._lifetime_arrays(domain)
        days = dates.as_unit("ns").asi8[:, None]
        alive = (starts[None, :] < days) & (days <= ends[None, :])
        ever = alive.any(axis=0)
        if not ever.any():
            raise PipelineError(
                f"no asset of the bundle is alive between {dates[0].date()} and"
                f" {dates[-1].date()} in domain {domain.calendar_name}"
                f"{'' if domain.country_code is None else ' ' + domain.country_code}"
            )
        return sids[ever], alive[:, ever]

    # --- computing ------------------------------------------------------------------

    @staticmethod
    def _terms(pipeline: Pipeline) -> list[Term]:
        terms = list(pipeline.columns.values())
        if pipeline.screen is not None:
            terms.append(pipeline.screen)
        return terms

    def _compute(
        self, graph: TermGraph, domain: Domain, dates: pd.DatetimeIndex
    ) -> tuple[dict[Term, Any], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        extra = graph.max_extra_rows
        sessions = domain.sessions()
        first = int(sessions.searchsorted(dates[0]))
        if first < extra:
            term = graph.longest_lookback()
            raise PipelineError(
                f"{term!r} needs {extra} sessions before {dates[0].date()}, but the"
                f" {domain.calendar_name} calendar starts {first} sessions earlier"
                f" ({sessions[0].date()}): start the pipeline later or shorten the window"
            )
        all_dates = sessions[first - extra : first + len(dates)]
        assets, alive = self._root_mask(domain, all_dates)
        workspace: dict[Term, Any] = {AssetExists(): alive}
        remaining = dict(graph.consumers)
        outputs = set(graph.outputs)
        for term in graph.order:
            if term not in workspace:
                if isinstance(term, LoadableTerm):
                    self._load(graph, term, domain, all_dates, assets, alive, workspace)
                else:
                    workspace[term] = self._compute_term(graph, term, all_dates, assets, workspace)
            for dependency in term.dependencies:
                remaining[dependency] -= 1
                if remaining[dependency] == 0 and dependency not in outputs:
                    workspace.pop(dependency, None)
        return workspace, assets, alive[extra:]

    def _load(
        self,
        graph: TermGraph,
        term: LoadableTerm,
        domain: Domain,
        all_dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        alive: npt.NDArray[np.bool_],
        workspace: dict[Term, Any],
    ) -> None:
        """Load ``term`` with every other column of its loader and dataset in the graph."""
        loader = self._loader(term)
        group = [
            t
            for t in graph.order
            if isinstance(t, LoadableTerm)
            and t not in workspace
            and t.dataset_key() == term.dataset_key()
            and self._loader(t) is loader
        ]
        rows = max(graph.extra_rows[t] for t in group) + len(all_dates) - graph.max_extra_rows
        dates = all_dates[len(all_dates) - rows :]
        loaded = loader.load_adjusted_array(domain, group, dates, assets, alive[-rows:])
        for column in group:
            if column not in loaded:
                raise PipelineError(f"the loader of {column!r} did not load it")
            workspace[column] = loaded[column]

    def _loader(self, column: Any) -> Any:
        loader = self._get_loader(column)
        if loader is None:
            raise PipelineError(f"no pipeline loader is registered for column {column!r}")
        return loader

    def _compute_term(
        self,
        graph: TermGraph,
        term: Term,
        all_dates: pd.DatetimeIndex,
        assets: npt.NDArray[np.int64],
        workspace: dict[Term, Any],
    ) -> Any:
        n_out = len(all_dates) - graph.max_extra_rows + graph.extra_rows[term]
        dates = all_dates[len(all_dates) - n_out :]
        inputs = [self._input(workspace[i], term, n_out) for i in term.inputs]
        mask = (
            _tail(workspace[term.mask], n_out)
            if term.mask is not None
            else np.ones((n_out, len(assets)), dtype=bool)
        )
        # Float warnings (an empty mean, a zero divisor) are the terms' NaN and inf, as in
        # zipline: silenced here, for every term.
        with np.errstate(all="ignore"):
            out = term._compute(inputs, dates, assets, mask)  # type: ignore[attr-defined]
        if term.ndim == 2:
            _apply_mask(out, mask, term)
        return out

    @staticmethod
    def _input(value: Any, consumer: Term, n_out: int) -> Any:
        """What ``consumer`` reads of an input: windows, or the input's last ``n_out`` rows."""
        if consumer.windowed:
            if isinstance(value, AdjustedColumn):
                rows = n_out + consumer.window_length - 1
                events = value.events
                if events is not None:
                    # Rows before the kept ones are dropped, and with them the
                    # adjustments that touch only them.
                    dropped = value.values.shape[0] - rows
                    k, column, multiplier = events
                    kept = k >= dropped
                    events = (k[kept] - dropped, column[kept], multiplier[kept])
                return Windows(_tail(value.values, rows), consumer.window_length, n_out, events)
            return Windows(value, consumer.window_length, n_out)
        if isinstance(value, AdjustedColumn):
            raise PipelineError(
                f"{consumer!r} reads a dataset column directly; give it a window_length"
                " or read the column's .latest"
            )
        return _tail(value, n_out)

    # --- output ---------------------------------------------------------------------

    def _frame(
        self,
        pipeline: Pipeline,
        results: dict[Term, Any],
        assets: npt.NDArray[np.int64],
        root: npt.NDArray[np.bool_],
        dates: pd.DatetimeIndex,
    ) -> pd.DataFrame:
        n = len(dates)
        keep = root if pipeline.screen is None else _tail(results[pipeline.screen], n) & root
        rows, cols = np.nonzero(keep)
        objects = np.array(self._finder.retrieve_all([int(s) for s in assets]), dtype=object)
        # From codes: no hashing of one asset object per row.
        index = pd.MultiIndex(
            levels=cast(Any, [dates, pd.Index(objects, dtype=object)]),
            codes=cast(Any, [rows, cols]),
            verify_integrity=False,
        )
        data = {
            name: _column_values(term, _tail(results[term], n)[rows, cols])
            for name, term in pipeline.columns.items()
        }
        return pd.DataFrame(data, index=index, columns=list(pipeline.columns))


def _tail(array: Any, rows: int) -> Any:
    return array[array.shape[0] - rows :]


def _apply_mask(out: Any, mask: npt.NDArray[np.bool_], term: Term) -> None:
    if out.shape != mask.shape:
        raise PipelineError(
            f"{term!r} computed an array of shape {out.shape}, expected {mask.shape}"
        )
    outside = ~mask
    if not outside.any():
        return
    if out.dtype.names:
        for name in out.dtype.names:
            out[name][outside] = term.missing_value
    else:
        out[outside] = term.missing_value


def _column_values(term: Term, values: npt.NDArray[Any]) -> Any:
    """A pipeline column's output values (text labels as a categorical)."""
    if values.dtype.kind == "O":
        return pd.Categorical(values)
    return values


def _ns(values: list[Any], default: int) -> npt.NDArray[np.int64]:
    return np.array(
        [default if v is None or pd.isna(v) else session_day(v).value for v in values],
        dtype=np.int64,
    )
