"""FRA reference pricer: independent settlement formula, fair rate, buyer/seller symmetry.

QuantLib's ``ForwardRateAgreement`` (1.44, constructor with an explicit maturity date; read in
``ql/instruments/forwardrateagreement.cpp``) settles at the *start* of the period the
discounted difference ``N * (F - K) * tau / (1 + F * tau)``, with ``F`` the simple forward of the
projection curve over [start, end] in the index day count, and discounts that amount from the
start date on the discount curve. The tests below write that convention out themselves; since
the projection (3%) and discount (2%) curves differ, the "paid at the end, discounted from the
end" convention would give a different number and fail them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest
import QuantLib as ql

from pricing.curves import build_market
from pricing.market import MarketSnapshot
from pricing.pricer import price
from pricing.products import fra
from pricing.quantlib_ import ql_date, ql_session
from pricing.trades import ForwardRateAgreement
from tests.factories import ASOF, flat_snapshot

R_DISC, R_PROJ = 0.02, 0.03  # flat continuously compounded ACT/365F rates
NOTIONAL = 10_000_000.0
# A 6x12-style FRA; both dates are TARGET business days (asserted below), so neither QuantLib
# nor the pricer moves them.
START, END = dt.date(2026, 6, 3), dt.date(2026, 12, 3)


def _trade(rate: float, leg: str = "PAY", **kw: object) -> ForwardRateAgreement:
    terms: dict[str, object] = {
        "trade_id": "FRA1",
        "book": "B",
        "counterparty": "C",
        "currency": "EUR",
        "index": "EUR-EURIBOR-6M",
        "notional": NOTIONAL,
        "start_date": START,
        "end_date": END,
        "fixed_rate": rate,
        "fixed_leg": leg,
    }
    terms.update(kw)
    return ForwardRateAgreement(**terms)  # type: ignore[arg-type]


def _df(rate: float, d: dt.date) -> float:
    """Discount factor of a flat continuous ACT/365F curve (how flat_snapshot builds it)."""
    return math.exp(-rate * (d - ASOF).days / 365.0)


def _forward() -> float:
    """Simple ACT/360 forward of the projection curve over [START, END]."""
    tau = (END - START).days / 360.0
    return (_df(R_PROJ, START) / _df(R_PROJ, END) - 1.0) / tau


def _formula_pv(rate: float, sign: float) -> float:
    tau = (END - START).days / 360.0
    f = _forward()
    return sign * NOTIONAL * (f - rate) * tau / (1.0 + f * tau) * _df(R_DISC, START)


@pytest.fixture(scope="module")
def snap() -> MarketSnapshot:
    return flat_snapshot(rates={"EUR": R_DISC}, ibor={"EUR-EURIBOR-6M": R_PROJ})


def _pv(trade: ForwardRateAgreement, snapshot: MarketSnapshot) -> float:
    with ql_session(snapshot.asof, snapshot.fixings):
        return fra.reference_pv(trade, build_market(snapshot)).pv


def test_dates_are_business_days() -> None:
    assert ql.TARGET().isBusinessDay(ql_date(START))
    assert ql.TARGET().isBusinessDay(ql_date(END))


@pytest.mark.parametrize("rate", [0.01, 0.025, 0.0305, 0.04])
@pytest.mark.parametrize(("leg", "sign"), [("PAY", 1.0), ("RECEIVE", -1.0)])
def test_pv_matches_settled_at_start_formula(
    snap: MarketSnapshot, rate: float, leg: str, sign: float
) -> None:
    pv = _pv(_trade(rate, leg), snap)
    expected = _formula_pv(rate, sign)
    # Both sides are closed forms in double precision: agreement to 1e-12 of notional.
    assert pv == pytest.approx(expected, rel=1e-10, abs=1e-5)
    # The alternative (paid at the end) convention differs by far more than that tolerance.
    tau = (END - START).days / 360.0
    paid_at_end = sign * NOTIONAL * (_forward() - rate) * tau * _df(R_DISC, END)
    assert abs(pv - paid_at_end) > 1.0


def test_fair_rate_has_zero_pv(snap: MarketSnapshot) -> None:
    f = _forward()
    assert abs(_pv(_trade(f), snap)) < 1e-6


def test_pay_is_minus_receive(snap: MarketSnapshot) -> None:
    for rate in (0.0, 0.02, 0.05):
        assert _pv(_trade(rate, "PAY"), snap) == pytest.approx(
            -_pv(_trade(rate, "RECEIVE"), snap), rel=1e-14, abs=1e-9
        )


def test_demo_market_fair_rate_and_symmetry(demo_snapshot: MarketSnapshot) -> None:
    """On the bootstrapped demo curves: the curve's own forward prices to zero."""
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        m = build_market(demo_snapshot)
        proj = m.curve("EUR-EURIBOR-6M")
        tau = (END - START).days / 360.0
        f = (proj.discount(ql_date(START)) / proj.discount(ql_date(END)) - 1.0) / tau
        assert abs(fra.reference_pv(_trade(f), m).pv) < 1e-6
        pay = fra.reference_pv(_trade(0.02, "PAY"), m).pv
        rec = fra.reference_pv(_trade(0.02, "RECEIVE"), m).pv
        disc = m.discount("EUR").discount(ql_date(START))
    assert pay == pytest.approx(-rec, rel=1e-14)
    assert pay == pytest.approx(NOTIONAL * (f - 0.02) * tau / (1 + f * tau) * disc, rel=1e-10)


def test_requirements() -> None:
    assert fra.requirements(_trade(0.03)) == [("discount", "EUR"), ("curve", "EUR-EURIBOR-6M")]


def test_price_path_and_missing_curve(snap: MarketSnapshot) -> None:
    """Through ``price()``: a FRA on an index without a curve fails alone, naming the curve."""
    good = _trade(0.025)
    usd = dataclasses.replace(
        _trade(0.035, trade_id="FRA2"),
        currency="USD",
        index="USD-TSOFR-3M",
        end_date=dt.date(2026, 9, 3),
    )
    with_usd = MarketSnapshot(snap.asof, {**snap.quotes, "IR.USD.SOFR.FLAT": 0.04})
    res = price([good, usd], with_usd, reporting_currency="EUR").by_id()
    assert res["FRA1"].ok
    assert res["FRA1"].pv == pytest.approx(_formula_pv(0.025, 1.0), rel=1e-10)
    assert not res["FRA2"].ok
    assert res["FRA2"].error is not None
    assert res["FRA2"].error.field == "market"
    assert "IR.USD.TSOFR3M" in res["FRA2"].error.reason
