"""Scenario curves: the vectorised bootstrap vs QuantLib re-bootstrapping every scenario.

    python benchmarks/bench_scenario_market.py [--scenarios 671] [--all-scenarios 500]
                                               [--ql-sample 100] [--repeat 7]

Two cases, each timed for both engines in the same run:

1. A 22-quote USD SOFR OIS curve (the demo's 18 tenors plus 2W, 2M, 8Y, 9Y) under
   ``--scenarios`` historical-style scenarios (parallel, slope and per-pillar moves):
   ``ScenarioMarket(...).curve("USD-SOFR")`` for all scenarios at once, against
   ``QlMarket(scenario_snapshot_i).discount("USD")`` re-bootstrapped scenario by scenario.
2. The whole demo market (5 bootstrapped curves, the GBP/CHF/JPY direct curves and the EURUSD
   curve implied from forward points) under ``--all-scenarios`` scenarios moving every rate,
   FX spots and points; QuantLib on a sample of ``--ql-sample`` scenarios (per-scenario cost).

Vectorised times are the best of ``--repeat`` runs, with the lowering (QuantLib helpers of the
base snapshot, built once per as-of date and cached) already done; the one-off lowering cost and
the scenario set's own expansion (``ScenarioSet.quote_values``) are reported separately. The
agreement of the two engines (max |DF difference| over all curves, scenarios and 200 dates to
40Y) is printed too. Machines here are shared and noisy: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import QuantLib as ql

from pricing import conventions
from pricing import quantlib_ as qa
from pricing.curves import QlMarket, clear_market_cache
from pricing.demo import demo_market
from pricing.market import MarketSnapshot
from pricing.quantlib_ import ql_session
from pricing.scenarios import ScenarioSet
from pricing.vector import ScenarioMarket, clear_lowering_cache

CURVES = ("USD-SOFR", "EUR-ESTR", "EUR-EURIBOR-6M", "EUR-EURIBOR-3M", "USD-TSOFR-3M")
DIRECT = ("GBP-SONIA", "CHF-SARON", "JPY-TONA")
EXTRA_SOFR = {"2W": 0.0390, "2M": 0.0384, "8Y": 0.0358, "9Y": 0.0364}


def sofr22() -> MarketSnapshot:
    """The demo market with a 22-quote SOFR curve."""
    base = demo_market()
    extra = {f"IR.USD.SOFR.OIS.{t}": r for t, r in EXTRA_SOFR.items()}
    return base.with_quotes(extra, name="demo-sofr22")


def historical(base: MarketSnapshot, n: int, pattern: str, seed: int) -> ScenarioSet:
    """``n`` scenarios (the first is the base): parallel ~25bp, a slope ~10bp per 10Y and
    per-pillar noise ~2bp on every par quote matching ``pattern``; FX spots ~3%, points ~5%."""
    rng = np.random.default_rng(seed)

    def vals(scale: float) -> list[float]:
        return [0.0, *rng.normal(0.0, scale, n - 1)]

    shifts: list[tuple[str, str, list[float]]] = [(pattern, "ABSOLUTE", vals(0.0025))]
    slope = rng.normal(0.0, 0.001, n - 1)
    for qid in base.select(pattern):
        tenor = qid.rsplit(".", 1)[1]
        years = {"W": 1 / 52, "M": 1 / 12, "Y": 1.0}.get(tenor[-1], 0.5)
        x = float(tenor[:-1]) * years if tenor[:-1].isdigit() else 0.5
        noise = rng.normal(0.0, 0.0002, n - 1)
        shifts.append((qid, "ABSOLUTE", [0.0, *(slope * x / 10.0 + noise)]))
    shifts.append(("FX.??????", "RELATIVE", vals(0.03)))
    shifts.append(("FX.*.FWD.*", "RELATIVE", vals(0.05)))
    return ScenarioSet.from_shifts([f"s{i}" for i in range(n)], shifts)  # type: ignore[arg-type]


def best(f: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def ql_loop(
    base: MarketSnapshot, scen: ScenarioSet, idx: list[int], build: Callable[[QlMarket], None]
) -> float:
    """Seconds per scenario to build QuantLib's market of scenario ``i`` and use it."""
    snaps = [scen.snapshot(i, base) for i in idx]  # snapshot building is not QuantLib's cost
    t0 = time.perf_counter()
    for snap in snaps:
        with ql_session(snap.asof, snap.fixings):
            build(QlMarket(snap))
    return (time.perf_counter() - t0) / len(idx)


def ql_requote_loop(base: MarketSnapshot, scen: ScenarioSet, index: str) -> float:
    """Seconds per scenario for QuantLib's fastest loop: one curve whose helpers' SimpleQuotes
    are set to each scenario's values, then re-bootstrapped (no snapshot, no QlMarket)."""
    values = scen.quote_values(base)
    with ql_session(base.asof, base.fixings):
        qm = QlMarket(base)
        ids = [qid for qid, _ in qm.helpers(index)]
        quotes = {qid: ql.SimpleQuote(base[qid]) for qid in ids}
        conv = conventions.index_convention(index)
        sw = conv.swap
        on = qa.overnight_index(conv)
        helpers = [
            ql.OISRateHelper(
                sw.settlement_days,
                qa.period(qid.rsplit(".", 1)[1]),
                ql.QuoteHandle(quotes[qid]),
                on,
                paymentLag=sw.payment_lag,
                paymentConvention=qa.bdc(sw.convention),
                paymentFrequency=qa.frequency(sw.float_frequency),
                paymentCalendar=qa.calendar(conv.calendar),
                fixedPaymentFrequency=qa.frequency(sw.fixed_frequency),
                convention=qa.bdc(sw.convention),
                fixedDayCount=qa.day_counter(sw.fixed_day_count),
            )
            for qid in ids
        ]
        curve = ql.PiecewiseLogLinearDiscount(qm.ql_asof, helpers, ql.Actual365Fixed())
        curve.enableExtrapolation()
        curve.discount(1.0)
        moving = [(quotes[q], values[q]) for q in ids if q in values]
        t0 = time.perf_counter()
        for i in range(scen.n):
            for sq, v in moving:
                sq.setValue(float(v[i]))
            curve.discount(1.0)
        return (time.perf_counter() - t0) / scen.n


def agreement(
    base: MarketSnapshot, scen: ScenarioSet, names: tuple[str, ...], idx: list[int]
) -> float:
    m = ScenarioMarket(base, scen)
    t = np.linspace(0.0, 40.0, 200)
    worst = 0.0
    for i in idx:
        snap = scen.snapshot(i, base)
        with ql_session(snap.asof, snap.fixings):
            qm = QlMarket(snap)
            for name in names:
                ours = m.df(name, t)
                ours_i = ours[i if len(ours) > 1 else 0]
                h = qm.curve(name)
                ref = np.array([h.discount(float(x)) for x in t])
                worst = max(worst, float(np.max(np.abs(ours_i - ref))))
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", type=int, default=671)
    ap.add_argument("--all-scenarios", type=int, default=500)
    ap.add_argument("--ql-sample", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    # 1. one 22-quote OIS curve
    base = sofr22()
    n = args.scenarios
    scen = historical(base, n, "IR.USD.SOFR.OIS.*", seed=1)
    clear_lowering_cache()
    t0 = time.perf_counter()
    ScenarioMarket(base).curve("USD-SOFR")
    lowering = time.perf_counter() - t0
    expand = best(lambda: scen.quote_values(base), args.repeat)
    vec = best(lambda: ScenarioMarket(base, scen).curve("USD-SOFR"), args.repeat)
    m = ScenarioMarket(base, scen)
    lowered = m._lowered(conventions.index_convention("USD-SOFR"))
    quotes = [m.quote(q) for q in lowered.quote_ids]
    from pricing.vector.curves import bootstrap

    boot = best(lambda: bootstrap(lowered, quotes), args.repeat)
    clear_market_cache()
    ql = ql_loop(base, scen, list(range(n)), lambda qm: qm.discount("USD").discount(1.0))
    requote = ql_requote_loop(base, scen, "USD-SOFR")
    print(f"1. USD SOFR, {len(lowered.helpers)} OIS quotes x {n} scenarios")
    print(f"   lowering (once per as-of, QuantLib base bootstrap) {lowering * 1e3:8.2f} ms")
    print(f"   ScenarioSet.quote_values                           {expand * 1e3:8.2f} ms")
    print(f"   vectorised bootstrap alone                         {boot * 1e3:8.2f} ms")
    print(f"   ScenarioMarket(...).curve (incl. quote_values)     {vec * 1e3:8.2f} ms")
    print(f"   QuantLib: QlMarket + bootstrap, per scenario       {ql * 1e3:8.3f} ms")
    print(f"   QuantLib, all {n} scenarios                        {ql * n * 1e3:8.1f} ms")
    print(f"   ratio QuantLib / vectorised bootstrap              {ql * n / boot:8.0f} x")
    print(f"   ratio QuantLib / ScenarioMarket                    {ql * n / vec:8.0f} x")
    print(f"   QuantLib re-quote + re-bootstrap, per scenario     {requote * 1e3:8.3f} ms")
    print(f"   ratio QuantLib re-quote loop / vectorised bootstrap{requote * n / boot:8.0f} x")
    sample = list(range(0, n, max(1, n // 20)))
    worst = agreement(base, scen, ("USD-SOFR",), sample)
    print(f"   max |DF diff| (20 scenarios, 200 dates to 40Y)     {worst:8.1e}")

    # 2. the whole demo market
    base = demo_market()
    n = args.all_scenarios
    scen = historical(base, n, "IR.*", seed=2)
    names = CURVES + DIRECT

    def build_all() -> None:
        mk = ScenarioMarket(base, scen)
        for c in names:
            mk.curve(c)
        mk.fx_base_curve("EURUSD")

    clear_lowering_cache()
    t0 = time.perf_counter()
    m0 = ScenarioMarket(base)
    for c in names:
        m0.curve(c)
    lowering = time.perf_counter() - t0
    expand = best(lambda: scen.quote_values(base), args.repeat)
    vec = best(build_all, args.repeat)

    def ql_all(qm: QlMarket) -> None:
        for c in names:
            qm.curve(c).discount(1.0)
        qm.fx_curves("EURUSD")[0].discount(1.0)

    k = min(args.ql_sample, n)
    clear_market_cache()
    ql = ql_loop(base, scen, list(np.linspace(0, n - 1, k).astype(int)), ql_all)
    print(f"2. demo market: 5 bootstrapped + 3 direct curves + EURUSD implied, {n} scenarios")
    print(f"   lowering (once per as-of)                          {lowering * 1e3:8.2f} ms")
    print(f"   ScenarioSet.quote_values                           {expand * 1e3:8.2f} ms")
    print(f"   ScenarioMarket, all curves (incl. quote_values)    {vec * 1e3:8.2f} ms")
    print(f"   QuantLib per scenario (sample of {k})               {ql * 1e3:8.3f} ms")
    print(f"   QuantLib, {n} scenarios (per-scenario x n)         {ql * n * 1e3:8.1f} ms")
    print(f"   ratio QuantLib / ScenarioMarket                    {ql * n / vec:8.0f} x")
    sample = list(range(0, n, max(1, n // 10)))
    worst = agreement(base, scen, names, sample)
    print(f"   max |DF diff| (10 scenarios, all curves, 40Y)      {worst:8.1e}")


if __name__ == "__main__":
    main()
