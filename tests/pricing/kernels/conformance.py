"""The conformance battery: numpy kernels against the QuantLib reference, scenario by scenario.

Generic over products. :func:`run_conformance` lowers trades with their kernel modules
(:func:`pricing.kernels.kernel_for`, inside a ``ql_session`` of the base snapshot), values them
once over every scenario with the kernel, and values every scenario ``i`` with the reference
``pricing.pricer.price(trades, scenarios.snapshot(i, base))``. The returned
:class:`Conformance` holds both ``(n_scenarios, n_trades)`` arrays; :meth:`Conformance.check`
compares them under a tolerance (:func:`linear_tolerance`, :func:`closed_form_tolerance`) and
raises with the worst disagreements and the offending trades printed in full.

``market_factory`` chooses the kernel's market: by default the scenario market
``pricing.vector.market.ScenarioMarket(base, scenarios)``; :class:`QlCurveMarket` is a
base-only market that reads QuantLib's own curves and vols, to test a kernel alone (any
difference is then the kernel's, not the vectorised curves').

>>> linear_tolerance()(dataclasses.make_dataclass("T", ["notional"])(1e7))
(0.1, 0.0)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pricing.curves import QlMarket, build_market
from pricing.kernels import kernel_for
from pricing.kernels.base import KernelUnsupported, LoweringContext
from pricing.market import MarketSnapshot
from pricing.pricer import price
from pricing.quantlib_ import ql_session
from pricing.scenarios import ScenarioSet
from pricing.trades import Trade

__all__ = [
    "Conformance",
    "QlCurveMarket",
    "closed_form_tolerance",
    "linear_tolerance",
    "run_conformance",
    "scale_of",
]

#: ``tolerance(trade) -> (absolute, relative)``: pass when
#: ``|kernel - reference| <= max(absolute, relative * |reference|)``.
Tolerance = Callable[[Trade], tuple[float, float]]
MarketFactory = Callable[[MarketSnapshot, ScenarioSet], Any]
#: What :func:`lower_all` returns: module name -> (module, trade positions, lowered), fallbacks.
Lowered = tuple[dict[str, tuple[Any, list[int], list[Any]]], dict[str, str]]


def scale_of(trade: Trade) -> float:
    """The trade's size: ``notional`` or ``quantity`` (1 when it has neither)."""
    for name in ("notional", "quantity"):
        v = getattr(trade, name, None)
        if v is not None:
            return abs(float(v))
    return 1.0


def linear_tolerance(per_notional: float = 1e-8) -> Tolerance:
    """``per_notional`` x notional, absolute (linear products: issue 4's 1e-8 x notional)."""
    return lambda trade: (per_notional * scale_of(trade), 0.0)


def closed_form_tolerance(relative: float = 1e-8, per_notional: float = 1e-10) -> Tolerance:
    """``relative`` to the reference value, or ``per_notional`` x notional absolute, whichever
    is larger (closed-form options: issue 4's 1e-8 relative or 1e-10 absolute per unit)."""
    return lambda trade: (per_notional * scale_of(trade), relative)


@dataclasses.dataclass
class Conformance:
    """Kernel and reference PVs, ``(n_scenarios, n_trades)`` each, for the same trades.

    ``fallbacks`` maps trade ids the kernel declined (``KernelUnsupported``) to the reason;
    their kernel PVs are NaN. ``errors`` maps trade ids the reference could not value
    (scenario, message); their reference PVs are NaN.
    """

    trades: tuple[Trade, ...]
    scenarios: ScenarioSet
    kernel: NDArray[np.float64]
    reference: NDArray[np.float64]
    fallbacks: dict[str, str]
    errors: dict[str, str]
    kernel_seconds: float
    reference_seconds: float
    lowered: Lowered | None = dataclasses.field(default=None, repr=False)

    def differences(self, tolerance: Tolerance) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(|kernel - reference|, allowed)``; NaN on one side only counts as infinite."""
        tol = np.array([tolerance(t) for t in self.trades], dtype=np.float64).reshape(-1, 2)
        diff = np.abs(self.kernel - self.reference)
        both_nan = np.isnan(self.kernel) & np.isnan(self.reference)
        diff = np.where(both_nan, 0.0, np.where(np.isnan(diff), np.inf, diff))
        allowed = np.maximum(tol[:, 0][None, :], tol[:, 1][None, :] * np.abs(self.reference))
        return diff, np.where(np.isnan(allowed), 0.0, allowed)

    def max_error(self, tolerance: Tolerance | None = None) -> float:
        """Largest absolute difference, or with ``tolerance`` the largest ratio to the allowed."""
        if tolerance is None:
            diff, _ = self.differences(lambda t: (0.0, 0.0))
            return float(diff.max(initial=0.0))
        diff, allowed = self.differences(tolerance)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(diff == 0.0, 0.0, diff / allowed)
        return float(ratio.max(initial=0.0))

    def max_error_per_notional(self) -> float:
        """Largest ``|kernel - reference| / notional`` (both valued)."""
        diff, _ = self.differences(lambda t: (0.0, 0.0))
        scale = np.array([scale_of(t) for t in self.trades])
        return float((diff / scale[None, :]).max(initial=0.0))

    def report(self, tolerance: Tolerance, worst: int = 5) -> str:
        """The ``worst`` disagreements (ratio to the allowed error), each with its trade."""
        diff, allowed = self.differences(tolerance)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(diff == 0.0, 0.0, diff / allowed)
        flat = np.argsort(ratio, axis=None)[::-1][:worst]
        lines = [
            f"{int((ratio > 1).sum())} of {ratio.size} trade-scenarios outside tolerance; "
            f"max |kernel - reference| = {float(diff.max(initial=0.0)):.3e}"
        ]
        for f in flat:
            i, j = np.unravel_index(f, ratio.shape)
            if ratio[i, j] == 0.0:
                break
            t = self.trades[j]
            lines.append(
                f"  scenario {self.scenarios.names[i]!r}: kernel {self.kernel[i, j]!r} "
                f"reference {self.reference[i, j]!r} diff {diff[i, j]:.3e} "
                f"(allowed {allowed[i, j]:.3e})\n    {t!r}"
                + (
                    f"\n    fallback: {self.fallbacks[t.trade_id]}"
                    if t.trade_id in self.fallbacks
                    else ""
                )
                + (
                    f"\n    reference error: {self.errors[t.trade_id]}"
                    if t.trade_id in self.errors
                    else ""
                )
            )
        return "\n".join(lines)

    def check(self, tolerance: Tolerance, allow_fallbacks: bool = False) -> None:
        """Raise ``AssertionError`` (with :meth:`report`) unless every trade-scenario agrees.

        Trades the kernel declined fail the check unless ``allow_fallbacks`` (then they are
        left out: the engine values them with QuantLib).
        """
        if self.fallbacks and not allow_fallbacks:
            raise AssertionError(
                f"kernel fell back for {len(self.fallbacks)} trades: "
                f"{dict(list(self.fallbacks.items())[:5])}"
            )
        diff, allowed = self.differences(tolerance)
        keep = np.array([t.trade_id not in self.fallbacks for t in self.trades])
        if not (diff[:, keep] <= allowed[:, keep]).all():
            raise AssertionError(self.report(tolerance))


def lower_all(trades: Sequence[Trade], base: MarketSnapshot) -> Lowered:
    """Lower ``trades``: module name -> (module, trade positions, lowered), and fallbacks."""
    groups: dict[str, tuple[Any, list[int], list[Any]]] = {}
    fallbacks: dict[str, str] = {}
    with ql_session(base.asof, base.fixings):
        ctx = LoweringContext(base.asof, base.fixings, build_market(base))
        for j, t in enumerate(trades):
            module = kernel_for(t.product)
            if module is None:
                fallbacks[t.trade_id] = f"no kernel for {t.product}"
                continue
            try:
                low = module.lower(t, ctx)
            except KernelUnsupported as exc:
                fallbacks[t.trade_id] = str(exc)
                continue
            groups.setdefault(module.__name__, (module, [], []))
            groups[module.__name__][1].append(j)
            groups[module.__name__][2].append(low)
    return groups, fallbacks


def kernel_values(
    trades: Sequence[Trade],
    base: MarketSnapshot,
    scenarios: ScenarioSet,
    market_factory: MarketFactory | None = None,
    lowered: Lowered | None = None,
) -> tuple[NDArray[np.float64], dict[str, str], float]:
    """Kernel PVs ``(n, k)`` (NaN for fallbacks), the fallbacks, and the kernel-only seconds
    (stack + market + pv, lowering excluded); ``lowered`` reuses :func:`lower_all`'s result."""
    groups, fallbacks = lowered if lowered is not None else lower_all(trades, base)
    out = np.full((scenarios.n, len(trades)), np.nan)
    t0 = time.perf_counter()
    if market_factory is None:
        from pricing.vector.market import ScenarioMarket

        market_factory = ScenarioMarket
    with ql_session(base.asof, base.fixings):  # QlCurveMarket reads QuantLib objects
        m = market_factory(base, scenarios)
        for module, cols, lowered in groups.values():
            out[:, cols] = module.pv(module.stack(lowered), m)
    return out, fallbacks, time.perf_counter() - t0


def reference_values(
    trades: Sequence[Trade], base: MarketSnapshot, scenarios: ScenarioSet
) -> tuple[NDArray[np.float64], dict[str, str]]:
    """Reference PVs ``(n, k)`` (NaN where the reference failed) and the failures."""
    ref = np.full((scenarios.n, len(trades)), np.nan)
    errors: dict[str, str] = {}
    for i in range(scenarios.n):
        res = price(trades, scenarios.snapshot(i, base))
        for j, r in enumerate(res.results):
            if r.ok:
                ref[i, j] = r.pv
            elif r.trade_id not in errors:
                errors[r.trade_id] = f"{scenarios.names[i]}: {r.error}"
    return ref, errors


def run_conformance(
    trades: Sequence[Trade],
    base: MarketSnapshot,
    scenarios: ScenarioSet,
    market_factory: MarketFactory | None = None,
) -> Conformance:
    """Kernel vs reference for ``trades`` under every scenario of ``scenarios``."""
    trades = tuple(trades)
    ids = [t.trade_id for t in trades]
    if len(set(ids)) != len(ids):
        raise ValueError("trade ids must be unique")
    lowered = lower_all(trades, base)
    kernel, fallbacks, k_sec = kernel_values(trades, base, scenarios, market_factory, lowered)
    t0 = time.perf_counter()
    ref, errors = reference_values(trades, base, scenarios)
    return Conformance(
        trades,
        scenarios,
        kernel,
        ref,
        fallbacks,
        errors,
        k_sec,
        time.perf_counter() - t0,
        lowered,
    )


class QlCurveMarket:
    """A base-only scenario market (``n = 1``) reading the base snapshot's QuantLib objects.

    Same API as ``ScenarioMarket`` for the pieces kernels use; every value is QuantLib's own
    (curves by time, vols by time), so a kernel checked on it is checked alone. Use inside a
    ``ql_session`` of the snapshot.
    """

    n = 1

    def __init__(self, snapshot: MarketSnapshot, scenarios: ScenarioSet | None = None) -> None:
        if scenarios is not None and scenarios.n != 1:
            raise ValueError("QlCurveMarket is a base-only market: use ScenarioSet.base_only()")
        self.snapshot = snapshot
        self.asof = snapshot.asof
        self.ql: QlMarket = build_market(snapshot)

    @staticmethod
    def _row(values: Sequence[float]) -> NDArray[np.float64]:
        return np.asarray(values, dtype=np.float64).reshape(1, -1)

    def times(self, days: NDArray[Any]) -> NDArray[np.float64]:
        """``days / 365``."""
        return np.asarray(days, dtype=np.float64) / 365.0

    def df(self, name: str, t: NDArray[np.float64]) -> NDArray[np.float64]:
        """Discount factors of an index curve or a currency's OIS curve."""
        h = self.ql.discount(name) if len(name) == 3 else self.ql.curve(name)
        return self._row([h.discount(float(x), True) for x in np.ravel(t)])

    def zspread(self, issuer: str) -> NDArray[np.float64]:
        """The issuer's z-spread quote (0 for no issuer)."""
        return np.array([self.ql.credit_spread(issuer) if issuer else 0.0])

    def cap_vol(self, ccy: str, maturity_t: NDArray[np.float64]) -> tuple[Any, str, float]:
        """Flat cap vols at cap maturities (``RateVol.flat_vol``)."""
        rv = self.ql.cap_vol(ccy)
        return self._row([rv.flat_vol(float(x)) for x in np.ravel(maturity_t)]), rv.kind, rv.shift

    def swaption_vol(
        self, ccy: str, expiry_t: NDArray[np.float64], swap_length: NDArray[np.float64]
    ) -> tuple[Any, str, float]:
        """Swaption vols by option time and swap length (QuantLib's structure)."""
        rv = self.ql.swaption_vol(ccy)
        h = rv.handle
        vols = [
            h.volatility(float(a), float(b), 0.0, True)
            for a, b in zip(np.ravel(expiry_t), np.ravel(swap_length), strict=True)
        ]
        return self._row(vols), rv.kind, rv.shift

    def fx_spot(self, pair: str) -> NDArray[np.float64]:
        """FX spot."""
        return np.array([self.ql.fx_spot(pair)])

    def fx_rate(self, from_ccy: str, to_ccy: str) -> NDArray[np.float64]:
        """Reporting-currency conversion."""
        return np.array([self.ql.fx_rate(from_ccy, to_ccy)])

    def fx_base_df(self, pair: str, t: NDArray[np.float64]) -> NDArray[np.float64]:
        """Base-currency discount factors consistent with the FX forwards."""
        h = self.ql.fx_curves(pair)[0]
        return self._row([h.discount(float(x), True) for x in np.ravel(t)])

    def equity_spot(self, und: str) -> NDArray[np.float64]:
        """Equity spot."""
        return np.array([self.ql.equity_spot(und)])

    def dividend_yield(self, und: str) -> NDArray[np.float64]:
        """Continuous dividend yield (0 when not quoted)."""
        return np.array([self.snapshot.get(f"EQ.{und}.DIV", 0.0) or 0.0])

    def equity_vol(
        self, und: str, t: NDArray[np.float64], strike: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Black vols of the equity surface."""
        h = self.ql.equity_vol(und)
        return self._row(
            [
                h.blackVol(float(a), float(k), True)
                for a, k in zip(np.ravel(t), np.ravel(strike), strict=True)
            ]
        )

    def fx_vol(self, pair: str, t: NDArray[np.float64]) -> NDArray[np.float64]:
        """ATM Black vols of the pair."""
        h = self.ql.fx_vol(pair)
        return self._row([h.blackVol(float(a), 1.0, True) for a in np.ravel(t)])
