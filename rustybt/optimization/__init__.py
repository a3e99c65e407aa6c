"""Parameter search and robustness analysis of trading algorithms."""

__all__: list[str] = []
