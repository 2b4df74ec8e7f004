"""QuantLib references for the scenario-market tests: one ``QlMarket`` per scenario snapshot.

Scenario ``i``'s reference is exactly what the pricer would use: ``QlMarket`` of
``scenarios.snapshot(i, base)`` inside that snapshot's ``ql_session`` (a fresh market, not the
cache, so that nothing built for one scenario leaks into another).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import numpy as np
import QuantLib as ql
from numpy.typing import NDArray

from pricing.curves import QlMarket
from pricing.market import MarketSnapshot
from pricing.quantlib_ import ql_session
from pricing.scenarios import ScenarioSet

T = TypeVar("T")

#: QuantLib's bootstrap solves each pillar's discount factor with Brent to an absolute
#: accuracy of 1e-12 (IterativeBootstrap's default, ``PiecewiseYieldCurve`` accuracy), so
#: QuantLib's own curve differs from the exact root by up to that much.
QL_BOOTSTRAP_ACCURACY = 1e-12


def ql_markets(scenarios: ScenarioSet, base: MarketSnapshot) -> Iterator[tuple[int, QlMarket]]:
    """``(i, QlMarket of scenario i)``, each used inside its own ``ql_session``."""
    for i in range(scenarios.n):
        snap = scenarios.snapshot(i, base)
        with ql_session(snap.asof, snap.fixings):
            yield i, QlMarket(snap)


def per_scenario(
    scenarios: ScenarioSet, base: MarketSnapshot, f: Callable[[QlMarket], NDArray[np.float64]]
) -> NDArray[np.float64]:
    """``f(QlMarket of scenario i)`` stacked over the scenarios -> ``(n, ...)``."""
    return np.stack([np.asarray(f(m), dtype=np.float64) for _, m in ql_markets(scenarios, base)])


def discounts(handle: ql.YieldTermStructureHandle, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """QuantLib discount factors at ACT/365F times."""
    return np.array([handle.discount(float(x)) for x in t])


def row(values: NDArray[np.float64], i: int) -> NDArray[np.float64]:
    """Scenario ``i`` of a ``(S, ...)`` array that may have ``S == 1`` (broadcast)."""
    return values[i if values.shape[0] > 1 else 0]


def _values(rng: np.random.Generator, n: int, scale: float) -> list[float]:
    return [0.0, *rng.normal(0.0, scale, n - 1)]


def demo_scenario_sets(base: MarketSnapshot) -> dict[str, ScenarioSet]:
    """The scenario sets of the agreement battery on the demo market (seeded)."""
    rng = np.random.default_rng(20251128)
    n = 6
    names = [f"s{i}" for i in range(n)]
    par = [q for q in base.quotes if q.split(".")[3:4] in (["OIS"], ["SWAP"], ["DEP"], ["FRA"])]
    eur = [q for q in par if q.startswith(("IR.EUR.ESTR.", "IR.EUR.EURIBOR6M."))]
    return {
        # every quote moves: rates (all curve types), FX spots and points, equities, vols
        "all quotes": ScenarioSet.from_shifts(
            names,
            [
                ("IR.*", "ABSOLUTE", _values(rng, n, 0.004)),
                ("IR.*.OIS.10Y", "ABSOLUTE", _values(rng, n, 0.001)),
                ("FX.*", "RELATIVE", _values(rng, n, 0.05)),
                ("EQ.*", "RELATIVE", _values(rng, n, 0.1)),
                ("VOL.*", "MULTIPLY", [1.0, *rng.uniform(0.6, 1.5, n - 1)]),
                ("CREDIT.*", "ABSOLUTE", _values(rng, n, 0.002)),
            ],
        ),
        # bucketed deltas: one +1bp scenario per EUR par quote (ESTR and EURIBOR 6M)
        "bucket bumps": ScenarioSet.from_shifts(
            ["base", *(f"bump {q}" for q in eur)],
            [(q, "ABSOLUTE", [0.0] + [1e-4 if p == q else 0.0 for p in eur]) for q in eur],
        ),
        # only the EUR OIS curve moves: the EURIBOR curves discount on it and must rebuild
        "ESTR only": ScenarioSet.from_shifts(
            names,
            [
                ("IR.EUR.ESTR.*", "ABSOLUTE", _values(rng, n, 0.005)),
                ("IR.EUR.ESTR.OIS.2Y", "ABSOLUTE", _values(rng, n, 0.002)),
            ],
        ),
        "FX spots": ScenarioSet.from_shifts(
            names,
            [
                ("FX.EURUSD", "RELATIVE", _values(rng, n, 0.05)),
                ("FX.USDJPY", "ABSOLUTE", _values(rng, n, 5.0)),
            ],
        ),
        "forward points": ScenarioSet.from_shifts(
            names,
            [
                ("FX.EURUSD.FWD.*", "ABSOLUTE", _values(rng, n, 0.002)),
                ("FX.EURUSD.FWD.1Y", "ABSOLUTE", _values(rng, n, 0.002)),
            ],
        ),
        "direct curves": ScenarioSet.from_shifts(
            names,
            [
                ("IR.GBP.SONIA.ZERO.*", "ABSOLUTE", _values(rng, n, 0.004)),
                ("IR.GBP.SONIA.ZERO.5Y", "ABSOLUTE", _values(rng, n, 0.002)),
                ("IR.CHF.SARON.DF.*", "ABSOLUTE", _values(rng, n, 0.004)),
                ("IR.CHF.SARON.DF.10Y", "RELATIVE", _values(rng, n, 0.002)),
                ("IR.JPY.TONA.FLAT", "ABSOLUTE", _values(rng, n, 0.004)),
            ],
        ),
    }
