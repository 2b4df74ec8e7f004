"""Full Greeks through the grid: the demo portfolio and 10,000 demo trades, 1 and 2 workers.

    python benchmarks/bench_greeks_grid.py [--trades 3000 10000]

The batch path of ``riskgrid batch --greeks``: one Greek plan scattered once (575 scenarios on
the demo market), each chunk valued under every bump and on the roll date, its long form written
to its own store, assembled into the cube. The cluster is started and warmed (imports, curves)
before the clock; the first run lowers every trade for the as-of and the roll date, the second
run of the same trades finds them lowered (the issue's "cluster up, trades lowered").
In-process figures and the QuantLib-engine comparison are in ``bench_greeks.py``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from grid.cluster import connect
from grid.run import run_valuation
from pricing.demo import demo_market, demo_portfolio
from pricing.kernels.engine import value


def _warm(snap: object) -> None:
    import risk  # noqa: F401

    value(demo_portfolio(60).trades, snap)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--trades", type=int, nargs="+", default=[3000, 10_000])
    args = ap.parse_args(argv)
    snap = demo_market()
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            with connect(n_workers=workers) as client:
                client.run(_warm, snap)
                for n in args.trades:
                    portfolio = demo_portfolio(n)
                    times = []
                    for attempt in ("first", "second"):
                        out = Path(tmp) / f"g-{workers}-{n}-{attempt}"
                        shutil.rmtree(out, ignore_errors=True)
                        t0 = time.perf_counter()
                        o = run_valuation(
                            client, portfolio, snap, out, greeks=True, show_progress=False
                        )
                        times.append(time.perf_counter() - t0)
                        assert o.exit_code == 0, o.manifest["status"]
                    g, t = o.manifest["greeks"], o.manifest["timings"]
                    print(
                        f"{workers} worker(s), {n:,} trades: first run {times[0]:.1f} s, "
                        f"second run {times[1]:.1f} s ({g['revaluations']:,} revaluations, "
                        f"{g['revaluations'] / times[1] / 1e6:.2f}M/s; {g['entries']:,} "
                        f"sensitivities; compute {t['compute']:.1f} s, assemble "
                        f"{t['assemble']:.1f} s)"
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
