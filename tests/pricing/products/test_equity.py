"""European equity options (Black-Scholes-Merton, QuantLib AnalyticEuropeanEngine).

Second sources: Haug's published values and Greeks, Hull's worked examples, closed-form BSM
Greeks written in ``textbook.py``, put-call parity on flat and demo markets, and the pricer's
batch behaviour through :func:`pricing.pricer.price`.

Textbook times that are not whole days in ACT/365F are handled by an exact time rescaling, not
by rounding; see the docstring of ``tests/pricing/products/textbook.py``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pytest

from pricing import quantlib_ as qa
from pricing.conventions import underlyings
from pricing.curves import build_market
from pricing.market import MarketSnapshot
from pricing.pricer import price
from pricing.products import equity
from pricing.quantlib_ import ql_session
from tests.factories import ASOF, flat_snapshot
from tests.pricing.products.textbook import (
    UND,
    bsm,
    eq_option,
    equity_case,
    reference,
)

# E.G. Haug, "The Complete Guide to Option Pricing Formulas", McGraw-Hill, 1st ed. (1998),
# as transcribed (with page numbers) in QuantLib's test-suite/europeanoption.cpp.
# Values are printed to 4 decimals: tolerance half a unit of the last digit, 5e-5.
# (kind, strike, spot, q, r, t, vol, value)
HAUG_EUROPEAN = [
    # pp. 2-8: generalised Black-Scholes examples
    ("CALL", 65.0, 60.0, 0.00, 0.08, 0.25, 0.30, 2.1334),  # Black-Scholes (1973)
    ("PUT", 95.0, 100.0, 0.05, 0.10, 0.50, 0.20, 2.4648),  # Merton (1973), dividend yield
    ("PUT", 19.0, 19.0, 0.10, 0.10, 0.75, 0.28, 1.7011),  # Black (1976), option on a future
    ("CALL", 19.0, 19.0, 0.10, 0.10, 0.75, 0.28, 1.7011),
    ("PUT", 70.0, 75.0, 0.05, 0.10, 0.50, 0.35, 4.0870),
    # p. 24: the European column of the Barone-Adesi-Whaley comparison table
    ("CALL", 100.0, 90.0, 0.10, 0.10, 0.10, 0.15, 0.0205),
    ("CALL", 100.0, 110.0, 0.10, 0.10, 0.10, 0.25, 10.3556),
    ("CALL", 100.0, 100.0, 0.10, 0.10, 0.50, 0.35, 9.3679),
    ("PUT", 100.0, 110.0, 0.10, 0.10, 0.10, 0.15, 0.0408),
    ("PUT", 100.0, 90.0, 0.10, 0.10, 0.50, 0.25, 12.2149),
    ("PUT", 100.0, 110.0, 0.10, 0.10, 0.50, 0.35, 5.7963),
    # p. 27
    ("CALL", 40.0, 42.0, 0.08, 0.04, 0.75, 0.35, 5.0975),
]


@pytest.mark.parametrize(
    ("kind", "strike", "spot", "q", "r", "t", "vol", "expected"), HAUG_EUROPEAN
)
def test_haug_european_values(
    kind: str, strike: float, spot: float, q: float, r: float, t: float, vol: float, expected: float
) -> None:
    snap, expiry, _ = equity_case(spot, q, r, vol, t)
    pv = reference(equity, eq_option(kind, strike, expiry), snap).pv
    assert pv == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize("t", [0.1, 1 / 12, 0.25, 0.5, 0.75, 2 / 12])
def test_time_rescaling_is_exact(t: float) -> None:
    """The rescaled flat market (textbook.py) gives the book's value to rounding: our pricer on
    n = round(365 t) days with rescaled r, q, sigma equals closed-form BSM at the book's t."""
    snap, expiry, bt = equity_case(100.0, 0.03, 0.07, 0.25, t)
    assert bt.s != 1.0
    for kind, strike in (("CALL", 95.0), ("PUT", 108.0)):
        pv = reference(equity, eq_option(kind, strike, expiry), snap).pv
        assert pv == pytest.approx(bsm(kind, 100.0, strike, 0.07, 0.03, 0.25, t)["pv"], rel=1e-12)


# Haug (1998) pp. 11-16 Greeks, as transcribed in QuantLib's europeanoption.cpp
# (testGreekValues). 4 decimals printed -> tolerance 5e-5 (on the book's units). The rescaling
# factor s converts Greeks of the rescaled parameters back (see textbook.py): vega * sqrt(s),
# theta / s, rho * s, dividend rho * s; delta and gamma need none.
# (greek, kind, strike, spot, q, r, t, vol, value)
HAUG_GREEKS = [
    ("delta", "CALL", 100.0, 105.0, 0.10, 0.10, 0.5, 0.36, 0.5946),
    ("delta", "PUT", 100.0, 105.0, 0.10, 0.10, 0.5, 0.36, -0.3566),
    ("gamma", "CALL", 60.0, 55.0, 0.00, 0.10, 0.75, 0.30, 0.0278),
    ("gamma", "PUT", 60.0, 55.0, 0.00, 0.10, 0.75, 0.30, 0.0278),
    ("vega", "CALL", 60.0, 55.0, 0.00, 0.10, 0.75, 0.30, 18.9358),
    ("vega", "PUT", 60.0, 55.0, 0.00, 0.10, 0.75, 0.30, 18.9358),
    ("theta", "PUT", 405.0, 430.0, 0.05, 0.07, 1 / 12, 0.20, -31.1924),
    ("rho", "CALL", 75.0, 72.0, 0.00, 0.09, 1.0, 0.19, 38.7325),
    ("dividend_rho", "PUT", 490.0, 500.0, 0.05, 0.08, 0.25, 0.15, 42.2254),
]


@pytest.mark.parametrize(
    ("greek", "kind", "strike", "spot", "q", "r", "t", "vol", "expected"), HAUG_GREEKS
)
def test_haug_greek_values(
    greek: str,
    kind: str,
    strike: float,
    spot: float,
    q: float,
    r: float,
    t: float,
    vol: float,
    expected: float,
) -> None:
    snap, expiry, bt = equity_case(spot, q, r, vol, t)
    greeks = reference(equity, eq_option(kind, strike, expiry), snap).greeks
    back = {
        "delta": 1.0,
        "gamma": 1.0,
        "vega": math.sqrt(bt.s),
        "theta": 1.0 / bt.s,
        "rho": bt.s,
        "dividend_rho": bt.s,
    }[greek]
    assert greeks[greek] * back == pytest.approx(expected, abs=5e-5)


def test_hull_non_dividend_stock_example() -> None:
    """J.C. Hull, Options, Futures, and Other Derivatives, 9th ed. (2015), Example 15.6:
    S0 = 42, K = 40, r = 10%, sigma = 20%, T = 0.5 -> c = 4.76, p = 0.81 (also in the HP 12c
    Platinum user's guide, section 13, example 2). Two decimals printed: tolerance 5e-3."""
    snap, expiry, _ = equity_case(42.0, 0.0, 0.10, 0.20, 0.5)
    assert reference(equity, eq_option("CALL", 40.0, expiry), snap).pv == pytest.approx(
        4.76, abs=5e-3
    )
    assert reference(equity, eq_option("PUT", 40.0, expiry), snap).pv == pytest.approx(
        0.81, abs=5e-3
    )


def test_hull_index_option_with_dividend_yield() -> None:
    """Hull, OFOD 9th ed., ch. 17 "Options on Stock Indices and Currencies", the worked example
    valuing a European index call: index 930, strike 900, r = 8%, sigma = 20%, T = 2 months,
    dividend yields 0.2% and 0.3% in the two months, i.e. q = 3% p.a. -> c = 51.83
    (d1 = 0.5444, d2 = 0.4628). Tolerance 5e-3 (2 decimals)."""
    snap, expiry, _ = equity_case(930.0, 0.03, 0.08, 0.20, 2 / 12)
    pv = reference(equity, eq_option("CALL", 900.0, expiry), snap).pv
    assert pv == pytest.approx(51.83, abs=5e-3)


# -- Greeks against closed-form BSM, position scaling -----------------------------------------

GREEK_NAMES = ("delta", "gamma", "vega", "theta", "rho", "dividend_rho")


@pytest.mark.parametrize(
    ("kind", "strike", "q", "days"),
    list(itertools.product(("CALL", "PUT"), (80.0, 100.0, 125.0), (0.0, 0.035), (30, 365, 1095))),
)
def test_greeks_match_closed_form_and_scale_with_position(
    kind: str, strike: float, q: float, days: int
) -> None:
    spot, r, vol, quantity = 100.0, 0.045, 0.27, 250.0
    snap = flat_snapshot(rates={"USD": r}, equities={UND: (spot, q, vol)})
    expiry = ASOF + dt.timedelta(days=days)
    exact = bsm(kind, spot, strike, r, q, vol, days / 365)
    long_ = reference(equity, eq_option(kind, strike, expiry, quantity=quantity), snap)
    short = reference(equity, eq_option(kind, strike, expiry, quantity=quantity, side="SELL"), snap)
    # QuantLib and scipy evaluate the same closed forms in double precision; both normal CDFs
    # are accurate to ~1e-15, so 1e-9 relative (plus 1e-9 of the position) is generous.
    assert long_.pv == pytest.approx(quantity * exact["pv"], rel=1e-9, abs=1e-9 * quantity)
    assert short.pv == pytest.approx(-long_.pv, rel=1e-15)
    assert set(long_.greeks) == set(GREEK_NAMES)
    for g in GREEK_NAMES:
        assert long_.greeks[g] == pytest.approx(
            quantity * exact[g], rel=1e-9, abs=1e-9 * quantity
        ), g
        assert short.greeks[g] == pytest.approx(-long_.greeks[g], rel=1e-15), g


# -- put-call parity -------------------------------------------------------------------------


def _parity_gap(
    snap: MarketSnapshot, und: str, strike: float, expiry: dt.date, quantity: float
) -> tuple[float, float]:
    """(C - P, quantity * (S exp(-qT) - K DF(T))) for one strike and expiry."""
    call = reference(equity, eq_option("CALL", strike, expiry, quantity=quantity, und=und), snap).pv
    put = reference(equity, eq_option("PUT", strike, expiry, quantity=quantity, und=und), snap).pv
    t = (expiry - snap.asof).days / 365
    spot, q = snap[f"EQ.{und}.SPOT"], snap.get(f"EQ.{und}.DIV", 0.0) or 0.0
    with ql_session(snap.asof, snap.fixings):
        df = build_market(snap).discount(underlyings()[und].currency).discount(qa.ql_date(expiry))
    return call - put, quantity * (spot * math.exp(-q * t) - strike * df)


@pytest.mark.parametrize(("strike", "days"), [(80.0, 45), (100.0, 200), (130.0, 900)])
def test_put_call_parity_flat_market(strike: float, days: int) -> None:
    snap = flat_snapshot(rates={"USD": 0.04}, equities={UND: (100.0, 0.02, 0.3)})
    lhs, rhs = _parity_gap(snap, UND, strike, ASOF + dt.timedelta(days=days), 10.0)
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize(
    ("und", "moneyness", "expiry"),
    [
        ("SPX", 0.9, dt.date(2026, 3, 20)),
        ("SPX", 1.1, dt.date(2027, 12, 17)),
        ("SX5E", 1.0, dt.date(2026, 6, 19)),
        ("AAPL", 0.75, dt.date(2026, 1, 16)),
    ],
)
def test_put_call_parity_demo_market(
    demo_snapshot: MarketSnapshot, und: str, moneyness: float, expiry: dt.date
) -> None:
    """Parity holds on the demo market too (bootstrapped OIS curve, skewed vol surface: the
    call and the put read the same vol at the same strike, so the vol drops out)."""
    strike = round(moneyness * demo_snapshot[f"EQ.{und}.SPOT"])
    lhs, rhs = _parity_gap(demo_snapshot, und, strike, expiry, 3.0)
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-8)


def test_demo_market_uses_the_vol_at_the_strike(demo_snapshot: MarketSnapshot) -> None:
    """An SPX option on the demo market equals closed-form BSM with the demo curve's zero rate,
    the quoted dividend yield and the surface's vol read at the option's strike and expiry."""
    from pricing import quantlib_ as qa

    expiry, strike = dt.date(2026, 9, 18), 6200.0
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        m = build_market(demo_snapshot)
        t = (expiry - demo_snapshot.asof).days / 365
        r = -math.log(m.discount("USD").discount(qa.ql_date(expiry))) / t
        vol = m.equity_vol("SPX").blackVol(qa.ql_date(expiry), strike)
    exact = bsm("PUT", demo_snapshot["EQ.SPX.SPOT"], strike, r, demo_snapshot["EQ.SPX.DIV"], vol, t)
    pv = reference(equity, eq_option("PUT", strike, expiry, und="SPX", quantity=5), demo_snapshot)
    assert vol != pytest.approx(demo_snapshot["VOL.EQ.SPX.6M.100"], abs=1e-3)  # skew matters
    assert pv.pv == pytest.approx(5 * exact["pv"], rel=1e-9)


# -- through the pricer ----------------------------------------------------------------------


def test_price_batch_with_missing_vol() -> None:
    """One trade's underlying has a spot but no vol: that trade alone fails, naming the
    missing quotes; the others are valued, and match closed-form BSM."""
    snap = flat_snapshot(
        rates={"USD": 0.04}, equities={"SPX": (6800.0, 0.013, 0.17)}, extra={"EQ.AAPL.SPOT": 278.0}
    )
    expiry = ASOF + dt.timedelta(days=365)
    trades = [
        eq_option("CALL", 7000.0, expiry, und="SPX", quantity=2, trade_id="SPX-C"),
        eq_option("PUT", 270.0, expiry, und="AAPL", quantity=100, trade_id="AAPL-P"),
        eq_option("PUT", 6500.0, expiry, und="SPX", side="SELL", trade_id="SPX-P"),
    ]
    res = price(trades, snap).by_id()
    assert res["AAPL-P"].error is not None
    assert res["AAPL-P"].error.field == "market"
    assert "VOL.EQ.AAPL" in res["AAPL-P"].error.reason
    assert math.isnan(res["AAPL-P"].pv)
    assert res["SPX-C"].ok
    assert res["SPX-P"].ok
    assert res["SPX-C"].pv == pytest.approx(
        2 * bsm("CALL", 6800.0, 7000.0, 0.04, 0.013, 0.17, 1.0)["pv"], rel=1e-9
    )
    assert res["SPX-P"].pv == pytest.approx(
        -bsm("PUT", 6800.0, 6500.0, 0.04, 0.013, 0.17, 1.0)["pv"], rel=1e-9
    )
    assert res["SPX-C"].currency == "USD"
    assert res["SPX-C"].greeks["delta"] == pytest.approx(
        2 * bsm("CALL", 6800.0, 7000.0, 0.04, 0.013, 0.17, 1.0)["delta"], rel=1e-9
    )


def test_price_reports_eur_underlying_in_eur(demo_snapshot: MarketSnapshot) -> None:
    """A SX5E option is valued in EUR and converted to the USD reporting currency at spot."""
    trade = eq_option("CALL", 5700.0, dt.date(2026, 12, 18), und="SX5E", quantity=10)
    (r,) = price([trade], demo_snapshot).results
    assert r.ok
    assert r.currency == "EUR"
    assert r.pv_reporting == pytest.approx(r.pv * demo_snapshot["FX.EURUSD"], rel=1e-15)
    assert r.pv == pytest.approx(reference(equity, trade, demo_snapshot).pv, rel=1e-15)


def test_requirements() -> None:
    trade = eq_option("CALL", 200.0, ASOF + dt.timedelta(days=30), und="SAP")
    assert equity.requirements(trade) == [("equity", "SAP"), ("discount", "EUR"), ("eqvol", "SAP")]
