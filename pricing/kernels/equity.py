"""Equity option kernels: European, American (Barone-Adesi-Whaley) and barrier, over scenarios.

The numpy twins of :mod:`pricing.products.equity`. Each replicates, operation for operation, the
QuantLib 1.44 engine the reference pricer uses, so that the two agree to rounding (the
conformance battery measures it):

* European: ``AnalyticEuropeanEngine`` + ``BlackCalculator``: ``F = S Dq / Dr``,
  ``d1 = log(F/K)/sd + sd/2``, value ``Dr (F alpha + K beta)`` with ``alpha = N(d1)``,
  ``beta = -N(d2)`` for a call and ``alpha = -1 + N(d1)``, ``beta = 1 - N(d2)`` for a put.
* American: ``BaroneAdesiWhaleyApproximationEngine``: the same seed and Newton iteration for the
  critical price (tolerance 1e-6 of the strike, stopping per trade and scenario exactly where
  QuantLib's loop stops), then the quadratic early-exercise premium. QuantLib 1.44 returns the
  European value when early exercise is never optimal (a call with ``Dq >= 1`` and
  ``Dq >= Dr``; a put with ``Dr >= 1`` and ``Dr >= Dq``) and refuses any other case with
  ``Dr > 1`` (negative rates): those cells are NaN here, as the reference reports an error.
* Barrier: ``AnalyticBarrierEngine`` (Reiner-Rubinstein terms A-F, knock-out rebate paid at the
  hit, knock-in rebate at expiry), with continuously compounded zero rates
  ``r = log(1/Dr)/T`` and ``q = log(1/Dq)/T`` as the engine takes them, the Black vol at the
  strike for ``mu`` and ``lambda`` and ``sqrt(variance)`` for the standard deviation. A spot
  beyond the barrier (the reference raises: the knock event is not booked) gives NaN.

Inputs are those of the reference process ``BlackScholesMertonProcess``: spot ``EQ.<UND>.SPOT``,
dividend discount ``1/exp(q T)`` of the flat ``EQ.<UND>.DIV`` yield (QuantLib's ``FlatForward``
computes it that way), the OIS discount factor of the underlying's currency at expiry, and the
vol surface's Black variance ``vol(T, K)^2 T`` at the strike; ``T`` is ACT/365F from the as-of
date to expiry. An option expiring on the as-of date is worth 0 (QuantLib: expired).

The normal distribution is QuantLib's own (:func:`norm_cdf`): its error function and its
truncated asymptotic tail below 1e-8 reproduced (identical down to ``z = -8.5``, 1e-15 relative
beyond), because ``scipy.special.ndtr`` differs from it by up to 1.3e-7 relative in the tail and
by an ulp elsewhere, which the put's ``-1 + N(d1)`` and the barrier terms' powers of ``H/S``
turn into visible differences. On random inputs the European, BAW and barrier formulas gave
QuantLib's engines' values bit for bit (``tests/pricing/kernels/test_equity_kernel.py``).

Work is done per underlying, in chunks of trades sized to keep the [trade, scenario] temporaries
in cache (PITFALLS 24-25); discount factors are taken once per distinct expiry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.special import erfcx

from pricing.kernels.base import KernelUnsupported, LoweringContext, days
from pricing.trades import EquityAmericanOption, EquityBarrierOption, EquityOption

__all__ = [
    "CHUNK_ELEMENTS",
    "TRADE_TYPES",
    "EquityBatch",
    "LoweredEquityOption",
    "barrier_value",
    "baw_value",
    "black_formula",
    "black_value",
    "lower",
    "norm_cdf",
    "norm_pdf",
    "pv",
    "stack",
]

F64 = NDArray[np.float64]

TRADE_TYPES = (EquityOption, EquityAmericanOption, EquityBarrierOption)

#: Target size of one chunk's [trade, scenario] temporaries (elements); ~256 kB per array.
CHUNK_ELEMENTS = 32_768

EUROPEAN, AMERICAN, BARRIER = 0, 1, 2
_KINDS = {EquityOption: EUROPEAN, EquityAmericanOption: AMERICAN, EquityBarrierOption: BARRIER}
#: Barrier type -> (eta: +1 down / -1 up, knock-in?)
_BARRIERS = {
    "DOWN_IN": (1.0, True),
    "UP_IN": (-1.0, True),
    "DOWN_OUT": (1.0, False),
    "UP_OUT": (-1.0, False),
}

QL_EPSILON = float(np.finfo(np.float64).eps)
#: Critical-price tolerance of QuantLib's BAW engine (relative to the strike).
BAW_TOLERANCE = 1e-6
#: Safety cap on the BAW Newton iteration (QuantLib has none; it converges in a handful).
BAW_MAX_ITERATIONS = 500


class _Market(Protocol):
    """The part of :class:`pricing.vector.market.ScenarioMarket` the equity kernels use."""

    @property
    def n(self) -> int: ...
    def df(self, index_or_ccy: str, t: F64) -> F64: ...
    def equity_spot(self, underlying: str) -> F64: ...
    def dividend_yield(self, underlying: str) -> F64: ...
    def equity_vol(self, underlying: str, t: F64, strike: F64) -> F64: ...


# -- QuantLib's normal distribution ----------------------------------------------------------------

# ErrorFunction (ql/math/errorfunction.cpp; Sun's fdlibm erf without its low-word trick).
_ERX = 8.45062911510467529297e-01
_EFX = 1.28379167095512586316e-01
_PP = (
    1.28379167095512558561e-01,
    -3.25042107247001499370e-01,
    -2.84817495755985104766e-02,
    -5.77027029648944159157e-03,
    -2.37630166566501626084e-05,
)
_QQ = (
    1.0,
    3.97917223959155352819e-01,
    6.50222499887672944485e-02,
    5.08130628187576562776e-03,
    1.32494738004321644526e-04,
    -3.96022827877536812320e-06,
)
_PA = (
    -2.36211856075265944077e-03,
    4.14856118683748331666e-01,
    -3.72207876035701323847e-01,
    3.18346619901161753674e-01,
    -1.10894694282396677476e-01,
    3.54783043256182359371e-02,
    -2.16637559486879084300e-03,
)
_QA = (
    1.0,
    1.06420880400844228286e-01,
    5.40397917702171048937e-01,
    7.18286544141962662868e-02,
    1.26171219808761642112e-01,
    1.36370839120290507362e-02,
    1.19844998467991074170e-02,
)
_RA = (
    -9.86494403484714822705e-03,
    -6.93858572707181764372e-01,
    -1.05586262253232909814e01,
    -6.23753324503260060396e01,
    -1.62396669462573470355e02,
    -1.84605092906711035994e02,
    -8.12874355063065934246e01,
    -9.81432934416914548592e00,
)
_SA = (
    1.0,
    1.96512716674392571292e01,
    1.37657754143519042600e02,
    4.34565877475229228821e02,
    6.45387271733267880336e02,
    4.29008140027567833386e02,
    1.08635005541779435134e02,
    6.57024977031928170135e00,
    -6.04244152148580987438e-02,
)
_RB = (
    -9.86494292470009928597e-03,
    -7.99283237680523006574e-01,
    -1.77579549177547519889e01,
    -1.60636384855821916062e02,
    -6.37566443368389627722e02,
    -1.02509513161107724954e03,
    -4.83519191608651397019e02,
)
_SB = (
    1.0,
    3.03380607434824582924e01,
    3.25792512996573918826e02,
    1.53672958608443695994e03,
    3.19985821950859553908e03,
    2.55305040643316442583e03,
    4.74528541206955367215e02,
    -2.24409524465858183362e01,
)
_M_SQRT_2 = 0.7071067811865475244008443621048490  # QuantLib's M_SQRT_2 = 1/sqrt(2)
_M_1_SQRTPI = 0.564189583547756286948
_GAUSS_NORM = _M_SQRT_2 * _M_1_SQRTPI  # NormalDistribution's normalizationFactor_


def _poly(c: tuple[float, ...], z: F64) -> F64:
    """``c0 + z*(c1 + z*(c2 + ...))``, evaluated innermost first like the C source."""
    acc = c[-1] * z
    acc += c[-2]
    for a in c[-3::-1]:
        acc *= z
        acc += a
    return acc


def _erf(x: F64) -> F64:
    """QuantLib's ``ErrorFunction`` on a 1-D array (identical results, same branches).

    The central branch (|x| < 0.84375, most arguments of an option book) is split off with one
    mask; only the rest is classified further.
    """
    ax = np.abs(x)
    out = np.empty_like(x)
    central = ax < 0.84375
    i1 = np.flatnonzero(central)
    if i1.size:
        v = x[i1]
        z = v * v
        r = _poly(_PP, z)
        r /= _poly(_QQ, z)
        r *= v
        r += v  # v + v * (P / Q)
        tiny = np.flatnonzero(np.abs(v) < 3.7252902984e-09)
        if tiny.size:
            r[tiny] = v[tiny] + _EFX * v[tiny]
        out[i1] = r
    rest = np.flatnonzero(~central)
    if not rest.size:
        return out
    xr, ar = x[rest], ax[rest]
    i2 = np.flatnonzero(ar < 1.25)
    if i2.size:
        s = ar[i2] - 1.0
        pq = _poly(_PA, s) / _poly(_QA, s)
        out[rest[i2]] = np.where(xr[i2] >= 0, _ERX + pq, -_ERX - pq)
    # 1.25 <= |x| < 1/0.35 and 1/0.35 <= |x| < 6 (NaN lands in the latter and stays NaN)
    for i3, r_c, s_c in (
        (np.flatnonzero((ar >= 1.25) & (ar < 2.85714285714285)), _RA, _SA),
        (np.flatnonzero(~(ar < 2.85714285714285) & ~(ar >= 6.0)), _RB, _SB),
    ):
        if i3.size:
            a = ar[i3]
            s = 1.0 / (a * a)
            q = np.exp(-a * a - 0.5625 + _poly(r_c, s) / _poly(s_c, s)) / a
            out[rest[i3]] = np.where(xr[i3] >= 0, 1.0 - q, q - 1.0)
    i4 = np.flatnonzero(ar >= 6.0)
    if i4.size:
        out[rest[i4]] = np.where(xr[i4] >= 0, 1.0, -1.0)
    return out


def norm_pdf(x: F64) -> F64:
    """Standard normal density as QuantLib's ``NormalDistribution`` computes it (0 below
    ``exp(-690)``)."""
    e = -(x * x) / 2.0
    return np.where(e <= -690.0, 0.0, _GAUSS_NORM * np.exp(e))


def _cnd_tail(z: F64) -> F64:
    """QuantLib's asymptotic expansion (Abramowitz-Stegun 26.2.12) where ``N(z) <= 1e-8``.

    ``-gaussian(z) / z * S`` with QuantLib's gaussian and its truncated series ``S``. Above
    ``z = -8.5`` the truncation shows (up to 1.3e-7 relative at -5.6), so ``S`` is formed as the
    C loop forms it: its terms, running product and running sum in its order, taken at its
    stopping iteration (the first whose term stops decreasing or falls below the sum's
    precision; at most 18); small inputs unroll the iterations as rows, large ones iterate over
    whole arrays. Below -8.5 the loop stops on precision: its ``S`` is the series' limit
    ``|z| sqrt(pi/2) erfcx(|z| / sqrt 2)`` (the Mills ratio) to a few ulps, 1e-15 relative,
    at a fraction of the cost.
    """
    total = np.empty_like(z)
    far = z <= _TAIL_CONVERGED
    if far.any():
        az = -z[far]
        total[far] = az * _SQRT_HALF_PI * erfcx(az * _M_SQRT_2)
    near = np.flatnonzero(~far)
    if near.size:
        zn = z[near]
        total[near] = _tail_rows(zn) if zn.size <= _TAIL_ROWS_MAX else _tail_loop(zn)
    return -norm_pdf(z) / z * total


#: Below this QuantLib's tail series has converged to its limit (to ~1e-15 relative).
_TAIL_CONVERGED = -8.5
_SQRT_HALF_PI = 1.2533141373155002512078826424055226  # sqrt(pi / 2)
_TAIL_ROWS_MAX = 256
_TAIL_TERMS = 20


def _tail_rows(z: F64) -> F64:
    zsqr = z * z
    i = np.arange(1.0, _TAIL_TERMS + 1.0)[:, None]
    x = (4.0 * i - 3.0) / zsqr
    y = x * ((4.0 * i - 1.0) / zsqr)
    one = np.ones((1, z.size))
    g = np.multiply.accumulate(np.concatenate([one, y[:-1]]), axis=0)  # sequential, as in C
    term = g * (x - y)
    total = np.subtract.accumulate(np.concatenate([one, term]), axis=0)[1:]
    a = np.abs(term)
    last = np.concatenate([np.full((1, z.size), np.finfo(np.float64).max), a[:-1]])
    going = (last > a) & (a >= np.abs(total * QL_EPSILON))
    if going.all(axis=0).any():
        return _tail_loop(z)
    return total[np.argmin(going, axis=0), np.arange(z.size)]


def _tail_loop(z: F64) -> F64:
    zsqr = z * z
    total = np.ones_like(z)
    g = np.ones_like(z)
    last = np.full_like(z, np.finfo(np.float64).max)
    result = np.empty_like(z)
    going = np.ones(z.shape, dtype=np.bool_)
    i = 1.0
    while True:
        x = (4.0 * i - 3.0) / zsqr
        y = x * ((4.0 * i - 1.0) / zsqr)
        term = g * (x - y)
        total -= term
        g *= y
        a = np.abs(term, out=term)
        more = (last > a) & (a >= np.abs(total * QL_EPSILON))
        stopped = going & ~more
        result[stopped] = total[stopped]
        going &= more
        if not going.any():
            return result
        last = a
        i += 1.0


def norm_cdf(z: F64) -> F64:
    """Cumulative standard normal exactly as QuantLib's ``CumulativeNormalDistribution``.

    ``0.5 (1 + erf(z / sqrt 2))`` with QuantLib's error function, and its asymptotic series where
    that falls to 1e-8 or below (``z`` below about -5.6), truncated where QuantLib truncates it.
    That tail differs from the exact one by up to 1.3e-7 relative near -5.6 and, through
    QuantLib's rounding of ``exp(-z^2/2)``, by 2e-13 far out, which the barrier formulas
    multiply by large powers of ``H/S``: ``scipy.special.ndtr`` would not reproduce QuantLib
    there. Identical to QuantLib above ``z = -8.5``, 1e-15 relative below (see ``_cnd_tail``).

    >>> norm_cdf(np.array([0.0, 1.959963984540054])).round(12).tolist()
    [0.5, 0.975]
    """
    z = np.asarray(z, dtype=np.float64)
    flat = z.ravel()
    res = _erf(flat * _M_SQRT_2)
    res += 1.0
    res *= 0.5
    tail = np.flatnonzero(res <= 1e-8)
    if tail.size:
        res[tail] = _cnd_tail(flat[tail])
    return res.reshape(z.shape)


# -- closed forms ----------------------------------------------------------------------------------


def black_value(put: F64, fwd: F64, strike: F64, std_dev: F64, discount: F64) -> F64:
    """``BlackCalculator(payoff, fwd, std_dev, discount).value()`` (``put`` is 1.0 / 0.0).

    >>> float(black_value(np.array(0.0), np.array(100.0), np.array(100.0), np.array(0.2),
    ...                   np.array(1.0)).round(6))  # 100 (2 N(0.1) - 1)
    7.965567
    """
    shape = np.broadcast_shapes(np.shape(fwd), np.shape(strike), np.shape(std_dev))
    d = np.empty((2, *shape))  # d1, d2, for N in one call
    d1 = d[0, ...]  # a view, also for 0-d inputs
    np.divide(fwd, strike, out=d1)
    np.log(d1, out=d1)
    d1 /= std_dev
    d1 += 0.5 * std_dev
    np.subtract(d1, std_dev, out=d[1, ...])
    cum = norm_cdf(d)
    alpha, beta = cum[0, ...], cum[1, ...]
    alpha -= put  # call N(d1); put -1 + N(d1)
    np.subtract(put, beta, out=beta)  # call -N(d2); put 1 - N(d2)
    alpha *= fwd
    beta *= strike
    alpha += beta
    return discount * alpha  # discount * (fwd * alpha + strike * beta)


def black_formula(w: F64, strike: F64, fwd: F64, std_dev: F64) -> F64:
    """QuantLib's undiscounted ``blackFormula(type, strike, forward, stdDev)`` (``w = +-1``);
    NaN where QuantLib throws (a forward that is not positive, or a negative result)."""
    d1 = np.log(fwd / strike) / std_dev + 0.5 * std_dev
    d2 = d1 - std_dev
    res = 1.0 * w * (fwd * norm_cdf(w * d1) - strike * norm_cdf(w * d2))
    return np.where((res >= 0.0) & (fwd > 0.0), res, np.nan)


def _close(x: F64, y: float, n: int) -> NDArray[np.bool_]:
    """QuantLib's ``close(x, y, n)`` (relative to both numbers, ``n`` epsilons)."""
    diff = np.abs(x - y)
    tol = n * QL_EPSILON
    both = (diff <= tol * np.abs(x)) & (diff <= tol * abs(y))
    zero = (x * y == 0.0) & (diff < tol * tol)
    return (x == y) | np.where(x * y == 0.0, zero, both)


def _quadratic_k(dr: F64, variance: F64) -> F64:
    """BAW's ``K``: ``-2 log(Dr) / (variance (1 - Dr))``, or ``2 / variance`` when ``Dr``
    is within 1000 epsilons of 1."""
    near = _close(dr, 1.0, 1000)
    return np.where(near, 2.0 / variance, -2.0 * np.log(dr) / (variance * (1.0 - dr)))


def _critical_price(w: F64, strike: F64, dr: F64, dq: F64, variance: F64) -> F64:
    """BAW critical price (``criticalPrice`` of the QuantLib engine), 1-D arrays, ``w = +-1``.

    Seed, then Newton steps until ``|LHS - RHS| / K <= 1e-6`` — each element stops at the same
    iteration as QuantLib's scalar loop. NaN where the iteration does not settle.
    """
    call = w > 0
    sd = np.sqrt(variance)
    n = 2.0 * np.log(dq / dr) / variance
    m = -2.0 * np.log(dr) / variance
    b_t = np.log(dq / dr)
    root_m = np.sqrt((n - 1.0) * (n - 1.0) + 4.0 * m)
    qu = np.where(call, (-(n - 1.0) + root_m) / 2.0, (-(n - 1.0) - root_m) / 2.0)
    su = strike / (1.0 - 1.0 / qu)
    h_call = -(b_t + 2.0 * sd) * strike / (su - strike)
    h_put = (b_t - 2.0 * sd) * strike / (strike - su)
    si = np.where(
        call, strike + (su - strike) * (1.0 - np.exp(h_call)), su + (strike - su) * np.exp(h_put)
    )
    kk = _quadratic_k(dr, variance)
    root_k = np.sqrt((n - 1.0) * (n - 1.0) + 4 * kk)
    q = np.where(call, (-(n - 1.0) + root_k) / 2, (-(n - 1.0) - root_k) / 2)

    def terms(i: NDArray[np.intp], s: F64) -> tuple[F64, F64, F64]:
        wi, ki, dri, dqi, vi, sdi, qi = w[i], strike[i], dr[i], dq[i], variance[i], sd[i], q[i]
        fwd = s * dqi / dri
        d1 = (np.log(fwd / ki) + 0.5 * vi) / sdi
        temp = black_formula(wi, ki, fwd, sdi) * dri
        nd = norm_cdf(wi * d1)
        pd = norm_pdf(wi * d1)
        c = wi > 0
        lhs = np.where(c, s - ki, ki - s)
        rhs_c = temp + (1 - dqi * nd) * s / qi
        rhs_p = temp - (1 - dqi * nd) * s / qi
        bi_c = dqi * nd * (1 - 1 / qi) + (1 - dqi * pd / sdi) / qi
        bi_p = -dqi * nd * (1 - 1 / qi) - (1 + dqi * pd / sdi) / qi
        return lhs, np.where(c, rhs_c, rhs_p), np.where(c, bi_c, bi_p)

    active = np.arange(si.size)
    lhs, rhs, bi = terms(active, si)
    for _ in range(BAW_MAX_ITERATIONS):
        failed = np.isnan(rhs)  # QuantLib threw (the iterate left the positive half-line)
        si[active[failed]] = np.nan
        going = ~failed & (np.abs(lhs - rhs) / strike[active] > BAW_TOLERANCE)
        active, lhs, rhs, bi = active[going], lhs[going], rhs[going], bi[going]
        if not active.size:
            return si
        s, k = si[active], strike[active]
        s = np.where(w[active] > 0, (k + rhs - bi * s) / (1 - bi), (k - rhs + bi * s) / (1 + bi))
        si[active] = s
        lhs, rhs, bi = terms(active, s)
    si[active] = np.nan
    return si


def baw_value(w: F64, spot: F64, strike: F64, dr: F64, dq: F64, variance: F64) -> F64:
    """Barone-Adesi-Whaley value of an American option, as QuantLib 1.44's engine computes it.

    All arguments broadcast together (``w = +1`` call, ``-1`` put; ``dr``/``dq`` discount
    factors of the rate and the dividend yield to expiry; ``variance`` the Black variance at the
    strike). NaN where QuantLib refuses (negative rates outside the European shortcuts).

    >>> v = baw_value(np.array(-1.0), np.array(100.0), np.array(100.0), np.exp(-0.1 * 0.5),
    ...               np.exp(-0.1 * 0.5), np.array(0.15**2 * 0.5))
    >>> round(float(v), 2)  # Haug (1998) p. 24 lists 4.0842 (a table good to ~3e-3)
    4.08
    """
    w, spot, strike, dr, dq, variance = (
        np.array(a, dtype=np.float64)
        for a in np.broadcast_arrays(w, spot, strike, dr, dq, variance)
    )
    shape = w.shape
    w, spot, strike, dr, dq, variance = (a.ravel() for a in (w, spot, strike, dr, dq, variance))
    with np.errstate(all="ignore"):
        sd = np.sqrt(variance)
        value = black_value((w < 0).astype(np.float64), spot * dq / dr, strike, sd, dr)
        european = np.where(w > 0, (dq >= 1.0) & (dq >= dr), (dr >= 1.0) & (dr >= dq))
        refused = ~european & (dr > 1.0)
        i = np.flatnonzero(~european & ~refused)
        if i.size:
            wi, si, ki, dri, dqi, vi = w[i], spot[i], strike[i], dr[i], dq[i], variance[i]
            sk = _critical_price(wi, ki, dri, dqi, vi)
            d1 = (np.log(sk * dqi / dri / ki) + 0.5 * vi) / np.sqrt(vi)
            n = 2.0 * np.log(dqi / dri) / vi
            kk = _quadratic_k(dri, vi)
            root = np.sqrt((n - 1.0) * (n - 1.0) + 4.0 * kk)
            call = wi > 0
            q = np.where(call, (-(n - 1.0) + root) / 2.0, (-(n - 1.0) - root) / 2.0)
            a = np.where(
                call,
                (sk / q) * (1.0 - dqi * norm_cdf(d1)),
                -(sk / q) * (1.0 - dqi * norm_cdf(-d1)),
            )
            premium = value[i] + a * np.power(si / sk, q)
            hold = np.where(call, si < sk, si > sk)
            exercise = np.where(call, si - ki, ki - si)
            value[i] = np.where(np.isnan(sk), np.nan, np.where(hold, premium, exercise))
        value[refused] = np.nan
    return value.reshape(shape)


def barrier_value(
    w: F64,
    eta: F64,
    knock_in: NDArray[np.bool_],
    strike: F64,
    barrier: F64,
    rebate: F64,
    spot: F64,
    dr: F64,
    dq: F64,
    vol: F64,
    t: F64,
) -> F64:
    """``AnalyticBarrierEngine`` value per unit, arrays shaped [trade, scenario].

    Per-trade arrays (``w`` +-1, ``eta`` +1 down / -1 up, ``knock_in``, ``strike``, ``barrier``,
    ``rebate``, ``t``) are columns ``(c, 1)``; ``spot`` is ``(1, S)``; ``dr``, ``dq`` and
    ``vol`` are ``(c, S)`` or ``(c, 1)``. The value is the engine's sum of the terms A, B, C, D
    and E (knock-in) or F (knock-out) picked by option type, barrier type and ``strike >=
    barrier``, added in the engine's order; a spot beyond the barrier gives NaN.

    >>> col = lambda x: np.array([[x]], dtype=float)
    >>> v = barrier_value(col(1), col(1), np.array([[False]]), col(90), col(95), col(3),
    ...                   col(100), col(np.exp(-0.08 * 0.5)), col(np.exp(-0.04 * 0.5)),
    ...                   col(0.25), col(0.5))
    >>> round(float(v[0, 0]), 4)  # Haug (1998) p. 72, down-and-out call: 9.0246
    9.0246
    """
    with np.errstate(all="ignore"):
        return _barrier_value(w, eta, knock_in, strike, barrier, rebate, spot, dr, dq, vol, t)


def _barrier_value(
    w: F64,
    eta: F64,
    knock_in: NDArray[np.bool_],
    strike: F64,
    barrier: F64,
    rebate: F64,
    spot: F64,
    dr: F64,
    dq: F64,
    vol: F64,
    t: F64,
) -> F64:
    c = w.shape[0]
    shape = np.broadcast_shapes(w.shape, spot.shape, dr.shape, dq.shape, vol.shape)

    def full(a: F64) -> F64:
        return np.ascontiguousarray(np.broadcast_to(a, shape))

    spot_f, dr_f, vol_f = full(spot), full(dr), full(vol)
    sd = np.sqrt(vol_f * vol_f * t)  # stdDeviation(): sqrt(blackVariance(T, K))
    r = np.log(1.0 / dr_f) / t  # zeroRate(T, ACT/365F, Continuous)
    q = np.log(1.0 / full(dq)) / t
    mu = (r - q) / (vol_f * vol_f) - 0.5
    mu_sigma = (1 + mu) * sd
    s_dq = spot_f * full(dq)
    k_dr = strike * dr_f
    out = np.zeros(shape)

    coef = np.array(
        [
            _BARRIER_TERMS[(bool(wj > 0), bool(ej > 0), bool(ij), bool(kj >= hj))]
            for wj, ej, ij, kj, hj in zip(
                w[:, 0], eta[:, 0], knock_in[:, 0], strike[:, 0], barrier[:, 0], strict=True
            )
        ],
        dtype=np.float64,
    ).reshape(c, 4)

    def nz(n_val: F64, p: F64) -> F64:  # the engine's (N == 0 ? 0 : pow * N)
        return np.where(n_val == 0.0, 0.0, p * n_val)

    for j, block in enumerate("ABCD"):
        i = np.flatnonzero(coef[:, j] != 0)
        if not i.size:
            continue
        wi, si, sdi, msi = w[i], spot_f[i], sd[i], mu_sigma[i]
        if block in "AB":
            x = np.log(si / (strike[i] if block == "A" else barrier[i])) / sdi + msi
            term = wi * (s_dq[i] * norm_cdf(wi * x) - k_dr[i] * norm_cdf(wi * (x - sdi)))
        else:
            h, ei = barrier[i], eta[i]
            hs = h / si
            pow0 = np.power(hs, 2 * mu[i])
            pow1 = pow0 * hs * hs
            y = (np.log(h * hs / strike[i]) if block == "C" else np.log(h / si)) / sdi + msi
            n1 = norm_cdf(ei * y)
            n2 = norm_cdf(ei * (y - sdi))
            term = wi * (s_dq[i] * nz(n1, pow1) - k_dr[i] * nz(n2, pow0))
        out[i] += coef[i, j][:, None] * term

    i = np.flatnonzero(rebate[:, 0] > 0)
    if i.size:
        ei, h, reb = eta[i], barrier[i], rebate[i]
        si, sdi, msi, mui = spot_f[i], sd[i], mu_sigma[i], mu[i]
        # E: knock-in rebate, paid at expiry
        pow0 = np.power(h / si, 2 * mui)
        x2 = np.log(si / h) / sdi + msi
        y2 = np.log(h / si) / sdi + msi
        n1 = norm_cdf(ei * (x2 - sdi))
        n2 = norm_cdf(ei * (y2 - sdi))
        e_term = reb * dr_f[i] * (n1 - nz(n2, pow0))
        # F: knock-out rebate, paid at the hit
        voli = vol_f[i]
        lam = np.sqrt(mui * mui + 2.0 * r[i] / (voli * voli))
        hs = h / si
        z = np.log(h / si) / sdi + lam * sdi
        f1 = norm_cdf(ei * z)
        f2 = norm_cdf(ei * (z - 2.0 * lam * sdi))
        f_term = reb * (nz(f1, np.power(hs, mui + lam)) + nz(f2, np.power(hs, mui - lam)))
        out[i] += np.where(knock_in[i], e_term, f_term)

    out[np.where(eta > 0, spot_f < barrier, spot_f > barrier)] = np.nan
    return out


#: (call, down, knock-in, strike >= barrier) -> coefficients of the engine's terms A, B, C, D
#: (ql/pricingengines/barrier/analyticbarrierengine.cpp, calculate()).
_BARRIER_TERMS = {
    (True, True, True, True): (0, 0, 1, 0),  # C + E
    (True, True, True, False): (1, -1, 0, 1),  # A - B + D + E
    (True, False, True, True): (1, 0, 0, 0),  # A + E
    (True, False, True, False): (0, 1, -1, 1),  # B - C + D + E
    (True, True, False, True): (1, 0, -1, 0),  # A - C + F
    (True, True, False, False): (0, 1, 0, -1),  # B - D + F
    (True, False, False, True): (0, 0, 0, 0),  # F
    (True, False, False, False): (1, -1, 1, -1),  # A - B + C - D + F
    (False, True, True, True): (0, 1, -1, 1),  # B - C + D + E
    (False, True, True, False): (1, 0, 0, 0),  # A + E
    (False, False, True, True): (1, -1, 0, 1),  # A - B + D + E
    (False, False, True, False): (0, 0, 1, 0),  # C + E
    (False, True, False, True): (1, -1, 1, -1),  # A - B + C - D + F
    (False, True, False, False): (0, 0, 0, 0),  # F
    (False, False, False, True): (0, 1, 0, -1),  # B - D + F
    (False, False, False, False): (1, 0, -1, 0),  # A - C + F
}


# -- lowering --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LoweredEquityOption:
    """One equity option as plain numbers (no quote in it).

    ``days`` to expiry (<= 0: expired, worth 0), ``w`` +1 call / -1 put, ``scale`` = side x
    quantity; barrier fields are used by barrier options only (``eta`` +1 down / -1 up).
    """

    kind: int
    underlying: str
    currency: str
    days: int
    strike: float
    w: float
    scale: float
    eta: float = 0.0
    knock_in: bool = False
    barrier: float = 0.0
    rebate: float = 0.0


def lower(trade: EquityOption, ctx: LoweringContext) -> LoweredEquityOption:
    """Lower one equity option.

    Raises ``KernelUnsupported`` when the reference pricer is configured with an engine the
    kernels do not replicate (the finite-difference American or barrier engines).

    >>> import datetime as dt
    >>> from pricing.kernels.base import LoweringContext
    >>> opt = EquityOption(trade_id="E1", book="B", counterparty="C", underlying="SPX",
    ...                    quantity=10, strike=6800, expiry_date=dt.date(2026, 6, 19),
    ...                    option_type="PUT", side="SELL")
    >>> lo = lower(opt, LoweringContext(dt.date(2025, 11, 28), {}, None))  # type: ignore[arg-type]
    >>> lo.days, lo.w, lo.scale, lo.currency
    (203, -1.0, -10.0, 'USD')
    """
    from pricing.products import equity as reference  # the engine choice lives there

    kind = _KINDS.get(type(trade))
    if kind is None:
        raise KernelUnsupported(f"not an equity option: {type(trade).__name__}")
    if kind == AMERICAN and reference.AMERICAN_ENGINE != "BAW":
        raise KernelUnsupported(f"American engine {reference.AMERICAN_ENGINE} (kernel: BAW only)")
    if kind == BARRIER and reference.BARRIER_ENGINE != "ANALYTIC":
        raise KernelUnsupported(f"barrier engine {reference.BARRIER_ENGINE} (kernel: analytic)")
    sign = -1.0 if trade.side == "SELL" else 1.0
    lo = LoweredEquityOption(
        kind=kind,
        underlying=trade.underlying,
        currency=trade.currency,
        days=days(ctx.asof, trade.expiry_date),
        strike=float(trade.strike),
        w=1.0 if trade.option_type == "CALL" else -1.0,
        scale=sign * float(trade.quantity),
    )
    if isinstance(trade, EquityBarrierOption):
        eta, knock_in = _BARRIERS[trade.barrier_type]
        lo = dataclasses.replace(
            lo, eta=eta, knock_in=knock_in, barrier=float(trade.barrier), rebate=float(trade.rebate)
        )
    return lo


@dataclasses.dataclass(frozen=True)
class _Group:
    underlying: str
    currency: str
    kind: int
    index: NDArray[np.intp]  # positions in the batch of live trades of this group


@dataclasses.dataclass(frozen=True)
class EquityBatch:
    """Lowered equity options stacked into arrays, grouped by (underlying, currency, kind)."""

    size: int
    days: NDArray[np.int64]
    strike: F64
    w: F64
    scale: F64
    eta: F64
    knock_in: NDArray[np.bool_]
    barrier: F64
    rebate: F64
    groups: tuple[_Group, ...]


def stack(lowered: Sequence[LoweredEquityOption]) -> EquityBatch:
    """Concatenate lowered options; expired ones (``days <= 0``) are in no group (PV 0)."""

    def arr(name: str, dtype: type = np.float64) -> NDArray[Any]:
        return np.array([getattr(lo, name) for lo in lowered], dtype=dtype)

    d = arr("days", np.int64)
    keys: dict[tuple[str, str, int], list[int]] = {}
    for i, lo in enumerate(lowered):
        if lo.days > 0:
            keys.setdefault((lo.underlying, lo.currency, lo.kind), []).append(i)
    groups = tuple(
        _Group(u, c, k, np.array(ix, dtype=np.intp)) for (u, c, k), ix in sorted(keys.items())
    )
    return EquityBatch(
        size=len(lowered),
        days=d,
        strike=arr("strike"),
        w=arr("w"),
        scale=arr("scale"),
        eta=arr("eta"),
        knock_in=arr("knock_in", np.bool_),
        barrier=arr("barrier"),
        rebate=arr("rebate"),
        groups=groups,
    )


# -- the kernel ------------------------------------------------------------------------------------


def _chunks(n_trades: int, n_scen: int) -> Iterator[slice]:
    step = max(1, CHUNK_ELEMENTS // max(1, n_scen))
    for start in range(0, n_trades, step):
        yield slice(start, min(start + step, n_trades))


def _by_trade(a: F64) -> F64:
    """Market array ``(S, k)`` -> contiguous ``(k, S)`` (trade-major, scenario in the row)."""
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64).T)


def pv(batch: EquityBatch, market: _Market) -> F64:
    """PV ``(market.n, k)`` of every option of the batch in every scenario, in the underlying's
    currency, for the whole position (side and quantity applied), like the reference."""
    out = np.zeros((market.n, batch.size))
    with np.errstate(all="ignore"):
        for g in batch.groups:
            _group_pv(batch, g, market, out)
    return out


def _group_pv(batch: EquityBatch, g: _Group, market: _Market, out: F64) -> None:
    und = g.underlying
    spot = np.asarray(market.equity_spot(und), dtype=np.float64)[None, :]  # (1, S)
    div = np.asarray(market.dividend_yield(und), dtype=np.float64)[None, :]
    days_u, inv = np.unique(batch.days[g.index], return_inverse=True)
    t_u = days_u / 365.0
    dr_u = _by_trade(market.df(g.currency, t_u))  # (u, S)
    dq_u = 1.0 / np.exp(div * t_u[:, None])  # FlatForward: 1 / exp(q t)
    n_scen = max(spot.shape[1], dr_u.shape[1], dq_u.shape[1])
    for sl in _chunks(g.index.size, n_scen):
        idx = g.index[sl]
        j = inv[sl]
        t = t_u[j][:, None]
        strike = batch.strike[idx][:, None]
        w = batch.w[idx][:, None]
        vol = _by_trade(market.equity_vol(und, t_u[j], batch.strike[idx]))  # (c, S)
        dr, dq = dr_u[j], dq_u[j]
        if g.kind == EUROPEAN:
            sd = np.sqrt(vol * vol * t)
            v = black_value((w < 0).astype(np.float64), spot * dq / dr, strike, sd, dr)
        elif g.kind == AMERICAN:
            v = baw_value(w, spot, strike, dr, dq, vol * vol * t)
        else:
            v = barrier_value(
                w,
                batch.eta[idx][:, None],
                batch.knock_in[idx][:, None],
                strike,
                batch.barrier[idx][:, None],
                batch.rebate[idx][:, None],
                spot,
                dr,
                dq,
                vol,
                t,
            )
        out[:, idx] = (batch.scale[idx][:, None] * v).T
