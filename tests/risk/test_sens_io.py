"""Sensitivities on disk: exact Zarr/NetCDF round trips of cubes with a long form, one small
store per grid chunk, and their assembly into the cube store (idempotent, order-independent).

"Exact" as in :mod:`tests.risk.test_cube_io`: ``Dataset.identical`` plus bit-identical float
bytes and ``object`` dtype for every string array. The random long forms come from
:mod:`tests.risk.test_sensitivities` (built there from seeded dyadic numbers, not by
:mod:`risk.greeks`).
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from risk import (
    SENS_VARS,
    append_sensitivities,
    create_store,
    cube_template,
    open_cube,
    read_sensitivities,
    validate_cube,
    write_cube,
    write_region,
    write_sensitivities,
)
from tests.risk.cube_data import RawCube, random_raw
from tests.risk.test_cube_io import assert_exact
from tests.risk.test_sensitivities import RawSens, build, random_sens

pytestmark = pytest.mark.filterwarnings("error")

N, CHUNK = 100, 16  # six whole chunks and a short last one of 4 trades


@pytest.fixture(scope="module")
def raw() -> RawCube:
    return random_raw(seed=77, n=N)


@pytest.fixture(scope="module")
def sens(raw: RawCube) -> RawSens:
    return random_sens(raw, seed=8)


@pytest.fixture(scope="module")
def cube(raw: RawCube, sens: RawSens) -> xr.Dataset:
    return build(raw, sens)


def assert_same_sens(got: xr.Dataset, want: xr.Dataset) -> None:
    for name, kind in SENS_VARS.items():
        assert got[name].dims == want[name].dims, name
        if kind == "str":
            assert got[name].dtype == object, name
            assert got[name].values.tolist() == want[name].values.tolist(), name
        else:
            assert got[name].values.tobytes() == want[name].values.tobytes(), name


# --- whole cubes -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_round_trip_is_exact(cube: xr.Dataset, tmp_path: Path, suffix: str) -> None:
    got = open_cube(write_cube(cube, tmp_path / f"cube{suffix}"))
    assert_exact(got, cube)
    validate_cube(got)
    assert "Société_Générale" in set(got["sens_factor"].values)
    assert got.risk.ladder("IR").identical(cube.risk.ladder("IR"))
    assert got.risk.sensitivities().equals(cube.risk.sensitivities())


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_empty_long_form_round_trips_as_strings(
    raw: RawCube, sens: RawSens, tmp_path: Path, suffix: str
) -> None:
    # xarray writes an empty object array as float64; open_cube restores the schema's strings
    cube = build(raw, sens.subset(lambda i: False))
    got = open_cube(write_cube(cube, tmp_path / f"empty{suffix}"))
    assert_exact(got, cube)
    validate_cube(got)
    assert got.risk.ladder("FX").sizes == {"book": len(set(raw.attributes["book"])), "factor": 0}


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_lazy_open(cube: xr.Dataset, tmp_path: Path, suffix: str) -> None:
    got = open_cube(write_cube(cube, tmp_path / f"c{suffix}", trades_per_chunk=CHUNK), lazy=True)
    assert got["sens_value"].chunks is not None
    validate_cube(got)
    assert got.risk.ladder("VOL", "vega", by="desk").identical(
        cube.risk.ladder("VOL", "vega", by="desk")
    )
    got.close()


def test_a_books_cube_written_alone_keeps_its_entries(cube: xr.Dataset, tmp_path: Path) -> None:
    book = cube.risk.book("FX-OPT")
    got = open_cube(write_cube(book, tmp_path / "fx-opt.zarr"))
    assert_exact(got, book)
    assert set(got["sens_trade"].values) <= set(got["trade"].values)


# --- chunk stores and their assembly -----------------------------------------------------------


def chunk_bounds(n: int = N, chunk: int = CHUNK) -> list[tuple[int, int]]:
    return [(s, min(n, s + chunk)) for s in range(0, n, chunk)]


def write_chunk(raw: RawCube, sens: RawSens, store: Path, start: int, stop: int) -> Path:
    """What one grid task does: its region of the cube, then its own sensitivity store, the
    entries numbered by trade within the chunk (as risk.greeks.reduce gives them)."""
    write_region(raw.slice(start, stop).build(), store, start, stop)
    part = sens.subset(lambda i: start <= sens.trade_index[i] < stop)
    m = part.mapping("index")
    m["trade_index"] = m["trade_index"] - start
    path = store.parent / "sensitivities" / f"chunk-{start // CHUNK:06d}.zarr"
    return write_sensitivities(m, path, trade_ids=raw.attributes["trade_id"][start:stop])


@pytest.fixture(scope="module")
def pristine_run(
    raw: RawCube, sens: RawSens, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[Path]]:
    """A filled cube store and its chunk stores (written in a shuffled order)."""
    root = tmp_path_factory.mktemp("run")
    store = create_store(
        cube_template(raw.attributes, **raw.attrs), root / "run.zarr", trades_per_chunk=CHUNK
    )
    bounds = chunk_bounds()
    order = np.random.default_rng(1).permutation(len(bounds))
    paths = {int(k): write_chunk(raw, sens, store, *bounds[int(k)]) for k in order}
    return store, [paths[k] for k in range(len(bounds))]


@pytest.fixture
def run(pristine_run: tuple[Path, list[Path]], tmp_path: Path) -> tuple[Path, list[Path]]:
    """A fresh copy of the run directory for each test (each may append to it)."""
    store, chunks = pristine_run
    copy = tmp_path / "run"
    shutil.copytree(store.parent, copy)
    return copy / store.name, [copy / c.relative_to(store.parent) for c in chunks]


def test_chunks_assembled_equal_the_cube_built_at_once(
    cube: xr.Dataset, run: tuple[Path, list[Path]]
) -> None:
    store, chunks = run
    assert append_sensitivities(store, chunks[::-1]) == cube.sizes["sensitivity"]
    got = open_cube(store)
    assert_exact(got, cube)
    validate_cube(got)


def test_assembly_does_not_depend_on_chunk_order_or_batches(
    cube: xr.Dataset, run: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    store, chunks = run
    rng = np.random.default_rng(5)
    # chunks in random order, in batches that overlap, the last one appended twice
    shuffled = [chunks[int(i)] for i in rng.permutation(len(chunks))]
    for batch in (shuffled[:3], shuffled[2:5], shuffled[4:], shuffled[-1:]):
        append_sensitivities(store, batch)
    assert_exact(open_cube(store), cube)
    # and the whole set again, twice, changes nothing: appending is idempotent
    append_sensitivities(store, chunks)
    assert append_sensitivities(store, chunks) == cube.sizes["sensitivity"]
    assert_exact(open_cube(store), cube)


def test_partial_assembly_holds_the_chunks_so_far(
    raw: RawCube, sens: RawSens, run: tuple[Path, list[Path]]
) -> None:
    store, chunks = run
    append_sensitivities(store, [chunks[2], chunks[0]])
    got = open_cube(store)
    done = set(raw.attributes["trade_id"][0:16]) | set(raw.attributes["trade_id"][32:48])
    assert sorted(got.risk.sensitivities()["trade"].unique()) == sorted(done & set(sens.trade))
    validate_cube(got)


def test_replace_drops_earlier_entries(
    cube: xr.Dataset, raw: RawCube, sens: RawSens, run: tuple[Path, list[Path]]
) -> None:
    store, chunks = run
    append_sensitivities(store, chunks)
    assert append_sensitivities(store, chunks[:1], replace=True) == sum(
        0 <= i < CHUNK for i in sens.trade_index
    )
    append_sensitivities(store, chunks, replace=True)
    assert_exact(open_cube(store), cube)


def test_assembly_leaves_the_rest_of_the_store_alone(
    raw: RawCube, cube: xr.Dataset, run: tuple[Path, list[Path]]
) -> None:
    store, chunks = run
    group = zarr.open_group(store, mode="r")
    attrs = group.attrs.asdict()
    pv = np.asarray(zarr.open_array(store / "pv")[:])
    append_sensitivities(store, chunks)
    assert zarr.open_group(store, mode="r").attrs.asdict() == attrs
    assert np.asarray(zarr.open_array(store / "pv")[:]).tobytes() == pv.tobytes()
    # a resumed run may still rewrite a region afterwards
    write_region(raw.slice(0, CHUNK).build(), store, 0, CHUNK)
    assert_exact(open_cube(store), cube)


def test_conflicting_repeat_is_refused_and_the_cube_kept(
    raw: RawCube, sens: RawSens, run: tuple[Path, list[Path]]
) -> None:
    store, chunks = run
    append_sensitivities(store, chunks)
    before = open_cube(store)
    changed = sens.subset(lambda i: sens.trade_index[i] < CHUNK)
    changed.value[0] += 2.0**-10  # the same key, another number (a non-deterministic task)
    m = changed.mapping()
    other = write_sensitivities(m, store.parent / "other.zarr")
    with pytest.raises(ValueError, match="1 sensitivity entries appended twice with different"):
        append_sensitivities(store, [other])
    assert open_cube(store).identical(before)


def test_entries_must_belong_to_valued_trades_of_the_cube(
    raw: RawCube, sens: RawSens, run: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    store, _ = run
    stray = sens.subset(lambda i: i == 0)
    stray.trade = ["T99999"]
    path = write_sensitivities(stray.mapping(), tmp_path / "stray.zarr")
    with pytest.raises(ValueError, match=r"entries on trades not in the cube, e\.g\. T99999"):
        append_sensitivities(store, [path])
    failed = str(np.array(raw.attributes["trade_id"])[~raw.valued][0])
    stray.trade = [failed]
    path = write_sensitivities(stray.mapping(), tmp_path / "stray.zarr")
    with pytest.raises(ValueError, match="on failed trades"):
        append_sensitivities(store, [path])
    assert "sens_trade" not in open_cube(store)


def test_empty_chunks_and_no_chunks(raw: RawCube, run: tuple[Path, list[Path]]) -> None:
    store, _ = run
    empty = write_sensitivities(
        {k: [] for k in ("trade", "cls", "factor", "bucket", "measure", "value", "value_local")},
        store.parent / "empty.zarr",
    )
    assert read_sensitivities(empty).sizes["sensitivity"] == 0
    assert append_sensitivities(store, [empty]) == 0
    got = open_cube(store)
    assert got.sizes["sensitivity"] == 0
    validate_cube(got)
    assert append_sensitivities(store, []) == 0


# --- the chunk store itself --------------------------------------------------------------------


def test_chunk_store_round_trip(raw: RawCube, sens: RawSens, tmp_path: Path) -> None:
    part = sens.subset(lambda i: sens.trade_index[i] < 40)
    path = write_sensitivities(part.mapping(), tmp_path / "out" / "chunk-000000.zarr")
    got = read_sensitivities(path)
    assert set(got.variables) == set(SENS_VARS)
    assert got.attrs == {}
    assert sorted(zip(*(got[n].values.tolist() for n in SENS_VARS), strict=True)) == sorted(
        part.rows()
    )
    assert zarr.open_group(path, mode="r").metadata.zarr_format == 3


def test_rewriting_a_chunk_store_replaces_it_whole(
    raw: RawCube, sens: RawSens, tmp_path: Path
) -> None:
    path = tmp_path / "chunk-000003.zarr"
    first = sens.subset(lambda i: sens.trade_index[i] < 40)
    second = sens.subset(lambda i: sens.trade_index[i] < 10)
    write_sensitivities(first.mapping(), path)
    write_sensitivities(second.mapping(), path)  # the task ran again (e.g. after a crash)
    got = read_sensitivities(path)
    assert got.sizes["sensitivity"] == len(second) < len(first)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunk-000003.zarr"]  # no temp left


def test_chunk_store_refusals(raw: RawCube, sens: RawSens, tmp_path: Path) -> None:
    part = sens.subset(lambda i: sens.trade_index[i] < 16)
    with pytest.raises(ValueError, match=r"must be a \.zarr directory"):
        write_sensitivities(part.mapping(), tmp_path / "chunk.nc")
    with pytest.raises(ValueError, match="entries on trades not in the cube"):
        write_sensitivities(
            part.mapping(), tmp_path / "c.zarr", trade_ids=raw.attributes["trade_id"][16:32]
        )
    bad = part.mapping()
    bad["cls"] = ["RATES"] * len(part)
    with pytest.raises(ValueError, match="sens_class: not one of"):
        write_sensitivities(bad, tmp_path / "c.zarr")
    assert not (tmp_path / "c.zarr").exists()
    with pytest.raises(FileNotFoundError):
        read_sensitivities(tmp_path / "missing.zarr")
    plain = write_cube(build(raw, None), tmp_path / "plain.zarr")
    with pytest.raises(ValueError, match="no sensitivities"):
        read_sensitivities(plain)
    with pytest.raises(ValueError, match=r"must be a \.zarr directory"):
        append_sensitivities(tmp_path / "cube.nc", [])
    with pytest.raises(FileNotFoundError):
        append_sensitivities(tmp_path / "none.zarr", [])
    with pytest.raises(FileNotFoundError, match="no such sensitivity store"):
        append_sensitivities(plain, [tmp_path / "chunk-never-written.zarr"])
    assert "sens_trade" not in open_cube(plain)


@pytest.mark.parametrize("n_chunks", [1, 3, 7])
def test_any_chunking_gives_the_same_cube(
    raw: RawCube, sens: RawSens, cube: xr.Dataset, tmp_path: Path, n_chunks: int
) -> None:
    # the same trades cut in 1, 3 or 7 contiguous chunks (not store-aligned: only sensitivity
    # stores here) assemble to the same long form
    store = write_cube(build(raw, None), tmp_path / "cube.zarr")
    cuts = [round(N * k / n_chunks) for k in range(n_chunks + 1)]
    paths = []
    for k, (start, stop) in enumerate(itertools.pairwise(cuts)):
        part = sens.subset(lambda i, a=start, b=stop: a <= sens.trade_index[i] < b)
        paths.append(write_sensitivities(part.mapping(), tmp_path / f"s-{k}.zarr"))
    append_sensitivities(store, paths)
    assert_same_sens(open_cube(store), cube)
