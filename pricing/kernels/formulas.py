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
    out = np.asarray(0.5 * (1.0 + erf(x * _SQRT1_2)), dtype=np.float64)
    tail = out <= 1e-8
    if tail.any():
        if out.ndim:
            out[tail] = ndtr(x[tail])
        else:
            out = np.asarray(ndtr(x), dtype=np.float64)
    return out


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
    w = np.asarray(sign, dtype=np.float64)
    k0 = np.asarray(strike, dtype=np.float64)
    f0 = np.asarray(forward, dtype=np.float64)
    sd = np.asarray(std_dev, dtype=np.float64)
    disp = np.asarray(displacement, dtype=np.float64)
    f = f0 + disp
    k = k0 + disp
    with np.errstate(divide="ignore", invalid="ignore"):
        d1 = np.log(f / k) / sd + 0.5 * sd
        d2 = d1 - sd
        out = w * (f * norm_cdf(w * d1) - k * norm_cdf(w * d2))
    out = np.where(k == 0.0, np.where(w > 0, f, 0.0), out)
    out = np.where(sd == 0.0, np.maximum((f0 - k0) * w, 0.0), out)
    valid = (disp >= 0.0) & (k >= 0.0) & (f > 0.0) & (sd >= 0.0)
    return np.where(valid, out, np.nan)


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
    w = np.asarray(sign, dtype=np.float64)
    sd = np.asarray(std_dev, dtype=np.float64)
    d = (np.asarray(forward, dtype=np.float64) - np.asarray(strike, dtype=np.float64)) * w
    with np.errstate(divide="ignore", invalid="ignore"):
        h = d / sd
        out = sd * (_INV_SQRT_2PI * np.exp(-0.5 * h * h)) + d * norm_cdf(h)
    out = np.where(sd == 0.0, np.maximum(d, 0.0), out)
    return np.where(sd >= 0.0, out, np.nan)
