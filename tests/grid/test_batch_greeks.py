"""riskgrid batch --greeks: the cube's sensitivities equal compute_greeks in process, whatever
the chunking, and a Greek run resumes like a valuation run (only unfinished chunks recomputed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from grid.cli import main
from grid.run import _greek_plan
from pricing.demo import demo_market, demo_portfolio
from pricing.trades import write_portfolio
from risk import open_cube
from risk.cube import sensitivity_columns
from risk.greeks import compute_greeks

N = 160


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("greeks")
    write_portfolio(demo_portfolio(N, seed=5), d / "p.json")
    demo_market().save(d / "m.yaml")
    return d


def _batch(d: Path, out: str, *extra: str) -> int:
    return main(
        [
            "batch",
            "--portfolio",
            str(d / "p.json"),
            "--market",
            str(d / "m.yaml"),
            "--out",
            str(d / out),
            "--workers",
            "2",
            "--greeks",
            "--no-progress",
            *extra,
        ]
    )


def _sens(cube: xr.Dataset) -> dict[str, np.ndarray]:
    return {k: cube[k].values for k in cube.data_vars if str(k).startswith("sens_")}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_greek_runs_equal_in_process_and_resume(inputs: Path) -> None:
    assert _batch(inputs, "a", "--chunk-size", "32") == 0
    assert _batch(inputs, "b", "--chunk-size", "96") == 0
    a, b = open_cube(inputs / "a" / "cube.zarr"), open_cube(inputs / "b" / "cube.zarr")
    assert a.sizes["sensitivity"] > 0
    # partition invariance: 5 chunks vs 2 chunks give the same entries, bit for bit
    for k, v in _sens(a).items():
        assert np.array_equal(v, _sens(b)[k]), k
    # the same as the whole book in process, with the run's plan
    snap = demo_market()
    portfolio = demo_portfolio(N, seed=5)
    s = compute_greeks(portfolio.trades, snap, "USD", "vectorised", plan=_greek_plan(snap, "USD"))
    expected = sensitivity_columns(s, trade_ids=[str(t) for t in a.trade.values])
    for k, v in expected.items():
        assert np.array_equal(_sens(a)[k], v), k
    manifest = json.loads((inputs / "a" / "manifest.json").read_text())
    g = manifest["greeks"]
    assert g["entries"] == a.sizes["sensitivity"]
    assert g["revaluations"] == N * g["scenarios"] + N  # base and bumps, + theta on the roll date
    # resume: forget two finished chunks (as if the batch had died before they were marked)
    run = inputs / "a"
    for cid in (1, 3):
        (run / "chunks" / f"chunk-{cid:06d}.json").unlink()
        shutil.rmtree(run / "sensitivities" / f"chunk-{cid:06d}.zarr")
    before = {p.name: p.stat().st_mtime_ns for p in (run / "chunks").glob("chunk-*.json")}
    assert _batch(inputs, "a", "--chunk-size", "32", "--resume") == 0
    m2 = json.loads((run / "manifest.json").read_text())
    assert (m2["counts"]["chunks_reused"], m2["counts"]["chunks_computed"]) == (3, 2)
    after = {p.name: p.stat().st_mtime_ns for p in (run / "chunks").glob("chunk-*.json")}
    assert all(after[k] == v for k, v in before.items())  # untouched
    resumed = open_cube(run / "cube.zarr")
    for k, v in _sens(a).items():
        assert np.array_equal(_sens(resumed)[k], v), k
