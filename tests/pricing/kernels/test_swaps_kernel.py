"""IRS/OIS kernel: 1,000 random swaps against QuantLib under rate scenarios, the lowering's
fixing rules, and the invariants a swap must satisfy whatever the curves."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import numpy as np
import pytest
import QuantLib as ql

from pricing import quantlib_ as qa
from pricing.curves import build_market
from pricing.kernels import swaps
from pricing.kernels.base import KernelUnsupported, LoweringContext
from pricing.market import MarketSnapshot
from pricing.pricer import price
from pricing.quantlib_ import ql_session
from pricing.scenarios import ScenarioSet
from pricing.trades import InterestRateSwap, OvernightIndexSwap
from tests.pricing.kernels import rates_factory as rf
from tests.pricing.kernels.conformance import (
    QlCurveMarket,
    kernel_values,
    linear_tolerance,
    run_conformance,
)
from tests.pricing.kernels.flat_market import FlatMarket

ASOF = dt.date(2025, 11, 28)


@pytest.fixture(scope="module")
def base(demo_snapshot: MarketSnapshot) -> MarketSnapshot:
    return rf.rates_base(demo_snapshot)


def _subset(s: ScenarioSet, names: tuple[str, ...]) -> ScenarioSet:
    keep = [s.names.index(n) for n in names]
    return ScenarioSet.from_shifts(
        [s.names[i] for i in keep],
        [
            (x.pattern, x.shift, [x.values[i] for i in keep])
            for x in s.shifts
            if any(x.values[i] != x.values[0] for i in keep)
        ],
    )


FAST = ("base", "par +10bp", "SOFR 5Y +1bp", "OIS only +5bp", "IBOR only -5bp")


def _lower(t: InterestRateSwap | OvernightIndexSwap, snap: MarketSnapshot) -> swaps.LoweredSwap:
    with ql_session(snap.asof, snap.fixings):
        return swaps.lower(t, LoweringContext(snap.asof, snap.fixings, build_market(snap)))


def test_conformance_1000_swaps(base: MarketSnapshot) -> None:
    """1,000 IRS/OIS (every index; seasoned and forward; both sides; spreads) under base,
    parallel, single-pillar, OIS-only and IBOR-only moves: within 1e-8 x notional of
    QuantLib (issue 4); the kernel alone on QuantLib's own base curves within 1e-12."""
    trades = rf.random_swaps(1000, base.asof)
    c = run_conformance(trades, base, _subset(rf.rates_scenarios(), FAST))
    c.check(linear_tolerance(1e-8))
    print(f"swaps: max |kernel - QuantLib| / notional = {c.max_error_per_notional():.2e}")
    alone, _, _ = kernel_values(
        trades, base, ScenarioSet.base_only(), QlCurveMarket, lowered=c.lowered
    )
    scale = np.array([t.notional for t in trades])
    assert np.max(np.abs(alone[0] - c.reference[0]) / scale) < 1e-12


@pytest.mark.slow
def test_conformance_every_scenario(base: MarketSnapshot) -> None:
    """The same 1,000 swaps under the full rates scenario set (twist, vols, credit too)."""
    c = run_conformance(rf.random_swaps(1000, base.asof), base, rf.rates_scenarios())
    c.check(linear_tolerance(1e-8))


def _ois(**kw: object) -> OvernightIndexSwap:
    terms = dict(
        trade_id="OIS",
        book="B",
        counterparty="C",
        currency="USD",
        index="USD-SOFR",
        notional=1e7,
        start_date=dt.date(2025, 6, 3),
        maturity_date=dt.date(2028, 6, 5),
        fixed_rate=0.035,
        fixed_leg="PAY",
    )
    terms.update(kw)
    return OvernightIndexSwap(**terms)  # type: ignore[arg-type]


def test_todays_fixing_is_used_when_published(base: MarketSnapshot) -> None:
    """QuantLib uses the as-of date's fixing if the history has it, else forecasts it. Both
    markets: the kernel follows, and the two values differ (the branch is exercised)."""
    assert ASOF in base.fixings["USD-SOFR"]
    fix = {k: dict(v) for k, v in base.fixings.items()}
    fix["USD-SOFR"] = {d: v + (0.05 if d == ASOF else 0.0) for d, v in fix["USD-SOFR"].items()}
    bumped = MarketSnapshot(ASOF, dict(base.quotes), fix)
    del fix["USD-SOFR"][ASOF]
    unpublished = MarketSnapshot(ASOF, dict(base.quotes), fix)
    values = []
    for snap in (base, bumped, unpublished):
        c = run_conformance([_ois()], snap, ScenarioSet.base_only())
        c.check(linear_tolerance(1e-12))
        values.append(c.kernel[0, 0])
    assert len(set(values)) == 3
    # +5% on Friday's fixing, which accrues over the weekend (3/360), compounded with the rest
    # of the year's fixings (~ +2%): ~ 1e7 * 0.05 * 3/360 on the coupon
    assert values[1] - values[0] == pytest.approx(1e7 * 0.05 * 3 / 360, rel=0.05)


def test_ibor_fixing_today(base: MarketSnapshot) -> None:
    """A 1-year EURIBOR 6M swap starting 2 Dec 2025 fixes its first coupon on the as-of date:
    the published fixing when the history has it (QuantLib's IborCoupon), else the forecast
    (2.14%, the 6M deposit quote the curve is built on); the second coupon is pinned by the
    6x12 FRA quote either way. (A 5-year swap would not do: QuantLib's swap helpers fix today
    too, so the bootstrapped curve absorbs the fixing and a float leg on a quoted par schedule
    is unchanged -- which the kernel reproduces as well, through the scenario market.)"""
    irs = InterestRateSwap(
        trade_id="IRS",
        book="B",
        counterparty="C",
        currency="EUR",
        index="EUR-EURIBOR-6M",
        notional=1e7,
        start_date=dt.date(2025, 12, 2),
        maturity_date=dt.date(2026, 12, 2),
        fixed_rate=0.025,
        fixed_leg="RECEIVE",
    )
    fix = {k: dict(v) for k, v in base.fixings.items()}
    fix["EUR-EURIBOR-6M"][ASOF] = 0.031
    published = MarketSnapshot(ASOF, dict(base.quotes), fix)
    del fix["EUR-EURIBOR-6M"][ASOF]
    unpublished = MarketSnapshot(ASOF, dict(base.quotes), fix)
    values = []
    for snap in (published, unpublished):
        c = run_conformance([irs], snap, ScenarioSet.base_only())
        c.check(linear_tolerance(1e-12))
        values.append(c.kernel[0, 0])
    # the receiver pays the 3.1% fixing instead of the 2.14% forecast for 182 days, paid on
    # 2 Jun 2026 (discount ~0.99)
    assert values[1] - values[0] == pytest.approx(1e7 * (0.031 - 0.0214) * 182 / 360, rel=0.02)


def test_missing_past_fixing_falls_back(demo_snapshot: MarketSnapshot) -> None:
    """The demo market has no SONIA history: a seasoned SONIA swap falls back to QuantLib,
    whose reference pricer reports the missing fixing."""
    t = _ois(currency="GBP", index="GBP-SONIA", start_date=dt.date(2025, 3, 3))
    with pytest.raises(KernelUnsupported, match="missing GBP-SONIA fixing"):
        _lower(t, demo_snapshot)
    assert "Missing GBP-SONIA" in str(price([t], demo_snapshot).results[0].error)


def test_invariants_on_flat_curves(base: MarketSnapshot) -> None:
    """On flat curves (three scenarios of 0%..6%): payer = -receiver exactly; raising the fixed
    rate by 1% moves a payer by -1% x the annuity sum N tau D(pay) over the fixed schedule
    (written here from QuantLib's Schedule and the 30/360 convention of EURIBOR swaps); a
    forward SONIA swap at 0% (no payment lag, one curve) is worth N (D(start) - D(end))."""
    m = FlatMarket(
        {
            "GBP-SONIA": [0.01, 0.035, 0.06],
            "EUR-ESTR": [0.02, 0.0, 0.04],
            "EUR-EURIBOR-6M": [0.025, 0.01, 0.05],
        },
        n=3,
    )
    irs = InterestRateSwap(
        trade_id="IRS",
        book="B",
        counterparty="C",
        currency="EUR",
        index="EUR-EURIBOR-6M",
        notional=5e7,
        start_date=dt.date(2024, 7, 15),
        maturity_date=dt.date(2034, 7, 15),
        fixed_rate=0.027,
        fixed_leg="PAY",
        spread=0.001,
    )
    sonia = _ois(
        currency="GBP",
        index="GBP-SONIA",
        start_date=dt.date(2026, 3, 2),
        maturity_date=dt.date(2031, 3, 3),
        fixed_rate=0.0,
    )

    def value(*ts: InterestRateSwap | OvernightIndexSwap) -> np.ndarray:
        return swaps.pv(swaps.stack([_lower(t, base) for t in ts]), m)

    for t in (irs, sonia):
        pv = value(t, dataclasses.replace(t, fixed_leg="RECEIVE"))
        assert np.array_equal(pv[:, 0], -pv[:, 1])

    sched = ql.Schedule(
        qa.ql_date(irs.start_date),
        qa.ql_date(irs.maturity_date),
        ql.Period(1, ql.Years),
        qa.calendar("TARGET"),
        ql.ModifiedFollowing,
        ql.ModifiedFollowing,
        ql.DateGeneration.Backward,
        False,
    )
    dc = ql.Thirty360(ql.Thirty360.BondBasis)
    r_eur = m.rate("EUR-ESTR")[:, 0]
    annuity = sum(
        irs.notional * dc.yearFraction(a, b) * np.exp(-r_eur * (qa.py_date(b) - ASOF).days / 365)
        for a, b in itertools.pairwise(list(sched))
        if qa.py_date(b) > ASOF
    )
    pv = value(irs, dataclasses.replace(irs, fixed_rate=irs.fixed_rate + 0.01))
    assert np.allclose(pv[:, 1] - pv[:, 0], -0.01 * annuity, rtol=1e-12)

    r = m.rate("GBP-SONIA")[:, 0]
    s, e = (dt.date(2026, 3, 2) - ASOF).days, (dt.date(2031, 3, 3) - ASOF).days
    want = 1e7 * (np.exp(-r * s / 365) - np.exp(-r * e / 365))  # the payer receives float
    assert np.allclose(value(sonia)[:, 0], want, rtol=1e-12)
