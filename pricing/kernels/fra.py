"""Kernel for forward rate agreements (``FRA``).

The reference (:mod:`pricing.products.fra`) is QuantLib's ``ForwardRateAgreement`` with an
explicit maturity date, which settles at the value date ``v`` (the adjusted start)::

    PV = N s (F - K) T / (1 + F T) * D(v),     F = (P(v) / P(m) - 1) / T

with ``m`` the end date adjusted by the index's fixing calendar and convention, ``T`` the index
day count from ``v`` to ``m`` and ``s = +1`` for the buyer. Since ``1 + F T = P(v)/P(m)``, this
is exactly the cashflow form ``N s D(v) - N s (1 + K T) * P(m)/P(v) * D(v)``: one known amount
and one projected term (:mod:`pricing.kernels.cashflows`), linear in the discount factors.
A FRA whose value date is on or before the as-of date has expired (QuantLib values it at 0).
No fallback case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from pricing import quantlib_ as qa
from pricing.kernels.base import KernelUnsupported, LoweringContext, days
from pricing.kernels.cashflows import FlowBatch, Flows, FlowsBuilder, RatesMarket, stack_flows
from pricing.kernels.swaps import discount_key
from pricing.products.fra import build_fra
from pricing.trades import ForwardRateAgreement

__all__ = ["TRADE_TYPES", "FraBatch", "LoweredFra", "lower", "pv", "stack"]

TRADE_TYPES = (ForwardRateAgreement,)


@dataclasses.dataclass(frozen=True, eq=False)
class LoweredFra:
    """A FRA as one known amount and one projected term."""

    flows: Flows


@dataclasses.dataclass(frozen=True, eq=False)
class FraBatch:
    """Stacked FRAs."""

    flows: FlowBatch


def lower(trade: ForwardRateAgreement, ctx: LoweringContext) -> LoweredFra:
    """The FRA's settlement amount as cashflow terms (see the module docstring)."""
    fra = build_fra(trade, ctx.ql_market)
    index = ctx.ql_market.index(trade.index)
    # the reference's value date (start adjusted by the index calendar and convention) and
    # QuantLib's maturity adjustment of the end date, checked against the instrument's fixing
    value = index.fixingCalendar().adjust(
        qa.ql_date(trade.start_date), index.businessDayConvention()
    )
    maturity = index.fixingCalendar().adjust(
        qa.ql_date(trade.end_date), index.businessDayConvention()
    )
    if index.fixingDate(value) != fra.fixingDate():
        raise KernelUnsupported("FRA value date differs from QuantLib's")
    b = FlowsBuilder(discount_key(trade.currency), trade.index)
    if value > qa.ql_date(ctx.asof):  # else expired: worth 0
        s = 1.0 if trade.fixed_leg == "PAY" else -1.0
        tau = index.dayCounter().yearFraction(value, maturity)
        v, m = days(ctx.asof, qa.py_date(value)), days(ctx.asof, qa.py_date(maturity))
        b.known(v, trade.notional * s)
        b.projected(m, v, v, -trade.notional * s * (1.0 + trade.fixed_rate * tau))
    return LoweredFra(b.build())


def stack(lowered: Sequence[LoweredFra]) -> FraBatch:
    """Concatenate lowered FRAs."""
    return FraBatch(stack_flows([x.flows for x in lowered]))


def pv(batch: FraBatch, market: RatesMarket) -> NDArray[np.float64]:
    """PVs ``(market.n, k)`` in the trades' currencies."""
    return batch.flows.pv(lambda key, d: market.df(key, market.times(d)), market.n)
