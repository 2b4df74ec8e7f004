"""Helpers for the FX and equity option tests: closed-form Black-Scholes-Merton written here
independently of QuantLib, and textbook cases turned into trades and flat snapshots.

Textbook times and the ACT/365F curves
--------------------------------------
``flat_snapshot`` builds continuously compounded ACT/365F flat curves and flat vols, so a trade
expiring ``n`` days after the as-of date has ``T = n / 365``. Most book cases have times such as
0.25, 0.5 or 0.1 years that are not a whole number of days in ACT/365F (0.5 y = 182.5 days).
We do not round T, which would change the value by up to theta / 730. Instead we use an exact
identity: under Black-Scholes-Merton dynamics the value of a European, American or continuously
monitored barrier option depends on the rates, the dividend yield, the vol and T only through
``r*T``, ``q*T`` and ``sigma**2 * T`` (a deterministic change of the time scale maps the asset
path, the exercise times and the discounting of one problem one-to-one onto the other's). So a
case with time ``T`` is valued with ``n = round(365 T)`` days and the rescaled parameters
``r' = r s``, ``q' = q s``, ``sigma' = sigma sqrt(s)``, where ``s = 365 T / n``; its value is the
book's value exactly. The Barone-Adesi-Whaley approximation depends on the same three products
only (through ``2r/sigma^2``, ``2(r-q)/sigma^2``, ``1 - exp(-rT)`` and Black-Scholes values), so
it too is unchanged. Greeks with respect to the rescaled parameters convert back as
``vega = vega' sqrt(s)``, ``rho = rho' s``, ``dividend_rho = dividend_rho' s``,
``theta = theta' / s`` (delta and gamma are unchanged). When ``365 T`` is an integer (T = 1, 3),
``s = 1`` and nothing is rescaled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import numpy as np
from scipy.stats import norm

from pricing.curves import build_market
from pricing.market import MarketSnapshot
from pricing.products.base import Valuation
from pricing.quantlib_ import ql_session
from pricing.trades import (
    EquityAmericanOption,
    EquityBarrierOption,
    EquityOption,
    FxOption,
    Trade,
)
from tests.factories import ASOF, flat_snapshot

#: Equity underlying used for textbook cases (a USD underlying known to the conventions).
UND = "AAPL"


@dataclasses.dataclass(frozen=True)
class BookTime:
    """A textbook time ``t`` as whole days plus the rescaling factor ``s = 365 t / days``."""

    t: float
    days: int
    s: float

    @classmethod
    def of(cls, t: float) -> BookTime:
        days = max(1, round(t * 365))
        return cls(t, days, t * 365 / days)

    @property
    def expiry(self) -> dt.date:
        return ASOF + dt.timedelta(days=self.days)

    def rate(self, r: float) -> float:
        return r * self.s

    def vol(self, v: float) -> float:
        return v * math.sqrt(self.s)


def equity_case(
    spot: float,
    q: float,
    r: float,
    vol: float,
    t: float,
) -> tuple[MarketSnapshot, dt.date, BookTime]:
    """Flat USD market for a book case on :data:`UND` (time rescaled exactly, see module doc)."""
    bt = BookTime.of(t)
    snap = flat_snapshot(rates={"USD": bt.rate(r)}, equities={UND: (spot, bt.rate(q), bt.vol(vol))})
    return snap, bt.expiry, bt


def fx_case(
    pair: str,
    spot: float,
    r_base: float,
    r_quote: float,
    vol: float,
    t: float,
) -> tuple[MarketSnapshot, dt.date, BookTime]:
    """Flat market for a Garman-Kohlhagen book case: base-ccy rate = the foreign rate
    (Haug's ``q``), quote-ccy rate = the domestic rate (``r``)."""
    bt = BookTime.of(t)
    snap = flat_snapshot(
        rates={pair[:3]: bt.rate(r_base), pair[3:]: bt.rate(r_quote)},
        fx={pair: (spot, bt.vol(vol))},
    )
    return snap, bt.expiry, bt


def _equity_fields(
    prefix: str,
    kind: str,
    strike: float,
    expiry: dt.date,
    quantity: float,
    side: str,
    und: str,
    kw: dict[str, Any],
) -> dict[str, Any]:
    return {
        "trade_id": kw.pop("trade_id", f"{prefix}-1"),
        "book": "EQ-BOOK",
        "counterparty": "CPTY",
        "underlying": und,
        "quantity": quantity,
        "strike": strike,
        "expiry_date": expiry,
        "option_type": kind,
        "side": side,
        **kw,
    }


def eq_option(
    kind: str,
    strike: float,
    expiry: dt.date,
    *,
    quantity: float = 1.0,
    side: str = "BUY",
    und: str = UND,
    **kw: Any,
) -> EquityOption:
    """A European equity option trade."""
    return EquityOption(**_equity_fields("EQ", kind, strike, expiry, quantity, side, und, kw))


def eq_american(
    kind: str,
    strike: float,
    expiry: dt.date,
    *,
    quantity: float = 1.0,
    side: str = "BUY",
    und: str = UND,
    **kw: Any,
) -> EquityAmericanOption:
    """An American equity option trade."""
    return EquityAmericanOption(
        **_equity_fields("EQA", kind, strike, expiry, quantity, side, und, kw)
    )


def eq_barrier(
    kind: str,
    strike: float,
    expiry: dt.date,
    barrier_type: str,
    barrier: float,
    rebate: float = 0.0,
    *,
    quantity: float = 1.0,
    side: str = "BUY",
    und: str = UND,
    **kw: Any,
) -> EquityBarrierOption:
    """A single-barrier equity option trade."""
    fields = _equity_fields("EQB", kind, strike, expiry, quantity, side, und, kw)
    fields.update(barrier_type=barrier_type, barrier=barrier, rebate=rebate)
    return EquityBarrierOption(**fields)


def fx_option(
    pair: str,
    kind: str,
    strike: float,
    expiry: dt.date,
    *,
    notional: float = 1.0,
    side: str = "BUY",
    trade_id: str = "FXO-1",
) -> FxOption:
    """A European FX option trade."""
    fields: dict[str, Any] = {
        "trade_id": trade_id,
        "book": "FX-BOOK",
        "counterparty": "CPTY",
        "pair": pair,
        "notional": notional,
        "strike": strike,
        "expiry_date": expiry,
        "option_type": kind,
        "side": side,
    }
    return FxOption(**fields)


def reference(module: Any, trade: Trade, snapshot: MarketSnapshot, **kw: Any) -> Valuation:
    """``module.reference_pv(trade, market, **kw)`` inside a QuantLib session for ``snapshot``."""
    with ql_session(snapshot.asof, snapshot.fixings):
        val: Valuation = module.reference_pv(trade, build_market(snapshot), **kw)
    return val


# -- closed-form Black-Scholes-Merton (Garman-Kohlhagen with q = foreign rate) -------------------


def bsm(
    kind: str,
    s: float,
    k: float,
    r: float,
    q: float,
    vol: float,
    t: float,
) -> dict[str, float]:
    """Price and Greeks of one European option (Hull ch. 15/19; Haug ch. 1 and 2).

    Greeks per unit of underlying: ``delta``, ``gamma``, ``vega`` (per 1.00 vol), ``theta``
    (-dV/dT, per year), ``rho`` (dV/dr), ``dividend_rho`` (dV/dq).
    """
    w = 1.0 if kind == "CALL" else -1.0
    sq = vol * np.sqrt(t)
    d1 = (np.log(s / k) + (r - q + 0.5 * vol * vol) * t) / sq
    d2 = d1 - sq
    dq, dr = np.exp(-q * t), np.exp(-r * t)
    nd1 = norm.pdf(d1)
    price = w * (s * dq * norm.cdf(w * d1) - k * dr * norm.cdf(w * d2))
    return {
        "pv": float(price),
        "delta": float(w * dq * norm.cdf(w * d1)),
        "gamma": float(dq * nd1 / (s * sq)),
        "vega": float(s * dq * nd1 * np.sqrt(t)),
        "theta": float(
            -s * dq * nd1 * vol / (2 * np.sqrt(t))
            - w * r * k * dr * norm.cdf(w * d2)
            + w * q * s * dq * norm.cdf(w * d1)
        ),
        "rho": float(w * k * t * dr * norm.cdf(w * d2)),
        "dividend_rho": float(-w * s * t * dq * norm.cdf(w * d1)),
    }


def barrier_rr(
    kind: str,
    barrier_type: str,
    s: float,
    k: float,
    h: float,
    rebate: float,
    r: float,
    q: float,
    vol: float,
    t: float,
) -> float:
    """Standard (continuously monitored) barrier option of Reiner and Rubinstein (1991), in the
    notation of Haug (1998), "Standard barrier options" (the formulas behind his p. 72 table):
    terms A-F; knock-out rebates are paid at the hit, knock-in rebates at expiry. Valid for a
    barrier not yet breached. Per unit of underlying."""
    b = r - q
    sq = vol * math.sqrt(t)
    mu = (b - vol * vol / 2) / (vol * vol)
    lam = math.sqrt(mu * mu + 2 * r / (vol * vol))
    phi = 1.0 if kind == "CALL" else -1.0
    eta = 1.0 if barrier_type.startswith("DOWN") else -1.0
    x1 = math.log(s / k) / sq + (1 + mu) * sq
    x2 = math.log(s / h) / sq + (1 + mu) * sq
    y1 = math.log(h * h / (s * k)) / sq + (1 + mu) * sq
    y2 = math.log(h / s) / sq + (1 + mu) * sq
    z = math.log(h / s) / sq + lam * sq
    fwd, disc, hs = s * math.exp((b - r) * t), k * math.exp(-r * t), h / s
    n = norm.cdf
    a = phi * fwd * n(phi * x1) - phi * disc * n(phi * x1 - phi * sq)
    b_ = phi * fwd * n(phi * x2) - phi * disc * n(phi * x2 - phi * sq)
    c = phi * fwd * hs ** (2 * (mu + 1)) * n(eta * y1) - phi * disc * hs ** (2 * mu) * n(
        eta * y1 - eta * sq
    )
    d = phi * fwd * hs ** (2 * (mu + 1)) * n(eta * y2) - phi * disc * hs ** (2 * mu) * n(
        eta * y2 - eta * sq
    )
    e = (
        rebate
        * math.exp(-r * t)
        * (n(eta * x2 - eta * sq) - hs ** (2 * mu) * n(eta * y2 - eta * sq))
    )
    f = rebate * (
        hs ** (mu + lam) * n(eta * z) + hs ** (mu - lam) * n(eta * z - 2 * eta * lam * sq)
    )
    above = k > h  # strike above the barrier
    formulas = {  # (kind, type) -> (value if K > H, value if K < H)
        ("CALL", "DOWN_IN"): (c + e, a - b_ + d + e),
        ("CALL", "UP_IN"): (a + e, b_ - c + d + e),
        ("PUT", "DOWN_IN"): (b_ - c + d + e, a + e),
        ("PUT", "UP_IN"): (a - b_ + d + e, c + e),
        ("CALL", "DOWN_OUT"): (a - c + f, b_ - d + f),
        ("CALL", "UP_OUT"): (f, a - b_ + c - d + f),
        ("PUT", "DOWN_OUT"): (a - b_ + c - d + f, f),
        ("PUT", "UP_OUT"): (b_ - d + f, a - c + f),
    }
    return float(formulas[(kind, barrier_type)][0 if above else 1])
