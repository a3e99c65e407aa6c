"""Cancel policies: whether open orders are cancelled automatically at an event.

Examples
--------
>>> from rustybt.sim.clock import BAR, SESSION_END
>>> EODCancel().should_cancel(SESSION_END), EODCancel().should_cancel(BAR)
(True, False)
>>> NeverCancel().should_cancel(SESSION_END)
False
"""

from __future__ import annotations

import abc
from typing import Any

from rustybt.sim.clock import SESSION_END

__all__ = ["CancelPolicy", "EODCancel", "NeverCancel"]


class CancelPolicy(abc.ABC):
    """Decides, per simulation event, whether all open orders are cancelled.

    Attributes
    ----------
    warn_on_cancel
        Whether the blotter logs a warning for each order it cancels.
    """

    warn_on_cancel: bool = False

    @abc.abstractmethod
    def should_cancel(self, event: Any) -> bool:
        """Whether open orders are cancelled at ``event`` (a simulation event)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(warn_on_cancel={self.warn_on_cancel})"


class EODCancel(CancelPolicy):
    """Cancel every open order at the end of each session.

    Parameters
    ----------
    warn_on_cancel
        Log a warning for each cancelled order (default True).

    Examples
    --------
    >>> EODCancel(warn_on_cancel=False).warn_on_cancel
    False
    """

    def __init__(self, warn_on_cancel: bool = True) -> None:
        self.warn_on_cancel = warn_on_cancel

    def should_cancel(self, event: Any) -> bool:
        return bool(event == SESSION_END)


class NeverCancel(CancelPolicy):
    """Orders stay open until filled or cancelled by the algorithm (the default).

    Examples
    --------
    >>> NeverCancel().warn_on_cancel
    False
    """

    def __init__(self) -> None:
        self.warn_on_cancel = False

    def should_cancel(self, event: Any) -> bool:
        return False
