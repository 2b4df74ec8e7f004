"""Cap/floor kernel: 1,000 random caps and floors against QuantLib (normal and shifted-lognormal
vols, seasoned caplets) under the rates scenarios, and caplets written out by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest
from scipy.stats import norm

from pricing.curves import build_market
from pricing.kernels import capfloor
from pricing.kernels.base import LoweringContext
from pricing.market import MarketSnapshot
from pricing.quantlib_ import ql_session
from pricing.scenarios import ScenarioSet
from pricing.trades import CapFloor
from tests.pricing.kernels import rates_factory as rf
from tests.pricing.kernels.conformance import closed_form_tolerance, run_conformance
from tests.pricing.kernels.flat_market import FlatMarket

ASOF = dt.date(2025, 11, 28)


def _mixed(demo: MarketSnapshot) -> MarketSnapshot:
    """EUR cap vols as shifted lognormal (x35 the normal levels, ~25%, shift 1%), USD normal."""
    return rf.lognormal_vols(rf.rates_base(demo), "CAP", "EUR", 35.0, 0.01)


def test_conformance_1000_caps_normal_and_lognormal(demo_snapshot: MarketSnapshot) -> None:
    """1,000 caps/floors on EURIBOR 3M/6M (shifted lognormal) and Term SOFR (normal), a third
    seasoned, under the full rates scenario set incl. vol x1.2 / x0.7: within 1e-8 relative or
    1e-10 x notional of QuantLib."""
    base = _mixed(demo_snapshot)
    c = run_conformance(rf.random_caps(1000, base.asof), base, rf.rates_scenarios())
    c.check(closed_form_tolerance())
    print(f"caps: max |kernel - QuantLib| / notional = {c.max_error_per_notional():.2e}")


@pytest.mark.slow
def test_conformance_normal_demo(demo_snapshot: MarketSnapshot) -> None:
    """Another 1,000 on the demo market itself (normal vols everywhere), base and vol moves."""
    base = rf.rates_base(demo_snapshot)
    s = rf.rates_scenarios()
    keep = [0, s.names.index("par +10bp"), s.names.index("vols x1.2")]
    scen = ScenarioSet.from_shifts(
        [s.names[i] for i in keep],
        [
            (x.pattern, x.shift, [x.values[i] for i in keep])
            for x in s.shifts
            if any(x.values[i] != x.values[0] for i in keep)
        ],
    )
    c = run_conformance(rf.random_caps(1000, base.asof, seed=40), base, scen)
    c.check(closed_form_tolerance())


def _lower(trades: list[CapFloor], snap: MarketSnapshot) -> capfloor.CapBatch:
    with ql_session(snap.asof, snap.fixings):
        ctx = LoweringContext(snap.asof, snap.fixings, build_market(snap))
        return capfloor.stack([capfloor.lower(t, ctx) for t in trades])


def _cap(**kw: object) -> CapFloor:
    terms = dict(
        trade_id="CAP",
        book="B",
        counterparty="C",
        currency="EUR",
        index="EUR-EURIBOR-6M",
        notional=1e7,
        start_date=dt.date(2026, 6, 3),
        maturity_date=dt.date(2027, 6, 3),
        strike=0.025,
        option_type="CAP",
    )
    terms.update(kw)
    return CapFloor(**terms)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["NORMAL", "LOGNORMAL"])
def test_two_caplets_by_hand(demo_snapshot: MarketSnapshot, kind: str) -> None:
    """A 1-year EURIBOR 6M cap from 3 Jun 2026: caplets [3 Jun 2026, 3 Dec 2026] and
    [3 Dec 2026, 3 Jun 2027] (business days: no rolling), fixed two TARGET days before each
    start (1 Jun 2026 Mon, 1 Dec 2026 Tue), ACT/360 accruals 183/360 and 182/360, paid at the
    period ends; forwards from a flat 2.5% continuous projection curve, discounting at 2%.
    Caplet = N tau D(end) * Bachelier or shifted Black (written here with scipy) at
    sigma sqrt(t_fix); floor by put; cap - floor = sum N tau D (F - K)."""
    vol, shift = (0.009, 0.0) if kind == "NORMAL" else (0.3, 0.01)
    m = FlatMarket({"EUR-ESTR": 0.02, "EUR-EURIBOR-6M": 0.025}, cap_vol=vol, kind=kind, shift=shift)
    pv = capfloor.pv(_lower([_cap(), _cap(option_type="FLOOR")], demo_snapshot), m)
    days = lambda d: (d - ASOF).days  # noqa: E731
    periods = [
        (dt.date(2026, 6, 3), dt.date(2026, 12, 3), dt.date(2026, 6, 1)),
        (dt.date(2026, 12, 3), dt.date(2027, 6, 3), dt.date(2026, 12, 1)),
    ]
    cap = floor = parity = 0.0
    for s, e, f in periods:
        tau = (e - s).days / 360
        fwd = (math.exp(0.025 * (days(e) - days(s)) / 365) - 1) / tau
        acc = 1e7 * tau * math.exp(-0.02 * days(e) / 365)
        sd = vol * math.sqrt(days(f) / 365)
        if kind == "NORMAL":
            h = (fwd - 0.025) / sd
            c = (fwd - 0.025) * norm.cdf(h) + sd * norm.pdf(h)
            p = (0.025 - fwd) * norm.cdf(-h) + sd * norm.pdf(h)
        else:
            fs, ks = fwd + shift, 0.025 + shift
            d1 = math.log(fs / ks) / sd + sd / 2
            c = fs * norm.cdf(d1) - ks * norm.cdf(d1 - sd)
            p = ks * norm.cdf(sd - d1) - fs * norm.cdf(-d1)
        cap, floor, parity = cap + acc * c, floor + acc * p, parity + acc * (fwd - 0.025)
    assert pv[0, 0] == pytest.approx(cap, rel=1e-12)
    assert pv[0, 1] == pytest.approx(floor, rel=1e-12)
    assert pv[0, 0] - pv[0, 1] == pytest.approx(parity, rel=1e-10)


def test_fixed_caplet_is_intrinsic(demo_snapshot: MarketSnapshot) -> None:
    """A cap whose last caplet [3 Jun 2025, 3 Dec 2025] fixed on 30 May 2025 at 2.15% (demo
    history): worth N tau D(3 Dec) max(2.15% - K, 0) whatever the vol, 0 for a floor at K;
    a sold cap is minus a bought one."""
    assert demo_snapshot.fixings["EUR-EURIBOR-6M"][dt.date(2025, 5, 30)] == 0.0215
    trades = [
        _cap(start_date=dt.date(2025, 6, 3), maturity_date=dt.date(2025, 12, 3), strike=0.02),
        _cap(
            start_date=dt.date(2025, 6, 3),
            maturity_date=dt.date(2025, 12, 3),
            strike=0.02,
            option_type="FLOOR",
        ),
    ]
    trades.append(dataclasses.replace(trades[0], side="SELL"))
    batch = _lower(trades, demo_snapshot)
    want = 1e7 * 183 / 360 * math.exp(-0.02 * 5 / 365) * (0.0215 - 0.02)
    for vol in (0.001, 0.05):
        m = FlatMarket({"EUR-ESTR": 0.02, "EUR-EURIBOR-6M": 0.03}, cap_vol=vol)
        pv = capfloor.pv(batch, m)
        assert pv[0, 0] == pytest.approx(want, rel=1e-14)
        assert pv[0, 1] == 0.0
        assert pv[0, 2] == -pv[0, 0]


def test_scenario_vols_broadcast(demo_snapshot: MarketSnapshot) -> None:
    """Vols scaled per scenario on the scenario market: column by column the same as
    QuantLib on each scenario snapshot (5 trades x 3 scenarios, 1e-10 relative)."""
    base = _mixed(demo_snapshot)
    scen = ScenarioSet.from_shifts(
        ["base", "eur vols up", "usd vols down"],
        [
            ("VOL.CAP.EUR.*", "MULTIPLY", [1.0, 1.5, 1.0]),
            ("VOL.CAP.USD.*", "MULTIPLY", [1.0, 1.0, 0.5]),
        ],
    )
    trades = rf.random_caps(5, base.asof, seed=9)
    c = run_conformance(trades, base, scen)
    c.check(closed_form_tolerance(relative=1e-10, per_notional=1e-12))
    assert np.all(np.isfinite(c.kernel))


def test_caplet_fixing_today(demo_snapshot: MarketSnapshot) -> None:
    """A cap starting 2 Dec 2025 has its first caplet fixed on the as-of date (two TARGET days
    before): with the fixing published QuantLib uses it, without it forecasts it; either way
    no optionality is left (intrinsic). Kernel = QuantLib in both markets, and they differ."""
    cap = _cap(start_date=dt.date(2025, 12, 2), maturity_date=dt.date(2026, 12, 2), strike=0.02)
    fix = {k: dict(v) for k, v in demo_snapshot.fixings.items()}
    fix["EUR-EURIBOR-6M"][ASOF] = 0.031  # published, far from the curve's forward
    published = MarketSnapshot(ASOF, dict(demo_snapshot.quotes), fix)
    del fix["EUR-EURIBOR-6M"][ASOF]
    unpublished = MarketSnapshot(ASOF, dict(demo_snapshot.quotes), fix)
    values = []
    for snap in (published, unpublished):
        c = run_conformance([cap], snap, ScenarioSet.base_only())
        c.check(closed_form_tolerance(relative=1e-10, per_notional=1e-14))
        values.append(c.kernel[0, 0])
    # the published 3.1% fixing is 1.1% in the money on 182-183 days of 1e7
    assert values[0] - values[1] > 1e7 * 0.005 * 182 / 360
