"""Bond kernel: 1,000 random bonds against QuantLib under the rates scenarios (credit moves
included), and the discounting with z-spread by hand on a flat curve."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np

from pricing.curves import build_market
from pricing.kernels import bonds
from pricing.kernels.base import LoweringContext
from pricing.market import MarketSnapshot
from pricing.quantlib_ import ql_session
from pricing.trades import FixedRateBond
from tests.pricing.kernels import rates_factory as rf
from tests.pricing.kernels.conformance import linear_tolerance, run_conformance
from tests.pricing.kernels.flat_market import FlatMarket

ASOF = dt.date(2025, 11, 28)


def test_conformance_1000_bonds(demo_snapshot: MarketSnapshot) -> None:
    """1,000 bonds (5 currencies on bootstrapped, zero, discount-factor and flat curves; every
    coupon frequency and day count; with and without issuer z-spread; seasoned and not yet
    issued; long and short) under the full rates scenario set incl. credit +25bp: within
    1e-8 x notional of QuantLib."""
    base = rf.rates_base(demo_snapshot)
    c = run_conformance(rf.random_bonds(1000, base.asof), base, rf.rates_scenarios())
    c.check(linear_tolerance(1e-8))
    print(f"bonds: max |kernel - QuantLib| / notional = {c.max_error_per_notional():.2e}")


def test_discounting_with_zspread_by_hand(demo_snapshot: MarketSnapshot) -> None:
    """A 3-year annual 5% 30/360 bond issued 15 Dec 2025, face 100 (payment dates 15 Dec 2026
    Tue, 2027 Wed, 2028 Fri: business days, no rolling): on a flat 4% OIS curve with issuer
    z-spreads 1%, 0%, 3% in three scenarios, PV = sum c_i exp(-(4% + z) t_i), t_i = days/365;
    SELL is minus BUY; without issuer the spread is ignored."""
    bond = FixedRateBond(
        trade_id="B",
        book="B",
        counterparty="C",
        currency="USD",
        notional=100.0,
        issue_date=dt.date(2025, 12, 15),
        maturity_date=dt.date(2028, 12, 15),
        coupon=0.05,
        coupon_frequency="1Y",
        day_count="30/360",
        issuer="ACME_CORP",
    )
    z = np.array([0.01, 0.0, 0.03])
    m = FlatMarket({"USD-SOFR": 0.04}, n=3, zspreads={"ACME_CORP": z})
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        ctx = LoweringContext(ASOF, demo_snapshot.fixings, build_market(demo_snapshot))
        lowered = [bonds.lower(b, ctx) for b in (bond, dataclasses.replace(bond, side="SELL"))]
    got = bonds.pv(bonds.stack(lowered), m)
    days = [(dt.date(y, 12, 15) - ASOF).days for y in (2026, 2027, 2028)]
    want = sum(
        amount * np.exp(-(0.04 + z) * d / 365)
        for amount, d in zip((5.0, 5.0, 105.0), days, strict=True)
    )
    assert np.allclose(got[:, 0], want, rtol=1e-14)
    assert np.array_equal(got[:, 1], -got[:, 0])
    no_issuer = dataclasses.replace(bond, issuer="")
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        ctx = LoweringContext(ASOF, demo_snapshot.fixings, build_market(demo_snapshot))
        plain = bonds.pv(bonds.stack([bonds.lower(no_issuer, ctx)]), m)
    assert np.allclose(plain[:, 0], want[1], rtol=1e-14)  # no issuer: the OIS curve alone
    assert math.isclose(float(plain[0, 0]), float(got[1, 0]), rel_tol=1e-14)
