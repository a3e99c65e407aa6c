"""``OncePerDay``: a rule that fires at most once a session (or once in 24 hours, as zipline)."""

from __future__ import annotations

import pandas as pd

from rustybt.exceptions import ParameterValidationError
from rustybt.sim.rule_base import ANY_MINUTE, EventRule, StatefulRule, plan_of
from rustybt.sim.session_index import DAY_NS, SessionIndex, session_index, utc_nanos

__all__ = ["OncePerDay"]


class OncePerDay(StatefulRule):
    """Fires at the first bar of each day at which the inner rule fires, then not again that day.

    Parameters
    ----------
    rule
        The inner rule (default: :class:`Always`).
    period
        What a "day" is. ``"session"`` (default): a session of the calendar.
        ``"24h"``: zipline's definition, 24 hours from the first bar seen in
        the day. They differ in one case: with daily data, zipline's window
        from one close still covers the next session's close when that session
        closes early (a 13:00 close after a 16:00 one), so zipline never runs
        scheduled functions on such half days (2024-07-03, 2024-12-24).
        ``"24h"`` reproduces that, for like-for-like comparisons with zipline.
        Without a calendar, ``"24h"`` is used.

    Examples
    --------
    >>> import pandas as pd
    >>> from rustybt.calendars import get_calendar
    >>> from rustybt.sim.rule_base import Always
    >>> rule = OncePerDay(Always())
    >>> rule.cal = get_calendar("XNYS")
    >>> minutes = pd.date_range("2024-01-02 14:31", periods=3, freq="min", tz="UTC")
    >>> [rule.should_trigger(m) for m in minutes]
    [True, False, False]
    """

    def __init__(self, rule: EventRule | None = None, *, period: str = "session") -> None:
        if period not in ("session", "24h"):
            raise ParameterValidationError(
                f"period must be 'session' or '24h', got {period!r}",
                context={"argument": "period", "value": period},
            )
        super().__init__(rule)
        self.period = period
        self.triggered = False
        self._forget()

    def _forget(self) -> None:
        self.triggered = False
        self._lo, self._hi = 1, 0
        self._ok, self._target = False, ANY_MINUTE
        self._compiled: tuple[SessionIndex, list[bool], list[int]] | None = None
        self._generic = False
        self._checked = False

    def _new_period(self, ns: int) -> None:
        self.triggered = False
        if self.cal is None or self.period == "24h":
            # zipline's day; the inner rule is asked (built-ins answer in O(1)).
            self._generic = True
            self._lo, self._hi = ns, ns + DAY_NS - 1
            return
        if not self._checked:
            self._checked = True
            index = session_index(self.cal)
            plan = plan_of(self.rule, index)
            if plan is None:
                self._generic = True
            self._compiled = (
                index,
                [] if plan is None else plan[0].tolist(),
                [] if plan is None else plan[1].tolist(),
            )
        assert self._compiled is not None
        index, mask, target = self._compiled
        i = index.locate(ns)
        if i < 0:
            self._lo = self._hi = ns
            self._ok = False
        else:
            self._lo, self._hi = index.bounds(i)
            if not self._generic:
                self._ok, self._target = mask[i], target[i]

    def should_trigger(self, dt: pd.Timestamp) -> bool:
        """Whether the inner rule fires at ``dt`` for the first time this session."""
        ns = utc_nanos(dt)
        if ns < self._lo or ns > self._hi:
            self._new_period(ns)
        if self.triggered:
            return False
        if self._generic:
            fire = bool(self.rule.should_trigger(dt))
        else:
            fire = self._ok and (self._target == ANY_MINUTE or ns == self._target)
        if fire:
            self.triggered = True
        return fire

    def __repr__(self) -> str:
        extra = "" if self.period == "session" else f", period={self.period!r}"
        return f"OncePerDay({self.rule!r}{extra})"
