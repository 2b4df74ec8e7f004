"""Kernel for fixed-rate bullet bonds (``BOND``): the position value.

Lowering takes the cashflows (coupons and redemption) of the reference pricer's QuantLib bond
(:func:`pricing.products.bonds.build_bond`): every amount paid after the as-of date, on its
payment day, signed by side. The kernel discounts them on the currency's OIS curve times
``exp(-z t)``, ``z`` the issuer's continuously compounded z-spread ``CREDIT.<issuer>.ZSPREAD``
(0 without an issuer) and ``t`` the ACT/365F time: QuantLib's ``ZeroSpreadedTermStructure``
(continuous, ACT/365F) over the OIS curve, as :meth:`pricing.curves.QlMarket.zspread_curve`
builds it. No fallback case: every bond the reference prices is a list of fixed amounts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from pricing import quantlib_ as qa
from pricing.kernels.base import LoweringContext, days
from pricing.kernels.cashflows import FlowBatch, Flows, FlowsBuilder, RatesMarket, stack_flows
from pricing.kernels.swaps import discount_key
from pricing.products.base import side_sign
from pricing.products.bonds import build_bond
from pricing.trades import FixedRateBond

__all__ = ["TRADE_TYPES", "BondBatch", "LoweredBond", "lower", "pv", "stack"]

TRADE_TYPES = (FixedRateBond,)

_SEP = "|"  # curve key "<OIS index>|<issuer>"


@dataclasses.dataclass(frozen=True, eq=False)
class LoweredBond:
    """A bond position as known amounts; ``flows.discount`` is ``"<OIS index>|<issuer>"``."""

    flows: Flows


@dataclasses.dataclass(frozen=True, eq=False)
class BondBatch:
    """Stacked bonds, grouped by currency and issuer."""

    flows: FlowBatch


def lower(trade: FixedRateBond, ctx: LoweringContext) -> LoweredBond:
    """The bond's remaining cashflows, signed by side."""
    b = FlowsBuilder(f"{discount_key(trade.currency)}{_SEP}{trade.issuer}")
    today = qa.ql_date(ctx.asof)
    sign = side_sign(trade.side)
    for cf in build_bond(trade).cashflows():
        if cf.date() > today:
            b.known(days(ctx.asof, qa.py_date(cf.date())), sign * cf.amount())
    return LoweredBond(b.build())


def stack(lowered: Sequence[LoweredBond]) -> BondBatch:
    """Concatenate lowered bonds."""
    return BondBatch(stack_flows([x.flows for x in lowered]))


def pv(batch: BondBatch, market: RatesMarket) -> NDArray[np.float64]:
    """PVs ``(market.n, k)`` in the bonds' currencies."""

    # each OIS curve once, on the days of all its issuers
    by_curve: dict[str, list[NDArray[np.int64]]] = {}
    for key, d in batch.flows.curves.items():
        by_curve.setdefault(key.split(_SEP)[0], []).append(d)
    days = {c: np.unique(np.concatenate(a)) for c, a in by_curve.items()}
    values = {c: market.df(c, market.times(d)) for c, d in days.items() if len(d)}

    def df(key: str, d: NDArray[np.int64]) -> NDArray[np.float64]:
        curve, issuer = key.split(_SEP)
        base = values[curve][:, np.searchsorted(days[curve], d)]
        if not issuer:
            return base
        z = np.asarray(market.zspread(issuer), dtype=np.float64).reshape(-1, 1)
        return base * np.exp(-z * market.times(d)[None, :])

    return batch.flows.pv(df, market.n)
