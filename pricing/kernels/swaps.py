"""Kernel for swaps: fixed vs IBOR (``IRS``) and fixed vs compounded overnight (``OIS``).

Lowering builds the reference pricer's own QuantLib swap
(:func:`pricing.products.swaps.build_swap`) and reads its legs, coupon by coupon, into
:class:`~pricing.kernels.cashflows.Flows` (amounts signed for the holder: the payer pays the
fixed leg):

* fixed coupons -> their QuantLib amounts on their payment days;
* IBOR coupons (``BlackIborCouponPricer``, indexed coupons) -> a known amount when the fixing
  date is before the as-of date, or on it with a fixing in the history; otherwise QuantLib's
  forecast ``(P(v)/P(e) - 1) / span`` on the index's value and maturity dates of the fixing,
  i.e. a projected term ``N tau / span * P(v)/P(e) * D(pay)`` and a known amount
  ``N tau (spread - 1/span)``;
* compounded overnight coupons (``CompoundingOvernightIndexedCouponPricer``) -> the past fixings
  compounded into ``K = prod(1 + r_i dt_i)`` at lowering (the as-of date's fixing when it is in
  the history, as QuantLib does), and the rest by telescoping: ``N K P(v_i)/P(v_n) D(pay)`` plus
  the known ``N (tau spread - 1)``.

Coupons paid on or before the as-of date are dropped (``includeReferenceDateEvents`` is off in
:func:`pricing.quantlib_.ql_session`). Discounting is on the currency's OIS curve, projection on
the index curve; an OIS on the currency's own overnight index reads one curve for both.

Falls back to QuantLib (:class:`~pricing.kernels.base.KernelUnsupported`) when a past fixing is
missing from the history (the reference pricer then reports QuantLib's "Missing fixing" error),
and for overnight coupons QuantLib cannot telescope (lookback, lockout, observation shift,
simple averaging) — none of which the trades can currently ask for.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence

import numpy as np
import QuantLib as ql
from numpy.typing import NDArray

from pricing import conventions
from pricing.kernels.base import KernelUnsupported, LoweringContext
from pricing.kernels.cashflows import FlowBatch, Flows, FlowsBuilder, RatesMarket, stack_flows
from pricing.products.swaps import build_swap
from pricing.trades import InterestRateSwap, OvernightIndexSwap

__all__ = [
    "TRADE_TYPES",
    "IborFixings",
    "LoweredSwap",
    "SwapBatch",
    "add_fixed_leg",
    "add_floating_leg",
    "discount_key",
    "lower",
    "pv",
    "stack",
]

TRADE_TYPES = (InterestRateSwap, OvernightIndexSwap)


@dataclasses.dataclass(frozen=True, eq=False)
class LoweredSwap:
    """A swap as discounted cashflows (see :mod:`pricing.kernels.cashflows`)."""

    flows: Flows


@dataclasses.dataclass(frozen=True, eq=False)
class SwapBatch:
    """Stacked swaps."""

    flows: FlowBatch


def discount_key(currency: str) -> str:
    """The curve key discounting ``currency``: its OIS index (shared with OIS projection)."""
    return conventions.currency_convention(currency).discount_index


def lower(trade: InterestRateSwap | OvernightIndexSwap, ctx: LoweringContext) -> LoweredSwap:
    """The swap's cashflows, signed for the holder (see the module docstring)."""
    swap = build_swap(trade, ctx.ql_market)
    b = FlowsBuilder(discount_key(trade.currency), trade.index)
    sign = -1.0 if trade.fixed_leg == "PAY" else 1.0
    add_fixed_leg(b, swap.fixedLeg(), sign, ctx.asof)
    add_floating_leg(b, swap.floatingLeg(), -sign, ctx, trade.index)
    return LoweredSwap(b.build())


def stack(lowered: Sequence[LoweredSwap]) -> SwapBatch:
    """Concatenate lowered swaps (column ``i`` of :func:`pv` is ``lowered[i]``)."""
    return SwapBatch(stack_flows([x.flows for x in lowered]))


def pv(batch: SwapBatch, market: RatesMarket) -> NDArray[np.float64]:
    """PVs ``(market.n, k)`` in the trades' currencies."""
    return batch.flows.pv(lambda key, d: market.df(key, market.times(d)), market.n)


# -- leg lowering, shared with the FRA, cap/floor and swaption kernels ----------------------------


#: QuantLib's day 0: ``serialNumber(d) == (d - _EPOCH).days``.
_EPOCH = dt.date(1899, 12, 30)


def _day0(asof: dt.date) -> int:
    """QuantLib serial number of the as-of date (day offsets are serial differences)."""
    return (asof - _EPOCH).days


def add_fixed_leg(b: FlowsBuilder, leg: ql.Leg, sign: float, asof: dt.date) -> None:
    """Fixed coupons paid after ``asof``: their amounts times ``sign``."""
    day0 = _day0(asof)
    for cf in leg:
        pay = cf.date().serialNumber() - day0
        if pay > 0:
            b.known(pay, sign * cf.amount())


def add_floating_leg(
    b: FlowsBuilder, leg: ql.Leg, sign: float, ctx: LoweringContext, index: str
) -> None:
    """IBOR or compounded overnight coupons on ``index`` paid after the as-of date, times
    ``sign``."""
    day0 = _day0(ctx.asof)
    if conventions.index_convention(index).is_overnight:
        checked = False
        for cf in leg:
            pay = cf.date().serialNumber() - day0
            if pay > 0:
                on = ql.as_overnight_indexed_coupon(cf)
                if on is None:
                    raise KernelUnsupported(f"unexpected cashflow on an overnight leg: {cf}")
                if not checked:  # leg-wide settings, one constructor: check the first coupon
                    _check_telescopic(on)
                    checked = True
                _overnight_coupon(b, on, pay, sign, ctx, index)
        return
    fixings = IborFixings(ctx, index)
    for cf in leg:
        pay = cf.date().serialNumber() - day0
        if pay <= 0:
            continue
        c = ql.as_floating_rate_coupon(cf)
        if c is None or c.gearing() != 1.0:
            raise KernelUnsupported(f"unexpected cashflow on an IBOR leg: {cf}")
        n, tau, spread = c.nominal(), c.accrualPeriod(), c.spread()
        _, fix, v, e, span = fixings.of(c)
        if v < 0:
            b.known(pay, sign * ((fix + spread) * tau * n))
        else:
            w = n * tau / span
            b.projected(v, e, pay, sign * w)
            b.known(pay, sign * (n * tau * spread - w))


#: (index, fixing serial) -> (value serial, maturity serial, spanning time): pure calendar
#: arithmetic of the index conventions, shared by every trade and as-of date.
_FORECAST_DATES: dict[tuple[str, int], tuple[int, int, float]] = {}


class IborFixings:
    """The fixings of one IBOR index's coupons, as QuantLib's ``IborCoupon`` (indexed coupons)
    gets them: from the history when the fixing date is before the as-of date, or on it and
    published; otherwise forecast as ``(P(v) / P(e) - 1) / span`` with ``v, e`` the index's
    value and maturity dates of the fixing date and ``span`` the index day count between them.
    """

    def __init__(self, ctx: LoweringContext, name: str) -> None:
        self.ctx, self.name = ctx, name
        self.day0 = _day0(ctx.asof)
        self.history = ctx.fixings.get(name, {})
        self.index = ctx.ql_market.index(name)
        self.day_counter = self.index.dayCounter()

    def of(self, c: ql.FloatingRateCoupon) -> tuple[int, float, int, int, float]:
        """``(fixing day, known fixing, v, e, span)``: the fixing known (``v = e = -1``), or
        NaN and the forecast's value/maturity days and spanning time."""
        day0 = self.day0
        fd = c.fixingDate()
        serial = fd.serialNumber()
        f = serial - day0
        if f <= 0:
            d = _EPOCH + dt.timedelta(days=serial)
            fixing = self.history.get(d)
            if fixing is not None:  # past, or today's already published
                return f, float(fixing), -1, -1, 0.0
            if f < 0:
                raise KernelUnsupported(f"missing {self.name} fixing for {d}")
        key = (self.name, serial)
        hit = _FORECAST_DATES.get(key)
        if hit is None:
            v = self.index.valueDate(fd)
            e = self.index.maturityDate(v)
            hit = (v.serialNumber(), e.serialNumber(), self.day_counter.yearFraction(v, e))
            _FORECAST_DATES[key] = hit
        return f, math.nan, hit[0] - day0, hit[1] - day0, hit[2]


def _past_fixing(ctx: LoweringContext, index: str, d: dt.date) -> float | None:
    """A fixing QuantLib sees in its history (``ql_session`` loads those up to the as-of)."""
    if d > ctx.asof:
        return None
    v = ctx.fixings.get(index, {}).get(d)
    return None if v is None else float(v)


def _check_telescopic(c: ql.OvernightIndexedCoupon) -> None:
    """Compounded, no lookback/lockout/observation shift, unit gearing, simple spread."""
    if (
        c.averagingMethod() != ql.RateAveraging.Compound
        or c.fixingDays() != 0  # lookback
        or c.lockoutDays() != 0
        or c.applyObservationShift()
        or not c.canApplyTelescopicFormula()
        or c.gearing() != 1.0
        or c.compoundSpreadDaily()
    ):
        raise KernelUnsupported("overnight coupon QuantLib does not telescope")


def _overnight_coupon(
    b: FlowsBuilder,
    c: ql.OvernightIndexedCoupon,
    pay: int,
    sign: float,
    ctx: LoweringContext,
    name: str,
) -> None:
    day0 = _day0(ctx.asof)
    start = c.rateComputationStartDate().serialNumber() - day0  # valueDates().front()
    end = c.rateComputationEndDate().serialNumber() - day0  # valueDates().back()
    nominal, tau = c.nominal(), c.accrualPeriod()
    factor = 1.0
    if start <= 0:  # in progress: compound the published fixings (QuantLib's pricer loop)
        fixing_dates, value_dates, dts = c.fixingDates(), c.valueDates(), c.dt()
        n = len(fixing_dates)
        history = ctx.fixings.get(name, {})
        i = 0
        while i < n:
            serial = fixing_dates[i].serialNumber()
            if serial > day0:
                break
            d = _EPOCH + dt.timedelta(days=serial)
            r = history.get(d)
            if r is None:
                if serial < day0:
                    raise KernelUnsupported(f"missing {name} fixing for {d}")
                break  # today's fixing not published yet: forecast it
            factor *= 1.0 + float(r) * dts[i]
            i += 1
        if i == n:
            b.known(pay, sign * nominal * (factor + tau * c.spread() - 1.0))
            return
        start = value_dates[i].serialNumber() - day0
    b.known(pay, sign * nominal * (tau * c.spread() - 1.0))
    b.projected(start, end, pay, sign * nominal * factor)
