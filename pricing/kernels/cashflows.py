"""Discounted cashflows with projected floating coupons, vectorised over trades and scenarios.

Every linear rates product lowers (once, from its QuantLib instrument) to :class:`Flows`, two
kinds of terms whose dates and weights do not depend on any quote:

* known amounts ``a`` paid on day ``p``:                 ``a * D(p)``
* projected terms with weight ``w`` on days ``s, e, p``:  ``w * P(s) / P(e) * D(p)``

with ``D`` the discount curve and ``P`` the projection curve. An IBOR coupon forecast from its
index's value and maturity dates ``s, e`` with spanning time ``span`` is the projected term
``w = N * tau / span`` plus the known amount ``-w + N * tau * spread``; a compounded overnight
coupon with known factor ``K`` so far and first unfixed value date ``s`` is ``w = N * K`` plus
``N * (tau * spread - 1)`` (the telescoping of QuantLib's compounding pricer); a FRA is
``N * D(s) - N * (1 + K tau) * P(e) / P(s) * D(s)``.

:func:`stack_flows` concatenates the flows of many trades into :class:`FlowBatch` groups (one
per discount/projection curve pair) and :meth:`FlowBatch.pv` values them (PITFALLS 24-25):
discount factors once per curve and distinct day (over all groups), known amounts as one
sparse ``[trade x day]`` matrix product, projected terms computed once per distinct
``(start, end, pay)`` triple (trades on the same schedule share them; built in cache-sized
chunks) and summed per trade by a second sparse product.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, Protocol

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = ["FlowBatch", "FlowGroup", "Flows", "FlowsBuilder", "RatesMarket", "stack_flows"]

IntArray = NDArray[np.int32]
FloatArray = NDArray[np.float64]
#: ``df(curve_key, days) -> (S, k)`` discount factors on int day offsets from the as-of date.
VolKind = Literal["NORMAL", "LOGNORMAL"]
DfFn = Callable[[str, NDArray[np.int64]], FloatArray]

#: Elements of the per-chunk temporaries (terms x scenarios): ~2 MB of float64 (PITFALLS 25).
_CHUNK_ELEMENTS = 1 << 18


class RatesMarket(Protocol):
    """What the rates kernels read from :class:`pricing.vector.market.ScenarioMarket`.

    Arrays come as ``(S, k)`` with ``S`` = ``n`` when the quantity moves in some scenario,
    else 1 (broadcastable).
    """

    @property
    def n(self) -> int:
        """Number of scenarios (the base included)."""
        ...

    def times(self, days: NDArray[np.int64]) -> FloatArray:
        """ACT/365F curve times of day offsets from the as-of date."""
        ...

    def df(self, name: str, t: FloatArray) -> FloatArray:
        """Discount factors ``(S, k)`` of an index curve or a currency's OIS curve."""
        ...

    def zspread(self, issuer: str) -> FloatArray:
        """Continuous z-spread ``(S,)`` of an issuer (0 for ``""``)."""
        ...

    def cap_vol(self, ccy: str, maturity_t: FloatArray) -> tuple[FloatArray, VolKind, float]:
        """Flat cap vols ``(S, k)`` at cap maturities, their kind and shift."""
        ...

    def swaption_vol(
        self, ccy: str, expiry_t: FloatArray, swap_length: FloatArray
    ) -> tuple[FloatArray, VolKind, float]:
        """ATM swaption vols ``(S, k)``, their kind and shift."""
        ...


_EMPTY_I = np.zeros(0, dtype=np.int32)
_EMPTY_F = np.zeros(0, dtype=np.float64)


@dataclasses.dataclass(frozen=True, eq=False)
class Flows:
    """Lowered cashflows of one trade (see the module docstring).

    ``discount`` and ``projection`` are curve keys understood by the kernel's discount-factor
    function (for swaps: index names accepted by ``ScenarioMarket.df``); ``projection`` is
    ``""`` when there are no projected terms.
    """

    discount: str
    projection: str
    pay: IntArray
    amount: FloatArray
    start: IntArray = dataclasses.field(default_factory=lambda: _EMPTY_I)
    end: IntArray = dataclasses.field(default_factory=lambda: _EMPTY_I)
    term_pay: IntArray = dataclasses.field(default_factory=lambda: _EMPTY_I)
    weight: FloatArray = dataclasses.field(default_factory=lambda: _EMPTY_F)

    @property
    def n_terms(self) -> int:
        """Number of known amounts plus projected terms."""
        return len(self.pay) + len(self.start)


class FlowsBuilder:
    """Accumulates terms of one trade, then freezes them into :class:`Flows`.

    >>> b = FlowsBuilder("USD-SOFR", "USD-SOFR")
    >>> b.known(30, 1.5); b.projected(0, 30, 32, 1e6)
    >>> f = b.build(); f.pay.tolist(), f.start.tolist(), f.weight.tolist()
    ([30], [0], [1000000.0])
    """

    def __init__(self, discount: str, projection: str = "") -> None:
        self.discount = discount
        self.projection = projection
        self._known: list[tuple[int, float]] = []
        self._proj: list[tuple[int, int, int, float]] = []

    def known(self, pay: int, amount: float) -> None:
        """A known amount paid on day ``pay``."""
        if amount != 0.0:
            self._known.append((pay, amount))

    def projected(self, start: int, end: int, pay: int, weight: float) -> None:
        """A term ``weight * P(start) / P(end) * D(pay)``."""
        if weight != 0.0:
            self._proj.append((start, end, pay, weight))

    def build(self) -> Flows:
        """The frozen flows."""
        k = np.array(self._known, dtype=np.float64).reshape(-1, 2)
        p = np.array(self._proj, dtype=np.float64).reshape(-1, 4)
        return Flows(
            self.discount,
            self.projection if len(p) else "",
            k[:, 0].astype(np.int32),
            k[:, 1].copy(),
            p[:, 0].astype(np.int32),
            p[:, 1].astype(np.int32),
            p[:, 2].astype(np.int32),
            p[:, 3].copy(),
        )


@dataclasses.dataclass(frozen=True, eq=False)
class FlowGroup:
    """Trades sharing a discount and a projection curve, ready for the kernel.

    ``rows`` are the trades' positions in the batch. Days are indices into the batch's day axis
    of each curve (:attr:`FlowBatch.curves`): ``known`` holds the sparse ``[trade x discount
    day]`` amounts; the projected terms are deduplicated into distinct ``(start, end, pay)``
    triples (trades on the same schedule share them) with sparse ``[trade x triple]`` weights
    ``projected``.
    """

    discount: str
    projection: str
    rows: NDArray[np.int64]
    known: sp.csr_array
    t_start: NDArray[np.int64]
    t_end: NDArray[np.int64]
    t_pay: NDArray[np.int64]
    projected: sp.csr_array

    def pv(self, curves: Mapping[str, FloatArray]) -> FloatArray:
        """PVs ``(k_group, S)`` from discount factors ``(days, S)`` per curve."""
        if self.known.nnz == 0 and len(self.t_start) == 0:  # nothing left to pay
            return np.zeros((len(self.rows), 1))
        D = curves[self.discount]
        out = np.asarray(self.known @ D, dtype=np.float64)
        n_terms = len(self.t_start)
        if n_terms == 0:
            return out
        P = curves[self.projection]
        s = max(D.shape[1], P.shape[1])
        g = np.empty((n_terms, s))  # the distinct terms P(s)/P(e)*D(p), built in small chunks
        step = max(64, _CHUNK_ELEMENTS // s)
        for j0 in range(0, n_terms, step):
            j1 = min(j0 + step, n_terms)
            part = g[j0:j1]
            np.divide(P[self.t_start[j0:j1]], P[self.t_end[j0:j1]], out=part)
            part *= D[self.t_pay[j0:j1]]
        if out.shape[1] < s:
            out = np.repeat(out, s, axis=1)
        out += self.projected @ g
        return out


@dataclasses.dataclass(frozen=True, eq=False)
class FlowBatch:
    """The flows of ``k`` trades, grouped by curves; ``curves`` maps each curve key to the
    distinct days (sorted) any group reads it on: one discount-factor evaluation per curve."""

    k: int
    curves: dict[str, NDArray[np.int64]]
    groups: tuple[FlowGroup, ...]

    def pv(self, df: DfFn, n: int) -> FloatArray:
        """PVs as ``(n, k)`` (a transposed view of a C-contiguous ``(k, n)`` array)."""
        values = {
            c: np.ascontiguousarray(df(c, days).T) for c, days in self.curves.items() if len(days)
        }
        out = np.empty((self.k, n), dtype=np.float64)  # every row is in exactly one group
        for g in self.groups:
            out[g.rows] = g.pv(values)
        return out.T


def stack_flows(flows: Sequence[Flows]) -> FlowBatch:
    """Group and concatenate the flows of many trades (row ``i`` = ``flows[i]``)."""
    by_key: dict[tuple[str, str], list[int]] = {}
    need: dict[str, list[NDArray[np.int32]]] = {}
    for i, f in enumerate(flows):
        proj = f.projection or f.discount
        by_key.setdefault((f.discount, proj), []).append(i)
        need.setdefault(f.discount, []).extend((f.pay, f.term_pay))
        need.setdefault(proj, []).extend((f.start, f.end))
    curves = {c: np.unique(np.concatenate(a)).astype(np.int64) for c, a in need.items()}
    groups = tuple(
        _group(disc, proj, np.array(rows, dtype=np.int64), [flows[i] for i in rows], curves)
        for (disc, proj), rows in by_key.items()
    )
    return FlowBatch(len(flows), curves, groups)


def _group(
    disc: str,
    proj: str,
    rows: NDArray[np.int64],
    flows: list[Flows],
    curves: Mapping[str, NDArray[np.int64]],
) -> FlowGroup:
    k = len(flows)
    n_known = np.array([len(f.pay) for f in flows], dtype=np.int64)
    n_proj = np.array([len(f.start) for f in flows], dtype=np.int64)
    d_days, p_days = curves[disc], curves[proj]
    pay_idx = np.searchsorted(d_days, np.concatenate([f.pay for f in flows]))
    tpay_idx = np.searchsorted(d_days, np.concatenate([f.term_pay for f in flows]))
    s_idx = np.searchsorted(p_days, np.concatenate([f.start for f in flows]))
    e_idx = np.searchsorted(p_days, np.concatenate([f.end for f in flows]))
    known = sp.csr_array(
        (np.concatenate([f.amount for f in flows]), (np.repeat(np.arange(k), n_known), pay_idx)),
        shape=(k, len(d_days)),
    )
    known.sum_duplicates()
    # distinct projected terms: one key per (start, end, pay) triple
    n_p, n_d = max(1, len(p_days)), max(1, len(d_days))
    triples, term = np.unique((s_idx * n_p + e_idx) * n_d + tpay_idx, return_inverse=True)
    projected = sp.csr_array(
        (
            np.concatenate([f.weight for f in flows]),
            (np.repeat(np.arange(k), n_proj), term.reshape(-1)),
        ),
        shape=(k, len(triples)),
    )
    projected.sum_duplicates()
    return FlowGroup(
        disc,
        proj,
        rows,
        known,
        triples // n_d // n_p,
        (triples // n_d) % n_p,
        triples % n_d,
        projected,
    )
