"""American equity options: Barone-Adesi-Whaley (reference) and finite differences.

Second sources: Haug's BAW table, the exact identity "American call without dividends =
European call", American >= European and >= intrinsic, and BAW against the FD engine on a grid
with a tolerance set by the known accuracy of the quadratic approximation.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pytest

from pricing.market import MarketSnapshot
from pricing.pricer import price
from pricing.products import equity
from tests.factories import ASOF, flat_snapshot
from tests.pricing.products.textbook import (
    UND,
    bsm,
    eq_american,
    eq_option,
    equity_case,
    reference,
)

#: Discretisation error allowed to the 200 x 400 FD grid, per 100 of spot: its largest
#: deviation from a 1000 x 2000 solution over the BAW-vs-FD grid below was 4.2e-3 (1-year
#: options; 1.2e-3 at 3 months), measured when this test was written.
FD_TOL = 5e-3

# E.G. Haug, "The Complete Guide to Option Pricing Formulas", McGraw-Hill, 1st ed. (1998),
# p. 24: Barone-Adesi-Whaley values, as transcribed in QuantLib's test-suite/americanoption.cpp.
# QuantLib notes there that Haug's own VB code replicates this table "only up to the second
# digit" and tests its BAW engine with tolerance 3e-3; the table is no more precise than that.
# (kind, strike, spot, q, r, t, vol, value)
HAUG_BAW = [
    ("CALL", 100.0, 90.0, 0.10, 0.10, 0.10, 0.15, 0.0206),
    ("CALL", 100.0, 100.0, 0.10, 0.10, 0.10, 0.15, 1.8771),
    ("CALL", 100.0, 110.0, 0.10, 0.10, 0.10, 0.25, 10.3919),
    ("CALL", 100.0, 100.0, 0.10, 0.10, 0.10, 0.35, 4.3777),
    ("CALL", 100.0, 90.0, 0.10, 0.10, 0.50, 0.15, 0.8208),
    ("CALL", 100.0, 110.0, 0.10, 0.10, 0.50, 0.25, 13.0170),
    ("CALL", 100.0, 100.0, 0.10, 0.10, 0.50, 0.35, 9.5106),
    ("CALL", 100.0, 110.0, 0.10, 0.10, 0.50, 0.35, 15.5689),
    ("PUT", 100.0, 90.0, 0.10, 0.10, 0.10, 0.15, 10.0000),
    ("PUT", 100.0, 110.0, 0.10, 0.10, 0.10, 0.15, 0.0410),
    ("PUT", 100.0, 100.0, 0.10, 0.10, 0.10, 0.25, 3.1277),
    ("PUT", 100.0, 110.0, 0.10, 0.10, 0.10, 0.35, 1.2402),
    ("PUT", 100.0, 90.0, 0.10, 0.10, 0.50, 0.25, 12.4419),
    ("PUT", 100.0, 100.0, 0.10, 0.10, 0.50, 0.15, 4.0842),
    ("PUT", 100.0, 100.0, 0.10, 0.10, 0.50, 0.35, 9.5104),
    ("PUT", 100.0, 110.0, 0.10, 0.10, 0.50, 0.35, 5.8823),
    ("PUT", 100.0, 100.0, 0.00, 0.00, 0.50, 0.15, 4.2294),
]


@pytest.mark.parametrize(("kind", "strike", "spot", "q", "r", "t", "vol", "expected"), HAUG_BAW)
def test_haug_barone_adesi_whaley_values(
    kind: str, strike: float, spot: float, q: float, r: float, t: float, vol: float, expected: float
) -> None:
    snap, expiry, _ = equity_case(spot, q, r, vol, t)
    pv = reference(equity, eq_american(kind, strike, expiry), snap).pv
    assert pv == pytest.approx(expected, abs=3e-3)


@pytest.mark.parametrize(
    ("strike", "days", "vol"),
    list(itertools.product((80.0, 100.0, 120.0), (91, 365, 1095), (0.15, 0.40))),
)
def test_american_call_without_dividends_is_european(strike: float, days: int, vol: float) -> None:
    """Early exercise of a call on a non-dividend-paying stock is never optimal (Merton 1973;
    Hull ch. 11), so both engines must give the European value: BAW exactly (it returns the
    Black-Scholes value when q = 0), FD up to its grid error."""
    snap = flat_snapshot(rates={"USD": 0.05}, equities={UND: (100.0, 0.0, vol)})
    expiry = ASOF + dt.timedelta(days=days)
    european = bsm("CALL", 100.0, strike, 0.05, 0.0, vol, days / 365)
    baw = reference(equity, eq_american("CALL", strike, expiry), snap)
    fd = reference(equity, eq_american("CALL", strike, expiry), snap, american_engine="FD")
    assert baw.pv == pytest.approx(european["pv"], rel=1e-9, abs=1e-12)
    assert fd.pv == pytest.approx(european["pv"], abs=FD_TOL)
    # FD Greeks come from the same grid: delta to 2e-4 and gamma to 1e-5 (measured worst
    # cases 8e-5 and 1.5e-6 on this grid of cases).
    assert fd.greeks["delta"] == pytest.approx(european["delta"], abs=2e-4)
    assert fd.greeks["gamma"] == pytest.approx(european["gamma"], abs=1e-5)


CASES = [  # (kind, r, q): puts with and without dividends, calls with q > r and q < r
    ("PUT", 0.05, 0.00),
    ("PUT", 0.08, 0.04),
    ("CALL", 0.02, 0.06),
    ("CALL", 0.05, 0.08),
]
GRID = list(
    itertools.product(CASES, (80.0, 90.0, 100.0, 110.0, 120.0), (91, 182, 365), (0.15, 0.30))
)


@pytest.mark.parametrize(("case", "spot", "days", "vol"), GRID)
def test_baw_agrees_with_finite_differences(
    case: tuple[str, float, float], spot: float, days: int, vol: float
) -> None:
    """BAW vs FD within 0.15 per 100 of strike, for maturities up to a year.

    BAW drops the time derivative of the early-exercise premium, so it is an approximation
    whose error grows with maturity and is largest near the exercise boundary (Barone-Adesi
    and Whaley, J. Finance 42(2), 1987; Ju and Zhong, J. Derivatives 7(2), 1999, write that
    the existing analytical approximations "fare poorly" for long maturities). Measured
    against a converged 1000 x 2000 FD solution on this grid, its error peaks at 0.105 (1-year
    put, S/K = 0.8, sigma = 30%) and at 0.063 for 3-month options; the FD engine adds at most
    FD_TOL. 0.15 covers both; a wiring error (European exercise, wrong curve or dividend)
    would remove premia of more than 1 on the deep in-the-money cases of this grid (see
    test_early_exercise_premium_is_material), ten times the tolerance.
    """
    kind, r, q = case
    snap = flat_snapshot(rates={"USD": r}, equities={UND: (spot, q, vol)})
    trade = eq_american(kind, 100.0, ASOF + dt.timedelta(days=days))
    baw = reference(equity, trade, snap).pv
    fd = reference(equity, trade, snap, american_engine="FD").pv
    assert baw == pytest.approx(fd, abs=0.15)


@pytest.mark.parametrize("engine", ["BAW", "FD"])
@pytest.mark.parametrize(("case", "spot", "days", "vol"), GRID[::3])
def test_american_at_least_european_and_intrinsic(
    engine: str, case: tuple[str, float, float], spot: float, days: int, vol: float
) -> None:
    kind, r, q = case
    snap = flat_snapshot(rates={"USD": r}, equities={UND: (spot, q, vol)})
    expiry = ASOF + dt.timedelta(days=days)
    american = reference(equity, eq_american(kind, 100.0, expiry), snap, american_engine=engine).pv
    european = bsm(kind, spot, 100.0, r, q, vol, days / 365)["pv"]
    intrinsic = max(spot - 100.0, 0.0) if kind == "CALL" else max(100.0 - spot, 0.0)
    slack = 0.0 if engine == "BAW" else FD_TOL  # BAW = European + a non-negative premium
    assert american >= european - slack
    assert american >= intrinsic - slack


@pytest.mark.parametrize("engine", ["BAW", "FD"])
def test_early_exercise_premium_is_material(engine: str) -> None:
    """A deep in-the-money 1-year put (r = 5%, S/K = 0.8): the European put is worth less than
    its intrinsic value 20, the American at least 20, a premium > 1 in both engines."""
    snap = flat_snapshot(rates={"USD": 0.05}, equities={UND: (80.0, 0.0, 0.30)})
    expiry = ASOF + dt.timedelta(days=365)
    european = bsm("PUT", 80.0, 100.0, 0.05, 0.0, 0.30, 1.0)["pv"]
    american = reference(equity, eq_american("PUT", 100.0, expiry), snap, american_engine=engine).pv
    assert european < 20.0
    assert american - european > 1.0


def test_engine_selection() -> None:
    """BAW by default; FD by keyword or by the module default; unknown names are errors."""
    snap, expiry, _ = equity_case(100.0, 0.10, 0.10, 0.35, 0.5)
    trade = eq_american("PUT", 100.0, expiry)
    baw = reference(equity, trade, snap)
    fd = reference(equity, trade, snap, american_engine="FD")
    assert baw.greeks == {}  # QuantLib's BAW engine provides no Greeks
    assert set(fd.greeks) == {"delta", "gamma", "theta"}
    assert abs(baw.pv - fd.pv) > 1e-3  # the two engines really differ here
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(equity, "AMERICAN_ENGINE", "FD")
        assert reference(equity, trade, snap).pv == fd.pv
    with pytest.raises(ValueError, match="unknown American engine 'PDE'"):
        reference(equity, trade, snap, american_engine="PDE")


def test_position_scaling_fd_greeks() -> None:
    snap, expiry, _ = equity_case(95.0, 0.02, 0.06, 0.25, 1.0)
    unit = reference(equity, eq_american("PUT", 100.0, expiry), snap, american_engine="FD")
    short = reference(
        equity,
        eq_american("PUT", 100.0, expiry, quantity=40.0, side="SELL"),
        snap,
        american_engine="FD",
    )
    assert short.pv == pytest.approx(-40.0 * unit.pv, rel=1e-14)
    for g in ("delta", "gamma", "theta"):
        assert short.greeks[g] == pytest.approx(-40.0 * unit.greeks[g], rel=1e-14)


def test_price_batch_with_missing_curve(demo_snapshot: MarketSnapshot) -> None:
    """American options through price(): a SAP (EUR) option on a USD-only market fails naming
    the missing EUR curve; the SPX option is valued with BAW."""
    snap = flat_snapshot(
        rates={"USD": 0.04}, equities={"SPX": (6800.0, 0.013, 0.17), "SAP": (210.0, 0.012, 0.26)}
    )
    expiry = ASOF + dt.timedelta(days=365)
    trades = [
        eq_american("PUT", 7000.0, expiry, und="SPX", quantity=3, trade_id="SPX-A"),
        eq_american("PUT", 200.0, expiry, und="SAP", trade_id="SAP-A"),
    ]
    res = price(trades, snap).by_id()
    assert res["SAP-A"].error is not None
    assert res["SAP-A"].error.field == "market"
    assert "EUR" in res["SAP-A"].error.reason
    assert res["SPX-A"].ok
    assert res["SPX-A"].pv == pytest.approx(
        3 * reference(equity, eq_american("PUT", 7000.0, expiry, und="SPX"), snap).pv, rel=1e-14
    )
    european = bsm("PUT", 6800.0, 7000.0, 0.04, 0.013, 0.17, 1.0)["pv"]
    assert res["SPX-A"].pv > 3 * european
    # and on the demo market (skewed surface, bootstrapped curve), American >= European
    demo_exp = dt.date(2026, 6, 19)
    am = price([eq_american("PUT", 7200.0, demo_exp, und="SPX")], demo_snapshot).results[0]
    eu = price([eq_option("PUT", 7200.0, demo_exp, und="SPX")], demo_snapshot).results[0]
    assert am.ok
    assert am.pv >= eu.pv
    assert math.isfinite(am.pv)
