"""One conformance battery over every product, through the engine the grid runs.

For each product: 1,000 seeded demo trades valued by ``engine.value`` with the numpy kernels
and with the QuantLib reference, under the base and shocked scenarios (rates up/down and
twisted, FX and equity spots, vols, credit). Tolerances are issue 4's: 1e-8 x notional for
linear products; 1e-8 relative or 1e-10 x notional for closed-form options; American options
by the agreement of the named approximation (the kernel replicates QuantLib's
Barone-Adesi-Whaley iteration, so the closed-form tolerance holds for it too). Failing cases
print the trade. Per-product batteries with more markets and edge cases live beside this file.
"""

from __future__ import annotations

import numpy as np
import pytest

from pricing.demo import demo_market
from pricing.demo.portfolio import demo_trades
from pricing.kernels.engine import value
from pricing.scenarios import ScenarioSet
from pricing.trades import PRODUCTS
from tests.pricing.kernels.conformance import closed_form_tolerance, linear_tolerance

LINEAR = {"IRS", "OIS", "FRA", "BOND", "FX_FORWARD"}
N_TRADES = 1000

SCENARIOS = ScenarioSet.from_shifts(
    [
        "base",
        "rates +50bp",
        "rates -25bp",
        "usd short end +20bp",
        "spots -10% vols x1.3",
        "spots +7% vols x0.8, credit +40bp",
    ],
    [
        ("IR.*", "ABSOLUTE", [0, 0.005, -0.0025, 0, 0, 0]),
        ("IR.USD.*.OIS.1*", "ABSOLUTE", [0, 0, 0, 0.002, 0, 0]),
        ("FX.EURUSD", "RELATIVE", [0, 0, 0, 0, -0.10, 0.07]),
        ("FX.USDJPY", "RELATIVE", [0, 0, 0, 0, 0.05, -0.03]),
        ("EQ.*.SPOT", "RELATIVE", [0, 0, 0, 0, -0.10, 0.07]),
        ("VOL.*", "MULTIPLY", [1, 1, 1, 1, 1.3, 0.8]),
        ("CREDIT.*", "ABSOLUTE", [0, 0, 0, 0, 0, 0.004]),
    ],
)


@pytest.mark.slow
@pytest.mark.parametrize("product", list(PRODUCTS))
def test_engine_kernels_agree_with_quantlib(product: str) -> None:
    base = demo_market()
    trades = demo_trades(product, N_TRADES, seed=2024)
    vec = value(trades, base, SCENARIOS, engine="vectorised")
    ref = value(trades, base, SCENARIOS, engine="quantlib")
    assert [e is None for e in vec.errors] == [e is None for e in ref.errors]
    ok = [i for i, e in enumerate(ref.errors) if e is None]
    assert len(ok) >= 0.95 * N_TRADES, f"only {len(ok)} of {N_TRADES} demo trades valued"
    # every valued demo trade runs on the kernel: a fallback would hide the kernel from the test
    assert not vec.fallbacks, list(vec.fallbacks.items())[:3]
    tolerance = linear_tolerance() if product in LINEAR else closed_form_tolerance()
    worst: list[tuple[float, int, int]] = []
    for i in ok:
        absolute, relative = tolerance(trades[i])
        for s in range(SCENARIOS.n):
            a, b = vec.pv[i, s], ref.pv[i, s]
            allowed = max(absolute, relative * abs(b))
            if not abs(a - b) <= allowed:
                worst.append((abs(a - b) / allowed, i, s))
    worst.sort(reverse=True)
    assert not worst, "\n".join(
        f"{SCENARIOS.names[s]}: kernel {vec.pv[i, s]!r} vs QuantLib {ref.pv[i, s]!r} "
        f"({r:.1f}x tolerance) for {trades[i]!r}"
        for r, i, s in worst[:5]
    )
    # reporting-currency PVs convert at each scenario's spot, as the reference does
    nonzero = (vec.pv[ok] != 0) & (ref.pv[ok] != 0)
    fx_vec = vec.pv_reporting[ok][nonzero] / vec.pv[ok][nonzero]
    fx_ref = ref.pv_reporting[ok][nonzero] / ref.pv[ok][nonzero]
    assert np.allclose(fx_vec, fx_ref, rtol=1e-12, atol=0.0)
