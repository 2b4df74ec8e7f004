"""Pure planning: portfolio + request -> ordered trades and fixed-size chunks.

No cluster, no I/O: the same inputs always give the same plan, so a resumed run can check that
it is finishing the run it started.

Trades are ordered by (product, trade id), so most chunks hold a single product (kernels
vectorise per product), and cut into chunks of ``chunk_size`` consecutive trades. Every chunk
but the last has exactly ``chunk_size`` trades, so the chunks line up with the Zarr chunks of
the cube's ``trade`` dimension: each task writes whole Zarr chunks and no two tasks ever write
the same one (PITFALLS 18-19).

The chunk size, when not given, comes from per-product cost estimates so that a task computes
for about ``target_task_seconds`` (Dask's per-task overhead is ~2 ms; PITFALLS 7).

>>> from pricing.demo.portfolio import demo_portfolio
>>> p = plan(demo_portfolio(200), chunk_size=64)
>>> [c.size for c in p.chunks]
[64, 64, 64, 8]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping

from pricing.trades import Portfolio, Trade

__all__ = ["COST_SECONDS", "Chunk", "Plan", "choose_chunk_size", "plan"]

#: Seconds per trade valuation with the QuantLib reference engine, measured on a 2-core machine
#: with 20,000 demo trades (per product, market built); used only to size tasks.
COST_SECONDS: Mapping[str, float] = {
    "IRS": 0.26e-3,
    "OIS": 0.43e-3,
    "FRA": 0.03e-3,
    "BOND": 0.09e-3,
    "CAPFLOOR": 0.18e-3,
    "SWAPTION": 0.48e-3,
    "FX_FORWARD": 0.06e-3,
    "FX_OPTION": 0.07e-3,
    "EQ_OPTION": 0.07e-3,
    "EQ_AMERICAN": 0.13e-3,
    "EQ_BARRIER": 0.11e-3,
}
_DEFAULT_COST = 1e-3


@dataclasses.dataclass(frozen=True)
class Chunk:
    """A task's share of the work: trades ``[start, stop)`` of the plan's order."""

    chunk_id: int
    start: int
    stop: int
    products: tuple[str, ...]

    @property
    def size(self) -> int:
        """Number of trades."""
        return self.stop - self.start


@dataclasses.dataclass(frozen=True)
class Plan:
    """Trades in cube order and their chunks."""

    trades: tuple[Trade, ...]
    chunk_size: int
    chunks: tuple[Chunk, ...]

    def trades_of(self, chunk: Chunk) -> tuple[Trade, ...]:
        """The trades of one chunk."""
        return self.trades[chunk.start : chunk.stop]

    @property
    def trade_ids(self) -> list[str]:
        """Trade ids in cube order."""
        return [t.trade_id for t in self.trades]

    def fingerprint(self) -> str:
        """Hash of the trade order and chunk boundaries (a resumed run must match it)."""
        doc = {"ids": self.trade_ids, "chunk_size": self.chunk_size}
        return hashlib.sha256(json.dumps(doc).encode()).hexdigest()


def choose_chunk_size(
    trades: tuple[Trade, ...],
    target_task_seconds: float = 0.5,
    min_size: int = 16,
    max_size: int = 5000,
    n_workers: int | None = None,
    tasks_per_worker: int = 4,
) -> int:
    """Trades per chunk so that an average task costs about ``target_task_seconds``.

    With ``n_workers`` given, the size is also capped so that every worker gets at least
    ``tasks_per_worker`` tasks (load balance and a lost worker costing little), but never below
    ``min_size``; ``target_task_seconds`` may be ``inf`` to size by workers and ``max_size``
    alone.
    """
    if not trades:
        return min_size
    mean = sum(COST_SECONDS.get(t.product, _DEFAULT_COST) for t in trades) / len(trades)
    size = max_size if math.isinf(target_task_seconds) else int(target_task_seconds / mean)
    if n_workers:
        size = min(size, math.ceil(len(trades) / (tasks_per_worker * n_workers)))
    return max(min_size, min(max_size, size))


def plan(
    portfolio: Portfolio | tuple[Trade, ...],
    chunk_size: int | None = None,
    target_task_seconds: float = 0.5,
    n_workers: int | None = None,
    min_size: int = 16,
    max_size: int = 5000,
    tasks_per_worker: int = 4,
) -> Plan:
    """Order the trades and cut them into chunks.

    Parameters
    ----------
    portfolio
        The trades to value.
    chunk_size
        Trades per chunk; ``None`` chooses it with :func:`choose_chunk_size`.
    target_task_seconds, n_workers, min_size, max_size, tasks_per_worker
        Passed to :func:`choose_chunk_size`.
    """
    trades = tuple(sorted(portfolio, key=lambda t: (t.product, t.trade_id)))
    if chunk_size is None:
        chunk_size = choose_chunk_size(
            trades, target_task_seconds, min_size, max_size, n_workers, tasks_per_worker
        )
    if chunk_size < 1:
        raise ValueError(f"chunk size must be positive, got {chunk_size}")
    chunks = []
    for i, start in enumerate(range(0, len(trades), chunk_size)):
        stop = min(start + chunk_size, len(trades))
        products = tuple(sorted({t.product for t in trades[start:stop]}))
        chunks.append(Chunk(i, start, stop, products))
    return Plan(trades, chunk_size, tuple(chunks))
