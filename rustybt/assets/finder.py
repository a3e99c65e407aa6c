"""AssetFinder: sids and symbols to Asset objects, from the asset database."""

from __future__ import annotations

import difflib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rustybt.assets.asset_types import ASSET_TYPES, Asset, Equity, exchange_info_for
from rustybt.exceptions import (
    DataNotFoundError,
    MultipleSymbolsFoundError,
    SidNotFoundError,
    SymbolNotFoundError,
)


@dataclass(frozen=True, slots=True)
class _SymbolSpan:
    sid: int
    start: pd.Timestamp | None
    end: pd.Timestamp | None


class AssetFinder:
    """Look up assets by sid or by symbol as of a date.

    The whole database is read once at construction: asset tables are small
    and lookups happen in the hot loop.

    Parameters
    ----------
    db_path
        Path of the SQLite asset database.

    Examples
    --------
    >>> from rustybt.data import bundles
    >>> with bundles.load("demo") as bundle:                 # doctest: +SKIP
    ...     aapl = bundle.asset_finder.lookup_symbol("AAPL", as_of_date=None)
    """

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = Path(db_path)
        if not self.db_path.exists():
            raise DataNotFoundError(
                f"asset database {self.db_path} does not exist", context={"path": str(db_path)}
            )
        self._assets: dict[int, Asset] = {}
        self._symbols: dict[str, list[_SymbolSpan]] = {}
        self._load()

    def _load(self) -> None:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            exchanges = {
                name: exchange_info_for(name, canonical, country)
                for name, canonical, country in conn.execute("SELECT * FROM exchanges")
            }
            for row in conn.execute(
                "SELECT sid, asset_type, symbol, asset_name, exchange, start_date, end_date,"
                " first_traded, auto_close_date, tick_size, multiplier FROM assets"
            ):
                sid, kind, symbol, name, exchange, start, end, first, auto, tick, mult = row
                cls = ASSET_TYPES.get(kind, Equity)
                self._assets[sid] = cls(
                    sid,
                    exchanges.get(exchange) or exchange_info_for(exchange),
                    symbol,
                    name,
                    _ts(start),
                    _ts(end),
                    _ts(first),
                    _ts(auto),
                    tick,
                    mult,
                )
            for sid, symbol, start, end in conn.execute("SELECT * FROM symbol_mappings"):
                self._symbols.setdefault(symbol.upper(), []).append(
                    _SymbolSpan(sid, _ts(start), _ts(end))
                )
        finally:
            conn.close()
        for spans in self._symbols.values():
            spans.sort(key=lambda s: s.start or pd.Timestamp.min)

    # --- by sid ---------------------------------------------------------------

    @property
    def sids(self) -> list[int]:
        """Every sid, sorted."""
        return sorted(self._assets)

    @property
    def equities_sids(self) -> list[int]:
        """The sids of every Equity, sorted."""
        return sorted(s for s, a in self._assets.items() if isinstance(a, Equity))

    def retrieve_asset(self, sid: int | Asset, default_none: bool = False) -> Asset | None:
        """The asset with ``sid``.

        Raises
        ------
        SidNotFoundError
            If no asset has that sid and ``default_none`` is false.
        """
        try:
            return self._assets[int(sid)]
        except KeyError:
            if default_none:
                return None
            raise SidNotFoundError(
                f"no asset with sid {int(sid)} in {self.db_path}", context={"sid": int(sid)}
            ) from None

    def retrieve_all(self, sids: Iterable[int | Asset], default_none: bool = False) -> list[Asset]:
        """The assets for ``sids``, in order (None for unknown ones if ``default_none``)."""
        return [self.retrieve_asset(s, default_none) for s in sids]  # type: ignore[misc]

    def retrieve_equities(self, sids: Iterable[int]) -> dict[int, Asset]:
        """A dict sid -> Equity."""
        return {int(s): self.retrieve_asset(s) for s in sids}  # type: ignore[misc]

    # --- by symbol ------------------------------------------------------------

    def lookup_symbol(
        self,
        symbol: str,
        as_of_date: pd.Timestamp | str | None = None,
        fuzzy: bool = False,
        country_code: str | None = None,
    ) -> Asset:
        """The asset that held ``symbol`` on ``as_of_date``.

        Parameters
        ----------
        symbol
            Ticker, case-insensitive (``"BRK.A"``, ``"brk_a"`` with ``fuzzy``).
        as_of_date
            Date at which to resolve the symbol; None accepts it only when a
            single asset ever held it.
        fuzzy
            Also ignore ``.``, ``_``, ``-`` and ``/`` separators.
        country_code
            Only consider assets of this country.

        Raises
        ------
        SymbolNotFoundError
            No asset held the symbol then; the message lists close matches.
        MultipleSymbolsFoundError
            Several assets held it and ``as_of_date`` is None.
        """
        key = str(symbol).upper()
        spans = self._symbols.get(key)
        if not spans and fuzzy:
            spans = self._fuzzy_spans(key)
        if spans and country_code is not None:
            spans = [s for s in spans if self._assets[s.sid].country_code == country_code]
        if not spans:
            raise self._not_found(symbol)
        sids = {s.sid for s in spans}
        if as_of_date is None:
            if len(sids) > 1:
                owners = ", ".join(repr(self._assets[s]) for s in sorted(sids))
                raise MultipleSymbolsFoundError(
                    f"symbol {symbol!r} was held by several assets ({owners}); "
                    "pass as_of_date or call set_symbol_lookup_date",
                    context={"symbol": symbol, "sids": sorted(sids)},
                )
            return self._assets[spans[0].sid]
        when = pd.Timestamp(as_of_date)
        if when.tzinfo is not None:
            when = when.tz_convert("UTC").tz_localize(None)
        when = when.normalize()
        started = [s for s in spans if s.start is None or s.start <= when]
        for span in reversed(started):
            if span.end is None or when <= span.end:
                return self._assets[span.sid]
        if started:
            # zipline: the latest holder before the date still answers.
            return self._assets[started[-1].sid]
        raise SymbolNotFoundError(
            f"symbol {symbol!r} was not held by any asset on {when.date()}"
            f" (first held from {spans[0].start.date() if spans[0].start else '?'})",
            context={"symbol": symbol, "as_of_date": str(when.date())},
        )

    def lookup_symbols(
        self,
        symbols: Sequence[str],
        as_of_date: pd.Timestamp | str | None = None,
        fuzzy: bool = False,
        country_code: str | None = None,
    ) -> list[Asset]:
        """``lookup_symbol`` for each of ``symbols``, in order."""
        return [self.lookup_symbol(s, as_of_date, fuzzy, country_code) for s in symbols]

    def _fuzzy_spans(self, key: str) -> list[_SymbolSpan]:
        stripped = _strip(key)
        out: list[_SymbolSpan] = []
        for sym, spans in self._symbols.items():
            if _strip(sym) == stripped:
                out.extend(spans)
        return out

    def _not_found(self, symbol: str) -> SymbolNotFoundError:
        matches = difflib.get_close_matches(
            str(symbol).upper(), list(self._symbols), n=5, cutoff=0.5
        )
        hint = f"; close matches: {', '.join(matches)}" if matches else ""
        return SymbolNotFoundError(
            f"symbol {symbol!r} not found in {self.db_path.name}{hint}",
            context={"symbol": symbol, "close_matches": matches},
        )


def _strip(symbol: str) -> str:
    return "".join(ch for ch in symbol if ch not in "._-/ ")


def _ts(value: str | None) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value)
