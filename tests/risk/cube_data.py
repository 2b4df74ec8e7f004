"""Random risk-cube inputs for the cube tests (no pricing: plain numpy data with a fixed seed).

The raw columns are kept next to the cube so each test computes its expected numbers from the
inputs, never from the cube under test.

PVs are *dyadic*: integers times 2**-10 with magnitude below 2**30. Any sum of up to 2**13 of
them is a multiple of 2**-10 below 2**43, i.e. needs at most 53 significant bits, so float64
addition is exact in every order; "sum of books == desk" can then be asserted with ``==``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from risk.cube import GREEKS, build_cube, example_attrs

#: Book -> desk of the random portfolios (three desks, seven books).
BOOKS: dict[str, str] = {
    "IRS-USD": "RATES",
    "IRS-EUR": "RATES",
    "SWPT": "RATES",
    "FX-FWD": "FX",
    "FX-OPT": "FX",
    "EQ-VOL": "EQUITY",
    "EQ-€XOTIC ✓": "EQUITY",  # non-ASCII label: strings must round-trip exactly
}
PRODUCTS = ("IRS", "OIS", "SWAPTION", "FX_FORWARD", "FX_OPTION", "EQ_OPTION")
CURRENCIES = ("USD", "EUR", "GBP", "JPY")
COUNTERPARTIES = ("ACME", "Bank Ü", "Globex", "Initech")
#: Products that report model Greeks, and which ones.
GREEKS_OF = {
    "SWAPTION": ("vega",),
    "FX_OPTION": ("delta", "gamma", "vega", "theta", "rho", "dividend_rho"),
    "EQ_OPTION": ("delta", "gamma", "vega", "theta", "rho", "dividend_rho"),
}
DYADIC = 2.0**-10


@dataclasses.dataclass
class RawCube:
    """The inputs of one random cube (columns as lists, values as numpy arrays)."""

    attributes: dict[str, list[str]]
    pv: NDArray[np.float64]
    pv_reporting: NDArray[np.float64]
    model_greeks: NDArray[np.float64]
    error: list[str]
    attrs: dict[str, str]

    @property
    def n(self) -> int:
        return len(self.error)

    @property
    def valued(self) -> NDArray[np.bool_]:
        return np.array([e == "" for e in self.error])

    def column(self, name: str) -> NDArray[np.object_]:
        out = np.empty(self.n, dtype=object)
        out[:] = self.attributes[name]
        return out

    def build(self) -> xr.Dataset:
        return build_cube(
            self.attributes,
            self.pv,
            self.pv_reporting,
            self.model_greeks,
            self.error,
            **self.attrs,
        )

    def slice(self, start: int, stop: int) -> RawCube:
        """The inputs of trades ``start:stop`` (what one grid worker would hold)."""
        return RawCube(
            {k: v[start:stop] for k, v in self.attributes.items()},
            self.pv[start:stop],
            self.pv_reporting[start:stop],
            self.model_greeks[start:stop],
            self.error[start:stop],
            dict(self.attrs),
        )


def random_raw(
    seed: int = 20251128,
    n: int = 240,
    failed_fraction: float = 0.1,
    dyadic: bool = True,
    books: Sequence[str] = tuple(BOOKS),
) -> RawCube:
    """Random trades over ``books``; ~``failed_fraction`` of them failed (PVs NaN)."""
    rng = np.random.default_rng(seed)
    book = [str(b) for b in rng.choice(list(books), n)]
    product = [str(p) for p in rng.choice(PRODUCTS, n)]
    attributes = {
        "trade_id": [f"T{i:05d}" for i in rng.permutation(n)],
        "book": book,
        "desk": [BOOKS[b] for b in book],
        "product": product,
        "currency": [str(c) for c in rng.choice(CURRENCIES, n)],
        "counterparty": [str(c) for c in rng.choice(COUNTERPARTIES, n)],
    }
    if dyadic:
        pv = rng.integers(-(2**40), 2**40, n).astype(np.float64) * DYADIC
        pv_rep = rng.integers(-(2**40), 2**40, n).astype(np.float64) * DYADIC
    else:
        pv = rng.normal(0.0, 1e6, n) * rng.lognormal(0.0, 2.0, n)
        pv_rep = pv * rng.uniform(0.005, 1.5, n)
    greeks = np.full((n, len(GREEKS)), np.nan)
    for i, p in enumerate(product):
        for g in GREEKS_OF.get(p, ()):
            greeks[i, GREEKS.index(g)] = rng.normal(0.0, 1e4)
    failed = rng.random(n) < failed_fraction
    error = [
        f"market: no quote IR.{attributes['currency'][i]}.OIS.{i}Y ✗" if f else ""
        for i, f in enumerate(failed)
    ]
    pv[failed] = np.nan
    pv_rep[failed] = np.nan
    greeks[failed] = np.nan
    return RawCube(
        attributes, pv, pv_rep, greeks, error, example_attrs(run_id="run-42", asof="2025-11-28")
    )
