"""``riskgrid batch`` when things go wrong: bad trades, the batch process killed mid-run, the
scheduler killed mid-run (disaster recovery on a fresh cluster).

Each run is a real ``riskgrid batch --scheduler ...`` subprocess against real ``dask scheduler``
and ``dask worker`` processes. Kills happen once a chosen number of done markers exists in the
run directory (polled), never after a blind sleep. Interrupted and resumed runs must end with the
same cube as the undisturbed run (``undisturbed`` fixture), which itself equals in-process
``price()`` bit for bit (test_run_cluster.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from pricing.market import MarketSnapshot
from pricing.pricer import price
from pricing.trades import load_portfolio
from risk.cube_io import open_cube
from tests.grid.cluster_procs import (
    DaskCluster,
    Processes,
    batch_argv,
    markers,
    run_batch,
    wait_for,
)
from tests.grid.conftest import CHUNK, N_CHUNKS, N_TRADES, DemoFiles, Undisturbed
from tests.grid.expected import (
    assert_cube_equals_price,
    assert_same_cube,
    counts_of,
    plan_order,
)

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

#: The defects of ``bad_trades.yaml`` (pricing/demo/portfolio.py, demo_bad_trades: "ids say
#: what is wrong"), as (trade id, field at fault). All are found by the loader but the breached
#: barrier, which loads and fails at pricing; OK-FXF-1 is listed twice in the file, and its
#: second record is the bad one (duplicate id).
BAD_RECORDS = {
    ("BAD-UNKNOWN-PRODUCT", "product"),
    ("BAD-MISSING-FIELD", "fixed_rate"),
    ("BAD-NEGATIVE-NOTIONAL", "notional"),
    ("BAD-MATURED", "maturity_date"),
    ("BAD-MALFORMED-DATE", "delivery_date"),
    ("BAD-UNKNOWN-CURRENCY", "currency"),
    ("BAD-UNKNOWN-INDEX", "index"),
    ("BAD-UNKNOWN-UNDERLYING", "underlying"),
    ("OK-FXF-1", "trade_id"),
    ("BAD-BARRIER-BREACHED", "pricing"),
}

FileState = tuple[bytes, int, int]  # content, mtime_ns, inode


def file_state(path: Path) -> FileState:
    """What would change if a file were rewritten (atomic rename gives a new inode)."""
    st = path.stat()
    return path.read_bytes(), st.st_mtime_ns, st.st_ino


def marker_states(out: Path) -> dict[int, FileState]:
    """Chunk id -> state of its done marker."""
    return {int(p.stem.split("-")[1]): file_state(p) for p in markers(out)}


def region_states(store: Path, chunk_ids: set[int]) -> dict[str, FileState]:
    """State of the Zarr chunk files of the data variables in the given chunks (Zarr chunk i
    along ``trade`` is plan chunk i: the store is chunked by the plan's chunk size)."""
    found = {}
    for var in ("pv", "pv_reporting", "model_greeks", "error"):
        root = store / var / "c"
        for f in root.rglob("*"):
            if f.is_file() and int(f.relative_to(root).parts[0]) in chunk_ids:
                found[str(f.relative_to(store))] = file_state(f)
    return found


def wait_for_markers(out: Path, k: int, batch: subprocess.Popen[bytes]) -> None:
    """Poll (10 ms) until ``k`` done markers exist or the batch process ended."""
    wait_for(lambda: len(markers(out)) >= k or batch.poll() is not None, 90, f"{k} markers", 0.01)


# -- bad trades ------------------------------------------------------------------------------------
@pytest.mark.timeout(120)
def test_bad_trades_reported_good_trades_valued(
    idle_cluster: DaskCluster,
    procs: Processes,
    demo_files: DemoFiles,
    snapshot: MarketSnapshot,
    tmp_path: Path,
) -> None:
    records = yaml.safe_load(demo_files.bad_trades.read_text())["trades"]
    good_ids = {r["trade_id"] for r in records if r["trade_id"].startswith("OK-")}
    # In-process second source: the loader's errors, then the pricer's in plan order.
    loaded = load_portfolio(demo_files.bad_trades, asof=snapshot.asof)
    priced = price(loaded.portfolio, snapshot, "USD")
    order = {t: i for i, t in enumerate(plan_order(loaded.portfolio))}
    pricing_errors = [
        r.error.to_dict()
        for r in sorted(priced.results, key=lambda r: order[r.trade_id])
        if r.error is not None
    ]

    out = tmp_path / "run"
    argv = batch_argv(demo_files.bad_trades, demo_files.market, out, idle_cluster.address)
    run = run_batch(procs, "batch", [*argv, "--chunk-size", "2"], out)
    assert run.code == 1, run.output
    m = run.manifest
    assert (m["status"], m["exit_code"]) == ("complete-with-errors", 1)
    assert {(e["trade_id"], e["field"]) for e in m["errors"]} == BAD_RECORDS
    assert len(m["errors"]) == len(BAD_RECORDS)  # one error per bad record
    assert m["errors"] == [e.to_dict() for e in loaded.errors] + pricing_errors
    for e in m["errors"]:
        assert f"  trade {e['trade_id']}: {e['field']}: {e['reason']}\n" in run.output
    assert f"{len(BAD_RECORDS)} trade error(s):" in run.output
    assert counts_of(m) == {
        "records": len(records),
        "trades": len(good_ids) + 1,  # the good ones and the breached barrier
        "load_failed": len(BAD_RECORDS) - 1,
        "valued": len(good_ids),
        "pricing_failed": 1,
        "not_run": 0,
        "chunks_done": 3,
        "chunks_reused": 0,
        "chunks_computed": 3,
        "chunks_failed": 0,
        "chunks_resubmitted": 0,
    }
    cube = open_cube(out / "cube.zarr")
    assert_cube_equals_price(cube, priced, loaded.portfolio, snapshot)
    valued = {str(t) for t, e in zip(cube.trade.values, cube.error.values, strict=True) if e == ""}
    assert valued == good_ids


# -- the batch process killed, then resumed --------------------------------------------------------
@pytest.mark.timeout(180)
def test_batch_killed_then_resumed_recomputes_only_unfinished_chunks(
    idle_cluster: DaskCluster,
    procs: Processes,
    demo_files: DemoFiles,
    undisturbed: Undisturbed,
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    argv = batch_argv(
        demo_files.portfolio,
        demo_files.market,
        out,
        idle_cluster.address,
        "--chunk-size",
        str(CHUNK),
    )
    batch = procs.start("batch", argv)
    k = N_CHUNKS // 4
    wait_for_markers(out, k, batch)
    assert batch.poll() is None, "the batch ended before it could be killed"
    procs.kill("batch")
    at_kill = marker_states(out)
    assert k <= len(at_kill) < N_CHUNKS
    assert not (out / "manifest.json").exists()  # killed: it never got to write one
    # The dead client's tasks already running on the workers run to their end and may add
    # markers: wait until the cluster is idle, then take the state the resume starts from.
    idle_cluster.wait_idle()
    before = marker_states(out)
    assert {c: before[c] for c in at_kill} == at_kill
    assert len(before) < N_CHUNKS
    regions = region_states(out / "cube.zarr", set(before))
    assert {f"pv/c/{c}" for c in before} <= set(regions)
    run_id = json.loads((out / "run.json").read_text())["run_id"]

    resumed = run_batch(procs, "resume", [*argv, "--resume"], out)
    assert resumed.code == 0, resumed.output
    m = resumed.manifest
    assert (m["status"], m["run_id"], m["resumed"]) == ("complete", run_id, True)
    n_reused = len(before)
    c = m["counts"]
    assert (c["chunks_reused"], c["chunks_computed"]) == (n_reused, N_CHUNKS - n_reused)
    assert (c["chunks_done"], c["chunks_failed"], c["valued"]) == (N_CHUNKS, 0, N_TRADES)
    reused_text = f"({n_reused} reused from the interrupted run, {N_CHUNKS - n_reused} computed"
    assert reused_text in resumed.output
    # Only the unfinished chunks were recomputed: markers and cube regions of the finished
    # ones were not rewritten (same bytes, same mtime, same inode).
    after = marker_states(out)
    assert sorted(after) == list(range(N_CHUNKS))
    assert {c: after[c] for c in before} == before
    assert region_states(out / "cube.zarr", set(before)) == regions
    assert_same_cube(open_cube(out / "cube.zarr"), undisturbed.cube)


# -- disaster recovery: the scheduler dies; resume on a fresh cluster ------------------------------
@pytest.mark.timeout(180)
def test_scheduler_lost_then_resumed_on_a_new_cluster(
    procs: Processes,
    demo_files: DemoFiles,
    undisturbed: Undisturbed,
    tmp_path: Path,
) -> None:
    old = DaskCluster(procs, tmp_path / "old", "old-")
    old.start_scheduler()
    old.start_workers("w0", "w1")
    out = tmp_path / "run"

    def argv(address: str) -> list[str]:
        return batch_argv(
            demo_files.portfolio, demo_files.market, out, address, "--chunk-size", str(CHUNK)
        )

    lost_timeout = 2.0
    env = {"DASK_RISKGRID__CLUSTER_LOST_TIMEOUT": f"{lost_timeout:g} seconds"}
    assert "DASK_RISKGRID__CLUSTER_LOST_TIMEOUT" not in os.environ
    batch = procs.start("batch", argv(old.address), env)
    wait_for_markers(out, N_CHUNKS // 4, batch)
    assert batch.poll() is None, "the batch ended before the scheduler could be killed"
    old.kill_scheduler()
    killed_at = time.monotonic()
    code = procs.wait("batch", 60)
    waited = time.monotonic() - killed_at
    output = procs.log("batch", tail=100_000)
    assert code == 3, output
    # It waited the configured 2 s for the scheduler (not the default 30 s), then gave up.
    assert lost_timeout <= waited < 20
    m = json.loads((out / "manifest.json").read_text())
    assert (m["status"], m["exit_code"]) == ("cluster-lost", 3)
    assert m["cluster"]["scheduler"] == old.address
    assert m["cluster"]["error"].startswith(
        f"scheduler {old.address} unreachable for more than 2 s"
    )
    assert m["plan"]["n_chunks"] == N_CHUNKS
    assert m["counts"]["chunks_done"] < N_CHUNKS
    assert m["counts"]["not_run"] > 0
    assert f"run {m['run_id']}: cluster-lost (exit 3)" in output
    assert f"finish it with: riskgrid batch ... --out {out} --resume" in output

    old.kill()  # the old workers go down with their site
    before = marker_states(out)
    assert m["counts"]["chunks_done"] <= len(before) < N_CHUNKS

    new = DaskCluster(procs, tmp_path / "new", "new-")
    new.start_scheduler()
    new.start_workers("w0", "w1")
    assert new.address != old.address
    resumed = run_batch(procs, "resume", [*argv(new.address), "--resume"], out)
    assert resumed.code == 0, resumed.output
    m2 = resumed.manifest
    assert (m2["status"], m2["run_id"], m2["resumed"]) == ("complete", m["run_id"], True)
    assert m2["cluster"]["scheduler"] == new.address
    c = m2["counts"]
    assert (c["chunks_reused"], c["chunks_computed"]) == (len(before), N_CHUNKS - len(before))
    assert (c["chunks_done"], c["valued"]) == (N_CHUNKS, N_TRADES)
    after = marker_states(out)
    assert {k: after[k] for k in before} == before
    assert_same_cube(open_cube(out / "cube.zarr"), undisturbed.cube)
