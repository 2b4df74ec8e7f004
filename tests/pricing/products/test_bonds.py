"""Fixed-rate bond pricer and analytics: Hull's textbook bonds, closed forms, invariants.

Literature: J. C. Hull, *Options, Futures, and Other Derivatives*, 9th ed. (Pearson, 2015),
chapter 4 "Interest Rates":

* Section 4.4 "Bond Pricing": Treasury zero rates (Table 4.2) 5.0%, 5.8%, 6.4%, 6.8%
  (continuous) at 0.5, 1.0, 1.5, 2.0 years; a 2-year 6% semiannual bond is worth 98.39;
  its yield is 6.76% (continuous); the 2-year par yield is 6.87% (semiannual).
* Section 4.8 "Duration", Table 4.6: a 3-year 10% semiannual bond at a 12% continuously
  compounded yield is worth 94.213 with duration 2.653 years; at 12.1% its price is 93.963,
  as the duration relation predicts.

Hull's times are exact multiples of 0.5 years. To reproduce them on real dates:

* yields are quoted in the bond's own day count, here 30/360, in which each half-year between
  coupon dates on the 15th is exactly 0.5 (QuantLib measures yield time stepwise over the
  coupon periods);
* curves are given as discount factors ``IR.USD.SOFR.DF.<k*6>M = exp(-z * k/2)`` placed exactly
  on the payment dates (as-of 15 Dec 2025 + k*6 months, all US business days, asserted below),
  so the curve's own ACT/365F time never enters.

Printed values are compared at half a unit of their last printed digit.
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
from pricing.products import bonds
from pricing.quantlib_ import calendar, ql_date, ql_session
from pricing.trades import FixedRateBond
from tests.factories import ASOF, flat_snapshot

HULL_ASOF = dt.date(2025, 12, 15)  # a Monday; +6M steps for 3 years are all US business days
HULL_TIMES = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)


def _bond(**kw: object) -> FixedRateBond:
    terms: dict[str, object] = {
        "trade_id": "BD1",
        "book": "B",
        "counterparty": "C",
        "currency": "USD",
        "notional": 1_000_000.0,
        "issue_date": HULL_ASOF,
        "maturity_date": dt.date(2028, 12, 15),
        "coupon": 0.10,
        "coupon_frequency": "6M",
        "day_count": "30/360",
        "settlement_days": 0,
    }
    terms.update(kw)
    return FixedRateBond(**terms)  # type: ignore[arg-type]


def _df_snapshot(zero_rates: dict[float, float]) -> MarketSnapshot:
    """USD OIS curve as discount factors exp(-z t) on as-of + t years (t multiple of 0.5)."""
    quotes = {f"IR.USD.SOFR.DF.{round(t * 12)}M": math.exp(-z * t) for t, z in zero_rates.items()}
    return flat_snapshot(asof=HULL_ASOF, extra=quotes)


def _analytics(
    trade: FixedRateBond, snap: MarketSnapshot, comp: bonds.Compounding
) -> dict[str, float]:
    with ql_session(snap.asof, snap.fixings):
        return bonds.analytics(trade, build_market(snap), comp)


def _pv(trade: FixedRateBond, snap: MarketSnapshot) -> float:
    with ql_session(snap.asof, snap.fixings):
        return bonds.reference_pv(trade, build_market(snap)).pv


def test_hull_dates_are_business_days() -> None:
    cal = calendar("US-SOFR")
    for k in range(7):
        assert cal.isBusinessDay(ql_date(HULL_ASOF) + ql.Period(6 * k, ql.Months))


# -- Hull Table 4.6: 3-year 10% bond at 12% continuous -------------------------------------------


def _closed_form(
    y: float, times: tuple[float, ...] = HULL_TIMES, coupon: float = 5.0, comp: str = "CONTINUOUS"
) -> tuple[float, float, float, float]:
    """(price, Macaulay duration, modified duration, convexity) written out per Hull ch. 4.

    Continuous: B = sum c e^{-yt}; D = sum t c e^{-yt} / B (= modified); C = sum t^2 c e^{-yt} / B.
    Semiannual compounding: B = sum c (1+y/2)^{-2t}; D_mac = sum t c (1+y/2)^{-2t} / B;
    D_mod = D_mac / (1+y/2); C = sum c t (t+1/2) (1+y/2)^{-2t-2} / B.
    """
    cfs = [coupon] * (len(times) - 1) + [100.0 + coupon]
    if comp == "CONTINUOUS":
        pv = [c * math.exp(-y * t) for c, t in zip(cfs, times, strict=True)]
        b = sum(pv)
        mac = sum(t * p for t, p in zip(times, pv, strict=True)) / b
        conv = sum(t * t * p for t, p in zip(times, pv, strict=True)) / b
        return b, mac, mac, conv
    g = 1.0 + y / 2.0
    pv = [c * g ** (-2 * t) for c, t in zip(cfs, times, strict=True)]
    b = sum(pv)
    mac = sum(t * p for t, p in zip(times, pv, strict=True)) / b
    conv = sum(p * t * (t + 0.5) for t, p in zip(times, pv, strict=True)) / (g * g * b)
    return b, mac, mac / g, conv


def test_hull_table_4_6_closed_form_matches_book() -> None:
    b, d, _, _ = _closed_form(0.12)
    assert b == pytest.approx(94.213, abs=5e-4)  # printed to 3 decimals
    assert d == pytest.approx(2.653, abs=5e-4)
    assert _closed_form(0.121)[0] == pytest.approx(93.963, abs=5e-4)
    assert b * (1 - d * 0.001) == pytest.approx(93.963, abs=5e-4)  # Hull's duration estimate


def test_hull_table_4_6_price_from_yield() -> None:
    t = _bond(notional=100.0)
    p = bonds.price_from_yield(t, 0.12, HULL_ASOF, "CONTINUOUS")
    assert p == pytest.approx(94.213, abs=5e-4)
    assert p == pytest.approx(_closed_form(0.12)[0], rel=1e-12)  # exact 0.5-year steps
    assert bonds.price_from_yield(t, 0.121, HULL_ASOF, "CONTINUOUS") == pytest.approx(
        93.963, abs=5e-4
    )
    assert bonds.yield_from_price(t, 94.213, HULL_ASOF, "CONTINUOUS") == pytest.approx(
        0.12, abs=5e-6
    )  # 94.213 is rounded: 5e-4 in price is ~2e-6 in yield


def test_hull_table_4_6_analytics_on_curve() -> None:
    """Through the curve: DF snapshot at 12% continuous -> Hull's price, yield and duration."""
    snap = _df_snapshot(dict.fromkeys(HULL_TIMES, 0.12))
    a = _analytics(_bond(), snap, "CONTINUOUS")
    b, mac, mod, conv = _closed_form(0.12)
    assert a["dirty_price"] == pytest.approx(94.213, abs=5e-4)
    assert a["macaulay_duration"] == pytest.approx(2.653, abs=5e-4)
    assert a["accrued"] == 0.0
    assert a["clean_price"] == a["dirty_price"]
    assert a["yield"] == pytest.approx(0.12, abs=1e-10)
    assert a["dirty_price"] == pytest.approx(b, rel=1e-12)
    assert a["macaulay_duration"] == pytest.approx(mac, rel=1e-10)
    assert a["modified_duration"] == pytest.approx(mod, rel=1e-10)
    assert a["convexity"] == pytest.approx(conv, rel=1e-10)
    assert _pv(_bond(), snap) == pytest.approx(1_000_000.0 / 100.0 * b, rel=1e-12)


def test_semiannual_yield_measures_match_closed_form() -> None:
    """Same bond, yield compounded semiannually: 12% continuous = 2(e^0.06 - 1) semiannual."""
    snap = _df_snapshot(dict.fromkeys(HULL_TIMES, 0.12))
    a = _analytics(_bond(), snap, "COMPOUNDED")
    y = 2.0 * (math.exp(0.06) - 1.0)
    b, mac, mod, conv = _closed_form(y, comp="COMPOUNDED")
    assert a["yield"] == pytest.approx(y, abs=1e-10)
    assert a["dirty_price"] == pytest.approx(b, rel=1e-12)
    assert a["macaulay_duration"] == pytest.approx(mac, rel=1e-10)
    assert a["modified_duration"] == pytest.approx(mod, rel=1e-10)
    assert a["convexity"] == pytest.approx(conv, rel=1e-10)


def test_flat_act365_curve_residual_is_the_day_count() -> None:
    """A flat 12% curve (flat_snapshot, ACT/365F on real dates) does not give Hull's 94.213.

    Its cashflows sit at 182/365, 365/365, 547/365, ... years (half-years of 181-184 days, and
    2028 is a leap year), not at 0.5, 1.0, ...; the price is the same closed form at those times.
    """
    snap = flat_snapshot(asof=HULL_ASOF, rates={"USD": 0.12})
    dates = [
        dt.date(2026, 6, 15),
        dt.date(2026, 12, 15),
        dt.date(2027, 6, 15),
        dt.date(2027, 12, 15),
        dt.date(2028, 6, 15),
        dt.date(2028, 12, 15),
    ]
    times = tuple((d - HULL_ASOF).days / 365.0 for d in dates)
    dirty = _analytics(_bond(), snap, "CONTINUOUS")["dirty_price"]
    assert dirty == pytest.approx(_closed_form(0.12, times)[0], rel=1e-12)
    assert 0.01 < 94.213 - dirty < 0.04  # ~0.023: the residual is the time measure, not a bug


# -- Hull Section 4.4: 2-year 6% bond on Table 4.2 zero rates -------------------------------------

HULL_ZEROS = {0.5: 0.050, 1.0: 0.058, 1.5: 0.064, 2.0: 0.068}


def test_hull_two_year_bond_price_yield_and_par_yield() -> None:
    snap = _df_snapshot(HULL_ZEROS)
    t = _bond(maturity_date=dt.date(2027, 12, 15), coupon=0.06)
    a = _analytics(t, snap, "CONTINUOUS")
    dfs = [math.exp(-z * s) for s, z in HULL_ZEROS.items()]
    assert a["dirty_price"] == pytest.approx(3 * sum(dfs) + 100 * dfs[-1], rel=1e-12)
    assert a["dirty_price"] == pytest.approx(98.39, abs=5e-3)  # printed to 2 decimals
    assert a["yield"] == pytest.approx(0.0676, abs=5e-5)  # 6.76%
    assert bonds.yield_from_price(t, 98.39, HULL_ASOF, "CONTINUOUS") == pytest.approx(
        0.0676, abs=5e-5
    )
    # Par yield (semiannual): c/2 * sum(d) + 100 d_2 = 100.
    par = 2.0 * (100.0 - 100.0 * dfs[-1]) / sum(dfs) / 100.0
    assert par == pytest.approx(0.0687, abs=5e-5)  # 6.87%
    at_par = _analytics(dataclasses.replace(t, coupon=par), snap, "COMPOUNDED")
    assert at_par["dirty_price"] == pytest.approx(100.0, rel=1e-12)
    assert at_par["yield"] == pytest.approx(par, abs=1e-10)  # par bond: yield = coupon
    assert _pv(dataclasses.replace(t, coupon=par), snap) == pytest.approx(1e6, rel=1e-12)


# -- a seasoned bond on a flat curve --------------------------------------------------------------

R_FLAT = 0.04
SEASONED = dict(
    issue_date=dt.date(2023, 3, 15),
    maturity_date=dt.date(2030, 3, 15),
    coupon=0.045,
    coupon_frequency="1Y",
    settlement_days=2,
    notional=5_000_000.0,
)
# Payments after ASOF (28 Nov 2025): 15 Mar 2026 is a Sunday -> Following: 16 Mar 2026;
# the others are business days (asserted). 30/360 accrual of every full year is exactly 1.
PAY_DATES = (
    dt.date(2026, 3, 16),
    dt.date(2027, 3, 15),
    dt.date(2028, 3, 15),
    dt.date(2029, 3, 15),
    dt.date(2030, 3, 15),
)
SETTLE = dt.date(2025, 12, 2)  # ASOF + 2 US business days


def _seasoned(**kw: object) -> FixedRateBond:
    return _bond(**{**SEASONED, **kw})


def test_seasoned_calendar_facts() -> None:
    cal = calendar("US-SOFR")
    assert not cal.isBusinessDay(ql_date(dt.date(2026, 3, 15)))
    assert all(cal.isBusinessDay(ql_date(d)) for d in PAY_DATES)
    assert cal.advance(ql_date(ASOF), 2, ql.Days) == ql_date(SETTLE)


def _seasoned_pv(notional: float, valued_at: dt.date) -> float:
    """sum c e^{-r t} of the cashflows after ``valued_at``, discounted to ``valued_at``."""
    cfs = [0.045 * notional] * 4 + [1.045 * notional]
    return sum(
        c * math.exp(-R_FLAT * (d - valued_at).days / 365.0)
        for c, d in zip(cfs, PAY_DATES, strict=True)
    )


def test_seasoned_pv_closed_form_and_side() -> None:
    snap = flat_snapshot(rates={"USD": R_FLAT})
    expected = _seasoned_pv(5_000_000.0, ASOF)
    assert _pv(_seasoned(), snap) == pytest.approx(expected, rel=1e-12)
    assert _pv(_seasoned(side="SELL"), snap) == pytest.approx(-expected, rel=1e-12)


def test_pv_is_face_over_100_times_dirty_price() -> None:
    """No cashflow between as-of and settlement: PV = face/100 * dirty * DF(as-of, settlement)."""
    snap = flat_snapshot(rates={"USD": R_FLAT})
    a = _analytics(_seasoned(), snap, "COMPOUNDED")
    df_settle = math.exp(-R_FLAT * (SETTLE - ASOF).days / 365.0)
    assert _pv(_seasoned(), snap) == pytest.approx(
        5e6 / 100 * a["dirty_price"] * df_settle, rel=1e-12
    )
    # The dirty price is the closed form valued at the settlement date, per 100 face.
    assert a["dirty_price"] == pytest.approx(_seasoned_pv(100.0, SETTLE), rel=1e-12)
    # Accrued: 30/360 from 15 Mar 2025 to 2 Dec 2025 = (9*30 - 13)/360 = 257/360 of 4.5.
    assert a["accrued"] == pytest.approx(4.5 * 257 / 360, rel=1e-12)
    assert a["clean_price"] == pytest.approx(a["dirty_price"] - a["accrued"], rel=1e-12)


def test_zspread_pv_on_demo_market(demo_snapshot: MarketSnapshot) -> None:
    """With an issuer: cashflows discounted on OIS * exp(-s t), s = CREDIT.<issuer>.ZSPREAD."""
    t = _seasoned(issuer="ACME_CORP")
    s = demo_snapshot["CREDIT.ACME_CORP.ZSPREAD"]
    cfs = [0.045 * 5e6] * 4 + [1.045 * 5e6]
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        m = build_market(demo_snapshot)
        ois = m.discount("USD")
        expected = sum(
            c * ois.discount(ql_date(d)) * math.exp(-s * (d - ASOF).days / 365.0)
            for c, d in zip(cfs, PAY_DATES, strict=True)
        )
        pv = bonds.reference_pv(t, m).pv
        a = bonds.analytics(t, m)
        df_settle = ois.discount(ql_date(SETTLE)) * math.exp(-s * (SETTLE - ASOF).days / 365.0)
        no_issuer = bonds.reference_pv(_seasoned(), m).pv
    assert pv == pytest.approx(expected, rel=1e-12)
    assert pv == pytest.approx(5e6 / 100 * a["dirty_price"] * df_settle, rel=1e-12)
    assert pv < no_issuer  # a positive spread lowers the value


@pytest.mark.parametrize("comp", ["COMPOUNDED", "CONTINUOUS", "SIMPLE"])
@pytest.mark.parametrize("clean", [True, False])
def test_price_yield_round_trip(comp: bonds.Compounding, clean: bool) -> None:
    t = _seasoned()
    for y in (-0.005, 0.01, 0.045, 0.09):
        p = bonds.price_from_yield(t, y, SETTLE, comp, clean)
        assert bonds.yield_from_price(t, p, SETTLE, comp, clean) == pytest.approx(y, abs=1e-10)
    dirty = bonds.price_from_yield(t, 0.05, SETTLE, comp, clean=False)
    assert dirty - bonds.price_from_yield(t, 0.05, SETTLE, comp) == pytest.approx(
        4.5 * 257 / 360, rel=1e-12
    )
    # Coupon = annual compounded yield on a coupon date -> par.
    if comp == "COMPOUNDED":
        assert bonds.price_from_yield(t, 0.045, dt.date(2027, 3, 15), comp) == pytest.approx(
            100.0, rel=1e-12
        )


def test_requirements() -> None:
    assert bonds.requirements(_bond()) == [("discount", "USD")]
    assert bonds.requirements(_bond(issuer="ACME_CORP")) == [
        ("discount", "USD"),
        ("credit", "ACME_CORP"),
    ]


def test_price_path_missing_credit_spread(demo_snapshot: MarketSnapshot) -> None:
    good = _seasoned(trade_id="OK", issuer="ACME_CORP")
    bad = _seasoned(trade_id="BAD", issuer="NOBODY")
    res = price([good, bad], demo_snapshot).by_id()
    assert res["OK"].ok
    assert res["OK"].pv > 0
    assert res["BAD"].error is not None
    assert res["BAD"].error.field == "market"
    assert "CREDIT.NOBODY.ZSPREAD" in res["BAD"].error.reason
