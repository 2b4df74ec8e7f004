"""FX products: outright forward and European option (Garman-Kohlhagen).

A currency pair is written ``"EURUSD"``: base (foreign) currency EUR, quote (domestic) currency
USD; rates are in units of quote currency per unit of base. Notionals are in base currency and
PVs in quote currency.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import ClassVar, Literal

from pricing import conventions
from pricing.errors import TradeError
from pricing.trades.base import Side, Trade

__all__ = ["FxForward", "FxOption"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class _FxTrade(Trade):
    positive_fields: ClassVar[tuple[str, ...]] = ("notional", "strike")

    pair: str
    notional: float
    strike: float

    @property
    def base_currency(self) -> str:
        """The base (foreign) currency: ``"EUR"`` in ``"EURUSD"``."""
        return self.pair[:3]

    @property
    def currency(self) -> str:
        """PV currency: the pair's quote (domestic) currency."""
        return self.pair[3:]

    def _pair_checks(self) -> list[TradeError]:
        p = self.pair
        if len(p) != 6 or not p.isalpha() or not p.isupper():
            return [self._err("pair", f"malformed currency pair {p!r} (expected e.g. EURUSD)")]
        known = conventions.currencies()
        errs = [
            self._err("pair", f"unknown currency {c!r} in pair {p}")
            for c in (p[:3], p[3:])
            if c not in known
        ]
        if p[:3] == p[3:]:
            errs.append(self._err("pair", f"pair {p} has the same currency twice"))
        return errs


@dataclasses.dataclass(frozen=True, kw_only=True)
class FxForward(_FxTrade):
    """Deliverable FX forward: on ``delivery_date`` exchange ``notional`` base for
    ``notional * strike`` quote currency. ``side="BUY"`` buys the base currency."""

    product: ClassVar[str] = "FX_FORWARD"

    delivery_date: dt.date
    side: Side = "BUY"

    def check(self, asof: dt.date | None = None) -> list[TradeError]:
        return [
            *self._pair_checks(),
            *super().check(asof),
            *self._not_before_asof("delivery_date", asof),
        ]


@dataclasses.dataclass(frozen=True, kw_only=True)
class FxOption(_FxTrade):
    """European FX option on the base currency (call = right to buy base at ``strike``),
    settled at expiry; valued by Garman-Kohlhagen."""

    product: ClassVar[str] = "FX_OPTION"

    expiry_date: dt.date
    option_type: Literal["CALL", "PUT"]
    side: Side = "BUY"

    def check(self, asof: dt.date | None = None) -> list[TradeError]:
        return [
            *self._pair_checks(),
            *super().check(asof),
            *self._not_before_asof("expiry_date", asof),
        ]
