"""The ``.risk`` accessor on cubes: aggregation up the firm > desk > book hierarchy, slicing,
drill-down and tables.

Sums cover the variables in the reporting currency (names ending in ``_reporting``: ``pv_reporting``
now, scenario P&L vectors later, whose extra dims are kept). Failed trades (``error != ""``)
are left out of every sum and counted in ``n_failed``; a group whose trades all failed sums to
0.0. A NaN on a *valued* trade is not skipped: it shows as NaN in its group (and
:func:`risk.cube.validate_cube` reports it). Quantiles (VaR/ES) are not additive: take them
from the summed P&L vectors, never sum them.

>>> import numpy as np, risk
>>> from risk.cube import build_cube, example_attrs
>>> a = {"trade_id": ["T1", "T2", "T3"], "book": ["B1", "B1", "B2"], "desk": ["D"] * 3,
...      "product": ["IRS"] * 3, "currency": ["USD"] * 3, "counterparty": ["C"] * 3}
>>> cube = build_cube(a, [1.0, 2.0, 4.0], [1.0, 2.0, 4.0], np.full((3, 6), np.nan),
...                   ["", "", "market: no USD curve"], **example_attrs())
>>> cube.risk.by("book").pv_reporting.values.tolist()
[3.0, 0.0]
>>> cube.risk.by("book").n_failed.values.tolist()
[0, 1]

Cubes of runs with Greeks carry sensitivities in long form (see :mod:`risk.cube`):
:meth:`RiskAccessor.sensitivities` gives them as a table joined with the trade labels, and
:meth:`RiskAccessor.ladder` sums them over trades into dense ladders (book x curve x tenor...),
with tenors and expiries ordered by maturity and absent entries as 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from risk.cube import (
    GREEKS,
    LEVELS,
    SENS_BUCKETED,
    SENS_CLASSES,
    SENS_DIM,
    SENS_MEASURES,
    SENS_VARS,
    TRADE_COORDS,
    bucket_key,
)

__all__ = ["FIRM", "LADDER_DIMS", "RiskAccessor"]

#: Label of the single group of ``by("firm")`` when the cube has no ``firm`` attr.
FIRM = "FIRM"
#: Dims of a ladder after its row dim, per class: bucketed (the default) and parallel.
LADDER_DIMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "IR": (("curve", "tenor"), ("curve",)),
    "VOL": (("surface", "bucket"), ("surface",)),
    "FX": (("factor",), ("factor",)),
    "EQ": (("factor",), ("factor",)),
    "DIV": (("factor",), ("factor",)),
    "CREDIT": (("factor",), ("factor",)),
    "THETA": ((), ()),
}
#: Columns of :meth:`RiskAccessor.sensitivities`.
SENS_COLUMNS: tuple[str, ...] = (
    "trade",
    *TRADE_COORDS,
    "cls",
    "factor",
    "bucket",
    "measure",
    "value",
    "value_local",
)

_TRADE_COLUMNS = (*TRADE_COORDS, "pv", "pv_reporting", "error")


def _as_set(x: str | Iterable[str]) -> list[str]:
    return [x] if isinstance(x, str) else list(x)


@xr.register_dataset_accessor("risk")
class RiskAccessor:
    """Risk views of a cube (see :mod:`risk.cube` for the schema)."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    # -- masks and sums ---------------------------------------------------------------------

    @property
    def failed(self) -> NDArray[np.bool_]:
        """Boolean mask over ``trade``: True where the trade could not be valued."""
        return np.asarray(self._ds["error"].values != "", dtype=bool)

    def reporting_vars(self) -> list[str]:
        """Data variables summed by :meth:`by`: on ``trade``, float, name ending ``_reporting``."""
        return [
            str(k)
            for k, v in self._ds.data_vars.items()
            if str(k).endswith("_reporting") and "trade" in v.dims and v.dtype.kind == "f"
        ]

    def by(self, level: str) -> xr.Dataset:
        """Per-group sums over trades at ``level`` (one of ``firm``, ``desk``, ``book``,
        ``product``, ``currency``, ``counterparty``).

        Returns a Dataset on dim ``level`` (groups sorted) with the reporting-currency
        variables summed over valued trades (other dims kept), ``n_trades`` and ``n_failed``.
        ``by("book")`` also carries each book's ``desk`` as a coord. ``by("firm")`` has one
        group, labelled by the cube's ``firm`` attr if any, else ``"FIRM"``.
        """
        if level not in LEVELS:
            raise ValueError(f"unknown level {level!r}; levels are {', '.join(LEVELS)}")
        ds = self._ds
        failed = xr.DataArray(self.failed, dims="trade")
        parts: dict[str, xr.DataArray] = {
            name: ds[name].where(~failed, 0.0).reset_coords(drop=True)
            for name in self.reporting_vars()
        }
        parts["n_trades"] = xr.ones_like(failed, dtype=np.int64)
        parts["n_failed"] = failed.astype(np.int64)
        data = xr.Dataset(parts)
        if level == "firm":
            firm = str(ds.attrs.get("firm", FIRM))
            out = data.sum("trade", skipna=False).expand_dims(firm=[firm])
        else:
            data = data.assign_coords(
                {level: ("trade", np.asarray(ds[level].values, dtype=object))}
            )
            if ds.sizes["trade"]:
                out = data.groupby(level).sum(skipna=False)
            else:  # no trades, no groups (xarray refuses to group an empty array)
                out = data.swap_dims({"trade": level}).drop_vars("trade")
            if level == "book":
                desk_of = dict(zip(ds["book"].values, ds["desk"].values, strict=True))
                desks = np.empty(out.sizes["book"], dtype=object)
                desks[:] = [desk_of[b] for b in out["book"].values]
                out = out.assign_coords(desk=("book", desks))
        out.attrs = dict(ds.attrs)
        return out

    def summary(self, level: str = "book") -> pd.DataFrame:
        """One row per group: ``level`` (with ``desk`` first for books), ``trades``, ``valued``,
        ``failed``, ``pv_reporting`` (sum over valued trades); sorted by desk, then book."""
        agg = self.by(level)
        keys = ["desk", "book"] if level == "book" else [level]
        df = pd.DataFrame({k: np.asarray(agg[k].values, dtype=object) for k in keys})
        df["trades"] = agg["n_trades"].values
        df["valued"] = agg["n_trades"].values - agg["n_failed"].values
        df["failed"] = agg["n_failed"].values
        df["pv_reporting"] = agg["pv_reporting"].values
        return df.sort_values(keys, kind="stable").reset_index(drop=True)

    # -- slicing ----------------------------------------------------------------------------

    def select(
        self,
        *,
        book: str | Iterable[str] | None = None,
        desk: str | Iterable[str] | None = None,
        product: str | Iterable[str] | None = None,
        currency: str | Iterable[str] | None = None,
        counterparty: str | Iterable[str] | None = None,
    ) -> xr.Dataset:
        """The sub-cube of trades matching every given filter (each a str or a list of str)."""
        keep = np.ones(self._ds.sizes["trade"], dtype=bool)
        for name, want in (
            ("book", book),
            ("desk", desk),
            ("product", product),
            ("currency", currency),
            ("counterparty", counterparty),
        ):
            if want is not None:
                keep &= np.isin(np.asarray(self._ds[name].values, dtype=object), _as_set(want))
        out = self._ds.isel(trade=np.flatnonzero(keep))
        if self.has_sensitivities and not keep.all():
            # keep the sub-cube valid: only the entries of its trades
            kept = np.asarray(self._ds["trade"].values, dtype=object)[keep]
            mine = np.isin(np.asarray(self._ds["sens_trade"].values, dtype=object), kept)
            out = out.isel({SENS_DIM: np.flatnonzero(mine)})
        return out

    def book(self, name: str | Iterable[str]) -> xr.Dataset:
        """The cube of one book (or several); ``KeyError`` naming any book not in the cube."""
        wanted = _as_set(name)
        known = set(self._ds["book"].values)
        unknown = [b for b in wanted if b not in known]
        if unknown:
            raise KeyError(
                f"unknown book(s) {', '.join(unknown)}; cube has {', '.join(sorted(known))}"
            )
        return self.select(book=wanted)

    def drill(self, desk: str | None = None, book: str | None = None) -> pd.DataFrame:
        """Drill down: no argument -> the desks; ``desk`` -> its books; ``book`` -> its trades.

        ``KeyError`` for an unknown desk or book, or a book not on the given desk.
        """
        if book is not None:
            sub = self.book(book)
            if desk is not None and desk not in set(sub["desk"].values):
                raise KeyError(f"book {book} is not on desk {desk}")
            return sub.risk.to_dataframe()
        if desk is not None:
            desks = set(self._ds["desk"].values)
            if desk not in desks:
                raise KeyError(f"unknown desk {desk}; cube has {', '.join(sorted(desks))}")
            books = self.summary("book")
            return books[books["desk"] == desk].reset_index(drop=True)
        return self.summary("desk")

    # -- tables -----------------------------------------------------------------------------

    def to_dataframe(self) -> pd.DataFrame:
        """Per-trade table indexed by ``trade``: labels, ``pv``, ``pv_reporting``, ``error``
        and one ``greek_<name>`` column per Greek (variables with other dims are left out)."""
        ds = self._ds
        index = pd.Index(np.asarray(ds["trade"].values, dtype=object), name="trade")
        cols: dict[str, NDArray[np.generic]] = {
            c: np.asarray(ds[c].values, dtype=object if c in (*TRADE_COORDS, "error") else None)
            for c in _TRADE_COLUMNS
        }
        for g in GREEKS:
            cols[f"greek_{g}"] = np.asarray(ds["model_greeks"].sel(greek=g).values)
        return pd.DataFrame(cols, index=index)

    def errors(self) -> pd.DataFrame:
        """The failed trades: ``book``, ``product``, ``error``, indexed by ``trade``."""
        df = self.to_dataframe()
        return df.loc[self.failed, ["book", "product", "error"]]

    # -- sensitivities ----------------------------------------------------------------------

    @property
    def has_sensitivities(self) -> bool:
        """True if the cube carries long-form sensitivities (a run with Greeks)."""
        return SENS_DIM in self._ds.dims or "sens_trade" in self._ds.variables

    def _sens_columns(self) -> dict[str, NDArray[Any]]:
        if not self.has_sensitivities:
            raise ValueError("the cube has no sensitivities (run it with Greeks)")
        return {
            name: np.asarray(self._ds[name].values, dtype=object if kind == "str" else None)
            for name, kind in SENS_VARS.items()
        }

    def _known(self, level: str, want: str | Iterable[str] | None) -> list[str] | None:
        """``want`` as a list, ``KeyError`` naming any label the cube's trades do not have."""
        if want is None:
            return None
        wanted = _as_set(want)
        known = set(self._ds[level].values)
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise KeyError(f"unknown {level}(s) {', '.join(unknown)}")
        return wanted

    def sensitivities(
        self,
        book: str | Iterable[str] | None = None,
        desk: str | Iterable[str] | None = None,
        trade: str | Iterable[str] | None = None,
        factor: str | Iterable[str] | None = None,
        measure: str | Iterable[str] | None = None,
        cls: str | Iterable[str] | None = None,
        bucket: str | Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """The long-form sensitivities matching every given filter, joined with trade labels.

        One row per (trade, class, factor, bucket, measure) entry, in the cube's canonical
        order, with columns :data:`SENS_COLUMNS`: ``trade``, the trade labels (``book``,
        ``desk``, ``product``, ``currency``, ``counterparty``), ``cls``, ``factor``,
        ``bucket`` (``""`` for parallel entries), ``measure``, ``value`` (reporting currency)
        and ``value_local`` (trade currency). Each filter is a str or a list of str.

        Raises
        ------
        KeyError
            For a book, desk or trade not in the cube.
        ValueError
            For an unknown class or measure, or a cube without sensitivities.
        """
        col = self._sens_columns()
        keep = np.ones(len(col["sens_trade"]), dtype=bool)
        ds = self._ds
        trades = np.asarray(ds["trade"].values, dtype=object)
        pos = pd.Index(trades).get_indexer(col["sens_trade"])
        for level, want in (("book", book), ("desk", desk), ("trade", trade)):
            wanted = self._known(level, want)
            if wanted is not None:
                labels = np.asarray(ds[level].values, dtype=object)
                keep &= np.isin(labels, wanted)[pos]
        if cls is not None:
            _check_names("class", _as_set(cls), SENS_CLASSES)
        if measure is not None:
            measures = tuple(dict.fromkeys(m for ms in SENS_MEASURES.values() for m in ms))
            _check_names("measure", _as_set(measure), measures)
        for name, want in (
            ("sens_class", cls),
            ("sens_factor", factor),
            ("sens_measure", measure),
            ("sens_bucket", bucket),
        ):
            if want is not None:
                keep &= np.isin(col[name], _as_set(want))
        rows = np.flatnonzero(keep)
        p = pos[rows]
        frame: dict[str, NDArray[Any]] = {"trade": trades[p]}
        for name in TRADE_COORDS:
            frame[name] = np.asarray(ds[name].values, dtype=object)[p]
        for name in ("class", "factor", "bucket", "measure", "value", "value_local"):
            frame["cls" if name == "class" else name] = col[f"sens_{name}"][rows]
        return pd.DataFrame(frame, columns=list(SENS_COLUMNS))

    def ladder(
        self,
        cls: str,
        measure: str = "delta",
        book: str | Iterable[str] | None = None,
        desk: str | Iterable[str] | None = None,
        *,
        by: str = "book",
        bucketed: bool = True,
    ) -> xr.DataArray:
        """A dense ladder: the sum over trades of the reporting-currency sensitivities.

        Parameters
        ----------
        cls
            Factor class (:data:`risk.cube.SENS_CLASSES`). The dims after the row dim are
            :data:`LADDER_DIMS`: IR ``(curve, tenor)``, VOL ``(surface, bucket)`` (tenors and
            expiries by maturity, :func:`risk.cube.bucket_key`), FX/EQ/DIV/CREDIT ``(factor,)``,
            THETA none; curves, surfaces and factors sorted by name.
        measure
            A measure of the class (:data:`risk.cube.SENS_MEASURES`), e.g. ``delta``, ``gamma``,
            ``vega``, ``theta``. ``delta_units`` sums units of the factor (foreign currency,
            shares), not money.
        book, desk
            Restrict to these books and desks (str or list); ``KeyError`` if unknown.
        by
            The rows: ``book`` (default, with each book's ``desk`` as a coord), ``desk``,
            ``firm``, ``product``, ``currency``, ``counterparty`` (the :meth:`by` levels, sorted
            labels, every group of the selected trades even without entries) or ``trade`` (the
            valued trades of the selection in cube order, with their labels as coords). Rows
            drill down exactly: a desk's row is the sum of its books' rows, a book's row the sum
            of its trades' rows.
        bucketed
            IR and VOL: the bucketed entries (default) or, if False, the parallel ones (bucket
            ``""``: parallel delta, IR gamma, parallel vega), on ``(curve,)``/``(surface,)``.
            Other classes have parallel entries only and ignore it.

        Returns
        -------
        xarray.DataArray
            Float64, 0.0 where no trade has an entry (never NaN), named ``<cls>_<measure>``, with
            attrs ``cls``, ``measure``, ``bucketed``, ``currency`` (the reporting currency).
            Columns are the labels present in the selected entries.
        """
        if cls not in SENS_CLASSES:
            raise ValueError(f"unknown class {cls!r}; classes are {', '.join(SENS_CLASSES)}")
        _check_names(f"{cls} measure", [measure], SENS_MEASURES[cls])
        if by not in (*LEVELS, "trade"):
            raise ValueError(f"unknown by {by!r}; choose one of {', '.join((*LEVELS, 'trade'))}")
        col = self._sens_columns()
        ds = self._ds
        books, desks = self._known("book", book), self._known("desk", desk)
        sub = self.select(book=books, desk=desks)
        rows, row_coords, row_of_trade = _ladder_rows(ds, sub, by)
        entries = (col["sens_class"] == cls) & (col["sens_measure"] == measure)
        grid = cls in SENS_BUCKETED and bucketed
        if cls in SENS_BUCKETED:
            entries &= (col["sens_bucket"] != "") if bucketed else (col["sens_bucket"] == "")
        trade_pos = pd.Index(np.asarray(ds["trade"].values, dtype=object)).get_indexer(
            col["sens_trade"]
        )
        row = row_of_trade[trade_pos]
        e = np.flatnonzero(entries & (row >= 0))
        dims = (by, *LADDER_DIMS[cls][0 if grid else 1])
        index: list[NDArray[np.intp]] = [row[e]]
        coords: dict[str, Any] = {by: rows, **row_coords}
        if len(dims) > 1:
            factors = sorted(set(col["sens_factor"][e]))
            coords[dims[1]] = _objects(factors)
            index.append(pd.Index(factors, dtype=object).get_indexer(col["sens_factor"][e]))
        if grid:
            buckets = sorted(set(col["sens_bucket"][e]), key=bucket_key)
            coords[dims[2]] = _objects(buckets)
            index.append(pd.Index(buckets, dtype=object).get_indexer(col["sens_bucket"][e]))
        out = np.zeros(tuple(len(coords[d]) for d in dims), dtype=np.float64)
        np.add.at(out, tuple(index), col["sens_value"][e].astype(np.float64))
        return xr.DataArray(
            out,
            dims=dims,
            coords=coords,
            name=f"{cls}_{measure}",
            attrs={
                "cls": cls,
                "measure": measure,
                "bucketed": int(grid),
                "currency": str(ds.attrs.get("reporting_currency", "")),
            },
        )


def _check_names(what: str, given: Iterable[str], known: Iterable[str]) -> None:
    known = tuple(known)
    bad = [g for g in given if g not in known]
    if bad:
        raise ValueError(f"unknown {what} {', '.join(map(repr, bad))}; known: {', '.join(known)}")


def _objects(values: Iterable[Any]) -> NDArray[np.object_]:
    vals = list(values)
    out = np.empty(len(vals), dtype=object)
    out[:] = vals
    return out


def _ladder_rows(
    ds: xr.Dataset, sub: xr.Dataset, by: str
) -> tuple[NDArray[np.object_], dict[str, Any], NDArray[np.intp]]:
    """Row labels, their coords, and the row of each trade of ``ds`` (-1: not in a row)."""
    ids = np.asarray(ds["trade"].values, dtype=object)
    in_sub = pd.Index(np.asarray(sub["trade"].values, dtype=object))
    coords: dict[str, Any] = {}
    if by == "trade":
        valued = np.asarray(sub["error"].values == "", dtype=bool)
        rows = np.asarray(sub["trade"].values, dtype=object)[valued]
        for name in TRADE_COORDS:
            coords[name] = (by, np.asarray(sub[name].values, dtype=object)[valued])
        return rows, coords, pd.Index(rows).get_indexer(ids)
    if by == "firm":
        labels = np.full(len(ids), str(ds.attrs.get("firm", FIRM)), dtype=object)
    else:
        labels = np.asarray(ds[by].values, dtype=object)
    member = in_sub.get_indexer(ids) >= 0
    rows = _objects(sorted(set(labels[member])))
    row_of_trade = np.where(member, pd.Index(rows).get_indexer(labels), -1)
    if by == "book":
        desk_of = dict(zip(ds["book"].values, ds["desk"].values, strict=True))
        coords["desk"] = (by, _objects(desk_of[b] for b in rows))
    return rows, coords, row_of_trade
