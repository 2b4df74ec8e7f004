"""Vectorised numpy kernels: one module per product family, the fast path of the grid.

Each module mirrors its reference pricer in :mod:`pricing.products` and exposes ``TRADE_TYPES``,
``lower(trade, ctx)``, ``stack(lowered)`` and ``pv(batch, market)``; see
:mod:`pricing.kernels.base` and :mod:`pricing.kernels.engine`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["KERNEL_MODULES", "kernel_for"]

#: Product code -> kernel module.
KERNEL_MODULES: dict[str, str] = {
    "IRS": "pricing.kernels.swaps",
    "OIS": "pricing.kernels.swaps",
    "FRA": "pricing.kernels.fra",
    "BOND": "pricing.kernels.bonds",
    "CAPFLOOR": "pricing.kernels.capfloor",
    "SWAPTION": "pricing.kernels.swaption",
    "FX_FORWARD": "pricing.kernels.fx",
    "FX_OPTION": "pricing.kernels.fx",
    "EQ_OPTION": "pricing.kernels.equity",
    "EQ_AMERICAN": "pricing.kernels.equity",
    "EQ_BARRIER": "pricing.kernels.equity",
}


def kernel_for(product: str) -> ModuleType | None:
    """The kernel module of a product code, or None when it has none (QuantLib fallback)."""
    name = KERNEL_MODULES.get(product)
    if name is None:
        return None
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise
