"""Metric plugins: each writes some fields of the performance packet.

A metric is any object with some of these hooks (the tracker calls only the
ones it has):

``start_of_simulation(ledger, emission_rate, trading_calendar, sessions, benchmark_source)``
``start_of_session(ledger, session, data_portal)``
``end_of_bar(packet, ledger, dt, session_ix, data_portal)``
``end_of_session(packet, ledger, session, session_ix, data_portal)``
``end_of_simulation(packet, ledger, trading_calendar, sessions, data_portal, benchmark_source)``

Packets hold floats (and ints, Timestamps, lists of dicts): Decimal ledger
values are converted as they are written. Fields, sections and the None/NaN
conventions are zipline's: a statistic that is not finite (a volatility or
Sharpe ratio of one return) is ``None``.

The risk statistics stream: each session's figures cost O(1), from running
moments (:mod:`rustybt.finance.metrics.risk`), and equal empyrical's on the
returns so far. Nothing here imports empyrical (or scipy) at run time.

Examples
--------
>>> import numpy as np
>>> m = ReturnsStatistic(np.mean, "mean_return")
>>> m.end_of_session
<bound method ReturnsStatistic.end_of_bar of <...ReturnsStatistic object at ...>>
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from decimal import Decimal
from itertools import compress
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.exceptions import DataNotFoundError, RustyBTError
from rustybt.finance.ledger import Ledger
from rustybt.finance.metrics.risk import (
    Drawdown,
    PairMoments,
    ReturnsMoments,
    alpha_beta,
    annual_volatility,
    max_drawdown,
    sharpe_ratio,
    sortino_ratio,
)

__all__ = [
    "PNL",
    "AlphaBeta",
    "BenchmarkReturnsAndVolatility",
    "CashFlow",
    "ConstantCumulativeRiskMetric",
    "DailyLedgerField",
    "LedgerFields",
    "MaxLeverage",
    "NumTradingDays",
    "Orders",
    "PeriodLabel",
    "Positions",
    "Returns",
    "ReturnsRisk",
    "ReturnsStatistic",
    "SimpleLedgerField",
    "StartOfPeriodLedgerField",
    "Transactions",
]

Packet = dict[str, Any]
FloatArray = npt.NDArray[np.float64]


def packet_values(values: Iterable[Any]) -> list[Any]:
    """Ledger values as they go into a packet: Decimal -> float, the rest unchanged."""
    return [float(value) if isinstance(value, Decimal) else value for value in values]


def packet_value(value: Any) -> Any:
    """One ledger value as it goes into a packet (see :func:`packet_values`)."""
    return packet_values((value,))[0]


def _finite_or_none(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _nan_to_none(value: float) -> float | None:
    return None if value != value else value


def _field_name(ledger_field: str, packet_field: str | None) -> str:
    return ledger_field.rsplit(".", 1)[-1] if packet_field is None else packet_field


class _PeriodMetric:
    """A metric that fills the same fields at the end of a bar and of a session.

    Subclasses write ``_end_of_period(section, packet, ledger, dt)``; ``section``
    is ``"minute_perf"`` or ``"daily_perf"`` and ``dt`` the bar's time (None at
    a session's end).
    """

    def _end_of_period(
        self, section: str, packet: Packet, ledger: Ledger, dt: pd.Timestamp | None
    ) -> None:
        raise NotImplementedError

    def end_of_bar(
        self, packet: Packet, ledger: Ledger, dt: pd.Timestamp, session_ix: int, data_portal: Any
    ) -> None:
        self._end_of_period("minute_perf", packet, ledger, dt)

    def end_of_session(
        self,
        packet: Packet,
        ledger: Ledger,
        session: pd.Timestamp,
        session_ix: int,
        data_portal: Any,
    ) -> None:
        self._end_of_period("daily_perf", packet, ledger, None)


class SimpleLedgerField(_PeriodMetric):
    """Write a ledger attribute (dotted path) into the period section each bar/session.

    Parameters
    ----------
    ledger_field
        Dotted attribute path on the ledger, e.g. ``"portfolio.cash"``.
    packet_field
        Packet key; default the last part of ``ledger_field``.
    """

    #: Whether the value goes into the cumulative section too.
    cumulative = False

    def __init__(self, ledger_field: str, packet_field: str | None = None) -> None:
        owner, _, leaf = ledger_field.rpartition(".")
        # The object holding the field (``ledger.portfolio``) and the field's name
        # in it: :class:`LedgerFields` reads each such object once for all its fields.
        self.owner_path = owner
        self.leaf = leaf
        self.packet_field = _field_name(ledger_field, packet_field)
        self._alone: LedgerFields | None = None

    def _group(self) -> LedgerFields:
        """This field as a group of one: fields are read and written only by groups."""
        if self._alone is None:
            self._alone = LedgerFields((self,))
        return self._alone

    def _end_of_period(
        self, section: str, packet: Packet, ledger: Ledger, dt: pd.Timestamp | None
    ) -> None:
        self._group()._end_of_period(section, packet, ledger, dt)


class DailyLedgerField(SimpleLedgerField):
    """Like :class:`SimpleLedgerField`, and also into the cumulative section."""

    cumulative = True


class StartOfPeriodLedgerField(SimpleLedgerField):
    """A ledger attribute's value at the start of the session (and of the simulation)."""

    def start_of_simulation(
        self,
        ledger: Ledger,
        emission_rate: str,
        trading_calendar: Any,
        sessions: pd.DatetimeIndex,
        benchmark_source: Any,
    ) -> None:
        self._group().start_of_simulation(
            ledger, emission_rate, trading_calendar, sessions, benchmark_source
        )

    def start_of_session(self, ledger: Ledger, session: pd.Timestamp, data_portal: Any) -> None:
        self._group().start_of_session(ledger, session, data_portal)


def _reader(leaves: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A C-level getter of ``leaves`` that always returns a tuple."""
    get = operator.attrgetter(*leaves)
    if len(leaves) > 1:
        return get
    return lambda owner: (get(owner),)


class _OwnerReads(NamedTuple):
    """Fields one object holds, read in one call: ``read(owner(ledger))``, or
    ``read(ledger)`` for the ledger's own (``owner`` None)."""

    owner: Callable[[Ledger], Any] | None
    read: Callable[[Any], tuple[Any, ...]]


def _by_owner(
    fields: Iterable[SimpleLedgerField],
) -> tuple[tuple[_OwnerReads, ...], tuple[SimpleLedgerField, ...]]:
    """The reads of ``fields`` grouped by owner, and the fields in the order they read."""
    groups: dict[str, list[SimpleLedgerField]] = {}
    for field in fields:
        groups.setdefault(field.owner_path, []).append(field)
    reads = tuple(
        _OwnerReads(
            operator.attrgetter(path) if path else None,
            _reader(tuple(f.leaf for f in members)),
        )
        for path, members in groups.items()
    )
    return reads, tuple(f for members in groups.values() for f in members)


def _read(reads: tuple[_OwnerReads, ...], ledger: Ledger) -> list[Any]:
    """The packet values of every read, in order."""
    values: list[Any] = []
    for owner, read in reads:
        values += read(ledger if owner is None else owner(ledger))
    return packet_values(values)


class LedgerFields(_PeriodMetric):
    """Several ledger-field metrics run as one: each object their fields sit in
    (``ledger.portfolio``, ``ledger.account``, ``ledger.position_tracker.stats``)
    is read once for all of them, in one C-level call, and each packet section
    is written in one update.

    The packet is the one the fields write on their own (each field alone is
    run as a group of one).

    Parameters
    ----------
    fields
        :class:`SimpleLedgerField`, :class:`DailyLedgerField` and
        :class:`StartOfPeriodLedgerField` objects.

    Examples
    --------
    >>> fields = LedgerFields([DailyLedgerField("portfolio.cash", "ending_cash")])
    >>> len(fields.fields)
    1
    """

    def __init__(self, fields: Iterable[SimpleLedgerField]) -> None:
        self.fields = tuple(fields)
        starting = [f for f in self.fields if isinstance(f, StartOfPeriodLedgerField)]
        self._start_reads, starting_order = _by_owner(starting)
        self._reads, read_order = _by_owner(f for f in self.fields if f not in starting)
        start_keys = tuple(f.packet_field for f in starting_order)
        # A period section gets the starting fields' session-start values, then
        # the values read; the cumulative one their simulation-start values,
        # then the values read of the fields that write there too.
        self._period_keys = start_keys + tuple(f.packet_field for f in read_order)
        self._cumulative = tuple(f.cumulative for f in read_order)
        self._cumulative_keys = start_keys + tuple(
            f.packet_field for f in read_order if f.cumulative
        )
        self._at_simulation_start: list[Any] = [None] * len(starting)
        self._at_session_start: list[Any] = [None] * len(starting)

    def start_of_simulation(
        self,
        ledger: Ledger,
        emission_rate: str,
        trading_calendar: Any,
        sessions: pd.DatetimeIndex,
        benchmark_source: Any,
    ) -> None:
        self._at_simulation_start = _read(self._start_reads, ledger)

    def start_of_session(self, ledger: Ledger, session: pd.Timestamp, data_portal: Any) -> None:
        self._at_session_start = _read(self._start_reads, ledger)

    def _end_of_period(
        self, section: str, packet: Packet, ledger: Ledger, dt: pd.Timestamp | None
    ) -> None:
        values = _read(self._reads, ledger)
        # The keys and the values line up by construction (see __init__): no
        # ``strict`` check (an argument to zip costs as much as a field here).
        packet[section].update(zip(self._period_keys, self._at_session_start + values))  # noqa: B905
        cumulative = self._at_simulation_start + list(compress(values, self._cumulative))
        packet["cumulative_perf"].update(zip(self._cumulative_keys, cumulative))  # noqa: B905


class Returns(_PeriodMetric):
    """The period's and the cumulative return (``returns``, ``algorithm_period_return``)."""

    def _end_of_period(
        self, section: str, packet: Packet, ledger: Ledger, dt: pd.Timestamp | None
    ) -> None:
        packet[section]["returns"] = ledger.todays_returns
        cumulative = float(ledger.returns)
        packet["cumulative_perf"]["returns"] = cumulative
        packet["cumulative_risk_metrics"]["algorithm_period_return"] = cumulative


class BenchmarkReturnsAndVolatility:
    """``benchmark_period_return`` and ``benchmark_volatility`` from the benchmark source.

    Streaming: a session's figures fold its daily return into a running
    product and running moments (O(1) a session). In minute emission a bar
    finds its minute (a binary search) and compounds the minutes since the
    previous bar, each once: the cumulative return compounds every minute so far, the
    volatility is empyrical's ``annual_volatility`` of the completed sessions'
    daily returns plus today's compounded return so far (NaN on the first
    session, as zipline's).
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._daily: list[float] = []
        self._moments = ReturnsMoments()
        self._growth = 1.0  # product of (1 + daily return), NaN for good after a NaN
        self._folded = 0
        # minute emission only
        self._minutes: npt.NDArray[np.int64] | None = None
        self._minute_returns: FloatArray = np.array([])
        self._session_starts: npt.NDArray[np.int64] = np.array([], dtype=np.int64)
        self._walked = 0  # minutes compounded so far
        self._minute_growth = 1.0  # product of (1 + minute return), NaN minutes skipped
        self._day = -1  # the session whose minutes ``_day_growth`` compounds
        self._day_growth = 1.0  # NaN for the rest of the day after a NaN

    def start_of_simulation(
        self,
        ledger: Ledger,
        emission_rate: str,
        trading_calendar: Any,
        sessions: pd.DatetimeIndex,
        benchmark_source: Any,
    ) -> None:
        self._reset()
        daily = benchmark_source.daily_returns(sessions[0], sessions[-1])
        self._daily = np.asarray(daily, dtype=np.float64).tolist()
        if emission_rate == "minute":
            open_ = trading_calendar.session_first_minute(sessions[0])
            close = trading_calendar.session_close(sessions[-1])
            minute = benchmark_source.get_range(open_, close)
            self._minutes = pd.DatetimeIndex(minute.index).asi8
            self._minute_returns = minute.to_numpy(dtype=np.float64)
            first_minutes = pd.DatetimeIndex(trading_calendar.first_minutes.loc[sessions]).asi8
            self._session_starts = np.searchsorted(self._minutes, first_minutes)

    def _fold_through(self, sessions: int) -> None:
        """Fold the daily returns of the sessions before ``sessions`` into the state."""
        while self._folded < sessions:
            value = self._daily[self._folded]
            self._growth *= 1.0 + value
            self._moments.add(value)
            self._folded += 1

    def _walk(self, stop: int, today: bool) -> None:
        """Compound the minute returns before position ``stop`` (into today's, if ``today``)."""
        returns = self._minute_returns
        for ix in range(self._walked, stop):
            value = float(returns[ix])
            if value == value:
                self._minute_growth *= 1.0 + value
            if today:
                self._day_growth *= 1.0 + value
        self._walked = max(self._walked, stop)

    def end_of_bar(
        self, packet: Packet, ledger: Ledger, dt: pd.Timestamp, session_ix: int, data_portal: Any
    ) -> None:
        minutes = self._minutes
        if minutes is None:
            raise RuntimeError("minute benchmark figures exist only with emission_rate='minute'")
        self._fold_through(session_ix)
        if session_ix != self._day:
            # Minutes of earlier sessions that no bar reached still compound
            # into the cumulative return, never into today's.
            self._walk(int(self._session_starts[session_ix]), today=False)
            self._day, self._day_growth = session_ix, 1.0
        now_ns = pd.Timestamp(dt).value
        stop = int(np.searchsorted(minutes, now_ns, side="right"))
        if stop == 0 or minutes[stop - 1] != now_ns:
            raise DataNotFoundError(
                f"the benchmark has no minute return at {dt}",
                context={"dt": dt},
            )
        self._walk(stop, today=True)
        now = float(self._minute_returns[stop - 1])
        risk = packet["cumulative_risk_metrics"]
        # A minute without a return has no cumulative figure (pandas' cumprod).
        risk["benchmark_period_return"] = _finite_or_none(
            self._minute_growth - 1.0 if now == now else math.nan
        )
        today = self._day_growth - 1.0
        risk["benchmark_volatility"] = _finite_or_none(annual_volatility(self._moments.plus(today)))

    def end_of_session(
        self,
        packet: Packet,
        ledger: Ledger,
        session: pd.Timestamp,
        session_ix: int,
        data_portal: Any,
    ) -> None:
        self._fold_through(session_ix + 1)
        risk = packet["cumulative_risk_metrics"]
        # zipline keeps an infinite figure here and drops only NaN.
        risk["benchmark_period_return"] = _nan_to_none(self._growth - 1.0)
        risk["benchmark_volatility"] = _nan_to_none(annual_volatility(self._moments))


class PNL(_PeriodMetric):
    """The period's and the cumulative profit (``pnl``)."""

    def __init__(self) -> None:
        self._previous_pnl = Decimal(0)

    def start_of_simulation(self, ledger: Ledger, *args: Any) -> None:
        self._previous_pnl = Decimal(0)

    def start_of_session(self, ledger: Ledger, session: pd.Timestamp, data_portal: Any) -> None:
        self._previous_pnl = ledger.pnl

    def _end_of_period(
        self, section: str, packet: Packet, ledger: Ledger, dt: pd.Timestamp | None
    ) -> None:
        pnl = ledger.pnl
        packet[section]["pnl"] = float(pnl - self._previous_pnl)
        packet["cumulative_perf"]["pnl"] = float(pnl)


class CashFlow(_PeriodMetric):
    """The period's and the cumulative cash flow, named ``capital_used`` in packets."""

    def __init__(self) -> None:
        self._previous_cash_flow = Decimal(0)

    def start_of_simulation(self, ledger: Ledger, *args: Any) -> None:
        self._previous_cash_flow = Decimal(0)

    def _end_of_period(
        self, section: str, packet: Packet, ledger: Ledger, dt: pd.Timestamp | None
    ) -> None:
        flow = ledger.cash_flow
        packet[section]["capital_used"] = float(flow - self._previous_cash_flow)
        packet["cumulative_perf"]["capital_used"] = float(flow)
        if section == "daily_perf":
            self._previous_cash_flow = flow


class Orders(_PeriodMetric):
    """The orders placed or changed in the bar / session (zipline's order dicts)."""

    def _end_of_period(
        self, section: str, packet: Packet, ledger: Ledger, dt: pd.Timestamp | None
    ) -> None:
        packet[section]["orders"] = ledger.order_records(dt)


class Transactions(_PeriodMetric):
    """The fills of the bar / session (zipline's transaction dicts)."""

    def _end_of_period(
        self, section: str, packet: Packet, ledger: Ledger, dt: pd.Timestamp | None
    ) -> None:
        packet[section]["transactions"] = ledger.transaction_records(dt)


class Positions(_PeriodMetric):
    """The open positions (zipline's position dicts)."""

    def _end_of_period(
        self, section: str, packet: Packet, ledger: Ledger, dt: pd.Timestamp | None
    ) -> None:
        packet[section]["positions"] = ledger.position_records()


class ReturnsStatistic:
    """A statistic of the daily returns so far, from any function (zipline's plug-in).

    The function sees the whole series every session (O(n) a session); the
    default metrics set streams its statistics instead (:class:`ReturnsRisk`).

    Parameters
    ----------
    function
        Called with the float64 array of daily returns up to the current session.
    field_name
        Packet key; default ``function.__name__``.
    """

    def __init__(
        self, function: Callable[[FloatArray], Any], field_name: str | None = None
    ) -> None:
        self._function = function
        self._field_name = function.__name__ if field_name is None else field_name

    def end_of_bar(
        self, packet: Packet, ledger: Ledger, dt: Any, session_ix: int, data_portal: Any
    ) -> None:
        value = self._function(ledger.daily_returns_array[: session_ix + 1])
        packet["cumulative_risk_metrics"][self._field_name] = _finite_or_none(value)

    end_of_session = end_of_bar


class _StreamedReturns:
    """Folds each completed session's return into a streaming state once, in order.

    Subclasses fold with ``_add(session_ix, value)`` and write a packet with
    ``_write(packet, provisional)``: ``provisional`` is None at a session's
    end, and the running session's return so far at the end of a bar
    (minute emission), to be counted without being folded in.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._folded = 0

    def _add(self, session_ix: int, value: float) -> None:
        raise NotImplementedError

    def _write(self, packet: Packet, session_ix: int, provisional: float | None) -> None:
        raise NotImplementedError

    def _fold_through(self, returns: FloatArray, sessions: int) -> None:
        folded = self._folded
        if sessions < folded:
            raise RustyBTError(
                f"risk metrics already hold {folded} sessions; session {sessions} came late",
                context={"folded": folded, "session_ix": sessions},
            )
        for ix in range(folded, sessions):
            self._add(ix, float(returns[ix]))
        self._folded = sessions

    def end_of_bar(
        self, packet: Packet, ledger: Ledger, dt: Any, session_ix: int, data_portal: Any
    ) -> None:
        returns = ledger.daily_returns_array
        self._fold_through(returns, session_ix)
        self._write(packet, session_ix, float(returns[session_ix]))

    def end_of_session(
        self, packet: Packet, ledger: Ledger, session: Any, session_ix: int, data_portal: Any
    ) -> None:
        self._fold_through(ledger.daily_returns_array, session_ix + 1)
        self._write(packet, session_ix, None)


class ReturnsRisk(_StreamedReturns):
    """``algo_volatility``, ``sharpe``, ``sortino`` and ``max_drawdown`` of the returns so far.

    empyrical's statistics of the daily returns up to the session (in minute
    emission, with the running session's return so far), each in O(1) from
    running moments (:mod:`rustybt.finance.metrics.risk`).
    """

    def _reset(self) -> None:
        super()._reset()
        self._moments = ReturnsMoments()
        self._drawdown = Drawdown()

    def start_of_simulation(self, *args: Any) -> None:
        self._reset()

    def _add(self, session_ix: int, value: float) -> None:
        self._moments.add(value)
        self._drawdown.add(value)

    def _write(self, packet: Packet, session_ix: int, provisional: float | None) -> None:
        moments, drawdown = self._moments, self._drawdown
        if provisional is not None:
            moments, drawdown = moments.plus(provisional), drawdown.plus(provisional)
        risk = packet["cumulative_risk_metrics"]
        risk["algo_volatility"] = _finite_or_none(annual_volatility(moments))
        risk["sharpe"] = _finite_or_none(sharpe_ratio(moments))
        risk["sortino"] = _finite_or_none(sortino_ratio(moments))
        risk["max_drawdown"] = _finite_or_none(max_drawdown(drawdown))


class AlphaBeta(_StreamedReturns):
    """``alpha`` and ``beta`` of the daily returns so far against the benchmark.

    empyrical's ``alpha_beta_aligned`` of the returns and the benchmark's
    daily returns up to the session, in O(1) from running co-moments. In
    minute emission the running session's return so far pairs with the
    benchmark's return of the whole session, as in zipline.
    """

    def _reset(self) -> None:
        super()._reset()
        self._benchmark: list[float] = []
        self._pair = PairMoments()

    def start_of_simulation(
        self,
        ledger: Ledger,
        emission_rate: str,
        trading_calendar: Any,
        sessions: pd.DatetimeIndex,
        benchmark_source: Any,
    ) -> None:
        self._reset()
        daily = benchmark_source.daily_returns(sessions[0], sessions[-1])
        self._benchmark = np.asarray(daily, dtype=np.float64).tolist()

    def _add(self, session_ix: int, value: float) -> None:
        self._pair.add(value, self._benchmark[session_ix])

    def _write(self, packet: Packet, session_ix: int, provisional: float | None) -> None:
        pair = self._pair
        if provisional is not None:
            pair = pair.plus(provisional, self._benchmark[session_ix])
        alpha, beta = alpha_beta(pair)
        risk = packet["cumulative_risk_metrics"]
        risk["alpha"] = _finite_or_none(alpha)
        # zipline keeps an infinite beta and drops only NaN.
        risk["beta"] = _nan_to_none(beta)


class MaxLeverage:
    """The highest account leverage seen so far (``max_leverage``)."""

    def __init__(self) -> None:
        self._max_leverage = 0.0

    def start_of_simulation(self, *args: Any) -> None:
        self._max_leverage = 0.0

    def end_of_bar(
        self, packet: Packet, ledger: Ledger, dt: Any, session_ix: int, data_portal: Any
    ) -> None:
        self._max_leverage = max(self._max_leverage, ledger.account.leverage)
        packet["cumulative_risk_metrics"]["max_leverage"] = self._max_leverage

    end_of_session = end_of_bar


class NumTradingDays:
    """The number of sessions started so far (``trading_days``)."""

    def __init__(self) -> None:
        self._count = 0

    def start_of_simulation(self, *args: Any) -> None:
        self._count = 0

    def start_of_session(self, *args: Any) -> None:
        self._count += 1

    def end_of_bar(self, packet: Packet, *args: Any) -> None:
        packet["cumulative_risk_metrics"]["trading_days"] = self._count

    end_of_session = end_of_bar


class ConstantCumulativeRiskMetric:
    """A risk field that never changes (zipline keeps ``excess_return`` and
    ``treasury_period_return`` at 0.0 for the packet's shape)."""

    def __init__(self, field: str, value: Any) -> None:
        self._field = field
        self._value = value

    def end_of_bar(self, packet: Packet, *args: Any) -> None:
        packet["cumulative_risk_metrics"][self._field] = self._value

    end_of_session = end_of_bar


# zipline's name
_ConstantCumulativeRiskMetric = ConstantCumulativeRiskMetric


class PeriodLabel:
    """The session's month as ``"YYYY-MM"`` (``period_label``)."""

    def __init__(self) -> None:
        self._label = ""
        self._month = -1  # the month ``_label`` names, as year * 12 + month

    def start_of_session(self, ledger: Ledger, session: pd.Timestamp, data_portal: Any) -> None:
        # strftime costs ~25 us, formatting ~1 us: the label is made once a month.
        month = session.year * 12 + session.month
        if month != self._month:
            self._month = month
            self._label = f"{session.year:04d}-{session.month:02d}"

    def end_of_bar(self, packet: Packet, *args: Any) -> None:
        packet["cumulative_risk_metrics"]["period_label"] = self._label

    end_of_session = end_of_bar
