"""Swaption kernel: 1,000 random swaptions against QuantLib (IBOR and OIS underlyings, normal
and shifted-lognormal vols) under the rates scenarios; QuantLib's swap length, annuity and
forward; payer - receiver parity against the QuantLib forward swap."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from pricing.curves import build_market
from pricing.kernels import swaption
from pricing.kernels.base import LoweringContext
from pricing.market import MarketSnapshot
from pricing.pricer import price
from pricing.products.swaption import build_swaption, underlying_swap
from pricing.quantlib_ import ql_session
from pricing.scenarios import ScenarioSet
from pricing.vector.market import ScenarioMarket
from tests.pricing.kernels import rates_factory as rf
from tests.pricing.kernels.conformance import (
    QlCurveMarket,
    closed_form_tolerance,
    run_conformance,
)
from tests.pricing.kernels.flat_market import FlatMarket


def _mixed(demo: MarketSnapshot) -> MarketSnapshot:
    """EUR swaption vols shifted lognormal (x35 the normal levels, ~25%, shift 1.5%), USD normal."""
    return rf.lognormal_vols(rf.rates_base(demo), "SWPT", "EUR", 35.0, 0.015)


def _scenarios(*names: str) -> ScenarioSet:
    s = rf.rates_scenarios()
    keep = [s.names.index(n) for n in names]
    return ScenarioSet.from_shifts(
        [s.names[i] for i in keep],
        [
            (x.pattern, x.shift, [x.values[i] for i in keep])
            for x in s.shifts
            if any(x.values[i] != x.values[0] for i in keep)
        ],
    )


FAST = ("base", "par +10bp", "OIS only +5bp", "IBOR only -5bp", "30Y +20bp", "vols x1.2")


def test_conformance_1000_swaptions(demo_snapshot: MarketSnapshot) -> None:
    """1,000 payer/receiver swaptions on SOFR, ESTR, EURIBOR 3M/6M and Term SOFR underlyings,
    expiries 1 day to 12 years, tenors 6M-30Y; EUR shifted lognormal, USD normal; under
    parallel, OIS-only, IBOR-only, long-end and vol moves: within 1e-8 relative or
    1e-10 x notional of QuantLib."""
    base = _mixed(demo_snapshot)
    c = run_conformance(rf.random_swaptions(1000, base.asof), base, _scenarios(*FAST))
    c.check(closed_form_tolerance())
    print(f"swaptions: max |kernel - QuantLib| / notional = {c.max_error_per_notional():.2e}")


@pytest.mark.slow
def test_conformance_every_scenario(demo_snapshot: MarketSnapshot) -> None:
    """The demo market (normal vols everywhere) under the full rates scenario set."""
    base = rf.rates_base(demo_snapshot)
    c = run_conformance(rf.random_swaptions(1000, base.asof, seed=50), base, rf.rates_scenarios())
    c.check(closed_form_tolerance())


def test_swap_length_annuity_forward_are_quantlibs(demo_snapshot: MarketSnapshot) -> None:
    """For 300 random swaptions, the lowering's swap length equals the one QuantLib's engine
    reads the vol at (``Swaption.swapLength()``: rounded months of the floating schedule), and
    the kernel's annuity and fair rate on QuantLib's own curves equal
    the engine's ``annuity()`` and ``atmForward()`` (1e-13 relative)."""
    trades = rf.random_swaptions(300, demo_snapshot.asof, seed=7)
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        qm = build_market(demo_snapshot)
        ctx = LoweringContext(demo_snapshot.asof, demo_snapshot.fixings, qm)
        lowered = [swaption.lower(t, ctx) for t in trades]
        engines = [build_swaption(t, qm) for t in trades]
        for o in engines:
            o.NPV()
        m = QlCurveMarket(demo_snapshot)
        batch = swaption.stack(lowered)
        df = lambda key, d: m.df(key, m.times(d))  # noqa: E731
        both = batch.flows.pv(df, 1)[0]  # annuities, then floating legs
        annuity, fwd = both[:300], both[300:] / both[:300]
        lengths = [o.swapLength() for o in engines]
        ql_annuity = np.array([o.annuity() for o in engines])
        ql_fwd = np.array([o.atmForward() for o in engines])
    assert [x.swap_length for x in lowered] == lengths
    assert np.allclose(annuity, ql_annuity, rtol=1e-13, atol=0)
    assert np.allclose(fwd, ql_fwd, rtol=1e-12, atol=1e-16)


def test_parity_with_the_quantlib_forward_swap(demo_snapshot: MarketSnapshot) -> None:
    """Payer - receiver (kernel, scenario market) = the underlying forward payer swap valued by
    QuantLib's swap pricer, for 100 swaptions on IBOR and OIS underlyings: 1e-8 x notional."""
    base = _mixed(demo_snapshot)
    payers = [
        dataclasses.replace(t, option_type="PAYER", side="BUY")
        for t in rf.random_swaptions(100, base.asof, seed=11)
    ]
    receivers = [
        dataclasses.replace(t, trade_id=t.trade_id + "R", option_type="RECEIVER") for t in payers
    ]
    with ql_session(base.asof, base.fixings):
        ctx = LoweringContext(base.asof, base.fixings, build_market(base))
        batch = swaption.stack([swaption.lower(t, ctx) for t in payers + receivers])
    pv = swaption.pv(batch, ScenarioMarket(base, ScenarioSet.base_only()))[0]
    swaps = price([underlying_swap(t) for t in payers], base)
    forward = np.array([r.pv for r in swaps.results])
    notional = np.array([t.notional for t in payers])
    assert np.all(np.abs(pv[:100] - pv[100:] - forward) <= 1e-8 * notional)


def test_annuity_and_forward_by_hand(demo_snapshot: MarketSnapshot) -> None:
    """Flat curves: a normal swaption's value is A * Bachelier(F, K, sigma sqrt t) with
    A = sum N tau D and F = float PV / A from its own lowered flows; an ATM payer equals the
    ATM receiver (both A sigma sqrt(t) / sqrt(2 pi))."""
    snap = demo_snapshot
    t = rf.random_swaptions(1, snap.asof, seed=3)[0]
    t = dataclasses.replace(t, index="USD-SOFR", currency="USD", expiry_date=dt.date(2027, 5, 28))
    m = FlatMarket({"USD-SOFR": 0.035}, swaption_vol=0.01)
    with ql_session(snap.asof, snap.fixings):
        ctx = LoweringContext(snap.asof, snap.fixings, build_market(snap))
        low = swaption.lower(t, ctx)
    df = lambda key, d: m.df(key, m.times(d))  # noqa: E731
    batch = swaption.stack([low])
    a, float_leg = batch.flows.pv(df, 1)[0]
    f = float_leg / a
    atm = [
        dataclasses.replace(t, strike=float(f), option_type=o, side="BUY")
        for o in ("PAYER", "RECEIVER")
    ]
    with ql_session(snap.asof, snap.fixings):
        ctx = LoweringContext(snap.asof, snap.fixings, build_market(snap))
        pv = swaption.pv(swaption.stack([swaption.lower(x, ctx) for x in atm]), m)[0]
    t_ex = (t.expiry_date - snap.asof).days / 365
    want = a * 0.01 * np.sqrt(t_ex) / np.sqrt(2 * np.pi)
    assert pv == pytest.approx([want, want], rel=1e-12)
