"""FRA kernel: 1,000 random FRAs against QuantLib under the rates scenarios, the settlement
formula by hand on flat curves, and a FRA whose start rolls back onto the as-of date."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest
import QuantLib as ql

from pricing.curves import build_market
from pricing.kernels import fra
from pricing.kernels.base import LoweringContext
from pricing.market import MarketSnapshot
from pricing.pricer import price
from pricing.quantlib_ import ql_session
from pricing.scenarios import ScenarioSet
from pricing.trades import ForwardRateAgreement
from tests.pricing.kernels import rates_factory as rf
from tests.pricing.kernels.conformance import linear_tolerance, run_conformance
from tests.pricing.kernels.flat_market import FlatMarket

ASOF = dt.date(2025, 11, 28)


def _fra(**kw: object) -> ForwardRateAgreement:
    terms = dict(
        trade_id="FRA",
        book="B",
        counterparty="C",
        currency="EUR",
        index="EUR-EURIBOR-6M",
        notional=1e7,
        start_date=dt.date(2026, 6, 3),
        end_date=dt.date(2026, 12, 3),
        fixed_rate=0.025,
        fixed_leg="PAY",
    )
    terms.update(kw)
    return ForwardRateAgreement(**terms)  # type: ignore[arg-type]


def _value(trades: list[ForwardRateAgreement], m: FlatMarket, snap: MarketSnapshot) -> np.ndarray:
    with ql_session(snap.asof, snap.fixings):
        ctx = LoweringContext(snap.asof, snap.fixings, build_market(snap))
        return fra.pv(fra.stack([fra.lower(t, ctx) for t in trades]), m)


def test_conformance_1000_fras(demo_snapshot: MarketSnapshot) -> None:
    """1,000 FRAs on EURIBOR 3M/6M and Term SOFR (1 day to 5 years forward, 1-12 months long,
    both sides) under the full rates scenario set: within 1e-8 x notional of QuantLib."""
    base = rf.rates_base(demo_snapshot)
    c = run_conformance(rf.random_fras(1000, base.asof), base, rf.rates_scenarios())
    c.check(linear_tolerance(1e-8))
    print(f"FRAs: max |kernel - QuantLib| / notional = {c.max_error_per_notional():.2e}")


def test_settlement_formula_by_hand(demo_snapshot: MarketSnapshot) -> None:
    """Flat curves (2 scenarios): PV = N (F - K) T / (1 + F T) D(start), F the simple forward of
    the projection curve over [2026-06-03, 2026-12-03] (ACT/360, 183 days); at K = F the FRA
    is worth 0; the seller is minus the buyer."""
    r_disc, r_proj = np.array([0.02, 0.035]), np.array([0.025, 0.01])
    m = FlatMarket({"EUR-ESTR": r_disc, "EUR-EURIBOR-6M": r_proj}, n=2)
    s, e = (dt.date(2026, 6, 3) - ASOF).days, (dt.date(2026, 12, 3) - ASOF).days
    tau = (e - s) / 360
    fwd = (np.exp(r_proj * (e - s) / 365) - 1) / tau
    want = 1e7 * (fwd - 0.025) * tau / (1 + fwd * tau) * np.exp(-r_disc * s / 365)
    got = _value([_fra(), _fra(fixed_leg="RECEIVE")], m, demo_snapshot)
    assert np.allclose(got[:, 0], want, rtol=1e-12)
    assert np.array_equal(got[:, 1], -got[:, 0])
    at_fwd = _value(
        [_fra(fixed_rate=float(fwd[0]))],
        FlatMarket({"EUR-ESTR": 0.02, "EUR-EURIBOR-6M": 0.025}),
        demo_snapshot,
    )
    assert abs(at_fwd[0, 0]) < 1e-8


def test_start_rolling_back_onto_asof_is_expired(demo_snapshot: MarketSnapshot) -> None:
    """Start Sunday 30 Nov 2025: Modified Following rolls it back to Friday 28 Nov, the as-of
    date, where QuantLib's FRA has expired (value-date events on the reference date have
    occurred): both engines give 0, while a start one business day later is not 0."""
    cal = ql.TARGET()
    assert cal.adjust(ql.Date(30, 11, 2025), ql.ModifiedFollowing) == ql.Date(28, 11, 2025)
    expired = _fra(start_date=dt.date(2025, 11, 30), end_date=dt.date(2026, 5, 30))
    live = dataclasses.replace(expired, trade_id="LIVE", start_date=dt.date(2025, 12, 2))
    c = run_conformance([expired, live], demo_snapshot, ScenarioSet.base_only())
    c.check(linear_tolerance(1e-12))
    assert c.kernel[0, 0] == 0.0
    assert price([expired], demo_snapshot).results[0].pv == 0.0
    assert abs(c.kernel[0, 1]) > 100.0
    assert math.isfinite(c.kernel[0, 1])


@pytest.mark.parametrize("index", ["EUR-EURIBOR-3M", "USD-TSOFR-3M"])
def test_end_date_adjusted_like_quantlib(demo_snapshot: MarketSnapshot, index: str) -> None:
    """End dates on weekends and holidays (QuantLib adjusts the maturity with the index's
    calendar and convention): kernel = QuantLib to 1e-12 x notional."""
    trades = [
        _fra(
            trade_id=f"F{i}",
            index=index,
            currency=index[:3],
            start_date=dt.date(2026, 1, 15),
            end_date=end,
        )
        for i, end in enumerate(
            [
                dt.date(2026, 4, 4),
                dt.date(2026, 7, 4),
                dt.date(2026, 12, 25),
                dt.date(2027, 1, 1),
                dt.date(2026, 5, 31),
            ]
        )
    ]
    c = run_conformance(trades, demo_snapshot, ScenarioSet.base_only())
    c.check(linear_tolerance(1e-12))
