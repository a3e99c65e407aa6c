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

Examples
--------
>>> import empyrical
>>> m = ReturnsStatistic(empyrical.sharpe_ratio, "sharpe")
>>> m._field_name
'sharpe'
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import empyrical as ep
import numpy as np
import numpy.typing as npt
import pandas as pd

from rustybt.finance.ledger import Ledger

__all__ = [
    "PNL",
    "AlphaBeta",
    "BenchmarkReturnsAndVolatility",
    "CashFlow",
    "ConstantCumulativeRiskMetric",
    "DailyLedgerField",
    "MaxLeverage",
    "NumTradingDays",
    "Orders",
    "PeriodLabel",
    "Positions",
    "Returns",
    "ReturnsStatistic",
    "SimpleLedgerField",
    "StartOfPeriodLedgerField",
    "Transactions",
    "minute_annual_volatility",
]

Packet = dict[str, Any]
FloatArray = npt.NDArray[np.float64]


def packet_value(value: Any) -> Any:
    """A ledger value as it goes into a packet: Decimal -> float, the rest unchanged."""
    if isinstance(value, Decimal):
        return float(value)
    return value


def _finite_or_none(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


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

    def __init__(self, ledger_field: str, packet_field: str | None = None) -> None:
        self._get = operator.attrgetter(ledger_field)
        self._packet_field = _field_name(ledger_field, packet_field)

    def _end_of_period(
        self, section: str, packet: Packet, ledger: Ledger, dt: pd.Timestamp | None
    ) -> None:
        packet[section][self._packet_field] = packet_value(self._get(ledger))


class DailyLedgerField(SimpleLedgerField):
    """Like :class:`SimpleLedgerField`, and also into the cumulative section."""

    def _end_of_period(
        self, section: str, packet: Packet, ledger: Ledger, dt: pd.Timestamp | None
    ) -> None:
        value = packet_value(self._get(ledger))
        packet["cumulative_perf"][self._packet_field] = value
        packet[section][self._packet_field] = value


class StartOfPeriodLedgerField(_PeriodMetric):
    """A ledger attribute's value at the start of the session (and of the simulation)."""

    def __init__(self, ledger_field: str, packet_field: str | None = None) -> None:
        self._get = operator.attrgetter(ledger_field)
        self._packet_field = _field_name(ledger_field, packet_field)
        self._start_of_simulation: Any = None
        self._previous_day: Any = None

    def start_of_simulation(
        self,
        ledger: Ledger,
        emission_rate: str,
        trading_calendar: Any,
        sessions: pd.DatetimeIndex,
        benchmark_source: Any,
    ) -> None:
        self._start_of_simulation = packet_value(self._get(ledger))

    def start_of_session(self, ledger: Ledger, session: pd.Timestamp, data_portal: Any) -> None:
        self._previous_day = packet_value(self._get(ledger))

    def _end_of_period(
        self, section: str, packet: Packet, ledger: Ledger, dt: pd.Timestamp | None
    ) -> None:
        packet["cumulative_perf"][self._packet_field] = self._start_of_simulation
        packet[section][self._packet_field] = self._previous_day


class Returns(_PeriodMetric):
    """The period's and the cumulative return (``returns``, ``algorithm_period_return``)."""

    def _end_of_period(
        self, section: str, packet: Packet, ledger: Ledger, dt: pd.Timestamp | None
    ) -> None:
        packet[section]["returns"] = ledger.todays_returns
        cumulative = float(ledger.returns)
        packet["cumulative_perf"]["returns"] = cumulative
        packet["cumulative_risk_metrics"]["algorithm_period_return"] = cumulative


def minute_annual_volatility(
    date_labels: npt.NDArray[np.int64], minute_returns: FloatArray, daily_returns: FloatArray
) -> FloatArray:
    """Annualized volatility as of each minute: completed days plus the day so far.

    zipline's cumulative minute volatility: the running day's compounded
    return joins the completed daily returns (sample std, ddof=1, times
    sqrt(252)); NaN throughout the first day.
    """
    out = np.full(len(minute_returns), np.nan)
    if len(minute_returns) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, date_labels[1:] != date_labels[:-1]])
    ends = np.r_[starts[1:], len(minute_returns)]
    for day_ix, (a, b) in enumerate(zip(starts, ends, strict=True)):
        if day_ix == 0:
            continue
        past = daily_returns[:day_ix]
        today = np.cumprod(1.0 + minute_returns[a:b]) - 1.0
        mean = (past.sum() + today) / (day_ix + 1)
        variance = (today - mean) ** 2 + ((past[None, :] - mean[:, None]) ** 2).sum(axis=1)
        out[a:b] = np.sqrt(variance / day_ix) * np.sqrt(252.0)
    return out


class BenchmarkReturnsAndVolatility:
    """``benchmark_period_return`` and ``benchmark_volatility`` from the benchmark source."""

    def __init__(self) -> None:
        self._daily_cumulative_returns: FloatArray = np.array([])
        self._daily_annual_volatility: FloatArray = np.array([])
        self._minute_cumulative_returns: pd.Series | None = None
        self._minute_annual_volatility: pd.Series | None = None

    def start_of_simulation(
        self,
        ledger: Ledger,
        emission_rate: str,
        trading_calendar: Any,
        sessions: pd.DatetimeIndex,
        benchmark_source: Any,
    ) -> None:
        daily = benchmark_source.daily_returns(sessions[0], sessions[-1])
        values = np.asarray(daily, dtype=np.float64)
        self._daily_cumulative_returns = np.asarray(np.cumprod(1.0 + values) - 1.0, np.float64)
        self._daily_annual_volatility = np.asarray(
            daily.expanding(2).std(ddof=1) * np.sqrt(252), dtype=np.float64
        )
        if emission_rate == "minute":
            open_ = trading_calendar.session_first_minute(sessions[0])
            close = trading_calendar.session_close(sessions[-1])
            minute = benchmark_source.get_range(open_, close)
            self._minute_cumulative_returns = (1 + minute).cumprod() - 1
            labels = minute.index.normalize().asi8
            self._minute_annual_volatility = pd.Series(
                minute_annual_volatility(labels, minute.to_numpy(dtype=np.float64), values),
                index=minute.index,
            )

    def end_of_bar(
        self, packet: Packet, ledger: Ledger, dt: pd.Timestamp, session_ix: int, data_portal: Any
    ) -> None:
        if self._minute_cumulative_returns is None or self._minute_annual_volatility is None:
            raise RuntimeError("minute benchmark figures exist only with emission_rate='minute'")
        risk = packet["cumulative_risk_metrics"]
        risk["benchmark_period_return"] = _finite_or_none(self._minute_cumulative_returns[dt])
        risk["benchmark_volatility"] = _finite_or_none(self._minute_annual_volatility[dt])

    def end_of_session(
        self,
        packet: Packet,
        ledger: Ledger,
        session: pd.Timestamp,
        session_ix: int,
        data_portal: Any,
    ) -> None:
        risk = packet["cumulative_risk_metrics"]
        r = self._daily_cumulative_returns[session_ix]
        v = self._daily_annual_volatility[session_ix]
        risk["benchmark_period_return"] = None if np.isnan(r) else float(r)
        risk["benchmark_volatility"] = None if np.isnan(v) else float(v)


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
    """A statistic of the daily returns so far (e.g. ``empyrical.sharpe_ratio``).

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


class AlphaBeta:
    """``alpha`` and ``beta`` of the daily returns so far against the benchmark."""

    def __init__(self) -> None:
        self._benchmark: FloatArray = np.array([])

    def start_of_simulation(
        self,
        ledger: Ledger,
        emission_rate: str,
        trading_calendar: Any,
        sessions: pd.DatetimeIndex,
        benchmark_source: Any,
    ) -> None:
        self._benchmark = np.asarray(
            benchmark_source.daily_returns(sessions[0], sessions[-1]), dtype=np.float64
        )

    def end_of_bar(
        self, packet: Packet, ledger: Ledger, dt: Any, session_ix: int, data_portal: Any
    ) -> None:
        alpha, beta = ep.alpha_beta_aligned(
            ledger.daily_returns_array[: session_ix + 1], self._benchmark[: session_ix + 1]
        )
        risk = packet["cumulative_risk_metrics"]
        risk["alpha"] = _finite_or_none(alpha)
        # zipline keeps an infinite beta and drops only NaN.
        risk["beta"] = None if np.isnan(beta) else float(beta)

    end_of_session = end_of_bar


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

    def start_of_session(self, ledger: Ledger, session: pd.Timestamp, data_portal: Any) -> None:
        self._label = session.strftime("%Y-%m")

    def end_of_bar(self, packet: Packet, *args: Any) -> None:
        packet["cumulative_risk_metrics"]["period_label"] = self._label

    end_of_session = end_of_bar
