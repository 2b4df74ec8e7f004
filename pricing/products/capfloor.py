"""Caps and floors on an IBOR index (``CAPFLOOR``).

The floating leg is a QuantLib ``IborLeg``: one coupon per index tenor from ``start_date`` to
``maturity_date``, generated backward (an irregular first period, if any, comes first) on the
index's calendar, business-day convention and end-of-month rule; accrual in the index day
count; paid at the adjusted period end; fixed ``fixing_days`` before each period start. Each
coupon carries one caplet (floorlet) struck at ``strike``: ``N * tau * max(L - K, 0)``
(``max(K - L, 0)``). Caplets already paid are gone; one whose fixing is past uses the fixing
from the snapshot.

Volatility: the market's cap vols are flat (cap) vols by maturity, so every caplet is priced at
the single flat vol ``rv.flat_vol(t)``, ``t`` = ACT/365F time from as-of to the cap's maturity
date, with ``BachelierCapFloorEngine`` for normal vols and ``BlackCapFloorEngine`` (displacement
= the quoted shift) for shifted-lognormal vols, discounting on the currency's OIS curve.

Greeks: the engines report ``vega`` (sum of caplet vegas, per 1.00 of vol); nothing else is
offered by QuantLib for a cap as a whole.
"""

from __future__ import annotations

import QuantLib as ql

from pricing import conventions
from pricing import quantlib_ as qa
from pricing.curves import QlMarket
from pricing.products.base import Valuation, model_greeks, schedule, side_sign
from pricing.trades import CapFloor

__all__ = ["TRADE_TYPES", "build_capfloor", "reference_pv", "requirements"]

TRADE_TYPES = (CapFloor,)


def requirements(trade: CapFloor) -> list[tuple[str, str]]:
    """Discount curve, projection curve of the index and the currency's cap vols."""
    return [("discount", trade.currency), ("curve", trade.index), ("capvol", trade.currency)]


def build_capfloor(trade: CapFloor, market: QlMarket) -> ql.CapFloor:
    """The QuantLib cap or floor of ``trade`` (long one unit) with its engine attached."""
    conv = conventions.index_convention(trade.index)
    if conv.tenor is None:  # the trade check already rejects overnight indices
        raise ValueError(f"{trade.index} is not an IBOR index")
    index = market.index(trade.index)
    sched = schedule(
        trade.start_date,
        trade.maturity_date,
        conv.tenor,
        conv.calendar,
        conv.convention,
        conv.end_of_month,
    )
    leg = ql.IborLeg(
        [trade.notional], sched, index, qa.day_counter(conv.day_count), qa.bdc(conv.convention)
    )
    make = ql.Cap if trade.option_type == "CAP" else ql.Floor
    cf = make(leg, [trade.strike])
    rv = market.cap_vol(trade.currency)
    vol = ql.QuoteHandle(ql.SimpleQuote(rv.flat_vol(market.year_fraction(trade.maturity_date))))
    disc = market.discount(trade.currency)
    if rv.kind == "NORMAL":
        engine = ql.BachelierCapFloorEngine(disc, vol)
    else:
        engine = ql.BlackCapFloorEngine(disc, vol, ql.Actual365Fixed(), rv.shift)
    cf.setPricingEngine(engine)
    return cf


def reference_pv(trade: CapFloor, market: QlMarket) -> Valuation:
    """PV of the cap/floor in its currency, signed by side, with the engine's vega."""
    cf = build_capfloor(trade, market)
    sign = side_sign(trade.side)
    return Valuation(sign * cf.NPV(), model_greeks(cf, sign, ("vega",)))
