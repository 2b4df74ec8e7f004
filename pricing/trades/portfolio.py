"""Portfolio: trades plus the book hierarchy (firm > desk > book)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pricing.trades.base import Trade

__all__ = ["UNASSIGNED_DESK", "Portfolio"]

#: Desk of a book that the hierarchy does not place.
UNASSIGNED_DESK = "UNASSIGNED"


@dataclasses.dataclass(frozen=True)
class Portfolio:
    """An immutable set of trades with the firm > desk > book hierarchy.

    Parameters
    ----------
    trades
        The trades, ids unique.
    books
        Book -> desk. Books of trades not listed here sit on desk ``UNASSIGNED``.
    firm
        The firm at the top of the hierarchy.

    >>> p = Portfolio((), {"FX-OPT": "FX"}, firm="Demo Bank")
    >>> p.desk_of("FX-OPT"), p.desk_of("NEW-BOOK")
    ('FX', 'UNASSIGNED')
    """

    trades: tuple[Trade, ...]
    books: Mapping[str, str] = dataclasses.field(default_factory=dict)
    firm: str = "FIRM"

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for t in self.trades:
            if t.trade_id in seen:
                raise ValueError(f"duplicate trade id {t.trade_id!r} in portfolio")
            seen.add(t.trade_id)
        object.__setattr__(self, "trades", tuple(self.trades))
        object.__setattr__(self, "books", dict(self.books))

    def __len__(self) -> int:
        return len(self.trades)

    def __iter__(self) -> Iterator[Trade]:
        return iter(self.trades)

    def desk_of(self, book: str) -> str:
        """The desk a book belongs to."""
        return self.books.get(book, UNASSIGNED_DESK)

    def hierarchy(self) -> dict[str, dict[str, list[str]]]:
        """``{firm: {desk: [books...]}}`` over the books that hold trades or are declared."""
        desks: dict[str, set[str]] = {}
        for book in {*self.books, *(t.book for t in self.trades)}:
            desks.setdefault(self.desk_of(book), set()).add(book)
        return {self.firm: {d: sorted(b) for d, b in sorted(desks.items())}}

    def select(
        self,
        *,
        book: str | Iterable[str] | None = None,
        desk: str | Iterable[str] | None = None,
        product: str | Iterable[str] | None = None,
    ) -> Portfolio:
        """The sub-portfolio of the given books, desks and/or products."""

        def _set(x: str | Iterable[str] | None) -> set[str] | None:
            return None if x is None else ({x} if isinstance(x, str) else set(x))

        books, desks, products = _set(book), _set(desk), _set(product)
        keep = tuple(
            t
            for t in self.trades
            if (books is None or t.book in books)
            and (desks is None or self.desk_of(t.book) in desks)
            and (products is None or t.product in products)
        )
        return Portfolio(keep, self.books, self.firm)

    def to_document(self) -> dict[str, Any]:
        """The JSON/YAML document form read back by :func:`pricing.trades.load_portfolio`."""
        return {
            "firm": self.firm,
            "books": [{"book": b, "desk": d} for b, d in sorted(self.books.items())],
            "trades": [t.to_record() for t in self.trades],
        }

    def content_hash(self) -> str:
        """SHA-256 of the hierarchy and every trade's content hash, in order: any change of a
        trade or of the hierarchy changes it. Computed once (portfolios are immutable)."""
        h: str | None = self.__dict__.get("_content_hash")
        if h is None:
            sha = hashlib.sha256()
            head = {"firm": self.firm, "books": sorted(self.books.items())}
            sha.update(json.dumps(head, sort_keys=True).encode())
            for t in self.trades:
                sha.update(t.content_hash().encode())
            h = sha.hexdigest()
            object.__setattr__(self, "_content_hash", h)
        return h

    def trade_attributes(self) -> dict[str, list[str]]:
        """Per-trade labels (trade_id, book, desk, product, currency, counterparty) as columns."""
        return {
            "trade_id": [t.trade_id for t in self.trades],
            "book": [t.book for t in self.trades],
            "desk": [self.desk_of(t.book) for t in self.trades],
            "product": [t.product for t in self.trades],
            "currency": [t.currency for t in self.trades],
            "counterparty": [t.counterparty for t in self.trades],
        }

    @staticmethod
    def merge_books(*mappings: Mapping[str, str]) -> dict[str, str]:
        """Merge book -> desk mappings (later ones win)."""
        out: dict[str, str] = {}
        for m in mappings:
            out.update(m)
        return out
