"""A hand-made scenario market of flat continuously compounded curves, for kernel unit tests.

Every number a kernel reads from it has a closed form (``exp(-r t)``), so tests can write the
expected PV independently of both QuantLib and the vectorised curves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pricing.conventions import currency_convention


class FlatMarket:
    """Flat curves ``exp(-r t)`` by curve name (index, or currency -> its OIS index), per
    scenario when ``r`` is an array; constant rate vols; z-spreads by issuer."""

    def __init__(
        self,
        rates: Mapping[str, ArrayLike],
        n: int = 1,
        cap_vol: float = 0.01,
        swaption_vol: float = 0.01,
        kind: str = "NORMAL",
        shift: float = 0.0,
        zspreads: Mapping[str, ArrayLike] | None = None,
    ) -> None:
        self.rates = {k: np.asarray(v, dtype=np.float64).reshape(-1, 1) for k, v in rates.items()}
        self.n = n
        self.vols = {"cap": cap_vol, "swpt": swaption_vol}
        self.kind, self.shift = kind, shift
        self.zspreads = {
            k: np.asarray(v, dtype=np.float64).reshape(-1) for k, v in (zspreads or {}).items()
        }
        self.calls: list[tuple[str, int]] = []

    def rate(self, name: str) -> NDArray[np.float64]:
        """The flat rate(s) of a curve, ``(S, 1)``."""
        if name in self.rates:
            return self.rates[name]
        return self.rates[currency_convention(name).discount_index]

    @staticmethod
    def times(days: Any) -> NDArray[np.float64]:
        """``days / 365``."""
        return np.asarray(days, dtype=np.float64) / 365.0

    def df(self, name: str, t: Any) -> NDArray[np.float64]:
        """``exp(-r t)``, ``(S, k)``."""
        t = np.asarray(t, dtype=np.float64)
        self.calls.append((name, len(t)))
        return np.exp(-self.rate(name) * t[None, :])

    def zspread(self, issuer: str) -> NDArray[np.float64]:
        """The issuer's spread (0 when none)."""
        return self.zspreads.get(issuer, np.zeros(1)) if issuer else np.zeros(1)

    def cap_vol(self, ccy: str, t: Any) -> tuple[NDArray[np.float64], str, float]:
        """Constant cap vol."""
        return np.full((1, len(np.atleast_1d(t))), self.vols["cap"]), self.kind, self.shift

    def swaption_vol(self, ccy: str, t: Any, length: Any) -> tuple[NDArray[np.float64], str, float]:
        """Constant swaption vol."""
        return np.full((1, len(np.atleast_1d(t))), self.vols["swpt"]), self.kind, self.shift
