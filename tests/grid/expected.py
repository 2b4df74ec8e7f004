"""What a grid run must produce, derived from in-process ``pricing.pricer.price()``, and exact
comparisons of cubes.

"Exact" means bitwise: floats are compared by their 64-bit patterns (so ``-0.0 != 0.0`` and a NaN
must be a NaN), strings by equality. The grid runs the same deterministic code on the same
inputs, so nothing looser is justified.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from pricing.market import MarketSnapshot
from pricing.pricer import PricingResults
from pricing.trades import Portfolio
from risk.cube import GREEKS, TRADE_COORDS


def bits(x: ArrayLike) -> np.ndarray:
    """The 64-bit patterns of a float array."""
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64)).view(np.uint64)


def assert_same_bits(actual: ArrayLike, expected: ArrayLike, what: str) -> None:
    """Bitwise equality of two float arrays, naming the first differing element."""
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    differ = np.flatnonzero(bits(a) != bits(e))
    assert differ.size == 0, (
        f"{what}: {differ.size} element(s) differ, first at flat index {differ[0]}: "
        f"{a.ravel()[differ[0]]!r} != {e.ravel()[differ[0]]!r}"
    )


def plan_order(portfolio: Portfolio) -> list[str]:
    """Trade ids in the cube's order: by product, then trade id (grid/plan.py's contract)."""
    return [t.trade_id for t in sorted(portfolio, key=lambda t: (t.product, t.trade_id))]


def expected_arrays(results: PricingResults, trade_ids: Sequence[str]) -> dict[str, Any]:
    """The cube's data variables for ``trade_ids`` as ``price()`` gives them.

    ``error`` is ``"field: reason"`` of the trade's error, ``""`` when valued (risk/cube.py
    schema); ``model_greeks`` is NaN where the product has no such Greek.
    """
    by_id = results.by_id()
    rows = [by_id[t] for t in trade_ids]
    return {
        "pv": np.array([r.pv for r in rows]),
        "pv_reporting": np.array([r.pv_reporting for r in rows]),
        "model_greeks": np.array([[r.greeks.get(g, math.nan) for g in GREEKS] for r in rows]),
        "error": ["" if r.error is None else f"{r.error.field}: {r.error.reason}" for r in rows],
    }


def assert_cube_equals_price(
    cube: xr.Dataset,
    results: PricingResults,
    portfolio: Portfolio,
    snapshot: MarketSnapshot,
) -> None:
    """The grid's cube holds exactly what in-process ``price()`` gives, in plan order, with the
    portfolio's labels and the inputs' hashes."""
    ids = [str(t) for t in cube["trade"].values]
    assert ids == plan_order(portfolio)
    expected = expected_arrays(results, ids)
    for name in ("pv", "pv_reporting", "model_greeks"):
        assert_same_bits(cube[name].values, expected[name], name)
    assert [str(e) for e in cube["error"].values] == expected["error"]
    labels = portfolio.trade_attributes()
    row = {t: i for i, t in enumerate(labels["trade_id"])}
    for name in TRADE_COORDS:
        assert [str(v) for v in cube[name].values] == [labels[name][row[t]] for t in ids], name
    assert cube.attrs["asof"] == snapshot.asof.isoformat()
    assert cube.attrs["snapshot_hash"] == snapshot.content_hash
    assert cube.attrs["portfolio_hash"] == portfolio.content_hash()
    assert cube.attrs["reporting_currency"] == results.reporting_currency


def assert_same_cube(actual: xr.Dataset, expected: xr.Dataset, same_run: bool = False) -> None:
    """Two cubes are identical: coords, labels, dtypes, attrs (but ``run_id`` unless
    ``same_run``), and data bitwise."""
    ignore = set() if same_run else {"run_id"}
    a = actual.copy()
    e = expected.copy()
    a.attrs = {k: v for k, v in a.attrs.items() if k not in ignore}
    e.attrs = {k: v for k, v in e.attrs.items() if k not in ignore}
    xr.testing.assert_identical(a, e)
    for name in ("pv", "pv_reporting", "model_greeks"):
        assert_same_bits(actual[name].values, expected[name].values, name)
    assert list(actual["error"].values) == list(expected["error"].values)


#: The manifest counts of every grid run (later features may add more; these must stay).
RUN_COUNTS = (
    "records",
    "trades",
    "load_failed",
    "valued",
    "pricing_failed",
    "not_run",
    "chunks_done",
    "chunks_reused",
    "chunks_computed",
    "chunks_failed",
    "chunks_resubmitted",
)


def counts_of(manifest: dict[str, Any]) -> dict[str, int]:
    """The :data:`RUN_COUNTS` of a manifest (KeyError if one is missing)."""
    return {k: manifest["counts"][k] for k in RUN_COUNTS}
