"""Seeded random rates trades, the rates test markets and scenario sets for the kernel tests.

Trades cover what the kernels must reproduce: seasoned (past fixings, accrued coupons) and
forward-starting trades, every IBOR and overnight index, both sides, spreads, bonds of every
frequency and day count with and without issuer spread, caps/floors struck around the forwards,
payer/receiver swaptions on IBOR and OIS underlyings.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from pricing import quantlib_ as qa
from pricing.conventions import DAY_COUNTS, index_convention
from pricing.market import MarketSnapshot
from pricing.scenarios import ScenarioSet
from pricing.trades import (
    CapFloor,
    FixedRateBond,
    ForwardRateAgreement,
    InterestRateSwap,
    OvernightIndexSwap,
    Swaption,
)

OVERNIGHT = ("USD-SOFR", "EUR-ESTR", "GBP-SONIA", "JPY-TONA", "CHF-SARON")
IBOR = ("EUR-EURIBOR-6M", "EUR-EURIBOR-3M", "USD-TSOFR-3M")
#: Flat fixing levels added for the overnight indices the demo market has no history of.
EXTRA_FIXINGS = {"GBP-SONIA": 0.0397, "JPY-TONA": 0.0048, "CHF-SARON": 0.0}


def rates_base(demo: MarketSnapshot) -> MarketSnapshot:
    """The demo market plus 400 days of flat fixings for SONIA, TONA and SARON.

    The demo history covers only SOFR, ESTR, EURIBOR and Term SOFR; with these, seasoned OIS
    in every currency can be valued.
    """
    fixings = {k: dict(v) for k, v in demo.fixings.items()}
    for name, level in EXTRA_FIXINGS.items():
        cal = qa.calendar(index_convention(name).calendar)
        d, out = demo.asof - dt.timedelta(days=400), {}
        while d <= demo.asof:
            if cal.isBusinessDay(qa.ql_date(d)):
                out[d] = level
            d += dt.timedelta(days=1)
        fixings[name] = out
    return MarketSnapshot(demo.asof, dict(demo.quotes), fixings, name="demo+fixings")


def lognormal_vols(
    base: MarketSnapshot, family: str, ccy: str, scale: float, shift: float
) -> MarketSnapshot:
    """``base`` with ``VOL.<family>.<ccy>.*`` multiplied by ``scale`` and quoted as
    shifted-lognormal (``VOLSHIFT.<family>.<ccy> = shift``)."""
    q = dict(base.quotes)
    for k in q:
        if k.startswith(f"VOL.{family}.{ccy}."):
            q[k] = round(q[k] * scale, 6)
    q[f"VOLSHIFT.{family}.{ccy}"] = shift
    return MarketSnapshot(base.asof, q, base.fixings, name=f"{base.name}+{family}.{ccy}.LN")


def rates_scenarios() -> ScenarioSet:
    """Base, parallel +/-10bp, single-pillar bumps, OIS-only and IBOR-only moves, a twist,
    vol multipliers and a credit-spread move."""
    moves = [
        ("par +10bp", "IR.*", "ABSOLUTE", 0.001),
        ("par -10bp", "IR.*", "ABSOLUTE", -0.001),
        ("SOFR 5Y +1bp", "IR.USD.SOFR.OIS.5Y", "ABSOLUTE", 0.0001),
        ("EURIBOR6M 10Y +1bp", "IR.EUR.EURIBOR6M.SWAP.10Y", "ABSOLUTE", 0.0001),
        ("OIS only +5bp", "IR.*.[ES][SO][TF]R.*", "ABSOLUTE", 0.0005),
        ("IBOR only -5bp", "IR.*.*BOR*.*", "ABSOLUTE", -0.0005),
        ("30Y +20bp", "IR.*.30Y", "ABSOLUTE", 0.002),
        ("vols x1.2", "VOL.*", "MULTIPLY", 1.2),
        ("vols x0.7", "VOL.*", "MULTIPLY", 0.7),
        ("credit +25bp", "CREDIT.*", "ABSOLUTE", 0.0025),
    ]
    names = ["base", *(m[0] for m in moves)]
    shifts = []
    for i, (_, pattern, kind, value) in enumerate(moves, start=1):
        vals = [1.0 if kind == "MULTIPLY" else 0.0] * len(names)
        vals[i] = value
        shifts.append((pattern, kind, vals))
    return ScenarioSet.from_shifts(names, shifts)


def _day(rng: np.random.Generator, asof: dt.date, lo: int, hi: int) -> dt.date:
    return asof + dt.timedelta(days=int(rng.integers(lo, hi)))


def _common(rng: np.random.Generator, prefix: str, i: int) -> dict[str, object]:
    return {
        "trade_id": f"{prefix}{i:05d}",
        "book": "KERNELS",
        "counterparty": "CPTY",
        "notional": float(np.round(rng.uniform(1e5, 1e8), 2)),
    }


def random_swaps(
    n: int, asof: dt.date, seed: int = 1
) -> list[InterestRateSwap | OvernightIndexSwap]:
    """IRS and OIS: half seasoned (start up to 3 years back), half forward-starting."""
    rng = np.random.default_rng(seed)
    out: list[InterestRateSwap | OvernightIndexSwap] = []
    for i in range(n):
        index = str(rng.choice(OVERNIGHT + IBOR))
        conv = index_convention(index)
        start = _day(rng, asof, -3 * 365, 3 * 365)
        maturity = start + dt.timedelta(days=int(rng.integers(30, 31 * 365)))
        if maturity <= asof + dt.timedelta(days=3):
            maturity = asof + dt.timedelta(days=int(rng.integers(4, 400)))
        cls = OvernightIndexSwap if conv.is_overnight else InterestRateSwap
        out.append(
            cls(
                **_common(rng, "SW", i),
                currency=conv.currency,
                index=index,
                start_date=start,
                maturity_date=maturity,
                fixed_rate=float(rng.uniform(-0.005, 0.06)),
                fixed_leg=str(rng.choice(["PAY", "RECEIVE"])),
                spread=float(rng.choice([0.0, 0.0, 0.0010, -0.0025, 0.0100])),
            )
        )
    return out


def random_fras(n: int, asof: dt.date, seed: int = 2) -> list[ForwardRateAgreement]:
    """FRAs starting 1 day to 5 years out, 1 to 12 months long (end dates unadjusted)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        index = str(rng.choice(IBOR))
        start = _day(rng, asof, 1, 5 * 365)
        out.append(
            ForwardRateAgreement(
                **_common(rng, "FRA", i),
                currency=index[:3],
                index=index,
                start_date=start,
                end_date=start + dt.timedelta(days=int(rng.integers(28, 370))),
                fixed_rate=float(rng.uniform(0.0, 0.06)),
                fixed_leg=str(rng.choice(["PAY", "RECEIVE"])),
            )
        )
    return out


def random_bonds(n: int, asof: dt.date, seed: int = 3) -> list[FixedRateBond]:
    """Bonds issued up to 10 years ago or in the next year, every frequency and day count,
    a third without issuer."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        issue = _day(rng, asof, -10 * 365, 365)
        maturity = max(issue, asof) + dt.timedelta(days=int(rng.integers(5, 30 * 365)))
        out.append(
            FixedRateBond(
                **_common(rng, "BND", i),
                currency=str(rng.choice(["USD", "EUR", "GBP", "JPY", "CHF"])),
                issue_date=issue,
                maturity_date=maturity,
                coupon=float(rng.choice([0.0, rng.uniform(0.0, 0.09)])),
                coupon_frequency=str(rng.choice(["1Y", "6M", "3M", "1M"])),
                day_count=str(rng.choice(DAY_COUNTS)),
                side=str(rng.choice(["BUY", "SELL"])),
                issuer=str(rng.choice(["", "UST", "DBR", "ACME_CORP", "GLOBEX"])),
                settlement_days=int(rng.integers(0, 3)),
            )
        )
    return out


def random_caps(n: int, asof: dt.date, seed: int = 4) -> list[CapFloor]:
    """Caps and floors, a third seasoned (caplets already fixed), strikes 0-6%."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        index = str(rng.choice(IBOR))
        start = _day(rng, asof, -2 * 365, 3 * 365)
        out.append(
            CapFloor(
                **_common(rng, "CAP", i),
                currency=index[:3],
                index=index,
                start_date=start,
                maturity_date=max(start, asof) + dt.timedelta(days=int(rng.integers(20, 20 * 365))),
                strike=float(rng.uniform(0.0, 0.06)),
                option_type=str(rng.choice(["CAP", "FLOOR"])),
                side=str(rng.choice(["BUY", "SELL"])),
            )
        )
    return out


def random_swaptions(n: int, asof: dt.date, seed: int = 5) -> list[Swaption]:
    """Payer/receiver swaptions on IBOR and OIS underlyings, expiries 1 day to 12 years, tenors
    6M to 30Y, strikes 0.5-6%."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        index = str(rng.choice(("USD-SOFR", "EUR-ESTR", *IBOR)))
        out.append(
            Swaption(
                **_common(rng, "SWO", i),
                currency=index[:3],
                index=index,
                expiry_date=_day(rng, asof, 1, 12 * 365),
                swap_tenor=str(
                    rng.choice(["6M", "1Y", "18M", "2Y", "3Y", "5Y", "7Y", "10Y", "15Y", "30Y"])
                ),
                strike=float(rng.uniform(0.005, 0.06)),
                option_type=str(rng.choice(["PAYER", "RECEIVER"])),
                side=str(rng.choice(["BUY", "SELL"])),
            )
        )
    return out
