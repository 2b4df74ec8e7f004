"""The vectorised engine end to end: 10,000 mixed demo trades x 500 scenarios.

    python benchmarks/bench_engine.py [--trades 10000] [--scenarios 500]

Reports, in one run on one machine:

* kernels alone (trades lowered, scenario market built once): seconds for the whole book, and
  per product family;
* the scenario market (all curves re-bootstrapped per scenario, vols) on its own;
* in process, first call (lowering + market + kernels) and second call (lowering cached);
* through the grid (embedded cluster already up and warm, cube written to Zarr), first run and
  second run of the same trades, with 1 and 2 workers;
* the QuantLib reference loop on a sample of trades x scenarios, extrapolated to the book, and
  the ratio.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from grid.cluster import connect
from grid.run import run_valuation
from pricing.curves import clear_market_cache
from pricing.demo import demo_market, demo_portfolio
from pricing.kernels import kernel_for
from pricing.kernels.base import LoweringContext
from pricing.kernels.engine import value
from pricing.pricer import price
from pricing.quantlib_ import ql_session
from pricing.scenarios import ScenarioSet
from pricing.vector.market import ScenarioMarket


def scenario_set(n: int, seed: int = 0) -> ScenarioSet:
    """``n`` scenarios moving every rate, FX and equity spot and vol (historical-VaR-like)."""
    rng = np.random.default_rng(seed)

    def z(sd: float) -> list[float]:
        return [0.0, *rng.normal(0.0, sd, n - 1)]

    return ScenarioSet.from_shifts(
        [f"s{i:03d}" for i in range(n)],
        [
            ("IR.USD.*", "ABSOLUTE", z(0.0008)),
            ("IR.EUR.*", "ABSOLUTE", z(0.0008)),
            ("FX.*", "RELATIVE", z(0.006)),
            ("EQ.*.SPOT", "RELATIVE", z(0.012)),
            ("VOL.*", "MULTIPLY", [1.0 + x for x in z(0.04)]),
        ],
    )


def _warm(snap: object, scen: object) -> None:
    import risk  # noqa: F401

    value(demo_portfolio(60).trades, snap, scen)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--trades", type=int, default=10_000)
    ap.add_argument("--scenarios", type=int, default=500)
    ap.add_argument("--ql-sample", type=int, default=300, help="trades in the QuantLib sample")
    args = ap.parse_args(argv)
    snap, scen = demo_market(), scenario_set(args.scenarios)
    trades = demo_portfolio(args.trades).trades
    n_rev = len(trades) * scen.n
    print(f"{len(trades):,} trades x {scen.n} scenarios = {n_rev:,} revaluations")

    # -- kernels alone -------------------------------------------------------------------------
    with ql_session(snap.asof, snap.fixings):
        from pricing.curves import build_market

        ctx = LoweringContext(snap.asof, snap.fixings, build_market(snap))
        groups: dict[object, list[object]] = defaultdict(list)
        t0 = time.perf_counter()
        for t in trades:
            module = kernel_for(t.product)
            groups[module].append(module.lower(t, ctx))  # type: ignore[union-attr]
        lowering = time.perf_counter() - t0
    t0 = time.perf_counter()
    market = ScenarioMarket(snap, scen)
    for ccy in ("USD", "EUR", "GBP", "JPY", "CHF"):
        market.df(ccy, np.array([1.0]))
    for idx in ("EUR-EURIBOR-6M", "EUR-EURIBOR-3M", "USD-TSOFR-3M"):
        market.df(idx, np.array([1.0]))
    market_s = time.perf_counter() - t0
    batches = {m: m.stack(lts) for m, lts in groups.items()}  # type: ignore[attr-defined]
    timings = []
    for _ in range(2):  # first pass cold (first touch of every array), second warm
        per_family = {}
        t0 = time.perf_counter()
        for m, batch in batches.items():
            t1 = time.perf_counter()
            m.pv(batch, market)  # type: ignore[attr-defined]
            name = m.__name__.rsplit(".", 1)[1]  # type: ignore[attr-defined]
            per_family[name] = time.perf_counter() - t1
        timings.append(time.perf_counter() - t0)
    kernels = timings[1]
    print(
        f"\nlowering (QuantLib schedules, once per trade version): {lowering:.2f} s "
        f"({1e6 * lowering / len(trades):.0f} us/trade)"
    )
    print(f"scenario market (curves re-bootstrapped for {scen.n} scenarios): {market_s:.3f} s")
    print(
        f"kernels alone, whole book: {kernels:.3f} s warm, {timings[0]:.3f} s cold "
        f"({n_rev / kernels / 1e6:.1f}M rev/s); with the scenario market "
        f"{kernels + market_s:.3f} s"
    )
    print("  " + ", ".join(f"{k} {v:.3f} s" for k, v in sorted(per_family.items())))

    # -- in process through the engine ----------------------------------------------------------
    clear_market_cache()
    from pricing.kernels import engine

    engine.DEFAULT_CACHE = engine.LoweringCache()
    engine._markets.clear()
    t0 = time.perf_counter()
    value(trades, snap, scen)
    first = time.perf_counter() - t0
    engine._markets.clear()  # a new day's scenario market, the same trades
    t0 = time.perf_counter()
    value(trades, snap, scen)
    second = time.perf_counter() - t0
    print(
        f"\nin process, engine.value: first {first:.2f} s (lowering), second {second:.2f} s "
        "(lowering cached, market rebuilt)"
    )

    # -- QuantLib reference loop on a sample -----------------------------------------------------
    sample = trades[:: max(1, len(trades) // args.ql_sample)]
    n_scen_ql = 3
    t0 = time.perf_counter()
    for i in range(n_scen_ql):
        price(sample, scen.snapshot(i + 1, snap))
    ql_per_rev = (time.perf_counter() - t0) / (len(sample) * n_scen_ql)
    print(
        f"QuantLib loop: {1e6 * ql_per_rev:.0f} us per revaluation ({len(sample)} trades x "
        f"{n_scen_ql} scenarios) -> the book would take {ql_per_rev * n_rev:,.0f} s; "
        f"kernels alone x{ql_per_rev * n_rev / kernels:,.0f}"
    )

    # -- through the grid ------------------------------------------------------------------------
    portfolio = demo_portfolio(args.trades)
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            with connect(n_workers=workers) as client:
                client.run(_warm, snap, scen)
                times = []
                for attempt in ("first", "second"):
                    out = Path(tmp) / f"run-{workers}-{attempt}"
                    shutil.rmtree(out, ignore_errors=True)
                    t0 = time.perf_counter()
                    o = run_valuation(
                        client,
                        portfolio,
                        snap,
                        out,
                        engine="vectorised",
                        scenarios=scen,
                        show_progress=False,
                    )
                    times.append(time.perf_counter() - t0)
                    assert o.exit_code == 0, o.manifest["status"]
                stages = o.manifest["timings"]
                print(
                    f"grid, {workers} worker(s), cube to Zarr: first run {times[0]:.2f} s, "
                    f"second run {times[1]:.2f} s (stages of the second: "
                    + ", ".join(
                        f"{k} {stages[k]:.2f}" for k in ("plan", "scatter", "compute", "assemble")
                    )
                    + ")"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
