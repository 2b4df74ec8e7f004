"""The risk cube: one xarray Dataset per run holding every trade's valuation.

Schema (version 1)
------------------
dims
    ``trade`` (one per valued trade) and ``greek`` (:data:`GREEKS`, in that order).
coords
    ``trade`` (index, trade ids) and, on ``trade``, the labels :data:`TRADE_COORDS` (``book``,
    ``desk``, ``product``, ``currency``, ``counterparty``) as in-memory numpy string arrays, so
    ``groupby("book")`` works on a cube read back from disk without flox.
data variables
    ``pv`` (trade) PV in the trade's currency; ``pv_reporting`` (trade) PV in the reporting
    currency; ``model_greeks`` (trade, greek), NaN where the product has no such Greek;
    ``error`` (trade) ``""`` when the trade was valued, else ``"field: reason"``.
attrs
    ``schema_version`` (int, :data:`SCHEMA_VERSION`) and the strings :data:`STR_ATTRS`.
scenarios (optional)
    A run under a scenario set adds the dim and index coord ``scenario`` (scenario names; the
    first is the base) and ``scenario_pv`` / ``scenario_pv_reporting`` (trade, scenario): the PV
    in every scenario, in trade and reporting currency (converted at each scenario's FX spot).

Variables whose name ends in ``_reporting`` are in the reporting currency and are summed by
``cube.risk.by(level)``; they may carry extra dims (a later ``scenario`` dim of P&L vectors is
summed over trades and kept). Failed trades (``error != ""``) are left out of every sum.

String arrays are held as numpy ``object`` arrays of ``str`` (never fixed-width ``<U``), which
Zarr v3 stores as variable-length UTF-8 without warnings and which round-trip exactly.

>>> import numpy as np
>>> attrs = {"trade_id": ["T1", "T2"], "book": ["B1", "B1"], "desk": ["D", "D"],
...          "product": ["IRS", "IRS"], "currency": ["USD", "EUR"], "counterparty": ["C", "C"]}
>>> cube = build_cube(attrs, [1.0, 2.0], [1.0, 2.2], np.full((2, 6), np.nan), ["", ""],
...                   **example_attrs())
>>> cube.sizes["trade"], list(cube.greek.values)[:2], cube.attrs["schema_version"]
(2, ['delta', 'gamma'], 1)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DATA_VARS",
    "GREEKS",
    "LEVELS",
    "SCENARIO_VARS",
    "SCHEMA_VERSION",
    "STR_ATTRS",
    "TRADE_COORDS",
    "build_cube",
    "cube_template",
    "example_attrs",
    "greek_array",
    "str_array",
    "validate_cube",
]

#: Version of the layout described in this module's docstring.
SCHEMA_VERSION = 1
#: Model Greek names, in the order of the ``greek`` dim (see ``pricing.products.base.Valuation``).
GREEKS: tuple[str, ...] = ("delta", "gamma", "vega", "theta", "rho", "dividend_rho")
#: Labels of each trade, held as non-dimension coords on ``trade``.
TRADE_COORDS: tuple[str, ...] = ("book", "desk", "product", "currency", "counterparty")
#: Required data variables and their dims.
DATA_VARS: dict[str, tuple[str, ...]] = {
    "pv": ("trade",),
    "pv_reporting": ("trade",),
    "model_greeks": ("trade", "greek"),
    "error": ("trade",),
}
#: Optional data variables of runs under a scenario set, and their dims.
SCENARIO_VARS: dict[str, tuple[str, ...]] = {
    "scenario_pv": ("trade", "scenario"),
    "scenario_pv_reporting": ("trade", "scenario"),
}
#: Required string attrs (besides the int ``schema_version``).
STR_ATTRS: tuple[str, ...] = (
    "run_id",
    "asof",
    "reporting_currency",
    "engine",
    "portfolio_hash",
    "snapshot_hash",
    "config_hash",
    "code_version",
)
#: Aggregation levels of ``cube.risk.by``: the firm, then the trade labels.
LEVELS: tuple[str, ...] = ("firm", *TRADE_COORDS)

_ATTRIBUTE_KEYS: tuple[str, ...] = ("trade_id", *TRADE_COORDS)


def example_attrs(**overrides: str) -> dict[str, str]:
    """A complete set of run attrs with placeholder values (examples and tests).

    >>> example_attrs(run_id="r1")["run_id"]
    'r1'
    """
    base = {
        "run_id": "example",
        "asof": "2025-11-28",
        "reporting_currency": "USD",
        "engine": "quantlib",
        "portfolio_hash": "0" * 64,
        "snapshot_hash": "0" * 64,
        "config_hash": "0" * 64,
        "code_version": "0.0.0",
    }
    base.update(overrides)
    return base


def str_array(values: Iterable[Any], name: str = "values") -> NDArray[np.object_]:
    """A 1-d numpy ``object`` array of ``str``; ``ValueError`` if an element is not a str.

    >>> str_array(["a", "b"]).dtype
    dtype('O')
    """
    arr = np.empty(len(vals := list(values)), dtype=object)
    arr[:] = vals
    bad = [i for i, v in enumerate(vals) if not isinstance(v, str)]
    if bad:
        raise ValueError(f"{name}: element {bad[0]} is {type(vals[bad[0]]).__name__}, not str")
    return arr


def greek_array(greeks: Sequence[Mapping[str, float]]) -> NDArray[np.float64]:
    """Per-trade Greek mappings (``Valuation.greeks``) as an ``n x 6`` array, NaN where absent.

    >>> greek_array([{"delta": 0.5}, {}])[:, :2]
    array([[0.5, nan],
           [nan, nan]])
    """
    out = np.full((len(greeks), len(GREEKS)), np.nan)
    col = {g: j for j, g in enumerate(GREEKS)}
    for i, row in enumerate(greeks):
        for name, value in row.items():
            if name not in col:
                raise ValueError(f"trade {i}: unknown Greek {name!r} (known: {', '.join(GREEKS)})")
            out[i, col[name]] = value
    return out


def _float_vector(x: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{name}: shape {arr.shape}, expected ({n},)")
    return arr


def _attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    for key, value in attrs.items():
        out[key] = value.isoformat() if isinstance(value, dt.date) else value
    return out


def _dataset(
    attributes: Mapping[str, Sequence[str]],
    data_vars: Mapping[str, tuple[tuple[str, ...], Any]],
    attrs: Mapping[str, Any],
    scenarios: Sequence[str] | None = None,
) -> xr.Dataset:
    missing = [k for k in _ATTRIBUTE_KEYS if k not in attributes]
    if missing:
        raise ValueError(f"attributes: missing {', '.join(missing)}")
    ids = str_array(attributes["trade_id"], "trade_id")
    coords: dict[str, Any] = {"trade": ids, "greek": str_array(GREEKS)}
    for key in TRADE_COORDS:
        col = str_array(attributes[key], key)
        if len(col) != len(ids):
            raise ValueError(f"attributes: {key} has {len(col)} entries, trade_id {len(ids)}")
        coords[key] = ("trade", col)
    if scenarios is not None:
        coords["scenario"] = str_array(scenarios, "scenario")
    return xr.Dataset(dict(data_vars), coords=coords, attrs=_attrs(attrs))


def _scenario_vars(
    n: int,
    scenarios: Sequence[str] | None,
    scenario_pv: ArrayLike | None,
    scenario_pv_reporting: ArrayLike | None,
) -> dict[str, tuple[tuple[str, ...], Any]]:
    if scenarios is None:
        if scenario_pv is not None or scenario_pv_reporting is not None:
            raise ValueError("scenario_pv needs the scenario names")
        return {}
    shape = (n, len(scenarios))
    out: dict[str, tuple[tuple[str, ...], Any]] = {}
    for name, values in (
        ("scenario_pv", scenario_pv),
        ("scenario_pv_reporting", scenario_pv_reporting),
    ):
        arr = np.full(shape, np.nan) if values is None else np.asarray(values, dtype=np.float64)
        if arr.shape != shape:
            raise ValueError(f"{name}: shape {arr.shape}, expected {shape}")
        out[name] = (("trade", "scenario"), arr)
    return out


def build_cube(
    attributes: Mapping[str, Sequence[str]],
    pv: ArrayLike,
    pv_reporting: ArrayLike,
    model_greeks: ArrayLike,
    error: Sequence[str],
    *,
    scenarios: Sequence[str] | None = None,
    scenario_pv: ArrayLike | None = None,
    scenario_pv_reporting: ArrayLike | None = None,
    **attrs: str | dt.date,
) -> xr.Dataset:
    """Build and validate a cube from per-trade numpy arrays (built once, never concatenated).

    Parameters
    ----------
    attributes
        Columns ``trade_id``, ``book``, ``desk``, ``product``, ``currency``, ``counterparty``
        (as from ``pricing.trades.Portfolio.trade_attributes()``), one entry per trade.
    pv, pv_reporting
        PV per trade in the trade's currency and in the reporting currency (NaN if failed).
    model_greeks
        ``n x 6`` array in :data:`GREEKS` order, NaN where absent (see :func:`greek_array`).
    error
        ``""`` per valued trade, else ``"field: reason"``.
    scenarios, scenario_pv, scenario_pv_reporting
        Scenario names (base first) and ``n x n_scenarios`` PVs, for runs under a scenario set.
    **attrs
        The :data:`STR_ATTRS` (``asof`` may be a ``datetime.date``); extra attrs are kept.

    Raises
    ------
    ValueError
        On a shape mismatch or any violation found by :func:`validate_cube`.

    >>> a = {k: ["T1"] if k == "trade_id" else ["X"] for k in ("trade_id", *TRADE_COORDS)}
    >>> build_cube(a, [1.0], [1.0], [[np.nan] * 6], [""], **example_attrs()).pv.item()
    1.0
    """
    n = len(attributes.get("trade_id", ()))
    greeks = np.asarray(model_greeks, dtype=np.float64)
    if greeks.shape != (n, len(GREEKS)):
        raise ValueError(f"model_greeks: shape {greeks.shape}, expected ({n}, {len(GREEKS)})")
    errors = str_array(error, "error")
    if errors.shape != (n,):
        raise ValueError(f"error: {len(errors)} entries, expected {n}")
    ds = _dataset(
        attributes,
        {
            "pv": (("trade",), _float_vector(pv, n, "pv")),
            "pv_reporting": (("trade",), _float_vector(pv_reporting, n, "pv_reporting")),
            "model_greeks": (("trade", "greek"), greeks),
            "error": (("trade",), errors),
            **_scenario_vars(n, scenarios, scenario_pv, scenario_pv_reporting),
        },
        attrs,
        scenarios,
    )
    validate_cube(ds)
    return ds


def cube_template(
    attributes: Mapping[str, Sequence[str]],
    *,
    scenarios: Sequence[str] | None = None,
    **attrs: str | dt.date,
) -> xr.Dataset:
    """A cube of the right shape with NaN values and ``""`` errors, to create a Zarr store
    that workers then fill region by region (see :func:`risk.cube_io.create_store`).

    It passes ``validate_cube(t, complete=False)`` but not ``validate_cube(t)``: its trades
    look valued with NaN PVs until their regions are written.

    >>> a = {k: ["T1"] if k == "trade_id" else ["X"] for k in ("trade_id", *TRADE_COORDS)}
    >>> t = cube_template(a, **example_attrs())
    >>> bool(np.isnan(t.pv).all()), t.error.item()
    (True, '')
    """
    n = len(attributes.get("trade_id", ()))
    errors = np.empty(n, dtype=object)
    errors[:] = ""
    ds = _dataset(
        attributes,
        {
            "pv": (("trade",), np.full(n, np.nan)),
            "pv_reporting": (("trade",), np.full(n, np.nan)),
            "model_greeks": (("trade", "greek"), np.full((n, len(GREEKS)), np.nan)),
            "error": (("trade",), errors),
            **_scenario_vars(n, scenarios, None, None),
        },
        attrs,
        scenarios,
    )
    validate_cube(ds, complete=False)
    return ds


# ---------------------------------------------------------------------------------------------
# validation


def _is_lazy(var: xr.Variable) -> bool:
    # dask-backed (``.chunk()``) or a backend array not yet read (``open_dataset`` without load);
    # ``_in_memory`` is xarray's own test for the latter and has no public spelling.
    return var.chunks is not None or not var._in_memory


def _string_problem(var: xr.Variable) -> str | None:
    kind = var.dtype.kind
    if kind in "UT":
        return None
    if kind != "O":
        return f"dtype {var.dtype}, expected strings"
    if _is_lazy(var):
        return None  # element types are checked once loaded
    bad = [v for v in np.asarray(var.values).ravel() if not isinstance(v, str)]
    return f"holds {type(bad[0]).__name__} values, expected str" if bad else None


def _coord_problems(ds: xr.Dataset) -> list[str]:
    problems: list[str] = []
    if "trade" not in ds.indexes:
        problems.append("coord trade: missing index of trade ids")
    else:
        idx = ds.indexes["trade"]
        if (p := _string_problem(ds["trade"].variable)) is not None:
            problems.append(f"coord trade: {p}")
        if not idx.is_unique:
            dupes = sorted({str(v) for v in idx[idx.duplicated()]})
            problems.append(f"coord trade: non-unique trade ids {', '.join(dupes[:5])}")
    if "greek" in ds.dims:
        have = [str(g) for g in ds["greek"].values] if "greek" in ds.coords else []
        if have != list(GREEKS):
            problems.append(f"coord greek: {have}, expected {list(GREEKS)}")
    for name in TRADE_COORDS:
        if name not in ds.variables:
            problems.append(f"coord {name}: missing")
            continue
        if name in ds.data_vars:
            problems.append(f"coord {name}: is a data variable, expected a coord on trade")
        var = ds[name].variable
        if var.dims != ("trade",):
            problems.append(f"coord {name}: dims {var.dims}, expected ('trade',)")
        if _is_lazy(var):
            problems.append(f"coord {name}: lazy (dask or unloaded); keep trade coords in memory")
        elif (p := _string_problem(var)) is not None:
            problems.append(f"coord {name}: {p}")
    return problems


def _var_problems(ds: xr.Dataset) -> list[str]:
    problems: list[str] = []
    for name, dims in DATA_VARS.items():
        if name not in ds.data_vars:
            problems.append(f"data variable {name}: missing")
            continue
        var = ds[name].variable
        if var.dims != dims:
            problems.append(f"data variable {name}: dims {var.dims}, expected {dims}")
        if name == "error":
            if (p := _string_problem(var)) is not None:
                problems.append(f"data variable error: {p}")
        elif var.dtype != np.float64:
            problems.append(f"data variable {name}: dtype {var.dtype}, expected float64")
    return problems


def _scenario_problems(ds: xr.Dataset) -> list[str]:
    present = [v for v in SCENARIO_VARS if v in ds.data_vars]
    if "scenario" not in ds.dims:
        return [f"data variable {v}: needs the scenario dim" for v in present]
    problems = []
    if "scenario" not in ds.indexes:
        problems.append("coord scenario: missing index of scenario names")
    else:
        if (p := _string_problem(ds["scenario"].variable)) is not None:
            problems.append(f"coord scenario: {p}")
        if not ds.indexes["scenario"].is_unique:
            problems.append("coord scenario: non-unique scenario names")
    for name, dims in SCENARIO_VARS.items():
        if name not in ds.data_vars:
            problems.append(f"data variable {name}: missing (the cube has a scenario dim)")
        elif ds[name].dims != dims:
            problems.append(f"data variable {name}: dims {ds[name].dims}, expected {dims}")
        elif ds[name].dtype != np.float64:
            problems.append(f"data variable {name}: dtype {ds[name].dtype}, expected float64")
    return problems


def _attr_problems(attrs: Mapping[Hashable, Any]) -> list[str]:
    problems: list[str] = []
    version = attrs.get("schema_version")
    if version is None:
        problems.append("attr schema_version: missing")
    elif isinstance(version, bool) or not isinstance(version, int | np.integer):
        problems.append(f"attr schema_version: {version!r} is not an int")
    elif version != SCHEMA_VERSION:
        problems.append(f"attr schema_version: {version}, this code reads {SCHEMA_VERSION}")
    for key in STR_ATTRS:
        if key not in attrs:
            problems.append(f"attr {key}: missing")
        elif not isinstance(attrs[key], str):
            problems.append(f"attr {key}: {type(attrs[key]).__name__}, expected str")
    asof = attrs.get("asof")
    if isinstance(asof, str):
        try:
            ok = dt.date.fromisoformat(asof).isoformat() == asof
        except ValueError:
            ok = False
        if not ok:
            problems.append(f"attr asof: {asof!r} is not an ISO date (YYYY-MM-DD)")
    return problems


def _value_problems(ds: xr.Dataset) -> list[str]:
    problems: list[str] = []
    if "book" in ds.coords and "desk" in ds.coords and ds["book"].dims == ds["desk"].dims:
        desks: dict[str, set[str]] = {}
        for b, d in zip(ds["book"].values, ds["desk"].values, strict=True):
            desks.setdefault(str(b), set()).add(str(d))
        for book, on in sorted(desks.items()):
            if len(on) > 1:
                problems.append(f"book {book}: on several desks {sorted(on)}")
    return problems


def _completeness_problems(ds: xr.Dataset) -> list[str]:
    names = ("pv", "pv_reporting", "error")
    if not all(v in ds.data_vars and ds[v].dims == ("trade",) for v in names):
        return []
    if ds["error"].dtype.kind not in "OUT":
        return []
    valued = np.asarray(ds["error"].values == "")
    problems = []
    for name in ("pv", "pv_reporting"):
        if ds[name].dtype.kind != "f":
            continue
        bad = valued & ~np.isfinite(np.asarray(ds[name].values))
        if bad.any():
            ids = [str(t) for t in ds["trade"].values[bad][:5]]
            problems.append(
                f'data variable {name}: {int(bad.sum())} valued trade(s) (error "") '
                f"without a finite value, e.g. {', '.join(ids)}"
            )
    return problems


def validate_cube(ds: xr.Dataset, *, complete: bool = True) -> None:
    """Check ``ds`` against the schema; raise one ``ValueError`` naming every violation.

    Parameters
    ----------
    ds
        The cube.
    complete
        Also require every valued trade (``error == ""``) to have a finite ``pv`` and
        ``pv_reporting``. False for templates and partly written stores.

    >>> validate_cube(xr.Dataset())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: invalid risk cube:
      - dim trade: missing
    ...
    """
    problems = [f"dim {d}: missing" for d in ("trade", "greek") if d not in ds.dims]
    problems += _coord_problems(ds) + _var_problems(ds) + _scenario_problems(ds)
    problems += _attr_problems(ds.attrs)
    problems += _value_problems(ds)
    if complete:
        problems += _completeness_problems(ds)
    if problems:
        raise ValueError("invalid risk cube:\n" + "\n".join(f"  - {p}" for p in problems))
