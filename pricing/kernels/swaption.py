"""Kernel for European, physically settled swaptions (``SWAPTION``).

Lowering builds the reference pricer's underlying swap
(:func:`pricing.products.swaption.underlying_swap`, then
:func:`pricing.products.swaps.build_swap`: a ``VanillaSwap`` on an IBOR index or an
``OvernightIndexedSwap`` on an overnight one) and reads, like the swap kernel, two sets of
:class:`~pricing.kernels.cashflows.Flows`: the fixed leg's accruals ``N tau`` on its payment days
(the annuity) and the floating leg received. The kernel then follows QuantLib's
``BlackStyleSwaptionEngine`` (``BlackSwaptionEngine``, ``BachelierSwaptionEngine``)::

    A = sum N tau_i D(p_i)            (|fixedLegBPS| / 1bp, physical settlement)
    F = floating leg PV / A           (the fair rate; the underlying has no spread)
    PV = side * A * formula(+-1, K, F, sigma sqrt(t_ex), shift)

``t_ex`` is the ACT/365F time to the expiry date and ``sigma`` the vol at ``(t_ex, L)`` with
``L`` QuantLib's swap length of the underlying: the floating schedule's first to last date in
months, ``(end - start) / 365.25 * 12`` rounded to the closest whole month
(``SwaptionVolatilityStructure::swapLength``), floored at one month. For tenors in months or
years this is the nominal ``swap_tenor``; for tenors in days or weeks it is not. ``formula``
is Bachelier for normal vols and shifted Black for lognormal ones (:mod:`pricing.kernels.formulas`).

Falls back to QuantLib when the underlying would start before the expiry (QuantLib's engine
refuses it; the convention's settlement days make it impossible today) and, as the swap
kernel, on a missing past fixing. Where QuantLib's Black formula would refuse its inputs in a
scenario (displaced forward <= 0), the PV is NaN and the engine hands the trade to QuantLib.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence

import numpy as np
import QuantLib as ql
from numpy.typing import NDArray

from pricing import quantlib_ as qa
from pricing.kernels.base import KernelUnsupported, LoweringContext, days
from pricing.kernels.cashflows import FlowBatch, Flows, FlowsBuilder, RatesMarket, stack_flows
from pricing.kernels.formulas import bachelier, black
from pricing.kernels.swaps import add_floating_leg, discount_key
from pricing.products.base import side_sign
from pricing.products.swaps import build_swap
from pricing.products.swaption import underlying_swap
from pricing.trades import Swaption

__all__ = ["TRADE_TYPES", "LoweredSwaption", "SwaptionBatch", "lower", "pv", "stack", "swap_length"]

TRADE_TYPES = (Swaption,)

#: Trade-scenario elements per chunk of the option formula (~2 MB temporaries; PITFALLS 25).
_CHUNK_ELEMENTS = 1 << 18


@dataclasses.dataclass(frozen=True, eq=False)
class LoweredSwaption:
    """A swaption: annuity and floating-leg flows of its underlying, plus the option terms."""

    currency: str
    annuity: Flows
    floating: Flows
    sign: float  # side
    option: float  # +1 payer, -1 receiver
    strike: float
    expiry_days: int
    swap_length: float  # years, QuantLib's rounding


@dataclasses.dataclass(frozen=True, eq=False)
class SwaptionBatch:
    """Stacked swaptions."""

    currency: tuple[str, ...]
    flows: FlowBatch  # rows 0..k-1 the annuities, k..2k-1 the floating legs
    sign: NDArray[np.float64]
    option: NDArray[np.float64]
    strike: NDArray[np.float64]
    expiry_days: NDArray[np.int64]
    swap_length: NDArray[np.float64]


def swap_length(start: dt.date, end: dt.date) -> float:
    """QuantLib's swap length in years: whole months, closest rounding, at least one month.

    >>> swap_length(dt.date(2026, 12, 1), dt.date(2031, 12, 1))
    5.0
    """
    months = (end - start).days / 365.25 * 12.0
    whole, frac = math.floor(months), months - math.floor(months)
    rounded = whole + (1.0 if frac >= 0.5 else 0.0)
    return max(rounded / 12.0, 1.0 / 12.0)


def lower(trade: Swaption, ctx: LoweringContext) -> LoweredSwaption:
    """The swaption's underlying flows and option terms (see the module docstring)."""
    swap = build_swap(underlying_swap(trade), ctx.ql_market)
    today = qa.ql_date(ctx.asof)
    expiry = qa.ql_date(trade.expiry_date)
    fixed = [ql.as_fixed_rate_coupon(cf) for cf in swap.fixedLeg()]
    if not fixed or any(c is None for c in fixed):
        raise KernelUnsupported("underlying fixed leg is not a list of fixed-rate coupons")
    if fixed[0].accrualStartDate() < expiry:
        raise KernelUnsupported("underlying swap starts before the swaption's expiry")
    disc = discount_key(trade.currency)
    ann = FlowsBuilder(disc)
    day0 = today.serialNumber()
    for c in fixed:
        pay = c.date().serialNumber() - day0
        if pay > 0:
            ann.known(pay, c.nominal() * c.accrualPeriod())
    flt = FlowsBuilder(disc, trade.index)
    add_floating_leg(flt, swap.floatingLeg(), 1.0, ctx, trade.index)
    sched = swap.floatingSchedule()
    return LoweredSwaption(
        trade.currency,
        ann.build(),
        flt.build(),
        side_sign(trade.side),
        1.0 if trade.option_type == "PAYER" else -1.0,
        trade.strike,
        days(ctx.asof, trade.expiry_date),
        swap_length(qa.py_date(sched[0]), qa.py_date(sched[len(sched) - 1])),
    )


def stack(lowered: Sequence[LoweredSwaption]) -> SwaptionBatch:
    """Concatenate lowered swaptions."""
    return SwaptionBatch(
        tuple(x.currency for x in lowered),
        stack_flows([x.annuity for x in lowered] + [x.floating for x in lowered]),
        np.array([x.sign for x in lowered], dtype=np.float64),
        np.array([x.option for x in lowered], dtype=np.float64),
        np.array([x.strike for x in lowered], dtype=np.float64),
        np.array([x.expiry_days for x in lowered], dtype=np.int64),
        np.array([x.swap_length for x in lowered], dtype=np.float64),
    )


def pv(batch: SwaptionBatch, market: RatesMarket) -> NDArray[np.float64]:
    """PVs ``(market.n, k)`` in the trades' currencies."""
    n = market.n

    def df(key: str, d: NDArray[np.int64]) -> NDArray[np.float64]:
        return market.df(key, market.times(d))

    k = len(batch.currency)
    both = batch.flows.pv(df, n).T  # (2k, n) view of a C-contiguous array; one df per curve
    annuity, floating = both[:k], both[k:]
    out = np.zeros((k, n), dtype=np.float64)
    ccys = np.array(batch.currency)
    step = max(8, _CHUNK_ELEMENTS // n)
    for ccy in sorted(set(batch.currency)):
        rows_all = np.flatnonzero(ccys == ccy)
        t_all = market.times(batch.expiry_days[rows_all])
        vol, kind, shift = market.swaption_vol(ccy, t_all, batch.swap_length[rows_all])
        vol_all = np.ascontiguousarray(np.asarray(vol, dtype=np.float64).T)  # (k_ccy, S)
        disp = np.asarray(shift, dtype=np.float64).reshape(1, -1)
        for c0 in range(0, len(rows_all), step):  # cache-sized chunks of trades
            rows, t, v = rows_all[c0 : c0 + step], t_all[c0 : c0 + step], vol_all[c0 : c0 + step]
            std = np.sqrt(v * v * t[:, None])
            a = annuity[rows]
            fwd = floating[rows] / a
            w, strike = batch.option[rows, None], batch.strike[rows, None]
            val = (
                bachelier(w, strike, fwd, std)
                if kind == "NORMAL"
                else black(w, strike, fwd, std, disp)
            )
            out[rows] = batch.sign[rows, None] * (a * val)
    return out.T
