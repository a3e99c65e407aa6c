"""Assets: what can be traded, and the finder that maps sids and symbols to them."""

from rustybt.assets.asset_db import AssetDBWriter
from rustybt.assets.asset_types import Asset, Equity, ExchangeInfo
from rustybt.assets.finder import AssetFinder

__all__ = ["Asset", "AssetDBWriter", "AssetFinder", "Equity", "ExchangeInfo"]
