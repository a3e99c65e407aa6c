"""zipline's example algorithms here are fixtures, not tests: pytest must not import them."""

collect_ignore_glob = ["*.py"]
