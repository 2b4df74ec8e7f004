"""Interest-rate swaps: fixed vs IBOR (``IRS``) and fixed vs compounded overnight (``OIS``).

Schedules follow the index's swap conventions (``conventions/indices.yaml``), the same ones the
curve bootstrap uses, so a trade on a curve's own quote reprices it. Cashflows are discounted on
the currency's OIS curve and floating coupons projected on the index curve.
"""

from __future__ import annotations

import QuantLib as ql

from pricing import conventions
from pricing import quantlib_ as qa
from pricing.curves import QlMarket
from pricing.products.base import Valuation, schedule
from pricing.trades import InterestRateSwap, OvernightIndexSwap

__all__ = ["TRADE_TYPES", "build_swap", "reference_pv", "requirements"]

TRADE_TYPES = (InterestRateSwap, OvernightIndexSwap)


def requirements(trade: InterestRateSwap | OvernightIndexSwap) -> list[tuple[str, str]]:
    """Discount curve of the currency and projection curve of the index."""
    return [("discount", trade.currency), ("curve", trade.index)]


def build_swap(
    trade: InterestRateSwap | OvernightIndexSwap, market: QlMarket
) -> ql.FixedVsFloatingSwap:
    """The QuantLib swap of ``trade`` with a discounting engine attached."""
    conv = conventions.index_convention(trade.index)
    sw = conv.swap
    index = market.index(trade.index)
    kind = ql.Swap.Payer if trade.fixed_leg == "PAY" else ql.Swap.Receiver
    fixed = schedule(
        trade.start_date, trade.maturity_date, sw.fixed_frequency, conv.calendar, sw.convention
    )
    floating = schedule(
        trade.start_date, trade.maturity_date, sw.float_frequency, conv.calendar, sw.convention
    )
    if conv.is_overnight:
        swap = ql.OvernightIndexedSwap(
            kind,
            [trade.notional] * (len(fixed) - 1),
            fixed,
            trade.fixed_rate,
            qa.day_counter(sw.fixed_day_count),
            [trade.notional] * (len(floating) - 1),
            floating,
            index,
            trade.spread,
            sw.payment_lag,
            qa.bdc(sw.convention),
            qa.calendar(conv.calendar),
        )
    else:
        swap = ql.VanillaSwap(
            kind,
            trade.notional,
            fixed,
            trade.fixed_rate,
            qa.day_counter(sw.fixed_day_count),
            floating,
            index,
            trade.spread,
            qa.day_counter(conv.day_count),
        )
    swap.setPricingEngine(ql.DiscountingSwapEngine(market.discount(trade.currency)))
    return swap


def reference_pv(trade: InterestRateSwap | OvernightIndexSwap, market: QlMarket) -> Valuation:
    """PV of the swap in its currency (positive = asset to the holder)."""
    return Valuation(build_swap(trade, market).NPV())
