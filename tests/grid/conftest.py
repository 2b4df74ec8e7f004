"""Fixtures of the grid tests: demo input files, the in-process reference valuation, real Dask
clusters (subprocesses, killed at teardown) and one undisturbed batch run to compare with.

Sizes: the cluster tests value :data:`N_TRADES` demo trades in chunks of :data:`CHUNK` trades
(:data:`N_CHUNKS` chunks), enough to kill a process mid-run after a chosen number of done
markers, small enough that the grid suite stays well within its time budget on two cores (a
chunk costs ~0.1-0.3 s of fixed work on a busy 2-core machine, mostly its Zarr region write).
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import xarray as xr

from grid import cli
from pricing.market import MarketSnapshot, load_snapshot
from pricing.pricer import PricingResults, price
from pricing.trades import Portfolio, load_portfolio
from risk.cube_io import open_cube
from tests.grid.cluster_procs import (
    BatchRun,
    DaskCluster,
    Processes,
    batch_argv,
    run_batch,
)

N_TRADES = 800
CHUNK = 20
N_CHUNKS = math.ceil(N_TRADES / CHUNK)


@dataclass(frozen=True)
class DemoFiles:
    """``riskgrid demo --out DIR --trades N_TRADES``: the files it wrote."""

    dir: Path
    portfolio: Path
    bad_trades: Path
    market: Path


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    """The demo portfolio (N_TRADES trades, seed 0), bad trades and market, as files."""
    d = tmp_path_factory.mktemp("demo")
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["demo", "--out", str(d), "--trades", str(N_TRADES)]) == 0
    return DemoFiles(d, d / "portfolio.json", d / "bad_trades.yaml", d / "market.yaml")


@pytest.fixture(scope="session")
def snapshot(demo_files: DemoFiles) -> MarketSnapshot:
    """The demo market, read back from its file as the batch reads it."""
    return load_snapshot(demo_files.market)


@pytest.fixture(scope="session")
def portfolio(demo_files: DemoFiles, snapshot: MarketSnapshot) -> Portfolio:
    """The demo portfolio, read back from its file as the batch reads it."""
    loaded = load_portfolio(demo_files.portfolio, asof=snapshot.asof)
    assert loaded.errors == ()
    assert len(loaded.portfolio) == N_TRADES
    return loaded.portfolio


@pytest.fixture(scope="session")
def reference(portfolio: Portfolio, snapshot: MarketSnapshot) -> PricingResults:
    """In-process ``price()`` of the demo portfolio: what every grid run must reproduce."""
    return price(portfolio, snapshot, "USD")


def _kill_all(procs: Processes) -> None:
    leftovers = procs.kill_all()
    assert not leftovers, f"processes left running: {leftovers}"


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    """This test's subprocesses; every process group is killed at teardown, pass or fail,
    and teardown fails if any process of those groups survived."""
    registry = Processes(tmp_path / "logs")
    try:
        yield registry
    finally:
        _kill_all(registry)


@pytest.fixture(scope="session")
def shared_procs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    """Subprocesses that live for the session (the shared cluster)."""
    registry = Processes(tmp_path_factory.mktemp("shared-logs"))
    try:
        yield registry
    finally:
        _kill_all(registry)


@pytest.fixture(scope="session")
def shared_cluster(
    shared_procs: Processes, tmp_path_factory: pytest.TempPathFactory
) -> DaskCluster:
    """A scheduler and two one-thread workers, for the tests that do not kill any of them."""
    cluster = DaskCluster(shared_procs, tmp_path_factory.mktemp("shared-cluster"), "shared-")
    cluster.start_scheduler()
    cluster.start_workers("w0", "w1")
    return cluster


@pytest.fixture
def idle_cluster(shared_cluster: DaskCluster) -> Iterator[DaskCluster]:
    """The shared cluster with no task left over from an earlier test; idle again afterwards
    (a killed client's tasks run to their end on the workers)."""
    shared_cluster.wait_idle()
    yield shared_cluster
    shared_cluster.wait_idle()


@dataclass(frozen=True)
class Undisturbed:
    """The uninterrupted batch run of the demo portfolio: what disturbed runs must equal."""

    run: BatchRun
    cube: xr.Dataset


@pytest.fixture(scope="session")
def undisturbed(
    shared_cluster: DaskCluster,
    shared_procs: Processes,
    demo_files: DemoFiles,
    tmp_path_factory: pytest.TempPathFactory,
) -> Undisturbed:
    """``riskgrid batch --chunk-size CHUNK`` of the demo portfolio on the shared cluster."""
    shared_cluster.wait_idle()
    out = tmp_path_factory.mktemp("undisturbed") / "run"
    argv = batch_argv(
        demo_files.portfolio,
        demo_files.market,
        out,
        shared_cluster.address,
        "--chunk-size",
        str(CHUNK),
    )
    run = run_batch(shared_procs, "undisturbed-batch", argv, out)
    assert run.code == 0, run.output
    return Undisturbed(run, open_cube(out / "cube.zarr"))
