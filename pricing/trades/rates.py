"""Interest-rate products: IRS, OIS, FRA, fixed-rate bond, cap/floor, European swaption."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import ClassVar, Literal

from pricing import conventions
from pricing.errors import TradeError
from pricing.trades.base import Side, Trade, parse_tenor

__all__ = [
    "CapFloor",
    "FixedRateBond",
    "ForwardRateAgreement",
    "InterestRateSwap",
    "OvernightIndexSwap",
    "Swaption",
]

PayReceive = Literal["PAY", "RECEIVE"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class _IndexTrade(Trade):
    """A trade on an interest-rate index in its currency."""

    _index_kind: ClassVar[str | None] = None  # "ibor", "overnight" or None (either)

    currency: str
    index: str

    def _index_checks(self) -> list[TradeError]:
        errs = self._known_currency()
        try:
            conv = conventions.index_convention(self.index)
        except KeyError:
            known = ", ".join(sorted(conventions.indices()))
            return [*errs, self._err("index", f"unknown index {self.index!r} (known: {known})")]
        if conv.currency != self.currency:
            errs.append(
                self._err(
                    "index",
                    f"index {self.index} is in {conv.currency}, "
                    f"not in the trade currency {self.currency}",
                )
            )
        if self._index_kind is not None and conv.kind != self._index_kind:
            errs.append(
                self._err(
                    "index",
                    f"{self.product} needs an {self._index_kind} index; "
                    f"{self.index} is {conv.kind}",
                )
            )
        return errs


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Swap(_IndexTrade):
    positive_fields: ClassVar[tuple[str, ...]] = ("notional",)

    notional: float
    start_date: dt.date
    maturity_date: dt.date
    fixed_rate: float
    fixed_leg: PayReceive
    spread: float = 0.0

    def check(self, asof: dt.date | None = None) -> list[TradeError]:
        return [
            *self._index_checks(),
            *super().check(asof),
            *self._after("maturity_date", "start_date"),
            *self._not_before_asof("maturity_date", asof),
        ]


@dataclasses.dataclass(frozen=True, kw_only=True)
class InterestRateSwap(_Swap):
    """Vanilla fixed-vs-IBOR swap.

    Fixed and floating legs follow the index's swap conventions (``conventions/indices.yaml``):
    fixed frequency and day count, floating frequency = index tenor. ``fixed_leg`` says whether
    the holder pays (payer swap) or receives the fixed rate; ``spread`` is added to the floating
    leg.

    >>> InterestRateSwap(trade_id="T1", book="B", counterparty="C", currency="EUR",
    ...     index="EUR-EURIBOR-6M", notional=1e7, start_date=dt.date(2025, 12, 2),
    ...     maturity_date=dt.date(2035, 12, 2), fixed_rate=0.025, fixed_leg="PAY").product
    'IRS'
    """

    product: ClassVar[str] = "IRS"
    _index_kind: ClassVar[str | None] = "ibor"


@dataclasses.dataclass(frozen=True, kw_only=True)
class OvernightIndexSwap(_Swap):
    """Fixed vs compounded overnight rate (SOFR, ESTR...) swap, with the index's payment lag."""

    product: ClassVar[str] = "OIS"
    _index_kind: ClassVar[str | None] = "overnight"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ForwardRateAgreement(_IndexTrade):
    """FRA on an IBOR index over [start_date, end_date], settled at start (discounted payoff).

    ``fixed_leg="PAY"`` is the FRA buyer: pays the contract rate, receives the fixing.
    """

    product: ClassVar[str] = "FRA"
    _index_kind: ClassVar[str | None] = "ibor"
    positive_fields: ClassVar[tuple[str, ...]] = ("notional",)

    notional: float
    start_date: dt.date
    end_date: dt.date
    fixed_rate: float
    fixed_leg: PayReceive

    def check(self, asof: dt.date | None = None) -> list[TradeError]:
        return [
            *self._index_checks(),
            *super().check(asof),
            *self._after("end_date", "start_date"),
            *self._not_before_asof("start_date", asof),
        ]


@dataclasses.dataclass(frozen=True, kw_only=True)
class FixedRateBond(Trade):
    """Fixed-rate bullet bond; ``notional`` is the face amount, repaid at maturity.

    Cashflows after the as-of date are discounted on the currency's OIS curve plus the issuer's
    z-spread quote ``CREDIT.<issuer>.ZSPREAD`` (continuously compounded) when ``issuer`` is set.
    """

    product: ClassVar[str] = "BOND"
    positive_fields: ClassVar[tuple[str, ...]] = ("notional",)

    currency: str
    notional: float
    issue_date: dt.date
    maturity_date: dt.date
    coupon: float
    coupon_frequency: str = "1Y"
    day_count: str = "30/360"
    side: Side = "BUY"
    issuer: str = ""
    settlement_days: int = 2

    def check(self, asof: dt.date | None = None) -> list[TradeError]:
        errs = [
            *self._known_currency(),
            *super().check(asof),
            *self._after("maturity_date", "issue_date"),
            *self._not_before_asof("maturity_date", asof),
        ]
        try:
            parse_tenor(self.coupon_frequency)
        except ValueError as exc:
            errs.append(self._err("coupon_frequency", str(exc)))
        if self.day_count not in conventions.DAY_COUNTS:
            errs.append(
                self._err(
                    "day_count",
                    f"unknown day count {self.day_count!r} "
                    f"(known: {', '.join(conventions.DAY_COUNTS)})",
                )
            )
        if self.coupon < 0:
            errs.append(self._err("coupon", f"must not be negative, got {self.coupon!r}"))
        if self.settlement_days < 0:
            errs.append(self._err("settlement_days", "must not be negative"))
        return errs


@dataclasses.dataclass(frozen=True, kw_only=True)
class CapFloor(_IndexTrade):
    """Cap or floor on an IBOR index: one caplet per index period from start to maturity."""

    product: ClassVar[str] = "CAPFLOOR"
    _index_kind: ClassVar[str | None] = "ibor"
    positive_fields: ClassVar[tuple[str, ...]] = ("notional",)

    notional: float
    start_date: dt.date
    maturity_date: dt.date
    strike: float
    option_type: Literal["CAP", "FLOOR"]
    side: Side = "BUY"

    def check(self, asof: dt.date | None = None) -> list[TradeError]:
        return [
            *self._index_checks(),
            *super().check(asof),
            *self._after("maturity_date", "start_date"),
            *self._not_before_asof("maturity_date", asof),
        ]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Swaption(_IndexTrade):
    """European, physically settled swaption into the index's standard swap.

    The underlying swap starts ``settlement_days`` (of the index's swap convention) after
    ``expiry_date`` and runs for ``swap_tenor``. ``option_type="PAYER"`` is the right to pay fixed.
    """

    product: ClassVar[str] = "SWAPTION"
    positive_fields: ClassVar[tuple[str, ...]] = ("notional",)

    notional: float
    expiry_date: dt.date
    swap_tenor: str
    strike: float
    option_type: Literal["PAYER", "RECEIVER"]
    side: Side = "BUY"

    def check(self, asof: dt.date | None = None) -> list[TradeError]:
        errs = [
            *self._index_checks(),
            *super().check(asof),
            *self._not_before_asof("expiry_date", asof),
        ]
        try:
            parse_tenor(self.swap_tenor)
        except ValueError as exc:
            errs.append(self._err("swap_tenor", str(exc)))
        return errs
