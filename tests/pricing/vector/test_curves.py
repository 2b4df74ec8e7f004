"""Vectorised curves: QuantLib's interpolation rules, the lowered bootstrap instruments, and the
vectorised bootstrap itself.

Second sources: closed forms written here (log-linear discount factors, QuantLib's flat-forward
extrapolation), QuantLib's own curves and helpers (``impliedQuote``), and QuantLib bootstraps
re-run at a tighter accuracy (1e-15 instead of the default 1e-12), against which the vectorised
bootstrap -- which solves each pillar to rounding -- must agree to rounding.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
import QuantLib as ql
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import quantlib_ as qa
from pricing.conventions import currency_convention, index_convention
from pricing.curves import QlMarket
from pricing.errors import MarketDataError
from pricing.market import MarketSnapshot
from pricing.quantlib_ import ql_session
from pricing.scenarios import ScenarioSet
from pricing.vector import curves as vc
from pricing.vector.market import ScenarioMarket, clear_lowering_cache
from tests.factories import ASOF
from tests.pricing.vector.reference import discounts

BOOTSTRAPPED = ("USD-SOFR", "EUR-ESTR", "EUR-EURIBOR-6M", "EUR-EURIBOR-3M", "USD-TSOFR-3M")
TIMES = st.floats(min_value=0.0, max_value=45.0, allow_nan=False)


# -- interpolation rules --------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(t=TIMES)
def test_log_linear_is_geometric_between_pillars_and_flat_forward_beyond(t: float) -> None:
    # Independent closed form: DF(t) = DF_i^(1-l) DF_{i+1}^l with l the position in the
    # segment; beyond the last pillar the last segment's forward continues,
    # DF(t) = DF_n * (DF_n / DF_{n-1})^((t - t_n) / (t_n - t_{n-1})).
    times = np.array([0.0, 0.5, 2.0, 10.0])
    dfs = np.array([1.0, 0.98, 0.93, 0.70])
    c = vc.LogLinearCurve(times, np.log(dfs)[None, :])
    i = min(int(np.searchsorted(times, t, side="right")) - 1, len(times) - 2)
    lam = (t - times[i]) / (times[i + 1] - times[i])
    expected = dfs[i] ** (1 - lam) * dfs[i + 1] ** lam
    assert c.df(np.array([t]))[0, 0] == pytest.approx(expected, rel=1e-14)


def _ql_dates(times: list[float]) -> list[ql.Date]:
    d0 = qa.ql_date(ASOF)
    return [d0 + round(t * 365) for t in times]


@settings(max_examples=100, deadline=None)
@given(t=st.lists(TIMES, min_size=1, max_size=20))
def test_direct_curves_reproduce_quantlib(t: list[float]) -> None:
    # The three QuantLib curves QlMarket builds from direct inputs, built here directly.
    times = [0.0, 0.25, 1.0, 5.0, 30.0]
    dates = _ql_dates(times)
    tq = np.array([(d - dates[0]) / 365.0 for d in dates])
    dc = ql.Actual365Fixed()
    zeros = [0.031, 0.031, 0.028, 0.035, 0.041]
    dfs = [1.0, 0.992, 0.972, 0.84, 0.31]
    with ql_session(ASOF):
        ql_zero = ql.ZeroCurve(dates, zeros, dc, ql.NullCalendar(), ql.Linear(), ql.Continuous)
        ql_df = ql.DiscountCurve(dates, dfs, dc)
        ql_flat = ql.FlatForward(dates[0], 0.0275, dc, ql.Continuous)
        for curve in (ql_zero, ql_df, ql_flat):
            curve.enableExtrapolation()
        x = np.array(t)
        ours = {
            "zero": vc.ZeroLinearCurve(tq, np.array([zeros])).df(x)[0],
            "df": vc.LogLinearCurve(tq, np.log([dfs])).df(x)[0],
            "flat": vc.FlatCurve(np.array([0.0275])).df(x)[0],
        }
        theirs = {
            "zero": discounts(ql.YieldTermStructureHandle(ql_zero), x),
            "df": discounts(ql.YieldTermStructureHandle(ql_df), x),
            "flat": discounts(ql.YieldTermStructureHandle(ql_flat), x),
        }
    for k in ours:  # same formulas: only exp/log rounding (a few ulps) may differ
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-14, atol=0, err_msg=k)


def test_zero_curve_extrapolates_the_last_instantaneous_forward() -> None:
    # QuantLib's InterpolatedZeroCurve beyond tMax: z(t) = (zMax tMax + f (t - tMax)) / t with
    # f = zMax + tMax z'(tMax), the instantaneous forward at tMax held flat -- not a flat zero.
    times, zeros = np.array([0.0, 1.0, 5.0]), np.array([[0.02, 0.02, 0.03]])
    c = vc.ZeroLinearCurve(times, zeros)
    slope = (0.03 - 0.02) / 4.0
    f = 0.03 + 5.0 * slope
    for t in (6.0, 20.0):
        assert c.zero_rate(np.array([t]))[0, 0] == pytest.approx((0.03 * 5 + f * (t - 5)) / t)
    assert c.df(np.array([0.0]))[0, 0] == 1.0


def test_shapes_broadcast_over_any_time_shape() -> None:
    c = vc.LogLinearCurve(np.array([0.0, 1.0]), np.log([[1.0, 0.97], [1.0, 0.96], [1.0, 0.95]]))
    assert c.df(np.zeros((4, 5))).shape == (3, 4, 5)
    assert vc.FlatCurve(np.array([0.01])).df(np.array([1.0, 2.0])).shape == (1, 2)
    assert vc.ZeroLinearCurve(np.array([0.0, 1.0]), np.array([[0.01, 0.01]])).df(
        np.array(1.0)
    ).shape == (1,)


# -- lowering: the lowered instruments are QuantLib's instruments ---------------------------------
def _lowered_implied_quote(
    h: vc.LoweredHelper,
    df: ql.YieldTermStructureHandle,
    disc: ql.YieldTermStructureHandle | None,
) -> tuple[float, float]:
    """The lowered residual is linear in the quote, sum (a + r b) X prod DF^P = 0: its root
    and the annuity (minus the quote's coefficient), which converts a rate error into PV."""
    own = np.array([df.discount(int(d) / 365.0) for d in h.days])
    exo = np.array(
        [disc.discount(int(d) / 365.0) if d >= 0 else 1.0 for d in h.exo_days]  # type: ignore[union-attr]
    )
    terms = exo * np.prod(own[None, :] ** h.powers, axis=1)
    a, b = math.fsum(h.a * terms), math.fsum(h.b * terms)  # exact sums: only QuantLib's round
    return -a / b, -b


def _assert_same_quote(
    h: vc.LoweredHelper,
    df: ql.YieldTermStructureHandle,
    disc: ql.YieldTermStructureHandle | None,
    implied: float,
) -> None:
    # Rate differences times the annuity are PV differences per unit notional. 1e-14: QuantLib
    # sums up to 120 coupons of size ~0.1 (ratio of DFs minus 1, times a DF) in order, a few
    # ulps each (a 1W OIS has annuity 0.02: 1 ulp of its leg is 1e-14 in rate).
    rate, annuity = _lowered_implied_quote(h, df, disc)
    assert abs(rate - implied) * annuity <= 1e-14, (h.quote_id, rate, implied)


def _lower(qm: QlMarket, index: str) -> vc.LoweredCurve:
    conv = index_convention(index)
    disc = None if conv.is_overnight else currency_convention(conv.currency).discount_index
    return vc.lower_helpers(index, qm.helpers(index), qm.asof, conv.day_count, disc)


@pytest.mark.parametrize("index", BOOTSTRAPPED)
def test_lowered_helpers_give_quantlibs_implied_quotes(
    demo_snapshot: MarketSnapshot, index: str
) -> None:
    # On QuantLib's own curve, the lowered instrument's par rate equals the QuantLib helper's
    # impliedQuote(): same dates, accruals, payment lags and known fixings.
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        qm = QlMarket(demo_snapshot)
        lowered = _lower(qm, index)
        disc = lowered.discount_index and qm.curve(lowered.discount_index)
        for (qid, h), lh in zip(qm.helpers(index), lowered.helpers, strict=True):
            assert lh.quote_id == qid
            _assert_same_quote(lh, qm.curve(index), disc or None, h.impliedQuote())


def test_swap_helpers_use_todays_stored_ibor_fixing(demo_snapshot: MarketSnapshot) -> None:
    # QuantLib rule replicated: an IBOR coupon fixing today takes the stored fixing when there
    # is one (the demo has EUR-EURIBOR-6M on 2025-11-28 = 2.12%) and forecasts otherwise;
    # deposit and FRA helpers always forecast. Both cases must match QuantLib's helpers.
    fix = dict(demo_snapshot.fixings)
    fix["EUR-EURIBOR-6M"] = {
        d: v for d, v in fix["EUR-EURIBOR-6M"].items() if d != demo_snapshot.asof
    }
    without = MarketSnapshot(demo_snapshot.asof, demo_snapshot.quotes, fix)
    known = {}
    for snap in (demo_snapshot, without):
        with ql_session(snap.asof, snap.fixings):
            qm = QlMarket(snap)
            lowered = _lower(qm, "EUR-EURIBOR-6M")
            swap2y = next(h for h in lowered.helpers if h.quote_id.endswith("SWAP.2Y"))
            # a known coupon is a constant term: no own-curve dates, no quote coefficient
            known[snap is demo_snapshot] = bool(
                np.any((swap2y.powers == 0).all(axis=1) & (swap2y.a > 0))
            )
            disc = qm.curve("EUR-ESTR")
            for (qid, h), lh in zip(qm.helpers("EUR-EURIBOR-6M"), lowered.helpers, strict=True):
                assert lh.quote_id == qid
                _assert_same_quote(lh, qm.curve("EUR-EURIBOR-6M"), disc, h.impliedQuote())
    assert known == {True: True, False: False}


def _sonia_snapshot(with_today: bool) -> MarketSnapshot:
    # A bootstrapped SONIA curve: settlement 0, so the first overnight fixing is today.
    q = {
        f"IR.GBP.SONIA.OIS.{t}": r
        for t, r in (("1W", 0.0395), ("1M", 0.0392), ("6M", 0.0385), ("1Y", 0.0372))
    }
    q.update({f"IR.GBP.SONIA.OIS.{t}": r for t, r in (("2Y", 0.036), ("5Y", 0.0372))})
    fixings = {"GBP-SONIA": {ASOF - dt.timedelta(days=1): 0.0397}}
    if with_today:
        fixings["GBP-SONIA"][ASOF] = 0.0450  # far from the curve, so it shows
    return MarketSnapshot(ASOF, q, fixings)


@pytest.mark.parametrize("with_today", [True, False])
def test_overnight_coupon_starting_today_uses_todays_fixing_when_stored(with_today: bool) -> None:
    snap = _sonia_snapshot(with_today)
    clear_lowering_cache()
    m = ScenarioMarket(snap)
    t = np.linspace(0.0, 6.0, 200)
    with ql_session(snap.asof, snap.fixings):
        qm = QlMarket(snap)
        lowered = _lower(qm, "GBP-SONIA")
        for (qid, h), lh in zip(qm.helpers("GBP-SONIA"), lowered.helpers, strict=True):
            assert lh.quote_id == qid
            _assert_same_quote(lh, qm.curve("GBP-SONIA"), None, h.impliedQuote())
        ref = discounts(qm.curve("GBP-SONIA"), t)
    np.testing.assert_allclose(m.df("GBP", t)[0], ref, rtol=0, atol=1e-12)


# -- the bootstrap against QuantLib at a tight accuracy -------------------------------------------
def _tight(helpers: list[ql.RateHelper], asof: ql.Date) -> ql.YieldTermStructureHandle:
    curve = ql.PiecewiseLogLinearDiscount(
        asof, helpers, ql.Actual365Fixed(), ql.IterativeBootstrap(1e-15)
    )
    curve.enableExtrapolation()
    return ql.YieldTermStructureHandle(curve)


@pytest.mark.parametrize("index", BOOTSTRAPPED)
def test_bootstrap_is_quantlibs_bootstrap_solved_to_rounding(
    demo_snapshot: MarketSnapshot, index: str
) -> None:
    # QuantLib's default accuracy (1e-12 on each pillar's DF) leaves ~1e-12 between its curve
    # and the exact root; re-bootstrapped at 1e-15 it must agree with ours to rounding.
    # IBOR helpers discount on QuantLib's (default-accuracy) OIS curve: we give the vectorised
    # bootstrap that same curve, rebuilt log-linearly through QuantLib's own nodes.
    t = np.r_[0.0, 1 / 365, np.linspace(0.01, 40.0, 400)]
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        qm = QlMarket(demo_snapshot)
        lowered = _lower(qm, index)
        disc_curve = None
        if lowered.discount_index:
            ois = _lower(qm, lowered.discount_index)
            pt = np.r_[0.0, ois.pillar_times]
            nodes = discounts(qm.curve(lowered.discount_index), pt)
            disc_curve = vc.LogLinearCurve(pt, np.log(nodes)[None, :])
        y = vc.bootstrap(lowered, [demo_snapshot[q] for q in lowered.quote_ids], disc_curve)
        ours = vc.LogLinearCurve(np.r_[0.0, lowered.pillar_times], np.c_[0.0, y]).df(t)[0]
        ref = discounts(_tight([h for _, h in qm.helpers(index)], qm.ql_asof), t)
    # Rounding, amplified by the conditioning of the long pillars: a swap's residual is a sum of
    # up to 240 cancelling terms (~1e-15 absolute rounding) whose slope in the last pillar's
    # log DF is only ~0.1 for a quarterly IBOR swap over a 5-year segment, so both solutions are
    # defined to ~1e-14 there; each pillar passes part of its error on to the next (log DF at
    # 25Y moves by 34x a change of the 25Y quote and 5x the next), and the extrapolation to 40Y
    # doubles the last slope's error. Measured worst: 1.1e-13 (EURIBOR 3M at 40Y).
    np.testing.assert_allclose(ours, ref, rtol=2e-13, atol=0)


def test_bootstrap_names_the_scenario_without_solution() -> None:
    # A deposit at -248% in one scenario: 1 + r tau < 0 has no discount factor. QuantLib fails
    # on that scenario's snapshot; the vectorised market names the scenario and the quote.
    snap = MarketSnapshot(ASOF, {"IR.EUR.EURIBOR6M.DEP.6M": 0.02, "IR.EUR.ESTR.FLAT": 0.02})
    scen = ScenarioSet.from_shifts(
        ["base", "ok", "crash"], [("IR.EUR.EURIBOR6M.DEP.6M", "ABSOLUTE", [0.0, 0.01, -2.5])]
    )
    with pytest.raises(
        MarketDataError,
        match=r"^curve EUR-EURIBOR-6M: bootstrap failed: .*DEP\.6M \(scenario crash\)$",
    ):
        ScenarioMarket(snap, scen).df("EUR-EURIBOR-6M", [1.0])
    bad = scen.snapshot(2, snap)
    with ql_session(ASOF), pytest.raises(MarketDataError, match="EURIBOR-6M: bootstrap failed"):
        QlMarket(bad).curve("EUR-EURIBOR-6M")


def test_newton_start_does_not_change_the_root(demo_snapshot: MarketSnapshot) -> None:
    # The first-order start around the base row is only a starting point: solving every
    # scenario alone (S = 1) gives the same curve to rounding.
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        lowered = _lower(QlMarket(demo_snapshot), "USD-SOFR")
    rng = np.random.default_rng(3)
    base = np.array([demo_snapshot[q] for q in lowered.quote_ids])
    quotes = base[:, None] + np.c_[np.zeros(len(base)), rng.normal(0, 0.003, (len(base), 7))]
    together = vc.bootstrap(lowered, list(quotes))
    alone = np.vstack([vc.bootstrap(lowered, list(quotes[:, [i]])) for i in range(8)])
    np.testing.assert_allclose(together, alone, rtol=0, atol=4e-16 * 30)
    assert math.isfinite(float(together.sum()))
