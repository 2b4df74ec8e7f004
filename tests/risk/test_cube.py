"""Cube schema: build_cube lays out the inputs exactly, validate_cube names every violation.

Expected values come from the raw inputs of :mod:`tests.risk.cube_data`, never from the cube.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest
import xarray as xr

from pricing.trades import Portfolio
from risk import (
    GREEKS,
    SCHEMA_VERSION,
    STR_ATTRS,
    TRADE_COORDS,
    build_cube,
    cube_template,
    greek_array,
    validate_cube,
)
from risk.cube import example_attrs
from tests.risk.cube_data import RawCube, random_raw

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(scope="module")
def raw() -> RawCube:
    return random_raw()


@pytest.fixture(scope="module")
def cube(raw: RawCube) -> xr.Dataset:
    return raw.build()


def test_layout_matches_the_inputs(raw: RawCube, cube: xr.Dataset) -> None:
    assert dict(cube.sizes) == {"trade": raw.n, "greek": 6}
    assert list(cube["greek"].values) == [
        "delta",
        "gamma",
        "vega",
        "theta",
        "rho",
        "dividend_rho",
    ]
    assert list(cube["trade"].values) == raw.attributes["trade_id"]
    for name in TRADE_COORDS:
        assert name in cube.coords
        assert name not in cube.data_vars
        assert cube[name].dims == ("trade",)
        assert list(cube[name].values) == raw.attributes[name]
    assert set(cube.data_vars) == {"pv", "pv_reporting", "model_greeks", "error"}
    assert cube["model_greeks"].dims == ("trade", "greek")
    # bit-exact copies of the inputs (NaN where failed or where a product has no Greek)
    assert cube["pv"].values.tobytes() == raw.pv.tobytes()
    assert cube["pv_reporting"].values.tobytes() == raw.pv_reporting.tobytes()
    assert cube["model_greeks"].values.tobytes() == raw.model_greeks.tobytes()
    assert list(cube["error"].values) == raw.error
    assert all(cube[v].dtype == np.float64 for v in ("pv", "pv_reporting", "model_greeks"))


def test_strings_are_in_memory_object_arrays(cube: xr.Dataset) -> None:
    # PITFALLS 15 and 19: trade labels stay in memory (groupby without flox) and are object
    # strings, not fixed-width <U, which Zarr v3 warns about.
    for name in ("trade", *TRADE_COORDS, "error"):
        var = cube[name].variable
        assert var.dtype == object, name
        assert var.chunks is None, name
        assert var._in_memory, name
        assert all(type(v) is str for v in var.values), name


def test_attrs(cube: xr.Dataset) -> None:
    assert cube.attrs["schema_version"] == SCHEMA_VERSION == 1
    assert type(cube.attrs["schema_version"]) is int
    assert cube.attrs["run_id"] == "run-42"
    assert all(type(cube.attrs[k]) is str for k in STR_ATTRS)


def test_asof_may_be_a_date_and_extra_attrs_are_kept(raw: RawCube) -> None:
    attrs: dict[str, str | dt.date] = {**raw.attrs, "asof": dt.date(2025, 11, 28)}
    cube = build_cube(
        raw.attributes, raw.pv, raw.pv_reporting, raw.model_greeks, raw.error, firm="Demo", **attrs
    )
    assert cube.attrs["asof"] == "2025-11-28"
    assert cube.attrs["firm"] == "Demo"


def test_portfolio_trade_attributes_are_accepted() -> None:
    # The input contract: Portfolio.trade_attributes() has exactly the keys build_cube reads.
    attrs = Portfolio((), {"B": "D"}).trade_attributes()
    cube = build_cube(attrs, [], [], np.empty((0, 6)), [], **example_attrs())
    assert cube.sizes["trade"] == 0
    validate_cube(cube)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.__setattr__("model_greeks", r.model_greeks[:, :5]), "model_greeks: shape"),
        (lambda r: r.__setattr__("pv", r.pv[:-1]), "pv: shape"),
        (lambda r: r.__setattr__("error", r.error[:-1]), "error:"),
        (lambda r: r.attributes.pop("counterparty"), "missing counterparty"),
        (lambda r: r.attributes["book"].pop(), "book has"),
        (lambda r: r.attributes["desk"].__setitem__(0, None), "desk: element 0 is NoneType"),
    ],
)
def test_build_refuses_bad_inputs(change: Callable[[RawCube], object], message: str) -> None:
    raw = random_raw(n=12)
    change(raw)
    with pytest.raises(ValueError, match=message):
        raw.build()


def test_build_refuses_what_validation_refuses() -> None:
    raw = random_raw(n=12)
    raw.attributes["trade_id"][3] = raw.attributes["trade_id"][7]
    with pytest.raises(ValueError, match="non-unique trade ids"):
        raw.build()


def test_greek_array_places_names_in_schema_order() -> None:
    arr = greek_array([{"vega": 2.0, "delta": 1.0}, {}, {"dividend_rho": -3.0}])
    expected = np.full((3, 6), np.nan)
    expected[0, 0], expected[0, 2], expected[2, 5] = 1.0, 2.0, -3.0
    np.testing.assert_array_equal(arr, expected)
    with pytest.raises(ValueError, match="unknown Greek 'charm'"):
        greek_array([{"charm": 1.0}])


def test_template_shape_and_emptiness(raw: RawCube) -> None:
    t = cube_template(raw.attributes, **raw.attrs)
    assert dict(t.sizes) == {"trade": raw.n, "greek": len(GREEKS)}
    assert list(t["trade"].values) == raw.attributes["trade_id"]
    assert list(t["book"].values) == raw.attributes["book"]
    assert bool(np.isnan(t["pv"]).all() and np.isnan(t["model_greeks"]).all())
    assert set(t["error"].values) == {""}
    validate_cube(t, complete=False)
    # unfilled, its trades look valued without PVs: not a complete cube
    with pytest.raises(ValueError, match="valued trade"):
        validate_cube(t)


# --- validate_cube: one test per kind of violation --------------------------------------------


def _drop_pv(ds: xr.Dataset) -> xr.Dataset:
    return ds.drop_vars("pv")


def _transpose_greeks(ds: xr.Dataset) -> xr.Dataset:
    return ds.assign(model_greeks=ds["model_greeks"].transpose("greek", "trade"))


def _lazy_coords(ds: xr.Dataset) -> xr.Dataset:
    return ds.chunk({"trade": 50})  # PITFALLS 15: chunking makes the trade coords lazy


def _duplicate_ids(ds: xr.Dataset) -> xr.Dataset:
    ids = ds["trade"].values.copy()
    ids[5] = ids[1]
    return ds.assign_coords(trade=ids)


def _drop_attr(ds: xr.Dataset) -> xr.Dataset:
    out = ds.copy()
    del out.attrs["run_id"]
    return out


def _float32_pv(ds: xr.Dataset) -> xr.Dataset:
    return ds.assign(pv=ds["pv"].astype(np.float32))


def _numeric_error(ds: xr.Dataset) -> xr.Dataset:
    return ds.assign(error=("trade", np.zeros(ds.sizes["trade"])))


def _greeks_reordered(ds: xr.Dataset) -> xr.Dataset:
    return ds.isel(greek=[1, 0, 2, 3, 4, 5])


def _book_as_data_var(ds: xr.Dataset) -> xr.Dataset:
    return ds.reset_coords("book")


def _missing_coord(ds: xr.Dataset) -> xr.Dataset:
    return ds.drop_vars("counterparty")


def _book_on_two_desks(ds: xr.Dataset) -> xr.Dataset:
    desk = ds["desk"].values.copy()
    desk[np.flatnonzero(ds["book"].values == "FX-OPT")[0]] = "OTHER"
    return ds.assign_coords(desk=("trade", desk))


def _bad_asof(ds: xr.Dataset) -> xr.Dataset:
    return ds.assign_attrs(asof="28/11/2025")


def _old_schema(ds: xr.Dataset) -> xr.Dataset:
    return ds.assign_attrs(schema_version=0)


def _str_schema(ds: xr.Dataset) -> xr.Dataset:
    return ds.assign_attrs(schema_version="1")


def _non_str_attr(ds: xr.Dataset) -> xr.Dataset:
    return ds.assign_attrs(code_version=1.0)


def _valued_without_pv(ds: xr.Dataset) -> xr.Dataset:
    ok = int(np.flatnonzero(ds["error"].values == "")[0])
    pv = ds["pv_reporting"].values.copy()
    pv[ok] = np.nan
    return ds.assign(pv_reporting=("trade", pv))


def _no_greek_dim(ds: xr.Dataset) -> xr.Dataset:
    return ds.drop_dims("greek")


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_drop_pv, "data variable pv: missing"),
        (
            _transpose_greeks,
            r"model_greeks: dims \('greek', 'trade'\), expected \('trade', 'greek'\)",
        ),
        (_lazy_coords, "coord book: lazy"),
        (_duplicate_ids, "coord trade: non-unique trade ids T"),
        (_drop_attr, "attr run_id: missing"),
        (_float32_pv, "data variable pv: dtype float32, expected float64"),
        (_numeric_error, "data variable error: dtype float64, expected strings"),
        (_greeks_reordered, r"coord greek: \['gamma', 'delta'"),
        (_book_as_data_var, "coord book: is a data variable"),
        (_missing_coord, "coord counterparty: missing"),
        (_book_on_two_desks, r"book FX-OPT: on several desks \['FX', 'OTHER'\]"),
        (_bad_asof, "attr asof: '28/11/2025' is not an ISO date"),
        (_old_schema, "attr schema_version: 0, this code reads 1"),
        (_str_schema, "attr schema_version: '1' is not an int"),
        (_non_str_attr, "attr code_version: float, expected str"),
        (_valued_without_pv, "pv_reporting: 1 valued trade"),
        (_no_greek_dim, "dim greek: missing"),
    ],
)
def test_validate_names_each_violation(
    cube: xr.Dataset, corrupt: Callable[[xr.Dataset], xr.Dataset], message: str
) -> None:
    validate_cube(cube)  # the base cube is valid; only the corruption can fail it
    with pytest.raises(ValueError, match=message):
        validate_cube(corrupt(cube))


def test_validate_lists_every_violation_at_once(cube: xr.Dataset) -> None:
    bad = _drop_attr(_duplicate_ids(_lazy_coords(_drop_pv(cube))))
    with pytest.raises(ValueError, match="invalid risk cube") as info:
        validate_cube(bad)
    text = str(info.value)
    for part in ("pv: missing", "lazy", "non-unique", "run_id: missing"):
        assert part in text
    # one line per violation: the four above and the four other lazy trade coords
    assert text.count("\n  - ") == 8
