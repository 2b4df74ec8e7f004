"""Sensitivities in the cube: the long-form schema, its validation, bucket ordering, the
``.risk.sensitivities`` table and dense ``.risk.ladder`` views.

The long forms here are random (seeded) and built in this file, never by :mod:`risk.greeks`:
what is pinned is the cube side, whatever produced the numbers. Values are *dyadic* (integers
times 2**-10, below 2**20 in magnitude), so any sum of up to 2**23 of them is exact in float64 in
every order: ladders, desk and book sums are asserted with ``==`` against ``math.fsum`` of the
raw entries (the argument of :mod:`tests.risk.cube_data`).

Tenor and expiry orders are written out by hand below (never derived from the code under test):
``ON`` < ``1W`` < ``1M`` < ... by length, an FRA ``AxB`` at its end month ``B``, a swaption
bucket ``<expiry>x<tenor>`` by expiry then tenor.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import risk
from risk import SENS_CLASSES, SENS_MEASURES, SENS_VARS, bucket_key, build_cube, validate_cube
from risk.accessor import LADDER_DIMS, SENS_COLUMNS
from risk.cube import sensitivity_columns, sensitivity_dataset, sensitivity_order
from tests.risk.cube_data import DYADIC, RawCube, random_raw

pytestmark = pytest.mark.filterwarnings("error")

# --- the factor universe of the random long forms, buckets in maturity order (by hand) --------

#: IR curves and their buckets, each in maturity order. ``6X12`` ends at 12 months like ``1Y``
#: and ``12X18`` at 18 like ``18M``: on equal ends the plain tenor comes first (then the FRA,
#: by its start).
IR_CURVES: dict[str, tuple[str, ...]] = {
    "USD-SOFR": ("ON", "1W", "1M", "3M", "1Y", "18M", "2Y", "5Y", "10Y", "30Y"),
    "EUR-EURIBOR-6M": ("6M", "1Y", "6X12", "12X18", "2Y", "5Y"),
    "EURUSD-FWD": ("1W", "1M", "3M", "1Y"),
    "GBP-SONIA": ("FLAT",),
}
#: Every IR bucket above, in maturity order (what a ladder's tenor axis must show).
IR_TENORS = (
    "ON", "1W", "1M", "3M", "6M", "1Y", "6X12", "18M", "12X18", "2Y", "5Y", "10Y", "30Y", "FLAT",
)  # fmt: skip
VOL_SURFACES: dict[str, tuple[str, ...]] = {
    "EQ.SPX": ("1M", "6M", "1Y", "2Y"),
    "SWPT.USD": ("3Mx1Y", "1Yx5Y", "1Yx10Y", "5Yx10Y", "10Yx10Y"),
    "CAP.EUR": ("1Y", "5Y", "10Y"),
    "FX.EURUSD": ("FLAT",),
}
#: Every VOL bucket above, in maturity order: expiry first, then tenor; a single maturity
#: before the pairs of the same expiry.
VOL_BUCKETS = (
    "1M", "3Mx1Y", "6M", "1Y", "1Yx5Y", "1Yx10Y", "2Y", "5Y", "5Yx10Y", "10Y", "10Yx10Y", "FLAT",
)  # fmt: skip
SPOT_FACTORS = {"FX": ("EURUSD", "USDJPY"), "EQ": ("SPX", "SX5E")}
DIV_FACTORS = ("SPX",)
CREDIT_FACTORS = ("ACME_CORP", "Société_Générale")  # non-ASCII: strings must round-trip


@dataclasses.dataclass
class RawSens:
    """A random long form: parallel lists, in a shuffled (non-canonical) order."""

    trade_index: list[int]
    trade: list[str]
    cls: list[str]
    factor: list[str]
    bucket: list[str]
    measure: list[str]
    value: list[float]
    value_local: list[float]

    def __len__(self) -> int:
        return len(self.trade)

    def mapping(self, style: str = "ids") -> dict[str, Any]:
        """The columns under one of the accepted spellings."""
        base = {
            "factor": np.array(self.factor, dtype=object),
            "bucket": np.array(self.bucket, dtype=object),
            "measure": np.array(self.measure, dtype=object),
            "value": np.array(self.value),
            "value_local": np.array(self.value_local),
        }
        if style == "ids":
            return {"trade": list(self.trade), "cls": list(self.cls), **base}
        if style == "index":  # risk.greeks.LongForm's spelling
            index = np.array(self.trade_index, dtype=np.int32)
            return {"trade_index": index, "factor_class": np.array(self.cls, dtype=object), **base}
        if style == "prefixed":
            return {"sens_" + ("class" if k == "cls" else k): v for k, v in self.mapping().items()}
        if style == "unicode":  # fixed-width numpy strings
            return {
                k: np.array(v) if k not in ("value", "value_local") else v
                for k, v in self.mapping().items()
            }
        raise ValueError(style)

    def rows(self) -> list[tuple[str, str, str, str, str, float, float]]:
        return list(
            zip(
                self.trade,
                self.cls,
                self.factor,
                self.bucket,
                self.measure,
                self.value,
                self.value_local,
                strict=True,
            )
        )

    def subset(self, keep: Callable[[int], bool]) -> RawSens:
        idx = [i for i in range(len(self)) if keep(i)]
        return RawSens(*([getattr(self, f.name)[i] for i in idx] for f in dataclasses.fields(self)))


def _dyadic(rng: np.random.Generator) -> float:
    value = 0
    while value == 0:  # the long form is sparse: no zero entries
        value = int(rng.integers(-(2**30), 2**30))
    return value * DYADIC


def random_sens(raw: RawCube, seed: int = 5) -> RawSens:
    """Entries for the valued trades of ``raw``: 1-4 factors each, shuffled."""
    rng = np.random.default_rng(seed)
    ids = raw.attributes["trade_id"]
    entries: list[tuple[int, str, str, str, str]] = []

    def some(options: tuple[str, ...]) -> list[str]:
        k = int(rng.integers(1, len(options) + 1))
        return [str(x) for x in rng.choice(options, k, replace=False)]

    factors: list[tuple[str, str]] = [("IR", c) for c in IR_CURVES]
    factors += [("VOL", s) for s in VOL_SURFACES]
    factors += [(c, f) for c, fs in SPOT_FACTORS.items() for f in fs]
    factors += [("DIV", f) for f in DIV_FACTORS] + [("CREDIT", f) for f in CREDIT_FACTORS]
    for i in np.flatnonzero(raw.valued):
        picks = rng.choice(len(factors), int(rng.integers(1, 5)), replace=False)
        for cls, factor in (factors[int(j)] for j in picks):
            if cls in ("IR", "VOL"):
                buckets = (IR_CURVES if cls == "IR" else VOL_SURFACES)[factor]
                main = "delta" if cls == "IR" else "vega"
                entries += [(i, cls, factor, b, main) for b in some(buckets)]
                entries.append((i, cls, factor, "", main))
                if cls == "IR" and rng.random() < 0.6:
                    entries.append((i, cls, factor, "", "gamma"))
            else:
                entries += [(i, cls, factor, "", m) for m in some(SENS_MEASURES[cls])]
        if rng.random() < 0.7:
            entries.append((i, "THETA", "", "", "theta"))
    order = rng.permutation(len(entries))
    rows = [entries[int(k)] for k in order]
    return RawSens(
        [int(r[0]) for r in rows],
        [ids[r[0]] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        [_dyadic(rng) for _ in rows],
        [_dyadic(rng) for _ in rows],
    )


def build(raw: RawCube, sens: RawSens | None, style: str = "ids") -> xr.Dataset:
    return build_cube(
        raw.attributes,
        raw.pv,
        raw.pv_reporting,
        raw.model_greeks,
        raw.error,
        sensitivities=None if sens is None else sens.mapping(style),
        **raw.attrs,
    )


def canonical_key(raw: RawCube, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The documented entry order, from the hand-written bucket orders above."""
    trade, cls, factor, bucket, measure = row[:5]
    order = IR_TENORS if cls == "IR" else VOL_BUCKETS
    measures = ("delta", "delta_units", "gamma", "vega", "theta")
    return (
        raw.attributes["trade_id"].index(trade),
        SENS_CLASSES.index(cls),
        factor,
        -1 if bucket == "" else order.index(bucket),
        measures.index(measure),
    )


@pytest.fixture(scope="module")
def raw() -> RawCube:
    return random_raw(seed=20251128, n=240)


@pytest.fixture(scope="module")
def sens(raw: RawCube) -> RawSens:
    return random_sens(raw)


@pytest.fixture(scope="module")
def cube(raw: RawCube, sens: RawSens) -> xr.Dataset:
    return build(raw, sens)


def cube_rows(cube: xr.Dataset) -> list[tuple[Any, ...]]:
    cols = [cube[name].values.tolist() for name in SENS_VARS]
    return list(zip(*cols, strict=True))


# --- the data's preconditions ------------------------------------------------------------------


def test_random_long_form_covers_the_schema(raw: RawCube, sens: RawSens) -> None:
    assert set(sens.cls) == set(SENS_CLASSES)
    assert {(c, m) for c, m in zip(sens.cls, sens.measure, strict=True)} == {
        (c, m) for c, ms in SENS_MEASURES.items() for m in ms
    }
    assert set(sens.bucket) - {""} == set(IR_TENORS) | set(VOL_BUCKETS)
    values = np.array(sens.value + sens.value_local)
    assert np.all(values / DYADIC == np.round(values / DYADIC))
    assert np.all((np.abs(values) < 2.0**20) & (values != 0))
    # some trades failed (no entries), some valued trades have none of a class
    failed = set(np.array(raw.attributes["trade_id"])[~raw.valued])
    assert failed
    assert not failed & set(sens.trade)
    # thousands of entries, no key twice
    assert len(set(r[:5] for r in sens.rows())) == len(sens) > 1000


# --- build_cube --------------------------------------------------------------------------------


def test_layout_dtypes_and_canonical_order(raw: RawCube, sens: RawSens, cube: xr.Dataset) -> None:
    assert dict(cube.sizes) == {"trade": raw.n, "greek": 6, "sensitivity": len(sens)}
    assert "sensitivity" not in cube.coords  # a bare dim: entries have no labels of their own
    for name, kind in SENS_VARS.items():
        var = cube[name].variable
        assert var.dims == ("sensitivity",), name
        if kind == "str":
            assert var.dtype == object, name
            assert all(type(v) is str for v in var.values), name
        else:
            assert var.dtype == np.float64, name
    rows = cube_rows(cube)
    # the same entries (a multiset: no duplicate was dropped or added) ...
    assert sorted(rows) == sorted(sens.rows())
    # ... in the documented order: cube trade order, class, factor, bucket by maturity, measure
    assert rows == sorted(sens.rows(), key=lambda r: canonical_key(raw, r))
    validate_cube(cube)


@pytest.mark.parametrize("style", ["index", "prefixed", "unicode"])
def test_every_input_spelling_gives_the_same_cube(
    raw: RawCube, sens: RawSens, cube: xr.Dataset, style: str
) -> None:
    other = build(raw, sens, style)
    assert other.identical(cube)
    assert all(type(v) is str for v in other["sens_class"].values)


def test_a_greeks_like_object_is_read_by_attribute(
    raw: RawCube, sens: RawSens, cube: xr.Dataset
) -> None:
    # risk.greeks.Sensitivities exposes the long form as attributes named like this
    @dataclasses.dataclass
    class Result:
        trade: np.ndarray
        factor_class: np.ndarray
        factor: np.ndarray
        bucket: np.ndarray
        measure: np.ndarray
        value: np.ndarray
        value_local: np.ndarray

    m = sens.mapping()
    obj = Result(np.array(m.pop("trade"), dtype=object), np.array(m.pop("cls"), dtype=object), **m)
    got = build_cube(
        raw.attributes,
        raw.pv,
        raw.pv_reporting,
        raw.model_greeks,
        raw.error,
        sensitivities=obj,
        **raw.attrs,
    )
    assert got.identical(cube)


def test_entry_order_of_the_input_does_not_matter(
    raw: RawCube, sens: RawSens, cube: xr.Dataset
) -> None:
    for seed in (1, 2):
        perm = np.random.default_rng(seed).permutation(len(sens))
        shuffled = RawSens(
            *([getattr(sens, f.name)[i] for i in perm] for f in dataclasses.fields(sens))
        )
        got = build(raw, shuffled)
        assert got.identical(cube)
        for name in ("sens_value", "sens_value_local"):
            assert got[name].values.tobytes() == cube[name].values.tobytes()


def test_no_sensitivities_no_dim_and_an_empty_long_form_an_empty_dim(
    raw: RawCube, sens: RawSens
) -> None:
    plain = build(raw, None)
    assert "sensitivity" not in plain.dims
    assert not any(name in plain.variables for name in SENS_VARS)
    assert not plain.risk.has_sensitivities
    empty = build(raw, sens.subset(lambda i: False))
    assert empty.sizes["sensitivity"] == 0
    assert empty.risk.has_sensitivities
    assert all(
        empty[n].dtype == (object if k == "str" else np.float64) for n, k in SENS_VARS.items()
    )
    validate_cube(empty)


def test_existing_views_ignore_the_sensitivities(raw: RawCube, cube: xr.Dataset) -> None:
    plain = build(raw, None)
    for level in ("firm", "desk", "book", "currency"):
        assert cube.risk.by(level).identical(plain.risk.by(level))
    assert cube.risk.summary().equals(plain.risk.summary())
    assert cube.risk.to_dataframe().equals(plain.risk.to_dataframe())
    assert cube.risk.errors().equals(plain.risk.errors())


def _missing_column(m: dict[str, Any]) -> None:
    del m["measure"]


def _short_column(m: dict[str, Any]) -> None:
    m["value_local"] = m["value_local"][:-1]


def _non_str_label(m: dict[str, Any]) -> None:
    m["factor"] = list(m["factor"])
    m["factor"][3] = 7


def _text_values(m: dict[str, Any]) -> None:
    m["value"] = np.array([str(v) for v in m["value"]])


def _two_d(m: dict[str, Any]) -> None:
    m["bucket"] = np.array(m["bucket"]).reshape(-1, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_missing_column, "missing column sens_measure"),
        (_short_column, "columns of different lengths"),
        (_non_str_label, "sens_factor: element 3 is int, not str"),
        (_text_values, "sens_value: dtype <U.*, expected numbers"),
        (_two_d, "sens_bucket: 2-d, expected 1-d"),
    ],
)
def test_build_refuses_malformed_long_forms(
    raw: RawCube, sens: RawSens, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    m = sens.mapping()
    change(m)
    with pytest.raises(ValueError, match=message):
        build_cube(
            raw.attributes,
            raw.pv,
            raw.pv_reporting,
            raw.model_greeks,
            raw.error,
            sensitivities=m,
            **raw.attrs,
        )


def test_trade_index_must_point_into_the_trades(raw: RawCube, sens: RawSens) -> None:
    m = sens.mapping("index")
    m["trade_index"] = m["trade_index"].copy()
    m["trade_index"][0] = raw.n
    with pytest.raises(ValueError, match=f"trade_index: 1 entries outside 0..{raw.n - 1}"):
        build_cube(
            raw.attributes,
            raw.pv,
            raw.pv_reporting,
            raw.model_greeks,
            raw.error,
            sensitivities=m,
            **raw.attrs,
        )
    with pytest.raises(ValueError, match="trade_index needs the trade ids"):
        sensitivity_columns(sens.mapping("index"))
    m["trade_index"] = m["trade_index"].astype(float)
    with pytest.raises(ValueError, match="trade_index: dtype float64, expected integers"):
        sensitivity_columns(m, raw.attributes["trade_id"])


def test_sensitivity_dataset_is_the_long_form_alone(raw: RawCube, sens: RawSens) -> None:
    # what one grid chunk holds: its trades' entries, positions relative to the chunk
    chunk = raw.slice(40, 80)
    ids = chunk.attributes["trade_id"]
    part = sens.subset(lambda i: 40 <= sens.trade_index[i] < 80)
    m = part.mapping("index")
    m["trade_index"] = m["trade_index"] - 40
    ds = sensitivity_dataset(m, ids)
    assert set(ds.variables) == set(SENS_VARS)
    assert ds.attrs == {}
    assert cube_rows(ds) == sorted(part.rows(), key=lambda r: canonical_key(raw, r))
    with pytest.raises(ValueError, match="entries on trades not in the cube"):
        sensitivity_dataset(part.mapping(), raw.slice(0, 40).attributes["trade_id"])
    # without trade ids the trades are ordered by id
    alone = sensitivity_dataset(part.mapping())
    assert list(alone["sens_trade"].values) == sorted(part.trade)


# --- validation: one test per kind of violation ------------------------------------------------


def _set(name: str, i: int, value: Any) -> Callable[[xr.Dataset], xr.Dataset]:
    def corrupt(ds: xr.Dataset) -> xr.Dataset:
        arr = ds[name].values.copy()
        arr[i] = value
        return ds.assign({name: ("sensitivity", arr)})

    return corrupt


def _first(ds: xr.Dataset, cls: str, measure: str | None = None) -> int:
    hit = ds["sens_class"].values == cls
    if measure is not None:
        hit &= ds["sens_measure"].values == measure
    return int(np.flatnonzero(hit)[0])


def _on(cls: str, name: str, value: Any, measure: str | None = None) -> Any:
    return lambda ds: _set(name, _first(ds, cls, measure), value)(ds)


def _duplicate(ds: xr.Dataset) -> xr.Dataset:
    return xr.concat([ds, ds.isel(sensitivity=[7])], dim="sensitivity", data_vars="minimal")


def _failed_trade(ds: xr.Dataset) -> xr.Dataset:
    failed = ds["trade"].values[ds["error"].values != ""][0]
    return _set("sens_trade", 0, failed)(ds)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda ds: ds.drop_vars("sens_bucket"), "sens_bucket: missing"),
        (
            lambda ds: ds.assign(sens_value=ds["sens_value"].astype(np.float32)),
            "sens_value: dtype float32, expected float64",
        ),
        (
            lambda ds: ds.assign(sens_class=("sensitivity", np.zeros(ds.sizes["sensitivity"]))),
            "sens_class: dtype float64, expected strings",
        ),
        (_set("sens_factor", 2, 7), "sens_factor: holds int values, expected str"),
        (
            lambda ds: ds.assign(sens_value_local=ds["sens_value_local"].expand_dims(x=1)),
            r"sens_value_local: dims \('x', 'sensitivity'\)",
        ),
        (_set("sens_class", 0, "RATES"), "sens_class: not one of .*: 1 entries, e.g. trade T"),
        (_on("IR", "sens_measure", "vega"), "sens_measure: not a measure of the class"),
        (_on("FX", "sens_measure", "theta"), "sens_measure: not a measure of the class"),
        (_on("EQ", "sens_bucket", "1Y"), 'sens_bucket: not "" in a class without buckets'),
        (_on("IR", "sens_factor", ""), 'sens_factor: "" outside THETA'),
        (_set("sens_value", 5, np.nan), "sens_value: not finite: 1 entries"),
        (_set("sens_value_local", 9, -np.inf), "sens_value_local: not finite"),
        (_duplicate, r"duplicate \(trade, class, factor, bucket, measure\): 1 entries"),
        (_set("sens_trade", 3, "T99999"), "entries on trades not in the cube, e.g. T99999"),
        (_failed_trade, "sens_trade: on failed trades: 1 entries"),
    ],
)
def test_validate_names_each_violation(
    cube: xr.Dataset, corrupt: Callable[[xr.Dataset], xr.Dataset], message: str
) -> None:
    validate_cube(cube)  # the base cube is valid; only the corruption can fail it
    with pytest.raises(ValueError, match=message):
        validate_cube(corrupt(cube))


def test_build_refuses_what_validation_refuses(raw: RawCube, sens: RawSens) -> None:
    twice = sens.subset(lambda i: True)
    for name in ("trade", "cls", "factor", "bucket", "measure", "value", "value_local"):
        getattr(twice, name).append(getattr(sens, name)[0])
    twice.trade_index.append(sens.trade_index[0])
    with pytest.raises(ValueError, match="duplicate"):
        build(raw, twice)


def test_lazy_long_form_is_checked_for_shape_only(cube: xr.Dataset) -> None:
    lazy = cube.chunk({"sensitivity": 500})
    # the trade coords became lazy too (an existing violation); none about the long form
    with pytest.raises(ValueError, match="coord book: lazy") as info:
        validate_cube(lazy)
    assert "sens" not in str(info.value)
    only_sens_lazy = cube.assign({n: cube[n].chunk(500) for n in SENS_VARS})
    validate_cube(only_sens_lazy)
    bad = _set("sens_value", 0, np.nan)(cube)
    validate_cube(bad.assign({n: bad[n].chunk(500) for n in SENS_VARS}))  # not loaded: not seen


# --- bucket order ------------------------------------------------------------------------------


def test_buckets_sort_by_maturity_never_alphabetically() -> None:
    # The brief's example, then the pricing.quotes grammar around it.
    assert sorted(["2Y", "6X12", "1M", "1W"], key=bucket_key) == ["1W", "1M", "6X12", "2Y"]
    assert sorted(["TN", "1D", "ON", "SN", "1W"], key=bucket_key) == ["1D", "ON", "TN", "SN", "1W"]
    assert sorted(["10Y", "2Y", "1Y", "18M", "6M", "30Y"], key=bucket_key) == [
        "6M", "1Y", "18M", "2Y", "10Y", "30Y",
    ]  # fmt: skip
    # FRAs by the end month; on equal ends the plain tenor first, then the earlier start
    assert sorted(["6X9", "3X9", "1X4", "9X12", "4M", "9M"], key=bucket_key) == [
        "4M", "1X4", "9M", "3X9", "6X9", "9X12",
    ]  # fmt: skip
    # swaption buckets by expiry, then tenor (with or without the x)
    assert sorted(["5Yx10Y", "10Yx1Y", "1Yx30Y", "5Y2Y", "3Mx1Y"], key=bucket_key) == [
        "3Mx1Y", "1Yx30Y", "5Y2Y", "5Yx10Y", "10Yx1Y",
    ]  # fmt: skip
    assert sorted(["12M", "1Y", "52W"], key=bucket_key) == ["52W", "12M", "1Y"]  # 364 < 365.25
    # parallel first, labels that are not maturities last
    assert sorted(["FLAT", "1Y", "", "ATM"], key=bucket_key) == ["", "1Y", "ATM", "FLAT"]
    assert sorted(IR_TENORS[::-1], key=bucket_key) == list(IR_TENORS)
    assert sorted(VOL_BUCKETS[::-1], key=bucket_key) == list(VOL_BUCKETS)


def test_sensitivity_order_is_a_stable_permutation() -> None:
    cols = {
        "sens_trade": ["B", "A", "B", "A"],
        "sens_class": ["THETA", "IR", "IR", "IR"],
        "sens_factor": ["", "USD-SOFR", "USD-SOFR", "USD-SOFR"],
        "sens_bucket": ["", "2Y", "", "1M"],
        "sens_measure": ["theta", "delta", "gamma", "delta"],
    }
    assert sensitivity_order(cols, ["B", "A"]).tolist() == [2, 0, 3, 1]
    assert sensitivity_order(cols).tolist() == [3, 1, 2, 0]  # ids as text: A before B


# --- .risk.sensitivities -----------------------------------------------------------------------


def test_sensitivities_table_joins_the_trade_labels(
    raw: RawCube, sens: RawSens, cube: xr.Dataset
) -> None:
    df = cube.risk.sensitivities()
    assert list(df.columns) == list(SENS_COLUMNS)
    assert len(df) == len(sens)
    of = {t: i for i, t in enumerate(raw.attributes["trade_id"])}
    expected = sorted(sens.rows(), key=lambda r: canonical_key(raw, r))
    assert (
        list(
            df[["trade", "cls", "factor", "bucket", "measure", "value", "value_local"]].itertuples(
                index=False, name=None
            )
        )
        == expected
    )
    for label in ("book", "desk", "product", "currency", "counterparty"):
        assert list(df[label]) == [raw.attributes[label][of[t]] for t in df["trade"]], label


@pytest.mark.parametrize(
    "filters",
    [
        {"book": "FX-OPT"},
        {"book": ["IRS-USD", "EQ-€XOTIC ✓"], "cls": "IR"},
        {"desk": "RATES", "measure": ["gamma", "theta"]},
        {"factor": "USD-SOFR", "bucket": ["1Y", "18M"]},
        {"cls": ["VOL"], "factor": "SWPT.USD", "desk": ["EQUITY", "FX"]},
    ],
)
def test_sensitivities_filters(
    raw: RawCube, sens: RawSens, cube: xr.Dataset, filters: dict[str, Any]
) -> None:
    of = {t: i for i, t in enumerate(raw.attributes["trade_id"])}

    def wanted(r: tuple[Any, ...]) -> bool:
        fields = {
            "book": raw.attributes["book"][of[r[0]]],
            "desk": raw.attributes["desk"][of[r[0]]],
            "cls": r[1],
            "factor": r[2],
            "bucket": r[3],
            "measure": r[4],
        }
        return all(fields[k] in ([v] if isinstance(v, str) else v) for k, v in filters.items())

    expected = [r for r in sorted(sens.rows(), key=lambda r: canonical_key(raw, r)) if wanted(r)]
    df = cube.risk.sensitivities(**filters)
    assert len(expected) > 0
    assert [
        tuple(r)
        for r in df[
            ["trade", "cls", "factor", "bucket", "measure", "value", "value_local"]
        ].itertuples(index=False)
    ] == expected


def test_sensitivities_of_one_trade(raw: RawCube, sens: RawSens, cube: xr.Dataset) -> None:
    trade = sens.trade[0]
    df = cube.risk.sensitivities(trade=trade)
    assert set(df["trade"]) == {trade}
    assert len(df) == sens.trade.count(trade)


def test_sensitivities_refuse_unknown_names(cube: xr.Dataset, raw: RawCube) -> None:
    with pytest.raises(KeyError, match="unknown book"):
        cube.risk.sensitivities(book="NOPE")
    with pytest.raises(KeyError, match="unknown desk"):
        cube.risk.sensitivities(desk=["RATES", "NOPE"])
    with pytest.raises(KeyError, match="unknown trade"):
        cube.risk.sensitivities(trade="T99999")
    with pytest.raises(ValueError, match="unknown class 'RATES'"):
        cube.risk.sensitivities(cls="RATES")
    with pytest.raises(ValueError, match="unknown measure 'dv01'"):
        cube.risk.sensitivities(measure="dv01")
    # a factor no trade depends on is not an error: no entries
    assert cube.risk.sensitivities(factor="JPY-TONA").empty
    with pytest.raises(ValueError, match="no sensitivities"):
        build(raw, None).risk.sensitivities()


# --- .risk.ladder ------------------------------------------------------------------------------


def expected_ladder(
    raw: RawCube,
    sens: RawSens,
    cls: str,
    measure: str,
    level: str = "book",
    parallel: bool = False,
) -> dict[tuple[str, ...], float]:
    """fsum of the raw values per (row, factor[, bucket]), from the inputs only."""
    of = {t: i for i, t in enumerate(raw.attributes["trade_id"])}
    bucketed = cls in ("IR", "VOL") and not parallel
    groups: dict[tuple[str, ...], list[float]] = {}
    for t, c, f, b, m, v, _ in sens.rows():
        if c != cls or m != measure or (cls in ("IR", "VOL") and (b != "") == parallel):
            continue
        row = t if level == "trade" else "FIRM" if level == "firm" else raw.attributes[level][of[t]]
        key = (row,) if cls == "THETA" else (row, f, b) if bucketed else (row, f)
        groups.setdefault(key, []).append(v)
    return {k: math.fsum(v) for k, v in groups.items()}


def ladder_cells(ladder: xr.DataArray) -> dict[tuple[str, ...], float]:
    """Non-zero cells of a ladder by label."""
    out = {}
    for idx in zip(*np.nonzero(ladder.values), strict=True):
        key = tuple(str(ladder[d].values[i]) for d, i in zip(ladder.dims, idx, strict=True))
        out[key] = float(ladder.values[idx])
    return out


CASES = [(c, m) for c, ms in SENS_MEASURES.items() for m in ms]


@pytest.mark.parametrize(("cls", "measure"), CASES)
@pytest.mark.parametrize("level", ["book", "desk", "firm", "trade", "currency"])
def test_ladders_are_the_long_form_sums(
    raw: RawCube, sens: RawSens, cube: xr.Dataset, cls: str, measure: str, level: str
) -> None:
    for parallel in (False, True) if cls in ("IR", "VOL") else (False,):
        ladder = cube.risk.ladder(cls, measure, by=level, bucketed=not parallel)
        assert ladder.dims == (level, *LADDER_DIMS[cls][1 if parallel else 0])
        assert ladder.dtype == np.float64
        assert np.isfinite(ladder.values).all()
        expected = expected_ladder(raw, sens, cls, measure, level, parallel)
        # exact (dyadic) and complete: no cell without entries is non-zero, none is missing
        assert ladder_cells(ladder) == {k: v for k, v in expected.items() if v != 0.0}
        # the columns are exactly the labels with entries in the selection
        for j, dim in enumerate(ladder.dims[1:], start=1):
            assert set(ladder[dim].values) == {k[j] for k in expected}


def test_ladder_axes_and_rows(raw: RawCube, cube: xr.Dataset) -> None:
    ir = cube.risk.ladder("IR")
    assert ir.dims == ("book", "curve", "tenor")
    assert list(ir["tenor"].values) == list(IR_TENORS)  # by maturity, never alphabetical
    assert list(ir["curve"].values) == sorted(IR_CURVES)
    # every book of the cube is a row (sorted like by()), books without entries as zeros
    assert list(ir["book"].values) == sorted(set(raw.attributes["book"]))
    assert dict(zip(ir["book"].values, ir["desk"].values, strict=True)) == {
        b: d for b, d in zip(raw.attributes["book"], raw.attributes["desk"], strict=True)
    }
    vol = cube.risk.ladder("VOL", "vega")
    assert vol.dims == ("book", "surface", "bucket")
    assert list(vol["bucket"].values) == list(VOL_BUCKETS)
    assert list(vol["surface"].values) == sorted(VOL_SURFACES)
    # a SPX expiry that no trade has stays off the axis; missing (surface, bucket) cells are 0
    assert vol.sel(surface="CAP.EUR", bucket="5Yx10Y").values.tolist() == [0.0] * vol.sizes["book"]
    fx = cube.risk.ladder("FX", "delta_units", by="desk")
    assert fx.dims == ("desk", "factor")
    assert list(fx["factor"].values) == ["EURUSD", "USDJPY"]
    theta = cube.risk.ladder("THETA", "theta", by="firm")
    assert theta.dims == ("firm",)
    assert list(theta["firm"].values) == ["FIRM"]
    assert ir.name == "IR_delta"
    assert ir.attrs == {"cls": "IR", "measure": "delta", "bucketed": 1, "currency": "USD"}
    assert cube.risk.ladder("IR", "gamma", bucketed=False).attrs["bucketed"] == 0
    assert cube.risk.ladder("EQ").attrs["bucketed"] == 0


def test_desks_are_sums_of_books_and_the_firm_of_desks(cube: xr.Dataset) -> None:
    for cls, measure in CASES:
        for bucketed in (True, False):
            books = cube.risk.ladder(cls, measure, by="book", bucketed=bucketed)
            desks = cube.risk.ladder(cls, measure, by="desk", bucketed=bucketed)
            firm = cube.risk.ladder(cls, measure, by="firm", bucketed=bucketed)
            for desk in desks["desk"].values:
                rows = books.values[books["desk"].values == desk]
                assert (rows.sum(axis=0) == desks.sel(desk=desk).values).all(), (cls, desk)
            assert (desks.values.sum(axis=0) == firm.values[0]).all()


def test_a_books_ladder_is_the_sum_of_its_trades(raw: RawCube, cube: xr.Dataset) -> None:
    everyone = cube.risk.ladder("IR")
    for book in sorted(set(raw.attributes["book"])):
        trades = cube.risk.ladder("IR", book=book, by="trade")
        own = cube.risk.ladder("IR", book=book)
        assert list(own["book"].values) == [book]
        assert (trades.sum("trade").values == own.values[0]).all()
        assert set(trades["book"].values) <= {book}
        # the book alone shows only its curves and tenors; the firm-wide ladder adds zeros
        full = everyone.sel(book=book).sel(curve=own["curve"], tenor=own["tenor"])
        assert (full.values == own.values[0]).all()
        assert everyone.sel(book=book).sum().item() == own.sum().item()


def test_drill_down_desk_to_book_to_trade(raw: RawCube, cube: xr.Dataset) -> None:
    desk = cube.risk.ladder("VOL", "vega", desk="EQUITY", by="desk")
    books = cube.risk.ladder("VOL", "vega", desk="EQUITY", by="book")
    trades = cube.risk.ladder("VOL", "vega", desk="EQUITY", by="trade")
    assert list(desk["desk"].values) == ["EQUITY"]
    assert set(books["desk"].values) == {"EQUITY"}
    assert (books.sum("book").values == desk.values[0]).all()
    assert (trades.sum("trade").values == desk.values[0]).all()
    for book in books["book"].values:
        mine = trades.values[trades["book"].values == book]
        assert (mine.sum(axis=0) == books.sel(book=book).values).all()
    # trade rows: the valued trades of the selection, in cube order, with their labels
    ids = np.array(raw.attributes["trade_id"], dtype=object)
    on_desk = (raw.column("desk") == "EQUITY") & raw.valued
    assert list(trades["trade"].values) == list(ids[on_desk])
    assert list(trades["product"].values) == list(raw.column("product")[on_desk])


def test_book_and_desk_filters_combine(raw: RawCube, cube: xr.Dataset) -> None:
    got = cube.risk.ladder("FX", book=["FX-OPT", "IRS-EUR"], desk="FX")
    assert list(got["book"].values) == ["FX-OPT"]  # IRS-EUR is on RATES
    assert (
        got.values == cube.risk.ladder("FX").sel(book=["FX-OPT"], factor=got["factor"]).values
    ).all()


def test_absent_is_zero_never_nan(raw: RawCube, sens: RawSens) -> None:
    # only the IR entries of one book: every other book is a row of zeros
    book = "SWPT"
    of = {t: i for i, t in enumerate(raw.attributes["trade_id"])}
    part = sens.subset(
        lambda i: sens.cls[i] == "IR" and raw.attributes["book"][of[sens.trade[i]]] == book
    )
    cube = build(raw, part)
    ladder = cube.risk.ladder("IR")
    assert np.isfinite(ladder.values).all()
    assert (ladder.drop_sel(book=book).values == 0.0).all()
    assert (ladder.sel(book=book).values != 0.0).any()
    # a class without any entry: rows of nothing
    fx = cube.risk.ladder("FX")
    assert fx.sizes == {"book": len(set(raw.attributes["book"])), "factor": 0}
    theta = cube.risk.ladder("THETA", "theta", by="desk")
    assert (theta.values == 0.0).all()
    assert theta.sizes["desk"] == 3


def test_failed_trades_are_not_trade_rows(raw: RawCube, cube: xr.Dataset) -> None:
    rows = cube.risk.ladder("EQ", by="trade")
    failed = set(np.array(raw.attributes["trade_id"])[~raw.valued])
    assert failed
    assert not failed & set(rows["trade"].values)
    assert rows.sizes["trade"] == raw.valued.sum()


def test_ladder_refuses_unknown_names(raw: RawCube, cube: xr.Dataset) -> None:
    with pytest.raises(ValueError, match="unknown class 'RATES'"):
        cube.risk.ladder("RATES")
    with pytest.raises(ValueError, match="unknown IR measure 'vega'; known: delta, gamma"):
        cube.risk.ladder("IR", "vega")
    with pytest.raises(ValueError, match="unknown by 'trader'"):
        cube.risk.ladder("IR", by="trader")
    with pytest.raises(KeyError, match="unknown book"):
        cube.risk.ladder("IR", book="NOPE")
    with pytest.raises(ValueError, match="no sensitivities"):
        build(raw, None).risk.ladder("IR")


def test_sub_cubes_keep_their_own_entries(raw: RawCube, sens: RawSens, cube: xr.Dataset) -> None:
    sub = cube.risk.book(["FX-OPT", "EQ-VOL"])
    validate_cube(sub)  # no entry on a trade outside the sub-cube
    mine = set(sub["trade"].values)
    assert set(sub["sens_trade"].values) <= mine
    assert sub.sizes["sensitivity"] == sum(t in mine for t in sens.trade)
    assert sub.risk.ladder("VOL", "vega").identical(
        cube.risk.ladder("VOL", "vega", book=["FX-OPT", "EQ-VOL"])
    )
    trades = cube.risk.drill(book="FX-OPT")
    assert isinstance(trades, pd.DataFrame)
    assert set(trades["book"]) == {"FX-OPT"}
    # selecting everything keeps the cube as it is
    assert cube.risk.select().identical(cube)


def test_general_floats_within_the_summation_bound(raw: RawCube, sens: RawSens) -> None:
    rng = np.random.default_rng(3)
    noisy = sens.subset(lambda i: True)
    noisy.value = list(rng.normal(0.0, 1e4, len(sens)) * rng.lognormal(0.0, 2.0, len(sens)))
    ladder = build(raw, noisy).risk.ladder("IR", by="desk")
    expected = expected_ladder(raw, noisy, "IR", "delta", "desk")
    for (desk, curve, tenor), value in expected.items():
        desk_of = dict(zip(raw.attributes["trade_id"], raw.attributes["desk"], strict=True))
        terms = [
            r[5]
            for r in noisy.rows()
            if r[1:5] == ("IR", curve, tenor, "delta") and desk_of[r[0]] == desk
        ]
        # Higham, Accuracy and Stability of Numerical Algorithms (2nd ed., 2002), eq. 4.4
        bound = (len(terms) - 1) * np.finfo(float).eps * math.fsum(abs(x) for x in terms)
        got = ladder.sel(desk=desk, curve=curve, tenor=tenor).item()
        assert abs(got - value) <= bound


def test_public_api_is_exported() -> None:
    for name in (
        "append_sensitivities",
        "write_sensitivities",
        "read_sensitivities",
        "bucket_key",
        "sensitivity_dataset",
        "SENS_VARS",
        "SENS_CLASSES",
    ):
        assert name in risk.__all__
        assert hasattr(risk, name)
