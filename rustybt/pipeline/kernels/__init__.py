"""NumPy kernels of the Pipeline API's built-in terms.

Window kernels take windows along axis -2 (rows: sessions, oldest first) and
assets along axis -1; any leading axes are a batch of days, so one call
computes a block of days at once. Cross-sectional kernels take one row per
day. Nothing here knows about terms or the engine.
"""
