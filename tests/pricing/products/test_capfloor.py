"""Cap/floor reference pricer: caplet closed forms, cap - floor = swap, strike monotonicity,
zero-vol intrinsic value, the flat-vol lookup, and the full ``price()`` path.

Closed forms written here (caplet on a simple rate L fixing at T, accrual tau, paid at t_p):

* Bachelier: ``N tau P(t_p) [(F-K) Phi(d) + sigma sqrt(T) phi(d)]``, ``d = (F-K)/(sigma sqrt T)``;
  vega ``N tau P(t_p) sqrt(T) phi(d)``.
* Shifted Black (shift s): ``N tau P(t_p) [(F+s) Phi(d1) - (K+s) Phi(d2)]``,
  ``d1,2 = (ln((F+s)/(K+s)) +- sigma^2 T / 2) / (sigma sqrt T)``; vega
  ``N tau P(t_p) (F+s) sqrt(T) phi(d1)``.

Floors by put-call symmetry of the same formulas. ``F`` is the index forward over the index's
own period (value date -> value date + tenor), ``T`` ACT/365F from as-of to the fixing date.
Period dates come from the index conventions (TARGET, modified following, 6M, 2 fixing days),
computed here with QuantLib's calendar arithmetic only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
from collections.abc import Callable

import pytest
import QuantLib as ql
from scipy.stats import norm

from pricing.curves import build_market
from pricing.market import MarketSnapshot, tenor_date
from pricing.pricer import price
from pricing.products import capfloor
from pricing.products.base import Valuation
from pricing.quantlib_ import ql_date, ql_session
from pricing.trades import CapFloor
from tests.factories import ASOF, flat_snapshot

R_DISC, R_PROJ = 0.02, 0.03
N = 1_000_000.0
TARGET = ql.TARGET()


def _cap(kind: str = "CAP", strike: float = 0.03, **kw: object) -> CapFloor:
    terms: dict[str, object] = {
        "trade_id": "CF1",
        "book": "B",
        "counterparty": "C",
        "currency": "EUR",
        "index": "EUR-EURIBOR-6M",
        "notional": N,
        "start_date": dt.date(2026, 6, 3),
        "maturity_date": dt.date(2026, 12, 3),
        "strike": strike,
        "option_type": kind,
    }
    terms.update(kw)
    return CapFloor(**terms)  # type: ignore[arg-type]


def _snap(vol: float, shift: float | None = None) -> MarketSnapshot:
    return flat_snapshot(
        rates={"EUR": R_DISC},
        ibor={"EUR-EURIBOR-6M": R_PROJ},
        cap_vol={"EUR": vol},
        vol_shift=shift,
    )


def _value(trade: CapFloor, snap: MarketSnapshot) -> Valuation:
    with ql_session(snap.asof, snap.fixings):
        return capfloor.reference_pv(trade, build_market(snap))


def _flat_df(rate: float) -> Callable[[dt.date], float]:
    return lambda d: math.exp(-rate * (d - ASOF).days / 365.0)


@dataclasses.dataclass(frozen=True)
class Period:
    fixing: dt.date
    tau: float  # accrual, ACT/360
    pay: dt.date
    value: dt.date  # index period
    index_end: dt.date


def _py(d: ql.Date) -> dt.date:
    return dt.date(d.year(), d.month(), d.dayOfMonth())


def _periods(start: dt.date, end: dt.date) -> list[Period]:
    sched = ql.Schedule(
        ql_date(start),
        ql_date(end),
        ql.Period(6, ql.Months),
        TARGET,
        ql.ModifiedFollowing,
        ql.ModifiedFollowing,
        ql.DateGeneration.Backward,
        True,
    )
    out = []
    for a, b in itertools.pairwise(sched):
        fixing = TARGET.advance(a, -2, ql.Days)
        value = TARGET.advance(fixing, 2, ql.Days)
        index_end = TARGET.advance(value, ql.Period(6, ql.Months), ql.ModifiedFollowing, True)
        out.append(Period(_py(fixing), (b - a) / 360.0, _py(b), _py(value), _py(index_end)))
    return out


def _forward(p: Period, proj: Callable[[dt.date], float]) -> float:
    return (proj(p.value) / proj(p.index_end) - 1.0) / ((p.index_end - p.value).days / 360.0)


def _swap_pv(
    periods: list[Period],
    strike: float,
    proj: Callable[[dt.date], float],
    disc: Callable[[dt.date], float],
    fixings: dict[dt.date, float] | None = None,
) -> float:
    """Receive the index, pay ``strike``, over the caplet periods still to be paid."""
    total = 0.0
    for p in periods:
        if p.pay <= ASOF:
            continue
        f = (fixings or {}).get(p.fixing) if p.fixing <= ASOF else _forward(p, proj)
        assert f is not None
        total += N * p.tau * (f - strike) * disc(p.pay)
    return total


ONE = _periods(dt.date(2026, 6, 3), dt.date(2026, 12, 3))


def test_one_period_dates() -> None:
    (p,) = ONE
    assert (p.fixing, p.value, p.index_end, p.pay) == (
        dt.date(2026, 6, 1),
        dt.date(2026, 6, 3),
        dt.date(2026, 12, 3),
        dt.date(2026, 12, 3),
    )
    assert p.tau == 183 / 360


@pytest.mark.parametrize("strike", [0.0, 0.02, 0.0298, 0.035, 0.05])
def test_bachelier_caplet_and_floorlet(strike: float) -> None:
    vol = 0.0085  # 85 bp normal
    (p,) = ONE
    f = _forward(p, _flat_df(R_PROJ))
    t = (p.fixing - ASOF).days / 365.0
    sd = vol * math.sqrt(t)
    d = (f - strike) / sd
    annuity = N * p.tau * _flat_df(R_DISC)(p.pay)
    cap = annuity * ((f - strike) * norm.cdf(d) + sd * norm.pdf(d))
    floor = annuity * ((strike - f) * norm.cdf(-d) + sd * norm.pdf(d))
    vega = annuity * math.sqrt(t) * norm.pdf(d)
    snap = _snap(vol)
    vc, vf = _value(_cap("CAP", strike), snap), _value(_cap("FLOOR", strike), snap)
    assert vc.pv == pytest.approx(cap, rel=1e-10, abs=1e-8)
    assert vf.pv == pytest.approx(floor, rel=1e-10, abs=1e-8)
    assert vc.greeks["vega"] == pytest.approx(vega, rel=1e-10)
    assert vf.greeks["vega"] == pytest.approx(vega, rel=1e-10)


@pytest.mark.parametrize("shift", [0.0, 0.01])
@pytest.mark.parametrize("strike", [0.01, 0.0298, 0.045])
def test_shifted_black_caplet_and_floorlet(strike: float, shift: float) -> None:
    vol = 0.25
    (p,) = ONE
    f = _forward(p, _flat_df(R_PROJ))
    t = (p.fixing - ASOF).days / 365.0
    sd = vol * math.sqrt(t)
    d1 = (math.log((f + shift) / (strike + shift)) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    annuity = N * p.tau * _flat_df(R_DISC)(p.pay)
    cap = annuity * ((f + shift) * norm.cdf(d1) - (strike + shift) * norm.cdf(d2))
    floor = annuity * ((strike + shift) * norm.cdf(-d2) - (f + shift) * norm.cdf(-d1))
    vega = annuity * (f + shift) * math.sqrt(t) * norm.pdf(d1)
    snap = _snap(vol, shift)
    vc, vf = _value(_cap("CAP", strike), snap), _value(_cap("FLOOR", strike), snap)
    assert vc.pv == pytest.approx(cap, rel=1e-10)
    assert vf.pv == pytest.approx(floor, rel=1e-10)
    assert vc.greeks["vega"] == pytest.approx(vega, rel=1e-10)


def test_side_flips_pv_and_vega() -> None:
    snap = _snap(0.0085)
    buy, sell = _value(_cap(), snap), _value(_cap(side="SELL"), snap)
    assert sell.pv == -buy.pv
    assert sell.greeks["vega"] == -buy.greeks["vega"]


LONG_START, LONG_END = dt.date(2026, 6, 3), dt.date(2029, 6, 3)


@pytest.mark.parametrize(("vol", "shift"), [(0.0085, None), (0.30, 0.0), (0.20, 0.02)])
@pytest.mark.parametrize("strike", [0.005, 0.03, 0.06])
def test_cap_minus_floor_is_swap_flat(vol: float, shift: float | None, strike: float) -> None:
    periods = _periods(LONG_START, LONG_END)
    assert len(periods) == 6
    snap = _snap(vol, shift)
    kw = {"start_date": LONG_START, "maturity_date": LONG_END}
    cap = _value(_cap("CAP", strike, **kw), snap).pv
    floor = _value(_cap("FLOOR", strike, **kw), snap).pv
    swap = _swap_pv(periods, strike, _flat_df(R_PROJ), _flat_df(R_DISC))
    assert cap - floor == pytest.approx(swap, rel=1e-10, abs=1e-6)


@pytest.mark.parametrize("start", [dt.date(2026, 6, 3), dt.date(2025, 9, 3)])
def test_cap_minus_floor_is_swap_demo(demo_snapshot: MarketSnapshot, start: dt.date) -> None:
    """Bootstrapped curves and normal cap vols; the seasoned cap uses the 1 Sep 2025 fixing."""
    end = start.replace(year=start.year + 2)
    periods = _periods(start, end)
    kw = {"start_date": start, "maturity_date": end}
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        m = build_market(demo_snapshot)
        proj, disc = m.curve("EUR-EURIBOR-6M"), m.discount("EUR")
        swap = _swap_pv(
            periods,
            0.021,
            lambda d: proj.discount(ql_date(d)),
            lambda d: disc.discount(ql_date(d)),
            dict(demo_snapshot.fixings["EUR-EURIBOR-6M"]),
        )
        cap = capfloor.reference_pv(_cap("CAP", 0.021, **kw), m).pv
        floor = capfloor.reference_pv(_cap("FLOOR", 0.021, **kw), m).pv
    if start < ASOF:
        assert periods[0].fixing == dt.date(2025, 9, 1)
        assert demo_snapshot.fixings["EUR-EURIBOR-6M"][periods[0].fixing] == 0.0207
    assert cap - floor == pytest.approx(swap, rel=1e-10, abs=1e-6)


@pytest.mark.parametrize(("vol", "shift"), [(0.0085, None), (0.25, 0.01)])
def test_monotone_in_strike(vol: float, shift: float | None) -> None:
    snap = _snap(vol, shift)
    kw = {"start_date": LONG_START, "maturity_date": LONG_END}
    strikes = [0.0, 0.01, 0.02, 0.03, 0.04, 0.06]
    caps = [_value(_cap("CAP", k, **kw), snap).pv for k in strikes]
    floors = [_value(_cap("FLOOR", k, **kw), snap).pv for k in strikes]
    assert all(a > b for a, b in itertools.pairwise(caps))
    assert all(a < b for a, b in itertools.pairwise(floors))
    assert min(caps + floors) >= 0.0


@pytest.mark.parametrize("shift", [None, 0.01])
@pytest.mark.parametrize("strike", [0.01, 0.025, 0.04])
def test_zero_vol_is_intrinsic(shift: float | None, strike: float) -> None:
    """Vol quotes must be positive; at 1e-12 the time value is below 1e-6 on 1e6 notional."""
    periods = _periods(LONG_START, LONG_END)
    snap = _snap(1e-12, shift)
    kw = {"start_date": LONG_START, "maturity_date": LONG_END}
    proj, disc = _flat_df(R_PROJ), _flat_df(R_DISC)
    cap_iv = sum(N * p.tau * max(_forward(p, proj) - strike, 0.0) * disc(p.pay) for p in periods)
    floor_iv = sum(N * p.tau * max(strike - _forward(p, proj), 0.0) * disc(p.pay) for p in periods)
    assert _value(_cap("CAP", strike, **kw), snap).pv == pytest.approx(cap_iv, abs=1e-6)
    assert _value(_cap("FLOOR", strike, **kw), snap).pv == pytest.approx(floor_iv, abs=1e-6)


def test_flat_vol_is_read_at_cap_maturity(demo_snapshot: MarketSnapshot) -> None:
    """Demo cap vols by maturity: the cap uses the vol interpolated linearly in ACT/365F time."""
    mat = dt.date(2029, 3, 15)  # between the 3Y and 5Y pillars
    t = (mat - ASOF).days / 365.0
    t3 = (tenor_date(ASOF, "3Y") - ASOF).days / 365.0
    t5 = (tenor_date(ASOF, "5Y") - ASOF).days / 365.0
    v3, v5 = demo_snapshot["VOL.CAP.EUR.3Y"], demo_snapshot["VOL.CAP.EUR.5Y"]
    vol = v3 + (v5 - v3) * (t - t3) / (t5 - t3)
    quotes = {k: v for k, v in demo_snapshot.quotes.items() if not k.startswith("VOL.CAP.EUR.")}
    flat = MarketSnapshot(ASOF, {**quotes, "VOL.CAP.EUR.FLAT": vol}, demo_snapshot.fixings)
    trade = _cap("CAP", 0.022, start_date=dt.date(2026, 3, 3), maturity_date=mat)
    assert _value(trade, demo_snapshot).pv == pytest.approx(_value(trade, flat).pv, rel=1e-12)


def test_requirements() -> None:
    assert capfloor.requirements(_cap()) == [
        ("discount", "EUR"),
        ("curve", "EUR-EURIBOR-6M"),
        ("capvol", "EUR"),
    ]


def test_price_path_missing_vol() -> None:
    """A USD cap without USD cap vols fails, naming them; the EUR cap in the call is valued."""
    snap = flat_snapshot(
        rates={"EUR": R_DISC, "USD": 0.04},
        ibor={"EUR-EURIBOR-6M": R_PROJ, "USD-TSOFR-3M": 0.041},
        cap_vol={"EUR": 0.0085},
        fx={"EURUSD": (1.16, 0.07)},
    )
    usd = _cap(trade_id="USDCAP", currency="USD", index="USD-TSOFR-3M")
    res = price([_cap(), usd], snap, reporting_currency="EUR").by_id()
    assert res["CF1"].ok
    assert res["CF1"].pv == pytest.approx(_value(_cap(), _snap(0.0085)).pv, rel=1e-12)
    assert "vega" in res["CF1"].greeks
    err = res["USDCAP"].error
    assert err is not None
    assert err.field == "market"
    assert "VOL.CAP.USD" in err.reason
