"""The scenario market: curves, FX, equity and vols over a scenario axis, for the numpy kernels.

:class:`ScenarioMarket` is the vectorised counterpart of :class:`pricing.curves.QlMarket`:
scenario ``i`` of a :class:`~pricing.scenarios.ScenarioSet` reproduces the QuantLib market of
``scenarios.snapshot(i, base)``, with everything computed for all scenarios at once.
"""

from __future__ import annotations

from pricing.vector.curves import FlatCurve, LogLinearCurve, VecCurve, ZeroLinearCurve
from pricing.vector.market import ScenarioMarket, clear_lowering_cache

__all__ = [
    "FlatCurve",
    "LogLinearCurve",
    "ScenarioMarket",
    "VecCurve",
    "ZeroLinearCurve",
    "clear_lowering_cache",
]
