"""Kernel for caps and floors (``CAPFLOOR``): Black (shifted) or Bachelier caplets.

Lowering reads the caplets of the reference pricer's QuantLib cap
(:func:`pricing.products.capfloor.build_capfloor`): per IBOR coupon paid after the as-of date
(QuantLib's engines drop the others) its payment day, accrual ``N tau``, fixing day and the
fixing itself — known (past, or today's when published: QuantLib's ``IborCoupon`` rule), or the
forecast ``(P(v)/P(e) - 1) / span`` on the index's value and maturity days, exactly as for
swaps (:class:`pricing.kernels.swaps.IborFixings`).

The kernel values, like ``BlackCapFloorEngine`` / ``BachelierCapFloorEngine`` with a constant
vol::

    caplet = N tau D(pay) * formula(+-1, K, F, sigma sqrt(t_fix), shift)

with ``sigma`` the cap's flat vol at its maturity (``ScenarioMarket.cap_vol``: linear in
time between pillars, flat outside; the market's ``kind`` chooses Bachelier or shifted Black),
``t_fix`` the ACT/365F time to the fixing (0 for a fixing on or before the as-of date, which
leaves the intrinsic value) and the formulas of :mod:`pricing.kernels.formulas`. No fallback
case besides a missing past fixing (the reference fails there too). Where QuantLib's Black
formula would refuse its inputs in a scenario (displaced forward <= 0), the PV is NaN: the
engine then hands the trade to QuantLib, which reports the error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import QuantLib as ql
from numpy.typing import NDArray

from pricing.kernels.base import LoweringContext, days
from pricing.kernels.cashflows import RatesMarket
from pricing.kernels.formulas import bachelier, black
from pricing.kernels.swaps import IborFixings, discount_key
from pricing.products.base import side_sign
from pricing.products.capfloor import build_capfloor
from pricing.trades import CapFloor

__all__ = ["TRADE_TYPES", "CapBatch", "LoweredCap", "lower", "pv", "stack"]

TRADE_TYPES = (CapFloor,)

#: Caplet-scenario elements per chunk (~2 MB of float64 temporaries; PITFALLS 25).
_CHUNK_ELEMENTS = 1 << 18


@dataclasses.dataclass(frozen=True, eq=False)
class LoweredCap:
    """One cap/floor: per live caplet its days, accrual and (known or projected) fixing.

    ``fixing`` is NaN where the fixing is projected from ``proj_start``/``proj_end`` over
    ``span``; ``fix_days`` is the fixing day (<= 0: no optionality left).
    """

    currency: str
    discount: str
    index: str
    sign: float  # side
    option: float  # +1 cap, -1 floor
    strike: float
    maturity_days: int  # of the trade's maturity date (the flat vol's time)
    pay: NDArray[np.int32]
    accrual: NDArray[np.float64]  # N tau
    fix_days: NDArray[np.int32]
    fixing: NDArray[np.float64]
    proj_start: NDArray[np.int32]
    proj_end: NDArray[np.int32]
    span: NDArray[np.float64]


@dataclasses.dataclass(frozen=True, eq=False)
class CapGroup:
    """Caps on one index (hence one currency), caplets concatenated in trade order."""

    currency: str
    discount: str
    index: str
    rows: NDArray[np.int64]
    ptr: NDArray[np.int64]  # trade i owns caplets ptr[i]:ptr[i+1]
    owner: NDArray[np.int64]  # caplet -> trade position in the group
    sign: NDArray[np.float64]
    option: NDArray[np.float64]  # per caplet
    strike: NDArray[np.float64]  # per caplet
    maturity_days: NDArray[np.int64]
    disc_days: NDArray[np.int64]
    pay_idx: NDArray[np.int64]
    accrual: NDArray[np.float64]
    fix_time: NDArray[np.float64]  # ACT/365F, 0 when fixed
    fixing: NDArray[np.float64]
    proj_days: NDArray[np.int64]
    s_idx: NDArray[np.int64]
    e_idx: NDArray[np.int64]
    span: NDArray[np.float64]


@dataclasses.dataclass(frozen=True, eq=False)
class CapBatch:
    """Stacked caps/floors."""

    k: int
    groups: tuple[CapGroup, ...]


def lower(trade: CapFloor, ctx: LoweringContext) -> LoweredCap:
    """The live caplets of the cap/floor (see the module docstring)."""
    cap = build_capfloor(trade, ctx.ql_market)
    fixings = IborFixings(ctx, trade.index)
    rows: list[tuple[int, float, int, float, int, int, float]] = []
    for cf in cap.floatingLeg():
        pay = cf.date().serialNumber() - fixings.day0
        if pay <= 0:
            continue
        c = ql.as_floating_rate_coupon(cf)
        f, fix, v, e, span = fixings.of(c)
        rows.append((pay, c.nominal() * c.accrualPeriod(), f, fix, v, e, span))
    a = np.array(rows, dtype=np.float64).reshape(-1, 7)
    return LoweredCap(
        trade.currency,
        discount_key(trade.currency),
        trade.index,
        side_sign(trade.side),
        1.0 if trade.option_type == "CAP" else -1.0,
        trade.strike,
        days(ctx.asof, trade.maturity_date),
        a[:, 0].astype(np.int32),
        a[:, 1].copy(),
        a[:, 2].astype(np.int32),
        a[:, 3].copy(),
        np.maximum(a[:, 4], 0).astype(np.int32),
        np.maximum(a[:, 5], 0).astype(np.int32),
        np.where(np.isnan(a[:, 3]), a[:, 6], 1.0),
    )


def stack(lowered: Sequence[LoweredCap]) -> CapBatch:
    """Concatenate lowered caps, grouped by index."""
    by_index: dict[str, list[int]] = {}
    for i, x in enumerate(lowered):
        by_index.setdefault(x.index, []).append(i)
    return CapBatch(
        len(lowered),
        tuple(
            _group(np.array(rows, dtype=np.int64), [lowered[i] for i in rows])
            for rows in by_index.values()
        ),
    )


def _group(rows: NDArray[np.int64], caps: list[LoweredCap]) -> CapGroup:
    n = np.array([len(c.pay) for c in caps], dtype=np.int64)
    owner = np.repeat(np.arange(len(caps)), n)
    pay = np.concatenate([c.pay for c in caps]).astype(np.int64)
    disc_days, pay_idx = np.unique(pay, return_inverse=True)
    fixing = np.concatenate([c.fixing for c in caps])
    projected = np.isnan(fixing)
    s = np.concatenate([c.proj_start for c in caps]).astype(np.int64)
    e = np.concatenate([c.proj_end for c in caps]).astype(np.int64)
    proj_days, inv = np.unique(np.concatenate([s[projected], e[projected]]), return_inverse=True)
    s_idx = np.zeros(len(s), dtype=np.int64)
    e_idx = np.zeros(len(e), dtype=np.int64)
    s_idx[projected] = inv[: projected.sum()]
    e_idx[projected] = inv[projected.sum() :]
    fix_days = np.concatenate([c.fix_days for c in caps]).astype(np.float64)
    return CapGroup(
        currency=caps[0].currency,
        discount=caps[0].discount,
        index=caps[0].index,
        rows=rows,
        ptr=np.concatenate([[0], np.cumsum(n)]).astype(np.int64),
        owner=owner,
        sign=np.array([c.sign for c in caps]),
        option=np.repeat([c.option for c in caps], n).astype(np.float64),
        strike=np.repeat([c.strike for c in caps], n).astype(np.float64),
        maturity_days=np.array([c.maturity_days for c in caps], dtype=np.int64),
        disc_days=disc_days,
        pay_idx=pay_idx,
        accrual=np.concatenate([c.accrual for c in caps]),
        fix_time=np.where(fix_days > 0, fix_days / 365.0, 0.0),
        fixing=fixing,
        proj_days=proj_days,
        s_idx=s_idx,
        e_idx=e_idx,
        span=np.concatenate([c.span for c in caps]),
    )


def pv(batch: CapBatch, market: RatesMarket) -> NDArray[np.float64]:
    """PVs ``(market.n, k)`` in the trades' currencies."""
    out = np.zeros((batch.k, market.n), dtype=np.float64)
    for g in batch.groups:
        out[g.rows] = _group_pv(g, market)
    return out.T


def _group_pv(g: CapGroup, market: RatesMarket) -> NDArray[np.float64]:
    k = len(g.rows)
    if len(g.disc_days) == 0:
        return np.zeros((k, 1))
    D = np.ascontiguousarray(market.df(g.discount, market.times(g.disc_days)).T)
    if len(g.proj_days):
        P = np.ascontiguousarray(market.df(g.index, market.times(g.proj_days)).T)
    else:
        P = np.ones((1, 1))
    vol, kind, shift = market.cap_vol(g.currency, market.times(g.maturity_days))
    vol = np.ascontiguousarray(np.asarray(vol, dtype=np.float64).T)  # (k, S)
    shift_arr = np.asarray(shift, dtype=np.float64)
    s = max(D.shape[1], P.shape[1], vol.shape[1], shift_arr.size)
    out = np.zeros((k, s), dtype=np.float64)
    budget = max(64, _CHUNK_ELEMENTS // s)
    r0 = 0
    while r0 < k:
        r1 = min(max(int(np.searchsorted(g.ptr, g.ptr[r0] + budget, side="right")) - 1, r0 + 1), k)
        j0, j1 = int(g.ptr[r0]), int(g.ptr[r1])
        if j1 > j0:
            sl = slice(j0, j1)
            fixing = g.fixing[sl, None]
            fwd = np.where(
                np.isnan(fixing),
                (P[g.s_idx[sl]] / P[g.e_idx[sl]] - 1.0) / g.span[sl, None],
                fixing,
            )
            v = vol[g.owner[sl]]
            std = np.sqrt(v * v * g.fix_time[sl, None])
            w, strike = g.option[sl, None], g.strike[sl, None]
            if kind == "NORMAL":
                val = bachelier(w, strike, fwd, std)
            else:
                val = black(w, strike, fwd, std, shift_arr.reshape(1, -1))
            val *= g.accrual[sl, None] * D[g.pay_idx[sl]]
            starts = g.ptr[r0:r1] - j0
            live = g.ptr[r0 + 1 : r1 + 1] > g.ptr[r0:r1]
            out[r0:r1][live] = np.add.reduceat(val, starts[live], axis=0)
        r0 = r1
    return out * g.sign[:, None]
