"""Greeks on the demo market: invariants, both engines, partitions, signs and units, sparsity.

Second sources: bucketed deltas summed against the parallel delta (PITFALLS 21), the QuantLib
engine against the vectorised one on the same scenario set, the same trades valued in one call
or in several, the pricer itself (a 1 bp lower fixed rate is worth exactly what a 1 bp higher
par quote is worth to a swap that IS the curve instrument), QuantLib's discount factors, and
reasoning about signs written next to each check.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pytest

from pricing import quantlib_ as qa
from pricing.curves import build_market
from pricing.demo.portfolio import demo_portfolio, demo_trades
from pricing.kernels.engine import value
from pricing.market import MarketSnapshot, tenor_date
from pricing.pricer import price
from pricing.quantlib_ import ql_session
from pricing.trades import (
    PRODUCTS,
    CapFloor,
    FixedRateBond,
    FxForward,
    InterestRateSwap,
    Swaption,
    Trade,
)
from risk.factors import risk_factors
from risk.greeks import (
    BumpSizes,
    GreekPlan,
    LongForm,
    Sensitivities,
    compute_greeks,
    greek_plan,
    reduce,
)
from tests.pricing.kernels.conformance import closed_form_tolerance, linear_tolerance, scale_of
from tests.pricing.products.textbook import eq_option

LINEAR = ("IRS", "OIS", "FRA", "BOND", "FX_FORWARD")
OPTIONS = tuple(p for p in PRODUCTS if p not in LINEAR)


@pytest.fixture(scope="module")
def sample() -> list[Trade]:
    """30 seeded demo trades of every product."""
    return [t for p in PRODUCTS for t in demo_trades(p, 30, seed=11)]


@pytest.fixture(scope="module")
def full(demo_snapshot: MarketSnapshot, sample: list[Trade]) -> Sensitivities:
    return compute_greeks(sample, demo_snapshot)


def _bucket_sums(
    s: Sensitivities, cls: str, measure: str
) -> dict[tuple[str, str], tuple[float, float, float]]:
    """(trade, factor) -> (parallel, sum of buckets, sum of |buckets|)."""
    out: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for t, c, f, b, m, v in zip(
        s.trade, s.factor_class, s.factor, s.bucket, s.measure, s.value, strict=True
    ):
        if c != cls or m != measure:
            continue
        acc = out[(t, f)]
        if b == "":
            acc[0] = v
        else:
            acc[1] += v
            acc[2] += abs(v)
    return {k: (p, b, a) for k, (p, b, a) in out.items()}


def _size(trade: Trade, snapshot: MarketSnapshot) -> float:
    """The position's size in its currency: the notional, or quantity x spot for equity."""
    und = getattr(trade, "underlying", None)
    return scale_of(trade) * (snapshot[f"EQ.{und}.SPOT"] if und else 1.0)


def _check_sums(
    s: Sensitivities,
    trades: Sequence[Trade],
    snapshot: MarketSnapshot,
    cls: str,
    measure: str,
    rel: float,
    units_per_bump: float = 1.0,
) -> set[str]:
    """|sum of buckets - parallel| <= rel * max(|parallel|, sum |buckets|) + floor; returns the
    factors covered. The floor is for factors a trade depends on at the level of rounding:
    1e-12 of the position's size times the units per bump (u/h): ~100x the rounding of a PV
    (~1e-14 of the size), which a difference divides by the bump."""
    size = {t.trade_id: _size(t, snapshot) for t in trades}
    bad = []
    for (t, f), (par, total, total_abs) in _bucket_sums(s, cls, measure).items():
        allowed = rel * max(abs(par), total_abs) + 1e-12 * size[t] * units_per_bump
        if not abs(total - par) <= allowed:
            bad.append((abs(total - par) / allowed, t, f, par, total))
    assert not bad, sorted(bad, reverse=True)[:5]
    return {f for _, f in _bucket_sums(s, cls, measure)}


# -- bucketed = parallel --------------------------------------------------------------------------


def test_bucketed_par_deltas_sum_to_the_parallel_delta_linear(
    demo_snapshot: MarketSnapshot, sample: list[Trade], full: Sensitivities
) -> None:
    """Linear products, default 1 bp bumps, every curve of the demo market (forward points'
    implied curve included): within 1e-6 relative. Central differences leave only third-order
    cross terms, ~h^2 T^2 / 6 relative (under 1e-6 up to 30 years at h = 1 bp)."""
    linear = [t for t in sample if t.product in LINEAR]
    ids = {t.trade_id for t in linear}
    sub = _subset(full, ids)
    covered = _check_sums(sub, linear, demo_snapshot, "IR", "delta", 1e-6)
    curves = {f.name for f in risk_factors(demo_snapshot) if f.factor_class == "IR"}
    assert covered == curves  # the sample touches every curve, EURUSD-FWD and JPY-TONA included


def test_bucketed_par_deltas_sum_to_the_parallel_delta_options(
    demo_snapshot: MarketSnapshot, sample: list[Trade], full: Sensitivities
) -> None:
    """Options: the same third-order cross terms are larger (a normal-vol option's third
    derivative in the forward is ~1/(sigma_n^2 T) times its first: ~1e4), so at the default 1 bp
    bump the sums agree to ~5e-4 only. The discrepancy is truncation, not an error: it shrinks
    as h^2 (checked: 100x smaller at 0.1 bp), and at 0.01 bp it is within 1e-6."""
    options = [t for t in sample if t.product in OPTIONS]
    ids = {t.trade_id for t in options}
    default = _bucket_sums(_subset(full, ids), "IR", "delta")
    irs = {("IR", f.name) for f in risk_factors(demo_snapshot) if f.factor_class == "IR"}
    fine = {}
    for bp in (0.1, 0.01):
        plan = greek_plan(demo_snapshot, BumpSizes(ir_bp=bp), factors=irs)
        fine[bp] = compute_greeks(options, demo_snapshot, plan=plan, theta=False)
    covered = _check_sums(fine[0.01], options, demo_snapshot, "IR", "delta", 1e-6, 100.0)
    assert {"USD-SOFR", "EUR-ESTR", "EUR-EURIBOR-6M", "USD-TSOFR-3M"} <= covered
    # h^2 scaling of the discrepancy where it is well above rounding
    tenth = _bucket_sums(fine[0.1], "IR", "delta")
    ratios = [
        (total - par) / (tenth[k][1] - tenth[k][0])
        for k, (par, total, _) in default.items()
        if abs(total - par) > 1e-5 * abs(par) and abs(par) > 1.0
    ]
    assert len(ratios) >= 20
    assert np.median(ratios) == pytest.approx(100.0, rel=0.05)


def test_bucketed_vegas_sum_to_the_parallel_vega(
    demo_snapshot: MarketSnapshot, sample: list[Trade]
) -> None:
    """Vega buckets (equity expiries, FX expiries, swaption expiry x tenor, cap maturities) sum
    to the parallel vega up to the same third-order terms; vol convexity (volga) of OTM and
    barrier options makes them ~h^2 * 100 at h = 1 vol point, so the check uses 1e-5 vol
    (0.001 points; 0.001 bp for normal vols): within 1e-6."""
    options = [t for t in sample if t.product in OPTIONS]
    vols = {("VOL", f.name) for f in risk_factors(demo_snapshot) if f.factor_class == "VOL"}
    plan = greek_plan(demo_snapshot, BumpSizes(vol_black=1e-5, vol_normal=1e-7), factors=vols)
    fine = compute_greeks(options, demo_snapshot, plan=plan, theta=False)
    covered = _check_sums(fine, options, demo_snapshot, "VOL", "vega", 1e-6, 1000.0)
    assert {"EQ.SPX", "FX.EURUSD", "SWPT.USD", "CAP.EUR"} <= covered


def _subset(s: Sensitivities, ids: set[str]) -> Sensitivities:
    keep = np.isin(s.trade, list(ids))
    lf = s.long
    sub = dataclasses.replace(
        lf,
        trade_index=lf.trade_index[keep],
        factor_class=lf.factor_class[keep],
        factor=lf.factor[keep],
        bucket=lf.bucket[keep],
        measure=lf.measure[keep],
        value=lf.value[keep],
        value_local=None if lf.value_local is None else lf.value_local[keep],
    )
    return dataclasses.replace(s, long=sub)


# -- engines, partitions ---------------------------------------------------------------------------


def _pv_tolerance(trade: Trade, pv: np.ndarray) -> np.ndarray:
    """Issue 4's kernel-vs-QuantLib tolerance per PV (tests/pricing/kernels/conformance.py)."""
    absolute, relative = (
        linear_tolerance() if trade.product in LINEAR else closed_form_tolerance()
    )(trade)
    return np.maximum(absolute, relative * np.abs(pv))


def _compare_engines(snapshot: MarketSnapshot, trades: Sequence[Trade], plan: GreekPlan) -> int:
    """Greeks of both engines on one scenario set. A Greek is sum_i w_i PV_i, so it may differ
    by sum_i |w_i| tol(PV_i); returns the number of entries compared."""
    vec = value(trades, snapshot, plan.scenarios, engine="vectorised")
    ref = value(trades, snapshot, plan.scenarios, engine="quantlib")
    assert [e is None for e in vec.errors] == [e is None for e in ref.errors]
    assert not vec.fallbacks
    tol = np.array([_pv_tolerance(t, ref.pv[i]) for i, t in enumerate(trades)])
    # in the trade currency, where the tolerances are stated
    a = reduce(plan, vec.pv)
    b = reduce(plan, ref.pv)
    dense_a = _dense(a, len(trades), plan)
    dense_b = _dense(b, len(trades), plan)
    w = np.zeros((len(plan.rows), plan.n_scenarios))
    for j, r in enumerate(plan.rows):
        if r.measure == "gamma":
            w[j, [r.up, 0, r.down]] = [r.scale, 2 * r.scale, r.scale]
        else:
            w[j, [r.up, r.down]] = abs(r.scale)
    allowed = tol @ w.T
    bad = np.argwhere(~(np.abs(dense_a - dense_b) <= allowed))
    assert not len(bad), [
        (trades[i].trade_id, plan.rows[j], dense_a[i, j], dense_b[i, j], allowed[i, j])
        for i, j in bad[:5]
    ]
    return int(np.count_nonzero(dense_b))


def _dense(lf: LongForm, k: int, plan: GreekPlan) -> np.ndarray:
    out = np.zeros((k, len(plan.rows)))
    index = {(r.factor_class, r.factor, r.bucket, r.measure): j for j, r in enumerate(plan.rows)}
    for t, c, f, b, m, v in zip(
        lf.trade_index, lf.factor_class, lf.factor, lf.bucket, lf.measure, lf.value, strict=True
    ):
        out[t, index[(c, f, b, m)]] = v
    return out


ENGINE_FACTORS = {
    ("IR", "USD-SOFR"),
    ("IR", "EUR-EURIBOR-6M"),
    ("IR", "EURUSD-FWD"),
    ("FX", "EURUSD"),
    ("FX", "USDJPY"),
    ("EQ", "SPX"),
    ("DIV", "SPX"),
    ("VOL", "EQ.SPX"),
    ("VOL", "SWPT.USD"),
    ("VOL", "CAP.EUR"),
    ("CREDIT", "UST"),
}


def test_engines_agree(demo_snapshot: MarketSnapshot) -> None:
    """Two demo trades of every product, a lean plan of 11 factors (QuantLib rebuilds every
    curve per scenario: ~0.1 s each), parallel bumps: every Greek within the propagated PV
    tolerance; and compute_greeks is exactly value + reduce."""
    trades = [t for p in PRODUCTS for t in demo_trades(p, 2, seed=5)]
    plan = greek_plan(demo_snapshot, buckets=False, factors=ENGINE_FACTORS)
    assert _compare_engines(demo_snapshot, trades, plan) > 30
    s = compute_greeks(trades, demo_snapshot, plan=plan, theta=False)
    v = value(trades, demo_snapshot, plan.scenarios)
    lf = reduce(plan, v.pv_reporting, pv_local=v.pv)
    units = s.measure == "delta_units"
    np.testing.assert_array_equal(s.value[~units], lf.value)  # no units without unit values
    np.testing.assert_array_equal(s.value_local[~units], lf.value_local)


@pytest.mark.slow
def test_engines_agree_every_factor_and_bucket(demo_snapshot: MarketSnapshot) -> None:
    """The full demo plan (575 scenarios) on one trade of every product (~2 min: QuantLib)."""
    trades = [t for p in PRODUCTS for t in demo_trades(p, 1, seed=8)]
    assert _compare_engines(demo_snapshot, trades, greek_plan(demo_snapshot)) > 200


def test_partition_invariance(demo_snapshot: MarketSnapshot) -> None:
    """200 demo-portfolio trades valued in one call, or shuffled into four calls: the same
    entries, bit for bit (the grid may chunk a book any way)."""
    trades = list(demo_portfolio(200, seed=4).trades)
    plan = greek_plan(demo_snapshot)

    def entries(s: Sensitivities) -> dict[tuple[str, str, str, str, str], tuple[float, float]]:
        return {
            (t, c, f, b, m): (v, loc)
            for t, c, f, b, m, v, loc in zip(
                s.trade,
                s.factor_class,
                s.factor,
                s.bucket,
                s.measure,
                s.value,
                s.value_local,
                strict=True,
            )
        }

    whole = entries(compute_greeks(trades, demo_snapshot, plan=plan))
    order = np.random.default_rng(9).permutation(len(trades))
    parts: dict[tuple[str, str, str, str, str], tuple[float, float]] = {}
    for chunk in np.array_split(order, 4):
        parts.update(entries(compute_greeks([trades[i] for i in chunk], demo_snapshot, plan=plan)))
    assert len(whole) > 3000
    assert parts == whole  # float equality: identical bits


# -- signs and units, with the reasoning ---------------------------------------------------------

SPOT_START = dt.date(2025, 12, 2)  # 28 Nov 2025 + 2 US business days (the swap helpers' spot)


def _swap(side: Literal["PAY", "RECEIVE"], fixed: float, notional: float = 1e7) -> InterestRateSwap:
    return InterestRateSwap(
        trade_id=f"IRS-{side}-{fixed}",
        book="B",
        counterparty="C",
        currency="USD",
        index="USD-TSOFR-3M",
        notional=notional,
        start_date=SPOT_START,
        maturity_date=dt.date(2030, 12, 2),
        fixed_rate=fixed,
        fixed_leg=side,
    )


def test_payer_swap_that_is_the_curve_instrument(demo_snapshot: MarketSnapshot) -> None:
    """A 5Y payer swap on Term SOFR 3M struck at the 5Y par quote IS the curve's 5Y instrument
    (PV 0). Its PV is N A (q - K): linear in the quote q with the annuity A set by the SOFR
    discount curve alone, so its only par delta is the 5Y bucket, exactly N A per bp -- and the
    pricer gives N A per bp independently, as PV(K - 1bp) - PV(K). Sign: a payer pays fixed and
    receives floating, so it GAINS when rates rise: positive IR delta; the receiver is its
    negative."""
    par = demo_snapshot["IR.USD.TSOFR3M.SWAP.5Y"]
    n = 1e7
    payer, receiver = _swap("PAY", par), _swap("RECEIVE", par)
    pvs = price([payer, _swap("PAY", par - 1e-4)], demo_snapshot).results
    assert abs(pvs[0].pv) < 1e-8 * n  # the curve reprices its instrument
    annuity_bp = pvs[1].pv - pvs[0].pv  # N A 1bp
    assert annuity_bp == pytest.approx(n * 4.5e-4, rel=0.1)  # ~4.5 years of annuity
    s = compute_greeks([payer, receiver], demo_snapshot, theta=False)
    pay = {(f, b): s.value_of(payer.trade_id, "IR", f, b, "delta") for f, b in _ir_keys(s)}
    assert pay[("USD-TSOFR-3M", "5Y")] == pytest.approx(annuity_bp, rel=1e-9)
    assert pay[("USD-TSOFR-3M", "")] == pytest.approx(annuity_bp, rel=1e-9)
    assert pay[("USD-TSOFR-3M", "5Y")] > 0
    others = [v for (f, b), v in pay.items() if f == "USD-TSOFR-3M" and b not in ("", "5Y")]
    assert max(map(abs, others), default=0.0) < 1e-12 * n
    # the annuity moves with SOFR, but (q - K) = 0: no SOFR delta beyond rounding
    assert abs(pay.get(("USD-SOFR", ""), 0.0)) < 1e-12 * n
    mine = s.trade == payer.trade_id
    assert mine.sum() > 10
    for c, f, b, m, v in zip(
        s.factor_class[mine],
        s.factor[mine],
        s.bucket[mine],
        s.measure[mine],
        s.value[mine],
        strict=True,
    ):
        rec = s.value_of(receiver.trade_id, c, f, b, m)
        assert rec == pytest.approx(-v, rel=1e-12, abs=1e-12 * n)  # abs: rounding-level entries


def _ir_keys(s: Sensitivities) -> set[tuple[str, str]]:
    return {
        (f, b)
        for c, f, b, m in zip(s.factor_class, s.factor, s.bucket, s.measure, strict=True)
        if c == "IR" and m == "delta"
    }


def test_fx_forward_delta_and_forward_points(demo_snapshot: MarketSnapshot) -> None:
    """Buying N EUR for K USD on the 1Y forward-point pillar date: PV = N DF_USD (S + p - K),
    with p the quoted points (the implied EUR curve reprices the quoted forward). Linear in S,
    so the central difference is exact: dPV/dS = N DF_USD(T) (an amount of EUR), the 1 % delta
    is that times S/100, and there is no gamma. Bumping the implied EUR rate at 1Y by +-1 bp
    moves the outright to F exp(-+h T): delta = -N DF_USD F sinh(h T) -- a buyer of EUR forward
    loses when EUR rates rise (the forward falls)."""
    delivery = tenor_date(demo_snapshot.asof, "1Y")
    spot, points = demo_snapshot["FX.EURUSD"], demo_snapshot["FX.EURUSD.FWD.1Y"]
    n = 5e6
    trade = FxForward(
        trade_id="FWD",
        book="B",
        counterparty="C",
        pair="EURUSD",
        notional=n,
        strike=1.15,
        delivery_date=delivery,
    )
    with ql_session(demo_snapshot.asof, demo_snapshot.fixings):
        df_usd = build_market(demo_snapshot).discount("USD").discount(qa.ql_date(delivery))
    s = compute_greeks([trade], demo_snapshot, theta=False)

    def get(c: str, f: str, b: str, m: str) -> float:
        return s.value_of("FWD", c, f, b, m)

    assert get("FX", "EURUSD", "", "delta_units") == pytest.approx(n * df_usd, rel=1e-10)
    assert get("FX", "EURUSD", "", "delta") == pytest.approx(n * df_usd * spot / 100, rel=1e-10)
    # linear: no gamma beyond the rounding of legs of size N S (PV = N S DF_b - N K DF_q)
    assert abs(get("FX", "EURUSD", "", "gamma")) < 1e-14 * n * spot
    t = (delivery - demo_snapshot.asof).days / 365
    expected = -n * df_usd * (spot + points) * math.sinh(1e-4 * t)
    assert get("IR", "EURUSD-FWD", "1Y", "delta") == pytest.approx(expected, rel=1e-9)
    assert get("IR", "EURUSD-FWD", "", "delta") == pytest.approx(expected, rel=1e-9)
    for b in ("1M", "3M", "6M", "2Y", "5Y"):
        assert abs(get("IR", "EURUSD-FWD", b, "delta")) < 1e-12 * n
    assert get("IR", "EUR-ESTR", "", "delta") == 0.0  # with points quoted, ESTR is not used


def test_a_eur_swap_reported_in_usd(demo_snapshot: MarketSnapshot) -> None:
    """A EUR swap's PV in EUR does not move with EURUSD; in USD it is PV_EUR * S: its FX delta
    per 1 % is PV_EUR S / 100 (reporting), 0 locally, and its position is PV_EUR euros (the
    same number locally); PV_EUR S is linear in S: no gamma."""
    trade = EUR_SWAP
    s = compute_greeks([trade], demo_snapshot, theta=False)
    (r,) = price([trade], demo_snapshot).results
    spot = demo_snapshot["FX.EURUSD"]
    tid = trade.trade_id
    assert s.value_of(tid, "FX", "EURUSD", "", "delta") == pytest.approx(r.pv * spot / 100, 1e-9)
    assert s.value_of(tid, "FX", "EURUSD", "", "delta", local=True) == 0.0
    assert s.value_of(tid, "FX", "EURUSD", "", "delta_units") == pytest.approx(r.pv, rel=1e-9)
    assert s.value_of(tid, "FX", "EURUSD", "", "delta_units", local=True) == 0.0
    assert s.value_of(tid, "FX", "EURUSD", "", "gamma") == 0.0
    # every other entry converts at spot: value = value_local * S (IR deltas)
    ir = s.factor_class == "IR"
    np.testing.assert_allclose(
        s.value[ir], s.value_local[ir] * spot, rtol=1e-12, atol=1e-12 * 1.5e6
    )


def test_signs_of_options_and_bonds(demo_snapshot: MarketSnapshot) -> None:
    """Long positions, with why:
    * a bond pays fixed cash: higher rates or a wider spread discount it more -> IR and credit
      deltas negative; selling it flips both;
    * a call gains with spot, vol and rates (a higher forward), loses with time (theta < 0 at
      the money) and dividends; a put is the mirror in spot, rates and dividends, long vega too;
    * a payer swaption gains when rates rise, a receiver when they fall; both are long vega;
    * a cap gains when rates rise, a floor when they fall; both long vega."""
    bond = FixedRateBond(
        trade_id="BOND",
        book="B",
        counterparty="C",
        currency="USD",
        notional=1e7,
        issue_date=dt.date(2024, 6, 15),
        maturity_date=dt.date(2034, 6, 15),
        coupon=0.04,
        issuer="UST",
    )
    short_bond = dataclasses.replace(bond, trade_id="BOND-S", side="SELL")
    expiry = dt.date(2026, 11, 20)
    call = eq_option("CALL", 6850.0, expiry, und="SPX", quantity=10, trade_id="C")
    put = eq_option("PUT", 6850.0, expiry, und="SPX", quantity=10, trade_id="P")
    swpt = {
        k: Swaption(
            trade_id=k,
            book="B",
            counterparty="C",
            currency="USD",
            index="USD-TSOFR-3M",
            notional=1e7,
            expiry_date=dt.date(2026, 12, 2),
            swap_tenor="5Y",
            strike=demo_snapshot["IR.USD.TSOFR3M.SWAP.5Y"],
            option_type=k,
        )
        for k in ("PAYER", "RECEIVER")
    }
    caps = {
        k: CapFloor(
            trade_id=k,
            book="B",
            counterparty="C",
            currency="USD",
            index="USD-TSOFR-3M",
            notional=1e7,
            start_date=SPOT_START,
            maturity_date=dt.date(2030, 12, 2),
            strike=0.034,
            option_type=k,
        )
        for k in ("CAP", "FLOOR")
    }
    trades = [bond, short_bond, call, put, *swpt.values(), *caps.values()]
    s = compute_greeks(trades, demo_snapshot)
    assert all(e is None for e in s.errors)

    def g(t: str, c: str, f: str, m: str = "delta") -> float:
        return s.value_of(t, c, f, "", m)

    assert g("BOND", "IR", "USD-SOFR") < 0
    assert g("BOND", "CREDIT", "UST") < 0
    assert g("BOND-S", "IR", "USD-SOFR") == -g("BOND", "IR", "USD-SOFR")
    assert g("BOND-S", "CREDIT", "UST") == -g("BOND", "CREDIT", "UST")
    assert g("C", "EQ", "SPX") > 0
    assert g("P", "EQ", "SPX") < 0
    assert g("C", "EQ", "SPX", "gamma") > 0
    assert g("P", "EQ", "SPX", "gamma") > 0
    assert g("C", "VOL", "EQ.SPX", "vega") > 0
    assert g("P", "VOL", "EQ.SPX", "vega") > 0
    assert g("C", "IR", "USD-SOFR") > 0  # rho
    assert g("P", "IR", "USD-SOFR") < 0
    assert g("C", "DIV", "SPX") < 0
    assert g("P", "DIV", "SPX") > 0
    assert s.value_of("C", "THETA", "", "", "theta") < 0
    # delta_units of a call is shares: 10 contracts x N(d1)-ish, between 0 and 10
    assert 0 < g("C", "EQ", "SPX", "delta_units") < 10
    assert g("PAYER", "IR", "USD-TSOFR-3M") > 0
    assert g("RECEIVER", "IR", "USD-TSOFR-3M") < 0
    assert g("PAYER", "VOL", "SWPT.USD", "vega") > 0
    assert g("RECEIVER", "VOL", "SWPT.USD", "vega") > 0
    assert g("CAP", "IR", "USD-TSOFR-3M") > 0
    assert g("FLOOR", "IR", "USD-TSOFR-3M") < 0
    assert g("CAP", "VOL", "CAP.USD", "vega") > 0
    assert g("FLOOR", "VOL", "CAP.USD", "vega") > 0
    # every stored entry is finite and non-zero (sparse: PITFALLS 17)
    assert np.all(np.isfinite(s.value))
    assert np.all((s.value != 0) | (s.value_local != 0))


# -- sparsity ------------------------------------------------------------------------------------

#: A seasoned EUR swap: it reads EUR-ESTR and EUR-EURIBOR-6M; in USD also EURUSD spot.
EUR_SWAP = InterestRateSwap(
    trade_id="EUR-SWAP",
    book="B",
    counterparty="C",
    currency="EUR",
    index="EUR-EURIBOR-6M",
    notional=1.5e6,
    start_date=dt.date(2025, 1, 17),
    maturity_date=dt.date(2030, 1, 17),
    fixed_rate=0.02357,
    fixed_leg="RECEIVE",
)
EUR_SWAP_FACTORS = {
    ("IR", "EUR-ESTR"),
    ("IR", "EUR-EURIBOR-6M"),
    ("FX", "EURUSD"),
    ("THETA", ""),
}


def test_sparsity_quantlib(demo_snapshot: MarketSnapshot) -> None:
    """The QuantLib engine rebuilds every curve of every scenario from its quotes: a curve whose
    quotes a scenario leaves alone is bit-identical, so a trade has entries exactly on what it
    reads. A lean plan mixing factors it reads and factors it does not (credit, USD curves,
    other spots and vols) keeps QuantLib fast."""
    plan = greek_plan(
        demo_snapshot,
        factors={
            ("IR", "EUR-ESTR"),
            ("IR", "EUR-EURIBOR-6M"),
            ("IR", "USD-SOFR"),
            ("FX", "EURUSD"),
            ("FX", "GBPUSD"),
            ("CREDIT", "GLOBEX"),
            ("EQ", "SX5E"),
            ("VOL", "SWPT.EUR"),
        },
        buckets=False,
    )
    s = compute_greeks([EUR_SWAP], demo_snapshot, engine="quantlib", plan=plan)
    assert set(zip(s.factor_class, s.factor, strict=True)) == EUR_SWAP_FACTORS


def test_sparsity_vectorised(demo_snapshot: MarketSnapshot) -> None:
    """The same with the vectorised engine and the full demo plan."""
    s = compute_greeks([EUR_SWAP], demo_snapshot)
    assert set(zip(s.factor_class, s.factor, strict=True)) == EUR_SWAP_FACTORS
