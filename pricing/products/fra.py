"""Forward rate agreements on an IBOR index (``FRA``).

QuantLib's ``ForwardRateAgreement(index, valueDate, maturityDate, type, strike, notional,
discountCurve)`` settles at the value date (the FRA's start) the discounted difference::

    amount = N * s * (F - K) * tau / (1 + F * tau),     PV = amount * P_disc(start)

with ``s = +1`` for the buyer (``Position.Long``: pays ``K``, receives the fixing), ``tau`` the
index day count (e.g. ACT/360) from start to the end date adjusted by the index calendar and
business-day convention, and ``F = (P_proj(start) / P_proj(end) - 1) / tau`` the simple forward
rate of the projection curve over exactly that period (QuantLib's "par coupon approximation"
branch, used whenever the maturity date is given). The start date is adjusted here with the
same calendar and convention, so both ends are business days.

Limitation: between the fixing date and the start date the realised fixing is known, but this
constructor still projects ``F`` from the curve (QuantLib ignores the index history here).
"""

from __future__ import annotations

import QuantLib as ql

from pricing import conventions
from pricing import quantlib_ as qa
from pricing.curves import QlMarket
from pricing.products.base import Valuation
from pricing.trades import ForwardRateAgreement

__all__ = ["TRADE_TYPES", "build_fra", "reference_pv", "requirements"]

TRADE_TYPES = (ForwardRateAgreement,)


def requirements(trade: ForwardRateAgreement) -> list[tuple[str, str]]:
    """Discount curve of the currency and projection curve of the index."""
    return [("discount", trade.currency), ("curve", trade.index)]


def build_fra(trade: ForwardRateAgreement, market: QlMarket) -> ql.ForwardRateAgreement:
    """The QuantLib FRA of ``trade`` (``fixed_leg="PAY"`` is the long/buyer side)."""
    conv = conventions.index_convention(trade.index)
    start = qa.calendar(conv.calendar).adjust(qa.ql_date(trade.start_date), qa.bdc(conv.convention))
    position = ql.Position.Long if trade.fixed_leg == "PAY" else ql.Position.Short
    return ql.ForwardRateAgreement(
        market.index(trade.index),
        start,
        qa.ql_date(trade.end_date),
        position,
        trade.fixed_rate,
        trade.notional,
        market.discount(trade.currency),
    )


def reference_pv(trade: ForwardRateAgreement, market: QlMarket) -> Valuation:
    """PV of the FRA in its currency (positive = asset to the holder)."""
    return Valuation(build_fra(trade, market).NPV())
