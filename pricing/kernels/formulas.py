"""QuantLib's Black and Bachelier formulas, vectorised (the rate-option kernels' closed forms).

:func:`black` is QuantLib's ``blackFormula(type, strike, forward, stdDev, 1, displacement)`` and
:func:`bachelier` its ``bachelierBlackFormula(type, strike, forward, stdDev, 1)``, special cases
included, so the kernels agree with the engines the reference pricers use
(``BlackCapFloorEngine``, ``BachelierCapFloorEngine``, ``BlackSwaptionEngine``,
``BachelierSwaptionEngine``):

* a zero standard deviation gives the intrinsic value of the **undisplaced** rates;
* a zero displaced strike gives the displaced forward for a call and 0 for a put;
* where QuantLib refuses the inputs (negative displacement, displaced strike < 0, displaced
  forward <= 0, negative standard deviation) the result is NaN: the reference pricer fails there.

Both take ``sign`` = +1 for a call (cap, payer) and -1 for a put (floor, receiver), broadcast
over every argument, and return the undiscounted value (multiply by the discounted accrual or
the annuity). The normal CDF is computed as QuantLib's ``CumulativeNormalDistribution`` does,
``0.5 * (1 + erf(x / sqrt 2))``, with an accurate tail (``ndtr``) where that is <= 1e-8 (QuantLib
switches to an asymptotic series there): the same cancellation as QuantLib in the body, so the
two agree to an ulp of 1 (3e-16) and option values to ~1e-16 of the forward, deep out of the
money included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import erf, ndtr

__all__ = ["bachelier", "black", "norm_cdf"]

_INV_SQRT_2PI = 0.3989422804014327
_SQRT1_2 = 0.7071067811865476


def norm_cdf(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Standard normal CDF with QuantLib's rounding (see the module docstring).

    >>> [round(v, 15) for v in norm_cdf(np.array([0.0, -1.0, -40.0])).tolist()]
    [0.5, 0.158655253931457, 0.0]
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.multiply(x, _SQRT1_2)
    erf(out, out=out)
    out += 1.0
    out *= 0.5
    tail = out <= 1e-8
    if tail.any():
        if out.ndim:
            out[tail] = ndtr(x[tail])
        else:
            out = np.asarray(ndtr(x), dtype=np.float64)
    return out


def _arrays(*xs: ArrayLike) -> list[NDArray[np.float64]]:
    return [np.asarray(x, dtype=np.float64) for x in xs]


def _replace(
    out: NDArray[np.float64], mask: NDArray[np.bool_], value: Callable[[], ArrayLike]
) -> Any:
    """``np.where(mask, value(), out)``; nothing computed when no element is masked (the usual
    case)."""
    return np.where(mask, value(), out) if np.any(mask) else out


def black(
    sign: ArrayLike,
    strike: ArrayLike,
    forward: ArrayLike,
    std_dev: ArrayLike,
    displacement: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Shifted-lognormal (Black-76) option value, undiscounted.

    Parameters
    ----------
    sign
        +1 call, -1 put.
    strike, forward
        Undisplaced strike and forward rate.
    std_dev
        Black standard deviation ``vol * sqrt(t)``.
    displacement
        Shift added to forward and strike.

    >>> round(float(black(1.0, 0.03, 0.03, 0.2)), 12)  # ATM: F (2 N(s/2) - 1)
    0.002389670237
    """
    w, k0, f0, sd, disp = _arrays(sign, strike, forward, std_dev, displacement)
    shape = np.broadcast_shapes(w.shape, k0.shape, f0.shape, sd.shape, disp.shape)
    if shape == ():
        return black(*(np.reshape(a, 1) for a in (w, k0, f0, sd, disp))).reshape(())
    f = f0 + disp
    k = k0 + disp
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = np.log(f / k)
        d1 = d1 / sd  # the full broadcast shape from here on
        d1 += 0.5 * sd
        d2 = d1 - sd
        d1 *= w
        d2 *= w
        out = f * norm_cdf(d1)
        out -= k * norm_cdf(d2)
        out *= w
    out = _replace(out, k == 0.0, lambda: np.where(w > 0, f, 0.0))
    out = _replace(out, sd == 0.0, lambda: np.maximum((f0 - k0) * w, 0.0))
    invalid = (disp < 0.0) | (k < 0.0) | ~(f > 0.0) | ~(sd >= 0.0)
    return np.asarray(_replace(out, invalid, lambda: np.nan), dtype=np.float64)


def bachelier(
    sign: ArrayLike, strike: ArrayLike, forward: ArrayLike, std_dev: ArrayLike
) -> NDArray[np.float64]:
    """Normal (Bachelier) option value, undiscounted.

    Parameters
    ----------
    sign
        +1 call, -1 put.
    strike, forward
        Strike and forward rate.
    std_dev
        Normal standard deviation ``vol * sqrt(t)`` (rate units).

    >>> round(float(bachelier(1.0, 0.03, 0.03, 0.01)), 15)  # ATM: s / sqrt(2 pi)
    0.003989422804014
    """
    w, k, f, sd = _arrays(sign, strike, forward, std_dev)
    if np.broadcast_shapes(w.shape, k.shape, f.shape, sd.shape) == ():
        return bachelier(*(np.reshape(a, 1) for a in (w, k, f, sd))).reshape(())
    d = f - k
    d = d * w
    with np.errstate(divide="ignore", invalid="ignore"):
        h = d / sd
        out = norm_cdf(h)
        out *= d
        h *= h
        h *= -0.5
        np.exp(h, out=h)
        h *= _INV_SQRT_2PI
        h *= sd
        out += h
    out = _replace(out, sd == 0.0, lambda: np.maximum(d, 0.0))
    return np.asarray(_replace(out, ~(sd >= 0.0), lambda: np.nan), dtype=np.float64)
