"""FX kernels: deliverable forwards and Garman-Kohlhagen European options, over scenarios.

The numpy twins of :mod:`pricing.products.fx`, replicating the QuantLib 1.44 engines the
reference uses, operation for operation:

* Forward: ``DiscountingFxForwardEngine`` on ``FxForward(notional, base, quote, strike, T, sell,
  0 settlement days)``: with ``Db``/``Dq`` the base/quote discount factors to delivery and ``S``
  the spot, the engine's ``npvTargetCurrency`` is ``(N Db - (N K) Dq / S) S`` for a buyer of
  the base currency (the negative for a seller), in the quote currency. Delivery on the as-of
  date is valued (``Db = Dq = 1``).
* Option: ``AnalyticEuropeanEngine`` on a ``GarmanKohlagenProcess`` (the base-currency curve in
  the dividend slot, the quote-currency curve as the risk-free one, the pair's ATM Black vol):
  :func:`pricing.kernels.equity.black_value` with ``F = S Db / Dq``, discount ``Dq`` and
  ``sd = sqrt(vol(T)^2 T)``, times ``side x notional``. An option expiring on the as-of date is
  worth 0 (QuantLib: expired).

Curves come from the scenario market as the reference takes them from
:meth:`pricing.curves.QlMarket.fx_curves`: the base-currency curve implied by the forward points
when the pair has them (``market.fx_base_df``), else the base currency's OIS curve; the quote
currency's OIS curve discounts (``market.df(quote ccy)``). ``T`` is ACT/365F to the delivery or
expiry date. PVs are in the pair's quote currency.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from pricing.kernels.base import KernelUnsupported, LoweringContext, days
from pricing.kernels.equity import CHUNK_ELEMENTS, black_value
from pricing.trades import FxForward, FxOption

__all__ = ["TRADE_TYPES", "FxBatch", "LoweredFx", "lower", "pv", "stack"]

F64 = NDArray[np.float64]

TRADE_TYPES = (FxForward, FxOption)

FORWARD, OPTION = 0, 1


class _Market(Protocol):
    """The part of :class:`pricing.vector.market.ScenarioMarket` the FX kernels use."""

    @property
    def n(self) -> int: ...
    def df(self, index_or_ccy: str, t: F64) -> F64: ...
    def fx_spot(self, pair: str) -> F64: ...
    def fx_base_df(self, pair: str, t: F64) -> F64: ...
    def fx_vol(self, pair: str, t: F64) -> F64: ...


@dataclasses.dataclass(frozen=True)
class LoweredFx:
    """One FX trade as plain numbers: ``days`` to delivery/expiry, ``sign`` +1 buy / -1 sell,
    ``w`` +1 call / -1 put (options only)."""

    kind: int
    pair: str
    days: int
    notional: float
    strike: float
    sign: float
    w: float = 0.0


def lower(trade: FxForward | FxOption, ctx: LoweringContext) -> LoweredFx:
    """Lower one FX forward or option.

    >>> import datetime as dt
    >>> fwd = FxForward(trade_id="F1", book="B", counterparty="C", pair="EURUSD",
    ...                 notional=1e6, strike=1.17, delivery_date=dt.date(2026, 11, 30),
    ...                 side="SELL")
    >>> lower(fwd, LoweringContext(dt.date(2025, 11, 28), {}, None))  # type: ignore[arg-type]
    LoweredFx(kind=0, pair='EURUSD', days=367, notional=1000000.0, strike=1.17, sign=-1.0, w=0.0)
    """
    sign = -1.0 if trade.side == "SELL" else 1.0
    if isinstance(trade, FxForward):
        d, kind, w = days(ctx.asof, trade.delivery_date), FORWARD, 0.0
    elif isinstance(trade, FxOption):
        d, kind = days(ctx.asof, trade.expiry_date), OPTION
        w = 1.0 if trade.option_type == "CALL" else -1.0
    else:
        raise KernelUnsupported(f"not an FX trade: {type(trade).__name__}")
    return LoweredFx(kind, trade.pair, d, float(trade.notional), float(trade.strike), sign, w)


@dataclasses.dataclass(frozen=True)
class _Group:
    pair: str
    kind: int
    index: NDArray[np.intp]


@dataclasses.dataclass(frozen=True)
class FxBatch:
    """Lowered FX trades stacked into arrays, grouped by (pair, kind)."""

    size: int
    days: NDArray[np.int64]
    notional: F64
    strike: F64
    sign: F64
    w: F64
    groups: tuple[_Group, ...]
    #: Forwards delivered before the as-of date: QuantLib has no NPV for them (NaN here).
    dead: NDArray[np.intp]


def stack(lowered: Sequence[LoweredFx]) -> FxBatch:
    """Concatenate lowered FX trades. Options at or past expiry are in no group (PV 0);
    forwards delivered before the as-of date are marked dead (NaN)."""

    def arr(name: str, dtype: type = np.float64) -> NDArray[Any]:
        return np.array([getattr(lo, name) for lo in lowered], dtype=dtype)

    keys: dict[tuple[str, int], list[int]] = {}
    dead = []
    for i, lo in enumerate(lowered):
        if lo.kind == FORWARD and lo.days < 0:
            dead.append(i)
        elif lo.days > 0 or (lo.kind == FORWARD and lo.days == 0):
            keys.setdefault((lo.pair, lo.kind), []).append(i)
    return FxBatch(
        size=len(lowered),
        days=arr("days", np.int64),
        notional=arr("notional"),
        strike=arr("strike"),
        sign=arr("sign"),
        w=arr("w"),
        groups=tuple(
            _Group(p, k, np.array(ix, dtype=np.intp)) for (p, k), ix in sorted(keys.items())
        ),
        dead=np.array(dead, dtype=np.intp),
    )


def pv(batch: FxBatch, market: _Market) -> F64:
    """PV ``(market.n, k)`` in each pair's quote currency, signed by side, like the reference."""
    out = np.zeros((market.n, batch.size))
    out[:, batch.dead] = np.nan
    with np.errstate(all="ignore"):
        for g in batch.groups:
            if g.kind == FORWARD:
                _forward_pv(batch, g, market, out)
            else:
                _option_pv(batch, g, market, out)
    return out


def _curves(
    batch: FxBatch, g: _Group, market: _Market
) -> tuple[F64, F64, F64, NDArray[np.intp], F64]:
    """Spot ``(S, 1)``, base and quote discount factors ``(S, u)`` on the group's distinct
    dates, the map trade -> date, and the distinct times."""
    days_u, inv = np.unique(batch.days[g.index], return_inverse=True)
    t_u = days_u / 365.0
    spot = np.asarray(market.fx_spot(g.pair), dtype=np.float64)[:, None]
    db = np.asarray(market.fx_base_df(g.pair, t_u), dtype=np.float64)
    dq = np.asarray(market.df(g.pair[3:], t_u), dtype=np.float64)
    return spot, db, dq, inv, t_u


def _forward_pv(batch: FxBatch, g: _Group, market: _Market, out: F64) -> None:
    spot, db_u, dq_u, inv, _ = _curves(batch, g, market)
    i = g.index
    notional = batch.notional[i]
    source = notional * db_u[:, inv]  # N Db
    target = (notional * batch.strike[i]) * dq_u[:, inv]  # (N K) Dq
    out[:, i] = (batch.sign[i] * (source - target / spot)) * spot


def _option_pv(batch: FxBatch, g: _Group, market: _Market, out: F64) -> None:
    spot, db_u, dq_u, inv, t_u = _curves(batch, g, market)
    vol_u = np.asarray(market.fx_vol(g.pair, t_u), dtype=np.float64)
    sd_u = np.sqrt(vol_u * vol_u * t_u)
    fwd_u = spot * db_u / dq_u
    n_scen = max(fwd_u.shape[0], sd_u.shape[0])
    step = max(1, CHUNK_ELEMENTS // n_scen)
    for start in range(0, g.index.size, step):
        i = g.index[start : start + step]
        j = inv[start : start + step]
        v = black_value(
            (batch.w[i] < 0).astype(np.float64), fwd_u[:, j], batch.strike[i], sd_u[:, j],
            dq_u[:, j],
        )  # fmt: skip
        out[:, i] = (batch.sign[i] * batch.notional[i]) * v
