"""European, physically settled swaptions (``SWAPTION``).

The underlying is the index's standard swap (``conventions/indices.yaml``), exactly the swap an
``IRS`` (IBOR index: ``VanillaSwap``) or ``OIS`` (overnight index: ``OvernightIndexedSwap``)
trade would be: :func:`underlying_swap` writes it as such a trade and
:func:`pricing.products.swaps.build_swap` builds it, so the two products cannot drift apart.
It starts ``swap.settlement_days`` business days (index calendar) after ``expiry_date`` and
ends ``swap_tenor`` after its start (the schedule adjusts the dates); its fixed rate is the
strike; ``PAYER`` pays fixed.

Engines take the currency's swaption vol structure ``market.swaption_vol(ccy)``: normal vols ->
``BachelierSwaptionEngine``; shifted-lognormal vols -> ``BlackSwaptionEngine``, which reads the
displacement from the vol structure itself (``shift()``; QuantLib checks the vol type). Both
discount on the currency's OIS curve and use the physical annuity ``sum tau_i P(t_i)`` of the
fixed leg (``CashAnnuityModel.DiscountCurve``).

Greeks: the engines' ``vega`` (per 1.00 of vol: normal vol in rate units, or lognormal vol).
"""

from __future__ import annotations

import QuantLib as ql

from pricing import conventions
from pricing import quantlib_ as qa
from pricing.curves import QlMarket
from pricing.products import swaps
from pricing.products.base import Valuation, model_greeks, side_sign
from pricing.trades import InterestRateSwap, OvernightIndexSwap, Swaption

__all__ = ["TRADE_TYPES", "build_swaption", "reference_pv", "requirements", "underlying_swap"]

TRADE_TYPES = (Swaption,)


def requirements(trade: Swaption) -> list[tuple[str, str]]:
    """Discount curve, projection curve of the index and the currency's swaption vols."""
    return [("discount", trade.currency), ("curve", trade.index), ("swptvol", trade.currency)]


def underlying_swap(trade: Swaption) -> InterestRateSwap | OvernightIndexSwap:
    """The forward-starting swap the swaption exercises into, as a swap trade.

    >>> import datetime as dt
    >>> sw = underlying_swap(Swaption(trade_id="S1", book="B", counterparty="C", currency="EUR",
    ...     index="EUR-EURIBOR-6M", notional=1e7, expiry_date=dt.date(2026, 11, 27),
    ...     swap_tenor="5Y", strike=0.025, option_type="PAYER"))
    >>> sw.product, sw.start_date, sw.maturity_date, sw.fixed_leg
    ('IRS', datetime.date(2026, 12, 1), datetime.date(2031, 12, 1), 'PAY')
    """
    conv = conventions.index_convention(trade.index)
    start = qa.calendar(conv.calendar).advance(
        qa.ql_date(trade.expiry_date), conv.swap.settlement_days, ql.Days
    )
    end = start + qa.period(trade.swap_tenor)
    cls = OvernightIndexSwap if conv.is_overnight else InterestRateSwap
    return cls(
        trade_id=trade.trade_id,
        book=trade.book,
        counterparty=trade.counterparty,
        currency=trade.currency,
        index=trade.index,
        notional=trade.notional,
        start_date=qa.py_date(start),
        maturity_date=qa.py_date(end),
        fixed_rate=trade.strike,
        fixed_leg="PAY" if trade.option_type == "PAYER" else "RECEIVE",
    )


def build_swaption(trade: Swaption, market: QlMarket) -> ql.Swaption:
    """The QuantLib swaption of ``trade`` (long one unit) with its engine attached."""
    swap = swaps.build_swap(underlying_swap(trade), market)
    option = ql.Swaption(
        swap, ql.EuropeanExercise(qa.ql_date(trade.expiry_date)), ql.Settlement.Physical
    )
    rv = market.swaption_vol(trade.currency)
    disc = market.discount(trade.currency)
    if rv.kind == "NORMAL":
        option.setPricingEngine(ql.BachelierSwaptionEngine(disc, rv.handle))
    else:
        option.setPricingEngine(ql.BlackSwaptionEngine(disc, rv.handle))
    return option


def reference_pv(trade: Swaption, market: QlMarket) -> Valuation:
    """PV of the swaption in its currency, signed by side, with the engine's vega."""
    option = build_swaption(trade, market)
    sign = side_sign(trade.side)
    return Valuation(sign * option.NPV(), model_greeks(option, sign, ("vega",)))
