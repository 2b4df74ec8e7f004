"""Fixed-rate bullet bonds (``BOND``): position value and standard bond analytics.

The bond is QuantLib's ``FixedRateBond`` on a schedule generated backward from the maturity to
the issue date at ``coupon_frequency``, on the calendar of the bond's currency:

* coupon (accrual) dates are **unadjusted**, so every full period accrues exactly one
  period under ``day_count`` (e.g. 0.5 under 30/360 for semiannual coupons);
* payment dates follow the **Following** convention on that calendar;
* face = ``notional``, redemption 100% at maturity, ``settlement_days`` business days from the
  evaluation date to settlement; no ex-coupon period.

:func:`reference_pv` is the value of the position: every cashflow paid after the as-of date,
discounted to the as-of date on the currency's OIS curve plus the issuer's z-spread
(``DiscountingBondEngine``), times -1 for a short (``side="SELL"``).

Bond-market quantities are per 100 of face at the settlement date: :func:`analytics` (prices
from the curve, yield to maturity, durations, convexity) and the yield/price pair
:func:`price_from_yield` / :func:`yield_from_price` (``ql.BondFunctions``). Yields are
compounded at the coupon frequency by default (the street convention), with year fractions in
the bond's own day count.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import QuantLib as ql

from pricing import conventions
from pricing import quantlib_ as qa
from pricing.curves import QlMarket
from pricing.products.base import Valuation, side_sign
from pricing.trades import FixedRateBond

__all__ = [
    "TRADE_TYPES",
    "Compounding",
    "analytics",
    "build_bond",
    "price_from_yield",
    "reference_pv",
    "requirements",
    "yield_from_price",
]

TRADE_TYPES = (FixedRateBond,)

Compounding = Literal["COMPOUNDED", "CONTINUOUS", "SIMPLE"]
_COMPOUNDING = {"COMPOUNDED": ql.Compounded, "CONTINUOUS": ql.Continuous, "SIMPLE": ql.Simple}


def requirements(trade: FixedRateBond) -> list[tuple[str, str]]:
    """Discount curve of the currency and, when ``issuer`` is set, the issuer's z-spread."""
    reqs = [("discount", trade.currency)]
    if trade.issuer:
        reqs.append(("credit", trade.issuer))
    return reqs


def build_bond(trade: FixedRateBond) -> ql.FixedRateBond:
    """The QuantLib bond of ``trade`` (no pricing engine attached).

    >>> bond = build_bond(FixedRateBond(trade_id="B1", book="B", counterparty="C",
    ...     currency="USD", notional=1e6, issue_date=dt.date(2025, 12, 15),
    ...     maturity_date=dt.date(2028, 12, 15), coupon=0.10, coupon_frequency="6M"))
    >>> len(bond.cashflows())  # six coupons and the redemption
    7
    """
    cal = qa.calendar(conventions.currency_convention(trade.currency).calendar)
    sched = ql.Schedule(
        qa.ql_date(trade.issue_date),
        qa.ql_date(trade.maturity_date),
        qa.period(trade.coupon_frequency),
        cal,
        ql.Unadjusted,
        ql.Unadjusted,
        ql.DateGeneration.Backward,
        False,
    )
    return ql.FixedRateBond(
        trade.settlement_days,
        trade.notional,
        sched,
        [trade.coupon],
        qa.day_counter(trade.day_count),
        ql.Following,
        100.0,
        qa.ql_date(trade.issue_date),
        cal,
    )


def _priced_bond(trade: FixedRateBond, market: QlMarket) -> ql.FixedRateBond:
    bond = build_bond(trade)
    bond.setPricingEngine(
        ql.DiscountingBondEngine(market.zspread_curve(trade.currency, trade.issuer))
    )
    return bond


def reference_pv(trade: FixedRateBond, market: QlMarket) -> Valuation:
    """Value of the position in its currency: cashflows after the as-of date, signed by side."""
    return Valuation(side_sign(trade.side) * _priced_bond(trade, market).NPV())


def _rate(trade: FixedRateBond, compounding: Compounding) -> tuple[ql.DayCounter, int, int]:
    return (
        qa.day_counter(trade.day_count),
        _COMPOUNDING[compounding],
        qa.frequency(trade.coupon_frequency),
    )


def price_from_yield(
    trade: FixedRateBond,
    yld: float,
    settlement_date: dt.date,
    compounding: Compounding = "COMPOUNDED",
    clean: bool = True,
) -> float:
    """Price per 100 face at ``settlement_date`` from a yield to maturity.

    Parameters
    ----------
    trade
        The bond.
    yld
        Yield to maturity (decimal), with ``compounding`` at the coupon frequency and year
        fractions in the bond's day count.
    settlement_date
        Date the price is paid; cashflows on or before it are excluded.
    compounding
        ``"COMPOUNDED"`` (at the coupon frequency), ``"CONTINUOUS"`` or ``"SIMPLE"``.
    clean
        Clean price (default) or dirty price (clean + accrued interest).

    >>> bond = FixedRateBond(trade_id="B1", book="B", counterparty="C", currency="USD",
    ...     notional=100.0, issue_date=dt.date(2025, 12, 15), maturity_date=dt.date(2028, 12, 15),
    ...     coupon=0.10, coupon_frequency="6M")
    >>> round(price_from_yield(bond, 0.12, dt.date(2025, 12, 15), "CONTINUOUS"), 3)
    94.213
    """
    bond = build_bond(trade)
    dc, comp, freq = _rate(trade, compounding)
    settle = qa.ql_date(settlement_date)
    price = float(ql.BondFunctions.cleanPrice(bond, yld, dc, comp, freq, settle))
    return price if clean else price + float(ql.BondFunctions.accruedAmount(bond, settle))


def yield_from_price(
    trade: FixedRateBond,
    price: float,
    settlement_date: dt.date,
    compounding: Compounding = "COMPOUNDED",
    clean: bool = True,
) -> float:
    """Yield to maturity (decimal) from a price per 100 face; inverse of :func:`price_from_yield`.

    Solved to 1e-12 in yield.
    """
    bond = build_bond(trade)
    dc, comp, freq = _rate(trade, compounding)
    kind = ql.BondPrice.Clean if clean else ql.BondPrice.Dirty
    return float(
        ql.BondFunctions.bondYield(
            bond, ql.BondPrice(price, kind), dc, comp, freq, qa.ql_date(settlement_date), 1e-12, 200
        )
    )


def analytics(
    trade: FixedRateBond, market: QlMarket, compounding: Compounding = "COMPOUNDED"
) -> dict[str, float]:
    """Curve prices and yield-based risk measures of the bond at its settlement date.

    Prices come from the discount curve plus z-spread (as :func:`reference_pv`), at the
    settlement date ``settlement_days`` business days after the as-of date; the yield is the
    yield to maturity of that clean price, and the durations and convexity are taken at that
    yield (``ql.BondFunctions``). Must be called inside the market's ``ql_session``.

    Returns
    -------
    dict
        ``clean_price``, ``dirty_price``, ``accrued`` (per 100 face), ``yield`` (decimal, with
        ``compounding`` at the coupon frequency, day count of the bond), ``macaulay_duration``
        (sum of t * PV(cashflow) / price, in years of the bond's day count: QuantLib's
        ``Duration.Simple``, which is Macaulay's definition for any compounding),
        ``modified_duration`` (-dP/dy / P), ``convexity`` (d2P/dy2 / P).
    """
    bond = _priced_bond(trade, market)
    settle = bond.settlementDate()
    clean = float(bond.cleanPrice())
    dc, comp, freq = _rate(trade, compounding)
    y = float(
        ql.BondFunctions.bondYield(
            bond, ql.BondPrice(clean, ql.BondPrice.Clean), dc, comp, freq, settle, 1e-12, 200
        )
    )
    rate = ql.InterestRate(y, dc, comp, freq)
    return {
        "clean_price": clean,
        "dirty_price": float(bond.dirtyPrice()),
        "accrued": float(bond.accruedAmount(settle)),
        "yield": y,
        "macaulay_duration": float(
            ql.BondFunctions.duration(bond, rate, ql.Duration.Simple, settle)
        ),
        "modified_duration": float(
            ql.BondFunctions.duration(bond, rate, ql.Duration.Modified, settle)
        ),
        "convexity": float(ql.BondFunctions.convexity(bond, rate, settle)),
    }
