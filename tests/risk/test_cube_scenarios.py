"""Cubes of runs under a scenario set: schema, per-scenario aggregation, store round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from risk import build_cube, create_store, cube_template, open_cube, validate_cube, write_region
from risk.cube import example_attrs

N, S = 40, 5
RNG = np.random.default_rng(11)
BOOKS = np.array([f"B{i % 4}" for i in range(N)], dtype=object)


def _attrs() -> dict[str, list[str]]:
    return {
        "trade_id": [f"T{i:03d}" for i in range(N)],
        "book": list(BOOKS),
        "desk": [f"D{int(b[1]) % 2}" for b in BOOKS],
        "product": ["IRS"] * N,
        "currency": ["USD"] * N,
        "counterparty": ["C"] * N,
    }


def _cube(errors: list[str] | None = None) -> tuple:
    # dyadic values: every float sum is exact in any order
    spv = RNG.integers(-(2**20), 2**20, size=(N, S)) / 1024.0
    rep = spv * 2.0
    err = errors or [""] * N
    cube = build_cube(
        _attrs(),
        spv[:, 0],
        rep[:, 0],
        np.full((N, 6), np.nan),
        err,
        scenarios=[f"s{i}" for i in range(S)],
        scenario_pv=spv,
        scenario_pv_reporting=rep,
        **example_attrs(),
    )
    return cube, spv, rep


def test_schema_and_per_scenario_book_sums() -> None:
    err = [""] * N
    err[3] = "market: missing quote"
    cube, _, rep = _cube(err)
    assert cube.scenario_pv.dims == ("trade", "scenario")
    by = cube.risk.by("book")["scenario_pv_reporting"]
    for b in np.unique(BOOKS):
        keep = np.equal(BOOKS, b) & np.equal(np.array(err), "")
        expected = rep[keep].sum(axis=0)
        assert np.array_equal(by.sel(book=b).values, expected)


def test_validation_of_scenario_vars() -> None:
    cube, _, _ = _cube()
    with pytest.raises(ValueError, match="scenario_pv_reporting: missing"):
        validate_cube(cube.drop_vars("scenario_pv_reporting"))
    bad = cube.assign_coords(scenario=["s0", "s0", "s2", "s3", "s4"])
    with pytest.raises(ValueError, match="non-unique scenario names"):
        validate_cube(bad)
    with pytest.raises(ValueError, match="shape"):
        build_cube(
            _attrs(),
            np.zeros(N),
            np.zeros(N),
            np.full((N, 6), np.nan),
            [""] * N,
            scenarios=["a", "b"],
            scenario_pv=np.zeros((N, 3)),
            **example_attrs(),
        )


def test_store_regions_round_trip(tmp_path: Path) -> None:
    cube, _, _ = _cube()
    names = list(cube.scenario.values)
    store = create_store(
        cube_template(_attrs(), scenarios=names, **example_attrs()),
        tmp_path / "c.zarr",
        trades_per_chunk=16,
    )
    for start in (32, 0, 16):
        stop = min(start + 16, N)
        write_region(cube.isel(trade=slice(start, stop)), store, start, stop)
    back = open_cube(store)
    assert back.identical(cube)
