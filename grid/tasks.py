"""What runs on a worker: value one chunk of trades, write its region, mark it done.

Tasks receive the chunk (ids and bounds) plus futures of the broadcast trades and snapshot; they
return a small :class:`ChunkResult` (counts, errors, timings). With a run directory the arrays go
straight into the Zarr cube from the worker (PITFALLS 27: returning large blocks by pickling
costs more than the compute); without one (interactive use) they travel back in the result.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from grid.plan import Chunk
from grid.store import RunDir
from pricing.market import MarketSnapshot
from pricing.pricer import price
from pricing.trades import Portfolio, Trade
from risk.cube import GREEKS

__all__ = ["ChunkResult", "value_chunk"]


@dataclasses.dataclass(frozen=True)
class ChunkResult:
    """What a task sends back: counts, errors and timings (and arrays when not written)."""

    chunk_id: int
    n_trades: int
    n_failed: int
    errors: tuple[dict[str, str], ...]
    seconds: float
    worker: str
    arrays: dict[str, Any] | None = None

    def marker(self) -> dict[str, Any]:
        """The done-marker document."""
        return {
            "chunk_id": self.chunk_id,
            "n_trades": self.n_trades,
            "n_failed": self.n_failed,
            "errors": list(self.errors),
            "seconds": self.seconds,
            "worker": self.worker,
        }


def _arrays(
    trades: Sequence[Trade], snapshot: MarketSnapshot, reporting_currency: str
) -> tuple[dict[str, NDArray[Any]], list[dict[str, str]]]:
    res = price(trades, snapshot, reporting_currency)
    n = len(res.results)
    pv = np.empty(n)
    pv_rep = np.empty(n)
    greeks = np.full((n, len(GREEKS)), np.nan)
    error = np.empty(n, dtype=object)
    errors = []
    for i, r in enumerate(res.results):
        pv[i], pv_rep[i] = r.pv, r.pv_reporting
        for j, g in enumerate(GREEKS):
            if g in r.greeks:
                greeks[i, j] = r.greeks[g]
        error[i] = "" if r.error is None else f"{r.error.field}: {r.error.reason}"
        if r.error is not None:
            errors.append(r.error.to_dict())
    return {"pv": pv, "pv_reporting": pv_rep, "model_greeks": greeks, "error": error}, errors


def value_chunk(
    chunk: Chunk,
    trades: Sequence[Trade],
    snapshot: MarketSnapshot,
    reporting_currency: str,
    run_dir: str | None = None,
    books: dict[str, str] | None = None,
    cube_attrs: dict[str, str] | None = None,
) -> ChunkResult:
    """Value ``trades[chunk.start:chunk.stop]``; write region + marker when ``run_dir`` is set.

    Deterministic: the same chunk gives the same bits on any worker, so retries and
    recomputation after a lost worker are safe.
    """
    t0 = time.perf_counter()
    mine = tuple(trades[chunk.start : chunk.stop])
    arrays, errors = _arrays(mine, snapshot, reporting_currency)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    result = ChunkResult(
        chunk.chunk_id,
        len(mine),
        len(errors),
        tuple(errors),
        time.perf_counter() - t0,
        worker,
        arrays=None if run_dir else arrays,
    )
    if run_dir:
        from risk import build_cube, write_region

        rd = RunDir(run_dir)
        attrs = Portfolio(mine, books or {}).trade_attributes()
        ds = build_cube(
            attrs,
            arrays["pv"],
            arrays["pv_reporting"],
            arrays["model_greeks"],
            list(arrays["error"]),
            **(cube_attrs or {}),
        )
        write_region(ds, rd.cube, chunk.start, chunk.stop)
        done = dataclasses.replace(result, seconds=time.perf_counter() - t0)
        RunDir.write_json(rd.marker(chunk.chunk_id), done.marker())
        return done
    return result
