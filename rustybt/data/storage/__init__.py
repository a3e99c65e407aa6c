"""Bundle storage: Parquet bars (daily, minute) and the SQLite adjustments DB.

Writers validate what they are given and write their file atomically;
readers read nothing until first used, then serve NumPy panels.
"""

from rustybt.data.storage.adjustments import SQLiteAdjustmentReader, SQLiteAdjustmentWriter
from rustybt.data.storage.daily_bars import ParquetDailyBarReader, ParquetDailyBarWriter
from rustybt.data.storage.minute_bars import ParquetMinuteBarReader, ParquetMinuteBarWriter

__all__ = [
    "ParquetDailyBarReader",
    "ParquetDailyBarWriter",
    "ParquetMinuteBarReader",
    "ParquetMinuteBarWriter",
    "SQLiteAdjustmentReader",
    "SQLiteAdjustmentWriter",
]
