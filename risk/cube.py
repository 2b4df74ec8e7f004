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

sensitivities (optional)
    A run with Greeks adds the dim ``sensitivity`` (no coord: one entry per trade, risk factor,
    bucket and measure with a value, PITFALLS 17) and the data variables :data:`SENS_VARS`:
    ``sens_trade`` (trade id), ``sens_class`` (:data:`SENS_CLASSES`), ``sens_factor`` (curve,
    pair, underlying, vol surface or issuer; ``""`` for theta), ``sens_bucket`` (tenor, expiry
    or ``<expiry>x<tenor>``; ``""`` for a parallel entry), ``sens_measure`` (per class,
    :data:`SENS_MEASURES`), ``sens_value`` (reporting currency) and ``sens_value_local`` (trade
    currency). Absent entries are zero. Entries are unique per (trade, class, factor, bucket,
    measure), belong to valued trades of the cube and have finite values. :func:`build_cube`
    and :func:`risk.cube_io.append_sensitivities` store them in the canonical order of
    :func:`sensitivity_order` (cube trade order, then class, factor, bucket by maturity,
    measure), so a cube does not depend on the order its parts were computed in.
    ``cube.isel(trade=...)`` leaves the long form whole (xarray knows no link between the
    dims): take sub-cubes with ``cube.risk.select``/``cube.risk.book``, which keep only their
    trades' entries.

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
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DATA_VARS",
    "GREEKS",
    "LEVELS",
    "SCENARIO_VARS",
    "SCHEMA_VERSION",
    "SENS_BUCKETED",
    "SENS_CLASSES",
    "SENS_DIM",
    "SENS_MEASURES",
    "SENS_VARS",
    "STR_ATTRS",
    "TRADE_COORDS",
    "bucket_key",
    "build_cube",
    "cube_template",
    "example_attrs",
    "greek_array",
    "sensitivity_columns",
    "sensitivity_dataset",
    "sensitivity_order",
    "sensitivity_problems",
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
#: Dim of the long-form sensitivities (one entry per trade, factor, bucket and measure).
SENS_DIM = "sensitivity"
#: Data variables of the long-form sensitivities and their kind (all on :data:`SENS_DIM`).
SENS_VARS: dict[str, str] = {
    "sens_trade": "str",
    "sens_class": "str",
    "sens_factor": "str",
    "sens_bucket": "str",
    "sens_measure": "str",
    "sens_value": "float",
    "sens_value_local": "float",
}
#: Risk-factor classes of sensitivities, in canonical order (GREEKS.md).
SENS_CLASSES: tuple[str, ...] = ("IR", "FX", "EQ", "DIV", "VOL", "CREDIT", "THETA")
#: The measures each class may carry, in canonical order.
SENS_MEASURES: dict[str, tuple[str, ...]] = {
    "IR": ("delta", "gamma"),
    "FX": ("delta", "delta_units", "gamma"),
    "EQ": ("delta", "delta_units", "gamma"),
    "DIV": ("delta",),
    "VOL": ("vega",),
    "CREDIT": ("delta",),
    "THETA": ("theta",),
}
#: Classes whose entries carry buckets (tenors, expiries); the others have bucket ``""`` only.
SENS_BUCKETED: tuple[str, ...] = ("IR", "VOL")
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
    """A complete set of run attrs with example values (for examples and tests).

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
    if _all_str(arr):
        return arr
    bad = [i for i, v in enumerate(vals) if not isinstance(v, str)]
    if bad:
        raise ValueError(f"{name}: element {bad[0]} is {type(vals[bad[0]]).__name__}, not str")
    return arr


def _all_str(arr: NDArray[Any]) -> bool:
    """True if every element of a 1-d object array is a str (pandas' C loop: ~10 ns each)."""
    return arr.size == 0 or pd.api.types.infer_dtype(arr, skipna=False) == "string"


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


# ---------------------------------------------------------------------------------------------
# sensitivities (long form)

_MONTH_DAYS = 365.25 / 12.0
_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": _MONTH_DAYS, "Y": 365.25}
_SHORT_TENORS = {"ON": 1.0, "TN": 2.0, "SN": 3.0}
_RE_TENOR = re.compile(r"^(\d+)([DWMY])$")
_RE_FRA = re.compile(r"^(\d+)X(\d+)$")
_RE_PAIR = re.compile(r"^(\d+[DWMY])X?(\d+[DWMY])$")
_ALL_MEASURES: tuple[str, ...] = ("delta", "delta_units", "gamma", "vega", "theta")


def _tenor_days(tenor: str) -> float:
    return int(tenor[:-1]) * _UNIT_DAYS[tenor[-1]]  # tenor matches _RE_TENOR


def bucket_key(label: str) -> tuple[int, float, float, str]:
    """Sort key of a bucket label by maturity, never alphabetical.

    Labels follow :mod:`pricing.quotes`: ``""`` (parallel) first, then ``ON`` < ``TN`` < ``SN``,
    tenors ``<n>D/W/M/Y`` by length (a month is 365.25/12 days, a year 365.25, so ``12M`` ties
    ``1Y``), FRA buckets ``AxB`` by their end month ``B`` (then start ``A``), and expiry x tenor
    buckets (``5Yx10Y`` or ``5Y10Y``) by expiry, then tenor; a single tenor comes before the pairs
    of the same expiry. Other labels (``FLAT``) come last, alphabetically; ties break on the text.

    >>> sorted(["2Y", "6X12", "1M", "", "5Yx10Y", "ON", "1W", "5Y", "FLAT"], key=bucket_key)
    ['', 'ON', '1W', '1M', '6X12', '2Y', '5Y', '5Yx10Y', 'FLAT']
    """
    if label == "":
        return (0, 0.0, 0.0, "")
    up = label.upper()
    if up in _SHORT_TENORS:
        return (1, _SHORT_TENORS[up], 0.0, label)
    if _RE_TENOR.match(up):
        return (1, _tenor_days(up), 0.0, label)
    if m := _RE_FRA.match(up):
        return (1, int(m.group(2)) * _MONTH_DAYS, int(m.group(1)) * _MONTH_DAYS, label)
    if m := _RE_PAIR.match(up):
        return (1, _tenor_days(m.group(1)), _tenor_days(m.group(2)), label)
    return (2, 0.0, 0.0, label)


def _class_key(cls: str) -> tuple[int, str]:
    return (SENS_CLASSES.index(cls) if cls in SENS_CLASSES else len(SENS_CLASSES), cls)


def _measure_key(measure: str) -> tuple[int, str]:
    known = _ALL_MEASURES
    return (known.index(measure) if measure in known else len(known), measure)


#: Accepted spellings of each long-form column (risk.greeks.LongForm, a Dataset, a mapping).
_ALIASES: dict[str, tuple[str, ...]] = {
    "sens_trade": ("sens_trade", "trade", "trade_id"),
    "sens_class": ("sens_class", "cls", "factor_class", "class"),
    "sens_factor": ("sens_factor", "factor"),
    "sens_bucket": ("sens_bucket", "bucket"),
    "sens_measure": ("sens_measure", "measure"),
    "sens_value": ("sens_value", "value"),
    "sens_value_local": ("sens_value_local", "value_local"),
}


def _field(obj: Any, names: Iterable[str]) -> Any:
    for name in names:
        if isinstance(obj, Mapping):
            if name in obj:
                return obj[name]
        elif hasattr(obj, name):
            return getattr(obj, name)
    return None


def _strings(x: Any, name: str) -> NDArray[np.object_]:
    if isinstance(x, list | tuple):  # np.asarray would turn [1, "a"] into strings silently
        return _strings(str_array(x, name), name)
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(f"{name}: {arr.ndim}-d, expected 1-d")
    if arr.size == 0:
        return np.empty(0, dtype=object)
    if arr.dtype.kind in "UT":
        return arr.astype(object)  # elements become Python str
    if arr.dtype.kind == "O" and _all_str(arr):
        return arr
    return str_array(arr, name)


def sensitivity_columns(
    long_form: Any, trade_ids: Sequence[str] | None = None
) -> dict[str, NDArray[Any]]:
    """The long form as the :data:`SENS_VARS` columns, in canonical order.

    Parameters
    ----------
    long_form
        A mapping or an object with attributes holding parallel 1-d arrays: the trade (ids as
        ``trade``/``trade_id``/``sens_trade``, or positions into ``trade_ids`` as
        ``trade_index``), the class (``cls``/``factor_class``/``class``), ``factor``,
        ``bucket``, ``measure``, ``value`` (reporting currency) and ``value_local`` (trade
        currency); each may also be spelt with the ``sens_`` prefix of :data:`SENS_VARS`.
    trade_ids
        The trades the entries belong to, in cube order: needed for ``trade_index``, and gives
        the order of the entries (without it: trade ids sorted as text).

    Raises
    ------
    ValueError
        On a missing column, columns of different lengths, non-string labels or a
        ``trade_index`` outside ``trade_ids``. The values themselves are checked by
        :func:`sensitivity_problems`.

    >>> cols = sensitivity_columns({"trade_index": [1, 0], "cls": ["FX", "FX"],
    ...     "factor": ["EURUSD"] * 2, "bucket": ["", ""], "measure": ["delta"] * 2,
    ...     "value": [2.0, 1.0], "value_local": [2.0, 1.0]}, trade_ids=["T1", "T2"])
    >>> cols["sens_trade"].tolist(), cols["sens_value"].tolist()
    (['T1', 'T2'], [1.0, 2.0])
    """
    cols: dict[str, NDArray[Any]] = {}
    for name, kind in SENS_VARS.items():
        raw = _field(long_form, _ALIASES[name])
        if raw is None and name == "sens_trade":
            index = _field(long_form, ("trade_index", "sens_trade_index"))
            if index is not None:
                cols[name] = _trades_at(index, trade_ids)
                continue
        if raw is None:
            raise ValueError(
                f"sensitivities: missing column {name} (or {', '.join(_ALIASES[name][1:])})"
            )
        if kind == "str":
            cols[name] = _strings(raw, name)
        else:
            arr = np.asarray(raw)
            if arr.ndim != 1:
                raise ValueError(f"{name}: {arr.ndim}-d, expected 1-d")
            if arr.size and arr.dtype.kind not in "fiu":
                raise ValueError(f"{name}: dtype {arr.dtype}, expected numbers")
            cols[name] = arr.astype(np.float64)
    lengths = {k: len(v) for k, v in cols.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"sensitivities: columns of different lengths {lengths}")
    order = sensitivity_order(cols, trade_ids)
    return {k: v[order] for k, v in cols.items()}


def _trades_at(index: ArrayLike, trade_ids: Sequence[str] | None) -> NDArray[np.object_]:
    if trade_ids is None:
        raise ValueError("sensitivities: trade_index needs the trade ids")
    idx = np.asarray(index)
    if idx.size and idx.dtype.kind not in "iu":
        raise ValueError(f"trade_index: dtype {idx.dtype}, expected integers")
    idx = idx.astype(np.intp)
    ids = str_array(trade_ids, "trade_ids")
    bad = (idx < 0) | (idx >= len(ids))
    if bad.any():
        raise ValueError(
            f"trade_index: {int(bad.sum())} entries outside 0..{len(ids) - 1}, "
            f"e.g. {int(idx[bad][0])}"
        )
    return ids[idx]


def _ranks(values: NDArray[Any], key: Any = None) -> NDArray[np.intp]:
    """Rank of each value among the distinct values sorted by ``key`` (hashing, not sorting,
    the possibly millions of entries)."""
    codes, uniques = pd.factorize(values)
    order = sorted(range(len(uniques)), key=lambda i: key(uniques[i]) if key else uniques[i])
    rank = np.empty(len(uniques), dtype=np.intp)
    rank[order] = np.arange(len(uniques))
    return rank[codes]


def sensitivity_order(
    columns: Mapping[str, ArrayLike], trade_ids: Sequence[str] | None = None
) -> NDArray[np.intp]:
    """The permutation putting long-form entries in canonical order: by the position of the
    trade in ``trade_ids`` (cube order; trade ids as text without it, or for unknown ids),
    then class (:data:`SENS_CLASSES` order), factor (text), bucket (:func:`bucket_key`) and
    measure (``delta``, ``delta_units``, ``gamma``, ``vega``, ``theta``). Stable.

    >>> sensitivity_order({"sens_trade": ["B", "A"], "sens_class": ["IR", "IR"],
    ...     "sens_factor": ["USD-SOFR"] * 2, "sens_bucket": ["2Y", "1M"],
    ...     "sens_measure": ["delta"] * 2}, ["B", "A"]).tolist()
    [0, 1]
    """
    trade = np.asarray(columns["sens_trade"], dtype=object)
    if trade_ids is None:
        position = np.zeros(len(trade), dtype=np.intp)
    else:
        position = pd.Index(np.asarray(trade_ids, dtype=object)).get_indexer(trade)
        position = np.where(position < 0, len(trade_ids), position)
    keys = (
        _ranks(np.asarray(columns["sens_measure"], dtype=object), _measure_key),
        _ranks(np.asarray(columns["sens_bucket"], dtype=object), bucket_key),
        _ranks(np.asarray(columns["sens_factor"], dtype=object)),
        _ranks(np.asarray(columns["sens_class"], dtype=object), _class_key),
        _ranks(trade),
        position,
    )
    return np.lexsort(keys)


def sensitivity_dataset(long_form: Any, trade_ids: Sequence[str] | None = None) -> xr.Dataset:
    """The long form alone as a Dataset on :data:`SENS_DIM` (what one grid chunk writes with
    :func:`risk.cube_io.write_sensitivities`), in canonical order, checked.

    ``ValueError`` on anything :func:`sensitivity_columns` or :func:`sensitivity_problems`
    refuses (entries naming trades outside ``trade_ids``, when given, included).

    >>> ds = sensitivity_dataset({"trade": ["T1"], "cls": ["EQ"], "factor": ["SPX"],
    ...     "bucket": [""], "measure": ["delta"], "value": [5.0], "value_local": [5.0]})
    >>> ds.sizes["sensitivity"], ds["sens_factor"].item()
    (1, 'SPX')
    """
    cols = sensitivity_columns(long_form, trade_ids)
    ds = xr.Dataset({k: ((SENS_DIM,), v) for k, v in cols.items()})
    problems = sensitivity_problems(ds)
    if trade_ids is not None:
        known = pd.Index(np.asarray(trade_ids, dtype=object))
        problems += _unknown_trades(cols["sens_trade"], known)
    if problems:
        raise ValueError("invalid sensitivities:\n" + "\n".join(f"  - {p}" for p in problems))
    return ds


def _unknown_trades(trade: NDArray[np.object_], known: pd.Index) -> list[str]:
    missing = known.get_indexer(trade) < 0
    if not missing.any():
        return []
    ids = list(dict.fromkeys(str(t) for t in trade[missing]))
    return [
        f"data variable sens_trade: {int(missing.sum())} entries on trades not in the cube, "
        f"e.g. {', '.join(ids[:5])}"
    ]


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
    sensitivities: Any = None,
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
    sensitivities
        The long form of a run with Greeks (see :func:`sensitivity_columns` for the accepted
        column names; ``trade_index`` counts in this cube's trades), stored on the
        ``sensitivity`` dim in canonical order. None: no ``sensitivity`` dim.
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
            **_sensitivity_vars(sensitivities, attributes.get("trade_id", ())),
        },
        attrs,
        scenarios,
    )
    validate_cube(ds)
    return ds


def _sensitivity_vars(
    long_form: Any, trade_ids: Sequence[str]
) -> dict[str, tuple[tuple[str, ...], Any]]:
    if long_form is None:
        return {}
    cols = sensitivity_columns(long_form, trade_ids)
    return {name: ((SENS_DIM,), values) for name, values in cols.items()}


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
    values = np.asarray(var.values).ravel()
    if _all_str(values):
        return None
    bad = [v for v in values if not isinstance(v, str)]
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


def sensitivity_problems(ds: xr.Dataset) -> list[str]:
    """The violations of the sensitivity part of the schema (empty if the cube has none).

    Checked: all of :data:`SENS_VARS` present on :data:`SENS_DIM`, strings and float64; and,
    once loaded (not for lazy variables), known classes and measures of the class, factor
    ``""`` only for theta, bucket ``""`` for classes without buckets, finite values, unique
    (trade, class, factor, bucket, measure) keys, and, if ``ds`` has trades, entries on
    valued trades of the cube only.

    >>> sensitivity_problems(xr.Dataset({"sens_value": ("sensitivity", [1.0])}))[0]
    'data variable sens_trade: missing (the cube has sensitivities)'
    """
    present = [v for v in SENS_VARS if v in ds.variables]
    if SENS_DIM not in ds.dims and not present:
        return []
    problems: list[str] = []
    for name, kind in SENS_VARS.items():
        if name not in ds.data_vars:
            problems.append(f"data variable {name}: missing (the cube has sensitivities)")
            continue
        var = ds[name].variable
        if var.dims != (SENS_DIM,):
            problems.append(f"data variable {name}: dims {var.dims}, expected ('{SENS_DIM}',)")
        elif kind == "str" and (p := _string_problem(var)) is not None:
            problems.append(f"data variable {name}: {p}")
        elif kind == "float" and var.dtype != np.float64:
            problems.append(f"data variable {name}: dtype {var.dtype}, expected float64")
    if problems or any(_is_lazy(ds[name].variable) for name in SENS_VARS):
        return problems  # the entries are checked once well formed and loaded
    return _sensitivity_value_problems(ds)


def _sensitivity_value_problems(ds: xr.Dataset) -> list[str]:
    col = {name: np.asarray(ds[name].values) for name in SENS_VARS}
    # each label column hashed once: codes per entry and the distinct labels
    codes = {k: pd.factorize(col[k]) for k, kind in SENS_VARS.items() if kind == "str"}
    problems: list[str] = []

    def report(mask: NDArray[np.bool_], what: str) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            c = col
            problems.append(
                f"{what}: {int(mask.sum())} entries, e.g. trade {c['sens_trade'][i]} "
                f"{c['sens_class'][i]} {c['sens_factor'][i]!r} {c['sens_bucket'][i]!r} "
                f"{c['sens_measure'][i]}"
            )

    def where(name: str, test: Any) -> NDArray[np.bool_]:
        entry, labels = codes[name]
        return np.array([bool(test(u)) for u in labels], dtype=bool)[entry]

    known = where("sens_class", lambda c: c in SENS_CLASSES)
    report(~known, f"data variable sens_class: not one of {SENS_CLASSES}")
    (c_code, c_labels), (m_code, m_labels) = codes["sens_class"], codes["sens_measure"]
    table = np.array(
        [[m in SENS_MEASURES.get(c, ()) for m in m_labels] for c in c_labels], dtype=bool
    ).reshape(len(c_labels), len(m_labels))
    report(~table[c_code, m_code] & known, "data variable sens_measure: not a measure of the class")
    theta = where("sens_class", lambda c: c == "THETA")
    report(
        where("sens_factor", lambda f: f == "") & ~theta,
        'data variable sens_factor: "" outside THETA',
    )
    report(
        where("sens_bucket", lambda b: b != "")
        & ~where("sens_class", lambda c: c in SENS_BUCKETED),
        f'data variable sens_bucket: not "" in a class without buckets (only {SENS_BUCKETED})',
    )
    for name in ("sens_value", "sens_value_local"):
        report(~np.isfinite(col[name].astype(np.float64)), f"data variable {name}: not finite")
    keys = pd.DataFrame({k: entry for k, (entry, _) in codes.items()})
    report(
        keys.duplicated().to_numpy(),
        "sensitivity: duplicate (trade, class, factor, bucket, measure)",
    )
    if "trade" in ds.indexes and not _is_lazy(ds["trade"].variable):
        problems += _unknown_trades(col["sens_trade"], ds.indexes["trade"])
        if (
            "error" in ds.data_vars
            and ds["error"].dims == ("trade",)
            and not _is_lazy(ds["error"].variable)
        ):
            failed = set(ds.indexes["trade"][np.asarray(ds["error"].values != "", dtype=bool)])
            on_failed = where("sens_trade", lambda t: t in failed)
            report(on_failed, "data variable sens_trade: on failed trades")
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
    problems += sensitivity_problems(ds)
    problems += _attr_problems(ds.attrs)
    problems += _value_problems(ds)
    if complete:
        problems += _completeness_problems(ds)
    if problems:
        raise ValueError("invalid risk cube:\n" + "\n".join(f"  - {p}" for p in problems))
