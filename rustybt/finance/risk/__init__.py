"""Risk controls: trading and account controls, asset restrictions."""
