"""Cost and cancel models: commission, slippage, cancel policies."""
