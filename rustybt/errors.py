"""zipline's error names (``zipline.errors``), bound to the rustybt errors raised in their place.

A zipline project that catches ``zipline.errors.SymbolNotFound`` keeps working
after its imports are renamed: each name below *is* the class rustybt raises
in the situation zipline raises that error, so ``except`` clauses and
``pytest.raises`` catch it. Nothing here is a new class; the hierarchy lives
in :mod:`rustybt.exceptions`.

Where rustybt has one class for several of zipline's cases, the zipline name
is that class, so it also catches its sibling cases:

* ``ZiplineError`` is :class:`~rustybt.exceptions.RustyBTError`, the base of
  every rustybt error.
* ``SymbolNotFound``, ``SidsNotFound``, ``MultipleSymbolsFound`` are
  ``SymbolNotFoundError``, ``SidNotFoundError``, ``MultipleSymbolsFoundError``;
  ``HistoryWindowStartsBeforeData``, ``TradingControlViolation`` and
  ``AccountControlViolation`` carry zipline's names already.
* ``OrderDuringInitialize``, ``OrderInBeforeTradingStart`` and
  ``CannotOrderDelistedAsset`` are ``OrderRejectedError``: an order refused
  for the phase it was placed in or the asset's life span (and, as its
  subclass ``TradingControlViolation``, by a control).
* ``UnsupportedOrderParameters`` and ``BadOrderParameters`` are
  ``InvalidOrderError``: an order's own arguments (prices, style, amount).
* ``SetBenchmarkOutsideInitialize``, ``SetCommissionPostInit``,
  ``SetSlippagePostInit``, ``SetCancelPolicyPostInit``,
  ``RegisterTradingControlPostInit``, ``RegisterAccountControlPostInit``,
  ``UnsupportedCancelPolicy`` and ``InvalidCalendarName`` are
  ``ConfigValidationError``: a configuration call outside initialize, or a
  configuration value that does not exist.
* ``ZeroCapitalError`` and ``ScheduleFunctionInvalidCalendar`` are
  ``ParameterValidationError``: an argument outside what it may be.

Examples
--------
>>> from rustybt.errors import SymbolNotFound, ZiplineError
>>> from rustybt.exceptions import SymbolNotFoundError
>>> SymbolNotFound is SymbolNotFoundError, issubclass(SymbolNotFound, ZiplineError)
(True, True)
"""

from __future__ import annotations

from rustybt.exceptions import (
    AccountControlViolation,
    ConfigValidationError,
    HistoryWindowStartsBeforeData,
    InvalidOrderError,
    MultipleSymbolsFoundError,
    OrderRejectedError,
    ParameterValidationError,
    RustyBTError,
    SidNotFoundError,
    SymbolNotFoundError,
    TradingControlViolation,
)

__all__ = [
    "AccountControlViolation",
    "BadOrderParameters",
    "CannotOrderDelistedAsset",
    "HistoryWindowStartsBeforeData",
    "InvalidCalendarName",
    "MultipleSymbolsFound",
    "OrderDuringInitialize",
    "OrderInBeforeTradingStart",
    "RegisterAccountControlPostInit",
    "RegisterTradingControlPostInit",
    "ScheduleFunctionInvalidCalendar",
    "SetBenchmarkOutsideInitialize",
    "SetCancelPolicyPostInit",
    "SetCommissionPostInit",
    "SetSlippagePostInit",
    "SidsNotFound",
    "SymbolNotFound",
    "TradingControlViolation",
    "UnsupportedCancelPolicy",
    "UnsupportedOrderParameters",
    "ZeroCapitalError",
    "ZiplineError",
]

ZiplineError = RustyBTError

SymbolNotFound = SymbolNotFoundError
SidsNotFound = SidNotFoundError
MultipleSymbolsFound = MultipleSymbolsFoundError

OrderDuringInitialize = OrderRejectedError
OrderInBeforeTradingStart = OrderRejectedError
CannotOrderDelistedAsset = OrderRejectedError

UnsupportedOrderParameters = InvalidOrderError
BadOrderParameters = InvalidOrderError

SetBenchmarkOutsideInitialize = ConfigValidationError
SetCommissionPostInit = ConfigValidationError
SetSlippagePostInit = ConfigValidationError
SetCancelPolicyPostInit = ConfigValidationError
RegisterTradingControlPostInit = ConfigValidationError
RegisterAccountControlPostInit = ConfigValidationError
UnsupportedCancelPolicy = ConfigValidationError
InvalidCalendarName = ConfigValidationError

ZeroCapitalError = ParameterValidationError
ScheduleFunctionInvalidCalendar = ParameterValidationError
