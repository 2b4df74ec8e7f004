"""Rates kernels vs the QuantLib loop, per product family, in one run on one core.

    python benchmarks/bench_kernels_rates.py [--trades 1000] [--scenarios 500]
        [--ql-scenarios 3] [--repeat 3] [--families swaps fra bonds caps swaptions] [--mix 10000]

For each family (IRS+OIS, FRA, bonds, caps/floors, swaptions) the demo portfolio's trades of
that family (``pricing.demo.demo_portfolio``, ``--trades`` of them) are valued under a
historical-style scenario set of ``--scenarios`` scenarios moving every rate quote (a parallel
and a per-pillar random move), every vol (multipliers) and every credit spread:

* kernel: ``stack`` + ``pv`` on a :class:`~pricing.vector.market.ScenarioMarket` whose curves are
  already built (best of ``--repeat``) — the kernel alone; and once more on a fresh market, the
  scenario curves' bootstrap included;
* QuantLib loop: the reference pricer ``pricing.pricer.price(trades, scenarios.snapshot(i))`` on
  ``--ql-scenarios`` non-base scenarios (curves rebuilt per scenario, as a QuantLib engine must),
  extrapolated per trade-scenario;

and reports trade-scenario revaluations per second per core (one process, one thread), the
ratio kernel / QuantLib, the lowering cost per trade (once per trade and as-of, cached) and the
largest disagreement between the two engines on the scenarios QuantLib valued (per unit of
notional).

``--mix N`` then values the rates trades of ``demo_portfolio(N)`` (the rates share of the
mixed book the issue's 10,000 x 500 target is about) with every rates kernel, trades already
lowered: once on a fresh scenario market (curves bootstrapped inside the clock) and warm.
Machines here are shared and noisy: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from pricing.curves import build_market
from pricing.demo import demo_market, demo_portfolio
from pricing.kernels import kernel_for
from pricing.kernels.base import LoweringContext
from pricing.market import MarketSnapshot
from pricing.pricer import price
from pricing.quantlib_ import ql_session
from pricing.scenarios import ScenarioSet
from pricing.trades import Trade
from pricing.vector.market import ScenarioMarket

FAMILIES: dict[str, tuple[str, ...]] = {
    "swaps": ("IRS", "OIS"),
    "fra": ("FRA",),
    "bonds": ("BOND",),
    "caps": ("CAPFLOOR",),
    "swaptions": ("SWAPTION",),
}
#: Share of each product in the demo portfolio (to size the draw).
_SHARE = {"IRS": 0.26, "OIS": 0.18, "FRA": 0.05, "BOND": 0.06, "CAPFLOOR": 0.03, "SWAPTION": 0.04}


def scenario_set(base: MarketSnapshot, n: int, seed: int = 0) -> ScenarioSet:
    """Scenario 0 the base; the others move every rate quote by a common parallel move plus an
    independent per-quote move (bp), every vol by a multiplier and every credit spread."""
    rng = np.random.default_rng(seed)
    names = ["base", *(f"s{i}" for i in range(1, n))]
    parallel = np.r_[0.0, rng.normal(0.0, 0.0010, n - 1)]
    shifts: list[tuple[str, Any, list[float]]] = []
    for qid in sorted(base.quotes):
        if qid.startswith("IR.") and ".DF." not in qid:
            own = np.r_[0.0, rng.normal(0.0, 0.0003, n - 1)]
            shifts.append((qid, "ABSOLUTE", list(parallel + own)))
    shifts.append(("VOL.*", "MULTIPLY", list(np.r_[1.0, np.exp(rng.normal(0, 0.1, n - 1))])))
    shifts.append(("CREDIT.*", "ABSOLUTE", list(np.r_[0.0, rng.normal(0.0, 0.0010, n - 1)])))
    return ScenarioSet.from_shifts(names, shifts)


def family_trades(family: str, n: int) -> list[Trade]:
    """``n`` demo-portfolio trades of ``family``."""
    products = FAMILIES[family]
    share = sum(_SHARE[p] for p in products)
    size = int(n / share * 1.2) + 50
    trades = [t for t in demo_portfolio(size) if t.product in products]
    return trades[:n]


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench(family: str, base: MarketSnapshot, scen: ScenarioSet, args: argparse.Namespace) -> None:
    trades = family_trades(family, args.trades)
    module = kernel_for(trades[0].product)
    assert module is not None
    t0 = time.perf_counter()
    with ql_session(base.asof, base.fixings):
        ctx = LoweringContext(base.asof, base.fixings, build_market(base))
        lowered = [module.lower(t, ctx) for t in trades]
    lowering = (time.perf_counter() - t0) / len(trades)

    t0 = time.perf_counter()
    fresh = ScenarioMarket(base, scen)
    pv = np.asarray(module.pv(module.stack(lowered), fresh))
    with_curves = time.perf_counter() - t0
    kernel, pv = _best(lambda: np.asarray(module.pv(module.stack(lowered), fresh)), args.repeat)
    stack_s, batch = _best(lambda: module.stack(lowered), args.repeat)
    pv_s, _ = _best(lambda: module.pv(batch, fresh), args.repeat)

    k, n = len(trades), scen.n
    sample = list(range(1, min(n, args.ql_scenarios + 1)))
    t0 = time.perf_counter()
    ref = np.array([[r.pv for r in price(trades, scen.snapshot(i, base)).results] for i in sample])
    ql_per = (time.perf_counter() - t0) / (len(sample) * k)
    notional = np.array([abs(getattr(t, "notional", 1.0)) for t in trades])
    err = float(np.max(np.abs(pv[sample] - ref) / notional))

    rate = k * n / kernel
    print(
        f"{family:10s} {k:6d} x {n:4d}  kernel {kernel * 1e3:8.1f} ms "
        f"(stack {stack_s * 1e3:6.1f} + pv {pv_s * 1e3:7.1f}; with curves {with_curves:6.2f} s)"
        f"  {rate:12,.0f} rev/s   QuantLib {1 / ql_per:9,.0f} rev/s   x{rate * ql_per:7.0f}"
        f"   lowering {lowering * 1e6:6.0f} us/trade   max err {err:.1e} x notional"
    )


def bench_mix(n: int, base: MarketSnapshot, scen: ScenarioSet, repeat: int) -> None:
    products = {p for ps in FAMILIES.values() for p in ps}
    trades = [t for t in demo_portfolio(n) if t.product in products]
    groups: dict[Any, list[Any]] = {}
    with ql_session(base.asof, base.fixings):
        ctx = LoweringContext(base.asof, base.fixings, build_market(base))
        for t in trades:
            module = kernel_for(t.product)
            assert module is not None
            groups.setdefault(module, []).append(module.lower(t, ctx))

    def run(market: ScenarioMarket) -> None:
        for module, lowered in groups.items():
            module.pv(module.stack(lowered), market)

    t0 = time.perf_counter()
    market = ScenarioMarket(base, scen)
    run(market)
    cold = time.perf_counter() - t0
    warm, _ = _best(lambda: run(market), repeat)
    print(
        f"mix: the {len(trades)} rates trades of a {n}-trade demo book x {scen.n} scenarios: "
        f"{cold:.2f} s with the scenario market built inside the clock, {warm:.2f} s warm "
        f"({len(trades) * scen.n / warm:,.0f} rev/s)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trades", type=int, default=1000)
    p.add_argument("--scenarios", type=int, default=500)
    p.add_argument("--ql-scenarios", type=int, default=3)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    p.add_argument("--mix", type=int, default=10_000, help="demo book size for the mix (0: skip)")
    args = p.parse_args()
    base = demo_market()
    scen = scenario_set(base, args.scenarios)
    print(
        f"rates kernels vs QuantLib loop: pid {os.getpid()}, numpy {np.__version__}; "
        f"{args.scenarios} scenarios moving every rate, vol and credit quote; "
        f"QuantLib on {args.ql_scenarios} of them"
    )
    for family in args.families:
        bench(family, base, scen, args)
    if args.mix:
        bench_mix(args.mix, base, scen, args.repeat)


if __name__ == "__main__":
    main()
