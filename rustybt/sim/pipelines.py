"""Pipelines attached to a running algorithm: computed in chunks, served a day at a time.

As zipline does, a pipeline is computed for a chunk of sessions at once (a
short first chunk, so a run starts quickly, then long ones) and each
session's rows are read from the chunk's result. ``attach_pipeline`` and
``pipeline_output`` are ``TradingAlgorithm`` methods (and ``rustybt.api``
functions) defined here. The pipeline package is imported only when an
algorithm attaches a pipeline, so runs without one do not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import Any, Protocol

import pandas as pd

from rustybt.exceptions import PipelineError, PipelineOutputNotFound
from rustybt.sim.params import session_day

__all__ = ["AttachedPipelines", "attach_pipeline", "default_chunks", "pipeline_output"]

#: zipline's chunking: 5 sessions first, then 126 (about half a year) at a time.
FIRST_CHUNK, LATER_CHUNKS = 5, 126


def default_chunks() -> Iterator[int]:
    """The default chunk sizes: :data:`FIRST_CHUNK`, then :data:`LATER_CHUNKS` forever."""
    return chain([FIRST_CHUNK], repeat(LATER_CHUNKS))


@dataclass
class _Attached:
    pipeline: Any
    chunks: Iterator[int]
    eager: bool
    frame: pd.DataFrame | None = None
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    by_day: dict[pd.Timestamp, pd.DataFrame] = field(default_factory=dict)


class PipelineAlgorithm(Protocol):
    """What the pipeline methods read of the algorithm."""

    data_portal: Any
    trading_calendar: Any
    sim_params: Any
    datetime: pd.Timestamp
    pipelines: AttachedPipelines

    @property
    def initialized(self) -> bool: ...


class AttachedPipelines:
    """The pipelines one algorithm attached, and their computed chunks.

    Parameters
    ----------
    algorithm
        The algorithm; its portal and calendar are read when the first
        pipeline is computed.
    custom_loader
        Loaders of non-pricing columns (column -> loader), zipline's
        ``run_algorithm(custom_loader=...)``.
    """

    def __init__(
        self, algorithm: PipelineAlgorithm, custom_loader: Mapping[Any, Any] | None = None
    ) -> None:
        self._algorithm = algorithm
        self._custom_loader = custom_loader
        self._engine: Any = None
        self._attached: dict[str, _Attached] = {}

    def _engine_for_run(self) -> Any:
        if self._engine is None:
            from rustybt.pipeline.bundle import bundle_engine

            algo = self._algorithm
            name = algo.trading_calendar.name
            self._engine = bundle_engine(algo.data_portal, name, self._custom_loader)
        return self._engine

    def attach(self, pipeline: Any, name: str, chunks: Any, eager: bool) -> Any:
        """Register ``pipeline`` under ``name`` (``chunks``: an int, an iterable, or None)."""
        from rustybt.pipeline.pipeline import Pipeline

        if not isinstance(pipeline, Pipeline):
            raise PipelineError(f"attach_pipeline takes a Pipeline, not {pipeline!r}")
        if name in self._attached:
            raise PipelineError(f"a pipeline is already attached as {name!r}")
        if chunks is None:
            sizes: Iterator[int] = default_chunks()
        elif isinstance(chunks, int):
            sizes = repeat(chunks)
        else:
            sizes = iter(chunks)
        self._attached[name] = _Attached(pipeline, sizes, eager)
        return pipeline

    def compute_eager(self, today: pd.Timestamp) -> None:
        """Make sure every eager pipeline has today's rows (before ``before_trading_start``)."""
        for name, attached in self._attached.items():
            if attached.eager:
                self._chunk_for(name, attached, session_day(today))

    def output(self, name: str, today: pd.Timestamp) -> pd.DataFrame:
        """Today's rows of pipeline ``name``, indexed by asset."""
        try:
            attached = self._attached[name]
        except KeyError:
            known = ", ".join(repr(n) for n in self._attached) or "none"
            raise PipelineOutputNotFound(
                f"no pipeline is attached as {name!r} (attached: {known})",
                context={"name": name},
            ) from None
        day = session_day(today)
        frame = self._chunk_for(name, attached, day)
        rows = attached.by_day.get(day)
        if rows is None:
            if day in frame.index.get_level_values(0):
                rows = pd.DataFrame(frame.xs(day, level=0))
            else:
                rows = pd.DataFrame(columns=frame.columns, index=pd.Index([], dtype=object))
            attached.by_day = {day: rows}
        # A copy per call, as zipline's: a caller's edits never reach the next caller.
        return rows.copy()

    def _chunk_for(self, name: str, attached: _Attached, day: pd.Timestamp) -> pd.DataFrame:
        if attached.frame is not None and attached.first <= day <= attached.last:  # type: ignore[operator]
            return attached.frame
        sessions = pd.DatetimeIndex(self._algorithm.trading_calendar.sessions)
        start = int(sessions.get_indexer(pd.DatetimeIndex([day]))[0])
        if start < 0:
            raise PipelineError(f"pipeline {name!r}: {day.date()} is not a session")
        last = session_day(self._algorithm.sim_params.last_session)
        stop = int(sessions.searchsorted(last, side="right")) - 1
        size = next(attached.chunks)
        end = sessions[max(start, min(start + size, stop))]
        engine = self._engine_for_run()
        attached.frame = engine.run_pipeline(attached.pipeline, day, end)
        attached.first, attached.last = day, end
        attached.by_day = {}
        return attached.frame


def attach_pipeline(
    algo: PipelineAlgorithm, pipeline: Any, name: str, chunks: Any = None, eager: bool = True
) -> Any:
    """Compute ``pipeline`` every session, read as ``pipeline_output(name)`` (zipline's).

    Call it in ``initialize``. ``chunks``: how many sessions to compute at a
    time (an int, or an iterable of ints; default 5, then 126); ``eager``:
    compute before ``before_trading_start`` even if no output is read.
    Returns ``pipeline``.
    """
    if algo.initialized:
        raise PipelineError("attach_pipeline can only be called in initialize")
    return algo.pipelines.attach(pipeline, name, chunks, eager)


def pipeline_output(algo: PipelineAlgorithm, name: str) -> pd.DataFrame:
    """Today's rows of the pipeline attached as ``name``: a DataFrame indexed by asset.

    Available from ``before_trading_start`` of the first session on.
    """
    if not algo.initialized:
        raise PipelineError(
            "pipeline_output cannot be called in initialize: call it in"
            " before_trading_start or later"
        )
    return algo.pipelines.output(name, algo.datetime)
