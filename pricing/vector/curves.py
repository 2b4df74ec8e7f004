"""Yield curves over a scenario axis, and the vectorised bootstrap.

Every curve holds its values as an ``(S, n)`` array: ``S`` is the number of scenarios when some
input of the curve moves, else 1 (broadcastable). Time is ACT/365F from the as-of date
(``t = days / 365``), as in :mod:`pricing.curves`. Each class reproduces one QuantLib curve,
formula for formula (QuantLib 1.44):

* :class:`LogLinearCurve` -- ``PiecewiseLogLinearDiscount`` and ``DiscountCurve``
  (``InterpolatedDiscountCurve<LogLinear>``): log discount factor linear in ``t`` between pillars,
  a pillar ``(0, 0)`` first; beyond the last pillar the flat instantaneous forward of the last
  segment (``discountImpl``: ``dMax * exp(-f (t - tMax))``, which continues the last segment).
* :class:`ZeroLinearCurve` -- ``ZeroCurve`` (``InterpolatedZeroCurve<Linear>``, continuous
  ACT/365F zero rates): zero rate linear in ``t``; beyond the last pillar the instantaneous
  forward at the last pillar is held flat: ``z(t) = (zMax tMax + f (t - tMax)) / t`` with
  ``f = zMax + tMax z'(tMax)``; ``DF(0) = 1``.
* :class:`FlatCurve` -- ``FlatForward`` continuous: ``DF = 1 / exp(r t)``.

:func:`lower_helpers` turns the QuantLib rate helpers of a bootstrapped curve (built once, on the
base snapshot) into arrays that do not depend on any quote; :func:`bootstrap` then solves the
curve for all scenarios at once, pillar after pillar, like QuantLib's ``IterativeBootstrap``
(one pass; log-linear interpolation is local). Each helper's implied quote is written as

    g(x) = sum_m (a_m + r b_m) X_m prod_d DF(d)^P[m, d]  = 0

where ``r`` is the quote, ``X_m`` an exogenous discount factor (the OIS curve under an IBOR
swap) or 1, and ``DF(d)`` the curve's own discount factors at the helper's dates. Dates before
the previous pillar are known; the others are ``exp((1 - w) y_prev + w x)`` in the unknown log
discount factor ``x`` of the pillar (``w > 1`` is QuantLib's extrapolation during the bootstrap).
A helper with a single unknown term (deposits, FRAs, OIS without payment lag) solves in closed
form; the others by Newton over all scenarios at once (3-5 iterations to 1e-15).

>>> c = LogLinearCurve(np.array([0.0, 1.0, 2.0]), np.log([[1.0, 0.96, 0.92]]))
>>> c.df(np.array([0.5, 1.5])).round(6).tolist()
[[0.979796, 0.939787]]
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import QuantLib as ql
from numpy.typing import NDArray

from pricing import quantlib_ as qa
from pricing.errors import MarketDataError

__all__ = [
    "FlatCurve",
    "LogLinearCurve",
    "LoweredCurve",
    "LoweredHelper",
    "VecCurve",
    "ZeroLinearCurve",
    "bootstrap",
    "lower_helpers",
]

F64 = NDArray[np.float64]
_YEAR = 365.0
# Newton stops once a step is below this (in log DF): the error left after that step is about
# |g''/2g'| dx^2 <~ 1e-18, below rounding (g is a sum of exponentials of slopes <~ 2).
_NEWTON_TOL = 1e-9
_NEWTON_MAX = 40


def _as_times(t: Any) -> F64:
    return np.asarray(t, dtype=np.float64)


def _locate(x: F64, t: F64) -> NDArray[np.intp]:
    """QuantLib's ``Interpolation::locate``: the segment ``i`` with ``x[i] <= t < x[i+1]``,
    clipped to the first and last segments (``upper_bound`` over ``x[:-1]``)."""
    i = np.searchsorted(x[:-1], t, side="right") - 1
    return np.clip(i, 0, len(x) - 2)


class VecCurve(abc.ABC):
    """A discount curve over scenarios: :meth:`df` gives ``(S, *t.shape)``.

    ``moves`` is True when the curve was built per scenario (``S == n``), False when one curve
    serves every scenario (``S == 1``).
    """

    moves: bool

    @property
    @abc.abstractmethod
    def n(self) -> int:
        """Rows of the values: ``S`` (scenarios, or 1)."""

    @abc.abstractmethod
    def df(self, t: Any) -> F64:
        """Discount factors at ACT/365F times ``t`` (any shape) -> ``(S, *t.shape)``."""


class LogLinearCurve(VecCurve):
    """Log-linear discount factors on pillar times ``times`` (first 0) with ``logdf`` (S, n).

    Parameters
    ----------
    times
        Pillar times, increasing, ``times[0] == 0``.
    logdf
        Log discount factors at the pillars, shape ``(S, n)``; column 0 is 0.
    moves
        Whether the rows are per scenario.
    """

    def __init__(self, times: F64, logdf: F64, moves: bool = False) -> None:
        self.times = np.asarray(times, dtype=np.float64)
        self.logdf = np.atleast_2d(np.asarray(logdf, dtype=np.float64))
        if self.logdf.shape[1] != len(self.times) or len(self.times) < 2:
            raise ValueError("need two or more pillars and one log-DF per pillar")
        self.moves = moves
        dx = np.diff(self.times)
        # QuantLib LinearInterpolation: s_i = (y_{i+1} - y_i) / (x_{i+1} - x_i)
        self.slopes = np.diff(self.logdf, axis=1) / dx
        y_last_interp = self.logdf[:, -2] + self.slopes[:, -1] * dx[-1]
        d_max = np.exp(self.logdf[:, -1])
        # InterpolatedDiscountCurve::discountImpl beyond tMax: instFwdMax = -D'(tMax) / dMax
        self._d_max = d_max
        self._f_max = -(np.exp(y_last_interp) * self.slopes[:, -1]) / d_max

    @property
    def n(self) -> int:
        return int(self.logdf.shape[0])

    def df(self, t: Any) -> F64:
        t = _as_times(t)
        flat = t.reshape(-1)
        i = _locate(self.times, flat)
        y = self.logdf[:, i] + self.slopes[:, i] * (flat - self.times[i])
        out = np.exp(y)
        beyond = flat > self.times[-1]
        if beyond.any():
            tb = flat[beyond] - self.times[-1]
            out[:, beyond] = self._d_max[:, None] * np.exp(-self._f_max[:, None] * tb)
        return out.reshape((self.n, *t.shape))


class ZeroLinearCurve(VecCurve):
    """Continuous ACT/365F zero rates linear in time (QuantLib ``ZeroCurve``, ``Linear``).

    ``times[0]`` is 0 and ``zeros[:, 0]`` repeats the first quoted rate, as in
    :class:`pricing.curves.QlMarket`.
    """

    def __init__(self, times: F64, zeros: F64, moves: bool = False) -> None:
        self.times = np.asarray(times, dtype=np.float64)
        self.zeros = np.atleast_2d(np.asarray(zeros, dtype=np.float64))
        self.moves = moves
        dx = np.diff(self.times)
        self.slopes = np.diff(self.zeros, axis=1) / dx
        t_max = self.times[-1]
        # InterpolatedZeroCurve::zeroYieldImpl: instFwdMax = zMax + tMax * z'(tMax)
        self._f_max = self.zeros[:, -1] + t_max * self.slopes[:, -1]

    @property
    def n(self) -> int:
        return int(self.zeros.shape[0])

    def zero_rate(self, t: Any) -> F64:
        """Continuous zero rates at ``t`` -> ``(S, *t.shape)``."""
        t = _as_times(t)
        flat = t.reshape(-1)
        i = _locate(self.times, flat)
        z = self.zeros[:, i] + self.slopes[:, i] * (flat - self.times[i])
        beyond = flat > self.times[-1]
        if beyond.any():
            t_max, tb = self.times[-1], flat[beyond]
            z_max = self.zeros[:, -1:]
            z[:, beyond] = (z_max * t_max + self._f_max[:, None] * (tb - t_max)) / tb
        return z.reshape((self.n, *t.shape))

    def df(self, t: Any) -> F64:
        t = _as_times(t)
        z = self.zero_rate(t)
        out = np.exp(-z * t)
        return np.where(t == 0.0, 1.0, out)


class FlatCurve(VecCurve):
    """QuantLib ``FlatForward`` at continuous rates ``rate`` (S,): ``DF = 1 / exp(r t)``."""

    def __init__(self, rate: F64, moves: bool = False) -> None:
        self.rate = np.atleast_1d(np.asarray(rate, dtype=np.float64))
        self.moves = moves

    @property
    def n(self) -> int:
        return len(self.rate)

    def df(self, t: Any) -> F64:
        t = _as_times(t)
        r = self.rate.reshape((-1,) + (1,) * t.ndim)
        return 1.0 / np.exp(r * t)


# -- lowering of QuantLib rate helpers ------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LoweredHelper:
    """One bootstrap instrument as quote-independent arrays (see the module docstring).

    ``days`` are the curve dates the instrument reads (day offsets from the as-of date);
    ``powers[m, d]`` the exponent of ``DF(days[d])`` in term ``m``; ``a``, ``b`` the term
    coefficients (``a + quote * b``); ``exo_days[m]`` the date of the exogenous discount
    factor multiplying term ``m`` (-1: none).
    """

    quote_id: str
    kind: str
    pillar_day: int
    days: NDArray[np.int64]
    powers: F64
    a: F64
    b: F64
    exo_days: NDArray[np.int64]


@dataclasses.dataclass(frozen=True)
class LoweredCurve:
    """A bootstrapped curve's instruments in pillar order, and its exogenous discount curve."""

    name: str
    asof: dt.date
    helpers: tuple[LoweredHelper, ...]
    discount_index: str | None

    @property
    def quote_ids(self) -> tuple[str, ...]:
        """Quote ids in pillar order."""
        return tuple(h.quote_id for h in self.helpers)

    @property
    def pillar_times(self) -> F64:
        """Pillar times (ACT/365F), without the 0 at the as-of date."""
        return np.array([h.pillar_day for h in self.helpers], dtype=np.float64) / _YEAR


class _Terms:
    """Accumulates ``(coefficients, {date: power}, exogenous date)`` terms of one helper."""

    def __init__(self, asof: ql.Date) -> None:
        self.asof = asof
        self.rows: dict[tuple[tuple[int, int], ...], list[float]] = {}
        self.exo: dict[tuple[tuple[int, int], ...], int] = {}

    def day(self, d: ql.Date) -> int:
        return int(d - self.asof)

    def add(
        self, dates: Sequence[tuple[ql.Date, int]], a: float = 0.0, b: float = 0.0, exo: int = -1
    ) -> None:
        """Add ``(a + quote b) X(exo) prod DF(date)^power``; DF(as-of) = 1 is left out."""
        powers: dict[int, int] = {}
        for d, p in dates:
            powers[self.day(d)] = powers.get(self.day(d), 0) + p
        key = (*sorted((d, p) for d, p in powers.items() if p != 0 and d != 0), (-1, exo))
        acc = self.rows.setdefault(key, [0.0, 0.0])
        acc[0] += a
        acc[1] += b

    def build(self, quote_id: str, kind: str, pillar: ql.Date) -> LoweredHelper:
        keys = list(self.rows)
        days = sorted({d for k in keys for d, _ in k[:-1]})
        col = {d: j for j, d in enumerate(days)}
        powers = np.zeros((len(keys), len(days)))
        for m, k in enumerate(keys):
            for d, p in k[:-1]:
                powers[m, col[d]] += p
        return LoweredHelper(
            quote_id=quote_id,
            kind=kind,
            pillar_day=self.day(pillar),
            days=np.array(days, dtype=np.int64),
            powers=powers,
            a=np.array([self.rows[k][0] for k in keys]),
            b=np.array([self.rows[k][1] for k in keys]),
            exo_days=np.array([k[-1][1] for k in keys], dtype=np.int64),
        )


def _has_fixing(index: Any, d: ql.Date) -> bool:
    """Whether QuantLib holds a stored fixing of ``index`` on ``d`` (loaded by ``ql_session``)."""
    return bool(ql.as_iborindex(index).hasHistoricalFixing(d))


def _lower_rate(h: Any, t: _Terms, day_count: str) -> None:
    """Deposit / FRA: ``(DF(s)/DF(e) - 1)/tau - r`` scaled by ``tau``:
    ``DF(s)/DF(e) - (1 + r tau)`` (the index forecast QuantLib's helpers use)."""
    s, e = h.earliestDate(), h.maturityDate()
    tau = qa.day_counter(day_count).yearFraction(s, e)
    t.add([(s, 1), (e, -1)], a=1.0)
    t.add([], a=-1.0, b=-tau)


def _lower_ois(qid: str, h: Any, t: _Terms, asof: dt.date) -> None:
    """OIS: compounded coupons telescope to ``F DF(v_i)/DF(v_n) - 1`` (``F`` = fixed part)."""
    swap = h.swap()
    for cf in swap.overnightLeg():
        c = ql.as_overnight_indexed_coupon(cf)
        if not c.canApplyTelescopicFormula() or c.lockoutDays() != 0:
            raise MarketDataError(f"{qid}: overnight coupon is not telescopic")
        fix, vals, dts = c.fixingDates(), c.interestDates(), c.dt()
        index = ql.as_iborindex(c.index())
        factor, i, n = 1.0, 0, len(dts)
        # QuantLib's compounding pricer: past fixings (and today's, when stored) are known;
        # the rest telescopes on the curve.
        while i < n and qa.py_date(fix[i]) <= asof:
            if not _has_fixing(index, fix[i]):
                if qa.py_date(fix[i]) == asof:
                    break  # today's fixing not published yet: forecast from the curve
                raise MarketDataError(f"{qid}: missing fixing on {qa.py_date(fix[i])}")
            factor *= 1.0 + index.pastFixing(fix[i]) * dts[i]
            i += 1
        p = c.date()
        nominal = c.nominal()
        if i < n:
            t.add([(vals[i], 1), (vals[n], -1), (p, 1)], a=factor * nominal)
            t.add([(p, 1)], a=-nominal)
        else:
            t.add([(p, 1)], a=(factor - 1.0) * nominal)
    for cf in swap.fixedLeg():
        c = ql.as_fixed_rate_coupon(cf)
        t.add([(c.date(), 1)], b=-c.accrualPeriod() * c.nominal())


def _lower_swap(h: Any, t: _Terms, asof: dt.date) -> None:
    """IBOR swap: projected coupons ``tau/span (DF(v)/DF(e) - 1)``, known ones as amounts,
    each times the exogenous discount factor at its payment date."""
    if ql.IborCoupon.usingAtParCoupons():
        raise MarketDataError("IBOR swap helpers must use indexed coupons (see ql_session)")
    swap = h.swap()
    for cf in swap.floatingLeg():
        c = ql.as_floating_rate_coupon(cf)
        fd, p = c.fixingDate(), t.day(c.date())
        idx = c.index()
        # a fixing in the past, or today's when stored, is known (QuantLib's IborCoupon)
        known = qa.py_date(fd) < asof or (qa.py_date(fd) == asof and _has_fixing(idx, fd))
        if known:
            t.add([], a=c.amount(), exo=p)
            continue
        v = idx.valueDate(fd)
        e = ql.as_iborindex(idx).maturityDate(v)
        span = idx.dayCounter().yearFraction(v, e)
        k = c.accrualPeriod() * c.nominal() / span
        t.add([(v, 1), (e, -1)], a=k, exo=p)
        t.add([], a=-k, exo=p)
    for cf in swap.fixedLeg():
        c = ql.as_fixed_rate_coupon(cf)
        t.add([], b=-c.accrualPeriod() * c.nominal(), exo=t.day(c.date()))


def lower_helpers(
    name: str,
    helpers: Sequence[tuple[str, Any]],
    asof: dt.date,
    day_count: str,
    discount_index: str | None = None,
) -> LoweredCurve:
    """Lower QuantLib rate helpers (``QlMarket.helpers(index)``, pillar order) to arrays.

    Must run inside the ``ql_session`` of the snapshot the helpers were built on: coupons whose
    fixing QuantLib holds (past, or today's when stored) become known amounts.
    ``day_count`` is the index day count of deposits and FRAs; ``discount_index`` the
    exogenous discount curve of IBOR swap helpers (None for an OIS curve).
    """
    ql_asof = qa.ql_date(asof)
    out = []
    for qid, h in helpers:
        t = _Terms(ql_asof)
        kind = type(h).__name__
        if kind in ("DepositRateHelper", "FraRateHelper"):
            _lower_rate(h, t, day_count)
        elif kind == "OISRateHelper":
            _lower_ois(qid, ql.as_oisratehelper(h), t, asof)
        elif kind == "SwapRateHelper":
            _lower_swap(ql.as_swapratehelper(h), t, asof)
        else:  # pragma: no cover - QlMarket builds only these four
            raise MarketDataError(f"curve {name}: cannot lower a {kind}")
        out.append(t.build(qid, kind, h.pillarDate()))
    return LoweredCurve(name, asof, tuple(out), discount_index)


# -- the vectorised bootstrap ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Step:
    """Static work of one pillar (quote-independent; see :func:`_plan`)."""

    final_dates: NDArray[np.intp]  # curve dates whose log DF becomes final before this pillar
    final_terms: NDArray[np.intp]  # terms whose value becomes final before this pillar
    final_idx: NDArray[np.intp]  # (F, W) their dates
    final_pw: F64  # (F, W, 1) their powers
    final_exo: NDArray[np.intp]  # (F,) their exogenous dates
    dead: NDArray[np.intp]  # this helper's terms on known dates only
    a_dead: F64
    b_dead: F64
    live: NDArray[np.intp]  # this helper's terms reading the unknown pillar
    a_live: F64
    b_live: F64
    known_idx: NDArray[np.intp]  # (M_live, W) known dates of the live terms (pad: zero row)
    known_pw: F64  # (M_live, W, 1) their powers
    alpha_w: F64  # (M_live, 1) sum of power * (1 - w) over the live dates: times y_prev
    beta: F64  # (M_live,) sum of power * w over the live dates: times x
    live_exo: NDArray[np.intp]  # (M_live,) exogenous dates of the live terms


@dataclasses.dataclass(frozen=True)
class _Plan:
    """The whole curve's bootstrap as index arrays: distinct dates, distinct terms, steps."""

    date_times: F64  # (U,) distinct curve dates
    date_seg: NDArray[np.intp]  # (U,) pillar segment of each date (-1 at t = 0)
    term_idx: NDArray[np.intp]  # (T, W) dates of each term (pad: U, the zero row)
    term_pw: F64  # (T, W)
    term_exo: NDArray[np.intp]  # (T,) exogenous date index (pad: E, the row of ones)
    exo_times: F64  # (E,)
    steps: tuple[_Step, ...]


def _plan(lowered: LoweredCurve) -> _Plan:
    """Deduplicate the helpers' dates and terms across the curve, and precompute, for every
    pillar, which terms are already known and how the others depend on the unknown."""
    hs = lowered.helpers
    times = lowered.pillar_times
    u_days = sorted({int(d) for h in hs for d in h.days})
    e_days = sorted({int(d) for h in hs for d in h.exo_days if d >= 0})
    ucol = {d: j for j, d in enumerate(u_days)}
    ecol = {d: j for j, d in enumerate(e_days)}
    t_u = np.array(u_days, dtype=np.float64) / _YEAR
    seg = np.searchsorted(times, t_u, side="left")  # smallest pillar j with T_j >= t
    n_u, n_e = len(u_days), len(e_days)
    terms: dict[tuple[Any, ...], int] = {}
    per_helper: list[list[tuple[int, float, float]]] = []
    for h in hs:
        rows = []
        for m in range(len(h.a)):
            entries = tuple(
                (ucol[int(h.days[j])], float(h.powers[m, j])) for j in np.flatnonzero(h.powers[m])
            )
            exo = ecol[int(h.exo_days[m])] if h.exo_days[m] >= 0 else n_e
            key = (entries, exo)
            tid = terms.setdefault(key, len(terms))
            rows.append((tid, float(h.a[m]), float(h.b[m])))
        per_helper.append(rows)
    width = max([1] + [len(k[0]) for k in terms])
    term_idx = np.full((len(terms), width), n_u, dtype=np.intp)
    term_pw = np.zeros((len(terms), width))
    term_exo = np.zeros(len(terms), dtype=np.intp)
    term_maxt = np.zeros(len(terms))
    for (entries, exo), tid in terms.items():
        for w, (j, p) in enumerate(entries):
            term_idx[tid, w], term_pw[tid, w] = j, p
        term_exo[tid] = exo
        term_maxt[tid] = max([t_u[j] for j, _ in entries], default=0.0)
    # a term is final before pillar k once all its dates are <= T_{k-1}
    term_step = np.where(term_maxt > 0, np.searchsorted(times, term_maxt, side="left") + 1, 0)
    needed = np.zeros(len(terms), dtype=bool)
    steps = []
    for k, rows in enumerate(per_helper):
        tids = np.array([r[0] for r in rows], dtype=np.intp)
        a = np.array([r[1] for r in rows])
        b = np.array([r[2] for r in rows])
        dead = term_step[tids] <= k
        needed[tids[dead]] = True
        t_prev = times[k - 1] if k else 0.0
        live = tids[~dead]
        known_idx = term_idx[live].copy()
        known_pw = term_pw[live].copy()
        alpha_w = np.zeros(len(live))
        beta = np.zeros(len(live))
        for m, tid in enumerate(live):
            for w in range(width):
                j = term_idx[tid, w]
                if j < n_u and t_u[j] > t_prev:
                    wt = (t_u[j] - t_prev) / (times[k] - t_prev)
                    alpha_w[m] += term_pw[tid, w] * (1.0 - wt)
                    beta[m] += term_pw[tid, w] * wt
                    known_idx[m, w], known_pw[m, w] = n_u, 0.0
        steps.append(
            dict(
                final_dates=np.flatnonzero(seg == k - 1) if k else np.zeros(0, dtype=np.intp),
                dead=tids[dead],
                a_dead=a[dead],
                b_dead=b[dead],
                live=live,
                a_live=a[~dead],
                b_live=b[~dead],
                known_idx=known_idx,
                known_pw=known_pw[:, :, None],
                alpha_w=alpha_w[:, None],
                beta=beta,
                live_exo=term_exo[live],
            )
        )
    out = []
    for k, st in enumerate(steps):
        final_terms = np.flatnonzero(needed & (term_step == k))
        out.append(
            _Step(
                final_terms=final_terms,
                final_idx=term_idx[final_terms],
                final_pw=term_pw[final_terms][:, :, None],
                final_exo=term_exo[final_terms],
                **st,
            )
        )
    return _Plan(
        date_times=t_u,
        date_seg=seg,
        term_idx=term_idx,
        term_pw=term_pw,
        term_exo=term_exo,
        exo_times=np.array(e_days, dtype=np.float64) / _YEAR,
        steps=tuple(out),
    )


_plans: dict[int, tuple[LoweredCurve, _Plan]] = {}


def _plan_of(lowered: LoweredCurve) -> _Plan:
    hit = _plans.get(id(lowered))
    if hit is None or hit[0] is not lowered:
        if len(_plans) > 256:
            _plans.clear()
        hit = (lowered, _plan(lowered))
        _plans[id(lowered)] = hit
    return hit[1]


def bootstrap(
    lowered: LoweredCurve,
    quotes: Sequence[F64 | float],
    discount: VecCurve | None = None,
    scenario_names: Sequence[str] | None = None,
) -> F64:
    """Solve the log discount factors at every pillar for all scenarios at once.

    Parameters
    ----------
    lowered
        The curve's instruments (:func:`lower_helpers`).
    quotes
        One entry per instrument (pillar order): a float or an array over scenarios.
    discount
        The exogenous discount curve of IBOR swap helpers.
    scenario_names
        For error messages.

    Returns
    -------
    ndarray
        ``(S, n_pillars)`` log discount factors, ``S`` the broadcast scenario count of the
        quotes and the discount curve.
    """
    plan = _plan_of(lowered)
    hs = lowered.helpers
    r = [np.atleast_1d(np.asarray(q, dtype=np.float64)) for q in quotes]
    size = max([len(q) for q in r] + [discount.n if discount is not None else 1])
    times = lowered.pillar_times
    n_u, n_e = len(plan.date_times), len(plan.exo_times)
    # scenario axis last: rows are dates / terms, gathered by index
    log_u = np.zeros((n_u + 1, size))  # row n_u: the padding (log DF 0)
    x_exo = np.ones((n_e + 1, size))  # row n_e: no exogenous factor
    if n_e:
        if discount is None:
            raise MarketDataError(f"curve {lowered.name}: no discount curve for its swaps")
        x_exo[:n_e] = discount.df(plan.exo_times).T
    value = np.zeros((len(plan.term_exo), size))
    y = np.zeros((len(hs), size))
    zero = np.zeros(size)
    for k, (h, st) in enumerate(zip(hs, plan.steps, strict=True)):
        y_prev = y[k - 1] if k else zero
        if len(st.final_dates):
            t0 = times[k - 2] if k >= 2 else 0.0
            y0 = y[k - 2] if k >= 2 else zero
            slope = (y_prev - y0) / (times[k - 1] - t0)  # QuantLib's linear interpolation
            dt_ = plan.date_times[st.final_dates] - t0
            log_u[st.final_dates] = y0 + slope * dt_[:, None]
        if len(st.final_terms):
            e = (log_u[st.final_idx] * st.final_pw).sum(axis=1)
            value[st.final_terms] = x_exo[st.final_exo] * np.exp(e)
        rk = r[k]
        vd = value[st.dead]
        # elementwise products summed down the rows, not BLAS matrix products: BLAS rounding
        # depends on a scenario's column, so an unmoved curve would differ from the base by
        # ~1e-15 and a scenario's value would depend on its position in the set
        const = (st.a_dead[:, None] * vd).sum(axis=0) + rk * (st.b_dead[:, None] * vd).sum(axis=0)
        if len(st.live) == 0:
            raise MarketDataError(
                f"curve {lowered.name}: {h.quote_id} does not depend on its pillar"
            )
        e = (log_u[st.known_idx] * st.known_pw).sum(axis=1) + st.alpha_w * y_prev
        c = (st.a_live[:, None] + st.b_live[:, None] * rk) * x_exo[st.live_exo]
        if len(st.live) == 1:
            with np.errstate(invalid="ignore", divide="ignore"):
                x = (np.log(-const / c[0]) - e[0]) / st.beta[0]
        else:
            guess = _guess(y, times, k, rk)
            if size > 1:
                # Solve the base row, then start every scenario from the first-order solution
                # around it: the known part (const) is exact, the live terms linearised.
                x0 = _newton_one(
                    float(const[0]), c[:, 0].tolist(), e[:, 0].tolist(), st.beta.tolist(), guess[0]
                )
                if math.isfinite(x0):  # else: the flat-forward start, and let Newton report
                    e0 = np.exp(e[:, :1] + st.beta[:, None] * x0)  # (M, 1)
                    g_x = st.beta @ (c[:, :1] * e0)
                    de = 1.0 + (e - e[:, :1])
                    dg = (const - const[0]) + (e0 * (c * de - c[:, :1])).sum(axis=0)
                    guess = x0 - dg / g_x
            x = _newton(const, c, e, st.beta, guess)
        bad = ~np.isfinite(x)
        if bad.any():
            i = int(np.argmax(bad))
            where = f" (scenario {scenario_names[i]})" if scenario_names and size > 1 else ""
            raise MarketDataError(
                f"curve {lowered.name}: bootstrap failed: no solution for {h.quote_id}{where}"
            )
        y[k] = x
    return y.T.copy()


def _guess(y: F64, times: F64, k: int, rate: F64) -> F64:
    """Flat-forward extrapolation of the last solved segment (the quote as a rate at first)."""
    if k == 0:
        return np.broadcast_to(-rate * times[0], y.shape[1:]).copy()
    t0 = times[k - 2] if k >= 2 else 0.0
    y0 = y[k - 2] if k >= 2 else 0.0
    fwd = (y[k - 1] - y0) / (times[k - 1] - t0)
    return np.asarray(y[k - 1] + fwd * (times[k] - times[k - 1]))


def _newton_one(const: float, c: list[float], e: list[float], beta: list[float], x: float) -> float:
    """:func:`_newton` for one scenario in plain floats (a handful of terms: numpy's call
    overhead would dominate)."""
    terms = list(zip(c, e, beta, strict=True))
    try:
        for _ in range(_NEWTON_MAX):
            g, dg = const, 0.0
            for ci, ei, bi in terms:
                v = ci * math.exp(ei + bi * x)
                g += v
                dg += bi * v
            dx = g / dg
            x -= dx
            if abs(dx) <= _NEWTON_TOL:
                return x
    except (OverflowError, ZeroDivisionError):
        pass
    return math.nan


def _newton(const: F64, c: F64, e: F64, beta: F64, x: F64) -> F64:
    """Roots ``x`` (S,) of ``const + sum_m c_m exp(e_m + beta_m x)`` (``c``, ``e``: (M, S))."""
    b = beta[:, None]
    step = math.inf
    ex = np.empty(np.broadcast_shapes(c.shape, e.shape))
    for _ in range(_NEWTON_MAX):
        np.multiply(b, x, out=ex)
        ex += e
        np.exp(ex, out=ex)
        ex *= c
        dx = (const + ex.sum(axis=0)) / (b * ex).sum(axis=0)  # not beta @ ex (see above)
        x = x - dx
        step = float(np.abs(dx).max())
        if step <= _NEWTON_TOL:
            return x
    return np.full_like(x, math.nan) if not step < 1e-8 else x
