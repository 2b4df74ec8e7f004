"""Reading and writing risk cubes: Zarr (``.zarr`` directory) and NetCDF (``.nc`` file).

Zarr stores are written as Zarr format 3 without consolidated metadata (which Zarr 3 warns is
not part of its spec). Strings are numpy ``object`` arrays, stored as variable-length UTF-8, and
come back as ``object`` arrays again: values, coords and attrs round-trip exactly.

Restartable runs fill one store from many workers::

    create_store(cube_template(attributes, **attrs), path, trades_per_chunk=500)
    write_region(chunk_cube, path, start, stop)   # each worker, whole Zarr chunks only
    cube = open_cube(path)

Two writers on parts of one Zarr chunk silently lose data, so :func:`write_region` refuses a
region that does not start and end on chunk boundaries (the store's last, short chunk excepted).

Sensitivities (the long form on the ``sensitivity`` dim) are not region-written by trade chunk:
each grid chunk writes its own small store, and the run's assembly concatenates them into the
cube store::

    write_sensitivities(long_form, OUT / "sensitivities/chunk-000042.zarr", trade_ids=ids)
    append_sensitivities(OUT / "cube.zarr", sorted(OUT.glob("sensitivities/chunk-*.zarr")))

Appending is idempotent and independent of the order of the chunk stores: the entries are
merged by (trade, class, factor, bucket, measure) and stored in canonical order
(:func:`risk.cube.sensitivity_order`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr
import zarr
from numpy.dtypes import StringDType

from risk.cube import (
    SENS_DIM,
    SENS_VARS,
    TRADE_COORDS,
    sensitivity_dataset,
    sensitivity_order,
    sensitivity_problems,
    validate_cube,
)

__all__ = [
    "ZARR_FORMAT",
    "append_sensitivities",
    "create_store",
    "open_cube",
    "read_sensitivities",
    "store_chunk_size",
    "write_cube",
    "write_region",
    "write_sensitivities",
]

#: Zarr format of every store written here.
ZARR_FORMAT: Literal[3] = 3


def _kind(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".zarr":
        return "zarr"
    if suffix in (".nc", ".nc4"):
        return "netcdf"
    raise ValueError(f"{path}: a cube is written to a .zarr directory or a .nc file")


def _chunk_encoding(ds: xr.Dataset, trades_per_chunk: int | None) -> dict[Hashable, Any]:
    if trades_per_chunk is None:
        return {}
    if trades_per_chunk < 1:
        raise ValueError(f"trades_per_chunk must be >= 1, got {trades_per_chunk}")
    return {
        name: {
            "chunks": tuple(trades_per_chunk if d == "trade" else n for d, n in var.sizes.items())
        }
        for name, var in ds.variables.items()
        if "trade" in var.dims and var.sizes["trade"] > 0
    }


def write_cube(
    ds: xr.Dataset,
    path: str | Path,
    *,
    trades_per_chunk: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Validate ``ds`` and write it to ``path`` (``.zarr`` -> Zarr v3, ``.nc`` -> NetCDF4).

    Parameters
    ----------
    ds
        A cube passing :func:`risk.cube.validate_cube`.
    path
        Destination; its suffix picks the format.
    trades_per_chunk
        Zarr chunk length along ``trade`` (default: Zarr's choice). Ignored for NetCDF.
    overwrite
        Replace an existing store/file (default: ``FileExistsError``).
    """
    validate_cube(ds)
    p = Path(path)
    kind = _kind(p)
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p} exists (pass overwrite=True to replace it)")
    ds = ds.drop_encoding()
    if kind == "zarr":
        ds.to_zarr(
            p,
            mode="w",
            zarr_format=ZARR_FORMAT,
            consolidated=False,
            encoding=_chunk_encoding(ds, trades_per_chunk),
        )
    else:
        p.parent.mkdir(parents=True, exist_ok=True)
        ds.to_netcdf(p, mode="w", engine="netcdf4", encoding=_netcdf_encoding(ds))
    return p


def _netcdf_encoding(ds: xr.Dataset) -> dict[Hashable, Any]:
    """Compressed NetCDF: zlib everywhere, strings as UTF-8 char arrays (HDF5 variable-length
    strings cost ~10x more space and do not compress)."""
    enc: dict[Hashable, Any] = {}
    for name, var in ds.variables.items():
        if var.dtype == object or var.dtype.kind == "U":
            enc[name] = {"dtype": "S1", "zlib": True, "complevel": 4}
        elif var.dtype.kind == "f":
            enc[name] = {"zlib": True, "complevel": 4}
    return enc


#: Variables of the schema that hold strings (an empty one is read back as float64).
_STRING_VARS = frozenset(("trade", "greek", "scenario", "error", *TRADE_COORDS)) | {
    k for k, kind in SENS_VARS.items() if kind == "str"
}


def _normalise(ds: xr.Dataset) -> xr.Dataset:
    """Strings back to ``object`` arrays of ``str``, numpy scalar attrs to Python, no encoding.

    xarray writes an empty ``object`` array as float64 (Zarr and NetCDF alike): the schema's
    string variables come back as empty ``object`` arrays."""
    ds = ds.drop_encoding()
    strings = {
        name: (var.dims, np.asarray(var.values, dtype=object), var.attrs)
        for name, var in ds.variables.items()
        if var.dtype.kind in "UT" or (name in _STRING_VARS and var.size == 0)
    }
    ds = ds.assign_coords({k: v for k, v in strings.items() if k in ds.coords})
    ds = ds.assign({k: v for k, v in strings.items() if k in ds.data_vars})
    ds.attrs = {k: v.item() if isinstance(v, np.generic) else v for k, v in ds.attrs.items()}
    return ds


def open_cube(path: str | Path, *, lazy: bool = False) -> xr.Dataset:
    """Read a cube written by :func:`write_cube` or filled by :func:`write_region`.

    Trade coords are always loaded into memory (groupby by book works without flox). Data are
    loaded too unless ``lazy``: pass ``lazy=True`` for cubes larger than memory (e.g. many
    trades x thousands of scenarios), which gives dask arrays chunked as stored; a lazy NetCDF
    cube keeps its file open until closed. The cube is not validated here (a partly filled
    store is readable); call :func:`risk.cube.validate_cube` as needed.
    """
    p = Path(path)
    kind = _kind(p)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such cube")
    if kind == "zarr":
        opts: dict[str, Any] = {"engine": "zarr", "consolidated": False}
    else:
        opts = {"engine": "netcdf4"}
    if lazy:
        ds = xr.open_dataset(p, chunks={}, **opts)
        coords = [c for c in ds.coords if c not in ds.indexes]
        ds = ds.assign_coords({c: ds[c].variable.load() for c in coords})
    else:
        ds = xr.load_dataset(p, **opts)
    return _normalise(ds)


def create_store(
    template: xr.Dataset, path: str | Path, *, trades_per_chunk: int, overwrite: bool = False
) -> Path:
    """Create a Zarr store from a :func:`risk.cube.cube_template` for :func:`write_region`.

    Coords and attrs are written now; the data variables only as metadata
    (``to_zarr(compute=False)`` for the floats; ``error`` is all ``""``, the store's fill
    value, so Zarr stores no chunk for it), their chunks appearing as workers write regions.
    Every variable on ``trade`` is chunked by ``trades_per_chunk`` trades.
    """
    validate_cube(template, complete=False)
    p = Path(path)
    if _kind(p) != "zarr":
        raise ValueError(f"{p}: a store for region writes must be a .zarr directory")
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p} exists (pass overwrite=True to replace it)")
    encoding = _chunk_encoding(template, trades_per_chunk)
    ds = template.drop_encoding()
    for name, var in ds.data_vars.items():
        # floats become dask arrays: metadata only. Object strings stay numpy (dask would load
        # them to choose a dtype, with a SerializationWarning) and are written at once.
        if "trade" in var.dims and var.dtype.kind == "f" and var.sizes["trade"] > 0:
            ds[name] = var.variable.chunk({"trade": trades_per_chunk})
    ds.to_zarr(
        p,
        mode="w" if overwrite else "w-",
        zarr_format=ZARR_FORMAT,
        consolidated=False,
        compute=False,
        encoding=encoding,
    )
    return p


def store_chunk_size(path: str | Path) -> int:
    """The chunk length along ``trade`` shared by every variable of a Zarr cube store."""
    with xr.open_zarr(path, consolidated=False, chunks=None) as ds:
        return _chunk_size(ds, path)


def _chunk_size(ds: xr.Dataset, path: str | Path) -> int:
    sizes = {
        str(name): var.encoding["chunks"][var.dims.index("trade")]
        for name, var in ds.variables.items()
        if "trade" in var.dims and "chunks" in var.encoding
    }
    if not sizes or len(set(sizes.values())) != 1:
        raise ValueError(f"{path}: variables on trade are not chunked alike ({sizes})")
    return int(next(iter(sizes.values())))


def _same(a: Any, b: Any) -> bool:
    return bool(np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)))


def write_region(ds_chunk: xr.Dataset, path: str | Path, start: int, stop: int) -> None:
    """Write trades ``start:stop`` of a store made by :func:`create_store`.

    ``ds_chunk`` is a cube of exactly those trades (same ids, labels and data variables as the
    store, same run attrs). Only data variables are written; coords and attrs were written
    with the template. Raises ``ValueError`` if the region is not made of whole Zarr chunks
    (the store's last, short chunk may end at the last trade) or does not match the store.
    """
    validate_cube(ds_chunk)
    p = Path(path)
    with xr.open_zarr(p, consolidated=False, chunks=None) as store:
        chunk = _chunk_size(store, p)
        n = store.sizes["trade"]
        problems: list[str] = []
        if not 0 <= start < stop <= n:
            raise ValueError(f"region {start}:{stop} is outside the store's {n} trades")
        if start % chunk or (stop % chunk and stop != n):
            raise ValueError(
                f"region {start}:{stop} is not aligned to the store's chunks of {chunk} trades "
                f"(regions must start and end on multiples of {chunk}, or end at {n}): "
                "two writers in one chunk can lose data"
            )
        if ds_chunk.sizes["trade"] != stop - start:
            raise ValueError(f"chunk has {ds_chunk.sizes['trade']} trades, region {stop - start}")
        part = store.isel(trade=slice(start, stop))
        for name in ("trade", *(c for c in store.coords if store[c].dims == ("trade",))):
            if name not in ds_chunk.coords or not _same(ds_chunk[name].values, part[name].values):
                problems.append(f"coord {name} differs from the store's trades {start}:{stop}")
        names = {str(k) for k, v in store.data_vars.items() if "trade" in v.dims}
        have = {str(k) for k, v in ds_chunk.data_vars.items() if "trade" in v.dims}
        if names != have:
            problems.append(
                f"data variables {sorted(have)} differ from the store's {sorted(names)}"
            )
        problems += _attr_conflicts(ds_chunk.attrs, store.attrs)
    if problems:
        raise ValueError(f"region {start}:{stop} of {p}: " + "; ".join(problems))
    out = ds_chunk[sorted(names)].drop_vars(list(ds_chunk[sorted(names)].coords)).drop_encoding()
    out.attrs = {}
    out.to_zarr(p, region={"trade": slice(start, stop)}, consolidated=False, mode="r+")


def _attr_conflicts(chunk: Mapping[Hashable, Any], store: Mapping[Hashable, Any]) -> list[str]:
    return [
        f"attr {k}: {chunk[k]!r} != store's {store[k]!r}"
        for k in chunk
        if k in store and not _same(chunk[k], store[k])
    ]


# ---------------------------------------------------------------------------------------------
# sensitivities: one small store per grid chunk, concatenated into the cube store


def _zarr_path(path: str | Path, what: str) -> Path:
    p = Path(path)
    if _kind(p) != "zarr":
        raise ValueError(f"{p}: {what} must be a .zarr directory")
    return p


def write_sensitivities(
    long_form: Any, path: str | Path, *, trade_ids: Sequence[str] | None = None
) -> Path:
    """Write one chunk's sensitivities to their own small Zarr store (replacing any earlier one).

    Parameters
    ----------
    long_form
        A Dataset from :func:`risk.cube.sensitivity_dataset`, or any long form it accepts.
    path
        A ``.zarr`` directory, e.g. ``OUT/sensitivities/chunk-000042.zarr``; written next to
        it first and then renamed into place, so a store at ``path`` is always whole (a chunk
        that is run again simply replaces it).
    trade_ids
        The chunk's trades in cube order (needed for a ``trade_index`` column; checks that
        every entry is on one of them).
    """
    p = _zarr_path(path, "a sensitivity store")
    ds = sensitivity_dataset(long_form, trade_ids)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    _write_coded(ds, tmp)
    if p.exists():
        shutil.rmtree(p)
    tmp.rename(p)
    return p


#: Attr of a chunk store (its layout, see :func:`_write_coded`).
_CODED = "sens_encoding"
_LABEL_COLUMNS = tuple(k for k, kind in SENS_VARS.items() if kind == "str")
_VALUE_COLUMNS = tuple(k for k, kind in SENS_VARS.items() if kind == "float")


def _write_coded(ds: xr.Dataset, path: Path) -> None:
    """A chunk store in three arrays: ``labels`` (the distinct strings of the label columns),
    ``codes`` (int32, entries x label columns, into ``labels``) and ``values`` (float64, entries
    x value columns); attrs name the columns. Labels repeat (a few classes, curves, tenors and
    measures; each trade many times): codes avoid Zarr's variable-length strings (~0.3 us each
    to write and read) and three arrays instead of seven halve the per-array cost (~5 ms) that
    dominates a chunk's store. Written with zarr directly: this is transport between a grid
    task and the run's assembly, not a cube (:func:`read_sensitivities` reads it)."""
    n = ds.sizes[SENS_DIM]
    strings = np.concatenate([np.asarray(ds[k].values, dtype=object) for k in _LABEL_COLUMNS])
    codes, labels = pd.factorize(strings)
    group = zarr.open_group(path, mode="w-", zarr_format=ZARR_FORMAT)
    group.attrs.update(
        {_CODED: "codes-v1", "labels": list(_LABEL_COLUMNS), "values": list(_VALUE_COLUMNS)}
    )
    group.create_array("labels", data=np.asarray(labels, dtype=object).astype(StringDType()))
    group.create_array("codes", data=codes.astype(np.int32).reshape(len(_LABEL_COLUMNS), n).T)
    group.create_array("values", data=np.stack([ds[k].values for k in _VALUE_COLUMNS], axis=1))


def _array(group: zarr.Group, name: str) -> zarr.Array:
    arr = group[name]
    if not isinstance(arr, zarr.Array):
        raise ValueError(f"{group.store}: {name} is not an array")
    return arr


def _read_long_form(p: Path) -> xr.Dataset:
    group = zarr.open_group(p, mode="r")
    if group.attrs.get(_CODED) != "codes-v1":  # a cube store: plain string variables
        missing = [v for v in SENS_VARS if v not in set(group.array_keys())]
        if missing:
            raise ValueError(f"{p}: no sensitivities (missing {', '.join(missing)})")
        with xr.open_zarr(p, consolidated=False, chunks=None) as store:
            return _normalise(store[list(SENS_VARS)].reset_coords(drop=True).load())
    if (group.attrs["labels"], group.attrs["values"]) != (
        list(_LABEL_COLUMNS),
        list(_VALUE_COLUMNS),
    ):
        raise ValueError(f"{p}: columns {group.attrs['labels']} {group.attrs['values']} unknown")
    labels = np.asarray(_array(group, "labels")[...], dtype=object)
    codes = np.asarray(_array(group, "codes")[...]).astype(np.intp)
    values = np.asarray(_array(group, "values")[...], dtype=np.float64)
    cols = {k: labels[codes[:, j]] for j, k in enumerate(_LABEL_COLUMNS)}
    cols |= {k: values[:, j] for j, k in enumerate(_VALUE_COLUMNS)}
    return xr.Dataset({k: ((SENS_DIM,), v) for k, v in cols.items()})


def _existing(path: str | Path) -> Path:
    p = _zarr_path(path, "a sensitivity store")
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such sensitivity store")
    return p


def read_sensitivities(path: str | Path) -> xr.Dataset:
    """The long form in a store of :func:`write_sensitivities` (or a cube's), in memory, with
    ``object`` strings; ``ValueError`` if it is not a well-formed long form."""
    p = _existing(path)
    ds = _read_long_form(p)
    ds.attrs = {}
    problems = sensitivity_problems(ds)
    if problems:
        raise ValueError(f"{p}: invalid sensitivities: " + "; ".join(problems))
    return ds


def append_sensitivities(
    cube_path: str | Path, chunk_paths: Iterable[str | Path], *, replace: bool = False
) -> int:
    """Concatenate chunk sensitivity stores into a cube store's ``sensitivity`` variables.

    The entries of ``chunk_paths`` are merged with those already in the cube (none if
    ``replace``) by (trade, class, factor, bucket, measure) and stored in canonical order
    (cube trade order, then class, factor, bucket by maturity, measure), so the result does not
    depend on the order of ``chunk_paths`` or on which chunks were appended before: appending a
    chunk twice leaves the cube as it was. An entry seen twice must carry bit-identical values
    (the grid's tasks are deterministic); otherwise ``ValueError`` and the cube is left alone.
    The cube's old entries are removed just before the new ones are written: a crash in
    between leaves a cube without sensitivities, which appending the chunks again restores.

    Parameters
    ----------
    cube_path
        The run's cube store (``.zarr``, e.g. from :func:`create_store`); its other variables,
        coords and attrs are untouched.
    chunk_paths
        Stores written by :func:`write_sensitivities`.
    replace
        Drop the cube's earlier sensitivities first: the result is then exactly the union of
        ``chunk_paths`` (what a run's final assembly wants).

    Returns
    -------
    int
        The number of entries in the cube afterwards.

    Raises
    ------
    ValueError
        On an entry naming a trade that is not in the cube or that failed, conflicting values
        for one key, or an invalid chunk store.
    """
    p = _zarr_path(cube_path, "the cube store")
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such cube store")
    with xr.open_zarr(p, consolidated=False, chunks=None) as store:
        trades = np.asarray(store["trade"].values, dtype=object)
        error = np.asarray(store["error"].values, dtype=object)
        had = [v for v in SENS_VARS if v in store.variables]
        parts = [] if replace or not had else [_read_long_form(p)]
    # each part is checked as a whole below, once merged
    parts += [_read_long_form(_existing(c)) for c in chunk_paths]
    cols = {
        name: np.concatenate(
            [np.asarray(part[name].values) for part in parts]
            or [np.empty(0, dtype=object if kind == "str" else np.float64)]
        )
        for name, kind in SENS_VARS.items()
    }
    cols = _merged(cols, sensitivity_order(cols, list(trades)))
    check = xr.Dataset(
        {**{k: ((SENS_DIM,), v) for k, v in cols.items()}, "error": (("trade",), error)},
        coords={"trade": trades},
    )
    problems = sensitivity_problems(check)
    if problems:
        raise ValueError(f"{p}: cannot append sensitivities: " + "; ".join(problems))
    # numpy StringDType: the same variable-length UTF-8 on disk as object strings, written ~2x
    # faster (xarray skips its per-element type inference), and an empty array stays a string
    ds = xr.Dataset(
        {
            k: ((SENS_DIM,), v.astype(StringDType()) if SENS_VARS[k] == "str" else v)
            for k, v in cols.items()
        }
    )
    group = zarr.open_group(p, mode="r+")
    for name in had:
        del group[name]
    # to_zarr(mode="a") replaces the group's attrs with the Dataset's: hand it the cube's own
    ds.attrs = group.attrs.asdict()
    ds.to_zarr(p, mode="a", consolidated=False, zarr_format=ZARR_FORMAT)
    return int(ds.sizes[SENS_DIM])


def _merged(cols: dict[str, Any], order: Any) -> dict[str, Any]:
    """Entries sorted by ``order`` with repeated keys (now adjacent) kept once; ValueError if
    a repeat carries other values."""
    cols = {k: v[order] for k, v in cols.items()}
    n = len(cols["sens_trade"])
    if n < 2:
        return cols
    same = np.ones(n - 1, dtype=bool)
    for name, kind in SENS_VARS.items():
        if kind == "str":
            same &= np.asarray(cols[name][1:] == cols[name][:-1], dtype=bool)
    differs = np.zeros(n - 1, dtype=bool)
    for name, kind in SENS_VARS.items():
        if kind == "float":
            bits = np.ascontiguousarray(cols[name]).view(np.uint64)
            differs |= bits[1:] != bits[:-1]
    conflict = same & differs
    if conflict.any():
        i = int(np.flatnonzero(conflict)[0]) + 1
        key = ", ".join(str(cols[k][i]) or '""' for k, kind in SENS_VARS.items() if kind == "str")
        values = [(cols["sens_value"][j], cols["sens_value_local"][j]) for j in (i - 1, i)]
        raise ValueError(
            f"{int(conflict.sum())} sensitivity entries appended twice with different values, "
            f"e.g. ({key}): {values[0]} vs {values[1]}"
        )
    keep = np.concatenate([[True], ~same])
    return {k: v[keep] for k, v in cols.items()}
