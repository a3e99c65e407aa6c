"""The one error hierarchy of rustybt.

Every error carries a message that names what is at fault (file, row, asset,
order, bundle) and a ``context`` dict with the same facts in machine-readable
form, so callers can log or react without parsing the message.

Examples
--------
>>> from rustybt.exceptions import DataNotFoundError, DataError
>>> err = DataNotFoundError("no ingestion of bundle 'demo'", context={"bundle": "demo"})
>>> isinstance(err, DataError), err.context["bundle"]
(True, 'demo')
"""

from __future__ import annotations

from typing import Any

import pandas as pd


class RustyBTError(Exception):
    """Base class of every rustybt error.

    Parameters
    ----------
    message
        What went wrong, naming the file, row, asset or order at fault.
    context
        The same facts as a dict (e.g. ``{"file": ..., "row": ...}``).
    """

    def __init__(self, message: str, context: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.context: dict[str, Any] = dict(context or {})

    def __str__(self) -> str:
        return self.message


# --- data -------------------------------------------------------------------


class DataError(RustyBTError):
    """A problem with market data, bundles or their storage."""


class DataNotFoundError(DataError):
    """Requested data (a bundle, an ingestion, a bar, an asset) does not exist."""


class BundleCorruptedError(DataError):
    """A stored bundle file is missing, truncated or altered since it was ingested.

    The message names the file and the command that re-ingests the bundle;
    ``context`` holds ``file`` (and ``bundle`` when known).
    """


class BundleWriteError(DataError):
    """An ingest could not write its files (disk full, no permission).

    Nothing is lost: the failed ingestion is removed and the previous one
    stays the newest. ``context`` holds ``path``, ``errno`` and ``bundle``.
    """


class DataAdapterError(DataError):
    """A data source or adapter failed to deliver usable data."""


class DataValidationError(DataAdapterError):
    """Bars or adjustments broke a validation rule.

    Parameters
    ----------
    message
        Names the source file (or sid) and summarises the offending rows.
    invalid_rows
        One row per offence: the original row number, its timestamp, the
        values and a ``reason`` column.
    """

    def __init__(
        self,
        message: str,
        invalid_rows: pd.DataFrame | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, context)
        self.invalid_rows = invalid_rows if invalid_rows is not None else pd.DataFrame()


class LookaheadError(DataError):
    """Data from after the current simulation time was requested."""


class UnknownFieldError(DataError, KeyError, ValueError):
    """A market-data field that does not exist was requested.

    Also a ``KeyError`` and a ``ValueError``, the errors zipline raises for an
    unknown field in spot values and history, so zipline-era handlers catch it.
    """

    def __str__(self) -> str:
        # KeyError would otherwise quote the message.
        return self.message


class HistoryWindowStartsBeforeData(DataError):
    """A history window reaches back before the first trading day of the data."""


# --- orders -----------------------------------------------------------------


class OrderError(RustyBTError):
    """A problem with an order."""


class OrderRejectedError(OrderError):
    """An order was rejected (by a control, the broker or the simulator)."""


class OrderNotFoundError(OrderError):
    """No order with the given id exists."""


class InsufficientFundsError(OrderError):
    """Not enough cash or buying power for an order."""


class InvalidOrderError(OrderError):
    """An order's parameters are invalid (NaN amount, non-positive limit, ...)."""


# --- brokers ----------------------------------------------------------------


class BrokerError(RustyBTError):
    """A problem talking to a broker."""


class BrokerConnectionError(BrokerError):
    """The broker could not be reached."""


class BrokerAuthenticationError(BrokerError):
    """The broker refused the credentials."""


class BrokerRateLimitError(BrokerError):
    """The broker's rate limit was hit."""


class BrokerResponseError(BrokerError):
    """The broker answered with something unusable."""


# --- strategy, validation, risk ---------------------------------------------


class StrategyError(RustyBTError):
    """An error raised in, or caused by, user strategy code."""


class ValidationError(RustyBTError):
    """Invalid user input (configuration, assets, parameters)."""


class ConfigValidationError(ValidationError):
    """A configuration value is invalid."""


class AssetValidationError(ValidationError):
    """An asset reference is invalid."""


class SymbolNotFoundError(AssetValidationError, LookupError):
    """No asset has the given symbol; the message lists close matches."""


class SidNotFoundError(AssetValidationError, LookupError):
    """No asset has the given sid."""


class MultipleSymbolsFoundError(AssetValidationError):
    """A symbol maps to several assets and no date picks one."""


class ParameterValidationError(ValidationError):
    """A function or strategy parameter is invalid."""


class OptimizationError(RustyBTError):
    """A study cannot go on: every trial failed, or its storage holds another study."""


class PipelineError(RustyBTError, ValueError):
    """A pipeline, term, kernel argument or loader that cannot be built or computed.

    The message names the term, column or argument at fault.
    """


class PipelineOutputNotFound(PipelineError, KeyError):
    """``pipeline_output`` asked for a name no pipeline was attached under."""

    def __str__(self) -> str:
        return self.message


class CircuitBreakerError(RustyBTError):
    """A circuit breaker tripped and stopped trading."""


# Names zipline users catch.
SymbolNotFound = SymbolNotFoundError
SidsNotFound = SidNotFoundError
MultipleSymbolsFound = MultipleSymbolsFoundError


class TradingControlViolation(OrderRejectedError):
    """An order broke a trading control (max order size, long only, ...)."""


class AccountControlViolation(TradingControlViolation):
    """The account broke an account control (max or min leverage)."""


class FunctionalEquivalenceError(ValidationError):
    """An optimized function's result differs from its baseline's.

    ``context`` holds ``case_index``, ``case``, ``difference`` (the size of the
    difference, as a string) and ``location`` (where in the result it is).
    """
