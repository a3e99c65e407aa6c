"""Finance: orders, execution styles, fills, costs, controls and the Decimal ledger.

Money here is :class:`~decimal.Decimal`; market data stays float and turns
into Decimal once, at the fill or the mark (see :mod:`rustybt.finance.precision`).
"""
