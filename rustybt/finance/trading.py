"""SimulationParameters at zipline's import path (``zipline.finance.trading``).

The class lives in :mod:`rustybt.sim.params`. Build it with keywords, as
zipline code does (``start_session=``, ``end_session=``, ``trading_calendar=``,
``capital_base=``, ``emission_rate=``, ``data_frequency=``): after the first
three, rustybt's positional order puts ``data_frequency`` before
``emission_rate``.

Examples
--------
>>> import pandas as pd
>>> from rustybt.finance.trading import SimulationParameters
>>> from rustybt.utils.calendar_utils import get_calendar
>>> params = SimulationParameters(
...     start_session=pd.Timestamp("2024-01-02"), end_session=pd.Timestamp("2024-01-05"),
...     trading_calendar=get_calendar("XNYS"), capital_base=1e5, data_frequency="daily")
>>> len(params.sessions)
4
"""

from rustybt.sim.params import SimulationParameters

__all__ = ["SimulationParameters"]
