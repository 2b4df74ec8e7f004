"""``riskgrid diff RUN_A RUN_B``: what moved between two runs, trade by trade and book by book.

A run is a batch run directory (``cube.zarr`` + ``manifest.json``) or a cube file (``.zarr``
directory or ``.nc``). Trades are matched by trade id. A trade *moved* when its ``pv`` or
``pv_reporting`` differs by more than ``tol + rel_tol * |value in B|``, when it was valued on one
side and failed on the other, or when it exists on one side only. Exit code 0 when nothing moved,
1 when something did, 2 when a run cannot be read.

>>> import numpy as np
>>> moved(np.array([1.0, 2.0]), np.array([1.0, 2.5]), tol=0.1, rel_tol=0.0).tolist()
[False, True]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from grid.report import format_table
from risk import open_cube

__all__ = ["RunDiff", "add_parser", "cmd_diff", "diff_runs", "load_run", "moved"]

_VARS = ("pv", "pv_reporting")


def load_run(path: str | Path) -> tuple[xr.Dataset, dict[str, Any]]:
    """The cube of a run (directory, ``.zarr`` or ``.nc``) and its manifest ({} if none)."""
    p = Path(path)
    if (p / "cube.zarr").exists():  # a run directory
        cube_path, manifest_path = p / "cube.zarr", p / "manifest.json"
    else:  # a cube, with the manifest beside it if any
        cube_path, manifest_path = p, p.parent / "manifest.json"
    if not cube_path.exists():
        raise FileNotFoundError(f"{p}: no such run directory or cube")
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    return open_cube(cube_path), manifest


def moved(
    a: NDArray[np.float64], b: NDArray[np.float64], tol: float, rel_tol: float
) -> NDArray[np.bool_]:
    """Element-wise: ``|a - b| > tol + rel_tol * |b|``, NaN on either side counting as moved
    unless both are NaN."""
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(invalid="ignore"):
        far = ~(np.abs(a - b) <= tol + rel_tol * np.abs(b))
    return far & ~both_nan


@dataclasses.dataclass
class RunDiff:
    """Differences between run A and run B."""

    only_a: list[str]
    only_b: list[str]
    status_changed: list[tuple[str, str, str]]  # trade, error in A, error in B
    moved: list[dict[str, Any]]  # trade, book, product, var values and differences
    books: list[dict[str, Any]]  # book, pv_reporting A, B, difference
    inputs: dict[str, dict[str, Any]]

    @property
    def identical(self) -> bool:
        """True when nothing moved beyond the tolerance."""
        return not (self.only_a or self.only_b or self.status_changed or self.moved)


def _inputs(cube: xr.Dataset, manifest: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "run_id",
        "asof",
        "portfolio_hash",
        "snapshot_hash",
        "config_hash",
        "code_version",
        "engine",
        "reporting_currency",
    )
    out = {k: cube.attrs.get(k, "") for k in keys}
    versions = manifest.get("versions") or {}
    out["quantlib"] = versions.get("QuantLib", "")
    return out


def diff_runs(
    a: xr.Dataset,
    b: xr.Dataset,
    tol: float = 1e-6,
    rel_tol: float = 0.0,
    manifests: tuple[dict[str, Any], dict[str, Any]] = ({}, {}),
) -> RunDiff:
    """Compare two cubes (see the module docstring for what counts as moved)."""
    ids_a, ids_b = a.trade.values.astype(str), b.trade.values.astype(str)
    common = np.intersect1d(ids_a, ids_b)
    ca, cb = a.sel(trade=common), b.sel(trade=common)
    err_a, err_b = ca.error.values.astype(str), cb.error.values.astype(str)
    status = [
        (str(t), ea, eb)
        for t, ea, eb in zip(common, err_a, err_b, strict=True)
        if (ea == "") != (eb == "")
    ]
    both_ok = (err_a == "") & (err_b == "")
    mask = np.zeros(len(common), dtype=bool)
    for v in _VARS:
        mask |= moved(ca[v].values, cb[v].values, tol, rel_tol) & both_ok
    rows = []
    for i in np.flatnonzero(mask):
        row: dict[str, Any] = {
            "trade": str(common[i]),
            "book": str(ca.book.values[i]),
            "product": str(ca["product"].values[i]),
        }
        for v in _VARS:
            va, vb = float(ca[v].values[i]), float(cb[v].values[i])
            row |= {f"{v}_a": va, f"{v}_b": vb, f"{v}_diff": vb - va}
        rows.append(row)
    rows.sort(key=lambda r: -abs(r["pv_reporting_diff"]))
    books_a = a.risk.by("book")["pv_reporting"].to_series()
    books_b = b.risk.by("book")["pv_reporting"].to_series()
    books = []
    for book in sorted(set(books_a.index) | set(books_b.index)):
        va, vb = float(books_a.get(book, np.nan)), float(books_b.get(book, np.nan))
        books.append({"book": book, "pv_reporting_a": va, "pv_reporting_b": vb, "diff": vb - va})
    return RunDiff(
        only_a=sorted(set(ids_a) - set(ids_b)),
        only_b=sorted(set(ids_b) - set(ids_a)),
        status_changed=status,
        moved=rows,
        books=books,
        inputs={"A": _inputs(a, manifests[0]), "B": _inputs(b, manifests[1])},
    )


def add_parser(sub: Any, parents: list[argparse.ArgumentParser], epilog: str) -> None:
    """Register the ``diff`` subcommand."""
    d = sub.add_parser(
        "diff",
        parents=parents,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="compare two runs trade by trade and book by book",
        description="Compare two runs (run directories, .zarr cubes or .nc cubes). Exit 0 when "
        "nothing moved beyond the tolerance, 1 when something did.",
    )
    d.add_argument("run_a", metavar="RUN_A")
    d.add_argument("run_b", metavar="RUN_B")
    d.add_argument("--tol", type=float, default=1e-6, help="absolute tolerance (default 1e-6)")
    d.add_argument("--rel-tol", type=float, default=0.0, help="relative tolerance (default 0)")
    d.add_argument("--out", metavar="FILE.csv", help="write every moved trade to a CSV file")
    d.add_argument("--top", type=int, default=20, help="moved trades to print (default 20)")
    d.set_defaults(run=cmd_diff)


def cmd_diff(args: argparse.Namespace) -> int:
    """Run ``riskgrid diff``; returns the exit code."""
    from grid.cli import UsageError

    loaded = []
    for path in (args.run_a, args.run_b):
        try:
            loaded.append(load_run(path))
        except (OSError, ValueError, KeyError) as exc:
            raise UsageError(f"cannot read run {path}: {exc}") from None
    (a, ma), (b, mb) = loaded
    d = diff_runs(a, b, args.tol, args.rel_tol, (ma, mb))
    keys = list(d.inputs["A"])
    rows = [("", "A", "B", "")] + [
        (
            k,
            str(d.inputs["A"][k])[:20],
            str(d.inputs["B"][k])[:20],
            "" if d.inputs["A"][k] == d.inputs["B"][k] else "differs",
        )
        for k in keys
    ]
    print(f"A: {args.run_a}\nB: {args.run_b}\n")
    print(format_table(rows))
    print(f"\ntolerance: {args.tol:g} absolute + {args.rel_tol:g} relative")
    print(
        f"trades: {a.sizes['trade']:,} in A, {b.sizes['trade']:,} in B; "
        f"{len(d.only_a)} only in A, {len(d.only_b)} only in B, "
        f"{len(d.status_changed)} changed status, {len(d.moved)} moved"
    )
    for t, ea, eb in d.status_changed[: args.top]:
        print(f"  status {t}: A {_status(ea)} -> B {_status(eb)}")
    if d.moved:
        ccy = a.attrs.get("reporting_currency", "")
        table = [("TRADE", "BOOK", "PRODUCT", "PV A", "PV B", f"DIFF ({ccy})")]
        for r in d.moved[: args.top]:
            table.append(
                (
                    r["trade"],
                    r["book"],
                    r["product"],
                    f"{r['pv_a']:,.4f}",
                    f"{r['pv_b']:,.4f}",
                    f"{r['pv_reporting_diff']:,.4f}",
                )
            )
        print("\n" + format_table(table, right=(3, 4, 5)))
        if len(d.moved) > args.top:
            print(f"  ... and {len(d.moved) - args.top} more")
    changed_books = [r for r in d.books if not (abs(r["diff"]) <= args.tol)]
    if changed_books:
        book_table: list[tuple[str, ...]] = [("BOOK", "PV A", "PV B", "DIFF")]
        book_table += [
            (
                r["book"],
                f"{r['pv_reporting_a']:,.2f}",
                f"{r['pv_reporting_b']:,.2f}",
                f"{r['diff']:,.2f}",
            )
            for r in changed_books
        ]
        print("\nbooks:\n" + format_table(book_table, right=(1, 2, 3)))
    if args.out:
        _write_csv(Path(args.out), d)
        print(f"\nmoved trades written to {args.out}")
    print("\nno differences beyond the tolerance" if d.identical else "\nruns differ")
    return 0 if d.identical else 1


def _status(error: str) -> str:
    return repr(error) if error else "valued"


def _write_csv(path: Path, d: RunDiff) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = ["trade", "book", "product", "kind"] + [
        f"{v}_{s}" for v in _VARS for s in ("a", "b", "diff")
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in d.moved:
            w.writerow({**r, "kind": "moved"})
        for t, _, _ in d.status_changed:
            w.writerow({"trade": t, "kind": "status"})
        for t in d.only_a:
            w.writerow({"trade": t, "kind": "only-in-A"})
        for t in d.only_b:
            w.writerow({"trade": t, "kind": "only-in-B"})
