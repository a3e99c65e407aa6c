"""The rule machinery: the rule types, their plans, ``&``, and the rules that need no calendar.

A planned rule computes, once per calendar and vectorized over its sessions,
a *plan*: ``mask[i]``, may it fire in session ``i`` at all, and ``target[i]``,
the one minute (int64 ns UTC) at which it fires, or :data:`ANY_MINUTE` when
any bar of the session will do. ``should_trigger`` is then a few integer
comparisons. The calendar rules built on it live in
:mod:`rustybt.sim.calendar_rules`, the once-a-day wrapper in
:mod:`rustybt.sim.once_per_day`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.calendars import ExchangeCalendar
from rustybt.exceptions import ParameterValidationError
from rustybt.sim.session_index import SessionIndex, session_index, utc_nanos

__all__ = [
    "ANY_MINUTE",
    "Always",
    "ComposedRule",
    "EventRule",
    "Never",
    "Plan",
    "PlannedRule",
    "StatefulRule",
    "StatelessRule",
    "plan_of",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Plan = tuple[BoolArray, IntArray]

#: ``target`` value meaning "any bar of the session".
ANY_MINUTE: Final = int(np.iinfo(np.int64).min)


def _no_calendar(rule: EventRule) -> ParameterValidationError:
    return ParameterValidationError(
        f"{rule!r} has no trading calendar: set rule.cal, or build the rule with make_eventrule",
        context={"rule": repr(rule)},
    )


def plan_of(rule: EventRule, index: SessionIndex) -> Plan | None:
    """``rule``'s plan over ``index``, or None when ``should_trigger`` must be asked instead.

    A subclass that overrides ``should_trigger`` has its own idea of when to
    fire, so a plan inherited from a built-in parent would be wrong for it.
    """
    if type(rule).should_trigger not in _PLANNED_IMPLEMENTATIONS:
        return None
    return rule._plan(index)


class EventRule(ABC):
    """When a scheduled function runs: ``should_trigger(dt)`` for each bar time ``dt``.

    Subclasses implement :meth:`should_trigger`; the built-ins also give a
    vectorized plan (see the module docstring) that makes it O(1).
    """

    _cal: ExchangeCalendar | None = None

    @property
    def cal(self) -> ExchangeCalendar | None:
        """The trading calendar the rule reads sessions, opens and closes from."""
        return self._cal

    @cal.setter
    def cal(self, value: ExchangeCalendar | None) -> None:
        self._cal = value
        self._forget()

    def _forget(self) -> None:  # noqa: B027 - a hook: most rules keep nothing per calendar
        """Drop whatever was computed for the previous calendar."""

    def _plan(self, index: SessionIndex) -> Plan | None:
        """The rule as per-session ``(mask, target)`` arrays, or None if it has no such form."""
        return None

    @abstractmethod
    def should_trigger(self, dt: pd.Timestamp) -> bool:
        """Whether the rule fires at ``dt`` (a bar time, UTC)."""


class StatelessRule(EventRule):
    """A rule whose answer depends on ``dt`` only; such rules combine with ``&``."""

    def and_(self, rule: StatelessRule) -> ComposedRule:
        """The rule that fires when both fire (``rule`` is asked only if ``self`` fires)."""
        return ComposedRule(self, rule, ComposedRule.lazy_and)

    __and__ = and_


class PlannedRule(StatelessRule):
    """A stateless rule answered from its plan; subclasses implement :meth:`_plan`."""

    _lo: int = 1
    _hi: int = 0
    _ok: bool = False
    _target: int = ANY_MINUTE
    _compiled: tuple[SessionIndex, list[bool], list[int]] | None = None

    def _forget(self) -> None:
        # An empty [lo, hi] range makes the next call look its session up.
        self._lo, self._hi = 1, 0
        self._compiled = None

    def _compile(self) -> tuple[SessionIndex, list[bool], list[int]] | None:
        if self._compiled is None:
            cal = self.cal
            if cal is None:
                raise _no_calendar(self)
            index = session_index(cal)
            plan = self._plan(index)
            if plan is None:
                return None
            self._compiled = (index, plan[0].tolist(), plan[1].tolist())
        return self._compiled

    def _seek(self, ns: int) -> None:
        compiled = self._compile()
        assert compiled is not None  # only ComposedRule can lack a plan; it checks first
        index, mask, target = compiled
        i = index.locate(ns)
        if i < 0:
            self._lo = self._hi = ns
            self._ok = False
        else:
            self._lo, self._hi = index.bounds(i)
            self._ok, self._target = mask[i], target[i]

    def should_trigger(self, dt: pd.Timestamp) -> bool:
        """Whether the rule fires at ``dt``: O(1) after the first bar of a session."""
        ns = utc_nanos(dt)
        if ns < self._lo or ns > self._hi:
            self._seek(ns)
        return self._ok and (self._target == ANY_MINUTE or ns == self._target)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ComposedRule(PlannedRule):
    """Two stateless rules combined by a ``composer(first_trigger, second_trigger, dt)``.

    With :meth:`lazy_and` (what ``&`` builds) and two built-in rules the
    combination is planned like any built-in; otherwise both rules are asked.

    Examples
    --------
    >>> rule = Always() & Never()
    >>> type(rule).__name__, type(rule.first).__name__
    ('ComposedRule', 'Always')
    """

    def __init__(
        self,
        first: StatelessRule,
        second: StatelessRule,
        composer: Callable[
            [Callable[[pd.Timestamp], bool], Callable[[pd.Timestamp], bool], pd.Timestamp], bool
        ],
    ) -> None:
        for name, rule in (("first", first), ("second", second)):
            if not isinstance(rule, StatelessRule):
                raise ParameterValidationError(
                    f"only stateless rules can be combined; {name} is {rule!r}",
                    context={"argument": name, "value": rule},
                )
        self.first = first
        self.second = second
        self.composer = composer
        self._generic = composer is not ComposedRule.lazy_and

    @staticmethod
    def lazy_and(
        first_should_trigger: Callable[[pd.Timestamp], bool],
        second_should_trigger: Callable[[pd.Timestamp], bool],
        dt: pd.Timestamp,
    ) -> bool:
        """``first(dt) and second(dt)``, asking ``second`` only when ``first`` fires."""
        return bool(first_should_trigger(dt)) and bool(second_should_trigger(dt))

    @property
    def cal(self) -> ExchangeCalendar | None:
        """The calendar of the parts (setting it sets both)."""
        return self.first.cal

    @cal.setter
    def cal(self, value: ExchangeCalendar | None) -> None:
        self.first.cal = self.second.cal = value
        self._forget()

    def _forget(self) -> None:
        super()._forget()
        self._generic = self.composer is not ComposedRule.lazy_and

    def _plan(self, index: SessionIndex) -> Plan | None:
        if self.composer is not ComposedRule.lazy_and:
            return None
        a = plan_of(self.first, index)
        b = plan_of(self.second, index)
        if a is None or b is None:
            return None
        (mask_a, t_a), (mask_b, t_b) = a, b
        # Both must fire in the same minute: "any" yields to the other's
        # minute, and two different minutes never coincide.
        target = np.where(t_a == ANY_MINUTE, t_b, t_a)
        agree = (t_a == ANY_MINUTE) | (t_b == ANY_MINUTE) | (t_a == t_b)
        return mask_a & mask_b & agree, target

    def should_trigger(self, dt: pd.Timestamp) -> bool:
        """Whether both parts fire at ``dt``."""
        if not self._generic:
            if self._compiled is not None:
                return super().should_trigger(dt)
            # A user rule may need no calendar; then only the generic path works.
            if self.cal is not None and self._compile() is not None:
                return super().should_trigger(dt)
            self._generic = True
        return bool(self.composer(self.first.should_trigger, self.second.should_trigger, dt))

    def __repr__(self) -> str:
        return f"({self.first!r} & {self.second!r})"


class Always(PlannedRule):
    """Fires at every bar (``date_rules.every_day()``, ``time_rules.every_minute()``)."""

    def should_trigger(self, dt: pd.Timestamp) -> bool:
        """Always True, with or without a calendar."""
        return True

    def _plan(self, index: SessionIndex) -> Plan:
        n = len(index)
        return np.ones(n, dtype=bool), np.full(n, ANY_MINUTE, dtype=np.int64)


class Never(PlannedRule):
    """Never fires."""

    def should_trigger(self, dt: pd.Timestamp) -> bool:
        """Always False."""
        return False

    def _plan(self, index: SessionIndex) -> Plan:
        n = len(index)
        return np.zeros(n, dtype=bool), np.full(n, ANY_MINUTE, dtype=np.int64)


_PLANNED_IMPLEMENTATIONS: Final = (
    PlannedRule.should_trigger,
    ComposedRule.should_trigger,
    Always.should_trigger,
    Never.should_trigger,
)


class StatefulRule(EventRule):
    """A rule that wraps another and keeps state between calls (default inner rule: Always)."""

    def __init__(self, rule: EventRule | None = None) -> None:
        self.rule: EventRule = rule if rule is not None else Always()

    @property
    def cal(self) -> ExchangeCalendar | None:
        """The calendar of the inner rule (setting it sets the inner rule's)."""
        return self.rule.cal

    @cal.setter
    def cal(self, value: ExchangeCalendar | None) -> None:
        self.rule.cal = value
        self._forget()
