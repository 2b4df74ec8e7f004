"""FX forwards and FX options (Garman-Kohlhagen).

Second sources: the forward-pricing formula written out in numpy, forwards at the fair rate and
at the quoted outright (PV 0), Haug's and Hull's Garman-Kohlhagen examples, closed-form GK Greeks
(``textbook.bsm`` with q = the foreign rate), put-call parity against the forward, and the batch
behaviour of :func:`pricing.pricer.price`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import numpy as np
import pytest

from pricing import quantlib_ as qa
from pricing.curves import build_market
from pricing.market import MarketSnapshot, tenor_date
from pricing.pricer import price
from pricing.products import fx
from pricing.quantlib_ import ql_session
from pricing.trades import FxForward
from tests.factories import ASOF, flat_snapshot
from tests.pricing.products.textbook import bsm, fx_case, fx_option, reference


def forward(
    pair: str,
    strike: float,
    delivery: dt.date,
    *,
    notional: float = 1e6,
    side: str = "BUY",
    trade_id: str = "FXF-1",
) -> FxForward:
    fields: dict[str, Any] = {
        "trade_id": trade_id,
        "book": "FX-BOOK",
        "counterparty": "CPTY",
        "pair": pair,
        "notional": notional,
        "strike": strike,
        "delivery_date": delivery,
        "side": side,
    }
    return FxForward(**fields)


def test_requirements() -> None:
    expiry = ASOF + dt.timedelta(days=90)
    assert fx.requirements(forward("GBPUSD", 1.3, expiry)) == [
        ("fx", "GBPUSD"),
        ("fxcurves", "GBPUSD"),
    ]
    assert fx.requirements(fx_option("USDJPY", "PUT", 150.0, expiry)) == [
        ("fx", "USDJPY"),
        ("fxcurves", "USDJPY"),
        ("fxvol", "USDJPY"),
    ]


# -- forwards --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pair", "spot", "r_base", "r_quote", "strike"),
    [
        ("EURUSD", 1.16, 0.02, 0.04, 1.15),
        ("EURUSD", 1.16, 0.02, 0.04, 1.20),
        ("USDJPY", 156.2, 0.04, 0.005, 150.0),
        ("GBPUSD", 1.322, 0.038, 0.036, 1.33),
    ],
)
@pytest.mark.parametrize("side", ["BUY", "SELL"])
@pytest.mark.parametrize("days", [7, 365, 1827])
def test_forward_pv_formula(
    pair: str, spot: float, r_base: float, r_quote: float, strike: float, side: str, days: int
) -> None:
    """PV (quote ccy) = side * N * (S exp((r_q - r_b) T) - K) * exp(-r_q T) on flat curves."""
    notional = 2.5e6
    snap = flat_snapshot(rates={pair[:3]: r_base, pair[3:]: r_quote}, fx={pair: (spot, 0.1)})
    t = days / 365
    fwd = spot * np.exp((r_quote - r_base) * t)
    expected = (1 if side == "BUY" else -1) * notional * (fwd - strike) * np.exp(-r_quote * t)
    val = reference(
        fx,
        forward(pair, strike, ASOF + dt.timedelta(days=days), notional=notional, side=side),
        snap,
    )
    # Discount factors enter through QuantLib's ACT/365F flat curves: 1e-12 relative is the
    # floating-point floor, plus 1e-8 absolute for a PV that is a difference of large legs.
    assert val.pv == pytest.approx(expected, rel=1e-12, abs=1e-8)
    assert val.greeks == {}


def test_forward_at_the_fair_rate_is_worth_zero_flat() -> None:
    snap = flat_snapshot(rates={"EUR": 0.021, "USD": 0.039}, fx={"EURUSD": (1.16, 0.07)})
    delivery = ASOF + dt.timedelta(days=500)
    fair = 1.16 * math.exp((0.039 - 0.021) * 500 / 365)  # covered interest parity
    pv = reference(fx, forward("EURUSD", fair, delivery, notional=1e8), snap).pv
    assert pv == pytest.approx(0.0, abs=1e-6)  # 1e-14 of the notional
    assert reference(fx, forward("EURUSD", fair * 1.001, delivery, notional=1e8), snap).pv < -1e4


@pytest.mark.parametrize("tenor", ["1M", "6M", "1Y", "5Y"])
def test_forward_at_the_quoted_outright_is_worth_zero_demo(
    demo_snapshot: MarketSnapshot, tenor: str
) -> None:
    """On the demo market EURUSD forward points are quoted: a forward struck at the quoted
    outright (spot + points) for the pillar date is worth zero, and a forward struck 10 pips
    lower is worth N * 0.0010 * DF_USD(T) to the buyer (DF from the USD OIS curve)."""
    delivery = tenor_date(demo_snapshot.asof, tenor)
    outright = demo_snapshot["FX.EURUSD"] + demo_snapshot[f"FX.EURUSD.FWD.{tenor}"]
    notional = 5e7
    at = reference(fx, forward("EURUSD", outright, delivery, notional=notional), demo_snapshot)
    assert at.pv == pytest.approx(0.0, abs=1e-6 * notional * 1e-6)
    below = reference(
        fx, forward("EURUSD", outright - 0.0010, delivery, notional=notional), demo_snapshot
    )
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        df_usd = build_market(demo_snapshot).discount("USD").discount(qa.ql_date(delivery))
    assert below.pv == pytest.approx(notional * 0.0010 * df_usd, rel=1e-9)


def test_forward_between_pillars_uses_the_market_forward(demo_snapshot: MarketSnapshot) -> None:
    """Off the pillars the forward is QlMarket.fx_forward (interpolated implied base curve):
    PV = N (F - K) DF_quote for the buyer, the SELL side its negative."""
    delivery, strike, notional = dt.date(2026, 8, 14), 1.1700, 3e6
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        m = build_market(demo_snapshot)
        f = m.fx_forward("EURUSD", delivery)
        df_usd = m.discount("USD").discount(qa.ql_date(delivery))
    buy = reference(fx, forward("EURUSD", strike, delivery, notional=notional), demo_snapshot)
    sell = reference(
        fx, forward("EURUSD", strike, delivery, notional=notional, side="SELL"), demo_snapshot
    )
    assert buy.pv == pytest.approx(notional * (f - strike) * df_usd, rel=1e-12)
    assert sell.pv == pytest.approx(-buy.pv, rel=1e-15)


# -- options ---------------------------------------------------------------------------------


def test_haug_garman_kohlhagen_example() -> None:
    """E.G. Haug, "The Complete Guide to Option Pricing Formulas", McGraw-Hill, 1st ed. (1998),
    pp. 2-8, Garman-Kohlhagen currency option (as transcribed in QuantLib's
    test-suite/europeanoption.cpp): S = 1.56, K = 1.60, T = 0.5, domestic r = 6%, foreign
    rf = 8%, sigma = 12% -> call 0.0291. 4 decimals: tolerance 5e-5."""
    snap, expiry, _ = fx_case("EURUSD", 1.56, 0.08, 0.06, 0.12, 0.5)
    assert reference(fx, fx_option("EURUSD", "CALL", 1.60, expiry), snap).pv == pytest.approx(
        0.0291, abs=5e-5
    )


def test_hull_sterling_option_example() -> None:
    """Hull, OFOD 9th ed., ch. 17 (currency options), the implied-volatility example: a 4-month
    European call on sterling, S0 = K = 1.6000, r = 8% (USD), rf = 11% (GBP), price 4.3 cents,
    implied vol 14.1%. Valued at 14.1%, the price must be 0.043 within the book's precision:
    5e-4 for the price printed to 0.1 cent, plus vega (0.35) * 5e-4 = 1.8e-4 for the vol
    printed to 0.1%: 7e-4."""
    snap, expiry, _ = fx_case("GBPUSD", 1.6, 0.11, 0.08, 0.141, 4 / 12)
    pv = reference(fx, fx_option("GBPUSD", "CALL", 1.60, expiry), snap).pv
    assert pv == pytest.approx(0.043, abs=7e-4)


GREEKS = ("delta", "gamma", "vega", "theta", "rho", "dividend_rho")


@pytest.mark.parametrize(
    ("kind", "strike", "days", "side"),
    list(itertools.product(("CALL", "PUT"), (140.0, 156.2, 170.0), (30, 365), ("BUY", "SELL"))),
)
def test_option_greeks_match_garman_kohlhagen(
    kind: str, strike: float, days: int, side: str
) -> None:
    """USDJPY options: PV and Greeks (per JPY) for N USD, against closed-form GK with the USD
    rate as the foreign yield. ``rho`` is to the JPY (domestic) rate, ``dividend_rho`` to the USD
    (foreign) rate. 1e-9 relative: both sides evaluate the same closed forms."""
    spot, r_usd, r_jpy, vol, notional = 156.2, 0.04, 0.005, 0.104, 1e6
    snap = flat_snapshot(rates={"USD": r_usd, "JPY": r_jpy}, fx={"USDJPY": (spot, vol)})
    val = reference(
        fx,
        fx_option(
            "USDJPY", kind, strike, ASOF + dt.timedelta(days=days), notional=notional, side=side
        ),
        snap,
    )
    exact = bsm(kind, spot, strike, r_jpy, r_usd, vol, days / 365)
    scale = notional * (1 if side == "BUY" else -1)
    assert val.pv == pytest.approx(scale * exact["pv"], rel=1e-9)
    assert set(val.greeks) == set(GREEKS)
    for g in GREEKS:
        assert val.greeks[g] == pytest.approx(scale * exact[g], rel=1e-9, abs=1e-9 * notional), g


def _parity(
    snap: MarketSnapshot, pair: str, strike: float, expiry: dt.date, notional: float
) -> tuple[float, float]:
    call = reference(fx, fx_option(pair, "CALL", strike, expiry, notional=notional), snap).pv
    put = reference(fx, fx_option(pair, "PUT", strike, expiry, notional=notional), snap).pv
    with ql_session(snap.asof, snap.fixings):
        m = build_market(snap)
        f = m.fx_forward(pair, expiry)
        df = m.discount(pair[3:]).discount(qa.ql_date(expiry))
    return call - put, notional * df * (f - strike)


@pytest.mark.parametrize(("strike", "days"), [(1.10, 60), (1.16, 365), (1.25, 1000)])
def test_put_call_parity_flat(strike: float, days: int) -> None:
    snap = flat_snapshot(rates={"EUR": 0.02, "USD": 0.04}, fx={"EURUSD": (1.16, 0.08)})
    lhs, rhs = _parity(snap, "EURUSD", strike, ASOF + dt.timedelta(days=days), 1e6)
    assert lhs == pytest.approx(rhs, rel=1e-11, abs=1e-6)
    t = days / 365  # and the forward is covered interest parity
    assert rhs == pytest.approx(
        1e6 * (1.16 * math.exp(-0.02 * t) - strike * math.exp(-0.04 * t)), rel=1e-11, abs=1e-6
    )


@pytest.mark.parametrize(
    ("pair", "strike", "expiry"),
    [
        ("EURUSD", 1.15, dt.date(2026, 2, 27)),
        ("EURUSD", 1.20, dt.date(2027, 5, 28)),  # between forward-point pillars
        ("GBPUSD", 1.30, dt.date(2026, 11, 30)),
        ("USDJPY", 150.0, dt.date(2026, 6, 1)),
    ],
)
def test_put_call_parity_demo(
    demo_snapshot: MarketSnapshot, pair: str, strike: float, expiry: dt.date
) -> None:
    """Call - put = N * DF_quote(T) * (F(T) - K) on the demo market: EURUSD with the base
    curve implied by forward points, GBPUSD and USDJPY on the two OIS curves, vols from ATM
    term structures."""
    lhs, rhs = _parity(demo_snapshot, pair, strike, expiry, 1e6)
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-6)


# -- through the pricer ----------------------------------------------------------------------


def test_price_batch_with_missing_vol(demo_snapshot: MarketSnapshot) -> None:
    """A EURGBP option has spots and curves but no vols (neither EURGBP nor GBPEUR quoted): it
    alone fails, naming the missing quotes; the forward and the other options are valued, and
    PVs are converted to USD at spot."""
    expiry = dt.date(2026, 5, 29)
    trades = [
        forward("EURUSD", 1.17, expiry, notional=1e7, trade_id="FWD"),
        fx_option("EURGBP", "CALL", 0.88, expiry, notional=1e6, trade_id="NO-VOL"),
        fx_option("USDJPY", "PUT", 150.0, expiry, notional=2e6, side="SELL", trade_id="JPY"),
        fx_option("EURUSD", "CALL", 1.18, expiry, notional=1e6, trade_id="EUR"),
    ]
    res = price(trades, demo_snapshot).by_id()
    failed = res["NO-VOL"].error
    assert failed is not None
    assert failed.field == "market"
    assert "VOL.FX.EURGBP" in failed.reason
    assert math.isnan(res["NO-VOL"].pv)
    for tid in ("FWD", "JPY", "EUR"):
        assert res[tid].ok, tid
        assert res[tid].pv == pytest.approx(
            reference(fx, next(t for t in trades if t.trade_id == tid), demo_snapshot).pv, rel=1e-15
        )
    assert res["JPY"].currency == "JPY"
    assert res["JPY"].pv < 0.0  # a sold option is a liability
    assert res["JPY"].pv_reporting == pytest.approx(
        res["JPY"].pv / demo_snapshot["FX.USDJPY"], rel=1e-14
    )
    assert res["EUR"].greeks["delta"] > 0.0
    assert res["FWD"].currency == "USD"
