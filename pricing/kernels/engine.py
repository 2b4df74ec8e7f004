"""The valuation engine: every trade under every scenario, numpy kernels first, QuantLib behind.

:func:`value` is ``value(trades, market, scenarios) -> PV[trade, scenario]`` for both engines:

* ``engine="vectorised"`` (the default of the grid): each trade is lowered once per as-of
  (cached by content hash), trades of a product are stacked and valued over all scenarios at
  once by the product's kernel on a :class:`~pricing.vector.market.ScenarioMarket`. A trade no
  kernel can value exactly (``KernelUnsupported``, a product without kernel, a kernel failure)
  falls back to the QuantLib reference, visibly: its reason is returned and counted.
* ``engine="quantlib"``: the reference pricers, one scenario snapshot at a time.

Validation and market requirements are checked up front exactly as :func:`pricing.pricer.price`
does, so a bad trade or a missing quote is one error record, never a failed batch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from pricing.curves import QlMarket, build_market
from pricing.errors import MarketDataError, TradeError
from pricing.kernels import kernel_for
from pricing.kernels.base import KernelUnsupported, LoweringContext
from pricing.market import MarketSnapshot
from pricing.pricer import check_trade, price
from pricing.quantlib_ import ql_session
from pricing.scenarios import ScenarioSet
from pricing.trades import Trade

__all__ = ["ENGINES", "LoweringCache", "ScenarioValuation", "value"]

Engine = Literal["vectorised", "quantlib"]
ENGINES: tuple[str, ...] = ("vectorised", "quantlib")
_GREEKS = ("delta", "gamma", "vega", "theta", "rho", "dividend_rho")


@dataclasses.dataclass(frozen=True)
class ScenarioValuation:
    """PVs of trades under every scenario.

    ``pv`` and ``pv_reporting`` have shape ``(n_trades, n_scenarios)`` (NaN where the trade
    failed); ``model_greeks`` ``(n_trades, 6)`` holds the QuantLib engine's Greeks in the base
    scenario for trades valued by QuantLib (NaN otherwise); ``fallbacks`` maps the trade id of
    every trade the vectorised engine handed to QuantLib to the reason.
    """

    trade_ids: tuple[str, ...]
    pv: NDArray[np.float64]
    pv_reporting: NDArray[np.float64]
    model_greeks: NDArray[np.float64]
    errors: tuple[TradeError | None, ...]
    engine: tuple[str, ...]
    fallbacks: dict[str, str]

    @property
    def n_failed(self) -> int:
        """Trades that could not be valued."""
        return sum(e is not None for e in self.errors)


class LoweringCache:
    """Bounded per-process cache of lowered trades, keyed by trade content + as-of + fixings."""

    def __init__(self, maxsize: int = 500_000) -> None:
        self.maxsize = maxsize
        self._d: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str, str], make: Callable[[], Any]) -> Any:
        """The cached value of ``key``, or ``make()`` stored under it."""
        if key in self._d:
            self.hits += 1
            self._d.move_to_end(key)
            return self._d[key]
        self.misses += 1
        v = make()
        self._d[key] = v
        while len(self._d) > self.maxsize:
            self._d.popitem(last=False)
        return v

    def __len__(self) -> int:
        return len(self._d)


#: The process-wide cache used when none is passed (one per worker process).
DEFAULT_CACHE = LoweringCache()
_markets: OrderedDict[tuple[str, str], Any] = OrderedDict()


def scenario_market(base: MarketSnapshot, scenarios: ScenarioSet) -> Any:
    """The (cached, at most 4 kept) ScenarioMarket of a base snapshot and scenario set (a Greek
    run needs three at once: the bump set, the base for units, the rolled date for theta)."""
    from pricing.vector.market import ScenarioMarket

    key = (base.content_hash, scenarios.content_hash())
    m = _markets.get(key)
    if m is None:
        m = ScenarioMarket(base, scenarios)
        _markets[key] = m
        while len(_markets) > 4:
            _markets.popitem(last=False)
    return m


def _fixings_key(base: MarketSnapshot) -> str:
    doc = {i: {d.isoformat(): v for d, v in s.items()} for i, s in base.fixings.items()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def value(
    trades: Iterable[Trade],
    base: MarketSnapshot,
    scenarios: ScenarioSet | None = None,
    reporting_currency: str = "USD",
    engine: Engine = "vectorised",
    cache: LoweringCache | None = None,
) -> ScenarioValuation:
    """Value ``trades`` under every scenario of ``scenarios`` (default: the base only).

    Parameters
    ----------
    trades
        The trades.
    base
        The base market snapshot (scenario 0).
    scenarios
        The scenario set; scenario ``i`` is ``scenarios.snapshot(i, base)``.
    reporting_currency
        Currency of ``pv_reporting`` (converted at each scenario's FX spots).
    engine
        ``"vectorised"`` (numpy kernels, QuantLib fallback) or ``"quantlib"`` (reference).
    cache
        Lowering cache (default: the process-wide one).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    seq: Sequence[Trade] = tuple(trades)
    scen = scenarios or ScenarioSet.base_only()
    k, S = len(seq), scen.n
    pv = np.full((k, S), np.nan)
    rep = np.full((k, S), np.nan)
    greeks = np.full((k, len(_GREEKS)), np.nan)
    errors: list[TradeError | None] = [None] * k
    used = ["quantlib"] * k
    fallbacks: dict[str, str] = {}
    reference: list[int] = []
    groups: dict[Any, list[tuple[int, Any]]] = {}
    if engine == "quantlib":  # price() checks and reports every trade itself
        reference = list(range(k))
    else:
        with ql_session(base.asof, base.fixings):
            qm = build_market(base)
            ok = []
            for i, t in enumerate(seq):
                errors[i] = check_trade(t, qm)
                if errors[i] is None:
                    ok.append(i)
            groups, reference = _lower(seq, ok, base, qm, cache or DEFAULT_CACHE, errors, fallbacks)
    vectorised: list[int] = []
    if groups:
        market = scenario_market(base, scen)
        for module, items in groups.items():
            idx = [i for i, _ in items]
            try:
                out = np.asarray(module.pv(module.stack([lt for _, lt in items]), market))
                if out.ndim != 2 or out.shape[1] != len(idx) or out.shape[0] not in (1, S):
                    raise ValueError(f"kernel returned shape {out.shape} for {len(idx)} trades")
                out = np.broadcast_to(out, (S, len(idx)))
            except (MarketDataError, ValueError, ArithmeticError, KernelUnsupported) as exc:
                for i in idx:
                    fallbacks[seq[i].trade_id] = f"kernel {module.__name__} failed: {exc}"
                reference.extend(idx)
                continue
            for col, i in enumerate(idx):
                if np.all(np.isfinite(out[:, col])):
                    pv[i] = out[:, col]
                    used[i] = "vectorised"
                    vectorised.append(i)
                else:
                    fallbacks[seq[i].trade_id] = "kernel returned a non-finite PV"
                    reference.append(i)
    if reference:
        _reference(seq, sorted(reference), base, scen, reporting_currency, pv, rep, greeks, errors)
    if vectorised:
        _to_reporting(seq, vectorised, pv, rep, errors, base, scen, reporting_currency)
    for i, e in enumerate(errors):
        if e is not None:
            pv[i] = np.nan
            rep[i] = np.nan
    return ScenarioValuation(
        tuple(t.trade_id for t in seq), pv, rep, greeks, tuple(errors), tuple(used), fallbacks
    )


def _lower(
    seq: Sequence[Trade],
    ok: list[int],
    base: MarketSnapshot,
    qm: QlMarket,
    cache: LoweringCache,
    errors: list[TradeError | None],
    fallbacks: dict[str, str],
) -> tuple[dict[Any, list[tuple[int, Any]]], list[int]]:
    """Lower every valid trade (cached); returns kernel groups and the trades for QuantLib."""
    ctx = LoweringContext(base.asof, base.fixings, qm)
    asof, fixings = base.asof.isoformat(), _fixings_key(base)
    groups: dict[Any, list[tuple[int, Any]]] = {}
    reference: list[int] = []
    for i in ok:
        t = seq[i]
        module = kernel_for(t.product)
        if module is None:
            fallbacks[t.trade_id] = f"no kernel for product {t.product}"
            reference.append(i)
            continue

        def lower(t: Trade = t, module: Any = module) -> Any:
            return module.lower(t, ctx)

        try:
            lowered = cache.get((t.content_hash(), asof, fixings), lower)
        except KernelUnsupported as exc:
            fallbacks[t.trade_id] = str(exc)
            reference.append(i)
            continue
        except MarketDataError as exc:
            errors[i] = TradeError(t.trade_id, "market", str(exc))
            continue
        except (RuntimeError, ValueError, ArithmeticError) as exc:
            errors[i] = TradeError(t.trade_id, "pricing", str(exc).strip())
            continue
        groups.setdefault(module, []).append((i, lowered))
    return groups, reference


def _reference(
    seq: Sequence[Trade],
    idx: list[int],
    base: MarketSnapshot,
    scen: ScenarioSet,
    reporting_currency: str,
    pv: NDArray[np.float64],
    rep: NDArray[np.float64],
    greeks: NDArray[np.float64],
    errors: list[TradeError | None],
) -> None:
    """QuantLib reference for the trades ``idx``, one scenario snapshot at a time."""
    trades = [seq[i] for i in idx]
    for s in range(scen.n):
        res = price(trades, scen.snapshot(s, base), reporting_currency)
        for i, r in zip(idx, res.results, strict=True):
            pv[i, s], rep[i, s] = r.pv, r.pv_reporting
            if r.error is not None and errors[i] is None:
                errors[i] = (
                    r.error
                    if s == 0
                    else TradeError(
                        r.error.trade_id,
                        r.error.field,
                        f"{r.error.reason} (in scenario {scen.names[s]})",
                    )
                )
            if s == 0:
                for j, g in enumerate(_GREEKS):
                    greeks[i, j] = r.greeks.get(g, np.nan)


def _to_reporting(
    seq: Sequence[Trade],
    idx: list[int],
    pv: NDArray[np.float64],
    rep: NDArray[np.float64],
    errors: list[TradeError | None],
    base: MarketSnapshot,
    scen: ScenarioSet,
    reporting_currency: str,
) -> None:
    """Kernel PVs times each scenario's spot rate of the trade currency into the reporting
    currency (what the reference does per scenario snapshot)."""
    market = scenario_market(base, scen)
    rates: dict[str, NDArray[np.float64] | MarketDataError] = {}
    for i in idx:
        ccy = seq[i].currency
        if ccy not in rates:
            try:
                fx = np.asarray(market.fx_rate(ccy, reporting_currency), dtype=np.float64)
                rates[ccy] = np.broadcast_to(fx, (scen.n,)).copy()
            except MarketDataError as exc:
                rates[ccy] = exc
        fx_or_error = rates[ccy]
        if isinstance(fx_or_error, MarketDataError):
            errors[i] = TradeError(seq[i].trade_id, "market", str(fx_or_error))
        else:
            rep[i] = pv[i] * fx_or_error
