"""Black and Bachelier kernels: Hull's caplet, independent closed forms, QuantLib's own
formulas (special cases included), parity and monotonicity (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import QuantLib as ql
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from pricing.kernels.formulas import bachelier, black, norm_cdf


def test_hull_caplet() -> None:
    """Hull, Options, Futures, and Other Derivatives (9th ed.), Example 29.3: a caplet on
    10,000 at 8% for 3 months starting in 1 year, F = 7%, vol 20%, P(0, 1.25) =
    exp(-0.069394 * 1.25): $5.162 (printed to 3 decimals, hence 5e-4)."""
    discount = math.exp(-0.069394 * 1.25)
    value = 0.25 * 10_000 * discount * float(black(1.0, 0.08, 0.07, 0.20 * math.sqrt(1.0)))
    assert value == pytest.approx(5.162, abs=5e-4)


def _black_by_hand(w: float, k: float, f: float, s: float) -> float:
    d1 = math.log(f / k) / s + s / 2
    return w * (f * norm.cdf(w * d1) - k * norm.cdf(w * (d1 - s)))


def _bachelier_by_hand(w: float, k: float, f: float, s: float) -> float:
    d = w * (f - k)
    return d * norm.cdf(d / s) + s * norm.pdf(d / s)


def test_against_independent_closed_forms() -> None:
    """scipy.stats formulas written out here (Black-76; Bachelier: d N(d/s) + s n(d/s))."""
    rng = np.random.default_rng(7)
    for _ in range(500):
        w = float(rng.choice([1.0, -1.0]))
        k, f = rng.uniform(0.001, 0.08, 2)
        s_ln, s_n, shift = rng.uniform(0.01, 1.0), rng.uniform(1e-4, 0.03), rng.uniform(0, 0.03)
        got = float(black(w, k, f, s_ln, shift))
        want = _black_by_hand(w, k + shift, f + shift, s_ln)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-17)
        got_n = float(bachelier(w, k, f, s_n))
        assert got_n == pytest.approx(_bachelier_by_hand(w, k, f, s_n), rel=1e-12, abs=1e-17)


def test_agrees_with_quantlib_including_special_cases() -> None:
    """ql.blackFormula / ql.bachelierBlackFormula on a grid with zero std devs, zero displaced
    strikes and inputs QuantLib rejects (NaN here): to 1e-16 of the forward."""
    grid = [
        (w, k, f, s, d)
        for w in (1.0, -1.0)
        for k in (-0.01, 0.0, 0.005, 0.03, 0.07)
        for f in (-0.02, -0.005, 0.001, 0.03, 0.09)
        for s in (0.0, 1e-4, 0.2, 1.5)
        for d in (0.0, 0.01, 0.02)
    ]
    for w, k, f, s, d in grid:
        typ = ql.Option.Call if w > 0 else ql.Option.Put
        try:
            want = ql.blackFormula(typ, k, f, s, 1.0, d)
        except RuntimeError:
            want = math.nan
        got = float(black(w, k, f, s, d))
        if math.isnan(want):
            assert math.isnan(got), (w, k, f, s, d, got)
        else:
            assert got == pytest.approx(want, abs=1e-16 * max(1.0, abs(f) + d)), (w, k, f, s, d)
        want_n = ql.bachelierBlackFormula(typ, k, f, s / 50, 1.0)
        assert float(bachelier(w, k, f, s / 50)) == pytest.approx(want_n, abs=1e-17)


def test_norm_cdf_matches_quantlib() -> None:
    """QuantLib's CumulativeNormalDistribution: the same 0.5 (1 + erf(x / sqrt 2)) in the body,
    with two erf implementations one ulp apart (3e-16 absolute); in the far tail (values below
    1e-8) QuantLib's asymptotic series and ndtr differ by < 2e-7 relative."""
    x = np.linspace(-9.0, 9.0, 20001)
    cnd = ql.CumulativeNormalDistribution()
    want = np.array([cnd(float(v)) for v in x])
    got = norm_cdf(x)
    body = want > 1e-8
    assert np.allclose(got[body], want[body], rtol=0.0, atol=3e-16)
    assert np.allclose(got[~body], want[~body], rtol=2e-7, atol=0.0)


rates = st.floats(0.0005, 0.10)
sds = st.floats(1e-4, 2.0)


@settings(max_examples=200, deadline=None)
@given(k=rates, f=rates, s=sds, shift=st.floats(0.0, 0.03))
def test_black_parity(k: float, f: float, s: float, shift: float) -> None:
    """call - put = F - K (the displacement cancels), to rounding of the larger leg."""
    c, p = float(black(1.0, k, f, s, shift)), float(black(-1.0, k, f, s, shift))
    assert c - p == pytest.approx(f - k, abs=4e-16 * (f + k + 2 * shift + c + p))


@settings(max_examples=200, deadline=None)
@given(k=st.floats(-0.02, 0.1), f=st.floats(-0.02, 0.1), s=st.floats(1e-5, 0.05))
def test_bachelier_parity(k: float, f: float, s: float) -> None:
    """call - put = F - K."""
    c, p = float(bachelier(1.0, k, f, s)), float(bachelier(-1.0, k, f, s))
    assert c - p == pytest.approx(f - k, abs=4e-16 * (abs(f) + abs(k) + c + p + s))


@settings(max_examples=200, deadline=None)
@given(k=rates, f=rates, s=sds, bump=st.floats(1e-4, 0.01))
def test_monotonicity(k: float, f: float, s: float, bump: float) -> None:
    """Calls increase in the forward and the std dev and decrease in the strike; puts the
    opposite in forward and strike; both formulas."""
    for fn, sd in ((black, s), (bachelier, s / 50)):
        args = (k, f, sd)
        base_c, base_p = float(fn(1.0, *args)), float(fn(-1.0, *args))
        tol = 1e-15
        assert float(fn(1.0, k, f + bump, sd)) >= base_c - tol
        assert float(fn(1.0, k + bump, f, sd)) <= base_c + tol
        assert float(fn(1.0, k, f, sd * 1.1)) >= base_c - tol
        assert float(fn(-1.0, k, f + bump, sd)) <= base_p + tol
        assert float(fn(-1.0, k + bump, f, sd)) >= base_p - tol


def test_broadcasting() -> None:
    """Forwards per option (k, 1) against std devs per option and scenario (k, S), and the
    other way round: the same values as the fully expanded arrays."""
    rng = np.random.default_rng(1)
    f, k = rng.uniform(0.01, 0.05, (4, 1)), rng.uniform(0.01, 0.05, (4, 1))
    sd = rng.uniform(0.05, 0.5, (4, 3))
    w = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    full = np.broadcast_to
    for fn, s in ((black, sd), (bachelier, sd / 50)):
        want = fn(full(w, s.shape), full(k, s.shape), full(f, s.shape), s)
        assert np.array_equal(fn(w, k, f, s), want)
        f_full = f * np.array([[1.0, 1.1, 0.9]])  # forwards moving per scenario, one std dev
        want = fn(full(w, s.shape), full(k, s.shape), f_full, full(s[:, :1], s.shape))
        assert np.array_equal(fn(w, k, f_full, s[:, :1]), want)
