"""Swaption reference pricer: Hull's Black example, Bachelier/Black closed forms on a flat
curve, payer - receiver = forward swap, ATM symmetry, the vol shift, and the ``price()`` path.

Closed forms written here (physical settlement, annuity ``A = N sum tau_i P(t_i)`` over the
fixed leg, forward swap rate ``F`` = float-leg PV / A, expiry time ``T`` ACT/365F):

* Bachelier payer ``A [(F-K) Phi(d) + sigma sqrt(T) phi(d)]``, ``d = (F-K)/(sigma sqrt T)``;
  receiver ``A [(K-F) Phi(-d) + sigma sqrt(T) phi(d)]``; vega ``A sqrt(T) phi(d)``.
* Shifted Black payer ``A [(F+s) Phi(d1) - (K+s) Phi(d2)]``, receiver
  ``A [(K+s) Phi(-d2) - (F+s) Phi(-d1)]``; vega ``A (F+s) sqrt(T) phi(d1)``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math

import pytest
import QuantLib as ql
from scipy.stats import norm

from pricing.curves import build_market
from pricing.market import MarketSnapshot
from pricing.pricer import price
from pricing.products import swaps, swaption
from pricing.products.base import Valuation
from pricing.quantlib_ import calendar, ql_date, ql_session
from pricing.trades import InterestRateSwap, OvernightIndexSwap, Swaption
from tests.factories import ASOF, flat_snapshot

R_DISC, R_PROJ = 0.02, 0.03
N = 10_000_000.0
EXPIRY = dt.date(2026, 11, 27)  # Friday; the EUR swap starts 2 TARGET days later, 1 Dec 2026
TARGET = ql.TARGET()


def _swpt(kind: str = "PAYER", strike: float = 0.03, **kw: object) -> Swaption:
    terms: dict[str, object] = {
        "trade_id": "SW1",
        "book": "B",
        "counterparty": "C",
        "currency": "EUR",
        "index": "EUR-EURIBOR-6M",
        "notional": N,
        "expiry_date": EXPIRY,
        "swap_tenor": "5Y",
        "strike": strike,
        "option_type": kind,
    }
    terms.update(kw)
    return Swaption(**terms)  # type: ignore[arg-type]


def _value(trade: Swaption, snap: MarketSnapshot) -> Valuation:
    with ql_session(snap.asof, snap.fixings):
        return swaption.reference_pv(trade, build_market(snap))


def _snap(vol: float, shift: float | None = None) -> MarketSnapshot:
    return flat_snapshot(
        rates={"EUR": R_DISC},
        ibor={"EUR-EURIBOR-6M": R_PROJ},
        swaption_vol={"EUR": vol},
        vol_shift=shift,
    )


def _py(d: ql.Date) -> dt.date:
    return dt.date(d.year(), d.month(), d.dayOfMonth())


def _df(rate: float, d: dt.date) -> float:
    return math.exp(-rate * (d - ASOF).days / 365.0)


def _thirty360(a: dt.date, b: dt.date) -> float:
    """30/360 bond basis (ISDA 2006 4.16(f)) year fraction."""
    d1 = min(a.day, 30)
    d2 = 30 if (b.day == 31 and d1 >= 30) else b.day
    return (360 * (b.year - a.year) + 30 * (b.month - a.month) + (d2 - d1)) / 360.0


def _dates(start: dt.date, end: dt.date, months: int) -> list[dt.date]:
    sched = ql.Schedule(
        ql_date(start),
        ql_date(end),
        ql.Period(months, ql.Months),
        TARGET,
        ql.ModifiedFollowing,
        ql.ModifiedFollowing,
        ql.DateGeneration.Backward,
        False,
    )
    return [_py(d) for d in sched]


def _annuity_and_forward(start: dt.date, end: dt.date) -> tuple[float, float]:
    """EUR-EURIBOR-6M standard swap on the flat curves: fixed 1Y 30/360, float 6M ACT/360."""
    fixed = _dates(start, end, 12)
    annuity = N * sum(_thirty360(a, b) * _df(R_DISC, b) for a, b in itertools.pairwise(fixed))
    flt = _dates(start, end, 6)
    float_pv = 0.0
    for a, b in itertools.pairwise(flt):
        fixing = TARGET.advance(ql_date(a), -2, ql.Days)
        v = TARGET.advance(fixing, 2, ql.Days)
        m = TARGET.advance(v, ql.Period(6, ql.Months), ql.ModifiedFollowing, True)
        vd, md = _py(v), _py(m)
        fwd = (_df(R_PROJ, vd) / _df(R_PROJ, md) - 1.0) / ((md - vd).days / 360.0)
        float_pv += N * (b - a).days / 360.0 * fwd * _df(R_DISC, b)
    return annuity, float_pv / annuity


START, END = dt.date(2026, 12, 1), dt.date(2031, 12, 1)
T_EXPIRY = (EXPIRY - ASOF).days / 365.0


def test_underlying_swap_terms() -> None:
    assert TARGET.advance(ql_date(EXPIRY), 2, ql.Days) == ql_date(START)
    sw = swaption.underlying_swap(_swpt(strike=0.027))
    assert isinstance(sw, InterestRateSwap)
    assert (sw.start_date, sw.maturity_date, sw.fixed_rate, sw.fixed_leg, sw.notional) == (
        START,
        END,
        0.027,
        "PAY",
        N,
    )
    rec = swaption.underlying_swap(_swpt("RECEIVER", index="EUR-ESTR"))
    assert isinstance(rec, OvernightIndexSwap)
    assert rec.fixed_leg == "RECEIVE"


@pytest.mark.parametrize("strike", [0.01, 0.028, 0.045])
def test_bachelier_closed_form(strike: float) -> None:
    vol = 0.0080
    a, f = _annuity_and_forward(START, END)
    sd = vol * math.sqrt(T_EXPIRY)
    d = (f - strike) / sd
    payer = a * ((f - strike) * norm.cdf(d) + sd * norm.pdf(d))
    receiver = a * ((strike - f) * norm.cdf(-d) + sd * norm.pdf(d))
    snap = _snap(vol)
    vp, vr = _value(_swpt("PAYER", strike), snap), _value(_swpt("RECEIVER", strike), snap)
    assert vp.pv == pytest.approx(payer, rel=1e-9)
    assert vr.pv == pytest.approx(receiver, rel=1e-9)
    assert vp.greeks["vega"] == pytest.approx(a * math.sqrt(T_EXPIRY) * norm.pdf(d), rel=1e-9)


@pytest.mark.parametrize("shift", [0.0, 0.01])
@pytest.mark.parametrize("strike", [0.015, 0.028, 0.045])
def test_shifted_black_closed_form(strike: float, shift: float) -> None:
    """The displacement lives in the vol structure; QuantLib's Black engine must apply it."""
    vol = 0.22
    a, f = _annuity_and_forward(START, END)
    sd = vol * math.sqrt(T_EXPIRY)
    d1 = (math.log((f + shift) / (strike + shift)) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    payer = a * ((f + shift) * norm.cdf(d1) - (strike + shift) * norm.cdf(d2))
    receiver = a * ((strike + shift) * norm.cdf(-d2) - (f + shift) * norm.cdf(-d1))
    snap = _snap(vol, shift)
    vp, vr = _value(_swpt("PAYER", strike), snap), _value(_swpt("RECEIVER", strike), snap)
    assert vp.pv == pytest.approx(payer, rel=1e-9)
    assert vr.pv == pytest.approx(receiver, rel=1e-9)
    assert vp.greeks["vega"] == pytest.approx(
        a * (f + shift) * math.sqrt(T_EXPIRY) * norm.pdf(d1), rel=1e-9
    )


def test_shift_changes_the_price() -> None:
    """Same Black vol, shift 0 vs 1%: the prices must differ (the shift is not ignored)."""
    unshifted = _value(_swpt(strike=0.028), _snap(0.22, 0.0)).pv
    shifted = _value(_swpt(strike=0.028), _snap(0.22, 0.01)).pv
    assert shifted > 1.2 * unshifted  # more absolute vol: 0.22 * (F + 1%) vs 0.22 * F


def test_side_flips_pv_and_vega() -> None:
    snap = _snap(0.0080)
    buy, sell = _value(_swpt(), snap), _value(_swpt(side="SELL"), snap)
    assert sell.pv == -buy.pv
    assert sell.greeks["vega"] == -buy.greeks["vega"]


def _forward_swap(
    index: str, currency: str, strike: float, expiry: dt.date = EXPIRY, tenor_years: int = 5
) -> InterestRateSwap | OvernightIndexSwap:
    """The forward payer swap, written from the trade's definition (not from the pricer)."""
    cal = calendar("TARGET" if currency == "EUR" else "US-SOFR")
    start = _py(cal.advance(ql_date(expiry), 2, ql.Days))
    end = start.replace(year=start.year + tenor_years)
    cls = OvernightIndexSwap if index in ("EUR-ESTR", "USD-SOFR") else InterestRateSwap
    return cls(
        trade_id="FWD",
        book="B",
        counterparty="C",
        currency=currency,
        index=index,
        notional=N,
        start_date=start,
        maturity_date=end,
        fixed_rate=strike,
        fixed_leg="PAY",
    )


@pytest.mark.parametrize(
    ("index", "ccy"),
    [("EUR-EURIBOR-6M", "EUR"), ("EUR-ESTR", "EUR"), ("USD-SOFR", "USD"), ("USD-TSOFR-3M", "USD")],
)
@pytest.mark.parametrize("strike", [0.02, 0.035])
def test_payer_minus_receiver_is_forward_swap_demo(
    demo_snapshot: MarketSnapshot, index: str, ccy: str, strike: float
) -> None:
    kw = {"index": index, "currency": ccy}
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        m = build_market(demo_snapshot)
        payer = swaption.reference_pv(_swpt("PAYER", strike, **kw), m).pv
        receiver = swaption.reference_pv(_swpt("RECEIVER", strike, **kw), m).pv
        fwd = swaps.reference_pv(_forward_swap(index, ccy, strike), m).pv
    assert payer - receiver == pytest.approx(fwd, rel=1e-9, abs=1e-4)


@pytest.mark.parametrize(("vol", "shift"), [(0.0080, None), (0.22, 0.0), (0.18, 0.015)])
def test_payer_minus_receiver_is_forward_swap_flat(vol: float, shift: float | None) -> None:
    snap = _snap(vol, shift)
    payer = _value(_swpt("PAYER", 0.026), snap).pv
    receiver = _value(_swpt("RECEIVER", 0.026), snap).pv
    a, f = _annuity_and_forward(START, END)
    assert payer - receiver == pytest.approx(a * (f - 0.026), rel=1e-9)


@pytest.mark.parametrize(("index", "ccy"), [("EUR-EURIBOR-6M", "EUR"), ("USD-SOFR", "USD")])
def test_atm_payer_equals_atm_receiver(demo_snapshot: MarketSnapshot, index: str, ccy: str) -> None:
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        m = build_market(demo_snapshot)
        atm = swaps.build_swap(_forward_swap(index, ccy, 0.03), m).fairRate()
        kw = {"index": index, "currency": ccy}
        payer = swaption.reference_pv(_swpt("PAYER", atm, **kw), m).pv
        receiver = swaption.reference_pv(_swpt("RECEIVER", atm, **kw), m).pv
    assert payer > 0
    assert payer == pytest.approx(receiver, rel=1e-9)


# -- Hull's Black swaption example -----------------------------------------------------------------
#
# J. C. Hull, Options, Futures, and Other Derivatives, 9th ed. (Pearson, 2015), Section 29.3
# "European swap options", worked example (Example 29.5): LIBOR curve flat at 6% continuous;
# right to pay 6.2% in a 3-year swap starting in 5 years, semiannual payments, forward swap
# rate vol 20%, principal $100 million. Printed: A = 2.0035, s0 = 6.09% (6% continuous as
# semiannual), d1 = 0.1836, d2 = -0.2636, value $2.07 million.
#
# Mapping to a snapshot: USD-TSOFR-3M (fixed leg semiannual 30/360, so every fixed accrual is
# exactly 0.5 on the 16th of the month). As-of 16 Jun 2026; the swap runs 16 Jun 2031 ->
# 16 Jun 2034, the expiry is 2 US business days before, 12 Jun 2031. Both curves (SOFR
# discounting and TSOFR3M projection) are quoted as discount factors exp(-0.06 t) at
# as-of + t for t = 5, 5.25, ..., 8 years, i.e. at every fixed and floating payment date
# (all business days, asserted), so the annuity is Hull's exactly and the 3M floating leg
# telescopes to P(5) - P(8). The vol is scaled so the total variance is Hull's 0.2^2 * 5:
# QuantLib's expiry time is ACT/365F to 12 Jun 2031 (1822/365 years), not 5.

HULL_ASOF = dt.date(2026, 6, 16)
HULL_EXPIRY = dt.date(2031, 6, 12)


def _hull_black(a: float, f: float, k: float, vol: float, t: float) -> tuple[float, float, float]:
    d1 = (math.log(f / k) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    return a * (f * norm.cdf(d1) - k * norm.cdf(d2)), d1, d2


def test_hull_example_closed_form_matches_book() -> None:
    a = 0.5 * sum(math.exp(-0.06 * (5.0 + 0.5 * i)) for i in range(1, 7))
    s0 = 2.0 * (math.exp(0.03) - 1.0)
    value, d1, d2 = _hull_black(a, s0, 0.062, 0.20, 5.0)
    # Printed as 2.0035 although the sum is 2.003558: the book truncates this one to 4 decimals.
    assert 2.0035 <= a < 2.0036
    assert s0 == pytest.approx(0.0609, abs=5e-5)
    # Hull computes d1, d2 with s0 rounded to 0.0609; with the unrounded 0.060909 they move by
    # ~3e-4, hence the wider tolerance on the unrounded ones.
    assert _hull_black(a, 0.0609, 0.062, 0.20, 5.0)[1] == pytest.approx(0.1836, abs=5e-5)
    assert _hull_black(a, 0.0609, 0.062, 0.20, 5.0)[2] == pytest.approx(-0.2636, abs=5e-5)
    assert d1 == pytest.approx(0.1836, abs=5e-4)
    assert d2 == pytest.approx(-0.2636, abs=5e-4)
    assert 100 * value == pytest.approx(2.07, abs=5e-3)  # $ million, printed to 2 decimals


def test_hull_example_through_quantlib() -> None:
    cal = calendar("US-SOFR")
    months = range(60, 97, 3)
    assert all(cal.isBusinessDay(ql_date(HULL_ASOF) + ql.Period(k, ql.Months)) for k in months)
    assert cal.advance(ql_date(HULL_EXPIRY), 2, ql.Days) == ql_date(dt.date(2031, 6, 16))
    dfs = {
        f"IR.USD.{curve}.DF.{k}M": math.exp(-0.06 * k / 12.0)
        for curve in ("SOFR", "TSOFR3M")
        for k in months
    }
    t_ql = (HULL_EXPIRY - HULL_ASOF).days / 365.0
    assert (HULL_EXPIRY - HULL_ASOF).days == 1822
    snap = flat_snapshot(
        asof=HULL_ASOF, swaption_vol={"USD": 0.20 * math.sqrt(5.0 / t_ql)}, vol_shift=0.0, extra=dfs
    )
    trade = _swpt(
        currency="USD",
        index="USD-TSOFR-3M",
        notional=100e6,
        strike=0.062,
        expiry_date=HULL_EXPIRY,
        swap_tenor="3Y",
    )
    pv = _value(trade, snap).pv
    a = 0.5 * sum(math.exp(-0.06 * (5.0 + 0.5 * i)) for i in range(1, 7))
    exact, _, _ = _hull_black(a, 2.0 * (math.exp(0.03) - 1.0), 0.062, 0.20, 5.0)
    assert pv / 1e6 == pytest.approx(2.07, abs=5e-3)  # the book's printed value
    assert pv == pytest.approx(100e6 * exact, rel=1e-9)  # the book's formula, unrounded


def test_requirements() -> None:
    assert swaption.requirements(_swpt()) == [
        ("discount", "EUR"),
        ("curve", "EUR-EURIBOR-6M"),
        ("swptvol", "EUR"),
    ]


def test_price_path_missing_vol() -> None:
    """A USD swaption without USD swaption vols fails, naming them; the EUR one is valued."""
    snap = flat_snapshot(
        rates={"EUR": R_DISC, "USD": 0.04},
        ibor={"EUR-EURIBOR-6M": R_PROJ},
        swaption_vol={"EUR": 0.0080},
        fx={"EURUSD": (1.16, 0.07)},
    )
    usd = dataclasses.replace(_swpt(trade_id="USDSW"), currency="USD", index="USD-SOFR")
    res = price([_swpt(), usd], snap, reporting_currency="EUR").by_id()
    assert res["SW1"].ok
    assert res["SW1"].pv == pytest.approx(_value(_swpt(), _snap(0.0080)).pv, rel=1e-12)
    assert "vega" in res["SW1"].greeks
    err = res["USDSW"].error
    assert err is not None
    assert err.field == "market"
    assert "VOL.SWPT.USD" in err.reason
