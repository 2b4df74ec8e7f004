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
discount factors once per distinct day, known amounts as one sparse ``[trade x day]`` matrix
product, projected terms computed once per distinct ``(start, end, pay)`` triple (trades on the
same schedule share them; built in cache-sized chunks) and summed per trade by a second sparse
product.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
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

    ``rows`` are the trades' positions in the batch; ``disc_days``/``proj_days`` the distinct
    days each curve is read on (one merged axis when both are the same curve); ``known`` the
    sparse ``[trade x disc day]`` amounts. Projected terms are deduplicated: the distinct
    ``(start, end, pay)`` triples (indices into the day arrays; trades on the same schedule
    share them) and the sparse ``[trade x triple]`` weights ``projected``.
    """

    discount: str
    projection: str
    rows: NDArray[np.int64]
    disc_days: NDArray[np.int64]
    proj_days: NDArray[np.int64]
    known: sp.csr_array
    t_start: NDArray[np.int64]
    t_end: NDArray[np.int64]
    t_pay: NDArray[np.int64]
    projected: sp.csr_array

    def pv(self, df: DfFn) -> FloatArray:
        """PVs ``(k_group, S)`` of the group's trades (S = 1 when no curve moves)."""
        if len(self.disc_days) == 0:  # nothing left to pay
            return np.zeros((len(self.rows), 1))
        D = np.ascontiguousarray(df(self.discount, self.disc_days).T)  # (days, S)
        out = np.asarray(self.known @ D, dtype=np.float64)
        n_terms = len(self.t_start)
        if n_terms == 0:
            return out
        if self.projection == self.discount:
            P = D
        else:
            P = np.ascontiguousarray(df(self.projection, self.proj_days).T)
        s = max(D.shape[1], P.shape[1])
        g = np.empty((n_terms, s))  # the distinct terms P(s)/P(e)*D(p), built in small chunks
        step = max(64, _CHUNK_ELEMENTS // s)
        for j0 in range(0, n_terms, step):
            j1 = min(j0 + step, n_terms)
            part = g[j0:j1]
            np.divide(P[self.t_start[j0:j1]], P[self.t_end[j0:j1]], out=part)
            part *= D[self.t_pay[j0:j1]]
        return np.asarray(out + self.projected @ g, dtype=np.float64)


@dataclasses.dataclass(frozen=True, eq=False)
class FlowBatch:
    """The flows of ``k`` trades, grouped by curves."""

    k: int
    groups: tuple[FlowGroup, ...]

    def pv(self, df: DfFn, n: int) -> FloatArray:
        """PVs as ``(n, k)`` (a transposed view of a C-contiguous ``(k, n)`` array)."""
        out = np.zeros((self.k, n), dtype=np.float64)
        for g in self.groups:
            out[g.rows] = g.pv(df)
        return out.T


def stack_flows(flows: Sequence[Flows]) -> FlowBatch:
    """Group and concatenate the flows of many trades (row ``i`` = ``flows[i]``)."""
    by_key: dict[tuple[str, str], list[int]] = {}
    for i, f in enumerate(flows):
        key = (f.discount, f.projection or f.discount)
        by_key.setdefault(key, []).append(i)
    groups = tuple(
        _group(disc, proj, np.array(rows, dtype=np.int64), [flows[i] for i in rows])
        for (disc, proj), rows in by_key.items()
    )
    return FlowBatch(len(flows), groups)


def _group(disc: str, proj: str, rows: NDArray[np.int64], flows: list[Flows]) -> FlowGroup:
    k = len(flows)
    n_known = np.array([len(f.pay) for f in flows], dtype=np.int64)
    n_proj = np.array([len(f.start) for f in flows], dtype=np.int64)
    pay = np.concatenate([f.pay for f in flows]).astype(np.int64)
    amount = np.concatenate([f.amount for f in flows])
    start = np.concatenate([f.start for f in flows]).astype(np.int64)
    end = np.concatenate([f.end for f in flows]).astype(np.int64)
    tpay = np.concatenate([f.term_pay for f in flows]).astype(np.int64)
    weight = np.concatenate([f.weight for f in flows])

    if proj == disc:  # one merged day axis for both
        days, inv = np.unique(np.concatenate([pay, tpay, start, end]), return_inverse=True)
        a, b, c = len(pay), len(pay) + len(tpay), len(pay) + len(tpay) + len(start)
        pay_idx, tpay_idx, s_idx, e_idx = inv[:a], inv[a:b], inv[b:c], inv[c:]
        disc_days = proj_days = days
    else:
        disc_days, inv = np.unique(np.concatenate([pay, tpay]), return_inverse=True)
        pay_idx, tpay_idx = inv[: len(pay)], inv[len(pay) :]
        proj_days, inv2 = np.unique(np.concatenate([start, end]), return_inverse=True)
        s_idx, e_idx = inv2[: len(start)], inv2[len(start) :]
    known = sp.csr_array(
        (amount, (np.repeat(np.arange(k), n_known), pay_idx)), shape=(k, len(disc_days))
    )
    known.sum_duplicates()
    # distinct projected terms: one key per (start, end, pay) triple
    n_p, n_d = max(1, len(proj_days)), max(1, len(disc_days))
    triples, term = np.unique((s_idx * n_p + e_idx) * n_d + tpay_idx, return_inverse=True)
    projected = sp.csr_array(
        (weight, (np.repeat(np.arange(k), n_proj), term.reshape(-1))), shape=(k, len(triples))
    )
    projected.sum_duplicates()
    return FlowGroup(
        disc,
        proj,
        rows,
        disc_days,
        proj_days,
        known,
        triples // n_d // n_p,
        (triples // n_d) % n_p,
        triples % n_d,
        projected,
    )
