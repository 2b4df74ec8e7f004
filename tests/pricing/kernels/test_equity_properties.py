"""No-arbitrage properties of the equity kernels, over inputs chosen by hypothesis.

Model-free bounds and orderings (Merton 1973, "Theory of rational option pricing"; Hull ch. 11):
put-call parity for Europeans, calls increasing in spot and decreasing in strike (puts the
reverse), values increasing in volatility, an American worth at least its European, and a
knock-in plus its knock-out equal to the vanilla. Every check allows only the rounding of the
formulas (QuantLib's put as ``-1 + N(d1)`` cancels: ~1e-15 of forward + strike).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from pricing.kernels.equity import barrier_value, baw_value, black_value

F64 = NDArray[np.float64]

spot = st.floats(20.0, 500.0)
moneyness = st.floats(0.5, 1.5)
rate = st.floats(-0.02, 0.12)
div = st.floats(-0.02, 0.08)
vol = st.floats(0.03, 1.0)
years = st.floats(1 / 365, 10.0)
SETTINGS = settings(max_examples=300, deadline=None)


def euro(put: bool, s: float, k: float, r: float, q: float, v: float, t: float) -> float:
    dr, dq = math.exp(-r * t), math.exp(-q * t)
    return float(
        black_value(np.array(float(put)), np.array(s * dq / dr), np.array(k),
                    np.array(v * math.sqrt(t)), np.array(dr))
    )  # fmt: skip


def american(put: bool, s: float, k: float, r: float, q: float, v: float, t: float) -> float:
    return float(
        baw_value(np.array(-1.0 if put else 1.0), np.array(s), np.array(k),
                  np.array(math.exp(-r * t)), np.array(math.exp(-q * t)), np.array(v * v * t))
    )  # fmt: skip


def tol(s: float, k: float) -> float:
    """Rounding allowance: a few ulps of forward and strike."""
    return 1e-13 * (s + k)


@SETTINGS
@given(s=spot, m=moneyness, r=rate, q=div, v=vol, t=years)
def test_put_call_parity(s: float, m: float, r: float, q: float, v: float, t: float) -> None:
    """C - P = S e^{-qT} - K e^{-rT} (Hull eq. 17.3; Stoll 1969)."""
    k = s * m
    lhs = euro(False, s, k, r, q, v, t) - euro(True, s, k, r, q, v, t)
    assert abs(lhs - (s * math.exp(-q * t) - k * math.exp(-r * t))) <= tol(s, k)


@SETTINGS
@given(s=spot, m=moneyness, r=rate, q=div, v=vol, t=years, bump=st.floats(1e-4, 0.5))
def test_monotone_in_spot_and_strike(
    s: float, m: float, r: float, q: float, v: float, t: float, bump: float
) -> None:
    """Calls rise with the spot and fall with the strike; puts the reverse (Merton 1973)."""
    k = s * m
    up = 1.0 + bump
    for put, sign in ((False, 1.0), (True, -1.0)):
        base = euro(put, s, k, r, q, v, t)
        assert sign * (euro(put, s * up, k, r, q, v, t) - base) >= -tol(s * up, k)
        assert sign * (base - euro(put, s, k * up, r, q, v, t)) >= -tol(s, k * up)


@SETTINGS
@given(s=spot, m=moneyness, r=rate, q=div, v=vol, t=years, bump=st.floats(1e-3, 1.0))
def test_monotone_in_vol(
    s: float, m: float, r: float, q: float, v: float, t: float, bump: float
) -> None:
    """More volatility is worth more, to calls and puts, European and American (vega > 0)."""
    k = s * m
    for put in (False, True):
        assert euro(put, s, k, r, q, v * (1 + bump), t) >= euro(put, s, k, r, q, v, t) - tol(s, k)
        lo, hi = american(put, s, k, r, q, v, t), american(put, s, k, r, q, v * (1 + bump), t)
        assume(not (math.isnan(lo) or math.isnan(hi)))  # negative rates: refused by QuantLib
        assert hi >= lo - 1e-9 * (s + k)


@SETTINGS
@given(s=spot, m=moneyness, r=rate, q=div, v=vol, t=years)
def test_american_at_least_european(
    s: float, m: float, r: float, q: float, v: float, t: float
) -> None:
    """The right to exercise early is worth something: American >= European (Merton 1973),
    whenever QuantLib's BAW gives a value (it refuses some negative-rate cases: NaN)."""
    k = s * m
    for put in (False, True):
        am = american(put, s, k, r, q, v, t)
        assume(not math.isnan(am))
        assert am >= euro(put, s, k, r, q, v, t) - tol(s, k)


@SETTINGS
@given(
    s=spot, m=moneyness, r=rate, q=div, v=vol, t=years,
    away=st.floats(0.01, 0.6), down=st.booleans(), put=st.booleans(),
)  # fmt: skip
def test_knock_in_plus_knock_out_is_vanilla(
    s: float, m: float, r: float, q: float, v: float, t: float, away: float, down: bool,
    put: bool,
) -> None:  # fmt: skip
    """Without rebate, in + out = vanilla for the same barrier (Haug 1998, ch. 2.10; Reiner and
    Rubinstein 1991): exactly one of the two pays at expiry on every path."""
    k, h = s * m, s * (1 - away if down else 1 + away)

    def barrier(knock_in: bool) -> float:
        c = lambda x: np.array([[x]], dtype=np.float64)  # noqa: E731
        v_ = barrier_value(
            c(-1.0 if put else 1.0), c(1.0 if down else -1.0), np.array([[knock_in]]), c(k),
            c(h), c(0.0), c(s), c(math.exp(-r * t)), c(math.exp(-q * t)), c(v), c(t),
        )  # fmt: skip
        return float(v_[0, 0])

    total = barrier(True) + barrier(False)
    vanilla = euro(put, s, k, r, q, v, t)
    assert abs(total - vanilla) <= 1e-12 * (s + k)
