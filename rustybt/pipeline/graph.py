"""A pipeline's terms in dependency order, with the extra rows each one needs."""

from __future__ import annotations

from collections.abc import Iterable

from rustybt.exceptions import PipelineError
from rustybt.pipeline.term import AssetExists, Term

__all__ = ["TermGraph"]


class TermGraph:
    """Every term reachable from ``outputs``, ordered so that inputs come first.

    ``extra_rows[term]`` is how many dates before the first output date the
    term must be computed for, so that every window reading it is full: a
    windowed consumer of length ``W`` needing ``e`` extra rows asks ``e + W - 1``
    of its inputs. Interned terms make shared terms one node, computed once.
    """

    def __init__(self, outputs: Iterable[Term]) -> None:
        self.outputs = list(dict.fromkeys(outputs))
        self.order = self._ordered([*self.outputs, AssetExists()])
        self.extra_rows = self._extra_rows()
        self.consumers: dict[Term, int] = dict.fromkeys(self.order, 0)
        for term in self.order:
            for dependency in term.dependencies:
                self.consumers[dependency] += 1

    @staticmethod
    def _ordered(roots: list[Term]) -> list[Term]:
        order: list[Term] = []
        state: dict[Term, int] = {}  # 1: being visited, 2: done
        for root in roots:
            stack: list[tuple[Term, bool]] = [(root, False)]
            while stack:
                term, expanded = stack.pop()
                if expanded:
                    state[term] = 2
                    order.append(term)
                    continue
                if state.get(term) == 2:
                    continue
                if state.get(term) == 1:
                    raise PipelineError(f"pipeline term {term!r} depends on itself")
                state[term] = 1
                stack.append((term, True))
                for dependency in term.dependencies:
                    if state.get(dependency) != 2:
                        stack.append((dependency, False))
        return order

    def _extra_rows(self) -> dict[Term, int]:
        extra: dict[Term, int] = dict.fromkeys(self.order, 0)
        for term in reversed(self.order):  # consumers before what they read
            for dependency, rows in term.dependencies.items():
                extra[dependency] = max(extra[dependency], extra[term] + rows)
        return extra

    @property
    def max_extra_rows(self) -> int:
        return max(self.extra_rows.values(), default=0)

    def longest_lookback(self) -> Term:
        """The term needing the most extra rows (named in a too-short-data error)."""
        return max(self.order, key=lambda t: self.extra_rows[t] + t.window_length)
