"""One module per product family: QuantLib reference pricers (and, later, numpy kernels).

``pricer_for(product)`` returns the module that values a product code.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["PRICER_MODULES", "pricer_for"]

#: Product code -> module holding ``requirements`` and ``reference_pv`` for it.
PRICER_MODULES: dict[str, str] = {
    "IRS": "pricing.products.swaps",
    "OIS": "pricing.products.swaps",
    "FRA": "pricing.products.fra",
    "BOND": "pricing.products.bonds",
    "CAPFLOOR": "pricing.products.capfloor",
    "SWAPTION": "pricing.products.swaption",
    "FX_FORWARD": "pricing.products.fx",
    "FX_OPTION": "pricing.products.fx",
    "EQ_OPTION": "pricing.products.equity",
    "EQ_AMERICAN": "pricing.products.equity",
    "EQ_BARRIER": "pricing.products.equity",
}


def pricer_for(product: str) -> ModuleType:
    """The pricer module for a product code (``KeyError`` if none)."""
    return importlib.import_module(PRICER_MODULES[product])
