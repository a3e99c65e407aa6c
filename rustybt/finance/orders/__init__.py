"""Orders: the order, its execution styles, the order book, fills, sizing and routing."""
