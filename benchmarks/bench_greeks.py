"""Full Greeks in process: the demo portfolio and 10,000 demo trades, vectorised vs QuantLib.

    python benchmarks/bench_greeks.py [--trades 10000] [--ql-sample 11] [--no-buckets]

"Full Greeks" is every measure of risk/greeks.py for every risk factor of the demo market: IR
delta (parallel and per pillar) and gamma per curve, FX and equity delta / units / gamma,
dividend delta, vega (parallel and per bucket), credit delta, and theta: one scenario set
(base + an up and a down bump per factor and per bucket, 575 scenarios on the demo market)
valued in one engine call, plus one call on the rolled date for theta.

Reports, in one run on one machine (one process, no grid):

* the plan: scenarios, rows, seconds to build;
* for the default demo portfolio and for ``--trades`` demo trades: first call (trades lowered
  for the as-of and the roll date) and second call (lowering cached), with the split
  engine / theta / reduction of the second call, revaluations (trade x scenario) and
  revaluations/s, long-form entries;
* the QuantLib engine on a stratified subsample of the big book (``--ql-sample`` trades, the
  same plan): seconds, revaluations/s, the ratio, the largest disagreement of any Greek in
  units of its propagated PV tolerance, and the subsample's vectorised Greeks against the same
  trades' entries from the whole-book call (they must be identical: partition invariance).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np

from pricing.demo import demo_market, demo_portfolio
from pricing.kernels.engine import value
from pricing.market import MarketSnapshot
from pricing.trades import Trade
from risk.greeks import GreekPlan, Sensitivities, compute_greeks, greek_plan, reduce

LINEAR = {"IRS", "OIS", "FRA", "BOND", "FX_FORWARD"}


def _entries(s: Sensitivities, ids: set[str] | None = None) -> dict[tuple[str, ...], float]:
    return {
        (t, c, f, b, m): v
        for t, c, f, b, m, v in zip(
            s.trade, s.factor_class, s.factor, s.bucket, s.measure, s.value, strict=True
        )
        if ids is None or t in ids
    }


def _book(
    label: str, trades: Sequence[Trade], snap: MarketSnapshot, plan: GreekPlan
) -> Sensitivities:
    """Cold and warm compute_greeks, and the warm call's phases."""
    t0 = time.perf_counter()
    cold = compute_greeks(trades, snap, plan=plan)
    t1 = time.perf_counter()
    warm = compute_greeks(trades, snap, plan=plan)
    t2 = time.perf_counter()
    # the warm call's phases, timed separately
    a = time.perf_counter()
    val = value(trades, snap, plan.scenarios)
    b = time.perf_counter()
    rolled = value(trades, snap.with_asof(plan.roll_date))
    c = time.perf_counter()
    reduce(
        plan,
        val.pv_reporting,
        theta=rolled.pv_reporting[:, 0] - val.pv_reporting[:, 0],
        pv_local=val.pv,
        theta_local=rolled.pv[:, 0] - val.pv[:, 0],
    )
    d = time.perf_counter()
    n = warm.revaluations
    print(f"\n{label}: {len(trades):,} trades x {plan.n_scenarios} scenarios + theta")
    print(f"  revaluations        {n:,}")
    print(f"  first call          {t1 - t0:7.2f} s   ({n / (t1 - t0):,.0f} revaluations/s)")
    print(f"  second call         {t2 - t1:7.2f} s   ({n / (t2 - t1):,.0f} revaluations/s)")
    print(f"    engine {b - a:.2f} s, theta {c - b:.2f} s, reduction {d - c:.2f} s (timed apart)")
    print(
        f"  entries             {len(warm.long):,} "
        f"({len(warm.long) / max(1, len(trades)):.1f} per trade), "
        f"failed {sum(e is not None for e in warm.errors)}, fell back {len(warm.fallbacks)}"
    )
    assert _entries(cold) == _entries(warm)
    return warm


def _sample(trades: Sequence[Trade], n: int) -> list[Trade]:
    """About ``n`` trades spread over the products (round robin)."""
    by_product: dict[str, list[Trade]] = {}
    for t in trades:
        by_product.setdefault(t.product, []).append(t)
    out: list[Trade] = []
    i = 0
    while len(out) < n and any(i < len(v) for v in by_product.values()):
        for v in by_product.values():
            if i < len(v) and len(out) < n:
                out.append(v[i])
        i += 1
    return out


def _worst_disagreement(
    trades: Sequence[Trade], snap: MarketSnapshot, plan: GreekPlan
) -> tuple[float, float, float]:
    """(QuantLib seconds, vectorised seconds, worst |Greek difference| / propagated tolerance)
    on the trade currency, tolerances as in tests/risk/test_greeks_demo.py (issue 4's PV
    tolerances: 1e-8 x notional linear, max(1e-8 relative, 1e-10 x notional) options)."""
    t0 = time.perf_counter()
    ref = value(trades, snap, plan.scenarios, engine="quantlib")
    t1 = time.perf_counter()
    vec = value(trades, snap, plan.scenarios)
    t2 = time.perf_counter()
    scale = np.array([abs(getattr(t, "notional", getattr(t, "quantity", 1.0))) for t in trades])
    linear = np.array([t.product in LINEAR for t in trades])
    tol = np.where(
        linear[:, None],
        1e-8 * scale[:, None],
        np.maximum(1e-10 * scale[:, None], 1e-8 * np.abs(ref.pv)),
    )
    w = np.zeros((len(plan.rows), plan.n_scenarios))
    for j, r in enumerate(plan.rows):
        if r.measure == "gamma":
            w[j, [r.up, 0, r.down]] = [r.scale, 2 * r.scale, r.scale]
        else:
            w[j, [r.up, r.down]] = abs(r.scale)
    cols = [j for j, r in enumerate(plan.rows) if r.measure != "delta_units"]
    up = np.array([plan.rows[j].up for j in cols])
    down = np.array([plan.rows[j].down for j in cols])
    sc = np.array([plan.rows[j].scale for j in cols])
    gam = np.array([plan.rows[j].measure == "gamma" for j in cols])

    def greeks(pv: np.ndarray) -> np.ndarray:
        first = (pv[:, up] - pv[:, down]) * sc
        second = (pv[:, up] - 2 * pv[:, [0]] + pv[:, down]) * sc
        return np.where(gam, second, first)

    diff = np.abs(greeks(vec.pv) - greeks(ref.pv))
    allowed = (tol @ w.T)[:, cols]
    ok = [i for i, e in enumerate(ref.errors) if e is None]
    worst = float(np.max(diff[ok] / allowed[ok])) if ok else float("nan")
    return t1 - t0, t2 - t1, worst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--trades", type=int, default=10_000)
    ap.add_argument("--ql-sample", type=int, default=11, help="trades valued by QuantLib")
    ap.add_argument("--no-buckets", action="store_true", help="parallel Greeks only")
    args = ap.parse_args(argv)

    snap = demo_market()
    t0 = time.perf_counter()
    plan = greek_plan(snap, buckets=not args.no_buckets)
    t1 = time.perf_counter()
    print(
        f"plan: {plan.n_scenarios} scenarios, {len(plan.rows)} rows "
        f"(measures per factor and bucket), built in {t1 - t0:.2f} s; roll date {plan.roll_date}"
    )

    default = demo_portfolio()
    _book("default demo portfolio", default.trades, snap, plan)
    big = demo_portfolio(args.trades, seed=1).trades
    whole = _book(f"{args.trades:,} demo trades", big, snap, plan)

    sample = _sample(big, args.ql_sample)
    ql_s, vec_s, worst = _worst_disagreement(sample, snap, plan)
    n = len(sample) * plan.n_scenarios
    ids = {t.trade_id for t in sample}
    again = compute_greeks(sample, snap, plan=plan)
    same = _entries(again) == _entries(whole, ids)
    products = len({t.product for t in sample})
    print(
        f"\nQuantLib engine, {len(sample)} trades ({products} products) x "
        f"{plan.n_scenarios} scenarios"
    )
    print(f"  QuantLib            {ql_s:7.2f} s   ({n / ql_s:,.0f} revaluations/s)")
    print(f"  vectorised          {vec_s:7.2f} s   ({n / vec_s:,.0f} revaluations/s, same trades)")
    whole_rate = whole.revaluations / whole.seconds
    print(
        f"  rate ratio          {whole_rate / (n / ql_s):,.0f}x  (vectorised, whole book warm: "
        f"{whole_rate:,.0f}/s; QuantLib, sample: {n / ql_s:,.0f}/s -- QuantLib rebuilds the "
        f"market of every scenario, so its rate grows with the sample; indicative only)"
    )
    print(f"  worst Greek disagreement: {worst:.2e} of its tolerance (<= 1 passes)")
    print(f"  sample's Greeks identical to the whole-book call's: {same}")
    return 0 if worst <= 1 and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
