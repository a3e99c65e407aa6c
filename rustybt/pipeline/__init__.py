"""The Pipeline API: zipline's cross-sectional factor engine, in NumPy."""
