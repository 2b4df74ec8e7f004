"""Equity options: European, American and single-barrier, on an index or a single stock.

Underlyings (currency, calendar) come from ``conventions/underlyings.yaml``. ``quantity`` is the
number of units of the underlying; PVs are in the underlying's currency.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import ClassVar, Literal

from pricing import conventions
from pricing.errors import TradeError
from pricing.trades.base import Side, Trade

__all__ = ["EquityAmericanOption", "EquityBarrierOption", "EquityOption"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class EquityOption(Trade):
    """European option with a continuous dividend yield (Black-Scholes-Merton)."""

    product: ClassVar[str] = "EQ_OPTION"
    positive_fields: ClassVar[tuple[str, ...]] = ("quantity", "strike")

    underlying: str
    quantity: float
    strike: float
    expiry_date: dt.date
    option_type: Literal["CALL", "PUT"]
    side: Side = "BUY"

    @property
    def currency(self) -> str:
        """PV currency: the underlying's trading currency (``"USD"`` when unknown)."""
        conv = conventions.underlyings().get(self.underlying)
        return conv.currency if conv is not None else "USD"

    def check(self, asof: dt.date | None = None) -> list[TradeError]:
        errs = [*super().check(asof), *self._not_before_asof("expiry_date", asof)]
        if self.underlying not in conventions.underlyings():
            known = ", ".join(sorted(conventions.underlyings()))
            errs.append(
                self._err("underlying", f"unknown underlying {self.underlying!r} (known: {known})")
            )
        return errs


@dataclasses.dataclass(frozen=True, kw_only=True)
class EquityAmericanOption(EquityOption):
    """American option (exercise any day up to expiry)."""

    product: ClassVar[str] = "EQ_AMERICAN"


@dataclasses.dataclass(frozen=True, kw_only=True)
class EquityBarrierOption(EquityOption):
    """European option with one continuously monitored barrier (knock-in or knock-out).

    ``rebate`` is paid when the barrier is hit for a knock-out, and at expiry for a knock-in
    that never knocked in (QuantLib's analytic engine and Haug's formulas).
    """

    product: ClassVar[str] = "EQ_BARRIER"
    positive_fields: ClassVar[tuple[str, ...]] = ("quantity", "strike", "barrier")

    barrier_type: Literal["DOWN_IN", "DOWN_OUT", "UP_IN", "UP_OUT"]
    barrier: float
    rebate: float = 0.0

    def check(self, asof: dt.date | None = None) -> list[TradeError]:
        errs = super().check(asof)
        if self.rebate < 0:
            errs.append(self._err("rebate", f"must not be negative, got {self.rebate!r}"))
        return errs
