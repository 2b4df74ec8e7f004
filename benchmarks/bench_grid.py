"""Grid vs in-process valuation, in one run on one machine.

    python benchmarks/bench_grid.py [--trades 3000 100000] [--repeat 1]

For each portfolio size: the demo portfolio valued

* in process (``pricing.pricer.price``, QuantLib loop; the baseline),
* through the grid with 1 worker and with 2 workers, on the same QuantLib engine (embedded
  LocalCluster, one thread per worker, cluster started and warmed before the clock; results
  written through to Zarr like the batch),

and reports wall times, the grid/in-process ratio at 1 worker (the grid's overhead), the 1 -> 2
worker speed-up, and the measured per-task overhead of an empty task. Machines here are shared
and noisy: compare ratios within one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from grid.cluster import connect
from grid.run import run_valuation
from pricing.demo import demo_market, demo_portfolio
from pricing.pricer import price


def _noop(x: int) -> int:
    return x


def _warm(snap: object) -> None:
    """Import the pricing stack and build the market on a worker."""
    import risk  # noqa: F401

    price(demo_portfolio(50), snap)  # type: ignore[arg-type]


def task_overhead(client: object, n: int = 2000) -> float:
    """Seconds per empty task (submit + run + gather), measured with client.map."""
    t0 = time.perf_counter()
    futures = client.map(_noop, range(n), pure=False)  # type: ignore[attr-defined]
    client.gather(futures)  # type: ignore[attr-defined]
    return (time.perf_counter() - t0) / n


def bench(n_trades: int, tmp: Path) -> dict[str, float]:
    snap = demo_market()
    portfolio = demo_portfolio(n_trades)
    t0 = time.perf_counter()
    res = price(portfolio, snap)
    inproc = time.perf_counter() - t0
    assert res.n_failed == 0, res.errors[:3]
    out: dict[str, float] = {"trades": n_trades, "in_process_s": inproc}
    for workers in (1, 2):
        with connect(n_workers=workers) as client:
            # warm up (not timed): imports and curve builds on every worker, as on a cluster
            # that is already up; the benchmark measures valuation, not process start-up
            client.run(_warm, snap)
            out[f"noop_task_ms_{workers}w"] = 1e3 * task_overhead(client)
            run_dir = tmp / f"run-{n_trades}-{workers}"
            shutil.rmtree(run_dir, ignore_errors=True)
            t0 = time.perf_counter()
            outcome = run_valuation(
                client, portfolio, snap, run_dir, show_progress=False, engine="quantlib"
            )  # like for like with the baseline
            out[f"grid_{workers}w_s"] = time.perf_counter() - t0
            assert outcome.exit_code == 0, outcome.manifest["status"]
            out[f"chunks_{workers}w"] = outcome.manifest["plan"]["n_chunks"]
            timings = outcome.manifest["timings"]
            out[f"chunk_cpu_s_{workers}w"] = timings["chunk_seconds_sum"]
            for stage in ("plan", "scatter", "compute", "assemble"):
                out[f"{stage}_s_{workers}w"] = timings[stage]
    out["grid_over_inproc_1w"] = out["grid_1w_s"] / inproc
    out["speedup_1w_to_2w"] = out["grid_1w_s"] / out["grid_2w_s"]
    out["overhead_per_task_ms_1w"] = 1e3 * (out["grid_1w_s"] - inproc) / out["chunks_1w"]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--trades", type=int, nargs="+", default=[3000, 100_000])
    args = ap.parse_args(argv)
    print(f"machine: {os.cpu_count()} cpus; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.trades:
            r = bench(n, Path(tmp))
            print(f"\n== {n:,} trades ==")
            print(f"in process (QuantLib loop)  {r['in_process_s']:8.2f} s")
            print(
                f"grid, 1 worker              {r['grid_1w_s']:8.2f} s  "
                f"({r['chunks_1w']:.0f} chunks; x{r['grid_over_inproc_1w']:.3f} of in-process, "
                f"overhead {100 * (r['grid_over_inproc_1w'] - 1):+.1f}%)"
            )
            print(
                f"grid, 2 workers             {r['grid_2w_s']:8.2f} s  "
                f"({r['chunks_2w']:.0f} chunks; speed-up 1->2 workers x{r['speedup_1w_to_2w']:.2f})"
            )
            print(
                "stages (1 worker): "
                + ", ".join(
                    f"{k} {r[f'{k}_s_1w']:.2f} s"
                    for k in ("plan", "scatter", "compute", "assemble")
                )
            )
            print(
                f"per-task overhead (1 worker, measured)  {r['overhead_per_task_ms_1w']:.1f} ms; "
                f"empty task {r['noop_task_ms_1w']:.2f} ms (1w), {r['noop_task_ms_2w']:.2f} ms (2w)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
