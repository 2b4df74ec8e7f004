"""Volatility structures over a scenario axis, reproducing QuantLib's interpolation exactly.

Values are ``(S, k)``: ``S`` scenarios when an input moves (a vol quote, or the spot under a
strike grid in % of spot), else 1. Time is ACT/365F from the as-of date. QuantLib 1.44 rules:

* :class:`VarianceCurve` -- ``BlackVarianceCurve``: variance ``t v^2`` (a 0 at ``t = 0``) linear
  in ``t``; beyond the last expiry the last vol is held (variance scaled by ``t / t_last``).
* :class:`VarianceSurface` -- ``BlackVarianceSurface`` (``Bilinear``, constant extrapolation):
  bilinear in (time, strike) of total variance with a zero-variance column at ``t = 0``; strikes
  outside the grid are clamped to its ends; beyond the last expiry the variance at the last expiry
  is scaled by ``t / t_last``. Vol is ``sqrt(var / t)``, with ``t = 0`` read at ``QL_EPSILON``.
* :class:`ConstantVol` -- ``BlackConstantVol`` / ``ConstantSwaptionVolatility``.
* :class:`SwaptionMatrix` -- ``SwaptionVolatilityMatrix`` with flat extrapolation: bilinear in
  (swap length, option time) of the vol itself, both clamped to the grid.
* :class:`CapVols` -- :meth:`pricing.vols.RateVol.flat_vol`: linear in time, flat outside.

>>> c = VarianceCurve(np.array([0.0, 1.0, 2.0]), np.array([[0.0, 0.04, 0.0968]]))
>>> c.vol(np.array([1.0, 2.0, 4.0])).round(6).tolist()
[[0.2, 0.22, 0.22]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["CapVols", "ConstantVol", "SwaptionMatrix", "VarianceCurve", "VarianceSurface"]

F64 = NDArray[np.float64]
QL_EPSILON = float(np.finfo(np.float64).eps)


def _locate(x: F64, t: F64) -> NDArray[np.intp]:
    """QuantLib ``Interpolation::locate`` (segment index, clipped to the end segments)."""
    i = np.searchsorted(x[:-1], t, side="right") - 1
    return np.clip(i, 0, len(x) - 2)


def _nonzero(t: F64) -> F64:
    return np.where(t == 0.0, QL_EPSILON, t)


class ConstantVol:
    """One vol per scenario: ``vol`` has shape ``(S,)``."""

    def __init__(self, vol: F64) -> None:
        self.value = np.atleast_1d(np.asarray(vol, dtype=np.float64))

    @property
    def n(self) -> int:
        """Rows ``S``."""
        return len(self.value)

    def vol(self, t: Any, strike: Any = None) -> F64:
        """The constant vol broadcast to ``(S, *t.shape)``."""
        t = np.asarray(t, dtype=np.float64)
        return np.broadcast_to(self.value.reshape((-1,) + (1,) * t.ndim), (self.n, *t.shape))


class VarianceCurve:
    """QuantLib ``BlackVarianceCurve``: ``times`` (first 0), ``variances`` ``(S, n)`` (first 0)."""

    def __init__(self, times: F64, variances: F64) -> None:
        self.times = np.asarray(times, dtype=np.float64)
        self.variances = np.atleast_2d(np.asarray(variances, dtype=np.float64))
        self.slopes = np.diff(self.variances, axis=1) / np.diff(self.times)

    @classmethod
    def from_vols(cls, times: F64, vols: F64) -> VarianceCurve:
        """From expiry times (no 0) and vols ``(S, n)``: variance ``t * v * v`` as QuantLib."""
        vols = np.atleast_2d(vols)
        var = times * vols * vols
        return cls(np.r_[0.0, times], np.c_[np.zeros(len(vols)), var])

    @property
    def n(self) -> int:
        """Rows ``S``."""
        return int(self.variances.shape[0])

    def variance(self, t: Any) -> F64:
        """Black variance at ``t`` -> ``(S, k)`` (``t`` 1-D)."""
        t = np.asarray(t, dtype=np.float64)
        t_last = self.times[-1]
        tc = np.minimum(t, t_last)
        i = _locate(self.times, tc)
        v = self.variances[:, i] + self.slopes[:, i] * (tc - self.times[i])
        return np.where(t > t_last, v * t / t_last, v)

    def vol(self, t: Any, strike: Any = None) -> F64:
        """Black vol ``sqrt(var / t)`` at ``t`` -> ``(S, k)``; no smile (``strike`` ignored)."""
        tn = _nonzero(np.asarray(t, dtype=np.float64))
        return np.sqrt(self.variance(tn) / tn)


class VarianceSurface:
    """QuantLib ``BlackVarianceSurface`` with constant strike extrapolation.

    Parameters
    ----------
    times
        Expiry times without the 0 (``n_t``).
    strikes
        Absolute strikes ``(S, n_k)`` (per scenario: sticky moneyness moves them with the spot).
    vols
        Black vols ``(S, n_k, n_t)``.
    """

    def __init__(self, times: F64, strikes: F64, vols: F64) -> None:
        vols = np.asarray(vols, dtype=np.float64)
        self.times = np.r_[0.0, np.asarray(times, dtype=np.float64)]
        self.strikes = np.atleast_2d(np.asarray(strikes, dtype=np.float64))
        var = times * vols * vols  # QuantLib: times_[j] * vol * vol
        self.variances = np.concatenate([np.zeros((*var.shape[:2], 1)), var], axis=2)
        self._n = max(self.strikes.shape[0], self.variances.shape[0])

    @property
    def n(self) -> int:
        """Rows ``S``."""
        return self._n

    def variance(self, t: Any, strike: Any) -> F64:
        """Black variance at ``(t, strike)`` pairs (``t`` 1-D, ``strike`` broadcastable to
        ``(S, k)``) -> ``(S, k)``."""
        t = np.asarray(t, dtype=np.float64)
        k = len(t)
        s = self._n
        strikes = np.broadcast_to(self.strikes, (s, self.strikes.shape[1]))
        var = np.broadcast_to(self.variances, (s, *self.variances.shape[1:]))
        x = np.broadcast_to(np.asarray(strike, dtype=np.float64), (s, k))
        x = np.clip(x, strikes[:, :1], strikes[:, -1:])  # ConstantExtrapolation both sides
        # strike segment per scenario: upper_bound over strikes[:-1], minus 1, clipped
        j = (strikes[:, None, :-1] <= x[:, :, None]).sum(axis=2) - 1
        j = np.clip(j, 0, strikes.shape[1] - 2)
        t_last = self.times[-1]
        tc = np.minimum(t, t_last)
        i = _locate(self.times, tc)
        rows = np.arange(s)[:, None]
        z1 = var[rows, j, i]
        z2 = var[rows, j, i + 1]
        z3 = var[rows, j + 1, i]
        z4 = var[rows, j + 1, i + 1]
        tt = (tc - self.times[i]) / (self.times[i + 1] - self.times[i])
        k0 = np.take_along_axis(strikes, j, axis=1)
        k1 = np.take_along_axis(strikes, j + 1, axis=1)
        u = (x - k0) / (k1 - k0)
        v = (1.0 - tt) * (1.0 - u) * z1 + tt * (1.0 - u) * z2 + (1.0 - tt) * u * z3 + tt * u * z4
        return np.where(t > t_last, v * t / t_last, v)

    def vol(self, t: Any, strike: Any) -> F64:
        """Black vol ``sqrt(var / t)`` -> ``(S, k)``."""
        tn = _nonzero(np.asarray(t, dtype=np.float64))
        return np.sqrt(self.variance(tn, strike) / tn)


class SwaptionMatrix:
    """QuantLib ``SwaptionVolatilityMatrix`` (bilinear, flat extrapolation).

    ``option_times`` (``n_e``), ``swap_lengths`` in years (``n_l``), ``vols`` ``(S, n_e, n_l)``.
    """

    def __init__(self, option_times: F64, swap_lengths: F64, vols: F64) -> None:
        self.option_times = np.asarray(option_times, dtype=np.float64)
        self.swap_lengths = np.asarray(swap_lengths, dtype=np.float64)
        self.vols = np.asarray(vols, dtype=np.float64)
        if self.vols.ndim == 2:
            self.vols = self.vols[None]

    @property
    def n(self) -> int:
        """Rows ``S``."""
        return int(self.vols.shape[0])

    def vol(self, option_time: Any, swap_length: Any) -> F64:
        """Vols at ``(option_time, swap_length)`` pairs (1-D, broadcast) -> ``(S, k)``."""
        ot, sl = np.broadcast_arrays(
            np.atleast_1d(np.asarray(option_time, dtype=np.float64)),
            np.atleast_1d(np.asarray(swap_length, dtype=np.float64)),
        )
        xs, ys = self.swap_lengths, self.option_times
        x = np.clip(sl, xs[0], xs[-1])  # FlatExtrapolator2D binds both coordinates
        y = np.clip(ot, ys[0], ys[-1])
        i, j = _locate(xs, x), _locate(ys, y)
        z1 = self.vols[:, j, i]
        z2 = self.vols[:, j, i + 1]
        z3 = self.vols[:, j + 1, i]
        z4 = self.vols[:, j + 1, i + 1]
        t = (x - xs[i]) / (xs[i + 1] - xs[i])
        u = (y - ys[j]) / (ys[j + 1] - ys[j])
        return (1.0 - t) * (1.0 - u) * z1 + t * (1.0 - u) * z2 + (1.0 - t) * u * z3 + t * u * z4


class CapVols:
    """Flat cap vols by maturity: linear in time between pillars, flat outside
    (:meth:`pricing.vols.RateVol.flat_vol`). ``times`` (``n``), ``vols`` ``(S, n)``."""

    def __init__(self, times: F64, vols: F64) -> None:
        self.times = np.asarray(times, dtype=np.float64)
        self.vols = np.atleast_2d(np.asarray(vols, dtype=np.float64))

    @property
    def n(self) -> int:
        """Rows ``S``."""
        return int(self.vols.shape[0])

    def vol(self, t: Any) -> F64:
        """Flat vols at maturity times ``t`` (1-D) -> ``(S, k)``."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        times, v = self.times, self.vols
        if len(times) == 1:
            return np.broadcast_to(v[:, :1], (self.n, len(t))).copy()
        i = np.clip(np.searchsorted(times, t, side="right"), 1, len(times) - 1)
        t0, t1 = times[i - 1], times[i]
        v0, v1 = v[:, i - 1], v[:, i]
        out = v0 + (v1 - v0) * (t - t0) / (t1 - t0)
        out = np.where(t <= times[0], v[:, :1], out)
        return np.where(t >= times[-1], v[:, -1:], out)
