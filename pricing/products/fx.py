"""FX products: deliverable forward and European option (Garman-Kohlhagen).

A pair ``"EURUSD"`` has base (foreign) currency EUR and quote (domestic) currency USD. Notionals
are in base currency; PVs, strikes and Greeks are in quote currency.

Both products use the pair's curves from :meth:`pricing.curves.QlMarket.fx_curves`: the quote
currency's OIS curve discounts, and the base-currency curve is the one implied by the quoted
forward points when there are any (so that ``F(T) = S * DF_base(T) / DF_quote(T)`` reprices every
quoted outright), else the base currency's own OIS curve. The snapshot's FX spot is taken as the
rate for exchange today (no spot lag), the same convention as
:meth:`~pricing.curves.QlMarket.fx_forward`.
"""

from __future__ import annotations

import QuantLib as ql

from pricing import quantlib_ as qa
from pricing.curves import QlMarket
from pricing.products.base import Valuation, model_greeks, side_sign
from pricing.trades import FxForward, FxOption

__all__ = ["TRADE_TYPES", "build_forward", "build_option", "reference_pv", "requirements"]

TRADE_TYPES = (FxForward, FxOption)

_OPTION_TYPE = {"CALL": ql.Option.Call, "PUT": ql.Option.Put}


def requirements(trade: FxForward | FxOption) -> list[tuple[str, str]]:
    """Spot and curves of the pair; an option also needs the pair's vols.

    >>> from datetime import date
    >>> fwd = FxForward(trade_id="F1", book="B", counterparty="C", pair="EURUSD",
    ...                 notional=1e6, strike=1.17, delivery_date=date(2026, 11, 30))
    >>> requirements(fwd)
    [('fx', 'EURUSD'), ('fxcurves', 'EURUSD')]
    """
    reqs = [("fx", trade.pair), ("fxcurves", trade.pair)]
    if isinstance(trade, FxOption):
        reqs.append(("fxvol", trade.pair))
    return reqs


def build_forward(trade: FxForward, market: QlMarket) -> ql.FxForward:
    """QuantLib's ``FxForward`` of ``trade`` with a ``DiscountingFxForwardEngine`` attached.

    The instrument receives ``notional`` base currency and pays ``notional * strike`` quote
    currency on the delivery date when ``side="BUY"`` (the reverse for ``SELL``). Zero
    settlement days: the engine's fair rate is then ``S * DF_base(T) / DF_quote(T)``, exactly
    :meth:`QlMarket.fx_forward`, and ``npvTargetCurrency()`` is
    ``N * (F(T) - K) * DF_quote(T)`` for a buyer.
    """
    base_curve, quote_curve = market.fx_curves(trade.pair)
    spot = ql.QuoteHandle(ql.SimpleQuote(market.fx_spot(trade.pair)))
    fwd = ql.FxForward(
        trade.notional,
        qa.currency(trade.base_currency),
        qa.currency(trade.currency),
        trade.strike,
        qa.ql_date(trade.delivery_date),
        trade.side == "SELL",
        0,
        ql.NullCalendar(),
    )
    fwd.setPricingEngine(ql.DiscountingFxForwardEngine(base_curve, quote_curve, spot))
    return fwd


def gk_process(pair: str, market: QlMarket) -> ql.GarmanKohlagenProcess:
    """Garman-Kohlhagen process of ``pair``: spot, base (foreign) curve, quote (domestic) curve,
    and the pair's Black vols."""
    base_curve, quote_curve = market.fx_curves(pair)
    spot = ql.QuoteHandle(ql.SimpleQuote(market.fx_spot(pair)))
    return ql.GarmanKohlagenProcess(spot, base_curve, quote_curve, market.fx_vol(pair))


def build_option(trade: FxOption, market: QlMarket) -> ql.VanillaOption:
    """The European option on one unit of base currency, with ``AnalyticEuropeanEngine``."""
    option = ql.VanillaOption(
        ql.PlainVanillaPayoff(_OPTION_TYPE[trade.option_type], trade.strike),
        ql.EuropeanExercise(qa.ql_date(trade.expiry_date)),
    )
    option.setPricingEngine(ql.AnalyticEuropeanEngine(gk_process(trade.pair, market)))
    return option


def reference_pv(trade: FxForward | FxOption, market: QlMarket) -> Valuation:
    """PV in the pair's quote currency (positive = asset to the holder).

    A forward reports no Greeks. An option reports QuantLib's analytic Garman-Kohlhagen Greeks
    for the whole position (``notional`` units of base currency, signed by ``side``): ``delta``
    and ``gamma`` with respect to the spot rate, ``vega`` per 1.00 of vol, ``theta`` per year,
    ``rho`` to the quote-currency (domestic) rate and ``dividend_rho`` to the base-currency
    (foreign) rate, each per 1.00.
    """
    if isinstance(trade, FxForward):
        return Valuation(build_forward(trade, market).npvTargetCurrency())
    option = build_option(trade, market)
    scale = side_sign(trade.side) * trade.notional
    return Valuation(scale * option.NPV(), model_greeks(option, scale))
