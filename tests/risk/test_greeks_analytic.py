"""Bump Greeks against analytic Greeks on flat markets, and published Greek values.

Second sources: closed-form Black-Scholes-Merton / Garman-Kohlhagen Greeks (``textbook.bsm``,
written independently of the engine), their higher derivatives written here in closed form,
Haug's Greek table (as typed in tests/pricing/products/test_equity.py) and Hull's running
example of "The Greek Letters".

Tolerances are the truncation error of the finite difference, not a fudge: with a bump ``h``
(relative for spot, absolute for vol and rates) and the function ``f`` of the bumped input,

* central first difference ``(f(x+h) - f(x-h)) / 2h = f'(x) + h^2 f'''(x) / 6 + O(h^4)``,
* central second difference ``(f(x+h) - 2f(x) + f(x-h)) / h^2 = f''(x) + h^2 f''''(x) / 12 +
  O(h^4)``,
* one-day roll ``V(T - d) - V(T) = d Theta + d^2 V_TT / 2 + O(d^3)`` (``Theta = -V_T``),

so each check allows twice the leading term (the next term is O(h^2) smaller: below 1 % of it
for the bumps used) plus a rounding floor: every PV entering a difference is allowed an error of
1e-12 of its size (the kernels' and QuantLib's closed forms agree with scipy's to ~1e-14 here;
test_equity.py bounds them at 1e-9 of the Greek).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy.stats import norm

from risk.greeks import BumpSizes, Sensitivities, compute_greeks
from tests.factories import flat_snapshot
from tests.pricing.products.test_equity import HAUG_GREEKS
from tests.pricing.products.textbook import UND, bsm, eq_option, equity_case, fx_option

#: A Tuesday: the roll date is the Wednesday, one calendar day later (d = 1/365).
TUESDAY = dt.date(2025, 12, 2)
ENGINES = ("vectorised", "quantlib")
ROUNDING = 1e-12  # relative error allowed on each PV entering a difference


def higher_derivatives(
    kind: str, s: float, k: float, r: float, q: float, vol: float, t: float
) -> dict[str, float]:
    """Third and fourth derivatives of the BSM value per unit, in closed form where short
    (spot: speed and its derivative; vol: ultima) and by central differences of the analytic
    first derivatives of ``textbook.bsm`` otherwise (only used to size tolerances)."""
    a = vol * math.sqrt(t)
    d1 = (math.log(s / k) + (r - q + 0.5 * vol * vol) * t) / a
    d2 = d1 - a
    gamma = math.exp(-q * t) * norm.pdf(d1) / (s * a)
    speed = -gamma / s * (1 + d1 / a)  # d3V/dS3
    vega = s * math.exp(-q * t) * norm.pdf(d1) * math.sqrt(t)

    def second_diff(greek: str, name: str, step: float) -> float:
        args = {"r": r, "q": q}
        up = bsm(kind, s, k, **{**args, name: args[name] + step}, vol=vol, t=t)[greek]
        mid = bsm(kind, s, k, r, q, vol, t)[greek]
        down = bsm(kind, s, k, **{**args, name: args[name] - step}, vol=vol, t=t)[greek]
        return (up - 2 * mid + down) / step**2

    theta_up = bsm(kind, s, k, r, q, vol, t + 1e-4)["theta"]
    theta_down = bsm(kind, s, k, r, q, vol, t - 1e-4)["theta"]
    return {
        "d3_spot": speed,
        "d4_spot": -(speed * (1 + d1 / a) / s + gamma * (1 / a**2 - 1 - d1 / a) / s**2),
        "d3_vol": -vega / vol**2 * (d1 * d2 * (1 - d1 * d2) + d1**2 + d2**2),
        "d3_r": second_diff("rho", "r", 1e-3),
        "d3_q": second_diff("dividend_rho", "q", 1e-3),
        "d2_t": -(theta_up - theta_down) / 2e-4,  # V_TT = -dTheta/dT
    }


def _get(s: Sensitivities, cls: str, factor: str, bucket: str, measure: str) -> float:
    (trade_id,) = s.trade_ids
    return s.value_of(trade_id, cls, factor, bucket, measure)


# -- equity options vs closed-form BSM -------------------------------------------------------

EQUITY_CASES = [
    ("CALL", 80.0, 30),
    ("CALL", 95.0, 365),
    ("PUT", 87.5, 182),
    ("PUT", 110.0, 1095),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("kind", "strike", "days"), EQUITY_CASES)
@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_equity_bump_greeks_match_black_scholes(
    engine: str, kind: str, strike: float, days: int, side: str
) -> None:
    spot, r, q, vol, qty = 87.5, 0.045, 0.02, 0.27, 250.0
    snap = flat_snapshot(TUESDAY, rates={"USD": r}, equities={UND: (spot, q, vol)})
    trade = eq_option(kind, strike, TUESDAY + dt.timedelta(days=days), quantity=qty, side=side)
    s = compute_greeks([trade], snap, engine=engine)  # type: ignore[arg-type]
    assert s.roll_date == TUESDAY + dt.timedelta(days=1)
    t, n = days / 365, qty * (1 if side == "BUY" else -1)
    x = bsm(kind, spot, strike, r, q, vol, t)
    hd = higher_derivatives(kind, spot, strike, r, q, vol, t)
    pv = abs(n * x["pv"])
    h_s, u = 0.01 * spot, 0.01  # the spot bump (1 %) in currency units, and the delta unit

    def check(got: float, exact: float, lead: float, floor: float, what: str) -> None:
        assert abs(got - exact) <= 2 * abs(lead) + floor, (what, got, exact, lead, floor)

    # spot: delta per 1 % = S u f' + S u h_s^2 f'''/6; delta_units = f' + h_s^2 f'''/6
    check(
        _get(s, "EQ", UND, "", "delta"),
        n * x["delta"] * spot * u,
        n * spot * u * h_s**2 * hd["d3_spot"] / 6,
        ROUNDING * pv * (spot * u) / h_s,
        "delta",
    )
    check(
        _get(s, "EQ", UND, "", "delta_units"),
        n * x["delta"],
        n * h_s**2 * hd["d3_spot"] / 6,
        ROUNDING * pv / h_s,
        "delta_units",
    )
    # gamma per (1 %)^2 = (S u)^2 (f'' + h_s^2 f''''/12)
    check(
        _get(s, "EQ", UND, "", "gamma"),
        n * x["gamma"] * (spot * u) ** 2,
        n * (spot * u) ** 2 * h_s**2 * hd["d4_spot"] / 12,
        4 * ROUNDING * pv,
        "gamma",
    )
    # vega per vol point (h = 0.01 absolute): 0.01 (vega + h^2 ultima / 6); the FLAT surface
    # is one bucket whose vega is the parallel vega
    vega = _get(s, "VOL", f"EQ.{UND}", "", "vega")
    check(vega, n * x["vega"] * 0.01, n * 0.01 * 0.01**2 * hd["d3_vol"] / 6, ROUNDING * pv, "vega")
    assert _get(s, "VOL", f"EQ.{UND}", "FLAT", "vega") == vega
    # rho = the parallel delta of the USD discount curve (flat, 1 bp): 1e-4 (rho + h^2 V_rrr/6)
    rho = _get(s, "IR", "USD-SOFR", "", "delta")
    check(rho, n * x["rho"] * 1e-4, n * 1e-4 * 1e-8 * hd["d3_r"] / 6, ROUNDING * pv, "rho")
    assert _get(s, "IR", "USD-SOFR", "FLAT", "delta") == rho
    check(
        _get(s, "DIV", UND, "", "delta"),
        n * x["dividend_rho"] * 1e-4,
        n * 1e-4 * 1e-8 * hd["d3_q"] / 6,
        ROUNDING * pv,
        "dividend rho",
    )
    # theta: one calendar day; exactly the closed form at T - 1/365, and Theta/365 to O(d^2)
    theta, d = _get(s, "THETA", "", "", "theta"), 1 / 365
    rolled = n * bsm(kind, spot, strike, r, q, vol, t - d)["pv"]
    check(theta, rolled - n * x["pv"], 0.0, 2 * ROUNDING * pv, "theta exact")
    check(theta, n * x["theta"] * d, n * d**2 * hd["d2_t"] / 2, 2 * ROUNDING * pv, "theta")
    # and nothing else: no FX (USD option, USD reporting), no other curve, no credit
    assert set(zip(s.factor_class, s.factor, strict=True)) == {
        ("EQ", UND),
        ("DIV", UND),
        ("VOL", f"EQ.{UND}"),
        ("IR", "USD-SOFR"),
        ("THETA", ""),
    }
    np.testing.assert_array_equal(s.value, s.value_local)  # USD trade, USD reporting


# -- FX options vs closed-form Garman-Kohlhagen ---------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("kind", "strike", "days"), [("CALL", 150.0, 91), ("PUT", 160.0, 400)])
def test_fx_bump_greeks_match_garman_kohlhagen(
    engine: str, kind: str, strike: float, days: int
) -> None:
    """USDJPY options (PV in JPY, notional in USD): GK is BSM with the USD rate as the
    dividend yield. Reported in JPY, ``delta_units`` is the GK spot delta times the USD notional;
    rho is the JPY curve's delta, the foreign rho the USD curve's."""
    spot, r_usd, r_jpy, vol, notional = 156.2, 0.04, 0.005, 0.104, 2e6
    snap = flat_snapshot(TUESDAY, rates={"USD": r_usd, "JPY": r_jpy}, fx={"USDJPY": (spot, vol)})
    trade = fx_option("USDJPY", kind, strike, TUESDAY + dt.timedelta(days=days), notional=notional)
    t = days / 365
    x = bsm(kind, spot, strike, r_jpy, r_usd, vol, t)
    hd = higher_derivatives(kind, spot, strike, r_jpy, r_usd, vol, t)
    n, h_s = notional, 0.01 * spot
    pv = n * x["pv"]
    s = compute_greeks([trade], snap, "JPY", engine)  # type: ignore[arg-type]
    got = {
        "delta_units": _get(s, "FX", "USDJPY", "", "delta_units"),
        "gamma": _get(s, "FX", "USDJPY", "", "gamma"),
        "vega": _get(s, "VOL", "FX.USDJPY", "", "vega"),
        "rho": _get(s, "IR", "JPY-TONA", "", "delta"),
        "dividend_rho": _get(s, "IR", "USD-SOFR", "", "delta"),
    }
    exact = {
        "delta_units": n * x["delta"],
        "gamma": n * x["gamma"] * h_s**2,
        "vega": n * x["vega"] * 0.01,
        "rho": n * x["rho"] * 1e-4,
        "dividend_rho": n * x["dividend_rho"] * 1e-4,
    }
    lead = {
        "delta_units": n * h_s**2 * hd["d3_spot"] / 6,
        "gamma": n * h_s**4 * hd["d4_spot"] / 12,
        "vega": n * 0.01**3 * hd["d3_vol"] / 6,
        "rho": n * 1e-12 * hd["d3_r"] / 6,
        "dividend_rho": n * 1e-12 * hd["d3_q"] / 6,
    }
    floor = {"delta_units": ROUNDING * pv / h_s, "gamma": 4 * ROUNDING * pv}
    for g, v in got.items():
        tol = 2 * abs(lead[g]) + floor.get(g, ROUNDING * pv)
        assert abs(v - exact[g]) <= tol, (g, v, exact[g], tol)
    np.testing.assert_array_equal(s.value, s.value_local)  # JPY trade, JPY reporting
    # Reported in USD the position is seen from USD: the USD value PV_JPY / S has the delta
    # dPV/dS / S - PV_JPY / S^2 per unit of S, i.e. a USD position of delta N - PV_USD (the
    # premium-adjusted delta). Its truncation error: S (hS)^2 (V/S)''' / 6 with
    # (V/S)''' = V'''/S - 3V''/S^2 + 6V'/S^3 - 6V/S^4.
    usd = compute_greeks([trade], snap, "USD", engine)  # type: ignore[arg-type]
    third = (
        hd["d3_spot"] / spot
        - 3 * x["gamma"] / spot**2
        + 6 * x["delta"] / spot**3
        - 6 * x["pv"] / spot**4
    )
    assert (
        abs(_get(usd, "FX", "USDJPY", "", "delta_units") - (n * x["delta"] - pv / spot))
        <= 2 * abs(n * spot * h_s**2 * third / 6) + ROUNDING * pv / h_s
    )
    # locally (JPY) it is the same whatever the reporting currency
    assert (
        usd.value_of(trade.trade_id, "FX", "USDJPY", "", "delta_units", local=True)
        == (got["delta_units"])
    )


# -- published values --------------------------------------------------------------------------

#: Small bumps for literature checks: truncation ~ (1e-4)^2 relative, far below 4 decimals.
FINE = BumpSizes(eq_rel=1e-4, vol_black=1e-4, ir_bp=0.01, div_bp=0.01)


def _haug_greek(s: Sensitivities, greek: str, spot: float, sizes: BumpSizes) -> float:
    """A bump Greek in Haug's units (per unit, per 1.00 of vol / rate, per year)."""
    if greek == "delta":
        return _get(s, "EQ", UND, "", "delta_units")
    if greek == "gamma":  # per (1 %)^2 -> per unit^2
        return _get(s, "EQ", UND, "", "gamma") / (0.01 * spot) ** 2
    if greek == "vega":
        return _get(s, "VOL", f"EQ.{UND}", "", "vega") * 100
    if greek == "rho":
        return _get(s, "IR", "USD-SOFR", "", "delta") * 1e4
    if greek == "dividend_rho":
        return _get(s, "DIV", UND, "", "delta") * 1e4
    raise KeyError(greek)


@pytest.mark.parametrize(
    ("greek", "kind", "strike", "spot", "q", "r", "t", "vol", "expected"),
    [g for g in HAUG_GREEKS if g[0] != "theta"],
)
def test_haug_greek_values_by_bumping(
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
    """E.G. Haug (1998) pp. 11-16, the table test_equity.py pins for QuantLib's analytic
    Greeks, reproduced by bumping (vectorised engine). 4 decimals printed: 5e-5. With bumps of
    1e-4 (relative spot, absolute vol) and 0.01 bp the truncation terms (h^2 f'''/6) are below
    1e-8 of these values. Theta is left out: a one-day roll of a 1-month option differs from
    -dV/dT by d V_TT / 2 ~ 1 % (checked against the closed form above instead). The time
    rescaling of textbook.py converts back: vega * sqrt(s), rho * s, dividend rho * s."""
    snap, expiry, bt = equity_case(spot, q, r, vol, t)
    s = compute_greeks([eq_option(kind, strike, expiry)], snap, sizes=FINE, theta=False)
    back = {"delta": 1.0, "gamma": 1.0, "vega": math.sqrt(bt.s), "rho": bt.s}
    assert _haug_greek(s, greek, spot, FINE) * back.get(greek, bt.s) == pytest.approx(
        expected, abs=5e-5
    )


def test_hull_greek_letters_example() -> None:
    """J.C. Hull, Options, Futures, and Other Derivatives, 9th ed. (2015), ch. 19 "The Greek
    Letters": the running example of a European call with S0 = 49, K = 50, r = 5 %,
    sigma = 20 %, T = 20 weeks (0.3846 y), no dividends, worth $2.40: delta 0.522,
    gamma 0.066, vega 12.1 (per 1.00 of vol), rho 8.91 (per 1.00 of rate). Printed to three
    significant figures: half a unit of the last digit. (Hull's theta, -4.31 per year, is
    -dV/dT; a one-day roll differs by d V_TT / 2, see the closed-form test.)"""
    snap, expiry, bt = equity_case(49.0, 0.0, 0.05, 0.20, 20 / 52)
    s = compute_greeks([eq_option("CALL", 50.0, expiry)], snap, sizes=FINE, theta=False)
    assert _haug_greek(s, "delta", 49.0, FINE) == pytest.approx(0.522, abs=5e-4)
    assert _haug_greek(s, "gamma", 49.0, FINE) == pytest.approx(0.066, abs=5e-4)
    assert _haug_greek(s, "vega", 49.0, FINE) * math.sqrt(bt.s) == pytest.approx(12.1, abs=0.05)
    assert _haug_greek(s, "rho", 49.0, FINE) * bt.s == pytest.approx(8.91, abs=5e-3)


def test_default_bumps_on_a_literature_case_state_their_truncation() -> None:
    """Haug's gamma case (S = 55, K = 60, T = 0.75, sigma = 30 %) with the DEFAULT 1 % bump:
    the bump gamma differs from Haug's 0.0278 by the truncation term h_s^2 f''''/12 (about
    1e-5 here, predicted by the closed-form fourth derivative) -- the default bumps are fine
    for risk, and the error is the formula's, not noise."""
    spot, strike, r, vol, t = 55.0, 60.0, 0.10, 0.30, 0.75
    snap, expiry, _ = equity_case(spot, 0.0, r, vol, t)  # spot Greeks: no rescaling to undo
    s = compute_greeks([eq_option("CALL", strike, expiry)], snap, theta=False)
    gamma = _get(s, "EQ", UND, "", "gamma") / (0.01 * spot) ** 2
    h_s = 0.01 * spot
    lead = h_s**2 * higher_derivatives("CALL", spot, strike, r, 0.0, vol, t)["d4_spot"] / 12
    exact = bsm("CALL", spot, strike, r, 0.0, vol, t)["gamma"]
    assert gamma == pytest.approx(0.0278, abs=5e-5)
    assert abs(gamma - exact - lead) <= 0.02 * abs(lead) + 1e-12  # the O(h^4) rest is tiny
