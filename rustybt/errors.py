"""zipline's error names (``zipline.errors``), bound to the rustybt errors raised in their place.

A zipline project that catches ``zipline.errors.SymbolNotFound`` keeps working
after its imports are renamed: each name below *is* the class rustybt raises
in the situation zipline raises that error, so ``except`` clauses and
``pytest.raises`` catch it. Nothing here is a new class; the hierarchy lives
in :mod:`rustybt.exceptions`.

Where rustybt has one class for several of zipline's cases, the zipline name
is that class, so it also catches its sibling cases:

=================================  ==============================================
zipline name                       rustybt class (raised for)
=================================  ==============================================
``ZiplineError``                   ``RustyBTError`` (every rustybt error)
``SymbolNotFound``                 ``SymbolNotFoundError``
``SidsNotFound``                   ``SidNotFoundError``
``MultipleSymbolsFound``           ``MultipleSymbolsFoundError``
``HistoryWindowStartsBeforeData``  ``HistoryWindowStartsBeforeData``
``TradingControlViolation``        ``TradingControlViolation``
``AccountControlViolation``        ``AccountControlViolation``
``OrderDuringInitialize``,         ``OrderRejectedError`` (an order refused by the
``OrderInBeforeTradingStart``,     phase, the asset's life span, a control)
``CannotOrderDelistedAsset``
``UnsupportedOrderParameters``,    ``InvalidOrderError`` (an order's own arguments:
``BadOrderParameters``             prices, style, amount, asset)
``SetBenchmarkOutsideInitialize``, ``ConfigValidationError`` (a configuration call
``SetCommissionPostInit``,         outside initialize, or given a wrong value)
``SetSlippagePostInit``,
``SetCancelPolicyPostInit``,
``RegisterTradingControlPostInit``,
``RegisterAccountControlPostInit``,
``UnsupportedCancelPolicy``,
``InvalidCalendarName``
``ZeroCapitalError``,              ``ParameterValidationError`` (an argument out of
``ScheduleFunctionInvalidCalendar``  its range)
=================================  ==============================================

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
