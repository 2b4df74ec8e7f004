"""Cube I/O: exact Zarr and NetCDF round trips, restartable region writes into a template store.

"Exact" means ``Dataset.identical`` (values, coords, attrs, names) plus bit-identical float
bytes (``identical`` treats NaN == NaN, bytes also pin NaN payloads and signed zeros), object
dtype for every string array, and Python ``int``/``str`` attr types.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

import risk
from risk import (
    TRADE_COORDS,
    create_store,
    cube_template,
    open_cube,
    store_chunk_size,
    validate_cube,
    write_cube,
    write_region,
)
from risk.cube_io import ZARR_FORMAT
from tests.risk.cube_data import RawCube, random_raw

# Zarr, numcodecs and xarray warnings (e.g. Zarr v3 on fixed-width unicode, consolidated
# metadata) are errors here, not only the project's own.
pytestmark = pytest.mark.filterwarnings("error")

N, CHUNK = 100, 16  # 6 whole chunks of 16 trades and a short last chunk of 4


@pytest.fixture(scope="module")
def raw() -> RawCube:
    return random_raw(n=N)


@pytest.fixture(scope="module")
def cube(raw: RawCube) -> xr.Dataset:
    return raw.build()


def assert_exact(got: xr.Dataset, want: xr.Dataset) -> None:
    assert got.identical(want)
    for name, var in want.variables.items():
        if var.dtype.kind == "f":
            assert got[name].values.tobytes() == var.values.tobytes(), name
        else:
            assert got[name].dtype == var.dtype, name
    for name in ("trade", *TRADE_COORDS):
        v = got[name].variable
        assert v.chunks is None, name
        assert v._in_memory, name
    assert {k: type(v) for k, v in got.attrs.items()} == {k: type(v) for k, v in want.attrs.items()}


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_round_trip_is_exact(cube: xr.Dataset, tmp_path: Path, suffix: str) -> None:
    path = write_cube(cube, tmp_path / f"cube{suffix}")
    got = open_cube(path)
    assert_exact(got, cube)
    validate_cube(got)
    # labels with non-ASCII characters and the empty error strings came back as str
    assert "EQ-€XOTIC ✓" in set(got["book"].values)
    assert (got["error"].values == "").sum() == (cube["error"].values == "").sum() > 0
    # PITFALLS 15: the trade coords are in memory, so plain xarray groupby works without flox
    assert got.groupby("book").sum()["pv"].sizes["book"] == len(set(cube["book"].values))
    assert got.risk.by("book").identical(cube.risk.by("book"))
    assert got.risk.summary().equals(cube.risk.summary())


def test_zarr_store_is_format_3_with_variable_length_strings(
    cube: xr.Dataset, tmp_path: Path
) -> None:
    path = write_cube(cube, tmp_path / "cube.zarr")
    group = zarr.open_group(path, mode="r")
    assert group.metadata.zarr_format == ZARR_FORMAT == 3
    for name in ("trade", "book", "error"):
        arr = group[name]
        assert isinstance(arr, zarr.Array)
        assert arr.dtype.kind == "T", name  # variable-length, never fixed-width <U


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_lazy_open_keeps_coords_in_memory(cube: xr.Dataset, tmp_path: Path, suffix: str) -> None:
    path = write_cube(cube, tmp_path / f"c{suffix}", trades_per_chunk=CHUNK)
    got = open_cube(path, lazy=True)
    assert got["pv"].chunks is not None
    validate_cube(got)  # includes "trade coords in memory"
    assert got.risk.by("desk").identical(cube.risk.by("desk"))
    got.close()


def test_per_book_cube_write_and_read(cube: xr.Dataset, tmp_path: Path) -> None:
    book = cube.risk.book("FX-OPT")
    for suffix in (".zarr", ".nc"):
        got = open_cube(write_cube(book, tmp_path / f"fx-opt{suffix}"))
        assert_exact(got, book)
        assert set(got["book"].values) == {"FX-OPT"}


def test_write_refuses_existing_paths_bad_suffixes_and_invalid_cubes(
    cube: xr.Dataset, tmp_path: Path
) -> None:
    path = write_cube(cube, tmp_path / "c.zarr")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_cube(cube, path)
    small = cube.isel(trade=slice(0, 3))
    assert_exact(open_cube(write_cube(small, path, overwrite=True)), small)
    with pytest.raises(ValueError, match=r"\.zarr directory or a \.nc file"):
        write_cube(cube, tmp_path / "c.parquet")
    with pytest.raises(ValueError, match="attr run_id: missing"):
        write_cube(cube.drop_attrs(), tmp_path / "bad.nc")
    assert not (tmp_path / "bad.nc").exists()
    with pytest.raises(FileNotFoundError):
        open_cube(tmp_path / "missing.zarr")


# --- restartable region writes ---------------------------------------------------------------


def regions(n: int, chunk: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Whole-chunk regions of 1-2 chunks each, covering 0:n, in random order."""
    bounds, start = [], 0
    while start < n:
        stop = min(n, start + chunk * int(rng.integers(1, 3)))
        bounds.append((start, stop))
        start = stop
    return [bounds[i] for i in rng.permutation(len(bounds))]


@pytest.fixture
def store(raw: RawCube, tmp_path: Path) -> Path:
    return create_store(
        cube_template(raw.attributes, **raw.attrs), tmp_path / "run.zarr", trades_per_chunk=CHUNK
    )


def test_template_store_holds_labels_but_no_data(raw: RawCube, store: Path) -> None:
    assert store_chunk_size(store) == CHUNK
    group = zarr.open_group(store, mode="r")
    # to_zarr(compute=False): metadata only, no data chunk yet (PITFALLS 18)
    for name in ("pv", "pv_reporting", "model_greeks", "error"):
        arr = group[name]
        assert isinstance(arr, zarr.Array)
        assert arr.nchunks_initialized == 0, name
        assert arr.chunks[0] == CHUNK
    got = open_cube(store)
    assert list(got["trade"].values) == raw.attributes["trade_id"]
    assert list(got["desk"].values) == raw.attributes["desk"]
    assert got.attrs == {"schema_version": 1, **raw.attrs}
    assert np.isnan(got["pv"].values).all()
    assert set(got["error"].values) == {""}
    with pytest.raises(FileExistsError):
        create_store(cube_template(raw.attributes, **raw.attrs), store, trades_per_chunk=CHUNK)


@pytest.mark.parametrize("seed", [2025])
def test_regions_in_random_order_equal_the_cube_built_at_once(
    raw: RawCube, cube: xr.Dataset, store: Path, seed: int
) -> None:
    todo = regions(N, CHUNK, np.random.default_rng(seed))
    assert max(todo)[1] == N  # the short last chunk is among them
    for i, (start, stop) in enumerate(todo):
        # each worker builds its own small cube from its slice of the inputs
        write_region(raw.slice(start, stop).build(), store, start, stop)
        if i == 0:
            partial = open_cube(store)
            validate_cube(partial, complete=False)
            with pytest.raises(ValueError, match="valued trade"):
                validate_cube(partial)  # unwritten trades: not complete yet
    got = open_cube(store)
    assert_exact(got, cube)
    validate_cube(got)


def test_rewriting_a_region_replaces_it(raw: RawCube, cube: xr.Dataset, store: Path) -> None:
    # A restarted task writes its region again, possibly after a different first try.
    other = random_raw(seed=99, n=N, failed_fraction=0.5).slice(0, CHUNK)
    other.attributes = raw.slice(0, CHUNK).attributes
    write_region(other.build(), store, 0, CHUNK)
    for start, stop in [(0, CHUNK), (CHUNK, N)]:
        write_region(raw.slice(start, stop).build(), store, start, stop)
    assert_exact(open_cube(store), cube)


@pytest.fixture(scope="module")
def untouched_store(raw: RawCube, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template store that every write below must leave unwritten."""
    path = tmp_path_factory.mktemp("store") / "run.zarr"
    return create_store(cube_template(raw.attributes, **raw.attrs), path, trades_per_chunk=CHUNK)


def test_misaligned_regions_are_refused(raw: RawCube, untouched_store: Path) -> None:
    # (96, 100) is the short last chunk and would be accepted; these all cut a chunk
    for start, stop in [(8, 24), (0, 20), (16, 40), (96, 99), (90, 100)]:
        with pytest.raises(ValueError, match="not aligned to the store's chunks of 16 trades"):
            write_region(raw.slice(start, stop).build(), untouched_store, start, stop)
    assert np.isnan(open_cube(untouched_store)["pv"].values).all()  # nothing was written


def test_regions_that_do_not_match_the_store_are_refused(
    raw: RawCube, cube: xr.Dataset, untouched_store: Path
) -> None:
    store = untouched_store
    with pytest.raises(ValueError, match="outside the store's 100 trades"):
        write_region(raw.slice(96, 100).build(), store, 96, 112)
    with pytest.raises(ValueError, match="chunk has 16 trades, region 32"):
        write_region(raw.slice(0, 16).build(), store, 0, 32)
    with pytest.raises(ValueError, match="coord trade differs"):
        write_region(raw.slice(16, 32).build(), store, 0, 16)
    relabelled = raw.slice(0, 16)
    relabelled.attributes["counterparty"] = ["ACME"] * 16
    with pytest.raises(ValueError, match="coord counterparty differs"):
        write_region(relabelled.build(), store, 0, 16)
    with pytest.raises(ValueError, match="attr run_id: 'run-43' != store's 'run-42'"):
        write_region(cube.isel(trade=slice(0, 16)).assign_attrs(run_id="run-43"), store, 0, 16)
    extra = cube.isel(trade=slice(0, 16)).assign(pnl_reporting=("trade", np.zeros(16)))
    with pytest.raises(ValueError, match=r"data variables .* differ from the store's"):
        write_region(extra, store, 0, 16)
    assert np.isnan(open_cube(store)["pv"].values).all()


def test_public_api_is_exported() -> None:
    for name in risk.__all__:
        assert hasattr(risk, name), name
