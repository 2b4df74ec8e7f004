"""The grid on a real Dask cluster: ``dask scheduler`` and ``dask worker --nthreads 1`` processes.

The second source of every number is in-process ``pricing.pricer.price()`` of the same trades
on the same snapshot: the grid runs that same deterministic code in worker processes, chunk by
chunk, so its cube must hold the very same bits (floats compared bitwise, error strings equal),
whatever the chunking, the number of workers, or a worker killed mid-run.
"""

from __future__ import annotations

import json
from pathlib import Path

import dask.config
import pytest

from grid.cluster import connect
from grid.run import run_valuation
from pricing.kernels.engine import value
from pricing.market import MarketSnapshot
from pricing.pricer import PricingResults, price
from pricing.trades import Portfolio
from risk.cube import validate_cube
from risk.cube_io import open_cube
from tests.grid.cluster_procs import (
    HOST,
    DaskCluster,
    Processes,
    batch_argv,
    listening_hosts,
    markers,
    run_batch,
    wait_for,
)
from tests.grid.conftest import CHUNK, N_CHUNKS, N_TRADES, DemoFiles, Undisturbed
from tests.grid.expected import (
    assert_cube_equals_price,
    assert_same_bits,
    assert_same_cube,
    counts_of,
    plan_order,
)

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def marker_pid(path: Path) -> int:
    """Pid of the worker process that wrote a done marker (its ``worker`` is ``host:pid``)."""
    return int(json.loads(path.read_text())["worker"].rsplit(":", 1)[1])


def marker_pids(out: Path) -> set[int]:
    """Pids of the worker processes that wrote the run's done markers."""
    return {marker_pid(p) for p in markers(out)}


def chunk_sizes(n_trades: int, chunk: int) -> list[int]:
    """Trades per chunk: all ``chunk`` but a shorter last one."""
    full, rest = divmod(n_trades, chunk)
    return [chunk] * full + ([rest] if rest else [])


@pytest.mark.timeout(180)
def test_cube_equals_in_process_price(
    undisturbed: Undisturbed,
    reference: PricingResults,
    portfolio: Portfolio,
    snapshot: MarketSnapshot,
    shared_cluster: DaskCluster,
    shared_procs: Processes,
) -> None:
    run, cube = undisturbed.run, undisturbed.cube
    assert run.code == 0
    assert_cube_equals_price(cube, reference, portfolio, snapshot)
    validate_cube(cube)  # complete: every trade valued has finite PVs
    m = run.manifest
    assert (m["status"], m["exit_code"], m["errors"], m["chunks_failed"]) == ("complete", 0, [], [])
    assert counts_of(m) == {
        "records": N_TRADES,
        "trades": N_TRADES,
        "load_failed": 0,
        "valued": N_TRADES,
        "pricing_failed": 0,
        "not_run": 0,
        "chunks_done": N_CHUNKS,
        "chunks_reused": 0,
        "chunks_computed": N_CHUNKS,
        "chunks_failed": 0,
        "chunks_resubmitted": 0,
    }
    assert (m["plan"]["chunk_size"], m["plan"]["n_chunks"]) == (CHUNK, N_CHUNKS)
    assert m["cluster"]["scheduler"] == shared_cluster.address
    assert [w["nthreads"] for w in m["cluster"]["workers"]] == [1, 1]
    # One done marker per chunk, each with its share of trades; written by the two workers.
    found = markers(run.out)
    assert [p.name for p in found] == [f"chunk-{i:06d}.json" for i in range(N_CHUNKS)]
    sizes = [json.loads(p.read_text())["n_trades"] for p in found]
    assert sizes == chunk_sizes(N_TRADES, CHUNK)
    workers = {shared_procs.procs[f"shared-{w}"].pid for w in ("w0", "w1")}
    assert marker_pids(run.out) == workers
    assert f"{N_TRADES:,} valued, 0 failed to price, 0 failed to load, 0 not run" in run.output
    assert f"chunks: {N_CHUNKS}/{N_CHUNKS} done" in run.output


@pytest.mark.timeout(120)
def test_error_strings_equal_in_process_price(
    idle_cluster: DaskCluster,
    procs: Processes,
    demo_files: DemoFiles,
    portfolio: Portfolio,
    snapshot: MarketSnapshot,
    tmp_path: Path,
) -> None:
    # A market without SPX vols and without the JPY curve: SPX options and JPY FX trades fail
    # with "market" errors, the others are valued.
    quotes = {
        k: v for k, v in snapshot.quotes.items() if not k.startswith(("VOL.EQ.SPX.", "IR.JPY."))
    }
    holey = MarketSnapshot(snapshot.asof, quotes, snapshot.fixings, "demo without SPX vols, JPY")
    holey_file = holey.save(tmp_path / "holey.yaml")
    expected = price(portfolio, holey, "USD")
    failed = [r for r in expected.results if r.error is not None]
    assert {r.error.reason for r in failed if r.error} == {
        "no vol quotes VOL.EQ.SPX.*",
        "no quotes for curve JPY-TONA (IR.JPY.TONA.*)",
    }
    out = tmp_path / "run"
    argv = batch_argv(demo_files.portfolio, holey_file, out, idle_cluster.address)
    run = run_batch(procs, "batch", [*argv, "--chunk-size", "100"], out)
    assert run.code == 1, run.output
    cube = open_cube(out / "cube.zarr")
    assert_cube_equals_price(cube, expected, portfolio, holey)
    m = run.manifest
    assert (m["status"], m["exit_code"]) == ("complete-with-errors", 1)
    assert m["counts"]["valued"] == N_TRADES - len(failed)
    assert m["counts"]["pricing_failed"] == len(failed)
    # Every error, in cube (plan) order, in the manifest and on stdout.
    order = {t: i for i, t in enumerate(plan_order(portfolio))}
    in_plan_order = sorted(failed, key=lambda r: order[r.trade_id])
    assert m["errors"] == [r.error.to_dict() for r in in_plan_order if r.error]
    for r in failed:
        assert r.error is not None
        assert f"  trade {r.trade_id}: {r.error.field}: {r.error.reason}\n" in run.output


@pytest.mark.timeout(60)
def test_cluster_listens_on_loopback_only(
    shared_cluster: DaskCluster, shared_procs: Processes
) -> None:
    for name in ("shared-scheduler", "shared-w0", "shared-w1"):
        assert listening_hosts(shared_procs.procs[name].pid) == {HOST}, name


@pytest.mark.timeout(180)
def test_partition_invariance(
    procs: Processes,
    tmp_path: Path,
    portfolio: Portfolio,
    snapshot: MarketSnapshot,
    reference: PricingResults,
    idle_cluster: DaskCluster,
    undisturbed: Undisturbed,
) -> None:
    """1 chunk vs many, 1 worker vs 2, Zarr write-through vs in memory: the same bits.

    The undisturbed run (2 workers, N_CHUNKS chunks written through to Zarr) is the fourth
    partition compared here.
    """
    single = DaskCluster(procs, tmp_path / "cluster")
    single.start_scheduler()
    single.start_workers("w0")
    runs, vectorised = {}, {}
    with dask.config.set({"riskgrid.progress": False}):
        with connect(single.address) as client:
            for name, chunk in (("1 worker, 1 chunk", N_TRADES), ("1 worker, 8 chunks", 100)):
                runs[name] = run_valuation(
                    client,
                    portfolio,
                    snapshot,
                    tmp_path / name,
                    chunk_size=chunk,
                    engine="quantlib",
                )
                vectorised[name] = run_valuation(
                    client, portfolio, snapshot, None, chunk_size=chunk, engine="vectorised"
                )
        with connect(idle_cluster.address) as client:
            # in memory (no run directory), in chunks that do not divide the trades evenly
            runs["2 workers, in memory"] = run_valuation(
                client, portfolio, snapshot, None, chunk_size=64, engine="quantlib"
            )
            vectorised["2 workers, in memory"] = run_valuation(
                client, portfolio, snapshot, None, chunk_size=64, engine="vectorised"
            )
    n_chunks = {"1 worker, 1 chunk": 1, "1 worker, 8 chunks": 8, "2 workers, in memory": 13}
    assert undisturbed.run.manifest["plan"]["n_chunks"] == N_CHUNKS
    for name, outcome in runs.items():
        assert outcome.exit_code == 0, name
        m = outcome.manifest
        assert m["plan"]["n_chunks"] == n_chunks[name], name  # 13 = 12 x 64 + 32
        assert len(m["cluster"]["workers"]) == (1 if name.startswith("1 worker") else 2), name
        assert outcome.cube is not None
        assert_cube_equals_price(outcome.cube, reference, portfolio, snapshot)
        assert_same_cube(outcome.cube, undisturbed.cube)
    # the vectorised engine (lowering caches, scenario markets, kernels over stacked trades) is
    # partition invariant too: the same bits as the engine run on the whole book in process
    whole = value(portfolio.trades, snapshot, engine="vectorised")
    row = {t: i for i, t in enumerate(whole.trade_ids)}
    for name, outcome in vectorised.items():
        assert outcome.exit_code == 0, name
        assert outcome.cube is not None
        rows = [row[str(t)] for t in outcome.cube.trade.values]
        assert_same_bits(outcome.cube.pv.values, whole.pv[rows, 0], f"vectorised pv, {name}")
        assert_same_bits(
            outcome.cube.pv_reporting.values,
            whole.pv_reporting[rows, 0],
            f"vectorised pv_reporting, {name}",
        )
    assert marker_pids(tmp_path / "1 worker, 8 chunks") == {procs.procs["w0"].pid}


@pytest.mark.timeout(180)
def test_worker_killed_mid_run(
    procs: Processes,
    tmp_path: Path,
    demo_files: DemoFiles,
    undisturbed: Undisturbed,
) -> None:
    cluster = DaskCluster(procs, tmp_path / "cluster")
    cluster.start_scheduler()
    cluster.start_workers("w0", "w1")
    out = tmp_path / "run"
    argv = batch_argv(
        demo_files.portfolio, demo_files.market, out, cluster.address, "--chunk-size", str(CHUNK)
    )
    batch = procs.start("batch", argv)
    wait_for(lambda: markers(out) or batch.poll() is not None, 90, "the first done marker", 0.01)
    assert batch.poll() is None, "the run ended before a worker could be killed"
    cluster.kill_worker("w1")
    at_kill = {p.name for p in markers(out)}
    assert 1 <= len(at_kill) < N_CHUNKS
    assert procs.procs["w1"].returncode == -9  # SIGKILL, no nanny to bring it back

    code = procs.wait("batch", 150)
    output = procs.log("batch", tail=100_000)
    assert code == 0, output
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["status"], manifest["exit_code"]) == ("complete", 0)
    assert manifest["counts"]["chunks_done"] == N_CHUNKS
    assert manifest["counts"]["chunks_computed"] == N_CHUNKS
    assert manifest["counts"]["valued"] == N_TRADES
    assert len(manifest["cluster"]["workers"]) == 2  # as the run started
    # Every chunk not done at the kill was computed by the surviving worker.
    survivor = procs.procs["w0"].pid
    after = [p for p in markers(out) if p.name not in at_kill]
    assert len(after) == N_CHUNKS - len(at_kill)
    assert {marker_pid(p) for p in after} == {survivor}
    assert_same_cube(open_cube(out / "cube.zarr"), undisturbed.cube)
