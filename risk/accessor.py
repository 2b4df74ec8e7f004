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
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from risk.cube import GREEKS, LEVELS, TRADE_COORDS

__all__ = ["FIRM", "RiskAccessor"]

#: Label of the single group of ``by("firm")`` when the cube has no ``firm`` attr.
FIRM = "FIRM"

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
        return self._ds.isel(trade=np.flatnonzero(keep))

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
