"""IRS and OIS reference pricer: independent cashflow sums, par and sign invariants, fixings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest
import QuantLib as ql

from pricing import quantlib_ as qa
from pricing.conventions import index_convention
from pricing.curves import build_market
from pricing.market import MarketSnapshot
from pricing.pricer import price
from pricing.products.swaps import build_swap
from pricing.quantlib_ import ql_session
from pricing.trades import InterestRateSwap, OvernightIndexSwap

ASOF = dt.date(2025, 11, 28)


def irs(**kw: object) -> InterestRateSwap:
    base = dict(
        trade_id="IRS-1",
        book="EUR-SWAPS",
        counterparty="ACME",
        currency="EUR",
        index="EUR-EURIBOR-6M",
        notional=25e6,
        start_date=dt.date(2024, 3, 15),
        maturity_date=dt.date(2034, 3, 15),
        fixed_rate=0.0275,
        fixed_leg="PAY",
    )
    base.update(kw)
    return InterestRateSwap(**base)  # type: ignore[arg-type]


def ois(**kw: object) -> OvernightIndexSwap:
    base = dict(
        trade_id="OIS-1",
        book="USD-SWAPS",
        counterparty="ACME",
        currency="USD",
        index="USD-SOFR",
        notional=50e6,
        start_date=dt.date(2026, 3, 2),
        maturity_date=dt.date(2031, 3, 3),
        fixed_rate=0.0345,
        fixed_leg="RECEIVE",
    )
    base.update(kw)
    return OvernightIndexSwap(**base)  # type: ignore[arg-type]


def _dates(start: dt.date, end: dt.date, tenor: str, calendar: str) -> list[ql.Date]:
    s = ql.Schedule(
        qa.ql_date(start),
        qa.ql_date(end),
        qa.period(tenor),
        qa.calendar(calendar),
        ql.ModifiedFollowing,
        ql.ModifiedFollowing,
        ql.DateGeneration.Backward,
        False,
    )
    return list(s)


def test_irs_equals_independent_cashflow_sum(demo_snapshot: MarketSnapshot) -> None:
    """PV = sum over future periods of tau*N*(F - K)*DF, with F the index forward on its own
    fixing dates (indexed coupons) and the current coupon's fixing taken from the history."""
    t = irs()
    conv = index_convention(t.index)
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        m = build_market(demo_snapshot)
        pv = build_swap(t, m).NPV()
        disc, proj = m.discount("EUR"), m.curve(t.index)
        cal = qa.calendar(conv.calendar)
        today = qa.ql_date(ASOF)
        fixed_dc, float_dc = ql.Thirty360(ql.Thirty360.BondBasis), ql.Actual360()
        fixed = 0.0
        d = _dates(t.start_date, t.maturity_date, "1Y", conv.calendar)
        for a, b in itertools.pairwise(d):
            if b > today:
                fixed += t.notional * t.fixed_rate * fixed_dc.yearFraction(a, b) * disc.discount(b)
        flt = 0.0
        d = _dates(t.start_date, t.maturity_date, "6M", conv.calendar)
        for a, b in itertools.pairwise(d):
            if b <= today:
                continue
            fixing_date = cal.advance(a, -2, ql.Days)
            if fixing_date <= today:  # known: from the snapshot's history
                rate = demo_snapshot.fixings[t.index][qa.py_date(fixing_date)]
            else:  # forecast over the index's own value/maturity dates
                v = cal.advance(fixing_date, 2, ql.Days)
                e = cal.advance(v, 6, ql.Months, ql.ModifiedFollowing, True)
                rate = (proj.discount(v) / proj.discount(e) - 1) / float_dc.yearFraction(v, e)
            flt += t.notional * rate * float_dc.yearFraction(a, b) * disc.discount(b)
    assert pv == pytest.approx(flt - fixed, abs=1e-6)  # 1e-6 on 25mm: rounding only


def test_forward_ois_equals_telescoped_float_leg(demo_snapshot: MarketSnapshot) -> None:
    """A forward-starting compounded-overnight coupon is worth N*(P(s)/P(e) - 1)*P(pay) on a
    single curve; with the payment lag the pay date is 2 business days after the period end."""
    t = ois(fixed_leg="PAY")
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        m = build_market(demo_snapshot)
        swap = build_swap(t, m)
        c = m.discount("USD")
        cal = qa.calendar("US-SOFR")
        d = _dates(t.start_date, t.maturity_date, "1Y", "US-SOFR")
        flt = fixed = 0.0
        for a, b in itertools.pairwise(d):
            pay = cal.advance(b, 2, ql.Days, ql.ModifiedFollowing)
            flt += t.notional * (c.discount(a) / c.discount(b) - 1) * c.discount(pay)
            fixed += t.notional * t.fixed_rate * ql.Actual360().yearFraction(a, b) * c.discount(pay)
        assert swap.NPV() == pytest.approx(flt - fixed, abs=1e-6)


def test_payer_is_minus_receiver_and_linear_in_notional(demo_snapshot: MarketSnapshot) -> None:
    trades = [
        irs(),
        irs(trade_id="R", fixed_leg="RECEIVE"),
        irs(trade_id="D", notional=50e6),
        ois(),
        ois(trade_id="P", fixed_leg="PAY"),
    ]
    r = price(trades, demo_snapshot).by_id()
    assert r["IRS-1"].pv == pytest.approx(-r["R"].pv, rel=1e-12)
    assert r["D"].pv == pytest.approx(2 * r["IRS-1"].pv, rel=1e-12)
    assert r["OIS-1"].pv == pytest.approx(-r["P"].pv, rel=1e-12)


@pytest.mark.parametrize(
    ("index", "cls"),
    [("EUR-EURIBOR-6M", irs), ("USD-SOFR", ois), ("USD-TSOFR-3M", irs), ("EUR-ESTR", ois)],
)
def test_swap_at_fair_rate_has_zero_pv_at_inception(
    demo_snapshot: MarketSnapshot, index: str, cls: object
) -> None:
    conv = index_convention(index)
    cal = qa.calendar(conv.calendar)
    start = qa.py_date(cal.advance(qa.ql_date(ASOF), 2, ql.Days))
    for years, spread in ((3, 0.0), (7, 0.0015), (12, -0.001)):
        t = cls(
            currency=conv.currency,
            index=index,
            start_date=start,  # type: ignore[operator]
            maturity_date=start.replace(year=start.year + years),
            spread=spread,
        )
        with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
            par = build_swap(t, build_market(demo_snapshot)).fairRate()
        at_par = dataclasses.replace(t, fixed_rate=par)
        res = price([at_par], demo_snapshot).results[0]
        assert abs(res.pv) < 1e-6, (index, years)  # 1e-6 currency units on 25-50mm


def test_seasoned_swap_without_fixings_is_an_error_record(demo_snapshot: MarketSnapshot) -> None:
    no_fix = MarketSnapshot(demo_snapshot.asof, demo_snapshot.quotes, {}, "no fixings")
    seasoned = irs()
    fresh = irs(trade_id="FWD", start_date=dt.date(2026, 6, 1), maturity_date=dt.date(2031, 6, 2))
    res = price([seasoned, fresh], no_fix).by_id()
    assert res["IRS-1"].error is not None
    assert "fixing" in res["IRS-1"].error.reason.lower()
    assert res["FWD"].ok


def test_pv_in_reporting_currency(demo_snapshot: MarketSnapshot) -> None:
    res = price([irs()], demo_snapshot, reporting_currency="USD").results[0]
    assert res.currency == "EUR"
    assert res.pv_reporting == pytest.approx(res.pv * demo_snapshot["FX.EURUSD"], rel=1e-15)
    res_eur = price([irs()], demo_snapshot, reporting_currency="EUR").results[0]
    assert res_eur.pv_reporting == res_eur.pv


def test_matured_swap_is_reported_not_priced(demo_snapshot: MarketSnapshot) -> None:
    old = irs(start_date=dt.date(2015, 1, 5), maturity_date=dt.date(2025, 1, 6))
    res = price([old], demo_snapshot).results[0]
    assert res.error is not None
    assert res.error.field == "maturity_date"
    assert "as-of" in res.error.reason
